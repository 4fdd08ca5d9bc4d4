"""Progress and cancel of a long resolution, in the status bar.

A resolution that takes longer than :data:`SHOW_AFTER_MS` shows a bar, what it is doing with its
percentage and stage ("Resolving: 40 % (teacher backbone)", from the pipeline's
:class:`~beep3d.resolve.progress.Progress` reports; a busy bar until the first one), the seconds it
has taken and a Cancel button. Cancel stops the running resolution at its next chunk point (within
about a second; loading the teacher network is not interrupted) and drops any waiting one: the view
keeps showing the last finished masks, and the next edit (or Model > Resolve now, F5) asks again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

#: A resolution shorter than this shows no progress (most edits on small scans).
SHOW_AFTER_MS = 400


class ResolutionProgress(QWidget):
    """Busy bar, elapsed seconds and a Cancel button; emits ``cancelRequested``."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the pipeline reports its progress
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this resolution (the last masks stay; F5 resolves again)")
        self.cancel_button.clicked.connect(self.cancelRequested.emit)
        for widget in (self.label, self.bar, self.cancel_button):
            layout.addWidget(widget)
        self._what = ""
        self._done: tuple[int, str] | None = None  # (percent, stage) last reported
        self._started: float | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(200)
        self._tick.timeout.connect(self._update)
        self.setVisible(False)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._started is not None

    def start(self, what: str) -> None:
        """A resolution started (or moved on to ``what``); shown once it takes long."""
        if self._started is None:
            self._started = time.perf_counter()
            self._done = None
            self.bar.setRange(0, 0)
        self._what = what
        self._tick.start()
        self._update()

    def set_progress(self, fraction: float, stage: str) -> None:
        """The running resolution has done ``fraction`` (0..1) of its work and is in ``stage``."""
        if self._started is None:
            return
        self._done = (int(round(min(max(fraction, 0.0), 1.0) * 100)), stage)
        self.bar.setRange(0, 100)
        self.bar.setValue(self._done[0])
        self._update()

    def stop(self) -> None:
        """The resolution finished, failed or was cancelled."""
        self._started = None
        self._tick.stop()
        self.setVisible(False)

    def elapsed(self) -> float:
        """Seconds since the resolution started (0 when none runs)."""
        return 0.0 if self._started is None else time.perf_counter() - self._started

    def _update(self) -> None:
        if self._started is None:
            return
        seconds = self.elapsed()
        if self._done is None:
            self.label.setText(f"{self._what} {seconds:.0f} s")
        else:
            percent, stage = self._done
            self.label.setText(f"{self._what}: {percent} % ({stage}) · {seconds:.0f} s")
        if seconds * 1000 >= SHOW_AFTER_MS:
            self.setVisible(True)
