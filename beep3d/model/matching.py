"""MAFT's Hungarian matching of predicted queries to target instances.

cost = w_cls * (-p(class)) + w_bce * BCE + w_dice * Dice + w_center * L1(centre), with MAFT's weights
(0.5, 1.0, 1.0, 0.5); masks at superpoint level, centres in metres.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from beep3d.errors import Beep3dError


def pairwise_bce_cost(mask_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(Q, S) logits vs (K, S) 0/1 targets -> (Q, K) mean binary cross-entropy over superpoints."""
    num_superpoints = max(mask_logits.shape[1], 1)
    positive = F.binary_cross_entropy_with_logits(mask_logits, torch.ones_like(mask_logits), reduction="none")
    negative = F.binary_cross_entropy_with_logits(
        mask_logits, torch.zeros_like(mask_logits), reduction="none"
    )
    return (positive @ targets.T + negative @ (1 - targets).T) / num_superpoints


def pairwise_dice_cost(mask_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(Q, S) logits vs (K, S) 0/1 targets -> (Q, K) 1 - (2|p t| + 1) / (|p| + |t| + 1), p = sigmoid."""
    probabilities = torch.sigmoid(mask_logits)
    intersection = probabilities @ targets.T
    total = probabilities.sum(dim=1)[:, None] + targets.sum(dim=1)[None, :]
    return 1 - (2 * intersection + 1) / (total + 1)


def matching_cost(
    class_logits: torch.Tensor,
    mask_logits: torch.Tensor,
    centers: torch.Tensor,
    target_classes: torch.Tensor,
    target_masks: torch.Tensor,
    target_centers: torch.Tensor,
    weights: tuple[float, float, float, float] = (0.5, 1.0, 1.0, 0.5),
) -> torch.Tensor:
    """(Q, K) cost of giving target k to query q.

    Parameters
    ----------
    class_logits
        (Q, C + 1).
    mask_logits
        (Q, S).
    centers
        (Q, 3) predicted centres, metres.
    target_classes
        (K,) int64.
    target_masks
        (K, S) float 0/1.
    target_centers
        (K, 3) metres.
    weights
        (class, bce, dice, centre) weights.
    """
    w_class, w_bce, w_dice, w_center = weights
    class_cost = -torch.softmax(class_logits, dim=1)[:, target_classes]
    center_cost = torch.cdist(centers, target_centers, p=1)
    return (
        w_class * class_cost
        + w_bce * pairwise_bce_cost(mask_logits, target_masks)
        + w_dice * pairwise_dice_cost(mask_logits, target_masks)
        + w_center * center_cost
    )


@torch.no_grad()
def hungarian_match(cost: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Optimal one-to-one assignment minimising ``cost`` (Q, K).

    Returns
    -------
    (query_index, target_index), each (min(Q, K),) int64 on the cost's device, sorted by target.
    """
    # imported here: scipy.optimize takes 0.1-0.4 s to import, and a teacher with its queries on the
    # box centres (the shipped one) never matches, so a first resolution does not pay it
    from scipy.optimize import linear_sum_assignment

    values = cost.detach().float().cpu().numpy()
    if not np.isfinite(values).all():
        raise Beep3dError(
            "the network's predictions became NaN or infinite, so its queries cannot be matched to the "
            "boxes: training diverged (lower lr in the config), or the checkpoint's weights are damaged"
        )
    query_index, target_index = linear_sum_assignment(values)
    order = target_index.argsort()
    device = cost.device
    return (
        torch.as_tensor(query_index[order], dtype=torch.long, device=device),
        torch.as_tensor(target_index[order], dtype=torch.long, device=device),
    )
