"""The corrections stage: the annotator's clicks and strokes override the masks, for every resolver.

It runs last in the pipeline (after the resolver and the foreground stage), so whatever decided a
point, a correction wins. Corrections are applied in the order they were made:

- a **positive click** for box k at point p gives k the *click region* of p that lies inside box k;
- a **negative click** for box k takes the click region of p out of k's mask: each of those points
  goes to the smallest other box that contains it, or to background;
- a **stroke** gives exactly its points to its box (or to background).

Hidden and locked boxes take no corrections: a correction takes no point from the boxes it keeps as
``protected`` (those hidden or locked when it was made, :class:`beep3d.corrections.Correction`) and
gives them none: a negative click's points go to the smallest other box that is not among them, or to
background.

A click region is what the clicked point speaks for (``spread``):

- ``"point"``: the point alone;
- ``"superpoint"``: its superpoint (:func:`beep3d.geometry.superpoints.compute_superpoints`);
- ``"ball"`` (the default): the points within :data:`CLICK_RADIUS` of it (at most
  :data:`CLICK_BOX_SHARE` of its box's median side) that have the same mask (the same box, or
  background) and lie in the same set of boxes: the click settles that neighbourhood of the contest
  or of the box's background, not only a patch;
- ``"surface"``: the smooth, similarly coloured surface around it within :data:`CLICK_RADIUS`, with
  the same mask and boxes (:mod:`beep3d.geometry.region_growing`); measured, not the default.

Clicks share the scan: a click's region never takes a point an earlier click was made on nor a
stroke's points, and keeps to the points nearer to it than to every earlier click. So each click
speaks for its own neighbourhood, and a negative click beside a positive one does not undo it
(before this rule a simulated annotator's clicks took the same points back and forth).

Coarser segmentations were measured first and rejected: on the 50k-point real scans, Felzenszwalb
k = 0.05 gives about as many segments as superpoints (0.01), and coarser ones mix objects (purity
0.85 -> 0.73 at k = 1). The default spread and radius were chosen on the validation rooms 0002_00/01
with ``bench/bench_corrections.py`` (see the README).

Corrected points get confidence 1 and the decider code "correction".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.corrections import BACKGROUND, Correction, Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.geometry.overlap import point_membership
from beep3d.geometry.region_growing import grow_region, scene_graph
from beep3d.geometry.scene_superpoints import scene_superpoints
from beep3d.resolve.resolution import DECIDED_BY_CORRECTION, Resolution
from beep3d.scene import Scene
from beep3d.scene_cache import SceneCache

#: How far a click spreads (see the module notes).
CLICK_SPREADS = ("point", "superpoint", "ball", "surface")
DEFAULT_CLICK_SPREAD = "ball"
#: Radius of a click's ball, and how far a surface region reaches from the click, metres.
CLICK_RADIUS = 0.3
#: A click's reach is at most this share of its box's median side (0: :data:`CLICK_RADIUS` always).
#: A 0.3 m ball around a negative click beside a picture or a small box took most of the object
#: with its error (negative clicks lowered their own object's IoU on average, in 55 % of them);
#: chosen on the real training rooms and rooms 0002 among 0.1, 0.15, 0.25 and 0.5, against fixed
#: radii of 0.1, 0.15 and 0.3 m (README, "Hand corrections").
CLICK_BOX_SHARE = 0.25
#: A surface region's largest normal angle between neighbours (degrees) and colour step (RGB in 0..1).
SURFACE_ANGLE = 30.0
SURFACE_COLOUR = 0.2

_TREES: SceneCache = SceneCache()


def point_tree(scene: Scene):  # noqa: ANN201 (scipy's cKDTree)
    """A k-d tree of the scene's points (built once per scene)."""
    from scipy.spatial import cKDTree

    return _TREES.get(scene, lambda: cKDTree(np.asarray(scene.xyz, dtype=np.float64)))


