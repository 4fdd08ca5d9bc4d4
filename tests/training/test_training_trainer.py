"""The training loop: logs and checkpoints, exact resume after a kill, learning, 2-process DDP."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from beep3d.errors import Beep3dError
from beep3d.training.config import TrainConfig, load_config
from beep3d.training.datasets import build_datasets
from beep3d.training.trainer import Trainer
from tests.training_fakes import FakeBeep3DModel, ddp_worker, fake_collate, write_rooms


class Killed(Exception):
    """Stands for the process being killed: nothing after it runs."""


def fake_config(**changes: object) -> TrainConfig:
    base = TrainConfig(
        epochs=3, batch_size=1, num_workers=0, crop_points=1500, eval_every=0, log_every=1,
        checkpoint_every_steps=2, checkpoint_every_epochs=0, lr=1e-2,
    )  # fmt: skip
    return replace(base, **changes)


def run(config: TrainConfig, data: Path, out: Path, real: bool = False, **kwargs: object) -> Trainer:
    train, val, class_set, *_ = build_datasets(data, config)
    fakes = {} if real else {"model_factory": FakeBeep3DModel, "collate_fn": fake_collate}
    trainer = Trainer(config, train, val, class_set, out, show_progress=False, **fakes, **kwargs)
    trainer.run()
    return trainer


def train_losses(run_dir: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss/total"] for r in records if r["kind"] == "train"}


def kill_at(step: int):  # noqa: ANN201
    def callback(current: int, losses: dict[str, float]) -> None:
        if current == step:
            raise Killed

    return callback


def check_resume_is_exact(data: Path, tmp_path: Path, config: TrainConfig, real: bool) -> None:
    straight = tmp_path / "straight"
    run(config, data, straight, real=real, max_steps=4)
    resumed = tmp_path / "resumed"
    # checkpoints every 2 steps; killed after step 3 (mid-epoch: 3 scenes, batch 1... or batch 2)
    with pytest.raises(Killed):
        run(config, data, resumed, real=real, max_steps=4, step_callback=kill_at(3))
    assert max(train_losses(resumed)) == 3, "step 3 was logged before the kill"
    with pytest.raises(Beep3dError, match="--resume"):
        run(config, data, resumed, real=real, max_steps=4)
    trainer = run(config, data, resumed, real=real, max_steps=4, resume=True)
    assert trainer.step == 4
    expected, got = train_losses(straight), train_losses(resumed)
    assert sorted(got) == [1, 2, 3, 4]
    assert got == expected
    from safetensors.torch import load_file

    a, b = (load_file(p / "checkpoints" / "last.safetensors") for p in (straight, resumed))
    for key in a:
        if key.startswith("model/"):
            assert torch.equal(a[key], b[key]), key


def test_run_folder_holds_logs_curves_and_checkpoints(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 3)
    out = tmp_path / "run"
    trainer = run(fake_config(eval_every=1, checkpoint_every_epochs=2), tmp_path / "data", out)
    assert trainer.step == 9 and trainer.epoch == 3
    for name in ("config.yaml", "metrics.jsonl", "training_curves.png", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors", "checkpoints/epoch_0002.safetensors"):  # fmt: skip
        assert (out / name).is_file(), name
    assert any((out / "tensorboard").iterdir())
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["epoch"] for r in evals] == [1, 2, 3]
    assert {"ap", "ap50", "ap25", "macc", "miou"} <= set(evals[0])
    assert evals[0]["macc"] is not None and 0 <= evals[0]["macc"] <= 1
    assert (out / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    lrs = [r["lr"] for r in records if r["kind"] == "train"]
    assert max(lrs) == pytest.approx(1e-2, rel=0.05) and lrs[-1] < lrs[0], "one-cycle schedule"


def test_best_checkpoint_is_picked_by_the_configured_figure(tmp_path: Path) -> None:
    import numpy as np

    from beep3d.training.checkpoint import read_checkpoint

    write_rooms(tmp_path / "data", 3)
    out = tmp_path / "run"
    run(fake_config(eval_every=1, select_by="macc"), tmp_path / "data", out)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    maccs = [r["macc"] for r in records if r["kind"] == "eval"]
    best = read_checkpoint(out / "checkpoints" / "best.safetensors")
    assert best.extra["best_score"] == pytest.approx(max(maccs))
    assert best.step == [r["step"] for r in records if r["kind"] == "eval"][int(np.argmax(maccs))]


def test_resume_after_kill_gives_the_same_losses(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 3)
    check_resume_is_exact(tmp_path / "data", tmp_path, fake_config(num_workers=1), real=False)


def test_resume_refuses_another_network(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 2)
    config = fake_config()
    run(config, tmp_path / "data", tmp_path / "run", max_steps=2)
    other = replace(config, model=replace(config.model, num_layers=3))
    with pytest.raises(Beep3dError, match="num_layers"):
        run(other, tmp_path / "data", tmp_path / "run", resume=True)
    with pytest.raises(Beep3dError, match="nothing to resume"):
        run(config, tmp_path / "data", tmp_path / "fresh", resume=True)


def test_resume_refuses_other_settings_and_a_weights_only_checkpoint(tmp_path: Path) -> None:
    """A resumed run restores the optimizer and schedule: a new lr would be ignored and a new EMA decay
    applied, so neither is taken; config.yaml keeps saying what the run did."""
    write_rooms(tmp_path / "data", 2)
    config = fake_config()
    run(config, tmp_path / "data", tmp_path / "run", max_steps=2)
    written = (tmp_path / "run" / "config.yaml").read_text()
    other = replace(config, lr=0.5, model=replace(config.model, ema_alpha=0.5))
    with pytest.raises(Beep3dError, match=r"lr: run 0.01, now 0.5; model.ema_alpha: run 0.99, now 0.5"):
        run(other, tmp_path / "data", tmp_path / "run", resume=True)
    assert (tmp_path / "run" / "config.yaml").read_text() == written
    run(
        replace(config, num_workers=1, log_every=5),
        tmp_path / "data",
        tmp_path / "run",
        resume=True,
        max_steps=3,
    )
    from beep3d.training.checkpoint import read_checkpoint, save_checkpoint

    last = tmp_path / "run" / "checkpoints" / "last.safetensors"
    state = read_checkpoint(last)
    model = FakeBeep3DModel(config.model)
    model.load_state_dict(state.model_state)
    save_checkpoint(last, model, state.config, state.class_set, step=state.step, epoch=state.epoch)
    with pytest.raises(Beep3dError, match="weights only .* --init"):
        run(config, tmp_path / "data", tmp_path / "run", resume=True)


def test_an_evaluation_is_not_lost_when_the_run_stops_before_the_checkpoint_after_it(tmp_path: Path) -> None:
    """The evaluation of an epoch's end comes before its checkpoint: stopped in between, the resumed
    run goes back to the checkpoint before and evaluates that epoch again."""
    write_rooms(tmp_path / "data", 3)
    config = fake_config(eval_every=1, checkpoint_every_steps=0)
    straight = run(config, tmp_path / "data", tmp_path / "straight")
    import beep3d.training.trainer as trainer_module

    saved = trainer_module.Trainer._save

    def stop_at_the_second_epoch_end(self, name):  # noqa: ANN001, ANN202
        if name == "last" and self.epoch == 2:
            raise Killed
        return saved(self, name)

    trainer_module.Trainer._save = stop_at_the_second_epoch_end
    try:
        with pytest.raises(Killed):
            run(config, tmp_path / "data", tmp_path / "stopped")
    finally:
        trainer_module.Trainer._save = saved
    run(config, tmp_path / "data", tmp_path / "stopped", resume=True)

    def evaluated(run_dir: Path) -> list[int]:
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        return [r["step"] for r in records if r["kind"] == "eval"]

    assert evaluated(tmp_path / "stopped") == evaluated(straight.run_dir) == [3, 6, 9]


def test_a_step_that_makes_the_weights_non_finite_stops_the_run_with_advice(
    tmp_path: Path, monkeypatch
) -> None:
    write_rooms(tmp_path / "data", 2)
    step = torch.optim.AdamW.step

    def overflowing_step(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        result = step(self, *args, **kwargs)
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("inf"))
        return result

    monkeypatch.setattr(torch.optim.AdamW, "step", overflowing_step)
    with pytest.raises(Beep3dError, match="weights became non-finite at step 1 .* lower lr"):
        run(fake_config(), tmp_path / "data", tmp_path / "run")


def test_init_starts_a_new_run_from_the_weights_of_a_checkpoint(tmp_path: Path) -> None:
    from beep3d.training.checkpoint import read_checkpoint

    write_rooms(tmp_path / "data", 2)
    config = fake_config()
    run(config, tmp_path / "data", tmp_path / "first", max_steps=2)
    saved = read_checkpoint(tmp_path / "first" / "checkpoints" / "last.safetensors")
    train, val, class_set, *_ = build_datasets(tmp_path / "data", config)

    def refit(config: TrainConfig, out: str) -> Trainer:
        trainer = Trainer(
            config, train, val, class_set, tmp_path / out, init_from=tmp_path / "first",
            model_factory=FakeBeep3DModel, collate_fn=fake_collate, show_progress=False,
        )  # fmt: skip
        trainer._setup()
        return trainer

    trainer = refit(config, "refit")
    assert trainer.step == 0, "a new run: its own step, optimizer and schedule"
    state = trainer.model.state_dict()
    assert state.keys() == saved.model_state.keys()
    for key, value in saved.model_state.items():
        assert torch.equal(state[key].cpu(), value), key
    other = replace(config, model=replace(config.model, num_layers=3))
    with pytest.raises(Beep3dError, match="--init needs a checkpoint of the config's network.*num_layers"):
        refit(other, "other")


def test_a_few_steps_lower_the_loss(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 2)
    trainer = run(
        fake_config(epochs=15, batch_size=2, lr=3e-2, augment=False), tmp_path / "data", tmp_path / "run"
    )
    losses = train_losses(tmp_path / "run")
    first, last = losses[1], losses[max(losses)]
    assert last < 0.7 * first, losses
    assert trainer.last_eval is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_ddp_ends_with_identical_weights(tmp_path: Path) -> None:
    import torch.multiprocessing as mp
    from safetensors.torch import load_file

    write_rooms(tmp_path / "data", 4)
    out = tmp_path / "run"
    mp.spawn(ddp_worker, args=(2, _free_port(), str(tmp_path / "data"), str(out), 3), nprocs=2, join=True)
    rank0, rank1 = load_file(out / "rank0_step3.safetensors"), load_file(out / "rank1_step3.safetensors")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    torch.manual_seed(TrainConfig().seed)
    start = FakeBeep3DModel(TrainConfig().model)
    assert not torch.equal(rank0["student.layers.0.weight"], start.student.layers[0].weight.detach()), (
        "trained"
    )
    assert (out / "checkpoints" / "last.safetensors").is_file(), "rank 0 writes the checkpoint"
    assert 3 in train_losses(out)


@pytest.mark.slow
def test_resume_is_exact_with_the_real_model(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 3, num_objects=3, points_per_object=300, floor_points=300)
    config = replace(load_config("small"), batch_size=1, num_workers=0, eval_every=0, log_every=1,
                     checkpoint_every_steps=2, checkpoint_every_epochs=0, epochs=3)  # fmt: skip
    torch.set_num_threads(1)
    check_resume_is_exact(tmp_path / "data", tmp_path, config, real=True)


def test_a_user_error_in_a_loader_worker_keeps_its_message_only(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 2)
    config = fake_config(num_workers=1)
    train, val, class_set, *_ = build_datasets(tmp_path / "data", config)
    (tmp_path / "data" / "room01" / "scene.npz").write_bytes(b"broken")
    trainer = Trainer(config, train, val, class_set, tmp_path / "run", show_progress=False,
                      model_factory=FakeBeep3DModel, collate_fn=fake_collate)  # fmt: skip
    with pytest.raises(Beep3dError) as caught:
        trainer.run()
    assert "room01" in str(caught.value) and "Traceback" not in str(caught.value)
