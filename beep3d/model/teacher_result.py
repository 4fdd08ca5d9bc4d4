"""What the teacher computes for one scene: its pseudo-masks and the queries and features behind them."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TeacherResult:
    """The teacher's pseudo-masks for one scene.

    Attributes
    ----------
    labels
        (N,) int64 box position per point (P^l: its box, P^u: eq. 2-4, background: -1).
    margins
        (N,) float32 best minus second-best similarity for P^u points, 1 elsewhere.
    matched_query
        (K,) teacher query matched to each box.
    content
        (Q, d) the teacher's final content queries.
    mask_features
        (S, d) the teacher's superpoint mask features.
    decided_by
        (N,) int8 which step decided each point (codes of
        :data:`beep3d.resolve.resolution.DECIDERS`: one box, nested rule, volume rule, network).
    """

    labels: torch.Tensor
    margins: torch.Tensor
    matched_query: torch.Tensor
    content: torch.Tensor
    mask_features: torch.Tensor
    decided_by: torch.Tensor
