"""``--out``: a file, an export of beep3d-annotate or a folder of other files is refused; a run resumes."""

from __future__ import annotations

import json
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


def test_out_naming_an_export_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "export.json").write_text(json.dumps({"files": []}))
    (export / "instance_ids.npy").write_bytes(b"")
    for out in (export, export / "run"):
        assert train(tmp_path, out) == 2
        error = one_line_error(capsys)
        assert "export" in error and str(export) in error and "--out" in error
        assert not (out / "config.yaml").exists() and not (out / "checkpoints").exists()


def test_out_holding_other_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    assert train(tmp_path, notes) == 2
    error = one_line_error(capsys)
    assert "todo.txt" in error and "--out" in error
    assert sorted(p.name for p in notes.iterdir()) == ["todo.txt"]


def test_an_empty_folder_and_a_run_folder_are_accepted(tmp_path: Path) -> None:
    from beep3d.training.run_folder import check_run_folder

    empty = tmp_path / "empty"
    empty.mkdir()
    check_run_folder(empty, resume=False)
    run = tmp_path / "run"
    for name in ("config.yaml", "class_set.json", "metrics.jsonl", "training_curves.png"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("")
    (run / "checkpoints").mkdir()
    (run / "tensorboard").mkdir()
    (run / ".config.yaml.abc.yaml.tmp").write_text("")  # an atomic write cut by a kill
    check_run_folder(run, resume=True)


def test_out_naming_a_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan = tmp_path / "scan.ply"
    scan.write_bytes(b"ply\n")
    assert train(tmp_path, scan) == 2
    error = one_line_error(capsys)
    assert str(scan) in error and "not a folder" in error
    assert scan.read_bytes() == b"ply\n"
    assert train(tmp_path, scan / "run") == 2  # a folder below a file cannot be made either
    assert "not a folder" in one_line_error(capsys)


def test_resuming_with_another_schedule_names_what_must_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert train(tmp_path, out, "--epochs", "1") == 0
    capsys.readouterr()
    assert train(tmp_path, out, "--resume", "--epochs", "3") == 2
    error = one_line_error(capsys)
    assert "schedule spans" in error and "number of processes" in error
