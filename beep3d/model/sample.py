"""What the model consumes: one scene prepared for training or inference (numpy, no torch).

Datasets (training/) build these; the teacher resolver (beep3d) builds them from a scene and its
boxes. The model's ``collate`` turns a list of them into tensors on a device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ModelSample:
    """One scene with its boxes, ready for the network.

    Attributes
    ----------
    name
        Scene name (for logs).
    xyz
        (N, 3) float32, metres (after augmentation when training).
    rgb
        (N, 3) float32 in [-1, 1] (rgb / 127.5 - 1).
    superpoints
        (N,) int64 superpoint id per point, dense 0..S-1.
    box_centers
        (K, 3) float32 box centres, metres (same frame as ``xyz``).
    box_sizes
        (K, 3) float32 full extents, metres.
    box_yaws
        (K,) float32 yaw about z, radians.
    box_classes
        (K,) int64 class index 0..C-1 in the model's class set.
    box_ids
        (K,) int64 the boxes' ids (exports use them as instance ids).
    member_points, member_boxes
        (P,) int64 sparse (point, box position) pairs: point ``member_points[i]`` lies inside box
        ``member_boxes[i]`` under the membership rule used (point or superpoint level). Points in one
        pair are P^l, points in two or more are P^u, points in none are background.
    gt_instance
        (N,) int64 ground-truth box position per point (-1 = none), for evaluation only; None when the
        scene has no GT masks (boxes only). Never used by the training losses.
    gt_semantic
        (N,) int64 ground-truth class index per point (-1 = none / not evaluated), evaluation only.
    """

    name: str
    xyz: np.ndarray
    rgb: np.ndarray
    superpoints: np.ndarray
    box_centers: np.ndarray
    box_sizes: np.ndarray
    box_yaws: np.ndarray
    box_classes: np.ndarray
    box_ids: np.ndarray
    member_points: np.ndarray
    member_boxes: np.ndarray
    gt_instance: np.ndarray | None = None
    gt_semantic: np.ndarray | None = None

    @property
    def num_points(self) -> int:
        return int(len(self.xyz))

    @property
    def num_boxes(self) -> int:
        return int(len(self.box_centers))

    def overlap_counts(self) -> np.ndarray:
        """(N,) int32 number of boxes containing each point."""
        return np.bincount(self.member_points, minlength=self.num_points).astype(np.int32)
