"""3D boxes (centre, size, yaw about z) and vectorised point-in-box membership."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from beep3d.errors import Beep3dError

#: Sizes below this (metres) are degenerate: such a box holds no volume.
MIN_BOX_EXTENT = 1e-4


#: Largest box id: exports write instance ids as int32.
MAX_BOX_ID = 2**31 - 1
#: Largest box extent (metres): a box is drawn around an object in a building, not a city.
MAX_BOX_EXTENT_M = 1000.0
#: Largest box-centre coordinate (metres): as far as a georeferenced frame reaches.
MAX_COORDINATE_M = 1e8


@dataclass(frozen=True)
class Box:
    """One gravity-aligned box.

    Attributes
    ----------
    id
        Integer id, unique within a box set; it is the instance id written to exports.
    label
        Class name.
    center
        (3,) box centre, metres.
    size
        (3,) full extents along the box's own x, y and z axes, metres.
    yaw
        Rotation about +z in radians (counter-clockwise seen from above).
    """

    id: int
    label: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", tuple(float(v) for v in self.center))
        object.__setattr__(self, "size", tuple(float(v) for v in self.size))
        object.__setattr__(self, "yaw", float(self.yaw))
        object.__setattr__(self, "id", int(self.id))
        if len(self.center) != 3 or len(self.size) != 3:
            raise Beep3dError(f"box {self.id}: center and size need 3 values each")
        if not (
            np.all(np.isfinite(self.center)) and np.all(np.isfinite(self.size)) and np.isfinite(self.yaw)
        ):
            raise Beep3dError(f"box {self.id}: center, size and yaw must be finite numbers")
        if min(self.size) < 0:
            raise Beep3dError(
                f"box {self.id}: size {self.size} has a negative extent; sizes are full extents >= 0"
            )
        if not 0 <= self.id <= MAX_BOX_ID:
            raise Beep3dError(
                f"box {self.id}: ids are integers from 0 to {MAX_BOX_ID} (they are written as 32-bit "
                "instance ids); renumber the box"
            )
        if max(self.size) > MAX_BOX_EXTENT_M or max(abs(c) for c in self.center) > MAX_COORDINATE_M:
            raise Beep3dError(
                f"box {self.id}: centre {self.center} and size {self.size} are beyond any scan "
                f"(extents up to {MAX_BOX_EXTENT_M:g} m, coordinates up to {MAX_COORDINATE_M:g} m); "
                "box files are in metres"
            )

    @property
    def volume(self) -> float:
        """Volume in cubic metres."""
        return float(np.prod(self.size))

    def moved(self, **changes: object) -> Box:
        """A copy with some fields changed (``box.moved(center=(1, 2, 0))``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def corners(self) -> np.ndarray:
        """(8, 3) float64 corner coordinates, metres."""
        half = np.asarray(self.size) / 2
        signs = np.array(
            [[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64
        )
        local = signs * half
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return local @ rot.T + np.asarray(self.center)

    def to_local(self, xyz: np.ndarray) -> np.ndarray:
        """(N, 3) coordinates expressed in the box frame (origin at the centre, axes along the box)."""
        d = np.asarray(xyz, dtype=np.float64) - np.asarray(self.center)
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], axis=1)

    def contains(self, xyz: np.ndarray) -> np.ndarray:
        """(N,) bool: which of ``xyz`` (N, 3) lie inside the box (boundary included)."""
        local = self.to_local(xyz)
        return np.all(np.abs(local) <= np.asarray(self.size) / 2 + 1e-9, axis=1)


@dataclass(frozen=True)
class Membership:
    """Which boxes contain which points, as sparse (point, box) pairs.

    Attributes
    ----------
    point_index
        (P,) int64 point indices, sorted ascending.
    box_index
        (P,) int64 box positions (0..K-1 in the box set, not box ids).
    num_points, num_boxes
        N and K.
    """

    point_index: np.ndarray
    box_index: np.ndarray
    num_points: int
    num_boxes: int

    def counts(self) -> np.ndarray:
        """(N,) int32: number of boxes containing each point."""
        return np.bincount(self.point_index, minlength=self.num_points).astype(np.int32)

    def dense(self) -> np.ndarray:
        """(N, K) bool matrix (memory N*K bytes: use for small scenes or subsets)."""
        out = np.zeros((self.num_points, self.num_boxes), dtype=bool)
        out[self.point_index, self.box_index] = True
        return out

    def points_of(self, box_position: int) -> np.ndarray:
        """Indices of the points inside the box at ``box_position``."""
        return self.point_index[self.box_index == box_position]


class BoxSet:
    """An ordered set of boxes with unique ids, with vectorised membership queries."""

    def __init__(self, boxes: Iterable[Box] = ()) -> None:
        self._boxes: list[Box] = list(boxes)
        ids = [b.id for b in self._boxes]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise Beep3dError(f"box ids must be unique; repeated: {dupes}. Give each box its own id.")

    def __len__(self) -> int:
        return len(self._boxes)

    def __iter__(self):
        return iter(self._boxes)

    def __getitem__(self, position: int) -> Box:
        return self._boxes[position]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoxSet) and self._boxes == other._boxes

    def __repr__(self) -> str:
        return f"BoxSet({len(self)} boxes)"

    @property
    def boxes(self) -> list[Box]:
        """The boxes (a copy of the list)."""
        return list(self._boxes)

    @property
    def ids(self) -> np.ndarray:
        """(K,) int64 box ids."""
        return np.array([b.id for b in self._boxes], dtype=np.int64)

    @property
    def labels(self) -> list[str]:
        """Class name per box."""
        return [b.label for b in self._boxes]

    @property
    def centers(self) -> np.ndarray:
        """(K, 3) float64 centres, metres."""
        return np.array([b.center for b in self._boxes], dtype=np.float64).reshape(-1, 3)

    @property
    def sizes(self) -> np.ndarray:
        """(K, 3) float64 full extents, metres."""
        return np.array([b.size for b in self._boxes], dtype=np.float64).reshape(-1, 3)

    @property
    def yaws(self) -> np.ndarray:
        """(K,) float64 yaw angles, radians."""
        return np.array([b.yaw for b in self._boxes], dtype=np.float64)

    @property
    def volumes(self) -> np.ndarray:
        """(K,) float64 volumes, cubic metres."""
        return np.prod(self.sizes, axis=1)

    def position_of(self, box_id: int) -> int:
        """Position of the box with id ``box_id``."""
        for position, box in enumerate(self._boxes):
            if box.id == box_id:
                return position
        raise KeyError(box_id)

    def next_id(self) -> int:
        """An id not used yet (max + 1)."""
        return int(max((b.id for b in self._boxes), default=-1)) + 1

    def with_box(self, box: Box) -> BoxSet:
        """A new set with ``box`` added, or replacing the box with the same id (keeping its place)."""
        boxes = list(self._boxes)
        for position, old in enumerate(boxes):
            if old.id == box.id:
                boxes[position] = box
                return BoxSet(boxes)
        return BoxSet([*boxes, box])

    def without(self, box_id: int) -> BoxSet:
        """A new set without the box of id ``box_id``."""
        return BoxSet(b for b in self._boxes if b.id != box_id)

    def translated(self, offset: Iterable[float]) -> BoxSet:
        """A new set with every centre moved by ``offset`` (3,) metres (sizes and yaws unchanged)."""
        dx, dy, dz = (float(v) for v in offset)
        if dx == dy == dz == 0.0:
            return self
        return BoxSet(
            b.moved(center=(b.center[0] + dx, b.center[1] + dy, b.center[2] + dz)) for b in self._boxes
        )

    def aabbs(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounds of each (possibly rotated) box: (K, 3) minima and (K, 3) maxima."""
        if not self._boxes:
            return np.zeros((0, 3)), np.zeros((0, 3))
        half = self.sizes / 2
        c, s = np.abs(np.cos(self.yaws)), np.abs(np.sin(self.yaws))
        ext = np.stack([c * half[:, 0] + s * half[:, 1], s * half[:, 0] + c * half[:, 1], half[:, 2]], axis=1)
        return self.centers - ext, self.centers + ext

    def membership(self, xyz: np.ndarray, index: PointIndex | None = None) -> Membership:
        """Which boxes contain which points.

        Vectorised: points are bucketed on an xy grid once (``index``, reusable), and each box tests only
        the points in the grid cells under it. Cost grows with the number of points near boxes, not N * K.

        Parameters
        ----------
        xyz
            (N, 3) float32 or float64 coordinates, metres.
        index
            A :class:`PointIndex` of the same ``xyz`` to reuse across calls (the app reuses one per scene).

        Returns
        -------
        Membership
            Sparse (point, box) pairs, sorted by point.
        """
        index = index if index is not None else PointIndex(xyz)
        lo, hi = self.aabbs()
        points_parts, boxes_parts = [], []
        for position, box in enumerate(self._boxes):
            inside = _points_inside(box, lo[position], hi[position], index)
            points_parts.append(inside)
            boxes_parts.append(np.full(len(inside), position, dtype=np.int64))
        if points_parts:
            point_index = np.concatenate(points_parts)
            box_index = np.concatenate(boxes_parts)
            order = np.argsort(point_index, kind="stable")
            point_index, box_index = point_index[order], box_index[order]
        else:
            point_index = np.zeros(0, dtype=np.int64)
            box_index = np.zeros(0, dtype=np.int64)
        return Membership(point_index, box_index, index.num_points, len(self._boxes))

    def updated_membership(
        self, previous: Membership, before: BoxSet, index: PointIndex
    ) -> Membership | None:
        """The membership of these boxes from ``previous`` (that of ``before``), redoing only changed boxes.

        For an edit that changes a few boxes in place (moved, resized, turned, relabelled: the same
        ids in the same order), the pairs of the unchanged boxes are kept and the changed boxes'
        pairs are recomputed and merged in, in the order :meth:`membership` gives (by point, then by
        box position): the result equals :meth:`membership`. None when the edit is not of that kind
        (boxes added, deleted or reordered, or more than a tenth of them changed).

        Parameters
        ----------
        previous
            ``before.membership(index.xyz, index)``.
        before
            The boxes ``previous`` belongs to.
        index
            The scene's point index.
        """
        edit = self.membership_edit(previous, before, index)
        return None if edit is None else edit.membership

    def changed_positions(self, before: BoxSet, limit: int | None = None) -> np.ndarray | None:
        """(C,) int64 positions of the boxes that differ from ``before``'s, for an in-place edit.

        None when the edit is not in place (boxes added, deleted or reordered) or changes more than
        ``limit`` boxes (default: a tenth of them, at least 8).
        """
        if len(before) != len(self):
            return None
        pairs = zip(before._boxes, self._boxes, strict=True)
        if any(a.id != b.id for a, b in pairs):
            return None
        changed = [
            i
            for i, (a, b) in enumerate(zip(before._boxes, self._boxes, strict=True))
            if a is not b and a != b
        ]
        if len(changed) > (max(8, len(self) // 10) if limit is None else limit):
            return None
        return np.asarray(changed, dtype=np.int64)

    def points_in(self, position: int, index: PointIndex) -> np.ndarray:
        """(M,) int64 sorted indices of the points inside the box at ``position`` (``index``: the scene's)."""
        box = self._boxes[position]
        lo, hi = BoxSet([box]).aabbs()
        return np.sort(_points_inside(box, lo[0], hi[0], index))

    def membership_edit(
        self, previous: Membership, before: BoxSet, index: PointIndex
    ) -> MembershipEdit | None:
        """:meth:`updated_membership` with what changed: see :class:`MembershipEdit` (None: not in place)."""
        changed = self.changed_positions(before)
        if changed is None:
            return None
        k = len(self)
        old_extents = [before.points_in(int(c), index) for c in changed]
        new_extents = [self.points_in(int(c), index) for c in changed]
        points = np.unique(np.concatenate([np.zeros(0, np.int64), *old_extents, *new_extents]))
        pi, bi = previous.point_index, previous.box_index
        starts = np.searchsorted(pi, points, side="left")
        stops = np.searchsorted(pi, points, side="right")
        rows = concatenated_ranges(starts, stops - starts)
        old_point, old_box = pi[rows], bi[rows]
        is_changed = np.zeros(k, dtype=bool)
        is_changed[changed] = True
        kept = ~is_changed[old_box]
        if int(np.count_nonzero(~kept)) != sum(len(e) for e in old_extents):
            return None  # ``previous`` is not ``before``'s membership
        added_point = np.concatenate([np.zeros(0, np.int64), *new_extents])
        added_box = np.repeat(changed, [len(e) for e in new_extents])
        new_point = np.concatenate([old_point[kept], added_point])
        new_box = np.concatenate([old_box[kept], added_box])
        order = np.lexsort((new_box, new_point))
        new_point, new_box = new_point[order], new_box[order]
        from beep3d.geometry.splice import splice_rows  # numba: imported when an edit needs it

        point_index, box_index = splice_rows(pi, bi, points, new_point, new_box)
        membership = Membership(point_index, box_index, index.num_points, k)
        return MembershipEdit(membership, changed, points, old_point, old_box, new_point, new_box)


@dataclass(frozen=True)
class MembershipEdit:
    """How an in-place edit of a few boxes changed the membership (:meth:`BoxSet.membership_edit`).

    Attributes
    ----------
    membership
        The new membership (equal to a full :meth:`BoxSet.membership`).
    changed
        (C,) int64 positions of the boxes that changed.
    points
        (A,) int64 sorted points inside a changed box before or after the edit: only their pairs
        differ; every other point keeps its boxes.
    old_point, old_box
        (P_old,) int64 the pairs of ``points`` before the edit, sorted by point then box.
    new_point, new_box
        (P_new,) int64 the pairs of ``points`` after the edit, sorted by point then box.
    """

    membership: Membership
    changed: np.ndarray
    points: np.ndarray
    old_point: np.ndarray
    old_box: np.ndarray
    new_point: np.ndarray
    new_box: np.ndarray


def _points_inside(box: Box, lo: np.ndarray, hi: np.ndarray, index: PointIndex) -> np.ndarray:
    """(M,) int64 indices of the points inside ``box`` (``lo``, ``hi``: its axis-aligned bounds)."""
    candidates = index.candidates(lo - 1e-6, hi + 1e-6)
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    pts = index.sorted_xyz[candidates]
    # cheap axis-aligned rejection before the rotation
    near = np.all((pts >= lo - 1e-6) & (pts <= hi + 1e-6), axis=1)
    candidates, pts = candidates[near], pts[near]
    return index.order[candidates[box.contains(pts)]].astype(np.int64)


#: Bound on the grid size of a :class:`PointIndex`, in cells per point.
MAX_CELLS_PER_POINT = 4


class PointIndex:
    """Points bucketed on a regular grid in x and y, to find the points near a box quickly.

    Points are sorted by grid cell (row-major in x, then y), so the cells of one x row within a y
    interval hold one contiguous run of points. Build once per scene (O(N log N)) and reuse it for every
    membership query on that scene.

    Parameters
    ----------
    xyz
        (N, 3) coordinates, metres.
    points_per_cell
        Target mean number of points per occupied cell; sets the cell size (clamped to 5 cm..1 m).
    """

    def __init__(self, xyz: np.ndarray, points_per_cell: int = 64) -> None:
        xyz64 = np.asarray(xyz, dtype=np.float64)
        n = self.num_points = len(xyz64)
        if n == 0:
            self.lo, self.cell, self.shape = np.zeros(2), 1.0, (1, 1)
            self.order = np.zeros(0, dtype=np.int64)
            self.sorted_xyz = np.zeros((0, 3))
            self.cell_start = np.zeros(2, dtype=np.int64)
            return
        self.lo = xyz64[:, :2].min(axis=0)
        extent = np.maximum(xyz64[:, :2].max(axis=0) - self.lo, 1e-6)
        self.cell = float(np.clip(np.sqrt(extent.prod() * points_per_cell / n), 0.05, 1.0))
        # a few stray points far away must not make the grid huge: at most MAX_CELLS_PER_POINT cells
        # per point (coarser cells only cost speed, never correctness)
        max_cells = max(MAX_CELLS_PER_POINT * n, 1024)
        while np.prod(np.floor(extent / self.cell) + 1) > max_cells:
            self.cell *= 2.0
        nx, ny = (np.floor(extent / self.cell).astype(np.int64) + 1).tolist()
        self.shape = (nx, ny)
        ij = np.floor((xyz64[:, :2] - self.lo) / self.cell).astype(np.int64)
        keys = np.minimum(ij[:, 0], nx - 1) * ny + np.minimum(ij[:, 1], ny - 1)
        self.order = np.argsort(keys, kind="stable")
        self.sorted_xyz = xyz64[self.order]
        self.cell_start = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=nx * ny))])

    def candidates(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sorted positions of the points in the grid cells overlapping the xy rectangle ``lo``..``hi``.

        Positions index ``sorted_xyz`` (contiguous runs: cheap to gather); ``order[positions]`` gives
        the original point indices. A superset of the points inside the rectangle.
        """
        nx, ny = self.shape
        i0, j0 = np.floor((np.asarray(lo[:2]) - self.lo) / self.cell).astype(np.int64)
        i1, j1 = np.floor((np.asarray(hi[:2]) - self.lo) / self.cell).astype(np.int64)
        i0, j0, i1, j1 = max(i0, 0), max(j0, 0), min(i1, nx - 1), min(j1, ny - 1)
        if i0 > i1 or j0 > j1 or len(self.order) == 0:
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(i0, i1 + 1)
        starts = self.cell_start[rows * ny + j0]
        stops = self.cell_start[rows * ny + j1 + 1]
        return concatenated_ranges(starts, stops - starts)


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each (s, l) pair, without a Python loop."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def boxes_from_instances(
    xyz: np.ndarray,
    instance: np.ndarray,
    semantic: np.ndarray | None = None,
    label_names: dict[int, str] | None = None,
    margin: float = 0.005,
    skip_semantic: Sequence[int] = (),
) -> BoxSet:
    """Axis-aligned boxes around ground-truth instances (min/max of their points + ``margin``).

    This is how Box2Mask and GaPro derive box supervision from ScanNet and S3DIS labels.

    Parameters
    ----------
    xyz
        (N, 3) coordinates, metres.
    instance
        (N,) int instance id per point (-1 = none). Box ids are these instance ids.
    semantic
        (N,) int semantic id per point, used for the box label (majority of the instance's points).
    label_names
        Map semantic id -> class name; ids not in it give the label "id:<n>".
    margin
        Added on every side, metres (0.005 as in Box2Mask / GaPro).
    skip_semantic
        Semantic ids that get no box (for example wall and floor).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    instance = np.asarray(instance)
    boxes: list[Box] = []
    for inst in np.unique(instance[instance >= 0]):
        mask = instance == inst
        label = "object"
        if semantic is not None:
            values, counts = np.unique(np.asarray(semantic)[mask], return_counts=True)
            sem = int(values[np.argmax(counts)])
            if sem in skip_semantic:
                continue
            label = (label_names or {}).get(sem, f"id:{sem}")
        pts = xyz[mask]
        lo, hi = pts.min(axis=0) - margin, pts.max(axis=0) + margin
        boxes.append(Box(int(inst), label, tuple((lo + hi) / 2), tuple(hi - lo), 0.0))
    return BoxSet(boxes)
