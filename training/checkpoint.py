"""Checkpoints: one safetensors file holding everything needed to resume or to run the teacher.

Layout of a checkpoint file (``*.safetensors``, written atomically):

- tensors ``model/<name>``: ``Beep3DModel.state_dict()`` (``student.*`` and ``teacher.*``);
- tensors ``optimizer/<param>/<key>``: AdamW's per-parameter state;
- tensors ``rng/torch``, ``rng/cuda/<i>``, ``rng/numpy``: random generator states;
- metadata ``beep3d`` (JSON text): format name and version, the training config (with the model
  config), the class set, step / epoch / batches done in the epoch, the optimizer's non-tensor state
  and parameter groups, the scheduler and gradient-scaler states, Python's and numpy's RNG scalars,
  the best evaluation figure so far.

Loading never executes code: safetensors holds only raw tensors and a string table, and all other
state is JSON. A file that is not such a checkpoint raises :class:`~beep3d.errors.Beep3dError`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from beep3d.model.weights import (
    CHECKPOINT_SUFFIX,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_KEY,
    class_set_from_dict,
    class_set_to_dict,
    find_checkpoint,
    load_model_state,
    read_checkpoint_file,
)
from beep3d.training.config import TrainConfig

__all__ = [
    "CHECKPOINT_SUFFIX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "CheckpointState",
    "class_set_from_dict",
    "class_set_to_dict",
    "find_checkpoint",
    "load_model_for_inference",
    "load_model_state",
    "read_checkpoint",
    "save_checkpoint",
]

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.io.atomic import atomic_path

if TYPE_CHECKING:
    import torch

    from beep3d.model.beep3d_model import Beep3DModel

#: Model settings that change the network's tensors: a checkpoint only loads into the same values.
ARCHITECTURE_KEYS = (
    "in_channels",
    "backbone_channels",
    "blocks_per_level",
    "num_queries",
    "num_layers",
    "d_model",
    "num_heads",
    "ffn_dim",
    "num_classes",
    "rpe_bins",
)


@dataclass
class CheckpointState:
    """What a checkpoint holds, as read back (tensors on the CPU)."""

    config: TrainConfig
    class_set: ClassSet
    step: int
    epoch: int
    batch_in_epoch: int
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any] | None
    scheduler_state: dict[str, Any] | None
    scaler_state: dict[str, Any] | None
    rng_state: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def capture_rng_state() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(JSON part, tensor part) of the Python, numpy, torch and CUDA generator states."""
    import torch

    version, internal, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_cached = np.random.get_state()
    scalars = {
        "python": [version, list(internal), gauss],
        "numpy": [np_name, int(np_pos), int(np_has_gauss), float(np_cached)],
    }
    tensors = {
        "rng/torch": torch.get_rng_state().clone(),
        "rng/numpy": torch.from_numpy(np_keys.astype(np.int64)),
    }
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{index}"] = state.clone()
    return scalars, tensors


