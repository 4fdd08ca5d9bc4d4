"""Overlap analysis: which points lie in one box (P^l), several boxes (P^u) or none (background).

Membership can be decided per point, or per superpoint (GaPro's rule): a superpoint belongs to a box
when at least ``share`` of its points lie inside the box, and then all its points do. Superpoint
membership keeps large floor and wall segments, of which only a sliver lies inside an object's box,
out of the object, and completes objects whose box is drawn slightly too tight.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Literal

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership, MembershipEdit, concatenated_ranges
from beep3d.geometry.scene_superpoints import scene_superpoints
from beep3d.scene import Scene

MembershipLevel = Literal["point", "superpoint"]

#: Point categories in :attr:`OverlapAnalysis.category`.
BACKGROUND, SINGLE_BOX, MULTI_BOX = 0, 1, 2


def superpoint_membership(
    point_membership: Membership, superpoints: np.ndarray, share: float = 0.5
) -> Membership:
    """Lift point membership to superpoints.

    Parameters
    ----------
    point_membership
        Point-level (point, box) pairs.
    superpoints
        (N,) int superpoint id per point, dense 0..S-1.
    share
        A superpoint belongs to a box when at least this fraction (0..1] of its points lie inside it.

    Returns
    -------
    Membership
        (point, box) pairs where every point of a member superpoint belongs to the box, sorted by point.
    """
    if not 0.0 < share <= 1.0:
        raise Beep3dError(f"superpoint share must be in (0, 1], got {share}")
    superpoints = np.asarray(superpoints, dtype=np.int64)
    n, k = point_membership.num_points, point_membership.num_boxes
    if superpoints.shape != (n,):
        raise Beep3dError(f"superpoints must have one id per point ({n}), got shape {superpoints.shape}")
    if n == 0 or len(point_membership.point_index) == 0:
        return point_membership
    sizes = np.bincount(superpoints)
    pair_sp = superpoints[point_membership.point_index]
    keys, pair_counts = np.unique(pair_sp * k + point_membership.box_index, return_counts=True)
    sp_idx, box_idx = keys // k, keys % k
    keep = pair_counts >= share * sizes[sp_idx] - 1e-9
    sp_idx, box_idx = sp_idx[keep], box_idx[keep]
    # expand each member superpoint to its points
    order = np.argsort(superpoints, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    lengths = sizes[sp_idx]
    point_index = order[concatenated_ranges(starts[sp_idx], lengths)]
    box_index = np.repeat(box_idx, lengths)
    by_point = np.argsort(point_index, kind="stable")
    return Membership(point_index[by_point], box_index[by_point].astype(np.int64), n, k)


def superpoint_membership_edit(
    point_edit: MembershipEdit, previous: Membership, superpoints: np.ndarray, share: float = 0.5
) -> MembershipEdit:
    """The superpoint-level edit that goes with a point-level one (equal to :func:`superpoint_membership`).

    A superpoint's boxes depend only on its own points' boxes, so only the superpoints holding one
    of the point edit's points (``point_edit.points``: inside a changed box before or after) can
    change; their points' rows are found again and spliced into ``previous``.

    Parameters
    ----------
    point_edit
        The point-level edit (:meth:`beep3d.geometry.boxes.BoxSet.membership_edit`).
    previous
        :func:`superpoint_membership` of the boxes before the edit (same ``superpoints``, ``share``).
    superpoints, share
        As for :func:`superpoint_membership`.

    Returns
    -------
    MembershipEdit
        Its ``points`` are every point of the superpoints the edit reaches; ``changed`` is the point
        edit's.
    """
    superpoints = np.asarray(superpoints, dtype=np.int64)
    n, k = previous.num_points, previous.num_boxes
    reached = np.unique(superpoints[point_edit.points])
    points = np.flatnonzero(np.isin(superpoints, reached, kind="table")) if len(reached) else reached
    old_point, old_box = _rows_of(previous, points)
    now = point_edit.membership
    starts = np.searchsorted(now.point_index, points, side="left")
    inside = concatenated_ranges(starts, np.searchsorted(now.point_index, points, side="right") - starts)
    local = superpoints[points]
    _, sizes = np.unique(local, return_counts=True)  # ``points`` holds every point of each reached superpoint
    slot = np.searchsorted(reached, superpoints[now.point_index[inside]])
    keys, pair_counts = np.unique(slot * k + now.box_index[inside], return_counts=True)
    slot_of, box_of = keys // k, keys % k
    keep = pair_counts >= share * sizes[slot_of] - 1e-9
    kept_slot, kept_box = slot_of[keep], box_of[keep]
    # every point of a member superpoint gets the box: the points grouped by superpoint, then expanded
    by_slot = np.argsort(np.searchsorted(reached, local), kind="stable")
    slot_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    lengths = sizes[kept_slot]
    expanded = points[by_slot[concatenated_ranges(slot_starts[kept_slot], lengths)]]
    boxes_of = np.repeat(kept_box, lengths)
    order = np.lexsort((boxes_of, expanded))
    new_point, new_box = expanded[order].astype(np.int64), boxes_of[order].astype(np.int64)
    from beep3d.geometry.splice import splice_rows  # numba: imported when an edit needs it

    point_index, box_index = splice_rows(previous.point_index, previous.box_index, points, new_point, new_box)
    return MembershipEdit(
        Membership(point_index, box_index, n, k),
        point_edit.changed,
        points,
        old_point,
        old_box,
        new_point,
        new_box,
    )


def _rows_of(membership: Membership, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (point, box) pairs of the sorted ``points`` in ``membership`` (sorted by point, then box)."""
    starts = np.searchsorted(membership.point_index, points, side="left")
    rows = concatenated_ranges(starts, np.searchsorted(membership.point_index, points, side="right") - starts)
    return membership.point_index[rows], membership.box_index[rows]


