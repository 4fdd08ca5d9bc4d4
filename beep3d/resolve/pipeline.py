"""The annotation pipeline: scene and boxes in, everything an annotator and an export need out.

One Qt-free path, run by the window's live-resolution worker (:mod:`beep3d.app.live`) and by the
headless export (:func:`beep3d.cli.annotate.run_export`) alike::

    scene + boxes -> membership (point or superpoint) -> overlap analysis (P^l, P^u, background)
                  -> resolution of P^u (rules or teacher)
                  -> foreground (points of a box that are not its object leave it)
                  -> corrections (the annotator's clicks and strokes win)
                  -> diagnostics -> per-point labels

A stage added later (foreground removal, hand corrections) is added here, once.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from beep3d.classes import SCANNET18
from beep3d.corrections import Corrections
from beep3d.defaults import DEFAULT_MEMBERSHIP, DEFAULT_SHARE
from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.geometry.child_geometry import GeometryChild
from beep3d.geometry.overlap import OverlapAnalysis, membership_for
from beep3d.geometry.overlap import point_membership as point_level_membership
from beep3d.geometry.room_surfaces import room_known
from beep3d.resolve.box_shares import box_positions, shares_per_box
from beep3d.resolve.corrections import DEFAULT_CLICK_SPREAD, apply_corrections
from beep3d.resolve.diagnostics import DiagnosisMemory, Problem, background_problems, diagnose_edit
from beep3d.resolve.foreground import Foreground, ForegroundStage, NoForeground, apply_foreground
from beep3d.resolve.incremental import EditedStages, box_points, edit_stages, first_box_after
from beep3d.resolve.progress import Progress, StagePlan
from beep3d.resolve.resolution import Resolution, Resolver, empty_resolution
from beep3d.scene import Scene


@dataclass
class PointLabels:
    """Per-point arrays for what the window's colour modes show.

    Attributes
    ----------
    first_box
        (N,) int32 position of the first box containing the point, -1 for none.
    overlap_counts
        (N,) int32 number of boxes containing the point.
    instance_ids
        (N,) int32 resolved box id per point, -1 for background.
    confidence
        (N,) float32 in [0, 1].
    decided_by
        (N,) int8 what decided each point (:data:`beep3d.resolve.resolution.DECIDERS`), or None.
    background_reason
        (N,) int8 why a point inside a box left it (:data:`beep3d.resolve.foreground.BACKGROUND_REASONS`,
        0: it did not, or a correction gave it to a box since), or None.
    corrected
        (N,) bool: a click or stroke decided the point, or None.
    """

    first_box: np.ndarray
    overlap_counts: np.ndarray
    instance_ids: np.ndarray
    confidence: np.ndarray
    decided_by: np.ndarray | None = None
    background_reason: np.ndarray | None = None
    corrected: np.ndarray | None = None


@dataclass
class AnnotationResult:
    """Everything the pipeline computes for one set of boxes on one scene.

    Attributes
    ----------
    boxes
        The boxes that were resolved (an immutable snapshot).
    membership
        Which boxes contain which points, at the level used.
    analysis
        Overlap analysis: P^l / P^u / background per point, exclusive and shared counts per box.
    resolution
        The per-point result: the resolver's, with the foreground stage's background points taken out.
    foreground
        What the foreground stage took out of each box.
    problems
        Diagnostics of the boxes (nested, empty, degenerate, low-confidence overlaps, ...).
    labels
        Per-point arrays for display.
    seconds
        Wall time of the whole pipeline, seconds.
    uncorrected
        The resolution before the corrections stage (what a new click starts from).
    inputs
        What everything before the corrections stage depends on besides the boxes (scene, resolver,
        membership rule, foreground stage): :func:`annotate` with ``reuse`` compares it.
    resolved
        The resolver's own result, before the foreground stage (an edit's rule resolution starts from it).
    memory
        What the diagnosis remembers for the next edit (:class:`beep3d.resolve.diagnostics.DiagnosisMemory`).
    corrections
        The clicks and strokes applied (None: none).
    background_share
        (K,) float32 share of each box's resolved points that its mask leaves to background, corrections
        included (the foreground stage's ``box_share`` where no correction decided one of them).
    """

    boxes: BoxSet
    membership: Membership
    analysis: OverlapAnalysis
    resolution: Resolution
    foreground: Foreground
    problems: list[Problem]
    labels: PointLabels
    seconds: float
    uncorrected: Resolution | None = None
    inputs: tuple = ()
    resolved: Resolution | None = None
    memory: DiagnosisMemory | None = None
    corrections: Corrections | None = None
    background_share: np.ndarray | None = None

    def computed_from(self, boxes: BoxSet, corrections: Corrections | None, inputs: tuple) -> bool:
        """Whether this is the result of ``boxes`` with ``corrections`` (None: none) and ``inputs``
        (:func:`run_inputs`: the scene, resolver, membership rule and foreground stage)."""
        applied = self.corrections.items if self.corrections else ()
        asked = corrections.items if corrections else ()
        return self.inputs == inputs and self.boxes == boxes and applied == asked


#: The pipeline's stages and the rough share of a first run's time each takes (for progress).
PIPELINE_STAGES = {
    "box membership": 0.05,
    "resolution": 0.6,
    "room surfaces": 0.25,
    "foreground": 0.06,
    "corrections": 0.02,
    "diagnostics": 0.02,
}

#: Weight of a first resolution's network load (and, meanwhile, the scan's geometry in a child
#: process) beside :data:`PIPELINE_STAGES` (which sum to 1): most of the first resolution's time.
LOAD_STAGE_WEIGHT = 1.5
#: Rough seconds to import torch and spconv and read a network (2 CPU cores).
LOAD_SECONDS = 1.5


def point_labels(
    membership: Membership,
    analysis: OverlapAnalysis,
    resolution: Resolution,
    foreground: Foreground | None = None,
    corrected: np.ndarray | None = None,
    first_box: np.ndarray | None = None,
) -> PointLabels:
    """The per-point display arrays of a resolution (see :class:`PointLabels`; ``first_box``: if known)."""
    if first_box is None:
        first_box = np.full(membership.num_points, -1, dtype=np.int32)
        # membership is sorted by point: writing in reverse leaves each point's first box
        first_box[membership.point_index[::-1]] = membership.box_index[::-1]
    instance_ids = np.asarray(resolution.instance_ids, dtype=np.int32)
    reason = None if foreground is None else foreground.reason
    if reason is not None and corrected is not None and corrected.any():
        reason = np.where(corrected & (instance_ids >= 0), 0, reason).astype(reason.dtype)  # in a mask again
    return PointLabels(
        first_box=first_box,
        overlap_counts=np.asarray(analysis.counts, dtype=np.int32),
        instance_ids=instance_ids,
        confidence=np.asarray(resolution.confidence, dtype=np.float32),
        decided_by=resolution.decided_by,
        background_reason=reason,
        corrected=corrected,
    )


def needs_loading(resolver: Resolver) -> bool:
    """Whether ``resolver`` has a network still to load (seconds) before it can resolve."""
    return hasattr(resolver, "load") and not getattr(resolver, "loaded", True)


def load_beside_scan_geometry(
    scene: Scene, resolver: Resolver, foreground: ForegroundStage | None, progress: Progress
) -> None:
    """Load a resolver's network, while a child process finds the scan's geometry when that pays.

    A teacher's first resolution imports torch and spconv and reads the network, and the scan needs
    its superpoints, normals and (for the geometric foreground stage) room surfaces: both hold the
    GIL, so in one process they add up. Here the geometry runs in a child process
    (:class:`beep3d.geometry.child_geometry.GeometryChild`) while this process loads the network;
    its results are then where the later stages look for them. A small scan, a scan whose geometry
    is known, or a process that has imported the network already (:func:`network_imported`) gets no
    child; a child that fails leaves the work to the stages, as before.

    ``progress`` hears "teacher model" while the network loads, then, while the child still works,
    "superpoints and room surfaces" (or "superpoints"), each time with the share of the expected
    time passed.

    Raises
    ------
    Beep3dError
        From the resolver's load (the child is stopped).
    Cancelled
        ``progress`` was cancelled (the child is stopped; the load itself is not interrupted).
    """
    if not needs_loading(resolver):
        return
    progress.report(0.0, "teacher model")
    room = getattr(foreground, "room_settings", None)
    if room is not None and room_known(scene, *room):
        room = None
    child = (
        None if network_imported() else GeometryChild.start(scene, room, getattr(resolver, "threads", None))
    )
    expected = LOAD_SECONDS if child is None else max(child.expected_seconds, LOAD_SECONDS)
    started = time.perf_counter()

    def passed(stage: str) -> Callable[[], None]:
        return lambda: progress.report(min((time.perf_counter() - started) / expected, 0.95), stage)

    if child is None:
        run_reporting(resolver.load, passed("teacher model"))
        return
    try:
        run_reporting(resolver.load, passed("teacher model"))
        stage = passed("superpoints and room surfaces" if room is not None else "superpoints")
        child.install(cancelled=lambda: progress.cancelled, waiting=lambda _seconds: stage())
    except BaseException:
        child.stop()
        raise
    progress.check()


def run_reporting(work: Callable[[], None], report: Callable[[], None], every: float = 0.05) -> None:
    """Run ``work`` (which cannot report its own progress, such as a network's load) in a thread, and
    call ``report`` every ``every`` seconds until it is done; its exception is raised here.

    ``report`` may raise (a cancel): the work is then left to finish in its thread, unwatched.
    """
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="pipeline load", daemon=True)
    thread.start()
    while thread.is_alive():
        report()
        thread.join(every)
    if failure:
        raise failure[0]


def network_imported() -> bool:
    """Whether torch, spconv and the network's modules are imported in full (a load then reads the
    weights only: a fraction of a second, which a child process's start would not win back)."""
    return hasattr(sys.modules.get("beep3d.model.beep3d_model"), "Beep3DModel")


def annotate(
    scene: Scene,
    boxes: BoxSet,
    resolver: Resolver,
    level: str = DEFAULT_MEMBERSHIP,
    share: float = DEFAULT_SHARE,
    foreground: ForegroundStage | None = None,
    corrections: Corrections | None = None,
    click_spread: str = DEFAULT_CLICK_SPREAD,
    reuse: AnnotationResult | None = None,
    progress: Progress | None = None,
) -> AnnotationResult:
    """Run the pipeline: membership, overlap analysis, resolution, foreground, diagnostics, display labels.

    Parameters
    ----------
    scene
        The scan (N points).
    boxes
        The boxes (K); none gives an all-background result without calling the resolver.
    resolver
        Decides the points in several boxes (:func:`beep3d.resolve.resolvers.get_resolver`); it should use
        the same membership ``level`` and ``share``.
    level, share
        Box membership rule: "point", or "superpoint" with the share of a superpoint's points that
        must lie inside a box.
    foreground
        The foreground stage (:func:`beep3d.resolve.foreground.get_foreground`); None keeps every
        point a box got (mode "off"). The command line and the window use "geometric" by default
        (:data:`beep3d.defaults.DEFAULT_FOREGROUND`).
    corrections, click_spread
        The annotator's clicks and strokes, applied last (:mod:`beep3d.resolve.corrections`), and how
        far a click spreads.
    reuse
        A previous result: when it was computed for equal boxes with the same scene, resolver,
        membership rule and foreground stage, only the corrections stage runs again (a click
        re-resolves without the resolver).
    progress
        Hears of each stage (:data:`PIPELINE_STAGES`; a resolver whose ``resolve`` takes a
        ``progress`` argument, as the teacher's does, reports its own stages inside "resolution")
        and can cancel the run between stages; None: nobody listens.

    Raises
    ------
    Beep3dError
        From the resolver (for example a teacher checkpoint that cannot be loaded).
    Cancelled
        ``progress`` was cancelled (:class:`beep3d.resolve.progress.Cancelled`); nothing is returned.
    """
    started = time.perf_counter()
    loading = len(boxes) > 0 and needs_loading(resolver)
    plan = (progress or Progress()).stages(
        {"teacher model": LOAD_STAGE_WEIGHT if loading else 0.0, **PIPELINE_STAGES}
    )
    stages, edited = _stages_before_corrections(
        scene, boxes, resolver, level, share, foreground, reuse, plan, loading
    )
    plan.begin("corrections")
    resolution, corrected = _corrections_stage(
        scene, boxes, resolver, level, stages, corrections, click_spread
    )
    plan.begin("diagnostics")
    background = background_shares(boxes, stages.foreground, stages.resolved, resolution, corrected)
    problems, memory, labels = _diagnostics_stage(
        scene, boxes, level, stages, resolution, corrected, edited, reuse, background
    )
    inputs = run_inputs(scene, resolver, level, share, foreground)  # the superpoints may be new since
    seconds = time.perf_counter() - started
    return stages.result(
        boxes, resolution, problems, labels, seconds, inputs, memory, corrections, background
    )


class _BeforeCorrections(NamedTuple):
    """What the stages before the corrections computed (see :class:`AnnotationResult`)."""

    membership: Membership
    analysis: OverlapAnalysis
    foreground: Foreground
    resolution: Resolution
    resolved: Resolution | None

    def result(
        self,
        boxes: BoxSet,
        corrected: Resolution,
        problems: list[Problem],
        labels: PointLabels,
        seconds: float,
        inputs: tuple,
        memory: DiagnosisMemory,
        corrections: Corrections | None,
        background_share: np.ndarray,
    ) -> AnnotationResult:
        """The pipeline's result: these stages' with the corrected resolution and the later stages'."""
        return AnnotationResult(
            boxes,
            self.membership,
            self.analysis,
            corrected,
            self.foreground,
            problems,
            labels,
            seconds,
            self.resolution,
            inputs,
            self.resolved,
            memory,
            corrections,
            background_share,
        )


def _stages_before_corrections(
    scene: Scene,
    boxes: BoxSet,
    resolver: Resolver,
    level: str,
    share: float,
    foreground: ForegroundStage | None,
    reuse: AnnotationResult | None,
    plan: StagePlan,
    loading: bool,
) -> tuple[_BeforeCorrections, EditedStages | None]:
    """The stages before the corrections (arguments as for :func:`annotate`; ``plan``: its progress by
    stage, ``loading``: the resolver's network is to be loaded first), and the in-place edit's stages
    when they were redone for an edit of a few of ``reuse``'s boxes only.

    ``reuse``'s own when it was computed from the same inputs for equal boxes; else the edit's, when
    :func:`beep3d.resolve.incremental.edit_stages` can tell; else all of them from scratch.
    """
    inputs = run_inputs(scene, resolver, level, share, foreground)
    if _reusable(reuse, inputs, boxes):
        reused = _BeforeCorrections(
            reuse.membership, reuse.analysis, reuse.foreground, reuse.uncorrected, reuse.resolved
        )
        return reused, None
    edited = edit_stages(scene, boxes, resolver, level, share, foreground, reuse, inputs)
    if edited is not None:  # an in-place edit of a few boxes
        stages = _BeforeCorrections(
            edited.edit.membership, edited.analysis, edited.foreground, edited.resolution, edited.resolved
        )
        return stages, edited
    if loading:
        plan.begin("teacher model")
        load_beside_scan_geometry(scene, resolver, foreground, plan.within("teacher model"))
    plan.begin("box membership")
    membership = membership_for(scene, boxes, level, share)
    analysis = OverlapAnalysis.from_membership(membership)
    plan.begin("resolution")
    resolved = _resolve(scene, boxes, resolver, plan)
    separated = _foreground_stage(
        scene, boxes, foreground, resolved, membership if level == "point" else None, plan
    )
    fresh = _BeforeCorrections(
        membership, analysis, separated, apply_foreground(resolved, separated), resolved
    )
    return fresh, None


def _reusable(reuse: AnnotationResult | None, inputs: tuple, boxes: BoxSet) -> bool:
    """Whether ``reuse`` was computed from ``inputs`` (:func:`run_inputs`) for equal boxes, so that
    only its corrections stage need run again."""
    return (
        reuse is not None
        and reuse.uncorrected is not None
        and reuse.inputs == inputs
        and reuse.boxes == boxes
    )


def _resolve(scene: Scene, boxes: BoxSet, resolver: Resolver, plan: StagePlan) -> Resolution:
    """The resolver's resolution (all background without boxes); a resolver that takes a ``progress``
    argument reports to ``plan``'s "resolution" stage."""
    if not len(boxes):
        return empty_resolution(scene.num_points)
    if "progress" in inspect.signature(resolver.resolve).parameters:
        return resolver.resolve(scene, boxes, progress=plan.within("resolution"))
    return resolver.resolve(scene, boxes)


def _foreground_stage(
    scene: Scene,
    boxes: BoxSet,
    foreground: ForegroundStage | None,
    resolved: Resolution,
    point_membership: Membership | None,
    plan: StagePlan,
) -> Foreground:
    """What the ``foreground`` stage (None: off) takes out of the boxes of the resolver's result; a
    stage that finds the room's surfaces does so first (once per scan), as a stage of ``plan``."""
    stage = foreground or NoForeground()
    if hasattr(stage, "surfaces_of") and np.any(resolved.instance_ids >= 0):  # once per scan
        plan.begin("room surfaces")
        stage.surfaces_of(scene)
    plan.begin("foreground")
    return stage.separate(scene, boxes, resolved, point_membership)


def _corrections_stage(
    scene: Scene,
    boxes: BoxSet,
    resolver: Resolver,
    level: str,
    stages: _BeforeCorrections,
    corrections: Corrections | None,
    click_spread: str,
) -> tuple[Resolution, np.ndarray]:
    """The resolution with the annotator's corrections applied, and (N,) bool the points they decided
    (:func:`beep3d.resolve.corrections.apply_corrections`, in the resolver's class set)."""
    point_membership = stages.membership if level == "point" else None
    class_set = getattr(resolver, "class_set", None) or SCANNET18
    return apply_corrections(
        scene, boxes, stages.resolution, corrections, point_membership, click_spread, class_set
    )


def background_shares(
    boxes: BoxSet,
    foreground: Foreground,
    resolved: Resolution | None,
    resolution: Resolution,
    corrected: np.ndarray,
) -> np.ndarray:
    """(K,) float32 share of each box's points in the resolver's result (``resolved``) that the
    corrected ``resolution`` leaves to background: the ``foreground`` stage's ``box_share``, worked
    out again for the boxes some of whose points a correction decided (``corrected``: (N,) bool)."""
    shares = np.asarray(foreground.box_share, dtype=np.float32)
    if not corrected.any() or resolved is None or len(shares) != len(boxes):
        return shares
    positions = box_positions(resolved.instance_ids, boxes)
    touched = np.unique(positions[corrected & (positions >= 0)])
    if len(touched) == 0:
        return shares
    shares = shares.copy()
    now = shares_per_box(positions, np.asarray(resolution.instance_ids) < 0, len(boxes))
    shares[touched] = now[touched]
    return shares


def _diagnostics_stage(
    scene: Scene,
    boxes: BoxSet,
    level: str,
    stages: _BeforeCorrections,
    resolution: Resolution,
    corrected: np.ndarray,
    edited: EditedStages | None,
    reuse: AnnotationResult | None,
    background: np.ndarray,
) -> tuple[list[Problem], DiagnosisMemory, PointLabels]:
    """The problems, the diagnosis's memory and the display labels of the corrected ``resolution``
    (``background``: :func:`background_shares`, for the boxes that hold much background).

    After an in-place edit (``edited``) with nothing corrected, before (``reuse``) or now
    (``corrected``: (N,) bool), only the edit's points changed, and only they are diagnosed again.
    """
    first_box = None  # each point's first box: found from the membership unless the edit tells
    point_totals = None  # superpoint membership: a box holding points but no superpoint is not "empty"
    if level != "point" and np.any(stages.analysis.total == 0):
        point_totals = np.bincount(point_level_membership(scene, boxes).box_index, minlength=len(boxes))
    if (
        edited is not None
        and not corrected.any()
        and reuse.memory is not None
        and (reuse.labels.corrected is None or not reuse.labels.corrected.any())
    ):
        changed = edited.edit.changed
        points_of = box_points(scene, boxes, stages.membership, changed, level)
        problems, memory = diagnose_edit(
            boxes, stages.analysis, resolution, reuse.memory, changed, edited.touched, points_of, point_totals
        )
        first_box = first_box_after(reuse.labels.first_box, edited.edit)
    else:
        problems, memory = diagnose_edit(boxes, stages.analysis, resolution, point_totals=point_totals)
    problems += background_problems(boxes, stages.foreground, background)
    labels = point_labels(
        stages.membership, stages.analysis, resolution, stages.foreground, corrected, first_box
    )
    return problems, memory, labels


class _Same:
    """Equal to another only when it holds the very same object (an array's identity, kept alive so
    that its id is not reused by a new array)."""

    __slots__ = ("held",)

    def __init__(self, held: object) -> None:
        self.held = held

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.held is self.held

    def __hash__(self) -> int:
        return id(self.held)


def run_inputs(
    scene: Scene, resolver: Resolver, level: str, share: float, foreground: ForegroundStage | None
) -> tuple:
    """What a result was computed from, compared to tell whether a later call may reuse it: the scene
    (and its superpoints array), the resolver, the membership rule and the foreground stage."""
    return (id(scene), scene.num_points, _Same(scene.superpoints), id(resolver), level, share, id(foreground))
