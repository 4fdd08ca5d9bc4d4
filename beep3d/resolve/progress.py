"""Progress and cancel of a long computation (no Qt): what the pipeline and the teacher report.

A :class:`Progress` is handed down the pipeline (:func:`beep3d.resolve.pipeline.annotate`) and into
the resolver. At its natural chunk points a stage calls :meth:`Progress.report` with the share done
and the stage's name; that also checks the cancel flag, so a computation stops at the next chunk
point after :meth:`Progress.cancel` (from another thread: the window's Cancel button) by raising
:class:`Cancelled`. Nothing is cached by a stage that was cancelled, so the next request starts
clean.

A stage that runs inside a part of a larger one reports through :meth:`Progress.part`, which maps
its own 0..1 onto a span of the parent's and shares its cancel flag. A ``Progress()`` without a
callback reports to nobody and is never cancelled unless asked: it is the default everywhere, so the
headless export prints nothing new.

Two adapters give chunk points inside code that knows nothing of progress:

- :meth:`Progress.step_timings`: a ``timings`` dict (as :func:`beep3d.geometry.superpoints.compute_superpoints`
  fills one step at a time) that reports after each step;
- :meth:`Progress.watching`: forward pre-hooks on network modules (torch ``nn.Module``), so a
  backbone or decoder stops between its layers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

#: What a callback receives: the share done in [0, 1] and the stage's name.
ProgressCallback = Callable[[float, str], None]


class Cancelled(Exception):  # noqa: N818 (the name says what happened, as KeyboardInterrupt does)
    """The computation was cancelled (:meth:`Progress.cancel`) and stopped at a chunk point."""


class Progress:
    """Reports the progress of a computation and carries its cancel flag.

    Parameters
    ----------
    callback
        Called with (share done in [0, 1], stage name) when either changes by a whole percent or the
        stage changes; None: nobody listens. It runs in the computing thread.

    Notes
    -----
    :meth:`cancel` may be called from any thread; the computing thread notices it at its next
    :meth:`check` or :meth:`report` and raises :class:`Cancelled`.
    """

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._cancelled = threading.Event()
        self._parent: Progress | None = None
        self._start, self._end = 0.0, 1.0
        self.fraction = 0.0
        self.stage = ""
        self._last: tuple[int, str] | None = None

    # cancel -------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the computation to stop at its next chunk point (thread-safe)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called (on this progress or the one it is a part of)."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` when cancel was asked for; otherwise return at once.

        Raises
        ------
        Cancelled
            :meth:`cancel` was called.
        """
        if self._cancelled.is_set():
            raise Cancelled("cancelled")

    # progress -----------------------------------------------------------------------------------
    def report(self, fraction: float, stage: str) -> None:
        """Say that ``fraction`` (0..1) of the work is done and ``stage`` runs now; checks cancel.

        Raises
        ------
        Cancelled
            :meth:`cancel` was called.
        """
        self.check()
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self._parent is not None:
            self._parent.report(self._start + (self._end - self._start) * fraction, stage)
            return
        self.fraction, self.stage = fraction, stage
        key = (int(fraction * 100), stage)
        if self._callback is not None and key != self._last:
            self._last = key
            self._callback(fraction, stage)

    def part(self, start: float, end: float) -> Progress:
        """A progress for a part of this computation: its 0..1 is this one's ``start``..``end``.

        The part shares this progress's cancel flag and callback.
        """
        part = Progress()
        part._cancelled = self._cancelled
        part._parent = self
        part._start, part._end = float(start), float(end)
        return part

    def stages(self, weights: Mapping[str, float]) -> StagePlan:
        """A plan of named stages of the given relative weights (0: skipped); see :class:`StagePlan`."""
        return StagePlan(self, weights)

    # adapters -----------------------------------------------------------------------------------
    def step_timings(self, shares: Mapping[str, float], stage: str) -> dict[str, float]:
        """A ``timings`` dict that reports ``stage`` each time a step's time is written into it.

        Parameters
        ----------
        shares
            Share of the work done once each named step has finished (steps not named keep the
            last share); a step's time being written is a chunk point (checks cancel).
        stage
            The stage name reported.
        """
        return _ReportingTimings(self, dict(shares), stage)

    @contextmanager
    def watching(self, modules: Iterable[Any], stage: str) -> Iterator[None]:
        """Chunk points between network layers: while inside, each call of one of ``modules``
        reports ``stage`` (the share of the modules called so far) and checks cancel.

        ``modules`` are torch ``nn.Module`` objects (anything with ``register_forward_pre_hook``);
        the hooks are removed on leaving, also when :class:`Cancelled` is raised from one.
        """
        modules = list(modules)
        calls = [0]

        def hook(_module: Any, _inputs: Any) -> None:
            calls[0] += 1
            self.report(min(calls[0] / max(len(modules), 1), 1.0), stage)

        handles = [m.register_forward_pre_hook(hook) for m in modules]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


class StagePlan:
    """Named stages of a computation, each given a share of its progress by a relative weight.

    ``plan.begin(name)`` reports the start of a stage (and checks cancel); ``plan.within(name)``
    is a :class:`Progress` for the inside of that stage.
    """

    def __init__(self, progress: Progress, weights: Mapping[str, float]) -> None:
        self.progress = progress
        total = sum(max(w, 0.0) for w in weights.values()) or 1.0
        self._spans: dict[str, tuple[float, float]] = {}
        done = 0.0
        for name, weight in weights.items():
            share = max(weight, 0.0) / total
            self._spans[name] = (done, done + share)
            done += share

    def begin(self, name: str) -> None:
        """Stage ``name`` starts now.

        Raises
        ------
        Cancelled
            Cancel was asked for.
        """
        self.progress.report(self._spans[name][0], name)

    def within(self, name: str) -> Progress:
        """The progress of the inside of stage ``name`` (reports map onto its span)."""
        return self.progress.part(*self._spans[name])


class _ReportingTimings(dict):
    def __init__(self, progress: Progress, shares: dict[str, float], stage: str) -> None:
        super().__init__()
        self._progress, self._shares, self._stage = progress, shares, stage
        self._done = 0.0

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        self._done = max(self._done, self._shares.get(key, self._done))
        self._progress.report(self._done, self._stage)
