"""The export's boxes.json holds what its masks were made with: exporting it again gives the same masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from beep3d.app.cli import main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import load_box_flags, load_corrections, save_boxes

OPTIONS = ["--resolver", "smallest-box", "--foreground", "off"]


def write_scan_with_corrections(folder: Path) -> tuple[Path, Path]:
    """Two overlapping boxes on a block of points, a stroke giving points 0..49 to background and a
    negative click; box 2 hidden and locked."""
    rng = np.random.default_rng(2)
    xyz = rng.uniform([0, 0, 0], [2, 1, 1], size=(1500, 3)).astype(np.float32)
    write_ply(folder / "scan.ply", xyz, np.full((len(xyz), 3), 128, dtype=np.uint8))
    boxes = BoxSet(
        [
            Box(1, "table", (1.0, 0.5, 0.5), (2.02, 1.02, 1.02)),
            Box(2, "chair", (1.5, 0.5, 0.5), (1.02, 1.02, 1.02)),
        ]
    )
    save_boxes(folder / "boxes.json", boxes, hidden=[2], locked=[2])
    data = json.loads((folder / "boxes.json").read_text())
    data["corrections"] = {
        "num_points": len(xyz),
        "items": [
            {"kind": "stroke", "box": -1, "positive": True, "points": list(range(50))},
            {"kind": "click", "box": 2, "positive": False, "points": [int(np.argmax(xyz[:, 0]))]},
        ],
    }
    (folder / "boxes.json").write_text(json.dumps(data))
    return folder / "scan.ply", folder / "boxes.json"


def test_exported_boxes_file_keeps_corrections_and_flags(tmp_path: Path) -> None:
    scan, boxes = write_scan_with_corrections(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    assert main([str(scan), "--boxes", str(boxes), "--export", str(first), *OPTIONS]) == 0
    exported = first / "boxes.json"
    assert json.loads(exported.read_text())["version"] == 2
    original = load_corrections(boxes)
    kept = load_corrections(exported)
    assert kept.num_points == 1500 and len(kept) == len(original) == 2
    for a, b in zip(kept, original, strict=True):
        assert a.to_dict() == b.to_dict()
    assert load_box_flags(exported) == load_box_flags(boxes) == (frozenset({2}), frozenset({2}))
    # the corrections shaped the masks: the stroke's points are background
    first_ids = np.load(first / "instance_ids.npy")
    assert np.all(first_ids[:50] == -1)
    # exporting the exported box file again gives the same masks
    assert main([str(scan), "--boxes", str(exported), "--export", str(second), *OPTIONS]) == 0
    np.testing.assert_array_equal(np.load(second / "instance_ids.npy"), first_ids)
    np.testing.assert_array_equal(np.load(second / "decided_by.npy"), np.load(first / "decided_by.npy"))


def test_the_training_folder_exports_again_to_the_same_masks(tmp_path: Path) -> None:
    """The training folder is a scene folder: its boxes.json carries the corrections and flags too."""
    scan, boxes = write_scan_with_corrections(tmp_path)
    first, again = tmp_path / "first", tmp_path / "again"
    assert main([str(scan), "--boxes", str(boxes), "--export", str(first), *OPTIONS]) == 0
    folder = first / "training" / "scan"
    assert load_box_flags(folder / "boxes.json") == (frozenset({2}), frozenset({2}))
    assert len(load_corrections(folder / "boxes.json")) == 2
    assert main([str(folder), "--boxes", str(folder / "boxes.json"), "--export", str(again), *OPTIONS]) == 0
    np.testing.assert_array_equal(np.load(again / "instance_ids.npy"), np.load(first / "instance_ids.npy"))
    np.testing.assert_array_equal(np.load(again / "decided_by.npy"), np.load(first / "decided_by.npy"))


def test_exported_boxes_file_without_corrections_has_none(tmp_path: Path) -> None:
    scan, boxes = write_scan_with_corrections(tmp_path)
    data = json.loads(boxes.read_text())
    del data["corrections"]
    boxes.write_text(json.dumps(data))
    assert main([str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), *OPTIONS]) == 0
    assert "corrections" not in json.loads((tmp_path / "out" / "boxes.json").read_text())


def test_a_correction_about_a_box_the_file_does_not_hold_is_left_out_with_a_note(
    tmp_path: Path, capsys
) -> None:
    scan, boxes = write_scan_with_corrections(tmp_path)
    data = json.loads(boxes.read_text())
    data["corrections"]["items"].append({"kind": "stroke", "box": 9, "positive": True, "points": [60, 61]})
    boxes.write_text(json.dumps(data))
    assert main([str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), *OPTIONS]) == 0
    assert "left out" in capsys.readouterr().err
    assert len(load_corrections(tmp_path / "out" / "boxes.json")) == 2


def test_points_a_stroke_gives_back_are_not_counted_as_left_out(tmp_path: Path, capsys):
    """export.json's background_in_boxes and the printed count are the masks' own: points the
    foreground stage took out and a stroke gave back to their box are not background."""
    from beep3d.corrections import Correction, Corrections
    from beep3d.io import write_ply
    from beep3d.io.box_files import save_boxes
    from beep3d.resolve.resolution import DECIDED_BY_FOREGROUND
    from tests.resolve.test_foreground import loose_boxes, room_scene

    scene, _ = room_scene()
    normals = {f"n{axis}": scene.normals[:, i] for i, axis in enumerate("xyz")}
    write_ply(tmp_path / "room.ply", scene.xyz, scene.rgb, properties=normals)
    boxes_file = tmp_path / "room.boxes.json"
    save_boxes(boxes_file, loose_boxes())
    args = [str(tmp_path / "room.ply"), "--resolver", "smallest-box", "--export"]
    assert main([*args, str(tmp_path / "before")]) == 0
    left = np.flatnonzero(np.load(tmp_path / "before" / "decided_by.npy") == DECIDED_BY_FOREGROUND)
    before = json.loads((tmp_path / "before" / "export.json").read_text())["background_in_boxes"]
    assert before == len(left) > 20
    stroke = Correction("stroke", 1, True, left[:20])
    save_boxes(boxes_file, loose_boxes(), corrections=Corrections((stroke,), scene.num_points))
    capsys.readouterr()
    assert main([*args, str(tmp_path / "after")]) == 0
    after = json.loads((tmp_path / "after" / "export.json").read_text())["background_in_boxes"]
    assert after == before - 20
    assert f"{after} left their box as background" in capsys.readouterr().out
