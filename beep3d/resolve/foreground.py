"""The foreground stage: points inside a box that are not its object leave the box's mask.

A box around a chair also holds the floor under it, the wall behind it and any unboxed clutter
inside it; every point in exactly one box would otherwise go to that box. After the overlaps are
resolved, this stage looks at the points each box got and sends those that are not the box's object
to background (instance -1), each with a confidence. Three modes, one per class:

- ``off`` (:class:`NoForeground`): boxes keep every point they hold (the 2022 box-mask rule).
- ``geometric`` (:class:`GeometricForeground`), for every resolver: points on the room's floor,
  walls and ceiling (:mod:`beep3d.geometry.room_surfaces`) leave the box, when the surface patch
  (superpoint) they are part of runs beyond the box. A patch wholly inside the box stays: it is a
  part of the object that lies on the surface (a bookshelf's back panel, a chair back against the
  wall, a flat base on the floor). A box whose points lie mostly on surfaces (more than
  ``max_surface_share``, 0.5) keeps them all: its object lies in the surface (a door, a window, a
  picture, a whiteboard), and emptying it would be worse. Boxes of classes that lie in walls
  (:data:`WALL_OBJECTS`: doors, windows, curtains) keep their wall points whatever the share.

  Measured on the real ScanNet training rooms and on synthetic rooms (the validation rooms were
  not used for these choices), mean instance IoU of smallest-box masks: real 0.698 off, 0.735
  surface points only, 0.732 with the patch rule; synthetic 0.871 off, 0.840 surface points only
  (synthetic furniture stands flush against the walls), 0.899 with the patch rule.
- ``model`` (:class:`ModelForeground`): the teacher network's own mask for each box's query
  decides: a point whose mask probability for its box is below ``threshold`` leaves it.

The stage never moves a point to another box and never adds points to a box.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.geometry.overlap import point_membership
from beep3d.geometry.room_surfaces import (
    DEFAULT_AGREEMENT,
    DEFAULT_TOLERANCE,
    SURFACE_KINDS,
    SurfacePoints,
    room_of,
)
from beep3d.resolve.resolution import DECIDED_BY_FOREGROUND, Resolution
from beep3d.scene import Scene

if TYPE_CHECKING:
    from beep3d.resolve.teacher_resolver import TeacherResolver

#: The modes of the stage, for command lines and menus.
FOREGROUND_MODES = ("off", "geometric", "model")
#: Why a point left its box (the ``reason`` array of :class:`Foreground`); 0: it did not.
BACKGROUND_REASONS = ("object", "floor", "wall", "ceiling", "network")
REASON_OBJECT, REASON_FLOOR, REASON_WALL, REASON_CEILING, REASON_NETWORK = range(len(BACKGROUND_REASONS))
#: A box with more of its points than this on room surfaces keeps them (geometric mode).
DEFAULT_MAX_SURFACE_SHARE = 0.5
#: Geometric mode: a surface patch with at least this share of its points inside the box is the object's.
WHOLE_PATCH = 0.99
#: Geometric mode: classes whose objects lie in a wall keep the wall points of their boxes. Measured
#: with smallest-box masks on the real training rooms: mean instance IoU 0.746 -> 0.753 (doors and
#: curtains gain, windows neither way; pictures and boards stand out of the wall as their own patches
#: and gain nothing, so they are not in the set); on the validation rooms teacher 0.672 -> 0.674,
#: smallest-box 0.659 -> 0.661.
WALL_OBJECTS = frozenset({"door", "window", "curtain", "shower curtain"})
#: Model mode: points whose mask probability for their box is below this leave it. Chosen on the
#: validation rooms 0002_00/01 with the shipped teacher among 0.01, 0.03 and 0.1: every one lowers
#: mean instance IoU (0.627 off; 0.576 at 0.01, 0.477 at 0.03, lower still at 0.1), 0.01 the least. That teacher's masks were
#: trained on box-shaped targets, which hold the floor; see the README's "Masks tighter than boxes".
DEFAULT_MODEL_THRESHOLD = 0.01


@dataclass(frozen=True)
class Foreground:
    """What the foreground stage took out of the boxes.

    Attributes
    ----------
    reason
        (N,) int8 code of :data:`BACKGROUND_REASONS`: why the point left its box; 0 for points that
        stayed and for points no box got.
    confidence
        (N,) float32 in [0, 1]: how sure the stage is that a point that left is not the object; 0
        for the others.
    box_share
        (K,) float32 share of each box's resolved points that left it (0 for boxes with none).
    kept_surface
        (K,) bool: boxes lying in a room surface, which kept their surface points (geometric mode).
    """

    reason: np.ndarray
    confidence: np.ndarray
    box_share: np.ndarray
    kept_surface: np.ndarray

    @property
    def background(self) -> np.ndarray:
        """(N,) bool: the point was inside a box and left it."""
        return self.reason != REASON_OBJECT

    @classmethod
    def nothing(cls, num_points: int, num_boxes: int) -> Foreground:
        """Every box keeps every point."""
        return cls(
            np.zeros(num_points, np.int8),
            np.zeros(num_points, np.float32),
            np.zeros(num_boxes, np.float32),
            np.zeros(num_boxes, bool),
        )


class ForegroundStage(Protocol):
    """Decides which of the points each box got are not its object."""

    name: str

    def separate(
        self, scene: Scene, boxes: BoxSet, resolution: Resolution, membership: Membership | None = None
    ) -> Foreground:
        """The points of ``resolution``'s boxes that are background, with their reasons.

        ``membership`` is the boxes' point-level membership when the caller has it (saves recomputing).
        """
        ...


def box_positions(instance_ids: np.ndarray, boxes: BoxSet) -> np.ndarray:
    """(N,) int64 position in ``boxes`` of each point's box id, -1 for background."""
    ids = np.asarray(instance_ids, dtype=np.int64)
    if len(boxes) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    largest = int(boxes.ids.max())
    if 0 <= int(boxes.ids.min()) and largest <= 4 * len(ids) + 1024:  # a lookup table: one gather
        table = np.full(largest + 2, -1, dtype=np.int64)
        table[boxes.ids] = np.arange(len(boxes))
        return table[np.where((ids >= 0) & (ids <= largest), ids, largest + 1)]
    order = np.argsort(boxes.ids, kind="stable")
    sorted_ids = boxes.ids[order]
    slot = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    found = (ids >= 0) & (sorted_ids[slot] == ids)
    return np.where(found, order[slot], -1).astype(np.int64)


