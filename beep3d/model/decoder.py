"""MAFT-style transformer decoder over superpoints, with position queries and per-layer refinement.

Coordinates: position queries are *normalised* coordinates in [0, 1]^3 over the scene's axis-aligned
min/max range (MAFT's convention); relative offsets for the position encoding are in metres.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from beep3d.model.config import ModelConfig
from beep3d.model.positional import (
    RelativePositionTables,
    fourier_encode,
    key_bin_scores,
    quantise_offsets,
    relative_attention_bias,
    relative_value_bias,
)

NUM_FREQUENCIES = 8

#: Called after every decoder layer with the refined (Q, 3) normalised position queries; returns the
#: positions the next layer uses (the teacher re-projects them onto the box centres, eq. 6).
PositionHook = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class SceneContext:
    """What the decoder needs of one scene (produced by the backbone, independent of the boxes).

    Attributes
    ----------
    superpoint_features
        (S, C0) backbone features pooled per superpoint.
    superpoint_xyz
        (S, 3) mean position of each superpoint, metres.
    superpoint_sizes
        (S,) float number of points of each superpoint.
    superpoints
        (N,) int64 superpoint id per point.
    scene_min, scene_max
        (3,) the scene's bounding corners, metres (normalisation range).
    """

    superpoint_features: torch.Tensor
    superpoint_xyz: torch.Tensor
    superpoint_sizes: torch.Tensor
    superpoints: torch.Tensor
    scene_min: torch.Tensor
    scene_max: torch.Tensor

    def normalise(self, xyz: torch.Tensor) -> torch.Tensor:
        """Metres -> [0, 1] scene-range coordinates."""
        return (xyz - self.scene_min) / (self.scene_max - self.scene_min).clamp(min=1e-6)

    def denormalise(self, coords: torch.Tensor) -> torch.Tensor:
        """[0, 1] scene-range coordinates -> metres."""
        return coords * (self.scene_max - self.scene_min).clamp(min=1e-6) + self.scene_min


@dataclass
class LayerOutput:
    """Predictions of one decoder layer for one scene.

    Attributes
    ----------
    class_logits
        (Q, C + 1), last column = no object.
    scores
        (Q,) predicted mask IoU (no sigmoid).
    centers
        (Q, 3) predicted instance centre, metres (position used by the layer + predicted offset).
    mask_logits
        (Q, S) per superpoint.
    positions
        (Q, 3) normalised position queries the layer used.
    """

    class_logits: torch.Tensor
    scores: torch.Tensor
    centers: torch.Tensor
    mask_logits: torch.Tensor
    positions: torch.Tensor


@dataclass
class DecoderOutput:
    """All layers' outputs (deep supervision) plus what the consistency losses need.

    Attributes
    ----------
    layers
        One :class:`LayerOutput` per decoder layer, the last is the final prediction.
    content
        (Q, d) final content queries Q_c,L.
    mask_features
        (S, d) superpoint mask features F (eq. 1 uses sigmoid(content . mask_features)).
    """

    layers: list[LayerOutput]
    content: torch.Tensor
    mask_features: torch.Tensor

    @property
    def final(self) -> LayerOutput:
        return self.layers[-1]


def mlp(in_dim: int, hidden: int, out_dim: int, zero_last: bool = False) -> nn.Sequential:
    """Two-layer perceptron (Linear, ReLU, Linear); optionally the last layer starts at zero."""
    last = nn.Linear(hidden, out_dim)
    if zero_last:
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), last)


def allow_at_least_one_key(blocked: torch.Tensor) -> torch.Tensor:
    """(Q, S) bool attention mask (True = blocked): rows blocking every key are unblocked entirely."""
    return blocked & ~blocked.all(dim=1, keepdim=True)


@dataclass
class KeyTerms:
    """The key side of a :class:`RelativeCrossAttention` for one scene (independent of the queries).

    Attributes
    ----------
    keys, values
        (H, S, D) per-head projected keys and values.
    key_scores
        (3, H, S * B2) :func:`beep3d.model.positional.key_bin_scores` of the keys.
    """

    keys: torch.Tensor
    values: torch.Tensor
    key_scores: torch.Tensor


class RelativeCrossAttention(nn.Module):
    """Multi-head cross-attention from queries to superpoints with contextual relative position biases."""

    def __init__(self, d_model: int, num_heads: int, rpe_bins: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.query_proj = nn.Linear(d_model, d_model)
        self.key_proj = nn.Linear(d_model, d_model)
        self.value_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.tables = RelativePositionTables(num_heads, self.head_dim, rpe_bins)
        self.dropout = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], self.num_heads, self.head_dim).transpose(0, 1)

    def key_terms(self, keys: torch.Tensor, values: torch.Tensor) -> KeyTerms:
        """(S, d) keys and values -> their projections and bin scores (:class:`KeyTerms`)."""
        k = self._heads(self.key_proj(keys))
        v = self._heads(self.value_proj(values))
        return KeyTerms(k, v, key_bin_scores(k, self.tables.key_table))

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        bin_index: torch.Tensor,
        blocked: torch.Tensor | None,
        terms: KeyTerms | None = None,
    ) -> torch.Tensor:
        """(Q, d) queries, (S, d) keys/values, (Q, S, 3) bins, (Q, S) blocked or None -> (Q, d).

        ``terms``: :meth:`key_terms` of ``keys`` and ``values`` when already computed (they do not
        depend on the queries); None computes them.
        """
        q = self._heads(self.query_proj(queries))
        terms = terms or self.key_terms(keys, values)
        k, v = terms.keys, terms.values
        logits = q @ k.transpose(1, 2)
        logits = logits + relative_attention_bias(
            q, k, bin_index, self.tables.query_table, self.tables.key_table, terms.key_scores
        )
        logits = logits / math.sqrt(self.head_dim)
        if blocked is not None:
            logits = logits.masked_fill(blocked[None], float("-inf"))
        attention = self.dropout(torch.softmax(logits, dim=-1))
        out = attention @ v + relative_value_bias(attention, bin_index, self.tables.value_table)
        return self.out_proj(out.transpose(0, 1).reshape(queries.shape[0], -1))


class DecoderLayer(nn.Module):
    """Post-norm layer: self-attention, cross-attention with relative positions, FFN (GELU)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.self_attention = nn.MultiheadAttention(d, config.num_heads, dropout=config.dropout)
        self.cross_attention = RelativeCrossAttention(d, config.num_heads, config.rpe_bins, config.dropout)
        self.ffn = nn.Sequential(
            nn.Linear(d, config.ffn_dim), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(config.ffn_dim, d)
        )
        self.norm_self = nn.LayerNorm(d)
        self.norm_cross = nn.LayerNorm(d)
        self.norm_ffn = nn.LayerNorm(d)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        content: torch.Tensor,
        query_pos: torch.Tensor,
        memory: torch.Tensor,
        key_pos: torch.Tensor,
        bin_index: torch.Tensor,
        blocked: torch.Tensor | None,
        rows: torch.Tensor | None = None,
        key_terms: KeyTerms | None = None,
    ) -> torch.Tensor:
        """One layer for every query, or for the queries ``rows`` only.

        Parameters
        ----------
        content, query_pos
            (Q, d) every query's content and position encoding (self-attention reads them all).
        memory, key_pos
            (S, d) superpoint features and their position encoding.
        bin_index, blocked
            (R, S, 3) relative position bins and (R, S) attention mask (or None) of the queries
            updated: all Q, or the R of ``rows``.
        rows
            (R,) int64 queries to update; None = all. A query's update depends on its own row and
            on every query's ``content`` and ``query_pos`` (the self-attention), so updating a few
            rows gives what the full layer gives at those rows.
        key_terms
            The cross-attention's :meth:`RelativeCrossAttention.key_terms` of ``memory + key_pos`` and
            ``memory`` when kept from an earlier call; None computes them.

        Returns
        -------
        (R, d) the updated content of those queries.
        """
        q = content + query_pos
        own, own_pos = (content, query_pos) if rows is None else (content[rows], query_pos[rows])
        own_q = q if rows is None else q[rows]
        attended = self.self_attention(own_q[:, None], q[:, None], content[:, None], need_weights=False)[0][
            :, 0
        ]
        own = self.norm_self(own + self.dropout(attended))
        attended = self.cross_attention(
            own + own_pos, memory + key_pos, memory, bin_index, blocked, key_terms
        )
        own = self.norm_cross(own + self.dropout(attended))
        return self.norm_ffn(own + self.dropout(self.ffn(own)))


