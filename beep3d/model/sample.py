"""What the model consumes: one scene prepared for training or inference (numpy, no torch).

One type serves both: :func:`sample_from_scene` builds it from a scene and its boxes for the teacher
resolver and for the training datasets (whose augmentation maps a sample to a sample); the model's
``collate`` turns a list of them into tensors on a device.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from beep3d.geometry.boxes import BoxSet, Membership
    from beep3d.scene import Scene


#: A point whose training label nobody fixed (:attr:`ModelSample.fixed_labels`).
FREE = -2


@dataclass
class ModelSample:
    """One scene with its boxes, ready for the network.

    Attributes
    ----------
    name
        Scene name (for logs).
    xyz
        (N, 3) float32, metres (after augmentation when training; augmentation returns float64,
        which :func:`with_model_dtypes` casts back).
    rgb
        (N, 3) float32 in [-1, 1] (:func:`normalised_rgb`; colour noise may leave the range slightly).
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
    source_index
        (N,) int64 index of each point in the scene before cropping (None = not cropped).
    fixed_labels
        (N,) int64 labels the annotator or the foreground stage fixed (a training folder's
        ``point_labels.npy``): a box position, -1 fixed background, :data:`FREE` (-2) for points whose
        label the boxes (and the teacher) decide. They override the training targets. None: none fixed.
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
    source_index: np.ndarray | None = None
    fixed_labels: np.ndarray | None = None

    @property
    def num_points(self) -> int:
        return int(len(self.xyz))

    @property
    def num_boxes(self) -> int:
        return int(len(self.box_centers))

    def overlap_counts(self) -> np.ndarray:
        """(N,) int32 number of boxes containing each point."""
        return np.bincount(self.member_points, minlength=self.num_points).astype(np.int32)


def normalised_rgb(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colours -> (N, 3) float32 in [-1, 1] (rgb / 127.5 - 1), the network's colour input."""
    return np.asarray(rgb, dtype=np.float32) / 127.5 - 1.0


def sample_from_scene(
    scene: Scene,
    superpoints: np.ndarray,
    boxes: BoxSet | None = None,
    box_classes: np.ndarray | None = None,
    membership: Membership | None = None,
    gt_instance: np.ndarray | None = None,
    fixed_labels: np.ndarray | None = None,
) -> ModelSample:
    """The one way a scene (and its boxes) becomes a :class:`ModelSample`.

    Parameters
    ----------
    scene
        The scan: xyz (N, 3) metres, rgb (N, 3) uint8.
    superpoints
        (N,) int dense superpoint ids.
    boxes, box_classes, membership
        The boxes, their (K,) class index in the model's class set, and which points they contain;
        None for the teacher's backbone pass, which needs no boxes.
    gt_instance
        (N,) int64 GT box position per point (-1 none), for evaluation only.
    fixed_labels
        (N,) int64 fixed training labels in box positions (see :class:`ModelSample`), or None.

    Returns
    -------
    ModelSample
        rgb normalised with :func:`normalised_rgb`; the scene's arrays are shared, not copied.
    """
    empty3 = np.zeros((0, 3), dtype=np.float64)
    has_boxes = boxes is not None and len(boxes) > 0
    return ModelSample(
        name=scene.name,
        xyz=np.asarray(scene.xyz),
        rgb=normalised_rgb(scene.rgb),
        superpoints=np.asarray(superpoints, dtype=np.int64),
        box_centers=boxes.centers if has_boxes else empty3,
        box_sizes=boxes.sizes if has_boxes else empty3,
        box_yaws=boxes.yaws if has_boxes else np.zeros(0),
        box_classes=np.asarray(box_classes if has_boxes else np.zeros(0), dtype=np.int64),
        box_ids=boxes.ids if has_boxes else np.zeros(0, dtype=np.int64),
        member_points=np.asarray(membership.point_index if membership is not None else [], dtype=np.int64),
        member_boxes=np.asarray(membership.box_index if membership is not None else [], dtype=np.int64),
        gt_instance=gt_instance,
        fixed_labels=None if fixed_labels is None else np.asarray(fixed_labels, dtype=np.int64),
    )


def with_model_dtypes(sample: ModelSample) -> ModelSample:
    """The sample with the dtypes of the attribute docs (float32 geometry) and a GT class per point.

    The GT class of a point is the class of its GT box (``gt_semantic`` from ``gt_instance``).
    """
    gt_semantic = sample.gt_semantic
    if sample.gt_instance is not None and gt_semantic is None:
        classes = np.concatenate([np.asarray(sample.box_classes, dtype=np.int64), [-1]])
        gt_semantic = classes[np.where(sample.gt_instance >= 0, sample.gt_instance, -1)]
    return replace(
        sample,
        xyz=np.asarray(sample.xyz, dtype=np.float32),
        rgb=np.asarray(sample.rgb, dtype=np.float32),
        superpoints=np.asarray(sample.superpoints, dtype=np.int64),
        box_centers=np.asarray(sample.box_centers, dtype=np.float32).reshape(-1, 3),
        box_sizes=np.asarray(sample.box_sizes, dtype=np.float32).reshape(-1, 3),
        box_yaws=np.asarray(sample.box_yaws, dtype=np.float32).reshape(-1),
        box_classes=np.asarray(sample.box_classes, dtype=np.int64),
        box_ids=np.asarray(sample.box_ids, dtype=np.int64),
        member_points=np.asarray(sample.member_points, dtype=np.int64),
        member_boxes=np.asarray(sample.member_boxes, dtype=np.int64),
        gt_instance=None if sample.gt_instance is None else np.asarray(sample.gt_instance, dtype=np.int64),
        gt_semantic=None if gt_semantic is None else np.asarray(gt_semantic, dtype=np.int64),
        fixed_labels=None if sample.fixed_labels is None else np.asarray(sample.fixed_labels, dtype=np.int64),
    )
