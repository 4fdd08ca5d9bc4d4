"""Latency of a keyboard nudge in the annotation window, from the key to the result shown.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/bench_window_edit.py \\
        --points 2000000 --boxes 500 [--resolver teacher] [--profile]

The edit bench's grid room (``bench_edit_latency.grid_room``) is written to a PLY and opened in the
window with the smallest-box rule (``--resolver`` chooses another); one box is selected and raised / lowered by the nudge keys' action
(``MainWindow.nudge``), ``--edits`` times. Each edit is timed from the nudge until the worker's result
is shown (box list, problems, colours) and a frame is drawn; the first five are not counted. Under
Xvfb the frames are drawn by a software renderer, which a desktop's GPU outruns by far: the figure
is an upper bound for the window's own work. ``--profile`` prints where the time went.

The last line is ``nudge to shown: median <x> ms, p95 <x> ms``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_edit_latency import grid_room  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--boxes", type=int, default=500)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest calls")
    parser.add_argument(
        "--resolver",
        default="smallest-box",
        choices=("smallest-box", "nearest-centre", "teacher"),
        help="the window's resolver (teacher: the shipped checkpoint)",
    )
    args = parser.parse_args()

    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from beep3d.app.main_window import MainWindow
    from beep3d.app.view import default_surface_format
    from beep3d.io import write_ply
    from beep3d.io.box_files import save_boxes

    QSurfaceFormat.setDefaultFormat(default_surface_format())
    app = QApplication(sys.argv[:1])
    scene, boxes = grid_room(args.points, args.boxes)
    folder = Path(tempfile.mkdtemp())
    write_ply(folder / "room.ply", scene.xyz, scene.rgb)
    save_boxes(folder / "room.boxes.json", boxes)
    window = MainWindow(resolver_name=args.resolver, interactive=False)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    window.files.open_scene(folder / "room.ply", folder / "room.boxes.json")
    window.live.wait_idle(600_000)
    app.processEvents()
    print(
        f"{args.points:,} points, {args.boxes} boxes: opened and resolved in {time.perf_counter() - started:.1f} s"
    )
    window.doc.select(int(boxes.ids[len(boxes) // 2]))
    app.processEvents()
    profile = cProfile.Profile()
    seconds = []
    for edit in range(args.edits):
        timed = edit >= 5
        if timed and args.profile:
            profile.enable()
        started = time.perf_counter()
        window.nudge("up", 1 if edit % 2 == 0 else -1, 0)
        window.live.wait_idle(600_000)
        app.processEvents()
        window.view.repaint()
        if timed:
            seconds.append(time.perf_counter() - started)
        if timed and args.profile:
            profile.disable()
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    window.doc.dirty = False
    window.close()
    print(
        f"nudge to shown: median {1000 * np.median(seconds):.0f} ms, p95 {1000 * np.percentile(seconds, 95):.0f} ms"
    )


if __name__ == "__main__":
    main()
