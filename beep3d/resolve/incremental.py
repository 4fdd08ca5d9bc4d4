"""The pipeline after an in-place edit of a few boxes: only the points the edit can change are redone.

An edit that moves, resizes, turns or relabels a few boxes (same ids, same order) changes the boxes
of the points inside those boxes before or after it (the edit's points), and nothing else; with
superpoint membership, of the points of the superpoints holding one of them. A rule
resolver decides a point from the boxes containing it, so only the edit's points are resolved
again; the teacher decodes again the queries of the boxes holding them and decides those points
again (:mod:`beep3d.resolve.teacher_edits`; the resolver says which points it redid). The
foreground stage redoes the boxes whose points changed; the display arrays and the diagnostics are
updated at the points that changed. With the rules each stage's result equals a full recompute
(property tests in ``tests/resolve/test_incremental_pipeline.py``; the teacher's differs where its
module says); a stage that cannot tell falls back to :func:`beep3d.resolve.pipeline.annotate`'s
full path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beep3d.geometry.boxes import BoxSet, Membership, MembershipEdit
from beep3d.geometry.overlap import (
    OverlapAnalysis,
    remember_membership,
    remembered_membership,
    superpoint_membership_edit,
)
from beep3d.resolve.foreground import Foreground, NoForeground, apply_foreground
from beep3d.resolve.resolution import DECIDED_BY_FOREGROUND, Resolution
from beep3d.scene import Scene


@dataclass(frozen=True)
class EditedStages:
    """The stages before the corrections, after an in-place edit.

    Attributes
    ----------
    edit
        How the membership changed (the changed boxes and the edit's points).
    analysis
        The overlap analysis after the edit.
    resolved
        The resolver's own result (before the foreground stage).
    foreground
        The foreground stage's result.
    resolution
        ``resolved`` with the foreground stage applied.
    touched
        (E,) int64 sorted points whose membership, resolution or foreground may differ from the
        previous result's (the resolver's redone points and the foreground stage's); every other
        point's values are the previous ones.
    """

    edit: MembershipEdit
    analysis: OverlapAnalysis
    resolved: Resolution
    foreground: Foreground
    resolution: Resolution
    touched: np.ndarray


def edit_stages(
    scene: Scene,
    boxes: BoxSet,
    resolver: object,
    level: str,
    share: float,
    stage: object | None,
    previous: object | None,
    inputs: tuple,
) -> EditedStages | None:
    """Membership, analysis, resolution and foreground after an in-place edit of ``previous``'s boxes.

    Parameters
    ----------
    scene, boxes, resolver, level, share
        As for :func:`beep3d.resolve.pipeline.annotate`.
    stage
        Its ``foreground``.
    previous
        The previous :class:`beep3d.resolve.pipeline.AnnotationResult`.
    inputs
        The new call's inputs (scene, resolver, membership rule, stage), compared with ``previous``'s.

    Returns
    -------
    EditedStages or None
        None when this edit cannot be done incrementally: no previous result or other inputs (the
        scene's superpoints replaced among them), a resolver without ``resolve_edit`` or of another
        membership rule (level or share) than the call's, superpoint membership
        without the previous boxes' point membership remembered, or an edit that adds, deletes or
        reorders boxes or changes many.
    """
    if (
        previous is None
        or previous.inputs != inputs
        or previous.resolved is None
        or not hasattr(resolver, "resolve_edit")
        or getattr(resolver, "level", None) != level
        or getattr(resolver, "share", share) != share
    ):
        return None
    edited = _membership_edit(scene, boxes, level, share, previous)
    if edited is None:
        return None
    edit, point_level = edited
    remember_membership(scene, boxes, point_level)
    analysis = previous.analysis.updated(edit)
    resolved, redone = resolver.resolve_edit(scene, boxes, previous.resolved, edit)
    stage = stage or NoForeground()
    if isinstance(stage, NoForeground):
        return EditedStages(
            edit, analysis, resolved, Foreground.nothing(scene.num_points, len(boxes)), resolved, redone
        )
    members = None if level == "point" else edit.membership
    separated, touched = _edited_foreground(
        scene, boxes, stage, resolved, redone, edit.changed, point_level, members, previous.foreground
    )
    if resolved.decided_by is None or previous.uncorrected is None:
        resolution = apply_foreground(resolved, separated)
    else:
        resolution = _foreground_applied(previous.uncorrected, resolved, separated, touched)
    return EditedStages(edit, analysis, resolved, separated, resolution, touched)


def _membership_edit(
    scene: Scene, boxes: BoxSet, level: str, share: float, previous: object
) -> tuple[MembershipEdit, Membership] | None:
    """How the membership at ``level`` changed from ``previous``'s boxes to ``boxes``, and the new
    point-level membership; None when the edit is not one of a few boxes in place, or (superpoint
    level) the previous boxes' point membership is not remembered."""
    if level == "point":
        edit = boxes.membership_edit(previous.membership, previous.boxes, scene.point_index)
        if edit is None:
            return None
        return edit, edit.membership
    remembered = remembered_membership(scene)
    if remembered is None or scene.superpoints is None or remembered[0] != previous.boxes:
        return None
    point_edit = boxes.membership_edit(remembered[1], previous.boxes, scene.point_index)
    if point_edit is None:
        return None
    edit = superpoint_membership_edit(point_edit, previous.membership, scene.superpoints, share)
    return edit, point_edit.membership


def _edited_foreground(
    scene: Scene,
    boxes: BoxSet,
    stage: object,
    resolved: Resolution,
    redone: np.ndarray,
    changed: np.ndarray,
    point_level: Membership,
    members: Membership | None,
    before: Foreground,
) -> tuple[Foreground, np.ndarray]:
    """The foreground stage's result after the edit, and the sorted points whose resolution or
    foreground may differ from before (``redone``: the resolver's; ``changed``: the changed boxes'
    positions; ``members``: the membership at superpoint level, None at point level; ``before``: the
    stage's previous result). A stage that cannot redo only the edit's boxes runs in full."""
    done = None
    if hasattr(stage, "separate_edit"):
        done = stage.separate_edit(scene, boxes, resolved, before, changed, redone, members)
    if done is not None:
        return done
    separated = stage.separate(scene, boxes, resolved, point_level)
    differs = np.flatnonzero(
        (separated.reason != before.reason) | (separated.confidence != before.confidence)
    )
    return separated, np.union1d(redone, differs)


def _foreground_applied(
    before: Resolution, resolved: Resolution, separated: Foreground, touched: np.ndarray
) -> Resolution:
    """:func:`apply_foreground` of ``resolved``, computed at ``touched`` only (elsewhere ``before``'s)."""
    leaving = separated.reason[touched] != 0
    instance_ids = before.instance_ids.copy()
    instance_ids[touched] = np.where(leaving, -1, resolved.instance_ids[touched])
    semantic_ids = before.semantic_ids.copy()
    semantic_ids[touched] = np.where(leaving, -1, resolved.semantic_ids[touched])
    confidence = before.confidence.copy()
    confidence[touched] = np.where(leaving, separated.confidence[touched], resolved.confidence[touched])
    decided_by = before.decided_by.copy()
    decided_by[touched] = np.where(leaving, DECIDED_BY_FOREGROUND, resolved.decided_by[touched])
    return Resolution(instance_ids, semantic_ids, confidence, resolved.overlap_counts, decided_by)


def first_box_after(before: np.ndarray, edit: MembershipEdit) -> np.ndarray:
    """(N,) int32 position of each point's first box after ``edit``, from the one before (``before``)."""
    first_box = before.copy()
    points = edit.points
    starts = np.searchsorted(edit.new_point, points, side="left")
    stops = np.searchsorted(edit.new_point, points, side="right")
    first = np.full(len(points), -1, dtype=np.int64)
    inside = stops > starts
    first[inside] = edit.new_box[starts[inside]]
    first_box[points] = first
    return first_box


def box_points(
    scene: Scene, boxes: BoxSet, membership: Membership, changed: np.ndarray, level: str = "point"
):
    """Sorted points of the box at a position (point level: the grid for the changed boxes, else
    ``membership``; superpoint level: ``membership``)."""

    def points_of(position: int) -> np.ndarray:
        if level == "point" and position in changed:
            return boxes.points_in(position, scene.point_index)
        return membership.points_of(position)

    return points_of
