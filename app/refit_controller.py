"""The window's refit: ``beep3d-train`` in a separate process, its progress, cancel, and the switch.

The command line and the parsing of its output are Qt-free (:mod:`beep3d.app.refit`); this controller
owns the ``QProcess``, shows progress in the window's status bar, and when the run ends well points the
teacher resolver at the checkpoint it wrote (README walkthrough, step 9).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess
from PySide6.QtWidgets import QFileDialog

from beep3d.app.refit import (
    check_run_folder,
    find_checkpoint,
    parse_progress,
    refit_arguments,
    suggest_run_folder,
    train_program,
)
from beep3d.errors import Beep3dError

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow


class RefitController(QObject):
    """Runs and tracks one refit at a time for ``window``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.process: QProcess | None = None
        self.out_dir: Path | None = None
        self.log: list[str] = []
        self._cancelled = False

    @property
    def running(self) -> bool:
        """Whether a refit process runs."""
        return self.process is not None

    def command(self, data_dirs: list[str], out_dir: str) -> list[str]:
        """Arguments of ``beep3d-train`` for a refit on exported training folders, from the teacher in use."""
        resolvers = self.window.resolvers
        return refit_arguments(data_dirs, out_dir, resolvers.checkpoint, resolvers.device, resolvers.threads)

    def dialog(self) -> None:
        """Ask for the folder of exported training scenes and for the run folder, then start.

        The run folder suggested is a new ``runs/refit-<n>`` beside the export the scenes come from
        (:func:`~beep3d.app.refit.suggest_run_folder`), created so that the folder dialog opens in it
        and accepting it starts the run there; it is removed again (only if still empty) when another
        folder is chosen or the dialog is cancelled.
        """
        folder = QFileDialog.getExistingDirectory(
            self.window,
            "Folder of exported training scenes (training/<scene>/…)",
            self.window.files.start_folder(),
        )
        if not folder:
            return
        suggested = suggest_run_folder(folder)
        created = _make_folder(suggested)
        out = QFileDialog.getExistingDirectory(
            self.window, "Folder for the new run (checkpoints/ is written into it)", str(suggested)
        )
        if not out or Path(out).resolve() != suggested.resolve():
            for made in created:  # deepest first; only what this dialog made, only if still empty
                with contextlib.suppress(OSError):
                    made.rmdir()
        if out:
            self.start([folder], out)

    def start(self, data_dirs: list[str], out_dir: str, program: list[str] | None = None) -> bool:
        """Run ``beep3d-train`` (or ``program``, for tests).

        False (and a message) when a refit already runs, or when ``out_dir`` is or lies inside an
        export folder (:func:`~beep3d.app.refit.check_run_folder`).
        """
        window = self.window
        if self.process is not None:
            window.error("A refit is already running; cancel it first (Model > Cancel refit).")
            return False
        try:
            check_run_folder(out_dir)
        except Beep3dError as exc:
            window.error(str(exc))
            return False
        command = program or [*train_program(), *self.command(data_dirs, out_dir)]
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process, self.out_dir, self.log = process, Path(out_dir), []
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        window.progress.setRange(0, 100)
        window.progress.setValue(0)
        window.progress.setVisible(True)
        window.actions_by_name["refit_cancel"].setEnabled(True)
        window.actions_by_name["refit"].setEnabled(False)
        process.start(command[0], command[1:])
        return True

    def cancel(self) -> None:
        """Stop the running refit (its run folder keeps what it wrote; nothing switches)."""
        if self.process is not None:
            self._cancelled = True
            self.process.kill()

    def shutdown(self) -> None:
        """Kill a running refit when the window closes."""
        if self.process is not None:
            self.process.kill()
            self.process.waitForFinished(3000)

    def _read(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput()).decode(errors="replace")
        for line in text.splitlines():
            self.log.append(line)
            fraction = parse_progress(line)
            if fraction is not None:
                self.window.progress.setValue(int(fraction * 100))
            if line.strip():
                self.window.status(f"Refit: {line.strip()[:120]}")

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end()
            self.window.error(
                "Could not start beep3d-train; check that the package is installed with its training extras."
            )

    def _end(self) -> None:
        self.process = None
        self.window.progress.setVisible(False)
        self.window.actions_by_name["refit_cancel"].setEnabled(False)
        self.window.actions_by_name["refit"].setEnabled(True)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        cancelled, self._cancelled = self._cancelled, False
        if self.process is None:
            return
        self._end()
        window = self.window
        if cancelled:
            window.status("Refit cancelled.")
            return
        if code != 0:
            tail = "\n".join(self.log[-8:])
            window.error(f"beep3d-train stopped with status {code}:\n\n{tail}")
            return
        checkpoint = find_checkpoint(self.out_dir) if self.out_dir is not None else None
        if checkpoint is None:
            window.error(f"beep3d-train finished but wrote no checkpoint into {self.out_dir}.")
            return
        window.status(f"Refit done: {checkpoint}")
        window.resolvers.select("teacher", str(checkpoint))


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the folders created, deepest first (none on an error)."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return []
    return missing