def shares_per_box(positions: np.ndarray, leaving: np.ndarray, num_boxes: int) -> np.ndarray:
    """(K,) float32 share of each box's points (``positions``, -1 none) flagged in ``leaving``."""
    totals = np.bincount(positions + 1, minlength=num_boxes + 1)[1:]  # slot 0: points in no box
    left = np.bincount(np.where(leaving, positions + 1, 0), minlength=num_boxes + 1)[1:]
    return (left / np.maximum(totals, 1)).astype(np.float32)


def superpoint_share_in_box(
    scene: Scene,
    boxes: BoxSet,
    positions: np.ndarray,
    subset: np.ndarray | None = None,
    membership: Membership | None = None,
    boxes_asked: np.ndarray | None = None,
) -> np.ndarray:
    """Share of each point's superpoint that lies inside the box the point was given to.

    Parameters
    ----------
    scene
        The scan; its superpoints are computed once and kept on it when it has none.
    boxes
        The boxes (K).
    positions
        (N,) int64 position in ``boxes`` of each point's box, -1 for none (share 0).
    subset
        (N,) bool: only these points are asked about (the work is done for their superpoints only).
    membership
        The boxes' point-level membership when already known (else computed here).
    boxes_asked
        (K,) bool: the asked points' boxes are among these (only their pairs are counted).

    Returns
    -------
    np.ndarray
        (M,) float64 share in [0, 1] for the M points of ``subset`` (all N points when None).
    """
    if scene.superpoints is None:
        from beep3d.geometry.superpoints import compute_superpoints

        scene.superpoints = compute_superpoints(scene)
    superpoints = np.asarray(scene.superpoints, dtype=np.int64)
    asked = np.arange(len(positions)) if subset is None else np.flatnonzero(subset)
    if len(asked) == 0 or len(boxes) == 0:
        return np.zeros(len(asked))
    k = len(boxes)
    sizes = np.bincount(superpoints)
    relevant = np.zeros(len(sizes), dtype=bool)
    relevant[superpoints[asked]] = True
    if membership is None:
        membership = point_membership(scene, boxes)
    # count (superpoint, box) pairs only for the asked points' superpoints, numbered compactly
    compact = np.full(len(sizes), -1, dtype=np.int64)
    compact[relevant] = np.arange(int(relevant.sum()))
    pair_points, pair_boxes = membership.point_index, membership.box_index
    if boxes_asked is not None:
        in_asked = boxes_asked[pair_boxes]
        pair_points, pair_boxes = pair_points[in_asked], pair_boxes[in_asked]
    pair_compact = compact[superpoints[pair_points]]
    keep = pair_compact >= 0
    pair_keys = pair_compact[keep] * k + pair_boxes[keep]
    wanted = compact[superpoints[asked]] * k + np.maximum(positions[asked], 0)
    if int(relevant.sum()) * k <= 20_000_000:  # a dense count table
        counts = np.bincount(pair_keys, minlength=int(relevant.sum()) * k)[wanted]
    else:
        keys, key_counts = np.unique(pair_keys, return_counts=True)
        if len(keys) == 0:
            return np.zeros(len(asked))
        slot = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
        counts = np.where(keys[slot] == wanted, key_counts[slot], 0)
    counts = np.where(positions[asked] >= 0, counts, 0)
    return counts / np.maximum(sizes[superpoints[asked]], 1)