_LAST: dict[int, tuple[weakref.ref, BoxSet, Membership]] = {}
_LAST_LOCK = threading.Lock()


def point_membership(scene: Scene, boxes: BoxSet) -> Membership:
    """Point-level membership of ``boxes`` in ``scene``, remembering the last one per scene.

    Asking again for the same boxes returns the remembered result (the pipeline, the resolver and the
    foreground stage all ask); after an edit that changes a few boxes in place, only those boxes are
    recomputed (:meth:`beep3d.geometry.boxes.BoxSet.updated_membership`).
    """
    with _LAST_LOCK:
        for ident in [i for i, (ref, _, _) in _LAST.items() if ref() is None]:
            del _LAST[ident]
        last = _LAST.get(id(scene))
    membership = None
    if last is not None and last[0]() is scene:
        if last[1] == boxes:
            return last[2]
        membership = boxes.updated_membership(last[2], last[1], scene.point_index)
    if membership is None:
        membership = boxes.membership(scene.xyz, index=scene.point_index)
    with _LAST_LOCK:
        _LAST[id(scene)] = (weakref.ref(scene), boxes, membership)
    return membership


def remember_membership(scene: Scene, boxes: BoxSet, membership: Membership) -> None:
    """Remember ``membership`` as that of ``boxes`` in ``scene`` (the next :func:`point_membership` returns it)."""
    with _LAST_LOCK:
        _LAST[id(scene)] = (weakref.ref(scene), boxes, membership)


def remembered_membership(scene: Scene) -> tuple[BoxSet, Membership] | None:
    """The boxes and membership last remembered for ``scene`` (None: nothing)."""
    with _LAST_LOCK:
        last = _LAST.get(id(scene))
    if last is None or last[0]() is not scene:
        return None
    return last[1], last[2]


def forget_membership(scene: Scene) -> None:
    """Drop the membership remembered for ``scene`` (the next query computes it from scratch)."""
    with _LAST_LOCK:
        _LAST.pop(id(scene), None)


def membership_for(
    scene: Scene,
    boxes: BoxSet,
    level: MembershipLevel = "point",
    share: float = 0.5,
) -> Membership:
    """Box membership of the scene's points at point or superpoint level.

    Superpoint level uses ``scene.superpoints``, computing them once (and storing them on the scene)
    when absent.
    """
    point_level = point_membership(scene, boxes)
    if level == "point":
        return point_level
    if level != "superpoint":
        raise Beep3dError(f"unknown membership level {level!r}; use 'point' or 'superpoint'")
    return superpoint_membership(point_level, scene_superpoints(scene), share)


@dataclass(frozen=True)
class OverlapAnalysis:
    """Per-point and per-box overlap figures.

    Attributes
    ----------
    counts
        (N,) int32 number of boxes containing each point.
    category
        (N,) int8: 0 background, 1 inside exactly one box (P^l), 2 inside two or more (P^u).
    exclusive
        (K,) int64 points inside this box only.
    shared
        (K,) int64 points inside this box and at least one other.
    total
        (K,) int64 points inside this box.
    membership
        The membership the figures were computed from.
    """

    counts: np.ndarray
    category: np.ndarray
    exclusive: np.ndarray
    shared: np.ndarray
    total: np.ndarray
    membership: Membership

    @staticmethod
    def from_membership(membership: Membership) -> OverlapAnalysis:
        """Compute the figures from (point, box) pairs."""
        counts = membership.counts()
        category = np.minimum(counts, 2).astype(np.int8)
        k = membership.num_boxes
        total = np.bincount(membership.box_index, minlength=k).astype(np.int64)
        single = counts[membership.point_index] == 1
        exclusive = np.bincount(membership.box_index[single], minlength=k).astype(np.int64)
        return OverlapAnalysis(counts, category, exclusive, total - exclusive, total, membership)

    def updated(self, edit: MembershipEdit) -> OverlapAnalysis:
        """The figures after an in-place edit of a few boxes, from these (equal to :meth:`from_membership`).

        Only the edit's points (``edit.points``) change their counts; the per-box figures change by
        those points' pairs.
        """
        points = edit.points
        k = len(self.total)
        counts = self.counts.copy()
        new_counts = np.bincount(np.searchsorted(points, edit.new_point), minlength=len(points))
        counts[points] = new_counts
        category = self.category.copy()
        category[points] = np.minimum(new_counts, 2)
        old_single = self.counts[edit.old_point] == 1
        new_single = counts[edit.new_point] == 1
        total = self.total + np.bincount(edit.new_box, minlength=k) - np.bincount(edit.old_box, minlength=k)
        exclusive = (
            self.exclusive
            + np.bincount(edit.new_box[new_single], minlength=k)
            - np.bincount(edit.old_box[old_single], minlength=k)
        )
        return OverlapAnalysis(counts, category, exclusive, total - exclusive, total, edit.membership)

    @property
    def num_single(self) -> int:
        """|P^l|: points inside exactly one box."""
        return int(np.count_nonzero(self.category == SINGLE_BOX))

    @property
    def num_multi(self) -> int:
        """|P^u|: points inside two or more boxes."""
        return int(np.count_nonzero(self.category == MULTI_BOX))

    @property
    def multi_share_of_boxed(self) -> float:
        """Share of points inside any box that lie inside two or more (0 when no point is boxed)."""
        boxed = self.num_single + self.num_multi
        return self.num_multi / boxed if boxed else 0.0
