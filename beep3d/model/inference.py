"""The student's instance predictions (MAFT's inference), for evaluation without boxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass
class InstancePrediction:
    """Instances the student predicts in one scene.

    Attributes
    ----------
    masks
        (P, N) bool per point.
    classes
        (P,) int64 class index 0..C-1.
    scores
        (P,) float32 confidence.
    """

    masks: np.ndarray
    classes: np.ndarray
    scores: np.ndarray


def instances_from_queries(
    final: Any, superpoints: torch.Tensor, topk: int, min_points: int
) -> InstancePrediction:
    """MAFT's inference on one scene's final decoder layer.

    score = softmax(class)[:-1] * score head over all (query, class) pairs, top-k; mask = logit > 0
    (per superpoint, spread to its points); score *= mean sigmoid inside the mask; masks with fewer
    than ``min_points`` points are dropped.

    Parameters
    ----------
    final
        The last decoder layer's output: ``class_logits`` (Q, C + 1), ``scores`` (Q,), ``mask_logits``
        (Q, S).
    superpoints
        (N,) int64 superpoint id per point.
    topk, min_points
        How many (query, class) pairs to keep, and the smallest mask kept, points.
    """
    num_classes = final.class_logits.shape[1] - 1
    class_scores = torch.softmax(final.class_logits, dim=1)[:, :-1] * final.scores[:, None]
    flat = class_scores.flatten()
    top_scores, top_index = flat.topk(min(topk, flat.numel()))
    queries = top_index // num_classes
    classes = top_index % num_classes
    logits = final.mask_logits[queries][:, superpoints]  # (P, N)
    masks = logits > 0
    probabilities = torch.sigmoid(logits)
    sizes = masks.sum(dim=1)
    mask_scores = (probabilities * masks).sum(dim=1) / sizes.clamp(min=1)
    scores = top_scores * mask_scores
    keep = sizes >= min_points
    return InstancePrediction(
        masks=masks[keep].cpu().numpy(),
        classes=classes[keep].cpu().numpy().astype(np.int64),
        scores=scores[keep].float().cpu().numpy(),
    )
