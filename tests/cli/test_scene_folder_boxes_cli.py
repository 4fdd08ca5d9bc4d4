"""A project scene folder's own boxes.json is its default box file (the CLI, the window and saving)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.app.cli import main
from beep3d.defaults import default_boxes_path
from tests.cli.test_export_boxes_file_cli import OPTIONS, write_scan_with_corrections


def test_default_boxes_path_of_scene_folder_is_its_own_boxes_json(tmp_path: Path) -> None:
    folder = tmp_path / "room"
    folder.mkdir()
    assert default_boxes_path(folder) == tmp_path / "room.boxes.json"  # no boxes.json inside: beside it
    (folder / "boxes.json").write_text("{}")
    assert default_boxes_path(folder) == folder / "boxes.json"
    assert default_boxes_path(tmp_path / "scan.ply") == tmp_path / "scan.boxes.json"


def test_exported_training_folder_exports_again_with_its_own_boxes(tmp_path: Path) -> None:
    scan, boxes = write_scan_with_corrections(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    assert main([str(scan), "--boxes", str(boxes), "--export", str(first), *OPTIONS]) == 0
    training = first / "training" / "scan"
    assert (training / "boxes.json").is_file()
    assert main([str(training), "--export", str(second), *OPTIONS]) == 0
    np.testing.assert_array_equal(np.load(second / "instance_ids.npy"), np.load(first / "instance_ids.npy"))
