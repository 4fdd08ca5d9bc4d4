"""The training loop: AdamW + one-cycle on the student, EMA teacher, evaluation, logs, checkpoints.

A run folder holds::

    config.yaml                 every setting of the run
    metrics.jsonl               one JSON record per logged step ("train") and per evaluation ("eval")
    training_curves.png         losses and evaluation figures over steps
    tensorboard/                TensorBoard event files
    checkpoints/last.safetensors    the newest state (every ``checkpoint_every_steps`` and epoch end)
    checkpoints/best.safetensors    the state with the best evaluation figure (the config's select_by:
                                    AP by default; ties broken by the teacher's mACC, then mIoU);
                                    written only when the validation scenes have GT instances
    checkpoints/epoch_XXXX.safetensors  every ``checkpoint_every_epochs`` epochs

Exact resumption: the data order of an epoch comes from (seed, epoch), the augmentation of a scene
from (seed, epoch, index), and the model's own randomness is re-seeded from (seed, step) before every
step; a checkpoint stores the step, the epoch and the batches done in it, so a resumed run replays the
remaining batches of the interrupted epoch exactly. On the CPU the losses after resuming equal those
of an uninterrupted run.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.io.atomic import write_json_atomic, write_text_atomic, write_with_atomic
from beep3d.model.sample import ModelSample
from beep3d.training.config import TrainConfig, dump_config
from beep3d.training.distributed import (
    DistInfo,
    average_across_processes,
    barrier,
    dist_info_from_env,
    init_distributed,
)

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "training_curves.png"


@dataclass
class TrainResult:
    """What a finished (or stopped) run reports."""

    run_dir: Path
    step: int
    epoch: int
    last_losses: dict[str, float]
    best_score: float
    last_eval: dict[str, float] | None


def step_seed(seed: int, step: int) -> int:
    """The torch seed set before optimizer step ``step`` (makes model randomness resumable)."""
    return int(np.random.SeedSequence([int(seed), int(step), 0x7EED]).generate_state(1)[0])


class _LossForward:
    """Wraps a model so that DDP's forward computes the training losses."""

    @staticmethod
    def build(model: Any) -> Any:
        import torch

        class LossForward(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, batch: Any, step: int | None = None) -> dict[str, Any]:
                return self.inner.training_losses(batch, step=step)

        return LossForward(model)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _user_errors_unwrapped(loader: Any) -> Any:
    """Iterate ``loader``; a :class:`Beep3dError` raised in a worker process loses the worker's traceback."""
    iterator = iter(loader)
    while True:
        try:
            samples = next(iterator)
        except StopIteration:
            return
        except Beep3dError as exc:
            message = str(exc)
            marker = "Beep3dError: "
            if "Original Traceback" in message and marker in message:
                raise Beep3dError(message.rsplit(marker, 1)[1].strip()) from None
            raise
        yield samples


