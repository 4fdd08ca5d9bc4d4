"""The result of resolving boxes into per-point instances, and the resolver interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from beep3d.boxes import BoxSet
from beep3d.scene import Scene


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
    """

    instance_ids: np.ndarray
    semantic_ids: np.ndarray
    confidence: np.ndarray
    overlap_counts: np.ndarray


class Resolver(Protocol):
    """Turns (scene, boxes) into a :class:`Resolution`."""

    name: str

    def resolve(self, scene: Scene, boxes: BoxSet) -> Resolution:
        """Resolve every point of ``scene`` to one of ``boxes`` or to background."""
        ...
