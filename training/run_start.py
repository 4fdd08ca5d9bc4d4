"""Starting a run: what the run folder must hold, the device, the start weights, the resumed state.

A new run needs a run folder without a checkpoint; ``--resume`` needs ``checkpoints/last.safetensors``
and a config that gives the same one-cycle schedule; ``--init`` needs a checkpoint of the config's
network and classes. Each refusal is a :class:`~beep3d.errors.Beep3dError` that says what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.io.atomic import write_json_atomic, write_text_atomic
from beep3d.training.config import TrainConfig, dump_config

#: The trainer's logger: its messages keep the name they are printed with by ``beep3d-train``.
log = logging.getLogger("beep3d.training.trainer")

CHECKPOINT_DIR = "checkpoints"


def last_checkpoint_to_start_from(run_dir: Path, resume: bool) -> Path:
    """``run_dir/checkpoints/last.safetensors``, after checking that the run can start there.

    Parameters
    ----------
    run_dir
        The run folder (``--out``).
    resume
        Whether the run continues from that checkpoint (it must exist) or is new (it must not).

    Raises
    ------
    Beep3dError
        The folder is no run folder (:func:`~beep3d.training.run_folder.check_run_folder`), there is
        nothing to resume, or a new run would overwrite a run's checkpoint.
    """
    from beep3d.training.run_folder import check_run_folder

    check_run_folder(run_dir, resume)
    last = run_dir / CHECKPOINT_DIR / "last.safetensors"
    if resume and not last.exists():
        raise Beep3dError(f"{last}: nothing to resume (no checkpoint); start the run without --resume")
    if not resume and last.exists():
        raise Beep3dError(
            f"{run_dir}: this run folder already holds a checkpoint; add --resume to continue it, "
            "or choose another --out folder for a new run"
        )
    return last


def training_device(device_name: str) -> Any:
    """The ``torch.device`` this process trains on; a CUDA one is made the current device.

    Under torchrun each process uses ``cuda:LOCAL_RANK``. The GPU is made current here, before the
    process group is made, because NCCL binds to the current device.

    Parameters
    ----------
    device_name
        "cpu" or "cuda".
    """
    import torch

    from beep3d.training.distributed import dist_info_from_env

    if device_name == "cuda" and not torch.cuda.is_available():
        raise Beep3dError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    if device_name != "cuda":
        return torch.device("cpu")
    device = torch.device("cuda", dist_info_from_env().local_rank)
    torch.cuda.set_device(device)
    return device


def init_weights_from(path: Path, model: Any, config: TrainConfig, class_set: ClassSet) -> None:
    """Load the student and teacher weights of the checkpoint ``path`` (``--init``) into ``model``.

    Parameters
    ----------
    path
        A checkpoint file or a run folder (its best checkpoint, else its last).
    model
        The run's freshly built model.
    config, class_set
        The run's config and classes: the checkpoint must be of the same network and classes.
    """
    from beep3d.training.checkpoint import (
        architecture_differences,
        find_checkpoint,
        load_model_state,
        read_checkpoint,
    )

    path = find_checkpoint(path)
    state = read_checkpoint(path)
    differences = architecture_differences(state.config, config)
    if differences:
        raise Beep3dError(
            f"{path}: --init needs a checkpoint of the config's network, but {'; '.join(differences)}. "
            "Use the config the checkpoint was trained with, or train without --init."
        )
    if list(state.class_set.names) != list(class_set.names):
        raise Beep3dError(
            f"{path}: --init needs a checkpoint of the same classes, but it knows "
            f"{len(state.class_set.names)} ({state.class_set.label_space}) and the data uses "
            f"{len(class_set.names)} ({class_set.label_space}); set class_set in the config "
            "to the checkpoint's, or train without --init."
        )
    load_model_state(path, model, state.model_state)
    log.info("started from the weights of %s (step %d of its run)", path, state.step)


def read_state_to_resume(
    path: Path, config: TrainConfig, total_steps: int, steps_per_epoch: int, world_size: int
) -> Any:
    """The :class:`~beep3d.training.checkpoint.CheckpointState` of ``path``, checked to fit this run.

    Parameters
    ----------
    path
        The run's ``last.safetensors``.
    config
        The config of the resumed run: the checkpoint's network, classes and run must be its.
    total_steps, steps_per_epoch, world_size
        The one-cycle schedule's length as this config and number of processes give it; the
        checkpoint's schedule must have the same length.
    """
    from beep3d.training.checkpoint import check_compatible, check_same_run, read_checkpoint

    state = read_checkpoint(path)
    check_compatible(path, state, config)
    saved_total = (state.scheduler_state or {}).get("total_steps")
    if saved_total is not None and saved_total != total_steps:
        raise Beep3dError(
            f"{path}: the run's one-cycle schedule spans {saved_total} steps but this config gives "
            f"{total_steps} ({config.epochs} epochs x {steps_per_epoch} steps with "
            f"{world_size} process(es)); resume with the run's epochs, batch size, data and "
            "number of processes (torchrun's --nproc_per_node), or start a new run folder"
        )
    check_same_run(path, state, config)
    return state


def stored_best(checkpoint_dir: Path, last_extra: dict[str, Any]) -> tuple[float, tuple[float, ...] | None]:
    """The best evaluation so far, when resuming: from ``best.safetensors``, else from ``last``.

    ``best.safetensors`` holds its own score and key, and may be newer than ``last``: the
    evaluation of a step comes before its checkpoint, and a run stopped between the two resumes
    from the checkpoint before (and evaluates that step again, to the same figures).

    Parameters
    ----------
    checkpoint_dir
        The run's ``checkpoints`` folder.
    last_extra
        The ``extra`` metadata of the checkpoint the run resumes from.

    Returns
    -------
    best_score, best_key
        The best selection score (-inf: none yet) and the selection key it was compared by (None: a
        checkpoint written before keys were stored).
    """
    from beep3d.model.weights import read_checkpoint_info

    extra = last_extra
    best = checkpoint_dir / "best.safetensors"
    if best.is_file():
        try:
            extra = read_checkpoint_info(best).metadata.get("extra") or {}
        except Beep3dError as exc:
            log.warning("%s; the best figure is taken from the last checkpoint", exc)
    stored_score = extra.get("best_score")
    best_score = float("-inf") if stored_score is None else float(stored_score)
    stored_key = extra.get("best_key")
    best_key = (
        None
        if stored_key is None
        else tuple(float("-inf") if value is None else float(value) for value in stored_key)
    )
    return best_score, best_key


def write_run_settings(run_dir: Path, config: TrainConfig, class_set: ClassSet) -> None:
    """Make the run folder and write its ``config.yaml`` and ``class_set.json``."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Beep3dError(
            f"--out {run_dir}: the run folder cannot be made ({exc.strerror}); choose a folder you can write"
        ) from None
    write_text_atomic(run_dir / "config.yaml", dump_config(config))
    write_json_atomic(
        run_dir / "class_set.json",
        {"label_space": class_set.label_space, "names": list(class_set.names)},
    )


def open_tensorboard(run_dir: Path, step: int) -> Any:
    """A TensorBoard ``SummaryWriter`` into ``run_dir/tensorboard`` that drops events after ``step``
    (a resumed run writes them again); None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(run_dir / "tensorboard"), purge_step=step + 1)
    except ImportError:  # pragma: no cover - tensorboard is a dependency
        log.warning("tensorboard is not installed; no TensorBoard logs")
        return None
