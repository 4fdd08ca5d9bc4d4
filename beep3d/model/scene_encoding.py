"""The teacher's encoding of one scene, cached while boxes change, and per-box inputs on its device.

The backbone's output does not depend on the boxes: an annotation session encodes a scene once
(:meth:`~beep3d.model.beep3d_model.Beep3DModel.encode_scene`) and re-runs only the teacher decoder
for each edit of the boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from beep3d.model.decoder import SceneContext


@dataclass
class SceneEncoding:
    """The teacher's backbone output for one scene: independent of the boxes, so it can be cached
    while an annotator edits boxes (``Beep3DModel.resolve_with_teacher`` re-runs only the decoder)."""

    scene: SceneContext
    num_points: int


def given_box_probability(
    encoding: SceneEncoding, logits: torch.Tensor, matched: torch.Tensor, positions: np.ndarray
) -> np.ndarray:
    """Eq. 1's sigmoid of each point for the box it was given to (``Beep3DModel.object_probability``).

    Parameters
    ----------
    encoding
        The scene's encoding (N points).
    logits
        (Q, S) the teacher's final mask logits.
    matched
        (K,) query matched to each box (-1: none).
    positions
        (N,) int64 box position each point was given to, -1 for none.

    Returns
    -------
    (N,) float32 probability in [0, 1]; 1 for points given to no box (or to a box without a query).
    """
    given = torch.as_tensor(np.asarray(positions), dtype=torch.long, device=encoding.scene.superpoints.device)
    query = matched[given.clamp(min=0)] if matched.numel() else torch.zeros_like(given)
    probability = torch.sigmoid(logits[query.clamp(min=0), encoding.scene.superpoints].float())
    has_box = (given >= 0) & (query >= 0)
    probability = torch.where(has_box, probability, torch.ones_like(probability))
    return probability.cpu().numpy().astype(np.float32)


def box_tensors(encoding: SceneEncoding, per_box: np.ndarray, *indices: np.ndarray) -> list[torch.Tensor]:
    """A (K, 3) per-box array (centres or sizes, metres) as float32 and (P,) index arrays as int64,
    all on the device of ``encoding``."""
    device = encoding.scene.superpoints.device
    first = torch.as_tensor(np.asarray(per_box)).to(device=device, dtype=torch.float32).reshape(-1, 3)
    rest = [torch.as_tensor(np.asarray(a)).to(device=device, dtype=torch.long).reshape(-1) for a in indices]
    return [first, *rest]
