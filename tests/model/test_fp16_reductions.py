"""Mask and superpoint means stay finite and exact with fp16 inputs and under fp16 autocast.

On CUDA training runs under fp16 autocast by default; counts of thousands of points times features
overflow fp16 (max 65504) unless these reductions are done in float32.
"""

from __future__ import annotations

import torch

from beep3d.model.backbone import superpoint_mean
from beep3d.model.losses import masked_feature_means


def mask_case() -> tuple[torch.Tensor, torch.Tensor]:
    # 3 superpoints; mask 0 covers 20k points of a superpoint whose feature is 4.0 (20k * 4 > 65504)
    features = torch.tensor([[4.0, -3.0], [1.0, 2.0], [0.5, 0.25]])
    weights = torch.tensor([[20000.0, 0.0, 0.0], [15000.0, 12000.0, 30000.0], [0.0, 0.0, 0.0]])
    return features, weights


def expected_mask_means(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    f, w = features.double(), weights.double()
    return (w @ f) / w.sum(1).clamp(min=1e-6)[:, None]


def test_masked_feature_means_with_fp16_inputs() -> None:
    features, weights = mask_case()
    means, valid = masked_feature_means(features.half(), weights.half())
    assert means.dtype == torch.float16
    assert torch.isfinite(means).all()
    torch.testing.assert_close(means.double(), expected_mask_means(features, weights), rtol=1e-3, atol=1e-3)
    assert valid.tolist() == [True, True, False]


def test_masked_feature_means_under_fp16_autocast() -> None:
    features, weights = mask_case()
    features.requires_grad_(True)
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        means, _ = masked_feature_means(features, weights)
    assert torch.isfinite(means).all()
    torch.testing.assert_close(
        means.double(), expected_mask_means(features.detach(), weights), rtol=1e-3, atol=1e-3
    )
    means.sum().backward()
    assert torch.isfinite(features.grad).all()


def test_masked_feature_means_float32_unchanged() -> None:
    features, weights = mask_case()
    means, valid = masked_feature_means(features, weights)
    assert means.dtype == torch.float32
    torch.testing.assert_close(means.double(), expected_mask_means(features, weights))
    assert valid.tolist() == [True, True, False]


def superpoint_case() -> tuple[torch.Tensor, torch.Tensor, int]:
    # superpoint 0 holds 30k points (its count alone is near fp16's limit; the sum of 30k * 3.0 is past it)
    values = torch.cat([torch.full((30000, 2), 3.0), torch.tensor([[1.0, -1.0], [2.0, 5.0], [4.0, 0.5]])])
    superpoints = torch.cat([torch.zeros(30000, dtype=torch.long), torch.tensor([1, 1, 3])])
    return values, superpoints, 4


def expected_superpoint_means(values: torch.Tensor, superpoints: torch.Tensor, count: int) -> torch.Tensor:
    sums = torch.zeros(count, values.shape[1], dtype=torch.float64).index_add_(
        0, superpoints, values.double()
    )
    counts = torch.bincount(superpoints, minlength=count).clamp(min=1).double()
    return sums / counts[:, None]


def test_superpoint_mean_with_fp16_inputs() -> None:
    values, superpoints, count = superpoint_case()
    means = superpoint_mean(values.half(), superpoints, count)
    assert means.dtype == torch.float16
    assert torch.isfinite(means).all()
    expected = expected_superpoint_means(values, superpoints, count)
    torch.testing.assert_close(means.double(), expected, rtol=1e-3, atol=1e-3)
    assert means[2].tolist() == [0.0, 0.0], "an empty superpoint gives 0"


def test_superpoint_mean_under_fp16_autocast() -> None:
    values, superpoints, count = superpoint_case()
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        means = superpoint_mean(values, superpoints, count)
    assert torch.isfinite(means).all()
    torch.testing.assert_close(means.double(), expected_superpoint_means(values, superpoints, count))


def test_superpoint_mean_float32_unchanged() -> None:
    values, superpoints, count = superpoint_case()
    means = superpoint_mean(values, superpoints, count)
    assert means.dtype == torch.float32
    torch.testing.assert_close(means.double(), expected_superpoint_means(values, superpoints, count))
