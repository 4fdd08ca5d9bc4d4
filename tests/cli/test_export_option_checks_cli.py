"""Options of ``beep3d-annotate`` checked before any work, with one line and status 2: a class set
folder or a bad class, ``--threads`` beyond the machine, ``--share`` outside (0, 1] for either
membership, a ``--checkpoint`` that is no checkpoint (used or not), ``--screenshot`` with ``--export``
or at a path it cannot be written to. And export.json records the checkpoint ``--foreground model``
used; the labelled LAS notes the class ids its 8-bit classification cannot hold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.cli.annotate import checkpoint_used
from beep3d.io.export_labelled import las_classification_notes
from beep3d.native_threads import max_threads
from tests.cli.test_export_inputs_cli import run_refused, write_scan


@pytest.fixture
def export_args(tmp_path: Path) -> list[str]:
    scan, boxes = write_scan(tmp_path / "source")
    return [str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--foreground", "off"]


def test_a_class_set_folder_is_one_error(export_args, tmp_path, capsys) -> None:
    err = run_refused([*export_args, "--class-set", str(tmp_path)], capsys)
    assert "a folder; --class-set" in err and not (tmp_path / "out").exists()


def test_a_class_id_over_int32_is_refused_before_the_export(export_args, tmp_path, capsys) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"classes": [{"name": "chair", "id": 1099511627776}]}), encoding="utf-8")
    err = run_refused([*export_args, "--class-set", str(path)], capsys)
    assert "'chair' has id 1099511627776" in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("threads", ["99999999999", str(max_threads() + 1)])
def test_threads_beyond_the_machine_are_refused(export_args, tmp_path, capsys, threads) -> None:
    err = run_refused([*export_args, "--threads", threads], capsys)
    assert f"--threads {threads}" in err and not (tmp_path / "out").exists()


def test_the_trainer_refuses_them_in_one_line_too(tmp_path, capsys) -> None:
    from training.cli import main as train

    args = ["--config", "small", "--data", str(tmp_path), "--out", str(tmp_path / "run")]
    status = train([*args, "--threads", "99999999999"])
    err = capsys.readouterr().err
    assert status == 2 and "--threads 99999999999" in err and "Traceback" not in err


@pytest.mark.parametrize("membership", ["point", "superpoint"])
@pytest.mark.parametrize("share", ["1.5", "0", "nan"])
def test_share_is_checked_for_both_memberships(export_args, tmp_path, capsys, membership, share) -> None:
    err = run_refused([*export_args, "--membership", membership, "--share", share], capsys)
    assert "--share" in err and not (tmp_path / "out").exists()


def test_a_bad_checkpoint_is_refused_even_when_the_rule_resolves(export_args, tmp_path, capsys) -> None:
    bad = tmp_path / "notck.safetensors"
    bad.write_bytes(b"\x00\x01not a checkpoint")
    err = run_refused([*export_args, "--resolver", "smallest-box", "--checkpoint", str(bad)], capsys)
    assert "not a BEEP3D checkpoint" in err and not (tmp_path / "out").exists()


def test_screenshot_with_export_is_refused(export_args, tmp_path, capsys) -> None:
    err = run_refused([*export_args, "--screenshot", str(tmp_path / "shot.png")], capsys)
    assert "--screenshot" in err and "--export" in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["folder", "below a file", "empty", "unwritable"])
def test_a_screenshot_path_that_cannot_be_written_is_refused(tmp_path, capsys, where) -> None:
    scan, boxes = write_scan(tmp_path / "source")
    target = {
        "folder": str(tmp_path),
        "below a file": str(scan / "shot.png"),
        "empty": "",
        "unwritable": "/proc/shot.png",
    }[where]
    err = run_refused([str(scan), "--boxes", str(boxes), "--screenshot", target], capsys)
    assert "--screenshot" in err


def test_export_json_records_the_checkpoint_of_foreground_model() -> None:
    class Rule:
        pass

    class Teacher:
        checkpoint = Path("runs/a/best.safetensors")

    class ModelStage:
        teacher = Teacher()

    assert checkpoint_used(Rule(), ModelStage()) == Teacher.checkpoint  # a rule resolves, the model cuts
    assert checkpoint_used(Teacher(), object()) == Teacher.checkpoint
    assert checkpoint_used(Rule(), object()) is None


def test_the_labelled_las_notes_ids_its_classification_cannot_hold() -> None:
    assert las_classification_notes(np.array([-1, 3, 40])) == []
    big, zero = las_classification_notes(np.array([-1, 0, 300]))
    assert "300" in big and "255" in big and "class id 0" in zero
