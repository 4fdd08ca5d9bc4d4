"""BEEP3D checkpoints for inference, without the training code: find, read the header, load.

The one place that knows the checkpoint format on the reading side: :func:`find_checkpoint` (a file,
or a run folder's best else last checkpoint), :func:`read_checkpoint_info` (the header alone, without
torch: cheap enough to check a file the moment a user picks it), :func:`read_checkpoint_file` and
:func:`load_inference_model` (the tensors). Writing, and resuming a training run, live in
``beep3d.training.checkpoint``.

A checkpoint is one ``.safetensors`` file written by ``beep3d-train``: tensors ``model/<name>``
(the student-teacher state dict) and more (optimizer, RNG states), plus a JSON metadata entry
``beep3d`` holding the format name and version, the training config (``config.model`` is the
network's :class:`~beep3d.model.config.ModelConfig`) and the class set. Loading never executes code:
safetensors holds raw tensors and a string table only, and everything else is JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.model.config import ModelConfig

if TYPE_CHECKING:
    import torch

    from beep3d.model.beep3d_model import Beep3DModel

FORMAT_NAME = "beep3d-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "beep3d"
CHECKPOINT_SUFFIX = ".safetensors"


def class_set_to_dict(class_set: ClassSet) -> dict[str, Any]:
    """A class set as plain JSON types (the layout :meth:`ClassSet.load` reads)."""
    return {
        "label_space": class_set.label_space,
        "classes": [
            {"name": n, "id": i, "color": list(c)}
            for n, i, c in zip(class_set.names, class_set.ids, class_set.colours, strict=True)
        ],
    }


def class_set_from_dict(data: dict[str, Any]) -> ClassSet:
    """Inverse of :func:`class_set_to_dict`."""
    classes = data["classes"]
    return ClassSet(
        tuple(str(c["name"]) for c in classes),
        tuple(int(c["id"]) for c in classes),
        tuple(tuple(int(v) for v in c["color"]) for c in classes),  # type: ignore[misc]
        str(data.get("label_space", "nyu40")),
    )


def find_checkpoint(path: str | Path) -> Path:
    """A checkpoint file from a file path or a run folder (``best``, else ``last``)."""
    path = Path(path)
    if path.is_dir():
        for folder in (path, path / "checkpoints"):
            for name in ("best", "last"):
                candidate = folder / f"{name}{CHECKPOINT_SUFFIX}"
                if candidate.is_file():
                    return candidate
        raise Beep3dError(
            f"{path}: no best{CHECKPOINT_SUFFIX} or last{CHECKPOINT_SUFFIX} checkpoint in this folder"
        )
    return path


def unreadable_checkpoint(path: Path, reason: Exception) -> Beep3dError:
    """The error for a file safetensors cannot open (pickles, truncated or foreign files)."""
    return Beep3dError(
        f"{path}: not a BEEP3D checkpoint ({reason}). Checkpoints are .safetensors files written by "
        "beep3d-train; other formats (pickled .pt/.pth files) are refused because loading them can run code."
    )


def checked_metadata(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    """The ``beep3d`` metadata of a safetensors file, checked (format name and version).

    Raises
    ------
    Beep3dError
        No ``beep3d`` entry, damaged JSON, another format or another format version.
    """
    if METADATA_KEY not in metadata:
        raise Beep3dError(
            f"{path}: a safetensors file, but not a BEEP3D checkpoint (no '{METADATA_KEY}' metadata)"
        )
    try:
        meta = json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError:
        raise Beep3dError(f"{path}: damaged checkpoint metadata; use another checkpoint") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise Beep3dError(f"{path}: not a BEEP3D checkpoint (format {found!r})")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise Beep3dError(
            f"{path}: checkpoint format version {version}, but this version of beep3d reads version "
            f"{FORMAT_VERSION}. Use the beep3d release that wrote it, or retrain with beep3d-train."
        )
    return meta


def network_description(path: Path, meta: dict[str, Any]) -> tuple[ModelConfig, ClassSet]:
    """The model config and class set recorded in checked checkpoint metadata.

    Raises
    ------
    Beep3dError
        Either is missing or unusable.
    """
    try:
        return ModelConfig.from_dict(meta["config"]["model"]), class_set_from_dict(meta["class_set"])
    except (KeyError, TypeError, ValueError, Beep3dError) as exc:
        raise Beep3dError(
            f"{path}: checkpoint metadata lacks a usable model config or class set ({exc})"
        ) from None


def read_checkpoint_file(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The metadata (JSON) and tensors (on the CPU) of a checkpoint file.

    Raises
    ------
    Beep3dError
        Missing file, not a BEEP3D checkpoint (pickled .pt/.pth files included: they are refused),
        damaged metadata, or another format version.
    """
    from safetensors import SafetensorError
    from safetensors.torch import safe_open

    path = Path(path)
    if not path.is_file():
        raise Beep3dError(f"{path}: checkpoint not found; check the path")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise unreadable_checkpoint(path, exc) from None
    return checked_metadata(path, metadata), tensors


