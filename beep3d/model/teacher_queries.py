"""The teacher's instance centre-based position queries (BEEP3D eq. 5 and 6).

All coordinates here are normalised to the scene's axis-aligned min/max range ([0, 1]^3, as MAFT's
position queries): FPS points are taken among the superpoint centres (a few thousand, so a torch
loop is cheap) and the box centres are normalised with the same range.
"""

from __future__ import annotations

import torch


def farthest_point_sampling(points: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Indices of ``num_samples`` points chosen by farthest point sampling.

    Parameters
    ----------
    points
        (M, 3) coordinates.
    num_samples
        How many to pick; when M < num_samples, the picks repeat cyclically.

    Returns
    -------
    (num_samples,) int64 indices into ``points``; the first is point 0 (deterministic).
    """
    count = points.shape[0]
    if count == 0:
        raise ValueError("farthest point sampling needs at least one point")
    picks = min(num_samples, count)
    chosen = torch.zeros(picks, dtype=torch.long, device=points.device)
    distance = torch.full((count,), float("inf"), device=points.device, dtype=points.dtype)
    current = torch.zeros((), dtype=torch.long, device=points.device)
    for i in range(picks):
        chosen[i] = current
        distance = torch.minimum(distance, ((points - points[current]) ** 2).sum(dim=1))
        current = torch.argmax(distance)
    if picks < num_samples:
        chosen = chosen[torch.arange(num_samples, device=points.device) % picks]
    return chosen


def attend_to_centers(
    queries: torch.Tensor, centers: torch.Tensor, scale: float = 1.0, mode: str = "dot"
) -> torch.Tensor:
    """softmax(logits) C: each query becomes a convex combination of the instance centres (eq. 5, 6).

    Parameters
    ----------
    queries
        (Q, 3) normalised position queries (FPS points for eq. 5, refined queries for eq. 6).
    centers
        (K, 3) normalised box centres, K >= 1.
    scale
        Multiplier on the logits.
    mode
        "dot": logits = scale * Q C^T, the paper's formula. With coordinates normalised to [0, 1] the
        logits differ little between centres, so every query lands near the mean of the centres.
        "distance": logits = -scale * |q - c|^2, so each query moves to the centres nearest to it and
        the queries spread over the instances as the FPS points spread over the scene (the behaviour
        section 3.3 describes). Chosen per config (``ModelConfig.center_attention``).

    Returns
    -------
    (Q, 3) normalised positions inside the convex hull of ``centers``.
    """
    if mode == "dot":
        logits = queries @ centers.T
    elif mode == "distance":
        logits = -torch.cdist(queries, centers).square()
    else:
        raise ValueError(f"unknown centre attention {mode!r}; use 'dot' or 'distance'")
    return torch.softmax(scale * logits, dim=1) @ centers


def fps_position_queries(
    points_normalised: torch.Tensor,
    centers_normalised: torch.Tensor,
    num_queries: int,
    scale: float = 1.0,
    mode: str = "dot",
) -> torch.Tensor:
    """Q_p,0^T = softmax(P_FPS C^T) C (eq. 5).

    Parameters
    ----------
    points_normalised
        (M, 3) candidate points (superpoint centres), normalised coordinates.
    centers_normalised
        (K, 3) box centres, normalised coordinates, K >= 1.
    num_queries
        N_Q.

    Returns
    -------
    (N_Q, 3) initial teacher position queries.
    """
    fps_points = points_normalised[farthest_point_sampling(points_normalised, num_queries)]
    return attend_to_centers(fps_points, centers_normalised, scale, mode)


def refine_position_queries(
    positions: torch.Tensor, centers: torch.Tensor, scale: float = 1.0, mode: str = "dot"
) -> torch.Tensor:
    """Eq. 6: Q_p,t^T <- softmax(Q_p,t^T C^T) C, after every teacher decoder layer.

    Parameters
    ----------
    positions
        (Q, 3) the layer's position queries, normalised coordinates.
    centers
        (K, 3) normalised box centres C.
    scale, mode
        The attention logits, as for :func:`attend_to_centers`.
    """
    return attend_to_centers(positions, centers, scale, mode)


def pin_to_box_centers(positions: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """The project's eq. 6 for ``teacher_query_init: box_centers``: query k stays on box k's centre.

    It is the limit of eq. 6 when each query attends to its own box's centre only.
    """
    return centers
