"""beep3d-train from the command line: user errors exit 2 without a traceback; a tiny run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from beep3d.training.cli import main
from tests.training_fakes import write_rooms


def test_import_does_not_load_torch() -> None:
    code = "import sys, beep3d.training.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_config_key_exits_2_with_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("epochs: 2\nlearning_rate: 0.1\n")
    write_rooms(tmp_path / "data", 1)
    status = main(["--config", str(config), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2 and "learning_rate" in err and "Traceback" not in err


def test_unknown_data_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--config", "small", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "run")])
    assert status == 2 and "data folder not found" in capsys.readouterr().err


def test_resume_without_checkpoint_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_rooms(tmp_path / "data", 1)
    args = ["--config", "small", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--resume"]
    assert main([*args, "--device", "cpu", "--quiet"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_end_to_end_on_two_tiny_scenes_with_the_real_model(tmp_path: Path) -> None:
    write_rooms(tmp_path / "data", 2, num_objects=3, points_per_object=300, floor_points=300)
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "epochs: 6\nbatch_size: 2\nnum_workers: 0\naugment: false\nlog_every: 1\neval_every: 0\n"
        "checkpoint_every_epochs: 0\nlr: 0.002\n"
        "model:\n  backbone_channels: [16, 32]\n  blocks_per_level: 1\n  voxel_size: 0.05\n  num_queries: 12\n"
        "  num_layers: 2\n  d_model: 32\n  num_heads: 4\n  ffn_dim: 64\n"
    )
    out = tmp_path / "run"
    command = [sys.executable, "-m", "beep3d.training.cli", "--config", str(config), "--data", str(tmp_path / "data"),
               "--out", str(out), "--device", "cpu", "--quiet", "--max-steps", "6"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stopped at step 6" in done.stderr
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss/total"] for r in records if r["kind"] == "train"]
    assert len(losses) == 6 and min(losses[3:]) < losses[0], losses
    evaluation = [r for r in records if r["kind"] == "eval"][-1]
    assert evaluation["scenes"] == 2 and evaluation["macc"] is not None
    from beep3d.training.checkpoint import load_model_for_inference

    model, class_set, loaded = load_model_for_inference(out)
    assert loaded.model.d_model == 32 and len(class_set) == 18
