"""beep3d-eval end to end on a tiny synthetic export whose figures are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

import beep3d.io
from beep3d.cli.evaluate import main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import save_boxes
from beep3d.scene import Scene
from tests.conftest import SHARED_DATA

CHAIR, TABLE, FLOOR = 5, 7, 2
WRONG = 36  # overlap points of the table resolved to the chair's box


def tiny_scene() -> Scene:
    """A chair (300 points, x in 0..1), a table (300 points, x in 1.2..2.2) and a floor (100 points)."""
    chair_x = (np.arange(300) + 0.5) / 300
    table_x = 1.2 + (np.arange(300) + 0.5) / 300
    floor_x = (np.arange(100) + 0.5) / 50
    x = np.concatenate([chair_x, table_x, floor_x])
    z = np.concatenate([np.full(600, 0.5), np.full(100, -0.5)])
    xyz = np.stack([x, np.zeros_like(x), z], axis=1)
    semantic = np.array([CHAIR] * 300 + [TABLE] * 300 + [FLOOR] * 100)
    instance = np.array([0] * 300 + [1] * 300 + [2] * 100)
    return Scene(
        xyz,
        np.zeros((700, 3), np.uint8),
        semantic=semantic,
        instance=instance,
        label_space="nyu40",
        name="tiny",
    )


def write_export(folder, with_boxes: bool = True) -> None:
    """Box 10 spans x -0.05..1.5 (all the chair + the first 90 table points), box 20 spans the table.

    Resolution: the first WRONG = 36 table points go to box 10 (wrong), the other 54 overlap points to box
    20 (right).
    """
    folder.mkdir()
    ids = np.array([10] * 300 + [10] * WRONG + [20] * (300 - WRONG) + [-1] * 100, dtype=np.int32)
    semantic = np.where(ids == 10, CHAIR, np.where(ids == 20, TABLE, -1)).astype(np.int32)
    confidence = np.ones(700, np.float32)
    confidence[300:390] = 0.5
    np.save(folder / "instance_ids.npy", ids)
    np.save(folder / "semantic_ids.npy", semantic)
    np.save(folder / "confidence.npy", confidence)
    if with_boxes:
        boxes = BoxSet(
            [
                Box(10, "chair", (0.725, 0, 0.5), (1.55, 0.2, 0.2)),
                Box(20, "table", (1.7, 0, 0.5), (1.2, 0.2, 0.2)),
            ]
        )
        save_boxes(folder / "boxes.json", boxes)


@pytest.fixture
def gt_scene(monkeypatch, tmp_path):
    scene = tiny_scene()
    monkeypatch.setattr(beep3d.io, "load_scene_with_report", lambda path: (scene, beep3d.io.LoadReport()))
    return tmp_path / "tiny_gt.npz"


def test_cli_prints_and_writes_the_hand_computed_figures(tmp_path, gt_scene, capsys):
    write_export(tmp_path / "export")
    out_json = tmp_path / "report" / "eval.json"
    status = main([str(tmp_path / "export"), "--gt", str(gt_scene), "--json", str(out_json), "--per-class"])
    assert status == 0
    printed = capsys.readouterr().out
    # Chair prediction: 300 + 36 points, IoU 300/336 = 0.893; table: 264 points, IoU 264/300 = 0.88.
    # Both match at 0.50..0.85 (8 of 9 thresholds) and at 0.25: AP = 8/9, AP50 = AP25 = 1.
    assert "AP    0.8889" in printed and "AP50  1.0000" in printed and "AP25  1.0000" in printed
    # Overlap points: the 90 table points in both boxes (GT table = box 20); 54 of them right -> 0.6.
    # Mean instance IoU: (300/336 + 264/300) / 2.
    report = json.loads(out_json.read_text())
    assert report["ap"] == pytest.approx(8 / 9)
    assert report["overlap_points"] == 90
    assert report["overlap_accuracy"] == pytest.approx(54 / 90)
    assert report["mean_instance_iou"] == pytest.approx((300 / 336 + 264 / 300) / 2)
    assert report["num_boxed_instances"] == 2
    assert report["per_class"]["chair"]["ap50"] == 1.0 and report["per_class"]["bed"]["ap"] is None
    assert "mACC in overlap regions  0.6000 (90 points)" in printed


def test_cli_without_boxes_reports_ap_only(tmp_path, gt_scene, capsys):
    write_export(tmp_path / "export", with_boxes=False)
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene)]) == 0
    printed = capsys.readouterr().out
    assert "AP50  1.0000" in printed and "n/a (no boxes.json; pass --boxes)" in printed


def test_cli_missing_array_is_a_clean_error(tmp_path, gt_scene, capsys):
    write_export(tmp_path / "export")
    (tmp_path / "export" / "instance_ids.npy").unlink()
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene)]) == 2
    err = capsys.readouterr().err
    assert "instance_ids.npy: not found" in err and "Traceback" not in err


def test_cli_export_of_another_scene_is_a_clean_error(tmp_path, gt_scene, capsys):
    write_export(tmp_path / "export")
    np.save(tmp_path / "export" / "semantic_ids.npy", np.zeros(5, np.int32))
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene)]) == 2
    assert "5 values but the GT scene has 700 points" in capsys.readouterr().err


def _spoil(folder, name: str, how: str) -> None:
    path = folder / name
    if how == "empty":
        path.write_bytes(b"")
    elif how == "npz":
        with open(path, "wb") as handle:
            np.savez(handle, a=np.zeros(700))
    elif how == "text":
        np.save(path, np.array(["a"] * 700))
    elif how == "fractional":
        np.save(path, np.where(np.load(path) == 20, 20.9, np.load(path)))
    elif how == "nan":
        values = np.load(path).astype(np.float64)
        values[5] = np.nan
        np.save(path, values)
    elif how == "pairs":
        np.save(path, np.load(path).reshape(350, 2))
    elif how == "negative":
        np.save(path, np.full(700, -7.0, np.float32))


@pytest.mark.parametrize(
    "name, how, said",
    [
        ("instance_ids.npy", "empty", "not a readable .npy array"),
        ("instance_ids.npy", "npz", "an .npz archive"),
        ("instance_ids.npy", "text", "not numbers"),
        ("instance_ids.npy", "fractional", "holds 20.9, but ids are whole numbers"),
        ("instance_ids.npy", "nan", "holds nan, but ids are whole numbers"),
        ("instance_ids.npy", "pairs", "shape (350, 2)"),
        ("confidence.npy", "nan", "holds nan, but confidences lie in [0, 1]"),
        ("confidence.npy", "negative", "holds -7, but confidences lie in [0, 1]"),
    ],
)
def test_cli_export_arrays_that_are_not_per_point_ids_or_confidences_are_refused(
    tmp_path, gt_scene, capsys, name, how, said
):
    """A damaged or foreign array is named with what is wrong, instead of a traceback or a silent cast."""
    write_export(tmp_path / "export")
    _spoil(tmp_path / "export", name, how)
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene)]) == 2
    err = capsys.readouterr().err
    assert f"{name}: " in err and said in err and "Traceback" not in err


def test_cli_report_path_that_is_an_input_or_a_folder_is_refused_before_anything(tmp_path, gt_scene, capsys):
    write_export(tmp_path / "export")
    boxes = tmp_path / "export" / "boxes.json"
    before = boxes.read_bytes()
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene), "--json", str(boxes)]) == 2
    assert "the evaluation reads this file" in capsys.readouterr().err
    assert boxes.read_bytes() == before  # the export still scores
    assert main([str(tmp_path / "export"), "--gt", str(gt_scene), "--json", str(tmp_path)]) == 2
    assert "a folder" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")
    assert (
        main([str(tmp_path / "export"), "--gt", str(gt_scene), "--json", str(tmp_path / "afile" / "r.json")])
        == 2
    )
    captured = capsys.readouterr()
    assert "is a file, not a folder" in captured.err and "Traceback" not in captured.err
    assert "AP " not in captured.out  # refused before the scores are computed


def test_cli_scene_without_labels_is_a_clean_error(tmp_path, monkeypatch, capsys):
    scene = tiny_scene()
    scene.semantic = scene.instance = None
    monkeypatch.setattr(beep3d.io, "load_scene_with_report", lambda path: (scene, beep3d.io.LoadReport()))
    write_export(tmp_path / "export")
    assert main([str(tmp_path / "export"), "--gt", str(tmp_path / "x.npz")]) == 2
    assert "no GT semantic and instance labels" in capsys.readouterr().err


REAL_SCENE = SHARED_DATA / "scannet_scene0423_00" / "scene0423_00_labeled.ply"


def test_cli_on_the_real_scannet_scene_with_box_contents_as_masks(tmp_path):
    """Masks = points inside exactly one GT-derived box: every object found at IoU 0.5 on real data."""
    if not REAL_SCENE.exists():
        pytest.skip(f"real data not found at {REAL_SCENE}")
    from beep3d.classes import SCANNET18
    from beep3d.geometry.boxes import boxes_from_instances
    from beep3d.io import load_scene

    scene = load_scene(REAL_SCENE)
    names = dict(zip(SCANNET18.ids, SCANNET18.names, strict=True))
    boxes = boxes_from_instances(scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(1, 2))
    membership = boxes.membership(scene.xyz)
    single = membership.counts() == 1
    box_of_point = np.full(len(scene.xyz), -1, dtype=np.int64)
    box_of_point[membership.point_index] = boxes.ids[membership.box_index]
    instance_ids = np.where(single, box_of_point, -1).astype(np.int32)
    class_of_box = {b.id: SCANNET18.id_of(b.label) for b in boxes}
    semantic_ids = np.array([class_of_box.get(int(i), -1) for i in instance_ids], dtype=np.int32)
    export = tmp_path / "export"
    export.mkdir()
    np.save(export / "instance_ids.npy", instance_ids)
    np.save(export / "semantic_ids.npy", semantic_ids)
    save_boxes(export / "boxes.json", boxes)
    out_json = tmp_path / "eval.json"
    assert main([str(export), "--gt", str(REAL_SCENE), "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    assert report["ap50"] == 1.0 and report["per_class"]["chair"]["ap"] == 1.0
    assert report["overlap_points"] == 0  # this scene has no point in two boxes
    assert report["mean_instance_iou"] > 0.9 and report["num_boxed_instances"] == 5


def test_cli_on_a_scene_with_only_walls_and_floor_says_why_every_figure_is_na(tmp_path, monkeypatch, capsys):
    scene = tiny_scene()
    scene.semantic = np.full_like(scene.semantic, FLOOR)
    monkeypatch.setattr(beep3d.io, "load_scene_with_report", lambda path: (scene, beep3d.io.LoadReport()))
    write_export(tmp_path / "export")
    assert main([str(tmp_path / "export"), "--gt", str(tmp_path / "floor.npz")]) == 0
    captured = capsys.readouterr()
    assert "no GT instance of the 18 evaluated classes" in captured.err and "AP    n/a" in captured.out
