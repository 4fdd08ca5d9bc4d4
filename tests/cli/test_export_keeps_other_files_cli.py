"""``beep3d-annotate ... --export OUT`` over an earlier export never deletes what that export did not
write: a training run's ``checkpoints/`` inside OUT (``beep3d-train --data OUT/training --out OUT``)
makes it refuse with one line naming them (exit 2), and OUT stays as it was."""

from __future__ import annotations

from beep3d.app.cli import main
from tests.cli.test_export_inputs_cli import OPTIONS, run_refused, snapshot, write_scan


def test_a_training_run_inside_the_export_folder_is_kept_and_named(tmp_path, capsys) -> None:
    scan, boxes = write_scan(tmp_path / "source")
    out = tmp_path / "r1"
    args = [str(scan), "--boxes", str(boxes), "--export", str(out), *OPTIONS]
    assert main(args) == 0
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "last.safetensors").write_bytes(b"weights")
    before = snapshot(out)
    err = run_refused(args, capsys)
    assert "checkpoints/" in err and "export into another folder" in err
    assert snapshot(out) == before


def test_an_earlier_export_alone_is_replaced_again(tmp_path, capsys) -> None:
    scan, boxes = write_scan(tmp_path / "source")
    out = tmp_path / "r1"
    args = [str(scan), "--boxes", str(boxes), "--export", str(out), *OPTIONS]
    assert main(args) == 0
    assert main(args) == 0, capsys.readouterr().err