def restore_rng_state(rng_state: dict[str, Any]) -> None:
    """Set the Python, numpy, torch (and CUDA, when present) generators from a checkpoint."""
    import torch

    version, internal, gauss = rng_state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_name, np_pos, np_has_gauss, np_cached = rng_state["numpy"]
    np.random.set_state(
        (np_name, rng_state["numpy_keys"].numpy().astype(np.uint32), np_pos, np_has_gauss, np_cached)
    )
    torch.set_rng_state(rng_state["torch"])
    cuda_states = rng_state.get("cuda") or []
    if cuda_states and torch.cuda.is_available():
        for index, state in enumerate(cuda_states[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(state, index)


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    import torch

    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{param}/{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(param), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}, tensors


def _unflatten_optimizer(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        _, param, key = name.split("/", 2)
        state.setdefault(int(param), {})[key] = tensor
    for param, values in meta["scalars"].items():
        state.setdefault(int(param), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: str | Path,
    model: Beep3DModel | torch.nn.Module,
    config: TrainConfig,
    class_set: ClassSet,
    step: int,
    epoch: int,
    batch_in_epoch: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    scaler: Any | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint file atomically (see the module docstring); returns its path.

    Parameters
    ----------
    path
        Target file (``.safetensors``).
    model
        The student-teacher model (its ``state_dict()`` is saved).
    config, class_set
        The run's training config and class set.
    step, epoch, batch_in_epoch
        Optimizer steps done, the current epoch, and batches of that epoch already done.
    optimizer, scheduler, scaler
        Their states, when resuming must be possible (None for an inference-only checkpoint).
    extra
        JSON-able additions (for example the best evaluation figure).
    """
    from safetensors.torch import save_file

    tensors = {f"model/{k}": v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    optimizer_meta = None
    if optimizer is not None:
        optimizer_meta, optimizer_tensors = _flatten_optimizer(optimizer.state_dict())
        tensors.update(optimizer_tensors)
    rng_scalars, rng_tensors = capture_rng_state()
    tensors.update(rng_tensors)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "class_set": class_set_to_dict(class_set),
        "step": int(step),
        "epoch": int(epoch),
        "batch_in_epoch": int(batch_in_epoch),
        "optimizer": optimizer_meta,
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scaler": None if scaler is None or not scaler.is_enabled() else scaler.state_dict(),
        "rng": rng_scalars,
        "extra": extra or {},
    }
    try:
        meta_text = json.dumps(meta)
    except TypeError as exc:
        raise RuntimeError(f"checkpoint metadata is not JSON-serialisable: {exc}") from exc
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: meta_text})
    return path


def read_checkpoint(path: str | Path) -> CheckpointState:
    """Read a checkpoint file without building a model (no code is executed).

    Raises
    ------
    Beep3dError
        Missing file, not a BEEP3D checkpoint (including pickled files), other format version.
    """
    path = Path(path)
    meta, tensors = read_checkpoint_file(path)
    missing = [key for key in ("config", "class_set", "step", "epoch", "rng") if key not in meta]
    if missing:
        raise Beep3dError(
            f"{path}: the checkpoint's metadata lacks {', '.join(missing)}; it is damaged or was not written "
            "by beep3d-train - use another checkpoint"
        )
    try:
        config = TrainConfig.from_dict(meta["config"], source=f"{path} (saved config)")
    except Beep3dError as exc:
        raise Beep3dError(f"{exc}. The checkpoint was written by another beep3d version.") from None
    model_state = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    optimizer_state = None
    if meta.get("optimizer") is not None:
        optimizer_tensors = {k: v for k, v in tensors.items() if k.startswith("optimizer/")}
        optimizer_state = _unflatten_optimizer(meta["optimizer"], optimizer_tensors)
    rng_state = dict(meta["rng"])
    rng_state["torch"] = tensors.get("rng/torch")
    rng_state["numpy_keys"] = tensors.get("rng/numpy")
    cuda = sorted((k for k in tensors if k.startswith("rng/cuda/")), key=lambda k: int(k.rsplit("/", 1)[1]))
    rng_state["cuda"] = [tensors[k] for k in cuda]
    return CheckpointState(
        config=config,
        class_set=class_set_from_dict(meta["class_set"]),
        step=int(meta["step"]),
        epoch=int(meta["epoch"]),
        batch_in_epoch=int(meta.get("batch_in_epoch", 0)),
        model_state=model_state,
        optimizer_state=optimizer_state,
        scheduler_state=meta.get("scheduler"),
        scaler_state=meta.get("scaler"),
        rng_state=rng_state,
        extra=meta.get("extra") or {},
    )


def write_inference_checkpoint(
    source: str | Path, destination: str | Path, resolver: dict[str, Any] | None = None
) -> Path:
    """Copy a checkpoint without what only resuming needs (optimizer, scheduler): about half the size.

    The result holds the student and teacher weights, the config, the class set, the step, the epoch and
    the evaluation figures; the teacher resolver and ``beep3d-eval`` read it like any checkpoint, and
    ``--resume`` refuses it (no optimizer state).

    Parameters
    ----------
    source
        A checkpoint file or a run folder (its best checkpoint, else the last).
    destination
        The ``.safetensors`` file to write (atomically).
    resolver
        Teacher resolver settings chosen for this checkpoint (``overlap_score``, ``min_recognition``),
        stored under ``extra.resolver``; None keeps the source's.
    """
    from beep3d.model.beep3d_model import Beep3DModel

    source = find_checkpoint(source)
    state = read_checkpoint(source)
    model = Beep3DModel(state.config.model)
    load_model_state(source, model, state.model_state)
    extra = {**state.extra, "exported_from": {"file": source.name, "step": state.step}}
    if resolver:
        extra["resolver"] = {**(extra.get("resolver") or {}), **resolver}
    return save_checkpoint(
        destination, model, state.config, state.class_set, state.step, state.epoch, extra=extra
    )


def architecture_differences(saved: TrainConfig, wanted: TrainConfig) -> list[str]:
    """Human-readable ``key: saved -> wanted`` lines for model settings that change the tensors."""
    saved_model, wanted_model = saved.model.to_dict(), wanted.model.to_dict()
    return [
        f"model.{key}: checkpoint {saved_model[key]!r}, config {wanted_model[key]!r}"
        for key in ARCHITECTURE_KEYS
        if saved_model[key] != wanted_model[key]
    ]


def check_compatible(path: str | Path, state: CheckpointState, config: TrainConfig) -> None:
    """Raise :class:`Beep3dError` when the checkpoint's network differs from the config's."""
    differences = architecture_differences(state.config, config)
    if differences:
        raise Beep3dError(
            f"{path}: the checkpoint's network differs from the config's ({'; '.join(differences)}). "
            "Resume with the config the run was started with (RUN_DIR/config.yaml), or start a new run folder."
        )


#: Training settings a resumed run may change: they decide how it is run and logged, not what it computes.
RESUMABLE_CHANGES = frozenset(
    {
        "num_workers",
        "cache_scenes",
        "cache_megabytes",
        "log_every",
        "checkpoint_every_steps",
        "checkpoint_every_epochs",
    }
)


def check_same_run(path: str | Path, state: CheckpointState, config: TrainConfig) -> None:
    """Refuse to resume a run with settings other than its own (see :data:`RESUMABLE_CHANGES`).

    A resumed run restores the optimizer and the schedule from the checkpoint, so a new ``lr`` would
    be ignored while a new EMA decay would be applied: the run would be neither the old one nor the
    new one, and its ``config.yaml`` would say something it did not do.

    Raises
    ------
    Beep3dError
        The checkpoint holds weights only (an exported checkpoint), or settings differ (each named).
    """
    if state.optimizer_state is None or state.scheduler_state is None:
        raise Beep3dError(
            f"{path}: holds the network's weights only (an exported checkpoint), not a run's optimizer and "
            "schedule, so the run cannot continue from it; start a new run from these weights with --init"
        )
    saved, wanted = state.config.to_dict(), config.to_dict()
    saved_model, wanted_model = saved.pop("model"), wanted.pop("model")
    differences = [
        f"{key}: run {saved[key]!r}, now {wanted[key]!r}"
        for key in saved
        if key not in RESUMABLE_CHANGES and saved[key] != wanted.get(key)
    ]
    differences += [
        f"model.{key}: run {saved_model[key]!r}, now {wanted_model.get(key)!r}"
        for key in saved_model
        if saved_model[key] != wanted_model.get(key)
    ]
    if differences:
        raise Beep3dError(
            f"{path}: the run was made with other settings ({'; '.join(differences)}); resume with the "
            "config the run was started with (RUN_DIR/config.yaml) and the same command-line overrides, "
            "or start a new run folder (--init RUN_DIR starts one from its weights)"
        )


def load_model_for_inference(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[Beep3DModel, ClassSet, TrainConfig]:
    """The model of a checkpoint, in eval mode on ``device``, with its class set and training config.

    Parameters
    ----------
    path
        A checkpoint file, or a run folder (its ``checkpoints/best.safetensors``, else ``last``).
    device
        Where to put the model.

    Returns
    -------
    model, class_set, config
        ``config.model`` is the network's :class:`~beep3d.model.config.ModelConfig` (membership level,
        voxel size, ...).
    """
    from beep3d.model.beep3d_model import Beep3DModel

    path = find_checkpoint(path)
    state = read_checkpoint(path)
    model = Beep3DModel(state.config.model)
    load_model_state(path, model, state.model_state)
    model.to(device)
    model.eval()
    return model, state.class_set, state.config