def apply_foreground(resolution: Resolution, foreground: Foreground) -> Resolution:
    """The resolution with the stage's background points taken out of their boxes.

    Those points get instance and semantic id -1, the stage's confidence and the decider code
    :data:`beep3d.resolve.resolution.DECIDED_BY_FOREGROUND`; every other point is unchanged.
    """
    leaving = foreground.background
    if not leaving.any():
        return resolution
    decided_by = (
        np.zeros(len(leaving), np.int8) if resolution.decided_by is None else resolution.decided_by.copy()
    )
    decided_by[leaving] = DECIDED_BY_FOREGROUND
    return replace(
        resolution,
        instance_ids=np.where(leaving, -1, resolution.instance_ids).astype(np.int32),
        semantic_ids=np.where(leaving, -1, resolution.semantic_ids).astype(np.int32),
        confidence=np.where(leaving, foreground.confidence, resolution.confidence).astype(np.float32),
        decided_by=decided_by,
    )


class NoForeground:
    """Mode ``off``: every box keeps every point it got."""

    name = "off"

    def separate(
        self, scene: Scene, boxes: BoxSet, resolution: Resolution, membership: Membership | None = None
    ) -> Foreground:
        return Foreground.nothing(scene.num_points, len(boxes))


class GeometricForeground:
    """Mode ``geometric``: floor, wall and ceiling points leave their boxes (see the module notes).

    The room surfaces and the points on them are found once per scene (the first call for a scene
    costs 0.5-3 s at 50k points; later calls only count per box). The stage remembers its last
    result: after an edit of a few boxes (same ids), only the boxes that changed or whose points
    changed are redone; every other box keeps its points and geometry, so its result stands.

    Parameters
    ----------
    tolerance, agreement
        Of :func:`beep3d.geometry.room_surfaces.surface_points`.
    max_surface_share
        A box with a larger share of its points on surfaces keeps them, in (0, 1].
    wall_objects
        Box classes whose objects lie in a wall (doors, windows, curtains): their boxes keep the
        points on walls, which the surface test cannot tell from the object.
    seed
        RANSAC seed of the plane search.
    """

    name = "geometric"

    def __init__(
        self,
        tolerance: float = DEFAULT_TOLERANCE,
        agreement: float = DEFAULT_AGREEMENT,
        max_surface_share: float = DEFAULT_MAX_SURFACE_SHARE,
        seed: int = 0,
        wall_objects: frozenset[str] = WALL_OBJECTS,
    ) -> None:
        if not 0.0 < max_surface_share <= 1.0:
            raise Beep3dError(f"max_surface_share must be in (0, 1], got {max_surface_share}")
        self.tolerance = tolerance
        self.agreement = agreement
        self.max_surface_share = max_surface_share
        self.seed = seed
        self.wall_objects = frozenset(wall_objects)
        self._last: tuple | None = None  # (scene ref, boxes, positions, result, superpoints) of the last call

    @property
    def room_settings(self) -> tuple[float, float, int]:
        """(tolerance m, agreement, seed): the arguments :func:`room_of` finds this stage's room with."""
        return (self.tolerance, self.agreement, self.seed)

    def surfaces_of(self, scene: Scene) -> SurfacePoints:
        """The points of ``scene`` on its floor, walls and ceiling (computed once per scene)."""
        return room_of(scene, *self.room_settings).points

    def separate(
        self, scene: Scene, boxes: BoxSet, resolution: Resolution, membership: Membership | None = None
    ) -> Foreground:
        positions = box_positions(resolution.instance_ids, boxes)
        if not np.any(positions >= 0):
            self._last = None
            return Foreground.nothing(scene.num_points, len(boxes))
        asked = self._boxes_to_redo(scene, boxes, positions)
        base = None if asked is None else self._last[3]
        if asked is None:
            asked = np.ones(len(boxes), dtype=bool)
        previous = None if base is None else self._last[2]
        result = self._separate_boxes(scene, boxes, positions, membership, asked, base, previous)
        self._last = (weakref.ref(scene), boxes, positions, result, scene.superpoints)
        return result

    def separate_edit(
        self,
        scene: Scene,
        boxes: BoxSet,
        resolution: Resolution,
        previous: Foreground,
        changed_boxes: np.ndarray,
        changed_points: np.ndarray,
        members: Membership | None = None,
    ) -> tuple[Foreground, np.ndarray] | None:
        """:meth:`separate` after an in-place edit, touching only the points of the boxes it redoes.

        Parameters
        ----------
        scene, boxes, resolution
            As for :meth:`separate` (point-level membership).
        previous
            This stage's last result (of the boxes before the edit, with the same ids).
        changed_boxes
            (C,) int64 positions of the boxes the edit changed.
        changed_points
            (D,) int64 sorted points whose resolved box may differ from the last call's.
        members
            The resolution's membership when it is not point-level (superpoint membership gives a
            box points outside it): the points of the redone boxes are taken from it too.

        Returns
        -------
        (Foreground, np.ndarray) or None
            The result (equal to :meth:`separate`'s) and the sorted points whose reason or confidence
            may differ from ``previous``'s; None when the stage cannot tell (its last call was not
            ``previous``, or the edit reaches too many boxes): call :meth:`separate`.
        """
        last = self._last
        if (
            last is None
            or last[0]() is not scene
            or last[3] is not previous
            or len(last[1]) != len(boxes)
            or last[4] is not scene.superpoints  # other surface patches: every box again
        ):
            return None
        k = len(boxes)
        positions = last[2].copy()
        positions[changed_points] = box_positions(resolution.instance_ids[changed_points], boxes)
        before = last[2][changed_points]
        after = positions[changed_points]
        moved = before != after
        redo = np.zeros(k + 1, dtype=bool)  # slot 0: points in no box
        redo[np.asarray(changed_boxes, dtype=np.int64) + 1] = True
        redo[before[moved] + 1] = True
        redo[after[moved] + 1] = True
        redo = redo[1:]
        asked = np.flatnonzero(redo)
        if len(asked) > max(8, k // 4):
            return None
        index = scene.point_index
        extents = [boxes.points_in(int(p), index) for p in asked]
        # every point given to a redone box, before or after, is one of its members now or was one
        # of a changed box before (those are among ``changed_points``)
        given = [] if members is None else [members.points_of(int(p)) for p in asked]
        touched = np.unique(np.concatenate([np.zeros(0, np.int64), changed_points, *extents, *given]))
        surfaces = self.surfaces_of(scene)
        lookup = np.concatenate([[False], redo])
        here = positions[touched]
        mine = lookup[here + 1]
        on_surface = (
            surfaces.on_surface[touched] & mine & ~self._in_their_wall(boxes, here, surfaces.kind[touched])
        )
        if on_surface.any():
            on_surface[on_surface] = (
                self._patch_shares(scene, touched[on_surface], here[on_surface], asked, extents) < WHOLE_PATCH
            )
        ours = np.where(mine, here + 1, 0)
        totals = np.bincount(ours, minlength=k + 1)[1:]
        on_counts = np.bincount(np.where(on_surface, here + 1, 0), minlength=k + 1)[1:]
        kept_surface = previous.kept_surface.copy()
        kept_surface[asked] = (on_counts / np.maximum(totals, 1))[asked] > self.max_surface_share
        leaving = on_surface & ~kept_surface[np.maximum(here, 0)]
        left_counts = np.bincount(np.where(leaving, here + 1, 0), minlength=k + 1)[1:]
        box_share = previous.box_share.copy()
        box_share[asked] = (left_counts / np.maximum(totals, 1))[asked]
        reason, confidence = previous.reason.copy(), previous.confidence.copy()
        was_mine = touched[lookup[last[2][touched] + 1]]
        reason[was_mine], confidence[was_mine] = REASON_OBJECT, 0.0
        gone = touched[leaving]
        reason[gone] = surfaces.kind[gone].astype(np.int16) + 1
        confidence[gone] = surfaces.confidence[gone]
        result = Foreground(reason, confidence, box_share, kept_surface)
        self._last = (last[0], boxes, positions, result, last[4])
        return result, touched

    def _in_their_wall(self, boxes: BoxSet, positions: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """Mask of the points on a wall given to a box whose class lies in walls (they are its object)."""
        in_walls = np.array([label in self.wall_objects for label in boxes.labels], dtype=bool)
        if not in_walls.any():
            return np.zeros(len(positions), dtype=bool)
        return (positions >= 0) & in_walls[np.maximum(positions, 0)] & (kinds == SURFACE_KINDS.index("wall"))

    def _patch_shares(
        self,
        scene: Scene,
        points: np.ndarray,
        given: np.ndarray,
        asked: np.ndarray,
        extents: list[np.ndarray],
    ) -> np.ndarray:
        """Share of each of ``points``' superpoint inside the box it was given to (``given``: positions).

        Equal to :func:`superpoint_share_in_box` for boxes among ``asked`` whose points are ``extents``.
        """
        if scene.superpoints is None:
            from beep3d.geometry.superpoints import compute_superpoints

            scene.superpoints = compute_superpoints(scene)
        superpoints = np.asarray(scene.superpoints, dtype=np.int64)
        sizes = self._superpoint_sizes(scene, superpoints)
        slot = np.searchsorted(asked, given)
        pair_keys = np.concatenate(
            [np.zeros(0, np.int64), *(superpoints[e] * len(asked) + i for i, e in enumerate(extents))]
        )
        keys, key_counts = np.unique(pair_keys, return_counts=True)
        wanted = superpoints[points] * len(asked) + slot
        found = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
        counts = np.where(keys[found] == wanted, key_counts[found], 0) if len(keys) else np.zeros(len(points))
        return counts / np.maximum(sizes[superpoints[points]], 1)

    def _superpoint_sizes(self, scene: Scene, superpoints: np.ndarray) -> np.ndarray:
        """(S,) points per superpoint of ``scene`` (counted once per scene and superpoint array)."""
        cached = getattr(self, "_sizes", None)
        if cached is not None and cached[0]() is scene and cached[1] is scene.superpoints:
            return cached[2]
        sizes = np.bincount(superpoints)
        self._sizes = (weakref.ref(scene), scene.superpoints, sizes)
        return sizes

    def _boxes_to_redo(self, scene: Scene, boxes: BoxSet, positions: np.ndarray) -> np.ndarray | None:
        """(K,) bool boxes whose points need the stage again after an in-place edit; None: all of them.

        A box is redone when it changed, or when a point joined or left it. Every other box keeps
        its points and its geometry, so its surface points, patch shares and share stay as they were.
        """
        last = getattr(self, "_last", None)
        if (
            last is None
            or last[0]() is not scene
            or len(last[1]) != len(boxes)
            or last[4] is not scene.superpoints
        ):
            return None
        if not np.array_equal(last[1].ids, boxes.ids):
            return None
        redo = np.zeros(len(boxes) + 1, dtype=bool)  # slot 0: points in no box
        changed = [i for i, (a, b) in enumerate(zip(last[1], boxes, strict=True)) if a != b]
        redo[np.asarray(changed, dtype=np.int64) + 1] = True
        moved = positions != last[2]
        redo[last[2][moved] + 1] = True
        redo[positions[moved] + 1] = True
        redo = redo[1:]
        return redo if redo.sum() <= max(8, len(boxes) // 4) else None

    def _separate_boxes(
        self,
        scene: Scene,
        boxes: BoxSet,
        positions: np.ndarray,
        membership: Membership | None,
        asked: np.ndarray,
        base: Foreground | None,
        previous: np.ndarray | None,
    ) -> Foreground:
        """The stage for the points of the boxes ``asked``; the others are taken from ``base``."""
        k = len(boxes)
        surfaces = self.surfaces_of(scene)
        lookup = np.concatenate([[False], asked])
        mine = lookup[positions + 1]  # points given to an asked box
        on_surface = surfaces.on_surface & mine & ~self._in_their_wall(boxes, positions, surfaces.kind)
        if on_surface.any():
            on_surface[on_surface] = (
                superpoint_share_in_box(scene, boxes, positions, on_surface, membership, asked) < WHOLE_PATCH
            )
        ours = np.where(mine, positions + 1, 0)
        totals = np.bincount(ours, minlength=k + 1)[1:]
        on_counts = np.bincount(np.where(on_surface, positions + 1, 0), minlength=k + 1)[1:]
        kept_surface = np.zeros(k, bool) if base is None else base.kept_surface.copy()
        kept_surface[asked] = (on_counts / np.maximum(totals, 1))[asked] > self.max_surface_share
        leaving = on_surface & ~kept_surface[np.maximum(positions, 0)]
        left_counts = np.bincount(np.where(leaving, positions + 1, 0), minlength=k + 1)[1:]
        box_share = np.zeros(k, np.float32) if base is None else base.box_share.copy()
        box_share[asked] = (left_counts / np.maximum(totals, 1))[asked]
        if base is None:
            reason = np.zeros(len(positions), np.int8)
            confidence = np.zeros(len(positions), np.float32)
        else:
            reason, confidence = base.reason.copy(), base.confidence.copy()
            was_mine = lookup[previous + 1]  # their old values are stale
            reason[was_mine], confidence[was_mine] = REASON_OBJECT, 0.0
        reason[leaving] = surfaces.kind[leaving].astype(np.int16) + 1
        confidence[leaving] = surfaces.confidence[leaving]
        return Foreground(reason, confidence, box_share, kept_surface)


class ModelForeground:
    """Mode ``model``: the teacher's mask for each box's query decides which of its points are the object.

    Works under any resolver: the teacher's decoder runs once more with a query at every box centre
    (the scene encoding is cached), and a point whose sigmoid mask probability for the box it was
    resolved to is below ``threshold`` leaves that box, with confidence 1 - probability / threshold.

    Parameters
    ----------
    teacher
        The teacher whose network gives the masks (its checkpoint and device).
    threshold
        Probability below which a point is not its box's object, in (0, 1).
    """

    name = "model"

    def __init__(self, teacher: TeacherResolver, threshold: float = DEFAULT_MODEL_THRESHOLD) -> None:
        if not 0.0 < threshold < 1.0:
            raise Beep3dError(f"the model foreground threshold must be in (0, 1), got {threshold}")
        self.teacher = teacher
        self.threshold = threshold

    def separate(
        self, scene: Scene, boxes: BoxSet, resolution: Resolution, membership: Membership | None = None
    ) -> Foreground:
        positions = box_positions(resolution.instance_ids, boxes)
        if not np.any(positions >= 0):
            return Foreground.nothing(scene.num_points, len(boxes))
        probability = self.teacher.object_probability(scene, boxes, positions)
        leaving = (positions >= 0) & (probability < self.threshold)
        reason = np.where(leaving, REASON_NETWORK, REASON_OBJECT).astype(np.int8)
        confidence = np.where(leaving, 1.0 - probability / self.threshold, 0.0).astype(np.float32)
        return Foreground(
            reason,
            confidence,
            shares_per_box(positions, leaving, len(boxes)),
            np.zeros(len(boxes), bool),
        )


def get_foreground(name: str, teacher: TeacherResolver | None = None, **options: float) -> ForegroundStage:
    """The foreground stage called ``name`` (one of :data:`FOREGROUND_MODES`).

    Parameters
    ----------
    name
        "off", "geometric" or "model".
    teacher
        The teacher resolver whose network the "model" mode uses (required for it).
    options
        Passed to the stage's constructor.
    """
    if name == "off":
        return NoForeground()
    if name == "geometric":
        return GeometricForeground(**options)
    if name == "model":
        if teacher is None:
            raise Beep3dError(
                "--foreground model needs the teacher network: give a checkpoint (or keep the shipped one), "
                "or use --foreground geometric"
            )
        return ModelForeground(teacher, **options)
    raise Beep3dError(f"unknown foreground mode {name!r}; use one of {', '.join(FOREGROUND_MODES)}")
