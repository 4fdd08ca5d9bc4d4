"""``--out`` naming a file (or a path below one): a one-line error, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from beep3d.training.cli import main
from tests.training_fakes import write_rooms


def train(tmp_path: Path, out: Path, *extra: str) -> int:
    if not (tmp_path / "data").exists():
        write_rooms(tmp_path / "data", 1)
    return main(["--config", "small", "--data", str(tmp_path / "data"), "--out", str(out), "--device", "cpu",
                 "--quiet", "--max-steps", "1", *extra])  # fmt: skip


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("beep3d-train: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def test_out_naming_a_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan = tmp_path / "scan.ply"
    scan.write_bytes(b"ply\n")
    assert train(tmp_path, scan) == 2
    error = one_line_error(capsys)
    assert str(scan) in error and "not a folder" in error
    assert scan.read_bytes() == b"ply\n"
    assert train(tmp_path, scan / "run") == 2  # a folder below a file cannot be made either
    assert "not a folder" in one_line_error(capsys)
