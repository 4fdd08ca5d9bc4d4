"""beep3d-train --resume with --init: refused, since a resumed run never uses --init's weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from beep3d.training.cli import main
from tests.training_fakes import write_rooms


def test_resume_with_init_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_rooms(tmp_path / "data", 1)
    checkpoint = tmp_path / "other.safetensors"
    checkpoint.write_bytes(b"")
    args = ["--config", "small", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run")]
    status = main([*args, "--resume", "--init", str(checkpoint), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert "--resume and --init do not go together" in err
    assert "training and" not in err  # refused before the data is read
    assert not (tmp_path / "run").exists()


def test_under_torchrun_only_the_first_process_prints_progress_lines(monkeypatch, capsys):
    from beep3d.training.cli import _say

    monkeypatch.setenv("RANK", "1")
    _say("beep3d-train: 5 training scenes")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("RANK", "0")
    _say("beep3d-train: 5 training scenes")
    assert "5 training scenes" in capsys.readouterr().err
