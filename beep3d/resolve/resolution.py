"""The result of resolving boxes into per-point instances, and the resolver interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from beep3d.classes import ClassSet
from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.scene import Scene

#: What decided a point's box, by code (the ``decided_by`` array of a :class:`Resolution`):
#: 0 it lies in one box or none; 1 the nested-box rule (a box wholly inside others keeps its points);
#: 2 box volume (the smallest-box rule, or the teacher's fallback for a box it does not recognise);
#: 3 the teacher network (eq. 2); 4 the nearest-centre rule; 5 the foreground stage took the point
#: out of its box (:mod:`beep3d.resolve.foreground`); 6 the annotator's click or stroke
#: (:mod:`beep3d.resolve.corrections`).
DECIDERS = ("one box", "nested rule", "volume rule", "network", "centre rule", "foreground", "correction")
(
    DECIDED_BY_ONE_BOX,
    DECIDED_BY_NESTED_RULE,
    DECIDED_BY_VOLUME_RULE,
    DECIDED_BY_NETWORK,
    DECIDED_BY_CENTRE_RULE,
    DECIDED_BY_FOREGROUND,
    DECIDED_BY_CORRECTION,
) = range(len(DECIDERS))


def decided_by_rule(overlap_counts: np.ndarray, code: int) -> np.ndarray:
    """(N,) int8 ``decided_by`` of a resolver with one rule: ``code`` where a point is in several boxes."""
    counts = np.asarray(overlap_counts)
    return np.where(counts >= 2, code, DECIDED_BY_ONE_BOX).astype(np.int8)


def decider_counts(decided_by: np.ndarray | None, subset: np.ndarray | None = None) -> dict[str, int]:
    """How many points in several boxes each decider settled: name -> count (deciders with none left out).

    Parameters
    ----------
    decided_by
        (N,) int8 codes of :data:`DECIDERS` (None: nothing reported, an empty dict).
    subset
        Optional (N,) bool: count only these points.
    """
    if decided_by is None:
        return {}
    codes = np.asarray(decided_by)
    if subset is not None:
        codes = codes[np.asarray(subset, dtype=bool)]
    counts = np.bincount(codes[codes != DECIDED_BY_ONE_BOX].astype(np.int64), minlength=len(DECIDERS))
    return {DECIDERS[code]: int(count) for code, count in enumerate(counts) if count}


def describe_deciders(counts: dict[str, int]) -> str:
    """``"network 120, volume rule 30"``: a :func:`decider_counts` result for people ("" when empty)."""
    return ", ".join(f"{name} {count:,}" for name, count in counts.items())


@dataclass(frozen=True)
class Resolution:
    """Per-point instance masks resolved from boxes.

    Attributes
    ----------
    instance_ids
        (N,) int32: the id of the box each point belongs to, or -1 (background).
    semantic_ids
        (N,) int32: the benchmark class id of that box's label (NYU40 for ScanNet classes), -1 for
        background and unknown labels.
    confidence
        (N,) float32 in [0, 1]: 1 for points inside exactly one box and for background; for points
        inside several boxes, how sure the resolver is (for the teacher, the margin between the best
        and the second-best containing box).
    overlap_counts
        (N,) int32: number of boxes containing each point under the membership rule used.
    decided_by
        (N,) int8: what decided each point's box, a code of :data:`DECIDERS` (None: not reported).
    """

    instance_ids: np.ndarray
    semantic_ids: np.ndarray
    confidence: np.ndarray
    overlap_counts: np.ndarray
    decided_by: np.ndarray | None = None


class Resolver(Protocol):
    """Turns (scene, boxes) into a :class:`Resolution`."""

    name: str

    def resolve(self, scene: Scene, boxes: BoxSet) -> Resolution:
        """Resolve every point of ``scene`` to one of ``boxes`` or to background."""
        ...


def empty_resolution(num_points: int) -> Resolution:
    """Every point background (no boxes): instance and semantic -1, confidence 1."""
    n = int(num_points)
    return Resolution(
        np.full(n, -1, np.int32),
        np.full(n, -1, np.int32),
        np.ones(n, np.float32),
        np.zeros(n, np.int32),
        np.zeros(n, np.int8),
    )


def resolution_from_scores(
    membership: Membership,
    boxes: BoxSet,
    scores: np.ndarray,
    class_set: ClassSet,
    rule: int = DECIDED_BY_ONE_BOX,
) -> Resolution:
    """Assign each point to its containing box with the highest score.

    Parameters
    ----------
    membership
        (point, box) pairs; only these boxes are candidates for a point (the paper's eq. 2 restriction).
    boxes
        The boxes, in the positions ``membership`` refers to.
    scores
        (P,) float score of each pair (higher wins).
    class_set
        Maps box labels to semantic ids.
    rule
        The ``decided_by`` code (:data:`beep3d.resolve.resolution.DECIDERS`) of points in several boxes.

    Returns
    -------
    Resolution
        Confidence for P^u points is the margin between the best and second-best score among the
        containing boxes, clipped to [0, 1]; 1 elsewhere.
    """
    n = membership.num_points
    counts = membership.counts()
    point_index, box_index = membership.point_index, membership.box_index
    scores = np.asarray(scores, dtype=np.float64)
    box_ids = boxes.ids
    instance_ids = np.full(n, -1, dtype=np.int32)
    confidence = np.ones(n, dtype=np.float32)
    position_of_point = np.full(n, -1, dtype=np.int64)
    # a point in one box: that box (most pairs; no sorting needed)
    single = counts[point_index] == 1
    instance_ids[point_index[single]] = box_ids[box_index[single]]
    position_of_point[point_index[single]] = box_index[single]
    # a point in several: sort its pairs by (point, -score); the first is its best box
    shared = ~single
    point_shared, box_shared, score_shared = point_index[shared], box_index[shared], scores[shared]
    order = np.lexsort((-score_shared, point_shared))
    point_sorted, box_sorted, score_sorted = point_shared[order], box_shared[order], score_shared[order]
    first = np.ones(len(point_sorted), dtype=bool)
    first[1:] = point_sorted[1:] != point_sorted[:-1]
    best_pos = np.flatnonzero(first)
    instance_ids[point_sorted[best_pos]] = box_ids[box_sorted[best_pos]]
    position_of_point[point_sorted[best_pos]] = box_sorted[best_pos]
    if len(best_pos):
        margin = score_sorted[best_pos] - score_sorted[best_pos + 1]
        confidence[point_sorted[best_pos]] = np.clip(margin, 0.0, 1.0)
    return Resolution(
        instance_ids,
        semantic_ids_of_positions(position_of_point, boxes, class_set),
        confidence,
        counts,
        decided_by_rule(counts, rule),
    )


def semantic_ids_of_positions(positions: np.ndarray, boxes: BoxSet, class_set: ClassSet) -> np.ndarray:
    """(N,) int32 class id of the box at each point's box position (-1 for position -1 or unknown labels)."""
    semantic_of_box = np.array([class_set.id_of(label) for label in boxes.labels] + [-1], dtype=np.int32)
    return semantic_of_box[np.asarray(positions, dtype=np.int64)]  # -1 indexes the trailing background entry


def uniform_resolution(membership: Membership, boxes: BoxSet, class_set: ClassSet) -> Resolution:
    """Resolution when no point lies in two boxes (or when every containing box scores the same)."""
    return resolution_from_scores(membership, boxes, np.ones(len(membership.point_index)), class_set)
