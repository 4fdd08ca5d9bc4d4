"""Live resolution: resolve the boxes in a worker thread after every edit, newest edit wins.

Each request gets a generation number. One job runs at a time (the machine's cores are better
spent finishing one job than racing several); requests that arrive meanwhile replace each other,
so only the newest waiting request starts next. Results of an older generation are dropped.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal

from beep3d.app.colouring import PointLabels
from beep3d.boxes import BoxSet
from beep3d.errors import Beep3dError
from beep3d.resolution import Resolution
from beep3d.scene import Scene


@dataclass
class LiveResult:
    """Everything the window shows after a resolution.

    Attributes
    ----------
    generation
        The request this answers.
    boxes
        The boxes that were resolved (an immutable snapshot).
    analysis
        ``beep3d.overlap.OverlapAnalysis`` of those boxes.
    resolution
        The resolver's per-point result.
    problems
        ``beep3d.diagnostics.Problem`` list.
    labels
        Per-point arrays for the colour modes.
    seconds
        Time the job took.
    """

    generation: int
    boxes: BoxSet
    analysis: object
    resolution: Resolution
    problems: list
    labels: PointLabels
    seconds: float


def resolve_for_view(
    scene: Scene, boxes: BoxSet, resolver, level: str = "point", generation: int = 0
) -> LiveResult:
    """Membership, overlap figures, resolution and diagnosis of ``boxes`` on ``scene`` (no Qt)."""
    from beep3d.diagnostics import diagnose
    from beep3d.overlap import OverlapAnalysis, membership_for

    started = time.perf_counter()
    n = scene.num_points
    membership = membership_for(scene, boxes, level=level)
    analysis = OverlapAnalysis.from_membership(membership)
    if len(boxes):
        resolution = resolver.resolve(scene, boxes)
    else:
        resolution = Resolution(
            np.full(n, -1, np.int32), np.full(n, -1, np.int32), np.ones(n, np.float32), np.zeros(n, np.int32)
        )
    problems = diagnose(boxes, analysis, resolution)
    first_box = np.full(n, -1, dtype=np.int32)
    # membership is sorted by point: writing in reverse leaves each point's first box
    first_box[membership.point_index[::-1]] = membership.box_index[::-1]
    labels = PointLabels(
        first_box=first_box,
        overlap_counts=np.asarray(analysis.counts, dtype=np.int32),
        instance_ids=np.asarray(resolution.instance_ids, dtype=np.int32),
        confidence=np.asarray(resolution.confidence, dtype=np.float32),
        decided_by=resolution.decided_by,
    )
    return LiveResult(
        generation, boxes, analysis, resolution, problems, labels, time.perf_counter() - started
    )


class _JobSignals(QObject):
    finished = Signal(object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(
        self, generation: int, scene: Scene, boxes: BoxSet, resolver, level: str, signals: _JobSignals
    ):
        super().__init__()
        self.setAutoDelete(True)
        self.args = (scene, boxes, resolver, level, generation)
        self.signals = signals

    def run(self) -> None:
        generation = self.args[-1]
        try:
            result = resolve_for_view(*self.args)
        except Beep3dError as exc:
            self.signals.failed.emit(generation, str(exc))
        except Exception as exc:  # a bug, not a user error: say so instead of dying in a thread
            traceback.print_exc()
            self.signals.failed.emit(generation, f"resolution failed unexpectedly: {exc!r}")
        else:
            self.signals.finished.emit(result)


class LiveResolver(QObject):
    """Runs :func:`resolve_for_view` off the UI thread; emits only the newest generation's result."""

    resultReady = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _JobSignals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self.generation = 0
        self._running = False
        self._pending: tuple | None = None
        self.last_result: LiveResult | None = None
        self.dropped = 0

    @property
    def busy(self) -> bool:
        return self._running or self._pending is not None

    def request(self, scene: Scene, boxes: BoxSet, resolver, level: str = "point") -> int:
        """Ask for a resolution of ``boxes``; returns its generation number."""
        self.generation += 1
        self._pending = (self.generation, scene, boxes, resolver, level)
        self._start_next()
        return self.generation

    def _start_next(self) -> None:
        if self._running or self._pending is None:
            return
        generation, scene, boxes, resolver, level = self._pending
        self._pending = None
        self._running = True
        self.busyChanged.emit(True)
        self._pool.start(_Job(generation, scene, boxes, resolver, level, self._signals))

    def _finish_job(self) -> None:
        self._running = False
        self._start_next()
        if not self.busy:
            self.busyChanged.emit(False)

    def _on_finished(self, result: LiveResult) -> None:
        self._finish_job()
        if result.generation != self.generation:
            self.dropped += 1
            return
        self.last_result = result
        self.resultReady.emit(result)

    def _on_failed(self, generation: int, message: str) -> None:
        self._finish_job()
        if generation == self.generation:
            self.failed.emit(message)

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Process events until no job runs or waits (for scripts, screenshots and tests)."""
        if not self.busy:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)

        def check(_busy: bool) -> None:
            if not self.busy:
                loop.quit()

        self.busyChanged.connect(check)
        timer.start(timeout_ms)
        if self.busy:
            loop.exec()
        self.busyChanged.disconnect(check)
        return not self.busy

    def shutdown(self) -> None:
        """Drop waiting requests and wait for the running job (before the window closes)."""
        self._pending = None
        self._pool.waitForDone(30_000)