def box_signatures(membership: Membership) -> np.ndarray:
    """(N,) uint64 code of the set of boxes containing each point (equal sets, equal codes)."""
    weights = np.random.default_rng(12345).integers(
        1, 2**62, size=max(membership.num_boxes, 1), dtype=np.int64
    )
    signature = np.zeros(membership.num_points, dtype=np.uint64)
    np.add.at(signature, membership.point_index, weights[membership.box_index].astype(np.uint64))
    return signature


def click_region(
    scene: Scene,
    point: int,
    spread: str,
    labels: np.ndarray,
    signatures: np.ndarray,
    radius: float = CLICK_RADIUS,
    fixed: np.ndarray | None = None,
    max_angle: float = SURFACE_ANGLE,
    max_colour: float = SURFACE_COLOUR,
) -> np.ndarray:
    """Indices of the points a click at ``point`` speaks for (see the module notes).

    ``fixed`` (N,) bool marks points a region never takes (the clicked point itself excepted): the
    points of strokes and of earlier clicks (see :func:`apply_corrections`).
    """
    if spread not in CLICK_SPREADS:
        raise Beep3dError(f"unknown click spread {spread!r}; use one of {', '.join(CLICK_SPREADS)}")
    if spread == "point":
        return np.array([point], dtype=np.int64)
    if spread == "superpoint":
        superpoints = scene_superpoints(scene)
        same = superpoints == superpoints[point]
        if fixed is not None:
            same &= ~fixed
        return np.union1d(np.flatnonzero(same), [point])
    if spread == "surface":
        allowed = (labels == labels[point]) & (signatures == signatures[point])
        if fixed is not None:
            allowed &= ~fixed
        return grow_region(
            scene_graph(scene), scene.xyz, point, allowed, max_angle, max_colour, max_distance=radius
        )
    near = np.asarray(point_tree(scene).query_ball_point(scene.xyz[point], radius), dtype=np.int64)
    alike = (labels[near] == labels[point]) & (signatures[near] == signatures[point])
    if fixed is not None:
        alike &= ~fixed[near]
    return np.union1d(near[alike], [point])


def apply_corrections(
    scene: Scene,
    boxes: BoxSet,
    resolution: Resolution,
    corrections: Corrections | None,
    membership: Membership | None = None,
    spread: str = DEFAULT_CLICK_SPREAD,
    class_set: ClassSet = SCANNET18,
    radius: float = CLICK_RADIUS,
    max_angle: float = SURFACE_ANGLE,
    max_colour: float = SURFACE_COLOUR,
    earlier: Corrections | None = None,
    box_share: float = CLICK_BOX_SHARE,
) -> tuple[Resolution, np.ndarray]:
    """The resolution with the corrections applied, and which points they changed.

    Parameters
    ----------
    scene
        The scan (N points).
    boxes
        The boxes; corrections about boxes not among them are skipped.
    resolution
        The masks before the corrections.
    corrections
        The clicks and strokes, oldest first (None or empty: nothing changes).
    membership
        The boxes' point-level membership when known (else computed here).
    spread
        How far a click spreads: one of :data:`CLICK_SPREADS`.
    class_set
        Gives the semantic id of a box's label.
    radius
        Radius of a click's ball (``spread="ball"``), or how far a surface region reaches, metres.
    max_angle, max_colour
        A surface region's largest normal angle between neighbours (degrees) and colour step (RGB in
        0..1) (``spread="surface"``).
    earlier
        Corrections ``resolution`` already holds (when new ones are applied one at a time, as the
        window does for a new click): the new ones treat them as if all were applied together.
    box_share
        A click reaches at most this share of its box's median side (a fraction; ``radius``, in
        metres, caps the reach), so a click about a small object does not take the whole object
        with its error; 0: ``radius`` always.

    Returns
    -------
    resolution
        Corrected points: instance and semantic ids set, confidence 1, decider "correction".
    corrected
        (N,) bool: the points some correction decided (``earlier`` ones included).
    """
    n = scene.num_points
    corrected, pinned, seeds = _earlier_marks(resolution, earlier, n)
    if not corrections:
        return resolution, corrected
    corrections = corrections.for_scan(n)
    if membership is None:
        membership = point_membership(scene, boxes)
    context = _CorrectionContext(
        scene, boxes, membership, box_signatures(membership), spread, radius, box_share, max_angle, max_colour
    )
    position_of = {int(box_id): i for i, box_id in enumerate(boxes.ids)}
    labels = np.asarray(resolution.instance_ids, dtype=np.int64).copy()
    for correction in corrections:
        position = position_of.get(correction.box_id)
        if correction.box_id != BACKGROUND and position is None:
            continue  # the box is gone
        corrected[context.apply(correction, position, labels, pinned, seeds)] = True
        pinned[correction.points] = True
    return _corrected_resolution(resolution, boxes, position_of, labels, corrected, class_set), corrected


