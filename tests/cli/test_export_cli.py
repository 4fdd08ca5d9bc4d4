"""Headless resolution and export: `beep3d-annotate SCENE --boxes B.json --export OUT`."""

import json

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.classes import SCANNET18
from beep3d.geometry.boxes import Box, BoxSet, boxes_from_instances
from beep3d.io import load_scene, write_ply
from beep3d.io.box_files import save_boxes
from tests.conftest import shared_file


@pytest.fixture
def table_and_chair_ply(tmp_path):
    """A PLY of a 'table' slab of points with a 'chair' block overlapping one end, and its boxes."""
    rng = np.random.default_rng(0)
    table = rng.uniform([0, 0, 0.7], [2, 1, 0.75], size=(3000, 3))
    chair = rng.uniform([1.6, 0.3, 0.0], [2.2, 0.7, 0.9], size=(2000, 3))
    floor = rng.uniform([-1, -1, 0], [3, 2, 0.01], size=(3000, 3))
    xyz = np.concatenate([table, chair, floor]).astype(np.float32)
    rgb = rng.integers(0, 255, size=(len(xyz), 3), dtype=np.uint8)
    write_ply(tmp_path / "room.ply", xyz, rgb)
    boxes = BoxSet(
        [
            Box(1, "table", (1, 0.5, 0.375), (2.02, 1.02, 0.77)),
            Box(2, "chair", (1.9, 0.5, 0.45), (0.62, 0.42, 0.92)),
        ]
    )
    save_boxes(tmp_path / "room.boxes.json", boxes)
    return tmp_path / "room.ply", boxes


def test_export_writes_every_format(tmp_path, table_and_chair_ply, capsys):
    scene_path, boxes = table_and_chair_ply
    out = tmp_path / "out"
    status = main(
        [str(scene_path), "--export", str(out), "--resolver", "smallest-box", "--foreground", "off"]
    )
    assert status == 0
    n = 8000
    instance_ids = np.load(out / "instance_ids.npy")
    semantic_ids = np.load(out / "semantic_ids.npy")
    assert instance_ids.dtype == np.int32 and instance_ids.shape == (n,)
    assert semantic_ids.dtype == np.int32 and semantic_ids.shape == (n,)
    assert set(np.unique(instance_ids)) == {-1, 1, 2}
    assert set(np.unique(semantic_ids[instance_ids == 2])) == {SCANNET18.id_of("chair")}
    # the chair's points inside the table slab are shared and go to the smaller box (the chair)
    assert np.all(instance_ids[3000:5000] == 2)
    summary = json.loads((out / "export.json").read_text())
    assert summary["resolver"] == "smallest-box" and summary["num_points"] == n
    assert summary["foreground"] == "off" and summary["background_in_boxes"] == 0
    assert summary["points_in_several_boxes"] > 0
    # who decided each point: the smallest-box rule decided every shared point
    decided_by = np.load(out / "decided_by.npy")
    assert decided_by.shape == (n,) and decided_by.dtype == np.int8
    assert summary["points_in_several_boxes_decided_by"] == {
        "volume rule": summary["points_in_several_boxes"]
    }
    codes = summary["decided_by_codes"]
    assert {codes[c] for c in np.unique(decided_by)} == {"one box", "volume rule"}
    assert np.count_nonzero(decided_by == codes.index("volume rule")) == summary["points_in_several_boxes"]
    for name in summary["files"]:
        assert (out / name).exists(), name
    # labelled PLY: same points in the same order, labels as properties, original colours kept
    labelled = load_scene(out / "room_labelled.ply")
    original = load_scene(scene_path)
    np.testing.assert_array_equal(labelled.xyz, original.xyz)
    np.testing.assert_array_equal(labelled.extra["orig_red"], original.rgb[:, 0])
    # ScanNet benchmark files: one prediction line per instance, masks with one 0/1 per point
    lines = (out / "scannet" / "room.txt").read_text().split("\n")
    lines = [line for line in lines if line]
    assert len(lines) == 2
    mask_path, label, conf = lines[0].split()
    mask = np.loadtxt(out / "scannet" / mask_path, dtype=int)
    assert mask.shape == (n,) and int(label) in (SCANNET18.id_of("table"), SCANNET18.id_of("chair"))
    gt = np.loadtxt(out / "scannet" / "room_instance_gt.txt", dtype=np.int64)
    assert gt.shape == (n,) and set(np.unique(gt // 1000)) == {0, 5, 7}
    # training-ready folder: loads back as a scene, with the boxes beside it
    training_scene = load_scene(out / "training" / "room")
    assert training_scene.num_points == n and training_scene.instance is None
    summary = capsys.readouterr().out
    assert "room: 8000 points, 2 boxes" in summary and "(resolved by smallest-box)" in summary
    assert not list(out.rglob("*.tmp")), "no temporary files left behind"


def test_nearest_centre_is_selectable(tmp_path, table_and_chair_ply):
    scene_path, _ = table_and_chair_ply
    assert main([str(scene_path), "--export", str(tmp_path / "o"), "--resolver", "nearest-centre"]) == 0
    assert json.loads((tmp_path / "o" / "export.json").read_text())["resolver"] == "nearest-centre"


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (
            lambda d: [
                str(d / "missing.ply"),
                "--boxes",
                str(d / "room.boxes.json"),
                "--export",
                str(d / "o"),
            ],
            "missing.ply",
        ),
        (
            lambda d: [str(d / "room.ply"), "--boxes", str(d / "nope.json"), "--export", str(d / "o")],
            "nope.json",
        ),
        (
            lambda d: [str(d / "room.ply"), "--boxes", str(d / "room.ply"), "--export", str(d / "o")],
            "room.ply",
        ),
    ],
)
def test_user_errors_exit_2_without_traceback(tmp_path, table_and_chair_ply, capsys, make_args, expected):
    status = main(make_args(tmp_path))
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err and expected in err and err.startswith("beep3d-annotate: error:")


