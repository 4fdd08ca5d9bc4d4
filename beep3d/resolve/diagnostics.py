"""Failure diagnostics: the box configurations that make masks wrong or ambiguous, in plain words.

Each problem is a typed record with a sentence for people and, where it helps, the points to frame.
The paper's known failure (appendix A3, Fig. A2) is a box nested inside another: the inner object can
be lost entirely, so it is reported first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.overlap import MULTI_BOX, OverlapAnalysis
from beep3d.resolve.foreground import Foreground
from beep3d.resolve.resolution import Resolution, decider_counts, describe_deciders

#: Extent (metres) under which a box side counts as degenerate.
DEGENERATE_EXTENT = 0.01
#: 3D IoU from which two boxes count as near-duplicates.
NEAR_DUPLICATE_IOU = 0.9
#: Confidence under which a resolved P^u point counts as uncertain.
LOW_CONFIDENCE = 0.2
#: Uncertain points a box pair needs before it is reported.
LOW_CONFIDENCE_MIN_POINTS = 50
#: Pairs of boxes whose nesting and 3D IoU are remembered (an edit recomputes only its box's pairs).
PAIR_CACHE_SIZE = 200_000
#: A box whose foreground stage took out more than this share of its points is reported.
MUCH_BACKGROUND = 0.3


@dataclass(frozen=True)
class Problem:
    """One diagnosed problem.

    Attributes
    ----------
    kind
        "nested", "no_exclusive_points", "empty", "near_duplicate", "degenerate", "low_confidence",
        "much_background" or "in_surface".
    box_ids
        The boxes involved (ids, not positions).
    message
        A sentence for the annotator: what is wrong and what to do.
    point_index
        Indices of the points concerned (to frame them in the view), or None.
    """

    kind: str
    box_ids: tuple[int, ...]
    message: str
    point_index: np.ndarray | None = field(default=None, compare=False)


def bev_polygon(box: Box) -> np.ndarray:
    """(4, 2) corners of the box seen from above, counter-clockwise."""
    hx, hy = box.size[0] / 2, box.size[1] / 2
    local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    return local @ np.array([[c, s], [-s, c]]) + np.asarray(box.center[:2])


def _clip_polygon(subject: np.ndarray, clipper: np.ndarray) -> np.ndarray:
    """Intersection of convex polygon ``subject`` with convex counter-clockwise ``clipper`` (Sutherland-Hodgman)."""
    output = subject
    for i in range(len(clipper)):
        if len(output) == 0:
            break
        a, b = clipper[i], clipper[(i + 1) % len(clipper)]
        edge = b - a
        side = edge[0] * (output[:, 1] - a[1]) - edge[1] * (output[:, 0] - a[0])  # >= 0: inside
        result = []
        for j in range(len(output)):
            p, q = output[j], output[(j + 1) % len(output)]
            sp, sq = side[j], side[(j + 1) % len(output)]
            if sp >= 0:
                result.append(p)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                result.append(p + t * (q - p))
        output = np.array(result).reshape(-1, 2)
    return output


def _polygon_area(polygon: np.ndarray) -> float:
    if len(polygon) < 3:
        return 0.0
    x, y = polygon[:, 0], polygon[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


@functools.lru_cache(maxsize=PAIR_CACHE_SIZE)
def box_iou_3d(a: Box, b: Box) -> float:
    """3D IoU of two yaw-oriented boxes (top-view polygon intersection times vertical overlap).

    Remembered per pair of boxes (boxes are immutable), so after an edit only the pairs with an
    edited box are computed again.
    """
    overlap_z = min(a.center[2] + a.size[2] / 2, b.center[2] + b.size[2] / 2) - max(
        a.center[2] - a.size[2] / 2, b.center[2] - b.size[2] / 2
    )
    if overlap_z <= 0:
        return 0.0
    inter = _polygon_area(_clip_polygon(bev_polygon(a), bev_polygon(b))) * overlap_z
    union = a.volume + b.volume - inter
    return float(inter / union) if union > 0 else 0.0


@functools.lru_cache(maxsize=PAIR_CACHE_SIZE)
def box_inside(inner: Box, outer: Box, tolerance: float = 1e-3) -> bool:
    """True when every corner of ``inner`` lies inside ``outer`` (metres of slack: ``tolerance``; remembered per pair)."""
    local = outer.to_local(inner.corners())
    return bool(np.all(np.abs(local) <= np.asarray(outer.size) / 2 + tolerance))


def diagnose(
    boxes: BoxSet,
    analysis: OverlapAnalysis,
    resolution: Resolution | None = None,
    point_totals: np.ndarray | None = None,
) -> list[Problem]:
    """All problems of a box set on a scene.

    Parameters
    ----------
    boxes
        The boxes.
    analysis
        Their overlap analysis on the scene.
    resolution
        When given, overlap regions the resolver is unsure about are reported too.
    point_totals
        (K,) points inside each box, when ``analysis`` counts superpoint membership (None: the same as
        ``analysis.total``): a box holding points but no superpoint is not called empty.

    Returns
    -------
    list[Problem]
        Nested boxes first, then boxes with no exclusive points, empty, near-duplicate and degenerate
        boxes, then low-confidence regions.
    """
    problems: list[Problem] = []
    box_list = boxes.boxes
    candidate_pairs = touching_pairs(boxes)
    problems += _nested_problems(box_list, candidate_pairs, analysis)
    problems += _point_count_problems(box_list, analysis, point_totals)
    problems += _near_duplicate_problems(box_list, candidate_pairs, analysis)
    problems += _degenerate_problems(box_list)
    if resolution is not None:
        problems.extend(_low_confidence_problems(boxes, analysis, resolution))
    return problems


def touching_pairs(boxes: BoxSet) -> list[tuple[int, int]]:
    """Positions (i < j) of the boxes whose axis-aligned bounds touch or overlap (vectorised)."""
    if len(boxes) < 2:
        return []
    first, second = np.nonzero(np.triu(_touching_matrix(boxes), k=1))
    return list(zip(first.tolist(), second.tolist(), strict=True))


def _touching_matrix(boxes: BoxSet) -> np.ndarray:
    """(K, K) bool: the axis-aligned bounds of boxes i and j touch or overlap."""
    lo, hi = boxes.aabbs()
    touching = np.all(lo[:, None, :] <= hi[None, :, :], axis=2)
    return touching & touching.T


def _pair_problems(
    box_list: list[Box], i: int, j: int, points_of: Callable[[int], np.ndarray]
) -> tuple[Problem | None, Problem | None]:
    """The nested and the near-duplicate problem of the touching boxes at positions i < j (None: none)."""
    nested = None
    for inner, outer in ((i, j), (j, i)):
        if box_inside(box_list[inner], box_list[outer]):
            nested = _nested_problem(box_list[inner], box_list[outer], points_of(inner))
            break
    iou = box_iou_3d(box_list[i], box_list[j])
    duplicate = (
        _near_duplicate_problem(box_list[i], box_list[j], iou, points_of(i))
        if iou >= NEAR_DUPLICATE_IOU
        else None
    )
    return nested, duplicate


def _nested_problem(a: Box, b: Box, points: np.ndarray) -> Problem:
    return Problem(
        "nested",
        (a.id, b.id),
        f"Box {a.id} ({a.label}) lies entirely inside box {b.id} ({b.label}): every point of the "
        f"inner object is shared. Smallest-box and the shipped teacher (its nested-box prior) give "
        "them to the inner box; nearest-centre and teachers without that prior can give them to "
        "the outer one. Check both boxes; tighten the outer box if it can be drawn without "
        "enclosing the inner one.",
        points,
    )


def _near_duplicate_problem(a: Box, b: Box, iou: float, points: np.ndarray) -> Problem:
    return Problem(
        "near_duplicate",
        (a.id, b.id),
        f"Boxes {a.id} and {b.id} are near-duplicates (3D IoU {iou:.2f}): one object boxed twice? "
        "Delete one of them.",
        points,
    )


def _count_problem(
    box: Box,
    position: int,
    total: int,
    exclusive: int,
    point_total: int | None,
    points_of: Callable[[int], np.ndarray],
) -> Problem | None:
    """The empty or no-exclusive-points problem of one box (None: neither).

    ``point_total``: the points inside the box when ``total`` counts superpoint membership (None: same).
    """
    if total == 0 and point_total:
        return Problem(
            "empty",
            (box.id,),
            f"Box {box.id} ({box.label}) holds {point_total} points but no superpoint mostly inside it, "
            "so its mask is empty: enlarge it onto its object, or use point membership.",
        )
    if total == 0:
        return Problem(
            "empty",
            (box.id,),
            f"Box {box.id} ({box.label}) contains no points: move it onto its object or delete it.",
        )
    if exclusive == 0:
        return Problem(
            "no_exclusive_points",
            (box.id,),
            f"Box {box.id} ({box.label}) has no point of its own: all {total} of its "
            "points are shared with other boxes, so its mask depends entirely on how overlaps are resolved.",
            points_of(position),
        )
    return None


def _nested_problems(
    box_list: list[Box], pairs: list[tuple[int, int]], analysis: OverlapAnalysis
) -> list[Problem]:
    """A box lying wholly inside another (the paper's failure case)."""
    problems = []
    for i, j in pairs:
        for inner, outer in ((i, j), (j, i)):
            if box_inside(box_list[inner], box_list[outer]):
                problems.append(
                    _nested_problem(box_list[inner], box_list[outer], analysis.membership.points_of(inner))
                )
                break
    return problems


def _point_count_problems(
    box_list: list[Box], analysis: OverlapAnalysis, point_totals: np.ndarray | None = None
) -> list[Problem]:
    """Boxes holding no point, and boxes holding no point of their own."""
    problems = (
        _count_problem(
            box,
            position,
            int(analysis.total[position]),
            int(analysis.exclusive[position]),
            None if point_totals is None else int(point_totals[position]),
            analysis.membership.points_of,
        )
        for position, box in enumerate(box_list)
    )
    return [problem for problem in problems if problem is not None]


def _near_duplicate_problems(
    box_list: list[Box], pairs: list[tuple[int, int]], analysis: OverlapAnalysis
) -> list[Problem]:
    """Two boxes around one object (3D IoU at least :data:`NEAR_DUPLICATE_IOU`)."""
    problems = []
    for i, j in pairs:
        iou = box_iou_3d(box_list[i], box_list[j])
        if iou >= NEAR_DUPLICATE_IOU:
            problems.append(
                _near_duplicate_problem(box_list[i], box_list[j], iou, analysis.membership.points_of(i))
            )
    return problems


def _degenerate_problems(box_list: list[Box]) -> list[Problem]:
    """Boxes with a side under :data:`DEGENERATE_EXTENT`."""
    return [
        Problem(
            "degenerate",
            (box.id,),
            f"Box {box.id} ({box.label}) is degenerate: size {tuple(round(s, 4) for s in box.size)} m has a side "
            f"under {DEGENERATE_EXTENT * 100:.0f} cm. Resize it to enclose its object.",
        )
        for box in box_list
        if min(box.size) < DEGENERATE_EXTENT
    ]


def _low_confidence_problems(
    boxes: BoxSet, analysis: OverlapAnalysis, resolution: Resolution
) -> list[Problem]:
    """Overlap regions where the resolver is unsure, grouped by the pair of boxes involved."""
    points, keys = _uncertain_points(boxes, analysis, resolution)
    problems = (
        _low_confidence_problem(boxes, resolution, int(key), points[keys == key]) for key in np.unique(keys)
    )
    return [problem for problem in problems if problem is not None]


def _uncertain_points(
    boxes: BoxSet, analysis: OverlapAnalysis, resolution: Resolution, subset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The points in several boxes resolved with low confidence, sorted, and each one's pair key.

    The key of a point is ``first * K + last`` for the first and last box positions containing it.
    ``subset``: sorted points to look at (None: all).
    """
    membership = analysis.membership
    if subset is None:
        uncertain = (analysis.category == MULTI_BOX) & (resolution.confidence < LOW_CONFIDENCE)
        if not uncertain.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair_mask = uncertain[membership.point_index]
        points, box_pos = membership.point_index[pair_mask], membership.box_index[pair_mask]
        starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]])
        first = np.minimum.reduceat(box_pos, starts) if len(starts) else np.zeros(0, np.int64)
        last = np.maximum.reduceat(box_pos, starts) if len(starts) else np.zeros(0, np.int64)
        return points[starts], first * len(boxes) + last
    subset = np.asarray(subset, dtype=np.int64)
    uncertain = (analysis.category[subset] == MULTI_BOX) & (resolution.confidence[subset] < LOW_CONFIDENCE)
    points = subset[uncertain]
    starts = np.searchsorted(membership.point_index, points, side="left")
    stops = np.searchsorted(membership.point_index, points, side="right")
    # a point's pairs are sorted by box position: its first and last pair are its extremes
    first, last = membership.box_index[starts], membership.box_index[stops - 1]
    return points, first * len(boxes) + last


def _low_confidence_problem(
    boxes: BoxSet, resolution: Resolution, key: int, selected: np.ndarray
) -> Problem | None:
    """The problem of the uncertain points ``selected`` of one pair of boxes (``key``), None if too few."""
    if len(selected) < LOW_CONFIDENCE_MIN_POINTS:
        return None
    ids = boxes.ids
    a, b = boxes[int(key // len(boxes))], boxes[int(key % len(boxes))]
    return Problem(
        "low_confidence",
        (int(ids[key // len(boxes)]), int(ids[key % len(boxes)])),
        f"{len(selected)} points shared by box {a.id} ({a.label}) and box {b.id} ({b.label}) are resolved "
        f"with low confidence (< {LOW_CONFIDENCE})"
        + (f", decided by {who}" if (who := _deciders_of(resolution, selected)) else "")
        + ": check the split there.",
        selected,
    )


def _deciders_of(resolution: Resolution, points: np.ndarray) -> str:
    """Who decided these points ("the network 12, volume rule 3"), "" when the resolver does not say."""
    if resolution.decided_by is None:
        return ""
    return describe_deciders(decider_counts(np.asarray(resolution.decided_by)[points]))


@dataclass
class DiagnosisMemory:
    """What :func:`diagnose_edit` remembers of one diagnosis, to redo only what an edit touched.

    Attributes
    ----------
    boxes
        The boxes diagnosed (K).
    touching
        (K, K) bool: the boxes' axis-aligned bounds touch (:func:`touching_pairs`).
    pair_problems
        (i, j) -> (nested problem, near-duplicate problem), None for none, for touching pairs.
    count_problems
        Per box position: (total, exclusive, point total or None, problem or None) of
        :func:`_point_count_problems`.
    uncertain_points, uncertain_keys
        Sorted points in several boxes resolved with low confidence, and each one's pair key.
    low_confidence
        Pair key -> its low-confidence problem (None: too few points).
    """

    boxes: BoxSet
    touching: np.ndarray
    pair_problems: dict
    count_problems: list
    uncertain_points: np.ndarray
    uncertain_keys: np.ndarray
    low_confidence: dict


def diagnose_edit(
    boxes: BoxSet,
    analysis: OverlapAnalysis,
    resolution: Resolution,
    previous: DiagnosisMemory | None = None,
    changed_boxes: np.ndarray | None = None,
    changed_points: np.ndarray | None = None,
    points_of: Callable[[int], np.ndarray] | None = None,
    point_totals: np.ndarray | None = None,
) -> tuple[list[Problem], DiagnosisMemory]:
    """:func:`diagnose` (with a resolution), redoing after an in-place edit only what the edit touched.

    Parameters
    ----------
    boxes, analysis, resolution
        As for :func:`diagnose`.
    previous
        The memory of the diagnosis before the edit (None: diagnose everything).
    changed_boxes
        (C,) int64 positions of the boxes the edit changed (same ids in the same order).
    changed_points
        (E,) int64 sorted points whose boxes, category, confidence or decider may have changed.
    points_of
        Sorted points inside the box at a position (default: from ``analysis.membership``).
    point_totals
        As for :func:`diagnose`.

    Returns
    -------
    (list[Problem], DiagnosisMemory)
        The problems, equal to :func:`diagnose`'s, and the memory for the next edit.
    """
    points_of = points_of or analysis.membership.points_of
    box_list = boxes.boxes
    k = len(boxes)
    fresh = previous is None or changed_boxes is None or changed_points is None or len(previous.boxes) != k
    changed = np.zeros(k, dtype=bool)
    if not fresh:
        changed[np.asarray(changed_boxes, dtype=np.int64)] = True
    remembered = None if fresh else previous
    touching = _touching_after(boxes, remembered, changed)
    pair_problems = _pair_problems_after(box_list, touching, remembered, changed, points_of)
    count_problems = _count_problems_after(box_list, analysis, remembered, changed, points_of, point_totals)
    u_points, u_keys, low = _low_confidence_after(boxes, analysis, resolution, remembered, changed_points)
    problems = [p for p, _ in pair_problems.values() if p is not None]
    problems += [entry[-1] for entry in count_problems if entry[-1] is not None]
    problems += [p for _, p in pair_problems.values() if p is not None]
    problems += _degenerate_problems(box_list)
    problems += [low[key] for key in sorted(low) if low[key] is not None]
    memory = DiagnosisMemory(boxes, touching, pair_problems, count_problems, u_points, u_keys, low)
    return problems, memory


def _touching_after(boxes: BoxSet, previous: DiagnosisMemory | None, changed: np.ndarray) -> np.ndarray:
    """(K, K) bool :func:`_touching_matrix` of ``boxes``, from ``previous``'s with the rows and columns of
    the ``changed`` boxes ((K,) bool) redone (None: from scratch)."""
    if previous is None:
        return _touching_matrix(boxes)
    touching = previous.touching.copy()
    if changed.any():
        lo, hi = boxes.aabbs()
        for c in np.flatnonzero(changed):
            row = np.all(lo[c] <= hi, axis=1) & np.all(lo <= hi[c], axis=1)
            touching[c, :] = row
            touching[:, c] = row
    return touching


def _pair_problems_after(
    box_list: list[Box],
    touching: np.ndarray,
    previous: DiagnosisMemory | None,
    changed: np.ndarray,
    points_of: Callable[[int], np.ndarray],
) -> dict:
    """(i, j) -> :func:`_pair_problems` of the touching pairs i < j, ``previous``'s for the pairs of
    unchanged boxes (None: every pair anew)."""
    k = len(box_list)
    first, second = np.nonzero(np.triu(touching, k=1)) if k else (np.zeros(0, int), np.zeros(0, int))
    pair_problems = {}
    for i, j in zip(first.tolist(), second.tolist(), strict=True):
        known = None if previous is None or changed[i] or changed[j] else previous.pair_problems.get((i, j))
        pair_problems[(i, j)] = known if known is not None else _pair_problems(box_list, i, j, points_of)
    return pair_problems


def _count_problems_after(
    box_list: list[Box],
    analysis: OverlapAnalysis,
    previous: DiagnosisMemory | None,
    changed: np.ndarray,
    points_of: Callable[[int], np.ndarray],
    point_totals: np.ndarray | None = None,
) -> list:
    """Per box position (total, exclusive, point total, :func:`_count_problem`), ``previous``'s for an
    unchanged box whose point counts are the same (None: every box anew)."""
    count_problems = []
    for position, box in enumerate(box_list):
        point_total = None if point_totals is None else int(point_totals[position])
        figures = (int(analysis.total[position]), int(analysis.exclusive[position]), point_total)
        known = None if previous is None or changed[position] else previous.count_problems[position]
        if known is not None and known[:3] == figures:
            count_problems.append(known)
        else:
            count_problems.append((*figures, _count_problem(box, position, *figures, points_of)))
    return count_problems


def _low_confidence_after(
    boxes: BoxSet,
    analysis: OverlapAnalysis,
    resolution: Resolution,
    previous: DiagnosisMemory | None,
    changed_points: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The uncertain points and their pair keys (:func:`_uncertain_points`), and pair key -> its
    low-confidence problem (None: too few points); from ``previous``'s, with the ``changed_points``
    looked at again (None ``previous``: from scratch)."""
    if previous is None:
        u_points, u_keys = _uncertain_points(boxes, analysis, resolution)
        low = {int(key): None for key in np.unique(u_keys)}
        affected = list(low)
    else:
        subset = np.asarray(changed_points, dtype=np.int64)
        slot = np.clip(np.searchsorted(subset, previous.uncertain_points), 0, max(len(subset) - 1, 0))
        # (an edit may touch no point at all: then no remembered point is hit)
        hit = (subset[slot] == previous.uncertain_points) if len(subset) else np.zeros(len(slot), bool)
        new_points, new_keys = _uncertain_points(boxes, analysis, resolution, subset)
        kept_points, kept_keys = previous.uncertain_points[~hit], previous.uncertain_keys[~hit]
        at = np.searchsorted(kept_points, new_points)
        u_points, u_keys = np.insert(kept_points, at, new_points), np.insert(kept_keys, at, new_keys)
        low = dict(previous.low_confidence)
        affected = np.unique(np.concatenate([previous.uncertain_keys[hit], new_keys])).tolist()
    for key in affected:
        selected = u_points[u_keys == key]
        if len(selected):
            low[key] = _low_confidence_problem(boxes, resolution, key, selected)
        else:
            low.pop(key, None)
    return u_points, u_keys, low


def background_problems(
    boxes: BoxSet, foreground: Foreground, shares: np.ndarray | None = None
) -> list[Problem]:
    """Boxes that hold much background, and boxes whose object lies in a room surface.

    Parameters
    ----------
    boxes
        The boxes (K).
    foreground
        The foreground stage's result for them (:mod:`beep3d.resolve.foreground`).
    shares
        (K,) share of each box's resolved points its mask leaves to background, corrections included
        (:func:`beep3d.resolve.pipeline.background_shares`); None: the stage's ``box_share``.
    """
    problems = []
    shares = foreground.box_share if shares is None else shares
    for position, box in enumerate(boxes):
        share = float(shares[position]) if position < len(shares) else 0.0
        if share > MUCH_BACKGROUND:
            problems.append(
                Problem(
                    "much_background",
                    (box.id,),
                    f"box {box.id} ({box.label}): {share:.0%} of its points are floor, wall or other "
                    "background and were left out of its mask; check that the box fits its object "
                    "(F shrinks a box onto its object's points).",
                )
            )
        if position < len(foreground.kept_surface) and foreground.kept_surface[position]:
            problems.append(
                Problem(
                    "in_surface",
                    (box.id,),
                    f"box {box.id} ({box.label}) lies mostly on the floor, a wall or the ceiling, so its "
                    "points there were kept as its object (right for a door, window or picture); if its "
                    "object stands apart from the surface, tighten the box.",
                )
            )
    return problems
