"""`beep3d-annotate ... --export OUT --device ...`: a GPU the machine lacks is a clean error, not a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import save_boxes


@pytest.fixture
def scan(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(4)
    xyz = rng.uniform([0, 0, 0], [1, 1, 1], size=(600, 3)).astype(np.float32)
    write_ply(tmp_path / "scan.ply", xyz, np.full((600, 3), 128, dtype=np.uint8))
    save_boxes(tmp_path / "boxes.json", BoxSet([Box(1, "chair", (0.5, 0.5, 0.5), (0.6, 0.6, 0.6))]))
    return tmp_path / "scan.ply", tmp_path / "boxes.json"


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err


@pytest.mark.skipif(not DEFAULT_CHECKPOINT.exists(), reason="the shipped teacher checkpoint is not installed")
@pytest.mark.parametrize(
    "options",
    [
        ["--resolver", "teacher", "--foreground", "off"],
        ["--resolver", "auto", "--foreground", "off"],
        ["--resolver", "smallest-box", "--foreground", "model"],
    ],
)
def test_cuda_without_a_gpu_is_refused_before_any_work(scan, tmp_path, no_gpu, capsys, options) -> None:
    scene, boxes = scan
    out = tmp_path / "out"
    err = refused(
        [str(scene), "--boxes", str(boxes), "--export", str(out), "--device", "cuda", *options], capsys
    )
    assert "no CUDA GPU is available; use --device cpu" in err
    assert not out.exists()


def test_a_gpu_index_beyond_the_machine_is_refused(scan, tmp_path, monkeypatch, capsys) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    scene, boxes = scan
    args = [str(scene), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--device", "cuda:1"]
    err = refused([*args, "--resolver", "teacher", "--checkpoint", str(DEFAULT_CHECKPOINT)], capsys)
    assert "cuda:0..cuda:0" in err


def test_a_device_that_is_no_device_is_refused(scan, tmp_path, capsys) -> None:
    scene, boxes = scan
    args = [str(scene), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--device", "gpu"]
    err = refused([*args, "--resolver", "smallest-box", "--foreground", "off"], capsys)
    assert "'gpu' is no device; use cpu, cuda or cuda:N" in err


def test_cuda_is_not_needed_by_the_rules_alone(scan, tmp_path, no_gpu) -> None:
    scene, boxes = scan
    args = [str(scene), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--device", "cuda"]
    assert main([*args, "--resolver", "smallest-box", "--foreground", "off"]) == 0
