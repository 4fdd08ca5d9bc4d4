"""MAFT's sparse-convolution U-Net, with voxel-to-point mapping and superpoint mean pooling.

The spconv algorithm is chosen from the input's device at every forward pass
(:func:`select_conv_algorithm`): ``ConvAlgo.Native`` on CPU (the only one spconv runs there), spconv's
default (implicit GEMM) on CUDA. spconv 2.3 stores all weights in one layout whatever the algorithm,
so one checkpoint serves both devices.
"""

from __future__ import annotations

import logging

import torch


def _import_spconv_for_cpu() -> None:
    """Import spconv without its CUDA kernel tables when no CUDA device can ever be used.

    spconv (a CUDA build) describes every implicit-GEMM kernel it ships when ``spconv.algo`` is
    imported: 4-8 s of Python on this project's 2-core machine, for kernels that run only on CUDA.
    On CPU spconv runs ``ConvAlgo.Native`` (gather, torch matmul, scatter), which uses none of them,
    so without CUDA the tables are built empty: the same numbers, seconds sooner (the first teacher
    resolution). Any surprise in spconv's layout falls back to its normal import.
    """
    if torch.cuda.is_available():
        return
    try:
        import spconv.core as core

        saved = core.ALL_IMPGEMM_PARAMS, core.ALL_NATIVE_PARAMS
    except (ImportError, AttributeError):
        return
    core.ALL_IMPGEMM_PARAMS, core.ALL_NATIVE_PARAMS = [], []
    try:
        import spconv.algo  # noqa: F401 (its kernel tables are built now, empty)
    except Exception:  # noqa: BLE001 (spconv changed: its own import below reports real errors)
        import sys

        sys.modules.pop("spconv.algo", None)
    finally:
        core.ALL_IMPGEMM_PARAMS, core.ALL_NATIVE_PARAMS = saved


_import_spconv_for_cpu()

import spconv.pytorch as spconv  # noqa: E402 (after the CPU set-up above)
from spconv.core import ConvAlgo  # noqa: E402
from spconv.pytorch.conv import SparseConvolution  # noqa: E402
from torch import nn  # noqa: E402

# spconv asks torch.fx whether it is tracing on every forward pass, and torch 2.13 answers with a
# one-off warning about that API on stderr; it says nothing about this code, so users do not see it.
logging.getLogger("torch.fx._symbolic_trace").setLevel(logging.ERROR)

BN_EPS = 1e-4
#: Index keys of the full-resolution submanifold convolutions (see ``SparseUNet.forward``).
SHARED_INDEX_KEYS = ("stem", "subm0")
#: Index keys of the full-resolution submanifold convolutions (see ``SparseUNet.forward``).
SHARED_INDEX_KEYS = ("stem", "subm0")


def conv_algorithm_for(device: torch.device) -> ConvAlgo:
    """``ConvAlgo.Native`` on CPU, implicit GEMM (spconv's default for 3x3x3) on CUDA."""
    return ConvAlgo.Native if device.type == "cpu" else ConvAlgo.MaskImplicitGemm


def select_conv_algorithm(module: nn.Module, device: torch.device) -> None:
    """Set the algorithm of every sparse convolution inside ``module`` for tensors on ``device``."""
    algorithm = conv_algorithm_for(device)
    for child in module.modules():
        if isinstance(child, SparseConvolution):
            child.algo = algorithm


def _norm_relu(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm1d(channels, eps=BN_EPS), nn.ReLU())


class ResidualBlock(spconv.SparseModule):
    """Pre-norm residual block: (BN, ReLU, SubMConv3d k3) twice, plus a 1x1 shortcut when channels change."""

    def __init__(self, in_channels: int, out_channels: int, indice_key: str) -> None:
        super().__init__()
        self.shortcut = (
            None if in_channels == out_channels else nn.Linear(in_channels, out_channels, bias=False)
        )
        self.body = spconv.SparseSequential(
            _norm_relu(in_channels),
            spconv.SubMConv3d(in_channels, out_channels, 3, padding=1, bias=False, indice_key=indice_key),
            _norm_relu(out_channels),
            spconv.SubMConv3d(out_channels, out_channels, 3, padding=1, bias=False, indice_key=indice_key),
        )

    def forward(self, x: spconv.SparseConvTensor) -> spconv.SparseConvTensor:
        identity = x.features if self.shortcut is None else self.shortcut(x.features)
        out = self.body(x)
        return out.replace_feature(out.features + identity)


