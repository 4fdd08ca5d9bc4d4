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

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.model.sample import ModelSample
from beep3d.training.config import TrainConfig
from beep3d.training.data_loading import end_with_parent, make_loader, user_errors_unwrapped
from beep3d.training.distributed import (
    DistInfo,
    average_across_processes,
    barrier,
    init_distributed,
    loss_module_for,
)
from beep3d.training.run_records import (
    CURVES_FILE,
    METRICS_FILE,
    add_to_tensorboard,
    clean_value,
    plot_curves,
    read_records,
    write_records,
)
from beep3d.training.run_start import (
    CHECKPOINT_DIR,
    init_weights_from,
    last_checkpoint_to_start_from,
    open_tensorboard,
    read_state_to_resume,
    stored_best,
    training_device,
    write_run_settings,
)

__all__ = [
    "CHECKPOINT_DIR",
    "CURVES_FILE",
    "METRICS_FILE",
    "TrainResult",
    "Trainer",
    "end_with_parent",
    "step_seed",
]

log = logging.getLogger(__name__)


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
        """Everything a run needs before its first step: device, model, optimizer, schedule, resumed
        state and (main process) the run folder's files."""
        last = last_checkpoint_to_start_from(self.run_dir, self.resume)
        self.checkpoint_dir = self.run_dir / CHECKPOINT_DIR
        self.device = training_device(self.device_name)
        self.dist: DistInfo = init_distributed(self.device_name)
        self.use_amp = bool(self.config.amp and self.device.type == "cuda")
        self._build_model()
        self._build_optimization()
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        if self.resume:
            self._resume_from(last)
        self.writer = None
        if self.dist.is_main:
            self._prepare_run_folder()

    def _build_model(self) -> None:
        """The seeded model on the device (``--init``: with a checkpoint's weights) and its loss module."""
        import torch

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
            init_weights_from(self.init_from, self.model, self.config, self.class_set)
        self.model.train()
        self.loss_module: Any = loss_module_for(self.model, self.dist, self.device)
        self.student_params = [p for p in self.model.student_parameters() if p.requires_grad]

    def _build_optimization(self) -> None:
        """AdamW on the student, the epoch sampler, the one-cycle schedule over all epochs, the AMP scaler."""
        import torch

        from beep3d.training.sampling import EpochSampler

        self.optimizer = torch.optim.AdamW(
            self.student_params, lr=self.config.lr, weight_decay=self.config.weight_decay
        )
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

    def _prepare_run_folder(self) -> None:
        """The run folder's config, class set, earlier records and TensorBoard writer (main process)."""
        write_run_settings(self.run_dir, self.config, self.class_set)
        self._load_records()
        self.writer = open_tensorboard(self.run_dir, self.step)

    def _resume_from(self, path: Path) -> None:
        """Continue from the checkpoint ``path``: weights, optimizer, schedule, randomness, position."""
        import torch

        from beep3d.training.checkpoint import load_model_state, restore_rng_state

        state = read_state_to_resume(
            path, self.config, self.total_steps, self.steps_per_epoch, self.dist.world_size
        )
        load_model_state(path, self.model, state.model_state)
        if state.optimizer_state is not None:
            self.optimizer.load_state_dict(state.optimizer_state)
        if state.scheduler_state is not None:
            self.scheduler.load_state_dict(state.scheduler_state)
        if state.scaler_state is not None and self.use_amp:
            self.scaler.load_state_dict(state.scaler_state)
        restore_rng_state(state.rng_state)
        self.step, self.epoch, self.batch_in_epoch = state.step, state.epoch, state.batch_in_epoch
        self.best_score, self.best_key = stored_best(self.checkpoint_dir, state.extra)
        if torch.cuda.is_available() and self.device.type == "cuda":
            torch.cuda.synchronize()
        log.info(
            "resumed %s at step %d (epoch %d, batch %d)", path, self.step, self.epoch, self.batch_in_epoch
        )

    # ------------------------------------------------------------------ records
    def _load_records(self) -> None:
        """The records of the steps done so far (resuming), rewritten without those of later steps."""
        path = self.run_dir / METRICS_FILE
        self.records = []
        if not (self.resume and path.exists()):
            return
        self.records = read_records(path, self.step)
        write_records(path, self.records)

    def _record(self, record: dict[str, Any]) -> None:
        """Append ``record`` to ``metrics.jsonl`` and TensorBoard (main process)."""
        if not self.dist.is_main:
            return
        self.records.append({k: clean_value(v) for k, v in record.items()})
        write_records(self.run_dir / METRICS_FILE, self.records)
        if self.writer is not None:
            add_to_tensorboard(self.writer, record)

    def _plot_curves(self) -> None:
        if not self.dist.is_main:
            return
        plot_curves(self.records, self.run_dir / CURVES_FILE)

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
                "best_score": clean_value(self.best_score),
                "best_key": None if self.best_key is None else [clean_value(v) for v in self.best_key],
            },
        )

    def _save_due_checkpoints(self, epoch_done: bool, final: bool) -> None:
        """``last`` at an epoch's end, the final step and every ``checkpoint_every_steps``; ``epoch_XXXX``
        every ``checkpoint_every_epochs`` epochs."""
        every_steps = self.config.checkpoint_every_steps
        if epoch_done or final or (every_steps and self.step % every_steps == 0):
            self._save("last")
        every_epochs = self.config.checkpoint_every_epochs
        if epoch_done and every_epochs and (self.epoch % every_epochs == 0):
            self._save(f"epoch_{self.epoch:04d}")

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self) -> None:
        """Evaluate on the validation scenes (main process), record the figures, keep the best checkpoint."""
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

    def _after_step(self, losses: dict[str, float], stop_step: int) -> bool:
        """Log, end the epoch, evaluate and checkpoint as due after a step; True after the last step."""
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
        if final or (epoch_done and self.config.eval_every and self.epoch % self.config.eval_every == 0):
            self._evaluate()
        self._save_due_checkpoints(epoch_done, final)
        if self.step_callback is not None:
            self.step_callback(self.step, losses)
        return final

    def run(self) -> TrainResult:
        """Train until the last epoch or ``max_steps``; returns the final state's figures."""
        self._setup()
        from tqdm import tqdm

        loader = make_loader(self.train_set, self.sampler, self.config)
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
                for samples in user_errors_unwrapped(loader):
                    losses = self._train_step(samples)
                    last_losses = losses
                    self.batch_in_epoch += 1
                    progress.update(1)
                    progress.set_postfix(loss=f"{losses['total']:.4f}", epoch=self.epoch)
                    if self._after_step(losses, stop_step):
                        break
            self._plot_curves()
        finally:
            progress.close()
            if self.writer is not None:
                self.writer.close()
        return TrainResult(self.run_dir, self.step, self.epoch, last_losses, self.best_score, self.last_eval)
