"""MAFT's training augmentations, applied to a scene with its boxes and exact box membership.

Points: random rotation about z, x-flip, jitter matrix I + N(0, 0.1), elastic distortion, RGB noise
N(0, 0.1) (one shift per scene, in the [-1, 1] colour scale), crop to at most ``crop_points`` points.

Boxes and membership (documented choice): membership is computed BEFORE augmentation and carried by
point index, so it stays exact whatever the distortion does. The boxes themselves follow the points
approximately: the centre gets the same linear map and the same elastic displacement as a point at
the centre; the yaw follows the image of the box's x axis; the size is the extent of the mapped box
corners in the new yaw frame (a box that holds the whole mapped box). After a crop, only the boxes
that keep at least one member point remain, and membership pairs are restricted to the kept points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from beep3d.model.sample import FREE, ModelSample


def linear_augmentation_matrix(rng: np.random.Generator, jitter: float = 0.1) -> np.ndarray:
    """(3, 3) map = rotation about z (uniform angle) @ x-flip (probability 0.5) @ (I + N(0, jitter))."""
    jitter_matrix = np.eye(3) + rng.normal(0.0, jitter, size=(3, 3))
    flip = np.diag([-1.0 if rng.random() < 0.5 else 1.0, 1.0, 1.0])
    theta = rng.uniform(0.0, 2.0 * np.pi)
    c, s = np.cos(theta), np.sin(theta)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return rotation @ flip @ jitter_matrix


def elastic_displacement(
    xyz: np.ndarray, rng: np.random.Generator, granularity: float, magnitude: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random displacement field covering ``xyz`` (Sotiras-style elastic distortion).

    Gaussian noise on a grid of spacing ``granularity`` metres, smoothed with box filters
    (scipy.ndimage), interpolated trilinearly, scaled by ``magnitude``. Returns the field as a function
    of (M, 3) positions (zero outside the grid), so box centres move with the points around them.
    """
    from scipy.interpolate import RegularGridInterpolator
    from scipy.ndimage import uniform_filter

    half_cells = (np.abs(xyz).max(axis=0) // granularity).astype(int) + 3
    shape = tuple(int(2 * h + 1) for h in half_cells)
    noise = rng.standard_normal((*shape, 3))
    for _ in range(3):
        for axis in range(3):
            noise = uniform_filter(noise, size=[3 if a == axis else 1 for a in range(3)] + [1])
    axes = [np.linspace(-h * granularity, h * granularity, 2 * h + 1) for h in half_cells]
    field = RegularGridInterpolator(axes, noise, bounds_error=False, fill_value=0.0)

    def displacement(points: np.ndarray) -> np.ndarray:
        return field(points) * magnitude

    return displacement


def _boxes_after_linear(
    centers: np.ndarray, sizes: np.ndarray, yaws: np.ndarray, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes after ``x -> matrix @ x``: mapped centres, yaw of the mapped x axis, enclosing sizes."""
    new_centers = centers @ matrix.T
    if len(centers) == 0:
        return new_centers, sizes.copy(), yaws.copy()
    x_axis = np.stack([np.cos(yaws), np.sin(yaws), np.zeros_like(yaws)], axis=1) @ matrix.T
    new_yaws = np.arctan2(x_axis[:, 1], x_axis[:, 0])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    local = signs[None, :, :] * (sizes[:, None, :] / 2)  # (K, 8, 3)
    c, s = np.cos(yaws)[:, None], np.sin(yaws)[:, None]
    world = np.stack(
        [c * local[..., 0] - s * local[..., 1], s * local[..., 0] + c * local[..., 1], local[..., 2]], -1
    )
    mapped = world @ matrix.T
    nc, ns = np.cos(new_yaws)[:, None], np.sin(new_yaws)[:, None]
    in_new_frame = np.stack(
        [
            nc * mapped[..., 0] + ns * mapped[..., 1],
            -ns * mapped[..., 0] + nc * mapped[..., 1],
            mapped[..., 2],
        ],
        -1,
    )
    new_sizes = in_new_frame.max(axis=1) - in_new_frame.min(axis=1)
    return new_centers, new_sizes, new_yaws


def cropped_fixed_labels(fixed: np.ndarray, box_map: np.ndarray) -> np.ndarray:
    """Fixed labels (box positions, -1, -2) renumbered like the kept boxes; a dropped box's points become free."""
    fixed = np.asarray(fixed, dtype=np.int64)
    renumbered = np.where(fixed >= 0, box_map[np.maximum(fixed, 0)], fixed)
    return np.where((fixed >= 0) & (renumbered < 0), FREE, renumbered)


def crop_scene(sample: ModelSample, keep: np.ndarray) -> ModelSample:
    """Keep the points ``keep`` ((M,) sorted indices); keep the boxes that still have a member point
    or a kept point the annotator gave them (a correction's point outside every box, or in a box that
    holds no scan point, still teaches its box).

    Membership pairs are restricted to the kept points (exact); box positions, superpoint ids and GT
    positions are renumbered densely.
    """
    n = len(sample.xyz)
    point_map = np.full(n, -1, dtype=np.int64)
    point_map[keep] = np.arange(len(keep))
    pair_kept = point_map[sample.member_points] >= 0
    member_points = point_map[sample.member_points[pair_kept]]
    member_boxes_old = sample.member_boxes[pair_kept]
    kept_boxes = np.unique(member_boxes_old)
    if sample.fixed_labels is not None:
        given = np.asarray(sample.fixed_labels)[keep]
        kept_boxes = np.union1d(kept_boxes, given[given >= 0]).astype(np.int64)
    box_map = np.full(len(sample.box_centers), -1, dtype=np.int64)
    box_map[kept_boxes] = np.arange(len(kept_boxes))
    gt_instance = None
    if sample.gt_instance is not None:
        old = sample.gt_instance[keep]
        gt_instance = np.where(old >= 0, box_map[np.maximum(old, 0)], -1)
    superpoints = np.unique(sample.superpoints[keep], return_inverse=True)[1].astype(np.int64).reshape(-1)
    return replace(
        sample,
        xyz=sample.xyz[keep],
        rgb=sample.rgb[keep],
        superpoints=superpoints,
        box_centers=sample.box_centers[kept_boxes],
        box_sizes=sample.box_sizes[kept_boxes],
        box_yaws=sample.box_yaws[kept_boxes],
        box_classes=sample.box_classes[kept_boxes],
        box_ids=sample.box_ids[kept_boxes],
        member_points=member_points,
        member_boxes=box_map[member_boxes_old],
        gt_instance=gt_instance,
        gt_semantic=None if sample.gt_semantic is None else sample.gt_semantic[keep],
        fixed_labels=None
        if sample.fixed_labels is None
        else cropped_fixed_labels(sample.fixed_labels[keep], box_map),
        source_index=keep if sample.source_index is None else sample.source_index[keep],
    )


def augment_scene(
    sample: ModelSample,
    rng: np.random.Generator,
    crop_points: int,
    elastic: bool = True,
    rgb_noise: float = 0.1,
) -> ModelSample:
    """MAFT's training augmentations (see the module docstring); ``sample`` is not modified.

    Parameters
    ----------
    sample
        The scene before augmentation (geometry is computed in float64).
    rng
        Source of all randomness (derive it from (seed, epoch, scene index) for reproducible runs).
    crop_points
        Keep at most this many points: those nearest (in x, y) to a random point.
    elastic
        Apply the two elastic distortions (granularity 0.12 m / magnitude 0.8 m and 0.4 m / 3.2 m,
        MAFT's 6 / 40 and 20 / 160 voxels of 2 cm).
    rgb_noise
        Standard deviation of the per-scene colour shift.
    """
    points = np.asarray(sample.xyz, dtype=np.float64)
    centre = points.mean(axis=0) if len(points) else np.zeros(3)
    xyz = points - centre
    box_centers = np.asarray(sample.box_centers, dtype=np.float64) - centre
    matrix = linear_augmentation_matrix(rng)
    xyz = xyz @ matrix.T
    box_centers, box_sizes, box_yaws = _boxes_after_linear(
        box_centers, np.asarray(sample.box_sizes, np.float64), np.asarray(sample.box_yaws, np.float64), matrix
    )
    if elastic and len(xyz):
        for granularity, magnitude in ((0.12, 0.8), (0.4, 3.2)):
            displacement = elastic_displacement(xyz, rng, granularity, magnitude)
            moved_centers = box_centers + displacement(box_centers) if len(box_centers) else box_centers
            xyz = xyz + displacement(xyz)
            box_centers = moved_centers
    rgb = sample.rgb + rng.normal(0.0, rgb_noise, size=3).astype(np.float32)
    out = replace(
        sample,
        xyz=xyz,
        rgb=rgb.astype(np.float32),
        box_centers=box_centers,
        box_sizes=box_sizes,
        box_yaws=box_yaws,
    )
    if len(xyz) > crop_points:
        seed_point = xyz[rng.integers(len(xyz)), :2]
        distance = np.linalg.norm(xyz[:, :2] - seed_point, axis=1)
        keep = np.sort(np.argpartition(distance, crop_points - 1)[:crop_points])
        out = crop_scene(out, keep)
    return out