class UNetLevel(nn.Module):
    """One U-Net level: blocks, then (if deeper levels exist) down, recurse, up, concat skip, blocks."""

    def __init__(self, channels: tuple[int, ...], blocks: int, level: int = 0) -> None:
        super().__init__()
        width = channels[0]
        key = f"subm{level}"
        self.encoder = spconv.SparseSequential(*[ResidualBlock(width, width, key) for _ in range(blocks)])
        self.deeper = None
        if len(channels) > 1:
            down_key = f"down{level}"
            self.down = spconv.SparseSequential(
                _norm_relu(width),
                spconv.SparseConv3d(width, channels[1], 2, stride=2, bias=False, indice_key=down_key),
            )
            self.deeper = UNetLevel(channels[1:], blocks, level + 1)
            self.up = spconv.SparseSequential(
                _norm_relu(channels[1]),
                spconv.SparseInverseConv3d(channels[1], width, 2, bias=False, indice_key=down_key),
            )
            self.decoder = spconv.SparseSequential(
                *[ResidualBlock(2 * width if i == 0 else width, width, key) for i in range(blocks)]
            )

    def forward(self, x: spconv.SparseConvTensor) -> spconv.SparseConvTensor:
        x = self.encoder(x)
        if self.deeper is None:
            return x
        skip = x.features
        up = self.up(self.deeper(self.down(x)))
        return self.decoder(up.replace_feature(torch.cat([skip, up.features], dim=1)))


class SparseUNet(nn.Module):
    """Stem SubMConv3d(in -> C0, k3), the U-Net levels, final BN + ReLU; output C0 features per voxel."""

    def __init__(self, in_channels: int, channels: tuple[int, ...], blocks_per_level: int) -> None:
        super().__init__()
        self.out_channels = channels[0]
        self.stem = spconv.SparseSequential(
            spconv.SubMConv3d(in_channels, channels[0], 3, padding=1, bias=False, indice_key="stem")
        )
        self.unet = UNetLevel(tuple(channels), blocks_per_level)
        self.head = _norm_relu(channels[0])
        self._algorithm_device: torch.device | None = None

    def forward(
        self,
        voxel_features: torch.Tensor,
        voxel_coords: torch.Tensor,
        spatial_shape: list[int],
        batch_size: int,
        index_cache: dict | None = None,
    ) -> torch.Tensor:
        """(V, in) voxel features + (V, 4) int32 coords -> (V, C0) voxel features (same order).

        ``index_cache``: a dict shared by two networks run on the same voxels (teacher then student).
        The first run stores the full-resolution submanifold neighbour indices in it, the second
        reuses them instead of rebuilding them. Only full-resolution indices are shared: they depend
        on the input voxels alone, not on another layer's output.
        """
        if self._algorithm_device != voxel_features.device:
            select_conv_algorithm(self, voxel_features.device)
            self._algorithm_device = voxel_features.device
        reused = {key: index_cache[key] for key in SHARED_INDEX_KEYS} if index_cache else {}
        x = spconv.SparseConvTensor(
            voxel_features, voxel_coords.int(), spatial_shape, batch_size, indice_dict=reused
        )
        x = self.unet(self.stem(x))
        if index_cache is not None and not index_cache:
            index_cache.update({key: x.indice_dict[key] for key in SHARED_INDEX_KEYS})
        return self.head(x.features)


def superpoint_mean(values: torch.Tensor, superpoints: torch.Tensor, num_superpoints: int) -> torch.Tensor:
    """Mean of ``values`` (N, F) per superpoint id (N,) -> (S, F) (empty superpoints give 0).

    Summed and divided in float32 with autocast off, returned in ``values``' dtype: in fp16 the sum
    over a large superpoint, and its point count itself (30k points), overflow 65504.
    """
    with torch.autocast(device_type=values.device.type, enabled=False):
        sums = torch.zeros(num_superpoints, values.shape[1], dtype=torch.float32, device=values.device)
        sums.index_add_(0, superpoints, values.float())
        counts = torch.bincount(superpoints, minlength=num_superpoints).clamp(min=1).to(torch.float32)
        means = sums / counts[:, None]
    return means.to(values.dtype)
