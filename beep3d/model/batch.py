"""Collate :class:`ModelSample` objects into torch tensors, with the voxelisation the backbone needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from beep3d.model.sample import ModelSample

#: The U-Net halves the grid this many times at most; spatial shapes are rounded up to a multiple
#: of 2**DOWNSAMPLE_ROUNDING so that no voxel falls off the edge of a strided convolution.
DOWNSAMPLE_ROUNDING = 5


@dataclass
class Batch:
    """Several scenes on one device.

    Per-scene tensors live in lists (their sizes vary); the voxel tensors are concatenated over the
    batch (spconv's layout: voxel_coords rows are (scene index, x, y, z)).

    Attributes
    ----------
    names
        Scene names.
    xyz
        Per scene (N_b, 3) float32, metres.
    rgb
        Per scene (N_b, 3) float32 in [-1, 1].
    superpoints
        Per scene (N_b,) int64 dense superpoint ids 0..S_b-1.
    num_superpoints
        Per scene S_b.
    box_centers, box_sizes, box_yaws, box_classes
        Per scene (K_b, 3), (K_b, 3), (K_b,), (K_b,) int64.
    member_points, member_boxes
        Per scene (P_b,) int64 sparse (point, box) membership pairs.
    voxel_coords
        (V, 4) int32 (scene index, x, y, z) voxel indices, voxel size ``voxel_size``.
    voxel_features
        (V, 6) float32 mean over each voxel's points of (rgb, xyz - scene mean).
    point_to_voxel
        (sum N_b,) int64: the voxel of every point (points concatenated scene after scene).
    spatial_shape
        [X, Y, Z] grid size shared by the batch.
    point_offsets
        (B + 1,) start of each scene in the concatenated points.
    voxel_size
        Voxel edge, metres.
    fixed_labels
        Per scene (N,) int64 fixed training labels (:attr:`beep3d.model.sample.ModelSample.fixed_labels`)
        or None.
    """

    names: list[str]
    xyz: list[torch.Tensor]
    rgb: list[torch.Tensor]
    superpoints: list[torch.Tensor]
    num_superpoints: list[int]
    box_centers: list[torch.Tensor]
    box_sizes: list[torch.Tensor]
    box_yaws: list[torch.Tensor]
    box_classes: list[torch.Tensor]
    member_points: list[torch.Tensor]
    member_boxes: list[torch.Tensor]
    voxel_coords: torch.Tensor
    voxel_features: torch.Tensor
    point_to_voxel: torch.Tensor
    spatial_shape: list[int]
    point_offsets: list[int]
    voxel_size: float
    fixed_labels: list[torch.Tensor | None] | None = None

    @property
    def batch_size(self) -> int:
        return len(self.xyz)

    @property
    def device(self) -> torch.device:
        return self.voxel_features.device


def voxelise(
    xyz_per_scene: list[torch.Tensor], features_per_scene: list[torch.Tensor], voxel_size: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    """Average point features into voxels (torch only: unique + index_add).

    Parameters
    ----------
    xyz_per_scene
        Per scene (N_b, 3) float, metres.
    features_per_scene
        Per scene (N_b, F) float.
    voxel_size
        Voxel edge, metres.

    Returns
    -------
    voxel_coords
        (V, 4) int32 rows (scene index, x, y, z), grid origin at each scene's minimum corner.
    voxel_features
        (V, F) mean feature of each voxel's points.
    point_to_voxel
        (sum N_b,) int64 voxel index of each point.
    spatial_shape
        [X, Y, Z] grid size, rounded up to a multiple of 2**DOWNSAMPLE_ROUNDING.
    """
    grid = [torch.floor((xyz - xyz.min(dim=0).values) / voxel_size).long() for xyz in xyz_per_scene]
    extent = torch.stack([g.max(dim=0).values for g in grid]).max(dim=0).values + 1
    multiple = 2**DOWNSAMPLE_ROUNDING
    shape = ((extent + multiple - 1) // multiple * multiple).tolist()
    scene_index = torch.cat(
        [torch.full((len(g),), b, dtype=torch.long, device=g.device) for b, g in enumerate(grid)]
    )
    cells = torch.cat(grid)
    keys = ((scene_index * shape[0] + cells[:, 0]) * shape[1] + cells[:, 1]) * shape[2] + cells[:, 2]
    unique_keys, point_to_voxel = torch.unique(keys, return_inverse=True)
    features = torch.cat(features_per_scene)
    sums = torch.zeros(len(unique_keys), features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, point_to_voxel, features)
    counts = torch.bincount(point_to_voxel, minlength=len(unique_keys)).to(features.dtype)
    voxel_features = sums / counts[:, None]
    z = unique_keys % shape[2]
    rest = unique_keys // shape[2]
    y = rest % shape[1]
    rest = rest // shape[1]
    x = rest % shape[0]
    b = rest // shape[0]
    voxel_coords = torch.stack([b, x, y, z], dim=1).int()
    return voxel_coords, voxel_features, point_to_voxel, shape


def collate(
    samples: list[ModelSample], device: torch.device | str = "cpu", voxel_size: float = 0.02
) -> Batch:
    """Turn samples into a :class:`Batch` of tensors on ``device``.

    The voxel features are (rgb, xyz minus the scene's mean point), averaged per voxel.
    """
    device = torch.device(device)

    def to(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array)).to(device=device, dtype=dtype)

    xyz = [to(s.xyz, torch.float32) for s in samples]
    rgb = [to(s.rgb, torch.float32) for s in samples]
    features = [torch.cat([c, p - p.mean(dim=0)], dim=1) for c, p in zip(rgb, xyz, strict=True)]
    voxel_coords, voxel_features, point_to_voxel, shape = voxelise(xyz, features, voxel_size)
    superpoints = [to(s.superpoints, torch.long) for s in samples]
    offsets = np.concatenate([[0], np.cumsum([s.num_points for s in samples])]).tolist()
    return Batch(
        names=[s.name for s in samples],
        xyz=xyz,
        rgb=rgb,
        superpoints=superpoints,
        num_superpoints=[int(sp.max().item()) + 1 if len(sp) else 0 for sp in superpoints],
        box_centers=[to(s.box_centers, torch.float32).reshape(-1, 3) for s in samples],
        box_sizes=[to(s.box_sizes, torch.float32).reshape(-1, 3) for s in samples],
        box_yaws=[to(s.box_yaws, torch.float32).reshape(-1) for s in samples],
        box_classes=[to(s.box_classes, torch.long).reshape(-1) for s in samples],
        member_points=[to(s.member_points, torch.long).reshape(-1) for s in samples],
        member_boxes=[to(s.member_boxes, torch.long).reshape(-1) for s in samples],
        voxel_coords=voxel_coords,
        voxel_features=voxel_features,
        point_to_voxel=point_to_voxel,
        spatial_shape=shape,
        point_offsets=offsets,
        voxel_size=float(voxel_size),
        fixed_labels=[None if s.fixed_labels is None else to(s.fixed_labels, torch.long) for s in samples],
    )