def load_model_state(path: str | Path, model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Load tensors into ``model``; mismatched names or shapes raise :class:`Beep3dError` listing them."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    wrong_shape = sorted(
        f"{k} {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(state_dict)
        if tuple(own[k].shape) != tuple(state_dict[k].shape)
    )
    if missing or unexpected or wrong_shape:

        def few(items: list[str]) -> str:
            return ", ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")

        parts = []
        if missing:
            parts.append(f"missing tensors: {few(missing)}")
        if unexpected:
            parts.append(f"unexpected tensors: {few(unexpected)}")
        if wrong_shape:
            parts.append(f"shapes differ: {few(wrong_shape)}")
        raise Beep3dError(
            f"{path}: the checkpoint does not fit this network ({'; '.join(parts)}). It was written by a "
            "different model version or config; retrain, or use the beep3d release that wrote it."
        )
    model.load_state_dict(state_dict, strict=True)


def load_inference_model(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[Beep3DModel, ClassSet, ModelConfig]:
    """The student-teacher model of a checkpoint in eval mode on ``device``, its class set and config.

    Parameters
    ----------
    path
        A checkpoint file, or a run folder (its best checkpoint, else the last).
    device
        Where to put the model ("cpu", "cuda", "cuda:1", ...).
    """
    from beep3d.model.beep3d_model import Beep3DModel

    path = find_checkpoint(path)
    meta, tensors = read_checkpoint_file(path)
    config, class_set = network_description(path, meta)
    model = Beep3DModel(config)
    load_model_state(
        path, model, {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    )
    model.to(device)
    model.eval()
    return model, class_set, config


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint's header says, read without torch (see :func:`read_checkpoint_info`).

    Attributes
    ----------
    path
        The checkpoint file (a run folder given by the user resolved to its best or last checkpoint).
    config
        The network's configuration.
    class_set
        The class set the network was trained with.
    metadata
        The whole ``beep3d`` metadata entry (training config, step, epoch, ...).
    """

    path: Path
    config: ModelConfig
    class_set: ClassSet
    metadata: dict[str, Any]


def read_checkpoint_info(checkpoint: str | Path) -> CheckpointInfo:
    """Check a teacher checkpoint cheaply: only its safetensors header is read, and torch is not imported.

    The same checks as :func:`beep3d.model.weights.read_checkpoint_file` (whose messages these are) plus
    the model config and class set of :func:`~beep3d.model.weights.load_inference_model`; whether the
    tensors fit the network is only known when it is loaded.

    Parameters
    ----------
    checkpoint
        A checkpoint file written by ``beep3d-train``, or its run folder (its best, else last, checkpoint).

    Raises
    ------
    Beep3dError
        Missing file, not a BEEP3D checkpoint (pickled .pt/.pth files included: they are refused),
        a truncated file, damaged metadata, another format version, no network weights, or no usable
        model config or class set.
    """
    from safetensors import SafetensorError, safe_open

    path = find_checkpoint(checkpoint)
    if not path.is_file():
        raise Beep3dError(f"{path}: checkpoint not found; check the path")
    try:
        # the numpy framework only matters for reading tensors, which this does not do
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            names = list(handle.keys())  # noqa: SIM118 (a safetensors handle, not a dict)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise unreadable_checkpoint(path, exc) from None
    meta = checked_metadata(path, metadata)
    if not any(name.startswith("model/") for name in names):
        raise Beep3dError(
            f"{path}: a BEEP3D checkpoint without network weights (no 'model/' tensors); "
            "use a checkpoint written by beep3d-train during or after training"
        )
    config, class_set = network_description(path, meta)
    return CheckpointInfo(path, config, class_set, meta)
