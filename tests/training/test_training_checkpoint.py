"""Checkpoints: full round trip, refusal of other networks and formats, no code execution on load."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from beep3d.classes import S3DIS13, SCANNET18
from beep3d.errors import Beep3dError
from beep3d.model.sample import with_model_dtypes
from beep3d.training.checkpoint import (
    check_compatible,
    load_model_state,
    read_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from beep3d.training.config import TrainConfig
from beep3d.training.datasets import prepare_scene
from tests.training_fakes import FakeBeep3DModel, fake_collate, make_room


def trained_state(config: TrainConfig) -> tuple[FakeBeep3DModel, torch.optim.Optimizer, object]:
    torch.manual_seed(0)
    model = FakeBeep3DModel(config.model)
    optimizer = torch.optim.AdamW(model.student_parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=10)
    scene, boxes = make_room(0)
    batch = fake_collate(
        [with_model_dtypes(prepare_scene(scene, boxes, SCANNET18, scene.superpoints).sample)]
    )
    for step in range(1, 3):
        loss = model.training_losses(batch)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        model.update_teacher(step)
    return model, optimizer, scheduler


def test_round_trip_restores_model_optimizer_scheduler_and_rng(tmp_path: Path) -> None:
    config = TrainConfig()
    model, optimizer, scheduler = trained_state(config)
    path = tmp_path / "ckpt.safetensors"
    np.random.seed(5)
    torch.manual_seed(5)
    save_checkpoint(
        path,
        model,
        config,
        S3DIS13,
        step=2,
        epoch=1,
        batch_in_epoch=1,
        optimizer=optimizer,
        scheduler=scheduler,
        extra={"best_score": 0.25},
    )
    expected_numpy, expected_torch = np.random.rand(3), torch.rand(3)

    state = read_checkpoint(path)
    assert (state.step, state.epoch, state.batch_in_epoch) == (2, 1, 1)
    assert state.config == config and state.class_set == S3DIS13 and state.extra["best_score"] == 0.25
    fresh = FakeBeep3DModel(config.model)
    load_model_state(path, fresh, state.model_state)
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    fresh_optimizer = torch.optim.AdamW(fresh.student_parameters(), lr=1e-3, weight_decay=0.05)
    fresh_optimizer.load_state_dict(state.optimizer_state)
    for a, b in zip(optimizer.state.values(), fresh_optimizer.state.values(), strict=True):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
        assert float(a["step"]) == float(b["step"])
    fresh_scheduler = torch.optim.lr_scheduler.OneCycleLR(fresh_optimizer, max_lr=1e-3, total_steps=10)
    fresh_scheduler.load_state_dict(state.scheduler_state)
    assert fresh_scheduler.get_last_lr() == scheduler.get_last_lr()
    restore_rng_state(state.rng_state)
    np.testing.assert_array_equal(np.random.rand(3), expected_numpy)
    assert torch.equal(torch.rand(3), expected_torch)


def test_other_network_config_is_refused_with_the_difference(tmp_path: Path) -> None:
    config = TrainConfig()
    model, optimizer, scheduler = trained_state(config)
    path = save_checkpoint(tmp_path / "c.safetensors", model, config, SCANNET18, 2, 0, optimizer=optimizer)
    other = replace(config, model=replace(config.model, d_model=128))
    with pytest.raises(Beep3dError, match=r"d_model: checkpoint 256, config 128"):
        check_compatible(path, read_checkpoint(path), other)
    # training-only changes are fine
    check_compatible(path, read_checkpoint(path), replace(config, lr=3e-4, epochs=7))


def test_tensors_that_do_not_fit_are_listed(tmp_path: Path) -> None:
    config = TrainConfig()
    model, *_ = trained_state(config)
    path = save_checkpoint(tmp_path / "c.safetensors", model, config, SCANNET18, 2, 0)
    state = read_checkpoint(path)
    state.model_state["student.layers.0.weight"] = torch.zeros(3, 3)
    del state.model_state["teacher.layers.3.bias"]
    with pytest.raises(Beep3dError, match=r"missing tensors: teacher.layers.3.bias.*shapes differ"):
        load_model_state(path, FakeBeep3DModel(config.model), state.model_state)


class _Exploit:
    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (Path(self.marker),))


def test_pickled_file_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.marker = str(marker)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"model": exploit}))
    for name in (path, tmp_path / "evil.pt"):
        if name != path:
            name.write_bytes(path.read_bytes())
        with pytest.raises(Beep3dError, match="not a BEEP3D checkpoint"):
            read_checkpoint(name)
    assert not marker.exists()


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    meta = {"format": "beep3d-checkpoint", "format_version": 99}
    path = tmp_path / "future.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"beep3d": json.dumps(meta)})
    with pytest.raises(Beep3dError, match="format version 99"):
        read_checkpoint(path)
    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(1)}, str(plain))
    with pytest.raises(Beep3dError, match="not a BEEP3D checkpoint"):
        read_checkpoint(plain)
    with pytest.raises(Beep3dError, match="not found"):
        read_checkpoint(tmp_path / "missing.safetensors")


@pytest.mark.slow
def test_load_model_for_inference_builds_the_real_model(tmp_path: Path) -> None:
    from beep3d.model.beep3d_model import Beep3DModel
    from beep3d.training.checkpoint import load_model_for_inference
    from beep3d.training.config import load_config

    config = load_config("small")
    torch.manual_seed(1)
    model = Beep3DModel(config.model)
    (tmp_path / "checkpoints").mkdir()
    save_checkpoint(tmp_path / "checkpoints" / "last.safetensors", model, config, SCANNET18, 5, 1)
    loaded, class_set, loaded_config = load_model_for_inference(tmp_path)
    assert isinstance(loaded, Beep3DModel) and not loaded.training
    assert class_set == SCANNET18 and loaded_config == config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_inference_export_keeps_the_weights_and_drops_the_optimizer(tmp_path: Path) -> None:
    from beep3d.model.beep3d_model import Beep3DModel
    from beep3d.model.weights import load_inference_model
    from beep3d.training.config import load_config
    from beep3d.training.export_checkpoint import main

    config = load_config("small")
    torch.manual_seed(2)
    model = Beep3DModel(config.model)
    optimizer = torch.optim.AdamW(model.student_parameters(), lr=1e-3)
    loss = sum(p.sum() for p in model.student_parameters())
    loss.backward()
    optimizer.step()
    full = save_checkpoint(tmp_path / "full.safetensors", model, config, SCANNET18, 7, 3, optimizer=optimizer)
    small = tmp_path / "ship" / "small.safetensors"
    small.parent.mkdir()
    assert main([str(full), str(small)]) == 0
    assert small.stat().st_size < 0.6 * full.stat().st_size
    state = read_checkpoint(small)
    assert state.optimizer_state is None and state.step == 7 and state.config == config
    loaded, class_set, _ = load_inference_model(small)
    assert class_set == SCANNET18
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert main([str(tmp_path / "missing.safetensors"), str(tmp_path / "x.safetensors")]) == 2


def test_resolver_settings_chosen_for_a_checkpoint_travel_with_it(tmp_path: Path) -> None:
    from beep3d.model.beep3d_model import Beep3DModel
    from beep3d.resolve.teacher_resolver import (
        DEFAULT_MIN_RECOGNITION,
        DEFAULT_OVERLAP_SCORE,
        TeacherResolver,
    )
    from beep3d.training.config import load_config
    from beep3d.training.export_checkpoint import main

    config = load_config("small")
    full = save_checkpoint(tmp_path / "full.safetensors", Beep3DModel(config.model), config, SCANNET18, 7, 3)
    plain, chosen = tmp_path / "plain.safetensors", tmp_path / "chosen.safetensors"
    assert main([str(full), str(plain)]) == 0
    assert main([str(full), str(chosen), "--overlap-score", "logit", "--min-recognition", "0.1"]) == 0
    assert main([str(full), str(tmp_path / "x.safetensors"), "--min-recognition", "2"]) == 2
    without = TeacherResolver(plain)
    assert (without.overlap_score, without.min_recognition) == (
        DEFAULT_OVERLAP_SCORE,
        DEFAULT_MIN_RECOGNITION,
    )
    stored = TeacherResolver(chosen)
    assert (stored.overlap_score, stored.min_recognition) == ("logit", 0.1)
    # what the user asks for wins over what the checkpoint stores
    asked = TeacherResolver(chosen, overlap_score="logit_minus_log_volume", min_recognition=0.25)
    assert (asked.overlap_score, asked.min_recognition) == ("logit_minus_log_volume", 0.25)
