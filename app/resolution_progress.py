"""Progress and cancel of a long resolution, in the status bar.

A resolution that takes longer than :data:`SHOW_AFTER_MS` shows a busy bar, what it is doing (loading
the teacher, resolving), the seconds it has taken and a Cancel button. Cancel drops the result of the
running resolution and any waiting one: the view keeps showing the last finished masks, and the next
edit (or Model > Resolve now, F5) asks again. The pipeline has no points where it could stop, so a
cancelled computation still runs to its end in the background before the next one starts.
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
        self.bar.setRange(0, 0)  # busy: the pipeline does not report its progress
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop waiting for this resolution (the last masks stay)")
        self.cancel_button.clicked.connect(self.cancelRequested.emit)
        for widget in (self.label, self.bar, self.cancel_button):
            layout.addWidget(widget)
        self._what = ""
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
        self._what = what
        self._tick.start()
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
        self.label.setText(f"{self._what} {seconds:.0f} s")
        if seconds * 1000 >= SHOW_AFTER_MS:
            self.setVisible(True)
