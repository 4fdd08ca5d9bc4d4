"""The training configuration: one dataclass whose defaults are the paper's values, loaded from YAML.

A config file (``training/configs/*.yaml`` or any YAML path) names only the values it changes from the
paper's defaults, with the paper's value in a comment where it differs. Its layout::

    epochs: 40            # paper: 512
    batch_size: 2         # paper: 4
    model:                # beep3d.model.config.ModelConfig fields
      d_model: 64         # paper: 256

Unknown keys (top level or under ``model``) raise :class:`~beep3d.errors.Beep3dError` naming the key.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from beep3d.errors import Beep3dError
from beep3d.model.config import ModelConfig, coerce_setting
from beep3d.training.evaluation import SELECTION_FIGURES

#: Folder of the configuration files shipped with the package.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"

DATASET_KINDS = ("auto", "scannet", "s3dis", "folders", "plys")
#: Fewest points a training crop may keep (``crop_points``).
MIN_CROP_POINTS = 1000
CLASS_SETS = ("auto", "scannet18", "s3dis13")


@dataclass
class TrainConfig:
    """Every setting of a training run.

    Defaults are the paper's ScanNetV2 settings (BEEP3D section 4.2, MAFT's training recipe).

    Attributes
    ----------
    model
        The network's configuration (its ``membership_level`` decides point- or superpoint-level box
        membership of the training samples).
    dataset
        "auto" (detected from the data folder, see :func:`beep3d.training.data_folders.detect_kind`),
        "scannet", "s3dis", "folders" (scene folders written by the tool or ``beep3d-synth``) or "plys"
        (labelled scans as ``*.ply`` files).
    val_scenes
        Shell-style patterns of the scene names that validate (``["scene0002_*", "scene0004_*"]``);
        every other scene trains, whatever split files say. Empty: the split files decide.
    class_set
        "auto" (ScanNet's 18 classes, S3DIS's 13 for S3DIS), "scannet18", "s3dis13" or the path of a
        class-set JSON file. ``model.num_classes`` must equal its size.
    epochs
        Passes over the training scenes.
    batch_size
        Scenes per optimizer step (per process when distributed).
    lr
        Peak learning rate of the one-cycle schedule (``OneCycleLR``'s ``max_lr``).
    lr_pct_start, lr_div_factor, lr_final_div_factor
        ``OneCycleLR``'s warm-up share, initial lr = lr / div_factor, final lr = initial / final_div_factor.
    weight_decay
        AdamW's decoupled weight decay.
    grad_clip
        Max global norm of the student's gradients (0 = no clipping); not stated in the paper.
    amp
        Mixed precision (float16 autocast + gradient scaling); used on CUDA only.
    eval_every
        Evaluate every this many epochs (and after the last); 0 = only after the last.
    checkpoint_every_steps
        Write ``last.safetensors`` every this many optimizer steps (0 = only at epoch ends).
    checkpoint_every_epochs
        Also keep ``epoch_XXXX.safetensors`` every this many epochs (0 = never).
    log_every
        Log losses every this many steps.
    seed
        Seeds data order, augmentation and model randomness; a run is reproducible from it.
    crop_points
        Training scenes with more points are cropped to this many (MAFT: 250k).
    augment
        Apply MAFT's augmentations to training scenes.
    elastic
        Include elastic distortion in the augmentations.
    membership_share
        Superpoint-level membership: a superpoint belongs to a box when this share of its points is inside.
    num_workers
        DataLoader worker processes.
    cache_scenes
        Keep loaded scenes (before augmentation) in memory between epochs.
    cache_megabytes
        At most this much memory per training process (rank) for the kept scenes, shared among its
        loader workers (each keeps its own copy of the scenes it loads); scenes beyond it are loaded
        again each epoch. Full ScanNet holds about 9 GB of prepared scenes: kept whole by each of 4
        workers on each of 4 ranks it would need well over 100 GB of host memory.
    foreground_targets
        "geometric": in scenes without fixed labels (``point_labels.npy``), the points the geometric
        foreground stage takes out of their box (the room's floor, walls and ceiling) are background
        targets, so the masks learn to leave them out (what ``--foreground model`` then uses);
        "off" (default): a box's points are its targets. Not in the paper.
    select_by
        The evaluation figure that picks ``checkpoints/best.safetensors``: "auto" (default: the student's
        AP, else the teacher's mACC, else mean instance IoU), "ap", "macc" (the teacher's overlap
        accuracy, averaged over scenes), "macc_pooled" (pooled over points) or "miou". The annotation
        tool uses the teacher, so a refit for it picks by "macc"; the paper reports the student's AP.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    dataset: str = "auto"
    val_scenes: list[str] = field(default_factory=list)
    class_set: str = "auto"
    epochs: int = 512
    batch_size: int = 4
    lr: float = 1e-4
    lr_pct_start: float = 0.3
    lr_div_factor: float = 25.0
    lr_final_div_factor: float = 1e4
    weight_decay: float = 0.05
    grad_clip: float = 10.0
    amp: bool = True
    eval_every: int = 16
    checkpoint_every_steps: int = 500
    checkpoint_every_epochs: int = 32
    log_every: int = 10
    seed: int = 0
    crop_points: int = 250_000
    augment: bool = True
    elastic: bool = True
    membership_share: float = 0.5
    num_workers: int = 4
    cache_scenes: bool = True
    cache_megabytes: int = 4096
    foreground_targets: str = "off"
    select_by: str = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = ModelConfig.from_dict(self.model)
        if self.foreground_targets not in ("off", "geometric"):
            raise Beep3dError(
                f"training config: foreground_targets is {self.foreground_targets!r}; use 'off' or 'geometric'"
            )
        if self.select_by not in SELECTION_FIGURES:
            raise Beep3dError(
                f"training config: select_by is {self.select_by!r}; use one of {', '.join(SELECTION_FIGURES)}"
            )
        if self.dataset not in DATASET_KINDS:
            raise Beep3dError(f"training config: dataset is {self.dataset!r}; use one of {DATASET_KINDS}")
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise Beep3dError(f"training config: {name} must be at least 1, got {getattr(self, name)}")
        for name in (
            "eval_every",
            "checkpoint_every_steps",
            "checkpoint_every_epochs",
            "num_workers",
            "cache_megabytes",
        ):
            if int(getattr(self, name)) < 0:
                raise Beep3dError(f"training config: {name} must be 0 or more, got {getattr(self, name)}")
        # every check is written so that NaN fails it (a comparison with NaN is False)
        for name in ("lr", "lr_div_factor", "lr_final_div_factor"):
            if not 0 < getattr(self, name) < math.inf:
                raise Beep3dError(
                    f"training config: {name} must be a positive number, got {getattr(self, name)}"
                )
        for name in ("weight_decay", "grad_clip"):
            if not 0 <= getattr(self, name) < math.inf:
                raise Beep3dError(f"training config: {name} must be 0 or more, got {getattr(self, name)}")
        if not 0.0 < self.lr_pct_start < 1.0:
            raise Beep3dError(f"training config: lr_pct_start must be in (0, 1), got {self.lr_pct_start}")
        if not 0.0 < self.membership_share <= 1.0:
            raise Beep3dError(
                f"training config: membership_share must be in (0, 1], got {self.membership_share}"
            )
        if not self.log_every >= 1:
            raise Beep3dError(f"training config: log_every must be at least 1, got {self.log_every}")
        if not 0 <= self.seed < 2**32:
            raise Beep3dError(f"training config: seed must be in 0 .. 2**32 - 1, got {self.seed}")
        if not self.crop_points >= MIN_CROP_POINTS:
            raise Beep3dError(
                f"training config: crop_points must be at least {MIN_CROP_POINTS} (a crop of a few points "
                f"holds no object to learn from), got {self.crop_points}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, for YAML files and checkpoint metadata."""
        data = asdict(self)
        data["model"] = self.model.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "training config") -> TrainConfig:
        """Build from a plain dict; unknown keys raise :class:`Beep3dError` naming them and ``source``."""
        if not isinstance(data, dict):
            raise Beep3dError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in set(data) - known)
        if unknown:
            raise Beep3dError(
                f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}. Fix the spelling."
            )
        values = dict(data)
        model = values.pop("model", None) or {}
        if not isinstance(model, dict):
            raise Beep3dError(f"{source}: 'model' must be a mapping of model settings")
        try:
            model_config = ModelConfig.from_dict(model)
        except Beep3dError as exc:
            raise Beep3dError(f"{source}: {exc}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise Beep3dError(f"{source}: bad model setting ({exc})") from None
        types = {f.name: f.type for f in fields(cls)}
        for name, value in values.items():
            values[name] = coerce_setting(name, value, types[name], source)
        try:
            return cls(model=model_config, **values)
        except Beep3dError as exc:  # a range check: name the file
            raise Beep3dError(f"{source}: {str(exc).removeprefix('training config: ')}") from None


def resolve_config_path(name_or_path: str | Path) -> Path:
    """The YAML file for a config name (``small`` -> ``training/configs/small.yaml``) or a path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise Beep3dError(
                f"{candidate}: config file not found; give a YAML file or one of {available_configs()}"
            )
        return candidate
    shipped = CONFIG_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise Beep3dError(
        f"unknown config {str(name_or_path)!r}: neither a file nor a shipped config; "
        f"shipped configs: {', '.join(available_configs())}"
    )


def available_configs() -> list[str]:
    """Names of the configs shipped in ``training/configs``."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> TrainConfig:
    """Read a training config from a shipped name or a YAML path.

    Raises
    ------
    Beep3dError
        Missing file, invalid YAML, unknown key or invalid value; the message names the file and key.
    """
    import yaml

    path = resolve_config_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise Beep3dError(f"{path}: not valid YAML ({exc}); fix the file") from None
    except UnicodeDecodeError:
        raise Beep3dError(f"{path}: not a text file in UTF-8; save the config as UTF-8 YAML") from None
    return TrainConfig.from_dict(data or {}, source=str(path))


def dump_config(config: TrainConfig) -> str:
    """YAML text of a config (every value), as written into a run folder."""
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False)
