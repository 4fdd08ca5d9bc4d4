"""Positional encodings: Fourier features of coordinates and MAFT's contextual relative position encoding.

The relative encoding is written in plain torch without materialising a (Q, S, heads, head_dim) table:
query and key biases are dot products with a small table looked up by bin, value biases are attention
weights summed per bin and then multiplied by the table.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def fourier_encode(coords: torch.Tensor, num_frequencies: int) -> torch.Tensor:
    """Sine/cosine features of normalised coordinates.

    Parameters
    ----------
    coords
        (..., 3) coordinates normalised to [0, 1] (the scene's min/max range).
    num_frequencies
        F: frequencies pi * 2**k for k = 0..F-1.

    Returns
    -------
    (..., 3 * 2 * F) features [sin(pi 2^k x), cos(pi 2^k x)] per axis.
    """
    frequencies = math.pi * 2.0 ** torch.arange(num_frequencies, device=coords.device, dtype=coords.dtype)
    angles = coords[..., :, None] * frequencies  # (..., 3, F)
    return torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)


def quantise_offsets(offsets: torch.Tensor, grid: float, bins: int) -> torch.Tensor:
    """Bin index per axis of relative offsets.

    Parameters
    ----------
    offsets
        (Q, S, 3) query position minus superpoint position, metres.
    grid
        Bin width, metres.
    bins
        Bins per side; offsets beyond +-grid*bins are clamped into the outermost bins.

    Returns
    -------
    (Q, S, 3) int64 in [0, 2*bins - 1]; offset 0 falls in bin ``bins``.
    """
    index = torch.floor(offsets / grid).long() + bins
    return index.clamp(0, 2 * bins - 1)


def key_bin_scores(keys: torch.Tensor, key_table: torch.Tensor) -> torch.Tensor:
    """Every key's dot product with every bin of the key table, per axis.

    Parameters
    ----------
    keys
        (H, S, D) per-head keys.
    key_table
        (3, B2, H, D) learnable table.

    Returns
    -------
    (3, H, S * B2) scores, key s and bin b at column s * B2 + b (what
    :func:`relative_attention_bias` gathers from; it depends on the keys only, so it can be kept while
    the queries change).
    """
    return torch.einsum("hsd,abhd->ahsb", keys, key_table).reshape(3, keys.shape[0], -1)


def relative_attention_bias(
    queries: torch.Tensor,
    keys: torch.Tensor,
    bin_index: torch.Tensor,
    query_table: torch.Tensor,
    key_table: torch.Tensor,
    key_scores: torch.Tensor | None = None,
) -> torch.Tensor:
    """Contextual query and key biases of the attention logits, summed over the 3 axes.

    bias[h, q, s] = sum_a queries[h, q] . query_table[a, bin[q, s, a], h] + keys[h, s] . key_table[a, bin[q, s, a], h]

    Parameters
    ----------
    queries
        (H, Q, D) per-head queries.
    keys
        (H, S, D) per-head keys.
    bin_index
        (Q, S, 3) int64 bins from :func:`quantise_offsets`.
    query_table, key_table
        (3, B2, H, D) learnable tables (B2 = 2 * bins).
    key_scores
        :func:`key_bin_scores` of ``keys`` and ``key_table`` when already computed; None computes it.

    Returns
    -------
    (H, Q, S) bias.
    """
    heads, num_queries, _ = queries.shape
    num_keys = keys.shape[1]
    num_bins = query_table.shape[1]
    if key_scores is None:
        key_scores = key_bin_scores(keys, key_table)
    bias = queries.new_zeros(heads, num_queries, num_keys)
    key_rows = torch.arange(num_keys, device=keys.device) * num_bins
    for axis in range(3):
        index = bin_index[:, :, axis]
        query_scores = torch.einsum("hqd,bhd->hqb", queries, query_table[axis])  # (H, Q, B2)
        bias = bias + torch.gather(query_scores, 2, index.expand(heads, -1, -1))
        flat = (key_rows[None, :] + index).reshape(1, -1).expand(heads, -1)
        bias = bias + torch.gather(key_scores[axis], 1, flat).reshape(heads, num_queries, num_keys)
    return bias


def relative_value_bias(
    attention: torch.Tensor, bin_index: torch.Tensor, value_table: torch.Tensor
) -> torch.Tensor:
    """Contextual value bias: sum_s attention[h, q, s] * sum_a value_table[a, bin[q, s, a], h].

    Parameters
    ----------
    attention
        (H, Q, S) attention weights.
    bin_index
        (Q, S, 3) int64 bins.
    value_table
        (3, B2, H, D) learnable table.

    Returns
    -------
    (H, Q, D) to add to attention @ values.
    """
    heads, num_queries, _ = attention.shape
    num_bins = value_table.shape[1]
    out = attention.new_zeros(heads, num_queries, value_table.shape[-1])
    for axis in range(3):
        binned = attention.new_zeros(heads, num_queries, num_bins)
        binned.scatter_add_(2, bin_index[:, :, axis].expand(heads, -1, -1), attention)
        out = out + torch.einsum("hqb,bhd->hqd", binned, value_table[axis])
    return out


class RelativePositionTables(nn.Module):
    """Learnable query, key and value tables of the contextual relative position encoding."""

    def __init__(self, num_heads: int, head_dim: int, bins: int) -> None:
        super().__init__()
        shape = (3, 2 * bins, num_heads, head_dim)
        self.query_table = nn.Parameter(torch.randn(shape) * 0.02)
        self.key_table = nn.Parameter(torch.randn(shape) * 0.02)
        self.value_table = nn.Parameter(torch.randn(shape) * 0.02)
