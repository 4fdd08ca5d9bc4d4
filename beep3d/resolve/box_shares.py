"""Which box each point was given to, and how a box's points divide: the counting of the foreground stage.

Positions, not ids: a point's box is its position in the :class:`beep3d.geometry.boxes.BoxSet`
(-1 for none), so per-box figures are ``np.bincount`` over positions.
"""

from __future__ import annotations

import numpy as np

from beep3d.geometry.boxes import BoxSet, Membership
from beep3d.geometry.overlap import point_membership
from beep3d.geometry.scene_superpoints import scene_superpoints
from beep3d.scene import Scene


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
    superpoints = scene_superpoints(scene)
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
