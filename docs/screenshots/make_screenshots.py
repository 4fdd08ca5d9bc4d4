"""Render the README screenshots of the annotation window (needs a display, e.g. xvfb-run -a).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py

Uses a synthetic room (beep3d.synthetic.rooms.make_room) written to a temporary PLY, and, when present,
the real ScanNet sample in ../shared/data (rendered locally; the data itself is never committed).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"


def main() -> int:
    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from beep3d.app.launch import render_screenshot
    from beep3d.app.main_window import MainWindow
    from beep3d.app.view import default_surface_format
    from beep3d.io import write_ply
    from beep3d.io.box_files import save_boxes
    from beep3d.synthetic.rooms import make_room

    QSurfaceFormat.setDefaultFormat(default_surface_format())
    app = QApplication(sys.argv[:1])

    def window() -> MainWindow:
        win = MainWindow(interactive=False)
        win.resize(1400, 860)
        win.show()
        app.processEvents()
        return win

    with tempfile.TemporaryDirectory() as folder:
        scene, boxes = make_room(3, oriented_boxes=True)
        ply, box_file = Path(folder) / "synthetic_room.ply", Path(folder) / "synthetic_room.boxes.json"
        write_ply(ply, scene.xyz, scene.rgb)
        save_boxes(box_file, boxes, scene.name)

        win = window()
        win.files.open_scene(ply, box_file)
        win.live.wait_idle()
        nested = next((p for p in win.result.problems if p.kind == "nested"), None)
        if nested is not None:
            win.frame_problem(win.result.problems.index(nested))
            win.view.camera.orbit(0, 10)
        render_screenshot(win, HERE / "overlap_regions.png")

        win.set_colour_mode("instances")
        win.view.fit_scene()
        win.doc.select_step(1)
        render_screenshot(win, HERE / "resolved_instances.png")

        win.set_colour_mode("membership")
        win.view.set_preset("top")
        win.view.fit_scene()
        render_screenshot(win, HERE / "top_view.png")
        win.doc.dirty = False
        win.close()

    real = SHARED / "scannet_scene0423_00" / "scene0423_00_labeled.ply"
    if real.exists():
        from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
        from beep3d.geometry.boxes import boxes_from_instances

        win = window()
        win.files.open_scene(real)
        scene = win.doc.scene
        names = dict(zip(SCANNET18.ids, SCANNET18.names, strict=True))
        if scene.instance is not None:
            gt = boxes_from_instances(
                scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(NYU40_WALL, NYU40_FLOOR)
            )
            win.doc.set_boxes(gt)
            win.live.wait_idle()
        win.doc.select_step(1)
        win.set_colour_mode("instances")
        render_screenshot(win, HERE / "scannet_scene0423.png")
        win.doc.dirty = False
        win.close()
    print("screenshots written to", HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
