"""Live resolution: resolve the boxes in a worker thread after every edit, newest edit wins.

Each request gets a generation number. One job runs at a time (the machine's cores are better
spent finishing one job than racing several); requests that arrive meanwhile replace each other,
so only the newest waiting request starts next. Results of an older generation are dropped.

Each job carries a :class:`~beep3d.resolve.progress.Progress`: the pipeline's reports reach the
window as :attr:`LiveResolver.progressChanged`, and :meth:`LiveResolver.cancel` stops the running
computation at its next chunk point (within about a second, except while the teacher network loads).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal

from beep3d.corrections import Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.resolve.pipeline import AnnotationResult, annotate
from beep3d.resolve.progress import Cancelled, Progress
from beep3d.scene import Scene


@dataclass
class LiveResult(AnnotationResult):
    """An :class:`~beep3d.resolve.pipeline.AnnotationResult` and the request it answers (``generation``).

    ``held`` keeps the scene, resolver and foreground stage it was computed with alive, so the
    identities :func:`~beep3d.resolve.pipeline.annotate` compares before reusing a result (a click
    re-resolves without the resolver) cannot be taken by new objects.
    """

    generation: int = 0
    held: tuple = ()
    #: Mean confidence of each box's points (box id -> value; NaN for none), worked out in the worker
    #: so the window's thread does not pass over every point for the box list.
    box_confidence: dict = field(default_factory=dict)


def resolve_for_view(
    scene: Scene,
    boxes: BoxSet,
    resolver,
    level: str = "point",
    generation: int = 0,
    foreground=None,
    corrections: Corrections | None = None,
    reuse: AnnotationResult | None = None,
    progress: Progress | None = None,
) -> LiveResult:
    """The core pipeline (:func:`beep3d.resolve.pipeline.annotate`) for one request of the window.

    ``foreground`` is the foreground stage (None: boxes keep every point); ``corrections`` are the
    annotator's clicks and strokes (None: none), applied last; ``reuse`` is a previous result that
    only the corrections stage needs to run again on when nothing else changed; ``progress`` hears
    of the stages and can cancel the run (:class:`~beep3d.resolve.progress.Cancelled` is raised).
    """
    result = annotate(
        scene,
        boxes,
        resolver,
        level,
        foreground=foreground,
        corrections=corrections,
        reuse=reuse,
        progress=progress,
    )
    from beep3d.app.box_list import box_confidences

    fields = {k: v for k, v in vars(result).items() if k not in ("generation", "held", "box_confidence")}
    confidence = box_confidences(result.labels.instance_ids, result.labels.confidence, result.boxes.ids)
    return LiveResult(
        **fields, generation=generation, held=(scene, resolver, foreground), box_confidence=confidence
    )


class _JobSignals(QObject):
    finished = Signal(object)
    failed = Signal(int, str)
    progress = Signal(int, float, str)
    cancelled = Signal(int)


class _Job(QRunnable):
    def __init__(
        self,
        generation: int,
        scene: Scene,
        boxes: BoxSet,
        resolver,
        level: str,
        signals: _JobSignals,
        foreground=None,
        corrections: Corrections | None = None,
        reuse: AnnotationResult | None = None,
    ):
        super().__init__()
        self.setAutoDelete(True)
        self.args = (scene, boxes, resolver, level, generation, foreground, corrections, reuse)
        self.signals = signals
        self.progress = Progress(lambda fraction, stage: signals.progress.emit(generation, fraction, stage))

    def run(self) -> None:
        generation = self.args[4]
        try:
            result = resolve_for_view(*self.args, progress=self.progress)
        except Cancelled:
            self.signals.cancelled.emit(generation)
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
    #: The running resolution's share done (0..1) and stage name (newest generation only).
    progressChanged = Signal(float, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _JobSignals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.progress.connect(self._on_progress)
        self._signals.cancelled.connect(lambda _generation: self._finish_job())
        self._job_progress: Progress | None = None  # of the running job
        self.cancelled_jobs = 0
        self.generation = 0
        self._running = False
        self._pending: tuple | None = None
        self.last_result: LiveResult | None = None
        self.dropped = 0

    @property
    def busy(self) -> bool:
        return self._running or self._pending is not None

    def request(
        self,
        scene: Scene,
        boxes: BoxSet,
        resolver,
        level: str = "point",
        foreground=None,
        corrections: Corrections | None = None,
    ) -> int:
        """Ask for a resolution of ``boxes`` (``foreground``: the foreground stage; ``corrections``: the
        annotator's clicks and strokes); returns its generation."""
        self.generation += 1
        self._pending = (self.generation, scene, boxes, resolver, level, foreground, corrections)
        self._start_next()
        return self.generation

    def _start_next(self) -> None:
        if self._running or self._pending is None:
            return
        generation, scene, boxes, resolver, level, foreground, corrections = self._pending
        self._pending = None
        self._running = True
        self.busyChanged.emit(True)
        reuse = self.last_result  # when only the corrections changed, the resolver is not run again
        job = _Job(generation, scene, boxes, resolver, level, self._signals, foreground, corrections, reuse)
        self._job_progress = job.progress
        self._pool.start(job)

    def _finish_job(self) -> None:
        self._running = False
        self._job_progress = None
        self._start_next()
        if not self.busy:
            self.busyChanged.emit(False)

    def _on_finished(self, result: LiveResult) -> None:
        # the next job starts from the newest finished result even when this one is not shown: it
        # is right for its own boxes, and the teacher keeps its decoder state for that one only
        self.last_result = result
        self._finish_job()
        if result.generation != self.generation:
            self.dropped += 1
            return
        self.resultReady.emit(result)

    def _on_failed(self, generation: int, message: str) -> None:
        self._finish_job()
        if generation == self.generation:
            self.failed.emit(message)

    def _on_progress(self, generation: int, fraction: float, stage: str) -> None:
        if generation == self.generation:
            self.progressChanged.emit(fraction, stage)

    def cancel(self) -> None:
        """Drop the waiting request and stop the running one at its next chunk point (its result,
        if it still ends first, is dropped)."""
        self._pending = None
        self.generation += 1  # the running job's result is now stale and is dropped
        if self._job_progress is not None:
            self._job_progress.cancel()
            self.cancelled_jobs += 1

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
        """Drop waiting requests, stop the running job and wait for it (before the window closes)."""
        self._pending = None
        if self._job_progress is not None:
            self._job_progress.cancel()
        self._pool.waitForDone(30_000)
