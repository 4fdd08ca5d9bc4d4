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
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.geometry.room_surfaces import (
    DEFAULT_AGREEMENT,
    DEFAULT_TOLERANCE,
    SURFACE_KINDS,
    SurfacePoints,
    room_of,
)
from beep3d.geometry.scene_superpoints import scene_superpoints
from beep3d.resolve.box_shares import box_positions, shares_per_box, superpoint_share_in_box
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
        self._last: _LastCall | None = None

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
        base = None if asked is None else self._last.result
        if asked is None:
            asked = np.ones(len(boxes), dtype=bool)
        previous = None if base is None else self._last.positions
        result = self._separate_boxes(scene, boxes, positions, membership, asked, base, previous)
        self._last = _LastCall(weakref.ref(scene), boxes, positions, result, scene.superpoints)
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
        last = self._last_call_of(scene, boxes)
        if last is None or last.result is not previous:
            return None
        positions = last.positions.copy()
        positions[changed_points] = box_positions(resolution.instance_ids[changed_points], boxes)
        redo = _boxes_to_redo_of(
            len(boxes), changed_boxes, last.positions[changed_points], positions[changed_points]
        )
        if redo is None:
            return None
        asked = np.flatnonzero(redo)
        extents, touched = _edit_points(scene, boxes, asked, changed_points, members)
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
        kept_surface, box_share = previous.kept_surface.copy(), previous.box_share.copy()
        leaving = self._leaving(here, mine, on_surface, asked, kept_surface, box_share)
        stale = touched[lookup[last.positions[touched] + 1]]
        reason, confidence = _reasons(previous, scene.num_points, stale, touched[leaving], surfaces)
        result = Foreground(reason, confidence, box_share, kept_surface)
        self._last = last._replace(boxes=boxes, positions=positions, result=result)
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
        superpoints = scene_superpoints(scene)
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

    def _last_call_of(self, scene: Scene, boxes: BoxSet) -> _LastCall | None:
        """The memory of the last call when it was about ``scene`` (with the same superpoints: the same
        surface patches) and as many boxes; None otherwise."""
        last = getattr(self, "_last", None)
        if (
            last is None
            or last.scene() is not scene
            or len(last.boxes) != len(boxes)
            or last.superpoints is not scene.superpoints
        ):
            return None
        return last

    def _boxes_to_redo(self, scene: Scene, boxes: BoxSet, positions: np.ndarray) -> np.ndarray | None:
        """(K,) bool boxes whose points need the stage again after an in-place edit; None: all of them.

        A box is redone when it changed, or when a point joined or left it. Every other box keeps
        its points and its geometry, so its surface points, patch shares and share stay as they were.
        """
        last = self._last_call_of(scene, boxes)
        if last is None or not np.array_equal(last.boxes.ids, boxes.ids):
            return None
        changed = [i for i, (a, b) in enumerate(zip(last.boxes, boxes, strict=True)) if a != b]
        return _boxes_to_redo_of(len(boxes), changed, last.positions, positions)

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
        kept_surface = np.zeros(k, bool) if base is None else base.kept_surface.copy()
        box_share = np.zeros(k, np.float32) if base is None else base.box_share.copy()
        leaving = self._leaving(positions, mine, on_surface, asked, kept_surface, box_share)
        stale = None if base is None else lookup[previous + 1]  # their old values are stale
        reason, confidence = _reasons(base, len(positions), stale, leaving, surfaces)
        return Foreground(reason, confidence, box_share, kept_surface)

    def _leaving(
        self,
        positions: np.ndarray,
        mine: np.ndarray,
        on_surface: np.ndarray,
        asked: np.ndarray,
        kept_surface: np.ndarray,
        box_share: np.ndarray,
    ) -> np.ndarray:
        """Which of some points leave their box; for the boxes ``asked`` (positions or (K,) bool), fills
        in whether each keeps its surface points (``kept_surface``, (K,) bool) and the share of its
        points that leave (``box_share``, (K,) float32).

        ``positions``: (M,) int64 position of each point's box (-1: none); ``mine``: (M,) bool, the
        point's box is asked; ``on_surface``: (M,) bool, the point is on a room surface whose patch
        runs beyond its box. Returns (M,) bool.
        """
        k = len(kept_surface)
        totals = np.bincount(np.where(mine, positions + 1, 0), minlength=k + 1)[1:]
        on_counts = np.bincount(np.where(on_surface, positions + 1, 0), minlength=k + 1)[1:]
        kept_surface[asked] = (on_counts / np.maximum(totals, 1))[asked] > self.max_surface_share
        leaving = on_surface & ~kept_surface[np.maximum(positions, 0)]
        left_counts = np.bincount(np.where(leaving, positions + 1, 0), minlength=k + 1)[1:]
        box_share[asked] = (left_counts / np.maximum(totals, 1))[asked]
        return leaving


class _LastCall(NamedTuple):
    """What :class:`GeometricForeground` remembers of its last call, to redo only an edit's boxes."""

    scene: weakref.ref
    boxes: BoxSet
    positions: np.ndarray  # (N,) int64 position of each point's box, -1: none
    result: Foreground
    superpoints: np.ndarray | None  # the scene's superpoints array (its surface patches)


def _boxes_to_redo_of(
    num_boxes: int, changed_boxes: np.ndarray | list[int], before: np.ndarray, after: np.ndarray
) -> np.ndarray | None:
    """(K,) bool: the boxes an in-place edit changed (``changed_boxes``: positions) and those a point
    joined or left (``before``, ``after``: (M,) int64 positions of the same points' boxes, -1: none).

    None when they are too many for a partial redo (more than max(8, K / 4)): redo every box.
    """
    redo = np.zeros(num_boxes + 1, dtype=bool)  # slot 0: points in no box
    redo[np.asarray(changed_boxes, dtype=np.int64) + 1] = True
    moved = before != after
    redo[before[moved] + 1] = True
    redo[after[moved] + 1] = True
    redo = redo[1:]
    return redo if redo.sum() <= max(8, num_boxes // 4) else None


def _edit_points(
    scene: Scene,
    boxes: BoxSet,
    asked: np.ndarray,
    changed_points: np.ndarray,
    members: Membership | None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """The points inside each redone box (``asked``: positions), and the sorted points whose result
    may change: those, the ``changed_points``, and the redone boxes' ``members`` when given."""
    extents = [boxes.points_in(int(p), scene.point_index) for p in asked]
    # every point given to a redone box, before or after, is one of its members now or was one
    # of a changed box before (those are among ``changed_points``)
    given = [] if members is None else [members.points_of(int(p)) for p in asked]
    touched = np.unique(np.concatenate([np.zeros(0, np.int64), changed_points, *extents, *given]))
    return extents, touched


def _reasons(
    base: Foreground | None,
    num_points: int,
    stale: np.ndarray | None,
    gone: np.ndarray,
    surfaces: SurfacePoints,
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) int8 reason and (N,) float32 confidence per point: ``base``'s (None: zeros) with the
    ``stale`` points (of the redone boxes before) reset, and the ``gone`` points given their surface's."""
    if base is None:
        reason = np.zeros(num_points, np.int8)
        confidence = np.zeros(num_points, np.float32)
    else:
        reason, confidence = base.reason.copy(), base.confidence.copy()
        reason[stale], confidence[stale] = REASON_OBJECT, 0.0
    reason[gone] = surfaces.kind[gone].astype(np.int16) + 1
    confidence[gone] = surfaces.confidence[gone]
    return reason, confidence


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