class Trainer:
    """Runs one training run into a run folder.

    Parameters
    ----------
    config
        The training config.
    train_set, val_set
        Datasets whose items are :class:`ModelSample` (``train_set[(epoch, index)]``).
    class_set
        The classes of ``model.num_classes``.
    run_dir
        Output folder (created).
    device
        "cpu" or "cuda" (with torchrun: each process uses cuda:LOCAL_RANK).
    resume
        Continue from ``run_dir/checkpoints/last.safetensors``.
    max_steps
        Stop after this many optimizer steps in total (the schedule still spans all epochs).
    init_from
        Start a new run from the student and teacher weights of this checkpoint (a file or a run
        folder), e.g. the shipped teacher refitted on a team's own boxed scenes. The optimizer, the
        schedule and the step start afresh. Its network and class set must be the config's. Ignored
        when resuming: the run's own checkpoint already holds where it got to.
    model_factory
        Builds the model from ``config.model`` (default: ``Beep3DModel``).
    collate_fn
        ``collate(samples, device, voxel_size)`` (default: ``beep3d.model.batch.collate``).
    show_progress
        Show tqdm bars (rank 0).
    step_callback
        Called as ``step_callback(step, losses)`` at the end of every step, after its checkpoint and
        evaluation (tests use it to interrupt a run).
    """

    def __init__(
        self,
        config: TrainConfig,
        train_set: Any,
        val_set: Any,
        class_set: ClassSet,
        run_dir: str | Path,
        device: str = "cpu",
        resume: bool = False,
        max_steps: int | None = None,
        init_from: str | Path | None = None,
        model_factory: Callable[[Any], Any] | None = None,
        collate_fn: Callable[..., Any] | None = None,
        show_progress: bool = True,
        step_callback: Callable[[int, dict[str, float]], None] | None = None,
    ) -> None:
        self.config = config
        self.train_set = train_set
        self.val_set = val_set
        self.class_set = class_set
        self.run_dir = Path(run_dir)
        self.device_name = device
        self.resume = resume
        self.max_steps = max_steps
        self.init_from = None if init_from is None else Path(init_from)
        self.model_factory = model_factory
        self.collate_fn = collate_fn
        self.show_progress = show_progress
        self.step_callback = step_callback
        self.records: list[dict[str, Any]] = []
        self.best_score = float("-inf")
        #: what the best evaluation so far is compared by (``selection_key``); None: not known (a
        #: run resumed from a checkpoint written before keys were stored compares by ``best_score``)
        self.best_key: tuple[float, ...] | None = None
        self.last_eval: dict[str, float] | None = None
        self.model: Any = None

    # ------------------------------------------------------------------ setup
    def _setup(self) -> None:
        import torch

        from beep3d.training.run_folder import check_run_folder

        check_run_folder(self.run_dir, self.resume)
        self.checkpoint_dir = self.run_dir / CHECKPOINT_DIR
        last = self.checkpoint_dir / "last.safetensors"
        if self.resume and not last.exists():
            raise Beep3dError(f"{last}: nothing to resume (no checkpoint); start the run without --resume")
        if not self.resume and last.exists():
            raise Beep3dError(
                f"{self.run_dir}: this run folder already holds a checkpoint; add --resume to continue it, "
                "or choose another --out folder for a new run"
            )

        if self.device_name == "cuda" and not torch.cuda.is_available():
            raise Beep3dError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
        # The process's GPU is made current before the process group is made (NCCL binds to it).
        if self.device_name == "cuda":
            self.device = torch.device("cuda", dist_info_from_env().local_rank)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        self.dist: DistInfo = init_distributed(self.device_name)
        self.use_amp = bool(self.config.amp and self.device.type == "cuda")
        if self.collate_fn is None:
            from beep3d.model.batch import collate

            self.collate_fn = collate
        if self.model_factory is None:
            from beep3d.model.beep3d_model import Beep3DModel

            self.model_factory = Beep3DModel

        torch.manual_seed(self.config.seed)
        np.random.seed(self.config.seed % 2**32)
        self.model = self.model_factory(self.config.model).to(self.device)
        if self.init_from is not None and not self.resume:
            self._init_weights_from(self.init_from)
        self.model.train()
        self.loss_module: Any = _LossForward.build(self.model)
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            self.loss_module = DistributedDataParallel(
                self.loss_module,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=True,
            )
        self.student_params = [p for p in self.model.student_parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            self.student_params, lr=self.config.lr, weight_decay=self.config.weight_decay
        )
        from beep3d.training.sampling import EpochSampler

        self.sampler = EpochSampler(
            len(self.train_set),
            self.config.batch_size,
            self.config.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        self.steps_per_epoch = self.sampler.batches_per_epoch
        self.total_steps = self.config.epochs * self.steps_per_epoch
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer,
            max_lr=self.config.lr,
            total_steps=self.total_steps,
            pct_start=self.config.lr_pct_start,
            div_factor=self.config.lr_div_factor,
            final_div_factor=self.config.lr_final_div_factor,
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        if self.resume:
            self._resume_from(last)
        self.writer = None
        if self.dist.is_main:
            self._prepare_run_folder()

    def _prepare_run_folder(self) -> None:
        """The run folder's config, class set, earlier records and TensorBoard writer (main process)."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Beep3dError(
                f"--out {self.run_dir}: the run folder cannot be made ({exc.strerror}); choose a folder you can write"
            ) from None
        write_text_atomic(self.run_dir / "config.yaml", dump_config(self.config))
        write_json_atomic(
            self.run_dir / "class_set.json",
            {"label_space": self.class_set.label_space, "names": list(self.class_set.names)},
        )
        self._load_records()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=self.step + 1)
        except ImportError:  # pragma: no cover - tensorboard is a dependency
            log.warning("tensorboard is not installed; no TensorBoard logs")

    def _init_weights_from(self, path: Path) -> None:
        from beep3d.training.checkpoint import (
            architecture_differences,
            find_checkpoint,
            load_model_state,
            read_checkpoint,
        )

        path = find_checkpoint(path)
        state = read_checkpoint(path)
        differences = architecture_differences(state.config, self.config)
        if differences:
            raise Beep3dError(
                f"{path}: --init needs a checkpoint of the config's network, but {'; '.join(differences)}. "
                "Use the config the checkpoint was trained with, or train without --init."
            )
        if list(state.class_set.names) != list(self.class_set.names):
            raise Beep3dError(
                f"{path}: --init needs a checkpoint of the same classes, but it knows "
                f"{len(state.class_set.names)} ({state.class_set.label_space}) and the data uses "
                f"{len(self.class_set.names)} ({self.class_set.label_space}); set class_set in the config "
                "to the checkpoint's, or train without --init."
            )
        load_model_state(path, self.model, state.model_state)
        log.info("started from the weights of %s (step %d of its run)", path, state.step)

    def _resume_from(self, path: Path) -> None:
        import torch

        from beep3d.training.checkpoint import (
            check_compatible,
            check_same_run,
            load_model_state,
            read_checkpoint,
            restore_rng_state,
        )

        state = read_checkpoint(path)
        check_compatible(path, state, self.config)
        saved_total = (state.scheduler_state or {}).get("total_steps")
        if saved_total is not None and saved_total != self.total_steps:
            raise Beep3dError(
                f"{path}: the run's one-cycle schedule spans {saved_total} steps but this config gives "
                f"{self.total_steps} ({self.config.epochs} epochs x {self.steps_per_epoch} steps with "
                f"{self.dist.world_size} process(es)); resume with the run's epochs, batch size, data and "
                "number of processes (torchrun's --nproc_per_node), or start a new run folder"
            )
        check_same_run(path, state, self.config)
        load_model_state(path, self.model, state.model_state)
        if state.optimizer_state is not None:
            self.optimizer.load_state_dict(state.optimizer_state)
        if state.scheduler_state is not None:
            self.scheduler.load_state_dict(state.scheduler_state)
        if state.scaler_state is not None and self.use_amp:
            self.scaler.load_state_dict(state.scaler_state)
        restore_rng_state(state.rng_state)
        self.step, self.epoch, self.batch_in_epoch = state.step, state.epoch, state.batch_in_epoch
        self._restore_best(state.extra)
        if torch.cuda.is_available() and self.device.type == "cuda":
            torch.cuda.synchronize()
        log.info(
            "resumed %s at step %d (epoch %d, batch %d)", path, self.step, self.epoch, self.batch_in_epoch
        )

    def _restore_best(self, last_extra: dict[str, Any]) -> None:
        """The best evaluation so far, when resuming: from ``best.safetensors``, else from ``last``.

        ``best.safetensors`` holds its own score and key, and may be newer than ``last``: the
        evaluation of a step comes before its checkpoint, and a run stopped between the two resumes
        from the checkpoint before (and evaluates that step again, to the same figures).
        """
        from beep3d.model.weights import read_checkpoint_info

        extra = last_extra
        best = self.checkpoint_dir / "best.safetensors"
        if best.is_file():
            try:
                extra = read_checkpoint_info(best).metadata.get("extra") or {}
            except Beep3dError as exc:
                log.warning("%s; the best figure is taken from the last checkpoint", exc)
        stored_score = extra.get("best_score")
        self.best_score = float("-inf") if stored_score is None else float(stored_score)
        stored_key = extra.get("best_key")
        self.best_key = (
            None
            if stored_key is None
            else tuple(float("-inf") if value is None else float(value) for value in stored_key)
        )

    # ------------------------------------------------------------------ records
    def _load_records(self) -> None:
        path = self.run_dir / METRICS_FILE
        self.records = []
        if not (self.resume and path.exists()):
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if int(record.get("step", 0)) <= self.step:
                self.records.append(record)
        self._write_records()

    def _write_records(self) -> None:
        text = "".join(json.dumps(r) + "\n" for r in self.records)
        write_text_atomic(self.run_dir / METRICS_FILE, text)

    def _record(self, record: dict[str, Any]) -> None:
        if not self.dist.is_main:
            return
        self.records.append({k: _clean(v) for k, v in record.items()})
        self._write_records()
        if self.writer is not None:
            prefix = "train" if record["kind"] == "train" else "eval"
            for key, value in record.items():
                if key in ("kind", "step", "epoch") or not isinstance(value, int | float):
                    continue
                if math.isfinite(value):
                    self.writer.add_scalar(f"{prefix}/{key}", value, record["step"])
            self.writer.flush()

    def _plot_curves(self) -> None:
        if not self.dist.is_main or not self.records:
            return
        import warnings

        with warnings.catch_warnings():  # e.g. "no artists with labels" before the first evaluation
            warnings.simplefilter("ignore")
            self._draw_curves()

    def _draw_curves(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        train = [r for r in self.records if r["kind"] == "train"]
        evals = [r for r in self.records if r["kind"] == "eval"]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        loss_keys = sorted({k for r in train for k in r if k.startswith("loss/")})
        for key in loss_keys:
            points = [(r["step"], r[key]) for r in train if r.get(key) is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                axes[0].plot(xs, ys, label=key[5:], linewidth=2.0 if key == "loss/total" else 1.0)
        axes[0].set_xlabel("step")
        axes[0].set_title("training losses")
        axes[0].legend(fontsize=7)
        for key in ("ap", "ap50", "ap25", "macc", "miou"):
            points = [(r["step"], r[key]) for r in evals if r.get(key) is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                axes[1].plot(xs, ys, marker="o", label=key)
        axes[1].set_xlabel("step")
        axes[1].set_title("evaluation")
        axes[1].set_ylim(0, 1)
        if evals:
            axes[1].legend(fontsize=7)
        fig.tight_layout()
        write_with_atomic(self.run_dir / CURVES_FILE, lambda p: fig.savefig(p, format="png", dpi=90))
        plt.close(fig)

    # ------------------------------------------------------------------ checkpoints
    def _save(self, name: str) -> None:
        if not self.dist.is_main:
            return
        from beep3d.training.checkpoint import save_checkpoint

        save_checkpoint(
            self.checkpoint_dir / f"{name}.safetensors",
            self.model,
            self.config,
            self.class_set,
            step=self.step,
            epoch=self.epoch,
            batch_in_epoch=self.batch_in_epoch,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            scaler=self.scaler,
            extra={
                "best_score": _clean(self.best_score),
                "best_key": None if self.best_key is None else [_clean(v) for v in self.best_key],
            },
        )

    # ------------------------------------------------------------------ loop
    def _collate(self, samples: list[ModelSample]) -> Any:
        return self.collate_fn(samples, self.device, self.config.model.voxel_size)

    def _train_step(self, samples: list[ModelSample]) -> dict[str, float]:
        import torch

        torch.manual_seed(step_seed(self.config.seed, self.step))
        batch = self._collate(samples)
        with torch.autocast(device_type=self.device.type, dtype=torch.float16, enabled=self.use_amp):
            losses = self.loss_module(batch, self.step)
        total = losses["total"]
        # What is logged: the losses averaged over all processes (each process trains on its own
        # scenes), every process gets the same; in a single process, this step's own losses.
        logged = average_across_processes(losses, self.dist, self.device)
        if not torch.isfinite(total.detach()).all():
            raise Beep3dError(
                f"the training loss became {float(total.detach())} at step {self.step + 1} (scenes "
                f"{', '.join(s.name for s in samples)}); lower lr in the config or check these scenes' boxes"
            )
        if not math.isfinite(logged["total"]):  # every process stops, not only the one that failed
            raise Beep3dError(
                f"the training loss became {logged['total']} at step {self.step + 1} in another process "
                "(its own message names the scenes); lower lr in the config or check those scenes' boxes"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total.float()).backward()
        self.scaler.unscale_(self.optimizer)
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.student_params, self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        # a finite loss can still take a step to non-finite weights (a huge lr): stop here, with the
        # same advice, rather than in the next step's matching (every process holds the same weights)
        norms = torch._foreach_norm([p.detach() for p in self.student_params])
        if not bool(torch.isfinite(torch.stack(norms)).all()):
            raise Beep3dError(
                f"the network's weights became non-finite at step {self.step + 1} (scenes "
                f"{', '.join(s.name for s in samples)}); lower lr in the config"
            )
        self.scheduler.step()
        self.step += 1
        if self.config.model.teacher_mode == "ema":
            self.model.update_teacher(self.step)
        return logged

    def _make_loader(self) -> Any:
        import torch
        from torch.utils.data import DataLoader

        workers = self.config.num_workers
        return DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            sampler=self.sampler,
            collate_fn=list,
            num_workers=workers,
            persistent_workers=workers > 0,
            generator=torch.Generator().manual_seed(self.config.seed),
            drop_last=False,
            worker_init_fn=functools.partial(end_with_parent, os.getpid()),
        )

    def _evaluate(self) -> None:
        if self.dist.is_main:
            from beep3d.training import evaluation

            samples = (self.val_set[i] for i in range(len(self.val_set)))
            started = time.perf_counter()
            figures = evaluation.evaluate(self.model, samples, self._collate, self.class_set)
            figures["seconds"] = time.perf_counter() - started
            self.last_eval = figures
            self._record({"kind": "eval", "step": self.step, "epoch": self.epoch, **figures})
            # The best checkpoint is picked by the config's figure with ties broken by the teacher's
            # mACC, then mIoU (see evaluation.selection_key: a CPU-sized student's AP is 0.0 at every
            # evaluation, and AP alone would keep the first evaluation for good).
            score = evaluation.selection_score(figures, self.config.select_by)
            key = evaluation.selection_key(figures, self.config.select_by)
            better = score > self.best_score if self.best_key is None else key > self.best_key
            if better and math.isfinite(max(key)):
                self.best_score, self.best_key = score, key
                self._save("best")
            self._plot_curves()
        barrier(self.dist)

    def run(self) -> TrainResult:
        """Train until the last epoch or ``max_steps``; returns the final state's figures."""
        self._setup()
        from tqdm import tqdm

        loader = self._make_loader()
        last_losses: dict[str, float] = {}
        stop_step = self.total_steps if self.max_steps is None else min(self.total_steps, self.max_steps)
        progress = tqdm(
            total=stop_step,
            initial=self.step,
            desc="beep3d-train",
            unit="step",
            disable=not (self.show_progress and self.dist.is_main),
            dynamic_ncols=True,
        )
        try:
            while self.epoch < self.config.epochs and self.step < stop_step:
                self.sampler.set_epoch(self.epoch, start_batch=self.batch_in_epoch)
                for samples in _user_errors_unwrapped(loader):
                    losses = self._train_step(samples)
                    last_losses = losses
                    self.batch_in_epoch += 1
                    progress.update(1)
                    progress.set_postfix(loss=f"{losses['total']:.4f}", epoch=self.epoch)
                    if self.step % self.config.log_every == 0 or self.step == stop_step:
                        record = {"kind": "train", "step": self.step, "epoch": self.epoch}
                        record["lr"] = float(self.scheduler.get_last_lr()[0])
                        record.update({f"loss/{k}": v for k, v in losses.items()})
                        self._record(record)
                    epoch_done = self.batch_in_epoch >= self.steps_per_epoch
                    if epoch_done:
                        self.epoch += 1
                        self.batch_in_epoch = 0
                        if self.config.model.teacher_mode == "self_training":
                            self.model.copy_student_to_teacher()
                    final = self.step == stop_step
                    # evaluate before the checkpoint: a run stopped between the two resumes from the
                    # checkpoint before and evaluates again, instead of never recording this evaluation
                    if final or (
                        epoch_done and self.config.eval_every and self.epoch % self.config.eval_every == 0
                    ):
                        self._evaluate()
                    if (
                        epoch_done
                        or final
                        or (
                            self.config.checkpoint_every_steps
                            and self.step % self.config.checkpoint_every_steps == 0
                        )
                    ):
                        self._save("last")
                    if (
                        epoch_done
                        and self.config.checkpoint_every_epochs
                        and (self.epoch % self.config.checkpoint_every_epochs == 0)
                    ):
                        self._save(f"epoch_{self.epoch:04d}")
                    if self.step_callback is not None:
                        self.step_callback(self.step, losses)
                    if final:
                        break
            self._plot_curves()
        finally:
            progress.close()
            if self.writer is not None:
                self.writer.close()
        return TrainResult(self.run_dir, self.step, self.epoch, last_losses, self.best_score, self.last_eval)


def end_with_parent(parent_pid: int, _worker_id: int) -> None:
    """DataLoader worker start-up: end this worker when the training process dies, even by kill -9.

    On Linux the kernel sends the worker SIGTERM when its parent ends (``PR_SET_PDEATHSIG``); torch's
    own watchdog only notices a dead parent while the worker waits for work. Elsewhere nothing is done.

    Parameters
    ----------
    parent_pid
        The training process's pid, taken when the DataLoader was made.
    """
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the call
        os._exit(0)
