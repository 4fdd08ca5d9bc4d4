"""beep3d-eval checks that the export and the GT belong together: label space, scan, ids, --json path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main as annotate
from beep3d.cli.evaluate import main as evaluate
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import save_boxes
from tests.cli.test_eval_dropped_points_cli import labelled_points, write_labelled


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    """A labelled scan and its export (NYU40 class set)."""
    xyz, semantic, instance = labelled_points()
    scan = tmp_path / "room.ply"
    write_labelled(scan, xyz, semantic, instance)
    boxes = tmp_path / "room.boxes.json"
    save_boxes(
        boxes,
        BoxSet(
            [
                Box(1, "chair", (0.5, 0.5, 0.55), (1.02, 1.02, 0.92)),
                Box(2, "table", (1.45, 0.5, 0.55), (1.12, 1.02, 0.92)),
            ]
        ),
    )
    out = tmp_path / "export"
    options = ["--resolver", "smallest-box", "--foreground", "off"]
    assert annotate([str(scan), "--boxes", str(boxes), "--export", str(out), *options]) == 0
    return scan, out


def test_export_of_another_label_space_is_refused(exported, capsys) -> None:
    scan, out = exported
    meta = json.loads((out / "export.json").read_text())
    assert meta["class_set"] == "nyu40"
    meta["class_set"] = "s3dis"
    (out / "export.json").write_text(json.dumps(meta))
    assert evaluate([str(out), "--gt", str(scan)]) == 2
    err = capsys.readouterr().err
    assert "s3dis ids" in err and "labelled in nyu40" in err and "meaningless" in err and "--class-set" in err


def test_export_of_another_scan_is_warned_of(exported, tmp_path: Path, capsys) -> None:
    scan, out = exported
    copy = tmp_path / "other.ply"
    copy.write_bytes(scan.read_bytes())
    assert evaluate([str(out), "--gt", str(scan)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert evaluate([str(out), "--gt", str(copy)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "was exported from" in err and str(scan) in err and "same order" in err


@pytest.mark.parametrize("name, value", [("instance_ids.npy", -7), ("semantic_ids.npy", -3)])
def test_ids_below_minus_one_are_refused(exported, capsys, name: str, value: int) -> None:
    scan, out = exported
    ids = np.load(out / name)
    ids[5] = value
    np.save(out / name, ids)
    assert evaluate([str(out), "--gt", str(scan)]) == 2
    err = capsys.readouterr().err
    assert name in err and str(value) in err and "-1 (none)" in err


def test_semantic_ids_outside_the_class_set_are_named(exported, capsys) -> None:
    scan, out = exported
    semantic = np.load(out / "semantic_ids.npy")
    instance = np.load(out / "instance_ids.npy")
    semantic[np.flatnonzero(instance >= 0)[:3]] = 99
    np.save(out / "semantic_ids.npy", semantic)
    assert evaluate([str(out), "--gt", str(scan)]) == 0
    err = capsys.readouterr().err
    assert "semantic ids 99 are not among the 18 evaluated classes" in err


def test_empty_json_path_is_called_empty(exported, capsys) -> None:
    scan, out = exported
    with pytest.raises(SystemExit) as stop:
        evaluate([str(out), "--gt", str(scan), "--json", ""])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--json: the path is empty" in err and "a folder" not in err
