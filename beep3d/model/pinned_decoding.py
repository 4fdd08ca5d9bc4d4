"""The teacher decoder with one query pinned on each box centre, kept so an edit re-decodes few queries.

With ``teacher_query_init: box_centers`` (the shipped teacher's setting), query k sits on box k's centre
in every layer (:func:`beep3d.model.teacher_queries.pin_to_box_centers`). What a query computes then
depends on the scene, on its own position, and, through each layer's self-attention, on every query's
content after the layer before. The first layer's self-attention reads contents that are all zero, so
its output is the same for every query whatever the positions: after the first layer a query's content
depends on its own box centre only. This module keeps every layer's contents, the key side of its
cross-attention and the final mask logits (:class:`PinnedDecoding`), and :func:`redecode` updates
the queries of a few boxes:

- the moved boxes' queries run every layer again (their own rows only);
- other queries asked for (in the resolver: the boxes holding a point decided again) run every layer
  after the first again, their self-attention reading every query's current contents;
- every other query keeps its rows.

With two decoder layers (the shipped teacher) the updated rows equal a full decode's (to float
rounding): their first-layer inputs are exact for every query, and the second layer reads those. A
query that is not updated keeps a second-layer content whose self-attention saw the moved box where it
was when that query was last decoded: one key among K, moved a few centimetres. That staleness is the
price of the speed; a full decode (:func:`decode_pinned`) clears it. With more layers the updated rows
read stale rows of other queries from the second layer on; the same holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from beep3d.model.decoder import KeyTerms, MaftDecoder, SceneContext


@dataclass
class PinnedDecoding:
    """Every layer's state of a decode whose queries sit on the box centres.

    Attributes
    ----------
    positions
        (K, 3) normalised position of each query (box k's centre).
    contents
        One (K, d) tensor per layer: the content queries after that layer (the last is Q_c,L).
    logits
        (K, S) the final layer's mask logits (eq. 1 before the sigmoid).
    memory, mask_features, key_pos
        (S, d) the scene's terms (:meth:`MaftDecoder.scene_terms`).
    key_terms
        One :class:`KeyTerms` per layer: the cross-attention's key side, the same for every query.
    """

    positions: torch.Tensor
    contents: list[torch.Tensor]
    logits: torch.Tensor
    memory: torch.Tensor
    mask_features: torch.Tensor
    key_pos: torch.Tensor
    key_terms: list[KeyTerms]


@torch.no_grad()
def decode_pinned(decoder: MaftDecoder, scene: SceneContext, positions: torch.Tensor) -> PinnedDecoding:
    """Decode with query k pinned on ``positions[k]`` in every layer.

    Equal to ``decoder(scene, positions, pin_to_box_centers)``'s final content and mask logits; the
    position bins are computed once (the positions do not move between layers).

    Parameters
    ----------
    decoder
        The teacher's decoder (evaluation mode).
    scene
        The scene's backbone output (S superpoints).
    positions
        (K, 3) normalised box centres, K >= 1.
    """
    memory, mask_features, key_pos = decoder.scene_terms(scene)
    query_pos = decoder.query_encoding(positions)
    bins = decoder.position_bins(scene, positions)
    keys = memory + key_pos
    key_terms = [layer.cross_attention.key_terms(keys, memory) for layer in decoder.layers]
    content = memory.new_zeros(positions.shape[0], decoder.config.d_model)
    contents: list[torch.Tensor] = []
    mask = None
    logits = content @ mask_features.T
    for number, layer in enumerate(decoder.layers):
        if number:
            mask = decoder.attention_mask(logits)
        content = layer(content, query_pos, memory, key_pos, bins, mask, None, key_terms[number])
        contents.append(content)
        logits = content @ mask_features.T
    return PinnedDecoding(positions.clone(), contents, logits, memory, mask_features, key_pos, key_terms)


@torch.no_grad()
def redecode(
    decoder: MaftDecoder,
    scene: SceneContext,
    state: PinnedDecoding,
    positions: torch.Tensor,
    moved: torch.Tensor,
    rows: torch.Tensor,
) -> None:
    """Update ``state`` in place after the boxes ``moved`` got new centres (see the module notes).

    Parameters
    ----------
    decoder, scene
        As for :func:`decode_pinned`.
    state
        The decoding of the same boxes before the edit (same count and order).
    positions
        (K, 3) normalised box centres after the edit.
    moved
        (M,) int64 queries whose centre changed (they run every layer again).
    rows
        (R,) int64 queries to update (``moved`` are updated too). Their contents and logits become
        those a full decode gives (exactly, with two layers).
    """
    rows = torch.unique(torch.cat([rows, moved]))
    state.positions[moved] = positions[moved]
    query_pos = decoder.query_encoding(state.positions)
    bins = decoder.position_bins(scene, state.positions[rows])
    for number, layer in enumerate(decoder.layers):
        # the first layer's output depends on a query's own position only: redo the moved ones
        update = moved if number == 0 else rows
        if not len(update):
            continue
        layer_bins = bins if number else decoder.position_bins(scene, state.positions[moved])
        mask = None
        if number:  # the keys this layer may not attend to, from the layer before's mask logits
            mask = decoder.attention_mask(state.contents[number - 1][update] @ state.mask_features.T)
        if number == 0:
            previous = state.contents[0].new_zeros(state.contents[0].shape)
        else:
            previous = state.contents[number - 1]
        state.contents[number][update] = layer(
            previous,
            query_pos,
            state.memory,
            state.key_pos,
            layer_bins,
            mask,
            update,
            state.key_terms[number],
        )
    state.logits[rows] = state.contents[-1][rows] @ state.mask_features.T
