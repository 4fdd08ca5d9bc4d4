"""The network's configuration: one dataclass whose defaults are the paper's (BEEP3D + MAFT) values."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from beep3d.errors import Beep3dError

TEACHER_MODES = ("ema", "self_training")
QUERY_PAIRINGS = ("matched_box",)
MEMBERSHIP_LEVELS = ("point", "superpoint")
CENTER_ATTENTIONS = ("dot", "distance")
TEACHER_QUERY_INITS = ("fps", "box_centers")
OVERLAP_SCORES = ("logit", "logit_minus_log_volume")
INPUT_CHANNELS = (6, 3)  # (rgb, xyz) or rgb only; see ModelConfig.in_channels


@dataclass
class ModelConfig:
    """Every setting of the BEEP3D student-teacher network.

    Defaults are the paper's ScanNetV2 values (BEEP3D section 4.2 and appendix A1) on MAFT's network
    (shared/reference/MAFT.md). CPU runs need a smaller configuration (fewer channels, layers, queries).

    Attributes
    ----------
    in_channels
        Input channels of the backbone: 6 = rgb in [-1, 1] and xyz in metres relative to the scene's
        mean point (MAFT), 3 = rgb only. With xyz as input the network can tell points apart by where
        they are, so on the scenes it was trained on it learns masks as regions of space and splits
        the shared part of two boxes by position; with rgb only its features must come from local
        shape and colour, which is what P^u points share with the labelled parts of their objects
        (README, "How the teacher got past the rules").
    backbone_channels
        Channels of the sparse U-Net's levels (one level per entry).
    blocks_per_level
        Residual blocks per U-Net level.
    voxel_size
        Voxel edge, metres.
    num_queries, num_layers, d_model, num_heads, ffn_dim, dropout
        Transformer decoder sizes.
    num_classes
        Object classes C (the class head has C + 1 outputs, the last being "no object").
    rpe_grid, rpe_bins
        Relative position encoding: offsets are quantised with ``rpe_grid`` metres into ``rpe_bins``
        bins per side per axis (clamped beyond +-rpe_grid*rpe_bins).
    mask_threshold
        Cross-attention masking after the first layer: superpoints whose previous-layer mask
        probability is below this are not attended to.
    w_bce, w_dice, w_cls, w_q, w_f, w_center, w_score
        Loss weights (eq. 11, 12; centre and score losses are MAFT's).
    no_object_weight
        Class cross-entropy weight of the "no object" class.
    ema_alpha
        Target EMA decay (eq. A1).
    center_attention
        Logits of the centre attention in eq. 5 and 6: "dot" = Q C^T (the paper's formula) or
        "distance" = -|q - c|^2 (each query attends to its nearest centres); see
        :func:`beep3d.model.teacher_queries.attend_to_centers`.
    center_attention_scale
        Multiplier on those logits (1.0 = the paper's formula).
    teacher_query_init
        Where the teacher's position queries start. "fps": the paper's eq. 5, N_Q farthest-point
        samples of the scene attended onto the box centres. "box_centers": one query per box, placed
        at its centre (eq. 5 with the sampled points taken among the box centres and a sharp
        attention). With "dot" attention on [0, 1] coordinates, eq. 5 sends every query to about the
        mean of the centres; the queries then start identical (content queries are zero) and the
        teacher cannot tell the boxes apart. "box_centers" guarantees every box a query of its own.
    w_center_queries
        Weight of an auxiliary student loss that is not in the paper (0 = off, the paper): the student's
        decoder is also run with one query at each box's centre, the teacher's query layout, and each
        such query is trained (mask BCE + Dice and class, every layer) on its own box's target mask.
        The teacher is the student's EMA, so this trains its decoder for the queries it is actually given;
        the student's own predictions (learnable queries) are unchanged at inference.
    nested_box_prior
        Not in the paper (False = the paper's eq. 2). True: a box with no point of its own (wholly
        inside other boxes) takes the points it shares with boxes that have some, in the teacher's
        pseudo-masks and therefore in training and in resolution; eq. 2 decides the rest. See
        :func:`beep3d.model.pseudo_masks.nested_box_priority`.
    overlap_score
        What eq. 2 compares among the boxes containing a point. "logit": the matched query's logit
        (the paper's similarity before the sigmoid). "logit_minus_log_volume": that logit minus the log
        of the box's volume (m^3): a box's object spreads its points over the box, so a point is, per
        unit of evidence, more likely to belong to a small box than to a large one (a uniform density
        1/V inside each box). The teacher resolver chooses this per call (see
        :class:`beep3d.resolve.teacher_resolver.TeacherResolver`); this field sets the training pseudo-masks.
    use_query_consistency, use_feature_consistency
        Ablations: switch off L_q (eq. 7) or L_f (eq. 8-10).
    use_center_refinement
        Ablation: False = the teacher uses its learnable position queries like the student
        (no FPS, no eq. 5-6).
    pseudo_mask_warmup_steps
        Optimizer steps during which the student learns from single-box points only (shared superpoints
        left out, no teacher, no consistency terms) before the teacher's pseudo-masks take over. The
        paper uses pseudo-masks from the first step (0); a short CPU run from scratch learns better when
        the teacher starts from a student that already segments (see training/configs/small.yaml).
    teacher_mode
        "ema" (update after every step, eq. A1) or "self_training" (teacher copied from the student
        at epoch boundaries by the trainer).
    pair_queries_by
        How eq. 7 pairs student and teacher content queries: "matched_box" = the student query and the
        teacher query matched to the same box.
    membership_level
        Which rule built the samples' box membership ("point" or "superpoint"); recorded for checkpoints.
    """

    in_channels: int = 6
    backbone_channels: tuple[int, ...] = (32, 64, 96, 128, 160)
    blocks_per_level: int = 2
    voxel_size: float = 0.02
    num_queries: int = 400
    num_layers: int = 6
    d_model: int = 256
    num_heads: int = 8
    ffn_dim: int = 1024
    dropout: float = 0.0
    num_classes: int = 18
    rpe_grid: float = 0.1
    rpe_bins: int = 24
    mask_threshold: float = 0.1
    w_bce: float = 1.0
    w_dice: float = 1.0
    w_cls: float = 0.5
    w_q: float = 0.5
    w_f: float = 0.5
    w_center: float = 0.5
    w_score: float = 0.5
    no_object_weight: float = 0.1
    ema_alpha: float = 0.99
    pseudo_mask_warmup_steps: int = 0
    center_attention: str = "dot"
    center_attention_scale: float = 1.0
    teacher_query_init: str = "fps"
    w_center_queries: float = 0.0
    nested_box_prior: bool = False
    overlap_score: str = "logit"
    use_query_consistency: bool = True
    use_feature_consistency: bool = True
    use_center_refinement: bool = True
    teacher_mode: str = "ema"
    pair_queries_by: str = "matched_box"
    membership_level: str = "point"

    def __post_init__(self) -> None:
        if self.in_channels not in INPUT_CHANNELS:
            raise Beep3dError(
                f"model config: in_channels is {self.in_channels}; use 6 (rgb and xyz) or 3 (rgb only)"
            )
        self.backbone_channels = tuple(int(c) for c in self.backbone_channels)
        if len(self.backbone_channels) < 1 or min(self.backbone_channels) < 1:
            raise Beep3dError(f"model config: backbone_channels {self.backbone_channels} must be positive")
        if not self.num_heads > 0:
            raise Beep3dError(f"model config: num_heads must be positive, got {self.num_heads}")
        if self.d_model % self.num_heads != 0:
            raise Beep3dError(
                f"model config: d_model {self.d_model} must be divisible by num_heads {self.num_heads}"
            )
        for name, allowed in (
            ("teacher_mode", TEACHER_MODES),
            ("pair_queries_by", QUERY_PAIRINGS),
            ("membership_level", MEMBERSHIP_LEVELS),
            ("center_attention", CENTER_ATTENTIONS),
            ("teacher_query_init", TEACHER_QUERY_INITS),
            ("overlap_score", OVERLAP_SCORES),
        ):
            if getattr(self, name) not in allowed:
                raise Beep3dError(f"model config: {name} is {getattr(self, name)!r}; use one of {allowed}")
        # every check is written so that NaN fails it (a comparison with NaN is False)
        positive = ("num_queries", "num_layers", "num_classes", "rpe_bins", "voxel_size", "rpe_grid")
        positive += ("d_model", "num_heads", "ffn_dim", "blocks_per_level", "center_attention_scale")
        for name in positive:
            if not getattr(self, name) > 0:
                raise Beep3dError(f"model config: {name} must be positive, got {getattr(self, name)}")
        weights = ("w_bce", "w_dice", "w_cls", "w_q", "w_f", "w_center", "w_score", "w_center_queries")
        for name in (*weights, "no_object_weight", "pseudo_mask_warmup_steps"):
            if not getattr(self, name) >= 0:
                raise Beep3dError(f"model config: {name} must be >= 0, got {getattr(self, name)}")
        for name, low, high in (
            ("ema_alpha", 0.0, 1.0),
            ("mask_threshold", 0.0, 1.0),
            ("dropout", 0.0, 0.999),
        ):
            if not low <= getattr(self, name) <= high:
                raise Beep3dError(
                    f"model config: {name} must be in [{low:g}, {high:g}], got {getattr(self, name)}"
                )

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (lists instead of tuples), for YAML files and checkpoint metadata."""
        data = asdict(self)
        data["backbone_channels"] = list(self.backbone_channels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a plain dict; unknown keys and values of the wrong type raise :class:`Beep3dError`
        naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in set(data) - known)
        if unknown:
            raise Beep3dError(
                f"model config: unknown key(s) {unknown}; known keys are {sorted(known)}. "
                "Fix the spelling in the config file or checkpoint."
            )
        types = {f.name: f.type for f in fields(cls)}
        return cls(
            **{name: coerce_setting(name, value, types[name], "model config") for name, value in data.items()}
        )


def coerce_setting(name: str, value: Any, type_name: Any, source: str) -> Any:
    """A config value checked against its field's type (``from __future__`` annotations are strings).

    Booleans must be true / false (the string "no" is refused, not taken as true); integers whole
    numbers; floats finite numbers (a numeric string such as YAML's ``1e-3`` is read as one); strings
    strings; ``list[str]`` and ``tuple[int, ...]`` lists of them.

    Raises
    ------
    Beep3dError
        The value does not fit; the message names ``source``, the key and the expected kind.
    """
    kind = str(type_name)
    try:
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind == "int":
            if isinstance(value, bool) or float(value) != int(value):
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool) or not math.isfinite(float(value)):
                raise ValueError
            return float(value)
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return list(value)
        if kind == "tuple[int, ...]":
            if not isinstance(value, list | tuple) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise ValueError
            return tuple(value)
    except (TypeError, ValueError, OverflowError):
        raise Beep3dError(f"{source}: {name} must be {_KIND_NAMES.get(kind, kind)}, got {value!r}") from None
    return value


_KIND_NAMES = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a finite number",
    "str": "a text",
    "list[str]": "a list of texts",
    "tuple[int, ...]": "a list of whole numbers",
}
