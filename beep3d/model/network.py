"""MaftNetwork: the sparse U-Net backbone plus the transformer decoder (student and teacher share it)."""

from __future__ import annotations

import torch
from torch import nn

from beep3d.errors import Beep3dError
from beep3d.model.backbone import SparseUNet, superpoint_mean
from beep3d.model.batch import Batch
from beep3d.model.config import ModelConfig
from beep3d.model.decoder import DecoderOutput, MaftDecoder, PositionHook, SceneContext


class MaftNetwork(nn.Module):
    """Backbone (voxels -> points -> superpoints) and decoder (queries -> instances)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = SparseUNet(config.in_channels, config.backbone_channels, config.blocks_per_level)
        self.decoder = MaftDecoder(config, self.backbone.out_channels)

    def encode(self, batch: Batch, index_cache: dict | None = None) -> list[SceneContext]:
        """Run the backbone once for the batch; per scene the superpoint features and geometry.

        ``index_cache``: shared between teacher and student on the same batch (see ``SparseUNet``).
        """
        if abs(batch.voxel_size - self.config.voxel_size) > 1e-9:
            raise Beep3dError(
                f"the batch was voxelised at {batch.voxel_size} m but the model expects {self.config.voxel_size} m; "
                "pass voxel_size=config.voxel_size to collate()"
            )
        # the batch carries (rgb, xyz); in_channels 3 keeps the colour only (ModelConfig.in_channels)
        voxel_features = self.backbone(
            batch.voxel_features[:, : self.config.in_channels],
            batch.voxel_coords,
            batch.spatial_shape,
            batch.batch_size,
            index_cache,
        )
        point_features = voxel_features[batch.point_to_voxel]
        scenes = []
        for b in range(batch.batch_size):
            start, end = batch.point_offsets[b], batch.point_offsets[b + 1]
            superpoints = batch.superpoints[b]
            count = batch.num_superpoints[b]
            xyz = batch.xyz[b]
            scenes.append(
                SceneContext(
                    superpoint_features=superpoint_mean(point_features[start:end], superpoints, count),
                    superpoint_xyz=superpoint_mean(xyz, superpoints, count),
                    superpoint_sizes=torch.bincount(superpoints, minlength=count).float(),
                    superpoints=superpoints,
                    scene_min=xyz.min(dim=0).values,
                    scene_max=xyz.max(dim=0).values,
                )
            )
        return scenes

    def decode(
        self,
        scenes: list[SceneContext],
        initial_positions: list[torch.Tensor | None] | None = None,
        position_hooks: list[PositionHook | None] | None = None,
    ) -> list[DecoderOutput]:
        """Decode each scene (a python loop over scenes), optionally with given position queries and hooks."""
        outputs = []
        for b, scene in enumerate(scenes):
            positions = None if initial_positions is None else initial_positions[b]
            hook = None if position_hooks is None else position_hooks[b]
            outputs.append(self.decoder(scene, positions, hook))
        return outputs

    def forward(self, batch: Batch) -> list[DecoderOutput]:
        """Student-style forward: learnable position queries."""
        return self.decode(self.encode(batch))