def test_export_of_the_real_scannet_scene_recovers_its_instances(tmp_path):
    path = shared_file("scannet_scene0423_00/scene0423_00_labeled.ply")
    scene = load_scene(path)
    boxes = boxes_from_instances(
        scene.xyz,
        scene.instance,
        scene.semantic,
        {i: n for n, i in zip(SCANNET18.names, SCANNET18.ids, strict=True)},
        skip_semantic=(1, 2),
    )
    assert len(boxes) == 5  # 4 chairs and a table; the floor gets no box
    save_boxes(tmp_path / "b.json", boxes)
    assert (
        main(
            [
                str(path),
                "--boxes",
                str(tmp_path / "b.json"),
                "--export",
                str(tmp_path / "o"),
                "--resolver",
                "smallest-box",
            ]
        )
        == 0
    )
    ids = np.load(tmp_path / "o" / "instance_ids.npy")
    inside = ids >= 0
    # the data README: 98% of the points inside exactly one box belong to that box's instance
    assert np.mean(ids[inside] == scene.instance[inside]) > 0.97


def test_real_scan_masks_leave_out_the_floor_by_default(tmp_path):
    from beep3d.metrics.mask_quality import mean_instance_iou

    path = shared_file("scannet_scene0423_00/scene0423_00_labeled.ply")
    scene = load_scene(path)
    names = {i: n for n, i in zip(SCANNET18.names, SCANNET18.ids, strict=True)}
    boxes = boxes_from_instances(scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(1, 2))
    save_boxes(tmp_path / "b.json", boxes)
    ious = {}
    for mode in ("off", None):
        out = tmp_path / f"o_{mode}"
        args = [
            str(path),
            "--boxes",
            str(tmp_path / "b.json"),
            "--export",
            str(out),
            "--resolver",
            "smallest-box",
        ]
        assert main(args + (["--foreground", mode] if mode else [])) == 0
        ids = np.load(out / "instance_ids.npy")
        ious[mode] = mean_instance_iou(ids, scene.instance, boxes.ids).value
        summary = json.loads((out / "export.json").read_text())
    assert summary["foreground"] == "geometric" and summary["background_in_boxes"] > 0
    floor = scene.semantic == 2
    off_ids = np.load(tmp_path / "o_off" / "instance_ids.npy")
    on_ids = np.load(tmp_path / "o_None" / "instance_ids.npy")
    assert np.sum(on_ids[floor] >= 0) < 0.5 * np.sum(off_ids[floor] >= 0)
    assert ious[None] > ious["off"]


def test_teacher_without_any_checkpoint_says_how_to_get_one(
    tmp_path, table_and_chair_ply, capsys, monkeypatch
):
    import beep3d.cli.annotate
    import beep3d.defaults

    for module in (beep3d.cli.annotate, beep3d.defaults):
        monkeypatch.setattr(module, "DEFAULT_CHECKPOINT", tmp_path / "missing.safetensors")
    scene_path, _ = table_and_chair_ply
    assert main([str(scene_path), "--export", str(tmp_path / "o"), "--resolver", "teacher"]) == 2
    err = capsys.readouterr().err
    assert "beep3d-train" in err and "--checkpoint" in err
    # auto falls back to the smallest-box rule when no checkpoint is installed
    assert main([str(scene_path), "--export", str(tmp_path / "o2")]) == 0
    assert json.loads((tmp_path / "o2" / "export.json").read_text())["resolver"] == "smallest-box"


def test_the_export_says_what_a_box_format_could_not_hold(tmp_path, table_and_chair_ply, capsys):
    scene_path, _ = table_and_chair_ply
    turned = BoxSet([Box(7, "chair", (1.9, 0.5, 0.45), (0.62, 0.42, 0.92), 0.4)])
    save_boxes(tmp_path / "turned.json", turned)
    out = tmp_path / "out"
    args = [str(scene_path), "--boxes", str(tmp_path / "turned.json"), "--export", str(out)]
    assert main([*args, "--resolver", "smallest-box", "--foreground", "off"]) == 0
    err = capsys.readouterr().err
    assert "note: boxes/box-arrays/room_bbox.npy: 1 turned boxes (ids 7)" in err
    notes = json.loads((out / "export.json").read_text())["file_notes"]
    assert notes["boxes/box-arrays/room_bbox.npy"]["notes"][0].startswith("1 turned boxes")
