"""The training losses: MAFT's mask, class, centre and score losses and BEEP3D's consistency losses.

One function per term. Masks are at superpoint level (K, S); matched pairs come from
:func:`beep3d.model.matching.hungarian_match`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mask_bce_loss(mask_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of matched (M, S) logits against (M, S) targets."""
    if mask_logits.numel() == 0:
        return mask_logits.sum()
    return F.binary_cross_entropy_with_logits(mask_logits, targets)


def mask_dice_loss(mask_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over matched pairs of 1 - (2|p t| + 1) / (|p| + |t| + 1), p = sigmoid(logits)."""
    if mask_logits.shape[0] == 0:
        return mask_logits.sum()
    probabilities = torch.sigmoid(mask_logits)
    intersection = (probabilities * targets).sum(dim=1)
    total = probabilities.sum(dim=1) + targets.sum(dim=1)
    return (1 - (2 * intersection + 1) / (total + 1)).mean()


def classification_loss(
    class_logits: torch.Tensor,
    matched_queries: torch.Tensor,
    matched_classes: torch.Tensor,
    no_object_weight: float,
) -> torch.Tensor:
    """Cross-entropy over all (Q, C + 1) queries: matched ones their box's class, others "no object"
    (the last class), whose weight is ``no_object_weight``."""
    num_classes = class_logits.shape[1] - 1
    targets = torch.full((class_logits.shape[0],), num_classes, dtype=torch.long, device=class_logits.device)
    targets[matched_queries] = matched_classes
    weight = torch.ones(num_classes + 1, device=class_logits.device, dtype=class_logits.dtype)
    weight[-1] = no_object_weight
    return F.cross_entropy(class_logits, targets, weight=weight)


def center_loss(centers: torch.Tensor, target_centers: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance (metres) between matched (M, 3) predicted and target centres."""
    if centers.shape[0] == 0:
        return centers.sum()
    return (centers - target_centers).abs().sum(dim=1).mean()


def mask_iou(mask_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(M,) IoU of the binary predicted masks (logit > 0) with the (M, S) targets."""
    predicted = (mask_logits > 0).float()
    intersection = (predicted * targets).sum(dim=1)
    union = predicted.sum(dim=1) + targets.sum(dim=1) - intersection
    return intersection / union.clamp(min=1.0)


def score_loss(
    scores: torch.Tensor, mask_logits: torch.Tensor, targets: torch.Tensor, iou_floor: float = 0.5
) -> torch.Tensor:
    """MSE between the predicted scores (M,) and the IoU of the matched masks, over pairs with IoU > floor."""
    iou = mask_iou(mask_logits.detach(), targets)
    keep = iou > iou_floor
    if not keep.any():
        return scores.sum() * 0.0
    return F.mse_loss(scores[keep], iou[keep])


def query_consistency_loss(
    student_content: torch.Tensor,
    teacher_content: torch.Tensor,
    student_query_per_box: torch.Tensor,
    teacher_query_per_box: torch.Tensor,
) -> torch.Tensor:
    """Eq. 7: L1 between student and teacher content queries paired by the box both are matched to.

    Parameters
    ----------
    student_content, teacher_content
        (Q, d) final content queries Q_c,L of the student and the (detached) teacher.
    student_query_per_box, teacher_query_per_box
        (K,) int64 query matched to each box by the student's and the teacher's matching (-1 = none).

    Returns
    -------
    Mean absolute difference over paired queries and channels (0 when no box is paired).
    """
    paired = (student_query_per_box >= 0) & (teacher_query_per_box >= 0)
    if not paired.any():
        return student_content.sum() * 0.0
    student = student_content[student_query_per_box[paired]]
    teacher = teacher_content[teacher_query_per_box[paired]].detach()
    return F.l1_loss(student, teacher)


def masked_feature_means(
    features: torch.Tensor, point_weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 8 / 9: mean feature of each mask.

    Parameters
    ----------
    features
        (S, d) per-superpoint features (every point of a superpoint shares its feature).
    point_weights
        (K, S) number of the mask's points in each superpoint (so the mean is over points).

    Returns
    -------
    means
        (K, d), zero for empty masks.
    valid
        (K,) bool, False for empty masks.

    The sums are taken in float32 with autocast off, then returned in ``features``' dtype: under fp16
    autocast, weights (point counts of thousands) times features overflow fp16's 65504 (a 20k-point
    mask of feature 4.0 gave inf).
    """
    with torch.autocast(device_type=features.device.type, enabled=False):
        weights = point_weights.float()
        totals = weights.sum(dim=1)
        means = (weights @ features.float()) / totals.clamp(min=1e-6)[:, None]
    return means.to(features.dtype), totals > 0


def teacher_mask_features(
    mask_features: torch.Tensor,
    point_labels: torch.Tensor,
    superpoints: torch.Tensor,
    num_boxes: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 8: F_k^T, the teacher's mean feature over its mask m_k^l u m^u-hat_k.

    Parameters
    ----------
    mask_features
        (S, d) the teacher's superpoint mask features.
    point_labels
        (N,) int64 box position per point of the pseudo-masks (P^l: its box, P^u: eq. 2-4), -1 none.
    superpoints
        (N,) int64 superpoint id per point.
    num_boxes
        K.

    Returns
    -------
    means, valid
        (K, d) and (K,) bool (False for empty masks), as :func:`masked_feature_means`.
    """
    from beep3d.model.pseudo_masks import label_superpoint_counts

    weights = label_superpoint_counts(point_labels, superpoints, num_boxes, mask_features.shape[0])
    return masked_feature_means(mask_features, weights)


def student_mask_features(
    mask_features: torch.Tensor,
    mask_logits: torch.Tensor,
    student_query_per_box: torch.Tensor,
    superpoint_sizes: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 9: F_k^S, the student's mean feature over its predicted mask m-hat_k for box k.

    Parameters
    ----------
    mask_features
        (S, d) the student's superpoint mask features.
    mask_logits
        (Q, S) the student's final mask logits; a superpoint is in the mask when its logit is > 0.
    student_query_per_box
        (K,) int64 the student query matched to each box (-1: none, an empty mask).
    superpoint_sizes
        (S,) points per superpoint (the mean is over points).
    """
    matched = student_query_per_box >= 0
    predicted = (mask_logits[student_query_per_box.clamp(min=0)].detach() > 0).float()
    weights = predicted * superpoint_sizes[None, :] * matched[:, None].float()
    return masked_feature_means(mask_features, weights)


def feature_consistency_loss(
    teacher_means: torch.Tensor, student_means: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Eq. 10: sum over boxes of ||F_k^T - F_k^S||_2^2 (boxes where either mask is empty are left out)."""
    if not valid.any():
        return student_means.sum() * 0.0
    difference = teacher_means[valid].detach() - student_means[valid]
    return (difference**2).sum()


def mask_loss(
    bce: torch.Tensor, dice: torch.Tensor, cls: torch.Tensor, w_bce: float, w_dice: float, w_cls: float
) -> torch.Tensor:
    """Eq. 11: L_mask = lambda_bce L_bce + lambda_dice L_dice + lambda_cls L_cls (MAFT's mask loss)."""
    return w_bce * bce + w_dice * dice + w_cls * cls


def beep3d_loss(
    mask: torch.Tensor,
    query_consistency: torch.Tensor | float,
    feature_consistency: torch.Tensor | float,
    w_q: float,
    w_f: float,
) -> torch.Tensor:
    """Eq. 12: L = L_mask(m-hat, m) + lambda_q L_q + lambda_f L_f.

    Pass 0 for a consistency term that is switched off (the ablations of Table 3).
    """
    return mask + w_q * query_consistency + w_f * feature_consistency


def auxiliary_losses(
    center: torch.Tensor,
    score: torch.Tensor,
    center_queries: torch.Tensor,
    w_center: float,
    w_score: float,
    w_center_queries: float,
) -> torch.Tensor:
    """What training adds to eq. 12: MAFT's centre and score losses, and the project's decoder loss
    on the teacher's query layout (``w_center_queries``, 0 in the paper)."""
    return w_center * center + w_score * score + w_center_queries * center_queries
