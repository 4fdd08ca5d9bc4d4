"""The result of resolving boxes into per-point instances, and the resolver interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from beep3d.boxes import BoxSet
from beep3d.scene import Scene

#: What decided a point's box, by code (the ``decided_by`` array of a :class:`Resolution`):
#: 0 it lies in one box or none; 1 the nested-box rule (a box wholly inside others keeps its points);
#: 2 box volume (the smallest-box rule, or the teacher's fallback for a box it does not recognise);
#: 3 the teacher network (eq. 2); 4 the nearest-centre rule.
DECIDERS = ("one box", "nested rule", "volume rule", "network", "centre rule")
(
    DECIDED_BY_ONE_BOX,
    DECIDED_BY_NESTED_RULE,
    DECIDED_BY_VOLUME_RULE,
    DECIDED_BY_NETWORK,
    DECIDED_BY_CENTRE_RULE,
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