def _earlier_marks(
    resolution: Resolution, earlier: Corrections | None, n: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """What the corrections ``resolution`` already holds (``earlier``) leave for the new ones.

    Returns
    -------
    corrected
        (N,) bool: the points a correction decided (by ``resolution``'s deciders).
    pinned
        (N,) bool: the points of earlier strokes and clicks, which no click region takes.
    seeds
        The points clicked earlier, oldest first.
    """
    corrected = np.zeros(n, dtype=bool)
    pinned = np.zeros(n, dtype=bool)
    seeds: list[int] = []
    if earlier:
        if resolution.decided_by is not None:
            corrected = np.asarray(resolution.decided_by) == DECIDED_BY_CORRECTION
        for correction in earlier.for_scan(n):
            pinned[correction.points] = True
            if correction.kind == "click":
                seeds.append(int(correction.points[0]))
    return corrected, pinned, seeds


@dataclass(frozen=True)
class _CorrectionContext:
    """What applying a correction depends on besides the correction (arguments of
    :func:`apply_corrections`, and the boxes' point-level membership and signatures)."""

    scene: Scene
    boxes: BoxSet
    membership: Membership
    signatures: np.ndarray
    spread: str
    radius: float
    box_share: float
    max_angle: float
    max_colour: float

    @functools.cached_property
    def volumes(self) -> np.ndarray:
        """(K,) box volumes, m^3 (where a negative click's points go: the smallest other box)."""
        return np.prod(self.boxes.sizes, axis=1) if len(self.boxes) else np.zeros(0)

    def apply(
        self,
        correction: Correction,
        position: int | None,
        labels: np.ndarray,
        pinned: np.ndarray,
        seeds: list[int],
    ) -> np.ndarray:
        """Apply one correction about the box at ``position`` (None: background) to ``labels`` ((N,) box
        id per point), and return the points it decided.

        ``pinned`` ((N,) bool: the points of earlier corrections) and ``seeds`` (the points clicked
        before) say what a click's region keeps off; a click adds its point to ``seeds``.
        """
        if correction.kind == "stroke":  # exactly its points
            points = _unprotected(correction, correction.points, labels)
            labels[points] = correction.box_id
            return points
        return self._click(correction, position, labels, pinned, seeds)

    def _click(
        self, correction: Correction, position: int, labels: np.ndarray, pinned: np.ndarray, seeds: list[int]
    ) -> np.ndarray:
        """Relabel the region of a click (see :meth:`apply`) and return the region's points.

        A positive click gives the box the region's points inside it (or, outside it, the clicked
        point alone: the box is too tight there); a negative click sends the region's points of the
        box to the smallest other box containing each, or to background. Neither takes points from
        nor gives points to the boxes the correction leaves alone (``correction.protected``).
        """
        seed = int(correction.points[0])
        reach = self.radius
        if self.box_share > 0:
            reach = min(self.radius, self.box_share * float(np.median(self.boxes.sizes[position])))
        region = click_region(
            self.scene,
            seed,
            self.spread,
            labels,
            self.signatures,
            reach,
            pinned,
            self.max_angle,
            self.max_colour,
        )
        region = _nearer_than_earlier_clicks(self.scene.xyz, region, seed, seeds)
        seeds.append(seed)
        inside = _inside(self.membership, position, self.scene.num_points)
        if correction.positive:
            region = region[inside[region]] if inside[region].any() else correction.points
            region = _unprotected(correction, region, labels)
            labels[region] = correction.box_id
        else:
            region = region[labels[region] == correction.box_id]
            volumes = self.volumes
            if correction.protected:  # never the next box of a negative click
                volumes = np.where(np.isin(self.boxes.ids, correction.protected), np.inf, volumes)
            labels[region] = _next_box(region, position, self.membership, volumes, self.boxes.ids)
        return region


def _corrected_resolution(
    resolution: Resolution,
    boxes: BoxSet,
    position_of: dict[int, int],
    labels: np.ndarray,
    corrected: np.ndarray,
    class_set: ClassSet,
) -> Resolution:
    """``resolution`` with the ``corrected`` points ((N,) bool) given their box of ``labels`` ((N,) box
    id per point, -1 background), their box's class, confidence 1 and the decider "correction"."""
    semantic = np.asarray(resolution.semantic_ids).copy()
    for box_id in np.unique(labels[corrected]):
        if box_id < 0:
            continue
        box = boxes[position_of[int(box_id)]]
        points = corrected & (labels == box_id)
        semantic[points] = class_set.id_of(box.label) if box.label in class_set.names else -1
    semantic[corrected & (labels < 0)] = -1
    n = len(labels)
    decided_by = np.zeros(n, np.int8) if resolution.decided_by is None else resolution.decided_by.copy()
    decided_by[corrected] = DECIDED_BY_CORRECTION
    return replace(
        resolution,
        instance_ids=labels.astype(np.int32),
        semantic_ids=semantic.astype(np.int32),
        confidence=np.where(corrected, 1.0, resolution.confidence).astype(np.float32),
        decided_by=decided_by,
    )


def _nearer_than_earlier_clicks(
    xyz: np.ndarray, region: np.ndarray, seed: int, seeds: list[int]
) -> np.ndarray:
    """The region's points nearer to the click at ``seed`` than to every earlier click (and ``seed``)."""
    if not seeds or len(region) <= 1:
        return np.union1d(region, [seed])
    from scipy.spatial import cKDTree

    points = np.asarray(xyz[region], dtype=np.float64)
    own = np.linalg.norm(points - np.asarray(xyz[seed], dtype=np.float64), axis=1)
    others = np.asarray(xyz[np.asarray(seeds)], dtype=np.float64)
    lo, hi = points.min(axis=0) - own.max(), points.max(axis=0) + own.max()
    others = others[np.all((others >= lo) & (others <= hi), axis=1)]  # only clicks that can be nearer
    if len(others):
        nearest_other, _ = cKDTree(others).query(points)
        region = region[own <= nearest_other]
    return np.union1d(region, [seed])


def _unprotected(correction: Correction, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The ``points`` whose box (``labels``: (N,) box id per point) the correction does not leave alone."""
    if not correction.protected or len(points) == 0:
        return points
    return points[~np.isin(labels[points], correction.protected)]


def _inside(membership: Membership, position: int, n: int) -> np.ndarray:
    inside = np.zeros(n, dtype=bool)
    inside[membership.point_index[membership.box_index == position]] = True
    return inside


def _next_box(
    region: np.ndarray, position: int, membership: Membership, volumes: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """Box id each region point goes to after a negative click: the smallest other containing box, or -1.

    A box of infinite ``volumes`` (K,) is never chosen.
    """
    best = np.full(len(region), -1, dtype=np.int64)
    if len(region) == 0:
        return best
    slot = {int(p): i for i, p in enumerate(region)}
    best_volume = np.full(len(region), np.inf)
    in_region = np.isin(membership.point_index, region) & (membership.box_index != position)
    for point, box in zip(membership.point_index[in_region], membership.box_index[in_region], strict=True):
        i = slot[int(point)]
        if volumes[box] < best_volume[i]:
            best_volume[i], best[i] = volumes[box], ids[box]
    return best
