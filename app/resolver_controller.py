"""Which resolver decides the window's overlaps: the choice, the teacher checkpoint, and the fallback.

Choosing is cheap for every resolver (the teacher only checks its checkpoint's header). When the
teacher is chosen, its network starts loading and warming up in a background thread
(:meth:`beep3d.resolve.teacher_resolver.TeacherResolver.warm_up`: torch, spconv, the weights and a
run on a tiny made-up scene, seconds; then Open3D for the room surfaces of small scans), while the
annotator opens a scan; the live-resolution worker's first resolution waits for that load if it is
not done, while a child process finds the scan's superpoints and room surfaces
(:func:`beep3d.resolve.pipeline.load_beside_scan_geometry`). If the load fails, the worker's resolution
reports it (the failure is kept by the resolver), and the controller goes back to the resolver used
before and says why.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from beep3d.defaults import DEFAULT_FOREGROUND, DEFAULT_MEMBERSHIP
from beep3d.errors import Beep3dError

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow
    from beep3d.resolve.resolution import Resolver


class ResolverController(QObject):
    """The window's resolver.

    Attributes
    ----------
    name
        "smallest-box", "nearest-centre" or "teacher".
    checkpoint
        The teacher checkpoint chosen (None: the shipped one).
    resolver
        The resolver in use (None before the first choice).
    membership_level
        "point" or "superpoint".
    previous
        The (name, checkpoint) to go back to when the teacher's network cannot be loaded.
    foreground_mode
        The foreground stage's mode: "off", "geometric" or "model".
    foreground
        The foreground stage in use (:mod:`beep3d.resolve.foreground`).
    warming
        The thread loading and warming up the teacher chosen last (None before the teacher is chosen).
    device, threads
        Where a teacher network runs ("cpu", "cuda", "cuda:N") and its CPU threads (None: torch's
        default).
    refused
        Why the last resolver chosen was refused (its checkpoint unreadable, ...), None if it was not.
    """

    def __init__(
        self,
        window: MainWindow,
        name: str,
        checkpoint: str | None,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.name = name
        self.checkpoint = checkpoint
        self.device = device
        self.threads = threads
        self.refused: str | None = None  # why the last resolver chosen was refused, if it was
        self.resolver: Resolver | None = None
        self.membership_level = DEFAULT_MEMBERSHIP
        self.previous: tuple[str, str | None] = ("smallest-box", None)
        self.warming: threading.Thread | None = None
        from beep3d.resolve.foreground import get_foreground

        self.foreground_mode = DEFAULT_FOREGROUND if DEFAULT_FOREGROUND != "model" else "geometric"
        self.foreground = get_foreground(self.foreground_mode)

    def select_foreground(self, mode: str) -> bool:
        """Take points that are not a box's object out of its mask with ``mode`` from now on.

        "model" needs the teacher: the one resolving overlaps, else the shipped or chosen checkpoint.
        Refused (a dialog, the previous mode stays) when no teacher can be had.
        """
        from beep3d.resolve.foreground import get_foreground
        from beep3d.resolve.teacher_resolver import TeacherResolver

        window = self.window
        try:
            if mode == "model":
                teacher = self.resolver if isinstance(self.resolver, TeacherResolver) else None
                if teacher is None:
                    from beep3d.defaults import DEFAULT_CHECKPOINT

                    teacher = TeacherResolver(
                        self.checkpoint or DEFAULT_CHECKPOINT,
                        level=self.membership_level,
                        device=self.device,
                        threads=self.threads,
                    )
                stage = get_foreground(mode, teacher=teacher)
            elif mode == self.foreground_mode:
                stage = self.foreground  # keeps the scene's surfaces found so far
            else:
                stage = get_foreground(mode)
        except Beep3dError as exc:
            window.error(str(exc))
            window.actions_by_name[f"foreground_{self.foreground_mode}"].setChecked(True)
            return False
        self.foreground_mode, self.foreground = mode, stage
        window.actions_by_name[f"foreground_{mode}"].setChecked(True)
        window.request_resolution()
        return True

    def select(self, name: str, checkpoint: str | None, quiet: bool = False) -> bool:
        """Resolve overlaps with resolver ``name`` from now on; False (and a message) when it is refused.

        Errors are shown in a dialog, or in the status bar when ``quiet``.
        """
        from beep3d.resolve.resolvers import get_resolver

        window = self.window
        options: dict[str, object] = {"level": self.membership_level, "class_set": window.doc.class_set}
        if name == "teacher":
            if checkpoint is None:
                from beep3d.defaults import DEFAULT_CHECKPOINT

                checkpoint = str(DEFAULT_CHECKPOINT)
            options.update(checkpoint=checkpoint, device=self.device, threads=self.threads)
        try:
            resolver = get_resolver(name, **options)
        except Beep3dError as exc:
            self.refused = str(exc)
            if not quiet:
                window.error(str(exc))
            else:
                window.status(str(exc), 15000)
            if self.resolver is None:
                without_checkpoint = {
                    k: v for k, v in options.items() if k not in ("checkpoint", "device", "threads")
                }
                resolver, name = get_resolver("smallest-box", **without_checkpoint), "smallest-box"
            else:
                window.actions_by_name[f"resolver_{self.name}"].setChecked(True)
                return False
        if self.resolver is not None and (
            name != self.name or (name == "teacher" and str(checkpoint) != self.checkpoint)
        ):
            self.previous = (self.name, self.checkpoint)
        self.resolver = resolver
        self.name = name
        if name == "teacher":
            self.checkpoint = str(checkpoint)
        window.actions_by_name[f"resolver_{name}"].setChecked(True)
        self._warm_up(resolver)
        window.request_resolution()
        return True

    def _warm_up(self, resolver: Resolver) -> None:
        """Load and warm up a teacher not loaded yet in a background thread (see the module notes)."""
        from beep3d.resolve.teacher_resolver import TeacherResolver

        if not isinstance(resolver, TeacherResolver) or resolver.loaded:
            return

        def warm_up() -> None:
            try:
                resolver.warm_up()
                if self.foreground_mode == "geometric":  # the room surfaces' plane search needs Open3D
                    from beep3d.geometry.room_surfaces import open3d_core

                    open3d_core()
            except Exception:  # noqa: BLE001 - the worker's resolution reports it (a load failure is kept)
                return

        self.warming = threading.Thread(target=warm_up, name="teacher warm-up", daemon=True)
        self.warming.start()

    def toggle_superpoints(self) -> None:
        """Switch between point and superpoint membership (the Model menu's check box)."""
        checked = self.window.actions_by_name["superpoints"].isChecked()
        self.membership_level = "superpoint" if checked else "point"
        self.select(self.name, self.checkpoint)

    def choose_checkpoint_dialog(self) -> None:
        """Ask for a teacher checkpoint and use it."""
        checkpoint = self.checkpoint
        start = str(Path(checkpoint).parent) if checkpoint else self.window.files.start_folder()
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Teacher checkpoint", start, "Checkpoints (*.safetensors *.pt *.pth)"
        )
        if path:
            self.select("teacher", path)

    def teacher_failed_to_load(self, message: str) -> None:
        """Go back to the resolver used before the teacher whose network could not be loaded, and say so."""
        name, checkpoint = self.previous
        self.previous = ("smallest-box", None)  # if that one fails as well, no ping-pong
        self.resolver = None  # a refused previous resolver then falls back to smallest-box
        self.checkpoint = checkpoint
        self.select(name, checkpoint, quiet=True)
        now = (
            f"the teacher of {Path(str(self.checkpoint)).name}"
            if self.name == "teacher"
            else f"the {self.name} rule"
        )
        self.window.error(
            f"The teacher could not be loaded: {message}\n\nOverlaps are resolved with {now} instead; "
            "choose another checkpoint with Model > Choose teacher checkpoint…"
        )