class MaftDecoder(nn.Module):
    """Queries -> per-layer class, score, centre and superpoint mask predictions."""

    def __init__(self, config: ModelConfig, feature_channels: int) -> None:
        super().__init__()
        d = config.d_model
        self.config = config
        self.memory_proj = nn.Sequential(nn.Linear(feature_channels, d), nn.LayerNorm(d), nn.ReLU())
        self.mask_feature_mlp = mlp(feature_channels, d, d)
        self.position_queries = nn.Embedding(config.num_queries, 3)
        fourier_dim = 3 * 2 * NUM_FREQUENCIES
        self.query_pos_mlp = mlp(fourier_dim, d, d)
        self.key_pos_mlp = mlp(fourier_dim, d, d)
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(config.num_layers)])
        self.class_head = nn.Linear(d, config.num_classes + 1)
        self.score_head = mlp(d, d, 1)
        self.center_heads = nn.ModuleList([mlp(d, d, 3, zero_last=True) for _ in range(config.num_layers)])

    def learned_positions(self) -> torch.Tensor:
        """(Q, 3) the student's position queries: sigmoid of a learnable embedding, normalised coordinates."""
        return torch.sigmoid(self.position_queries.weight)

    def scene_terms(self, scene: SceneContext) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What every layer reads of the scene, independent of the queries.

        Returns
        -------
        memory
            (S, d) projected superpoint features (keys and values of the cross-attention).
        mask_features
            (S, d) superpoint mask features F (mask logits are content . F).
        key_pos
            (S, d) position encoding of the superpoint centres.
        """
        memory = self.memory_proj(scene.superpoint_features)
        mask_features = self.mask_feature_mlp(scene.superpoint_features)
        key_pos = self.key_pos_mlp(fourier_encode(scene.normalise(scene.superpoint_xyz), NUM_FREQUENCIES))
        return memory, mask_features, key_pos

    def query_encoding(self, positions: torch.Tensor) -> torch.Tensor:
        """(Q, 3) normalised position queries -> (Q, d) their position encoding."""
        return self.query_pos_mlp(fourier_encode(positions, NUM_FREQUENCIES))

    def position_bins(self, scene: SceneContext, positions: torch.Tensor) -> torch.Tensor:
        """(Q, 3) normalised position queries -> (Q, S, 3) relative position bins to every superpoint."""
        offsets = scene.denormalise(positions)[:, None, :] - scene.superpoint_xyz[None, :, :]
        return quantise_offsets(offsets, self.config.rpe_grid, self.config.rpe_bins)

    def attention_mask(self, mask_logits: torch.Tensor) -> torch.Tensor:
        """(Q, S) mask logits of a layer -> (Q, S) bool keys the next layer's queries may not attend to."""
        return allow_at_least_one_key(torch.sigmoid(mask_logits) < self.config.mask_threshold)

    def forward(
        self,
        scene: SceneContext,
        initial_positions: torch.Tensor | None = None,
        position_hook: PositionHook | None = None,
    ) -> DecoderOutput:
        """Decode one scene.

        Parameters
        ----------
        scene
            Backbone output for the scene.
        initial_positions
            (Q, 3) normalised position queries Q_p,0; None = the learnable ones.
        position_hook
            Called with each layer's refined (detached) positions; its result feeds the next layer.
        """
        positions = self.learned_positions() if initial_positions is None else initial_positions
        memory, mask_features, key_pos = self.scene_terms(scene)
        content = memory.new_zeros(positions.shape[0], self.config.d_model)
        blocked = None
        outputs: list[LayerOutput] = []
        for layer, center_head in zip(self.layers, self.center_heads, strict=True):
            positions_m = scene.denormalise(positions)
            bin_index = self.position_bins(scene, positions)
            query_pos = self.query_encoding(positions)
            content = layer(content, query_pos, memory, key_pos, bin_index, blocked)
            mask_logits = content @ mask_features.T
            centers = positions_m + center_head(content)
            outputs.append(
                LayerOutput(
                    class_logits=self.class_head(content),
                    scores=self.score_head(content)[:, 0],
                    centers=centers,
                    mask_logits=mask_logits,
                    positions=positions,
                )
            )
            blocked = self.attention_mask(mask_logits.detach())
            positions = scene.normalise(centers.detach()).clamp(0.0, 1.0)
            if position_hook is not None:
                positions = position_hook(positions)
        return DecoderOutput(layers=outputs, content=content, mask_features=mask_features)
