"""The teacher after an in-place edit of a few boxes: a few queries decoded again, a few points decided again.

A full teacher resolution of a 2M-point scan with 500 boxes decodes every box's query against every
superpoint (seconds). With the queries pinned on the box centres (the shipped teacher;
:mod:`beep3d.model.pinned_decoding`), :func:`edited_teacher_resolution` does only this after an edit:

1. the points decided again are the edit's points (inside a changed box before or after it) and, when
   a box became nested or stopped being nested (the nested-box rule), that box's contested points;
2. the moved boxes' queries run every decoder layer again, and the queries of every box containing a
   point decided again run the layers after the first again: their rows then equal a full decode's,
   so every point decided again is decided as a full resolution decides it (with the two-layer
   decoder of the shipped teacher; see :mod:`beep3d.model.pinned_decoding`);
3. every other point keeps its box, confidence and decider.

What can differ from a full resolution: the other queries keep their contents, whose last layer's
self-attention saw the moved box where it was when they were last decoded, and their points keep the
decisions made then. At 2M points and 500 boxes, moving a box by 5 cm changed those queries' mask
logits by at most 0.0007 (logits average 4.8 in size); ``bench/bench_edit_latency.py --resolver
teacher`` counts the points where the result of 50 edits differs from a full resolution. Any full
resolution (:meth:`beep3d.resolve.teacher_resolver.TeacherResolver.resolve`) starts afresh.

Where boxes x superpoints is small (:data:`EXACT_PAIRS`: a 100k-point scan with 50 boxes), an edit
decodes every query again and decides every contested point again: the result is a full
resolution's, at a fraction of its cost (the scene's key terms are kept).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from beep3d.classes import ClassSet
from beep3d.geometry.boxes import BoxSet, Membership, MembershipEdit
from beep3d.resolve.resolution import Resolution, semantic_ids_of_positions
from beep3d.scene import Scene

#: Up to this many queries x superpoints an edit decodes every query again (exact; the decoder
#: takes about 0.3 microseconds per query-superpoint pair and layer on one core of the project's
#: machine, so this is about 100 ms): a 100k-point scan with 50 boxes (1,200 superpoints) is exact,
#: a 2M-point scan with 500 boxes (27,000 superpoints) decodes only the queries an edit touches.
EXACT_PAIRS = 150_000

if TYPE_CHECKING:
    from beep3d.model.beep3d_model import Beep3DModel, SceneEncoding
    from beep3d.model.pinned_decoding import PinnedDecoding


@dataclass
class TeacherEditMemory:
    """What a teacher resolution keeps for the next edit of its boxes.

    Attributes
    ----------
    scene
        The scan resolved (weakly held).
    boxes
        The boxes resolved (K).
    decoding
        The pinned decoding of those boxes (updated in place by the next edit).
    priority
        (K,) bool boxes the nested-box rule prioritises (None: rule off).
    resolution
        The resolution these belong to: an edit is done incrementally only from it.
    """

    scene: weakref.ref[Scene]
    boxes: BoxSet
    decoding: PinnedDecoding
    priority: np.ndarray | None
    resolution: Resolution

    def fits(self, scene: Scene, previous: Resolution, boxes: BoxSet) -> bool:
        """Whether an edit of ``previous`` (this memory's resolution) of ``scene`` to ``boxes`` can use it."""
        return self.scene() is scene and self.resolution is previous and len(self.boxes) == len(boxes)


def nested_priority(membership: Membership, counts: np.ndarray) -> np.ndarray:
    """(K,) bool boxes with points but none of their own (the nested-box rule's boxes).

    The numpy twin of :func:`beep3d.model.pseudo_masks.nested_box_priority`; ``counts`` is
    ``membership.counts()``.
    """
    k = membership.num_boxes
    own = np.bincount(membership.box_index[counts[membership.point_index] == 1], minlength=k)
    present = np.bincount(membership.box_index, minlength=k) > 0
    return (own == 0) & present


def pairs_of(membership: Membership, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (point, box) pairs of sorted ``points``, points numbered by their place in ``points``.

    Returns
    -------
    (P', ) int64 local point numbers and (P',) int64 box positions, sorted by point.
    """
    starts = np.searchsorted(membership.point_index, points, side="left")
    stops = np.searchsorted(membership.point_index, points, side="right")
    lengths = stops - starts
    local = np.repeat(np.arange(len(points), dtype=np.int64), lengths)
    offsets = np.arange(len(local), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return local, membership.box_index[np.repeat(starts, lengths) + offsets]


def decide_points(
    model: Beep3DModel,
    encoding: SceneEncoding,
    boxes: BoxSet,
    membership: Membership,
    decoding: PinnedDecoding,
    priority: np.ndarray | None,
    points: np.ndarray,
    overlap_score: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eq. 2-3 with the decoding's logits at ``points`` only (no recognition check).

    Parameters
    ----------
    model, encoding
        The teacher and the scene's encoding.
    boxes, membership
        The boxes (K) and their point membership.
    decoding
        Their pinned decoding (query k is box k's).
    priority
        (K,) bool nested boxes of the whole scene, or None.
    points
        (D,) int64 sorted points to decide.
    overlap_score
        What eq. 2 compares (:data:`beep3d.model.config.OVERLAP_SCORES`).

    Returns
    -------
    positions, margins, decided_by
        (D,) int64 box position (-1 none), (D,) float32 margin, (D,) int8 decider.
    """
    import torch

    device = encoding.scene.superpoints.device
    local, box_index = pairs_of(membership, points)

    def tensor(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

    point_tensor = tensor(points, torch.long)
    labels, margins, decided_by = model.decide_with_logits(
        decoding.logits,
        encoding.scene.superpoints[point_tensor],
        torch.arange(len(boxes), device=device),
        None,
        tensor(local, torch.long),
        tensor(box_index, torch.long),
        len(points),
        None if priority is None else tensor(priority, torch.bool),
        tensor(boxes.sizes, torch.float32),
        overlap_score,
    )
    return labels.cpu().numpy(), margins.cpu().numpy(), decided_by.cpu().numpy()


def edited_teacher_resolution(
    model: Beep3DModel,
    encoding: SceneEncoding,
    scene: Scene,
    boxes: BoxSet,
    memory: TeacherEditMemory,
    edit: MembershipEdit,
    overlap_score: str,
    class_set: ClassSet,
    nested_rule: bool,
    exact_pairs: int = 0,
) -> tuple[Resolution, np.ndarray, bool]:
    """The teacher's resolution after ``edit``, from ``memory`` (updated in place; see the module notes).

    Parameters
    ----------
    model, encoding
        The teacher and the scene's cached encoding.
    scene, boxes
        The scan and the boxes after the edit (same count and order as ``memory.boxes``).
    memory
        What the resolution before the edit kept (:meth:`TeacherEditMemory.fits` must hold).
    edit
        The membership edit (point or superpoint level).
    overlap_score
        What eq. 2 compares.
    class_set
        For the semantic ids (:func:`semantic_ids_of_positions`).
    nested_rule
        Whether the nested-box rule is on (the checkpoint's ``nested_box_prior``).
    exact_pairs
        When boxes x superpoints is at most this, every query is decoded again and every contested
        point decided again: the result is a full resolution's (:data:`EXACT_PAIRS`).

    Returns
    -------
    (Resolution, np.ndarray, bool)
        The resolution, the sorted points decided again (every other point's values are the
        previous resolution's), and whether the result is a full resolution's.
    """
    membership = edit.membership
    counts = membership.counts()
    priority = nested_priority(membership, counts) if nested_rule else None
    moved = np.flatnonzero(np.any(boxes.centers != memory.boxes.centers, axis=1))
    exact = len(boxes) * memory.decoding.logits.shape[1] <= exact_pairs
    if exact:  # few queries x superpoints: every query and every contest brought up to date
        points = np.union1d(edit.points, np.flatnonzero(counts >= 2))
        rows = np.arange(len(boxes), dtype=np.int64)
    else:
        parts = [edit.points]
        if priority is not None and memory.priority is not None:
            for position in np.flatnonzero(priority != memory.priority):  # the nested-box rule changed
                inside = membership.points_of(int(position))
                parts.append(inside[counts[inside] >= 2])
        points = np.unique(np.concatenate(parts)) if len(parts) > 1 else edit.points
        _, boxes_there = pairs_of(membership, points)
        rows = np.unique(np.concatenate([boxes_there, edit.changed, moved]).astype(np.int64))
    model.teacher_redecode(encoding, memory.decoding, boxes.centers, moved, rows)
    positions, margins, decided_by = decide_points(
        model, encoding, boxes, membership, memory.decoding, priority, points, overlap_score
    )
    previous = memory.resolution
    part_counts = counts[points]
    instance_ids = previous.instance_ids.copy()
    instance_ids[points] = np.where(positions >= 0, boxes.ids[np.maximum(positions, 0)], -1)
    semantic_ids = previous.semantic_ids.copy()
    semantic_ids[points] = semantic_ids_of_positions(positions, boxes, class_set)
    confidence = previous.confidence.copy()
    confidence[points] = np.where(part_counts >= 2, np.clip(margins, 0.0, 1.0), 1.0)
    overlap_counts = previous.overlap_counts.copy()
    overlap_counts[points] = part_counts
    decided = previous.decided_by.copy()
    decided[points] = decided_by
    resolution = Resolution(instance_ids, semantic_ids, confidence, overlap_counts, decided)
    memory.boxes, memory.priority, memory.resolution = boxes, priority, resolution
    return resolution, points, exact
