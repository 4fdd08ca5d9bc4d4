"""Logged training losses: each step's own in a single process, the mean over processes with DDP."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from beep3d.training.config import TrainConfig
from beep3d.training.datasets import build_datasets
from beep3d.training.distributed import DistInfo, average_across_processes
from beep3d.training.trainer import Trainer
from tests.training_fakes import FakeBatch, FakeBeep3DModel, as_process_of, fake_collate, write_rooms

RECORD_DIR_ENV = "BEEP3D_TEST_LOSS_RECORDS"


class RecordingModel(FakeBeep3DModel):
    """The stand-in model; appends each step's own losses to a per-process file."""

    def training_losses(self, batch: FakeBatch, step: int | None = None) -> dict[str, torch.Tensor]:
        losses = super().training_losses(batch, step)
        rank = os.environ.get("RANK", "0")
        path = Path(os.environ[RECORD_DIR_ENV]) / f"rank{rank}.jsonl"
        with path.open("a") as f:
            f.write(json.dumps({"step": step, **{k: float(v.detach()) for k, v in losses.items()}}) + "\n")
        return losses


def config() -> TrainConfig:
    base = TrainConfig(num_workers=0, crop_points=1500, eval_every=0, log_every=1, checkpoint_every_steps=0)
    return replace(base, batch_size=1, epochs=2, lr=1e-2, checkpoint_every_epochs=0)


def own_losses(records: Path, rank: int) -> dict[int, dict[str, float]]:
    lines = (records / f"rank{rank}.jsonl").read_text().splitlines()
    return {r["step"] + 1: r for r in map(json.loads, lines)}  # logged after the step: step + 1


def logged_losses(run_dir: Path) -> dict[int, dict[str, float]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return {r["step"]: r for r in map(json.loads, lines) if r["kind"] == "train"}


def test_a_single_process_adds_no_collective_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no collective call in a single process")

    monkeypatch.setattr(dist, "all_reduce", refuse)
    values = {"total": torch.tensor(0.25, requires_grad=True) * 2, "bce": torch.tensor(0.125), "x": 3}
    assert average_across_processes(values, DistInfo(), "cpu") == {"total": 0.5, "bce": 0.125, "x": 3.0}


def test_a_single_process_logs_each_steps_own_losses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    records = tmp_path / "records"
    records.mkdir()
    monkeypatch.setenv(RECORD_DIR_ENV, str(records))
    write_rooms(tmp_path / "data", 2)
    train, val, class_set, *_ = build_datasets(tmp_path / "data", config())
    steps: dict[int, dict[str, float]] = {}
    trainer = Trainer(config(), train, val, class_set, tmp_path / "run", show_progress=False,
                      model_factory=RecordingModel, collate_fn=fake_collate,
                      step_callback=lambda step, losses: steps.update({step: losses}))  # fmt: skip
    trainer.run()
    own, logged = own_losses(records, 0), logged_losses(tmp_path / "run")
    assert sorted(own) == sorted(logged) == sorted(steps) == [1, 2, 3, 4]
    for step in own:
        assert steps[step] == {"total": own[step]["total"], "bce": own[step]["bce"]}
        assert logged[step]["loss/total"] == own[step]["total"]
        assert logged[step]["loss/bce"] == own[step]["bce"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_trainer(rank: int, world_size: int, port: int, data: str, out: str, records: str, model) -> Trainer:  # noqa: ANN001
    """This process as rank ``rank`` of the run, recording its losses, with a trainer of ``model``."""
    as_process_of(rank, world_size, port)
    os.environ[RECORD_DIR_ENV] = records
    train, val, class_set, *_ = build_datasets(data, config())
    return Trainer(config(), train, val, class_set, out, show_progress=False,
                   model_factory=model, collate_fn=fake_collate)  # fmt: skip


def _worker(rank: int, world_size: int, port: int, data: str, out: str, records: str) -> None:
    from beep3d.training.distributed import shutdown

    trainer = _rank_trainer(rank, world_size, port, data, out, records, RecordingModel)
    result = trainer.run()
    Path(records, f"last{rank}.json").write_text(json.dumps(result.last_losses))
    shutdown(trainer.dist)


def _two_processes(worker, tmp_path: Path) -> tuple[Path, Path]:  # noqa: ANN001
    """Four rooms trained by ``worker`` as two processes; their records folder and run folder."""
    import torch.multiprocessing as mp

    write_rooms(tmp_path / "data", 4)
    records, out = tmp_path / "records", tmp_path / "run"
    records.mkdir()
    args = (2, _free_port(), str(tmp_path / "data"), str(out), str(records))
    mp.spawn(worker, args=args, nprocs=2, join=True)
    return records, out


@pytest.mark.slow
def test_two_processes_log_the_mean_of_their_losses(tmp_path: Path) -> None:
    records, out = _two_processes(_worker, tmp_path)
    rank0, rank1, logged = own_losses(records, 0), own_losses(records, 1), logged_losses(out)
    assert sorted(rank0) == sorted(rank1) == sorted(logged) == [1, 2, 3, 4]
    assert any(rank0[s]["total"] != rank1[s]["total"] for s in rank0), "the processes train on other scenes"
    for step in logged:
        for key in ("total", "bce"):
            mean = (rank0[step][key] + rank1[step][key]) / 2
            assert logged[step][f"loss/{key}"] == pytest.approx(mean, rel=1e-6), (step, key)
    last0 = json.loads((records / "last0.json").read_text())
    last1 = json.loads((records / "last1.json").read_text())
    assert last0 == last1 == {"total": logged[4]["loss/total"], "bce": logged[4]["loss/bce"]}


class FailingModel(RecordingModel):
    """Rank 1's loss becomes NaN at step 2 (0-based: the third step)."""

    def training_losses(self, batch: FakeBatch, step: int | None = None) -> dict[str, torch.Tensor]:
        losses = super().training_losses(batch, step)
        if os.environ.get("RANK") == "1" and step == 2:
            losses = {key: value * float("nan") for key, value in losses.items()}
        return losses


def _failing_worker(rank: int, world_size: int, port: int, data: str, out: str, records: str) -> None:
    from beep3d.errors import Beep3dError
    from beep3d.training.distributed import shutdown

    trainer = _rank_trainer(rank, world_size, port, data, out, records, FailingModel)
    try:
        trainer.run()
        message = "finished"
    except Beep3dError as exc:
        message = str(exc)
    Path(records, f"error{rank}.txt").write_text(message)
    shutdown(trainer.dist)


@pytest.mark.slow
def test_a_non_finite_loss_in_one_process_stops_every_process(tmp_path: Path) -> None:
    records, _out = _two_processes(_failing_worker, tmp_path)
    error0, error1 = (records / "error0.txt").read_text(), (records / "error1.txt").read_text()
    assert "at step 3 (scenes room" in error1, error1
    assert "at step 3 in another process" in error0, error0
