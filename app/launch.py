"""Start the annotation window (called by ``beep3d-annotate`` when no ``--export`` is given)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from beep3d.errors import Beep3dError


def _application():
    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from beep3d.app.view import default_surface_format

    app = QApplication.instance()
    if app is None:
        QSurfaceFormat.setDefaultFormat(default_surface_format())
        app = QApplication(sys.argv[:1])
        app.setApplicationName("BEEP3D annotate")
        app.setOrganizationName("beep3d")
    return app


def _check_display() -> None:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise Beep3dError(
            "no display to open the window on (DISPLAY is not set); run it on a desktop, under "
            "`xvfb-run -a beep3d-annotate ...`, or use --export OUT for the headless export"
        )


def render_screenshot(window, path: str | Path, timeout_ms: int = 60_000) -> Path:
    """Wait for the live resolution, draw the window once and save it as a PNG."""
    from PySide6.QtWidgets import QApplication

    window.live.wait_idle(timeout_ms)
    QApplication.processEvents()
    window.view.repaint()
    QApplication.processEvents()
    image = window.grab()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from beep3d.io.atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        if not image.save(str(tmp), "PNG"):
            raise Beep3dError(f"{path}: could not write the screenshot; check the folder is writable")
    return path


def run_app(
    scene: str | None,
    boxes: str | None = None,
    screenshot: str | None = None,
    resolver: str = "auto",
    checkpoint: str | None = None,
    class_set: str | None = None,
    foreground: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
) -> int:
    """Open the annotation window; returns the exit status.

    Parameters
    ----------
    scene
        Scan to open (anything ``beep3d.io.load_scene`` reads), or None for an empty window.
    boxes
        Box file to open with it (default: ``<scene>.boxes.json`` when present).
    screenshot
        When given: render the window once, save it to this PNG and exit (no questions asked).
    resolver
        "auto" (the teacher when its checkpoint exists, else smallest-box), "teacher",
        "smallest-box" or "nearest-centre".
    checkpoint
        Teacher checkpoint.
    class_set
        Class set JSON (default: the 18 ScanNet classes).
    foreground
        Foreground stage mode, "off", "geometric" or "model" (default: the window's, geometric).
    device, threads
        Where the teacher network runs ("cpu", "cuda", "cuda:N") and its CPU threads (None: torch's
        default).
    """
    from beep3d.classes import SCANNET18, ClassSet
    from beep3d.defaults import choose_resolver_name

    _check_display()
    classes = ClassSet.load(class_set) if class_set else SCANNET18
    resolver_name = choose_resolver_name(resolver, Path(checkpoint) if checkpoint else None)
    app = _application()
    from beep3d.app.main_window import MainWindow

    window = MainWindow(
        classes, resolver_name, checkpoint, interactive=screenshot is None, device=device, threads=threads
    )
    if checkpoint is not None and window.resolvers.refused is not None:
        # the annotator asked for this teacher: say why it cannot be used instead of opening the
        # window with a rule in its place
        window.close()
        raise Beep3dError(f"{window.resolvers.refused} (given with --checkpoint)")
    if foreground is not None and foreground != window.resolvers.foreground_mode:
        if not window.resolvers.select_foreground(foreground):
            raise Beep3dError(
                window.errors[-1] if window.errors else f"foreground mode {foreground!r} refused"
            )
    if scene is not None and not Path(scene).exists():
        raise Beep3dError(f"{scene}: no such file or folder; check the path")
    window.show()
    if scene is not None:
        opened = window.files.open_scene(scene, boxes)
        if not opened and screenshot is not None:
            raise Beep3dError(window.errors[-1] if window.errors else f"{scene}: could not open the scene")
    if screenshot is not None:
        written = render_screenshot(window, screenshot)
        window.doc.dirty = False
        window.close()
        print(f"beep3d-annotate: wrote {written}")
        return 0
    return int(app.exec())
