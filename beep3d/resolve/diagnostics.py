"""Failure diagnostics: the box configurations that make masks wrong or ambiguous, in plain words.

Each problem is a typed record with a sentence for people and, where it helps, the points to frame.
The paper's known failure (appendix A3, Fig. A2) is a box nested inside another: the inner object can
be lost entirely, so it is reported first.
"""

from __future__ import annotations

import functools
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


def diagnose(boxes: BoxSet, analysis: OverlapAnalysis, resolution: Resolution | None = None) -> list[Problem]:
    """All problems of a box set on a scene.

    Parameters
    ----------
    boxes
        The boxes.
    analysis
        Their overlap analysis on the scene.
    resolution
        When given, overlap regions the resolver is unsure about are reported too.

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
    problems += _point_count_problems(box_list, analysis)
    problems += _near_duplicate_problems(box_list, candidate_pairs, analysis)
    problems += _degenerate_problems(box_list)
    if resolution is not None:
        problems.extend(_low_confidence_problems(boxes, analysis, resolution))
    return problems


def touching_pairs(boxes: BoxSet) -> list[tuple[int, int]]:
    """Positions (i < j) of the boxes whose axis-aligned bounds touch or overlap (vectorised)."""
    if len(boxes) < 2:
        return []
    lo, hi = boxes.aabbs()
    touching = np.all(lo[:, None, :] <= hi[None, :, :], axis=2)
    touching &= touching.T
    first, second = np.nonzero(np.triu(touching, k=1))
    return list(zip(first.tolist(), second.tolist(), strict=True))


def _nested_problems(
    box_list: list[Box], pairs: list[tuple[int, int]], analysis: OverlapAnalysis
) -> list[Problem]:
    """A box lying wholly inside another (the paper's failure case)."""
    problems = []
    for i, j in pairs:
        for inner, outer in ((i, j), (j, i)):
            if box_inside(box_list[inner], box_list[outer]):
                a, b = box_list[inner], box_list[outer]
                problems.append(
                    Problem(
                        "nested",
                        (a.id, b.id),
                        f"Box {a.id} ({a.label}) lies entirely inside box {b.id} ({b.label}): every point of the "
                        f"inner object is shared. Smallest-box and the shipped teacher (its nested-box prior) give "
                        "them to the inner box; nearest-centre and teachers without that prior can give them to "
                        "the outer one. Check both boxes; tighten the outer box if it can be drawn without "
                        "enclosing the inner one.",
                        analysis.membership.points_of(inner),
                    )
                )
                break
    return problems


def _point_count_problems(box_list: list[Box], analysis: OverlapAnalysis) -> list[Problem]:
    """Boxes holding no point, and boxes holding no point of their own."""
    problems = []
    for position, box in enumerate(box_list):
        if analysis.total[position] == 0:
            problems.append(
                Problem(
                    "empty",
                    (box.id,),
                    f"Box {box.id} ({box.label}) contains no points: move it onto its object or delete it.",
                )
            )
        elif analysis.exclusive[position] == 0:
            problems.append(
                Problem(
                    "no_exclusive_points",
                    (box.id,),
                    f"Box {box.id} ({box.label}) has no point of its own: all {analysis.total[position]} of its "
                    "points are shared with other boxes, so its mask depends entirely on how overlaps are resolved.",
                    analysis.membership.points_of(position),
                )
            )
    return problems


def _near_duplicate_problems(
    box_list: list[Box], pairs: list[tuple[int, int]], analysis: OverlapAnalysis
) -> list[Problem]:
    """Two boxes around one object (3D IoU at least :data:`NEAR_DUPLICATE_IOU`)."""
    problems = []
    for i, j in pairs:
        iou = box_iou_3d(box_list[i], box_list[j])
        if iou >= NEAR_DUPLICATE_IOU:
            a, b = box_list[i], box_list[j]
            problems.append(
                Problem(
                    "near_duplicate",
                    (a.id, b.id),
                    f"Boxes {a.id} and {b.id} are near-duplicates (3D IoU {iou:.2f}): one object boxed twice? "
                    "Delete one of them.",
                    analysis.membership.points_of(i),
                )
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
    membership = analysis.membership
    uncertain = (analysis.category == MULTI_BOX) & (resolution.confidence < LOW_CONFIDENCE)
    if not uncertain.any():
        return []
    pair_mask = uncertain[membership.point_index]
    points, box_pos = membership.point_index[pair_mask], membership.box_index[pair_mask]
    starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]])
    first = np.minimum.reduceat(box_pos, starts)
    last = np.maximum.reduceat(box_pos, starts)
    point_of_group = points[starts]
    ids = boxes.ids
    problems = []
    keys = first * len(boxes) + last
    for key in np.unique(keys):
        selected = point_of_group[keys == key]
        if len(selected) < LOW_CONFIDENCE_MIN_POINTS:
            continue
        a, b = boxes[int(key // len(boxes))], boxes[int(key % len(boxes))]
        problems.append(
            Problem(
                "low_confidence",
                (int(ids[key // len(boxes)]), int(ids[key % len(boxes)])),
                f"{len(selected)} points shared by box {a.id} ({a.label}) and box {b.id} ({b.label}) are resolved "
                f"with low confidence (< {LOW_CONFIDENCE})"
                + (f", decided by {who}" if (who := _deciders_of(resolution, selected)) else "")
                + ": check the split there.",
                selected,
            )
        )
    return problems


def _deciders_of(resolution: Resolution, points: np.ndarray) -> str:
    """Who decided these points ("the network 12, volume rule 3"), "" when the resolver does not say."""
    if resolution.decided_by is None:
        return ""
    subset = np.zeros(len(resolution.decided_by), dtype=bool)
    subset[points] = True
    return describe_deciders(decider_counts(resolution.decided_by, subset))


def background_problems(boxes: BoxSet, foreground: Foreground) -> list[Problem]:
    """Boxes that hold much background, and boxes whose object lies in a room surface.

    Parameters
    ----------
    boxes
        The boxes (K).
    foreground
        The foreground stage's result for them (:mod:`beep3d.resolve.foreground`).
    """
    problems = []
    for position, box in enumerate(boxes):
        share = float(foreground.box_share[position]) if position < len(foreground.box_share) else 0.0
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
