"""Synthetic rooms: determinism, label consistency, realistic overlaps, density, and the beep3d-synth CLI."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.spatial import cKDTree

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.cli.synth import main
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.scene import Scene
from beep3d.synthetic.rooms import EVAL_SEED_START, TRAIN_SEEDS, make_room, overlap_share

SEEDS = (0, 1, 2, 3, 4, 5)


@cache
def room(seed: int) -> tuple[Scene, BoxSet]:
    return make_room(seed)


def test_same_seed_gives_identical_arrays_and_boxes() -> None:
    a_scene, a_boxes = make_room(7)
    b_scene, b_boxes = make_room(7)
    for key in ("xyz", "rgb", "normals", "semantic", "instance"):
        np.testing.assert_array_equal(getattr(a_scene, key), getattr(b_scene, key))
    assert a_boxes == b_boxes
    other, _ = make_room(8)
    assert other.num_points != a_scene.num_points or not np.array_equal(other.xyz, a_scene.xyz)


def test_scene_fields_follow_the_scannet_conventions() -> None:
    scene, _ = room(0)
    assert scene.name == "synthetic_00000"
    assert scene.label_space == "nyu40"
    assert scene.xyz.dtype == np.float32 and scene.rgb.dtype == np.uint8
    np.testing.assert_allclose(np.linalg.norm(scene.normals, axis=1), 1.0, atol=1e-5)
    assert scene.xyz[:, 2].min() > -0.03  # floor at z = 0, z up
    assert 40_000 <= scene.num_points <= 450_000


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_labels_are_consistent(seed: int) -> None:
    scene, boxes = room(seed)
    valid = {NYU40_WALL, NYU40_FLOOR, *SCANNET18.ids}
    assert set(np.unique(scene.semantic).tolist()) <= valid
    assert (scene.instance >= 0).all()
    # every instance has exactly one semantic id
    pairs = np.unique(np.stack([scene.instance, scene.semantic], axis=1), axis=0)
    assert len(pairs) == len(np.unique(scene.instance))
    semantic_of = dict(pairs.tolist())
    # walls and floor are instances without boxes; every other instance has one box with its class name
    boxed = {i for i, s in semantic_of.items() if s not in (NYU40_WALL, NYU40_FLOOR)}
    assert set(boxes.ids.tolist()) == boxed
    for b in boxes:
        assert b.label == SCANNET18.name_of_id(semantic_of[b.id])
    assert {NYU40_WALL, NYU40_FLOOR} <= set(semantic_of.values())


@pytest.mark.parametrize("oriented", [False, True])
def test_every_instance_lies_inside_its_own_box(oriented: bool) -> None:
    scene, boxes = make_room(2, oriented_boxes=oriented) if oriented else room(2)
    dense = boxes.membership(scene.xyz).dense()
    for position, box_id in enumerate(boxes.ids):
        assert dense[scene.instance == box_id, position].all()
    if oriented:
        assert np.any(np.abs(boxes.yaws) > 0.01)  # some objects are turned
    else:
        assert np.all(boxes.yaws == 0.0)


def test_overlap_share_is_scannet_like() -> None:
    shares = [overlap_share(*room(seed)) for seed in SEEDS]
    assert all(0.0 <= s <= 0.3 for s in shares)
    assert 0.02 <= float(np.mean(shares)) <= 0.25


def test_clutter_controls_overlap() -> None:
    sparse = np.mean([overlap_share(*make_room(seed, clutter=0.3)) for seed in (0, 1)])
    dense = np.mean([overlap_share(*room(seed)) for seed in (0, 1)])
    assert sparse < dense


def _nested_pairs(boxes: BoxSet) -> list[tuple[int, int]]:
    lo, hi = boxes.aabbs()
    inside = (lo[:, None, :] >= lo[None, :, :]).all(-1) & (hi[:, None, :] <= hi[None, :, :]).all(-1)
    np.fill_diagonal(inside, False)
    return [(int(boxes.ids[i]), int(boxes.ids[j])) for i, j in zip(*np.nonzero(inside), strict=True)]


def test_some_boxes_are_fully_nested_in_another() -> None:
    nested = [pair for seed in SEEDS for pair in _nested_pairs(room(seed)[1])]
    assert nested, "objects on desks and shelves should give boxes fully inside the furniture box"


def test_chairs_are_tucked_under_tables() -> None:
    found = False
    for seed in SEEDS:
        scene, boxes = room(seed)
        dense = boxes.membership(scene.xyz).dense()
        labels = boxes.labels
        tables = [k for k, label in enumerate(labels) if label in ("table", "desk")]
        for k, label in enumerate(labels):
            if label != "chair":
                continue
            chair_points = scene.instance == boxes.ids[k]
            # a tucked chair has a good part of itself inside the table's (or desk's) box
            if any(dense[chair_points, t].mean() > 0.1 for t in tables):
                found = True
                break
        if found:
            break
    assert found


def test_density_is_scannet_like() -> None:
    scene, _ = room(1)
    distances, _ = cKDTree(scene.xyz).query(scene.xyz, k=2)
    assert 0.005 <= float(np.median(distances[:, 1])) <= 0.025
    coarse, _ = make_room(1, spacing=0.04)
    assert coarse.num_points < scene.num_points / 2.5


def test_seed_ranges_do_not_meet() -> None:
    assert TRAIN_SEEDS.stop <= EVAL_SEED_START


def test_bad_parameters_raise_project_errors() -> None:
    with pytest.raises(Beep3dError, match="spacing"):
        make_room(0, spacing=0.0)
    with pytest.raises(Beep3dError, match="seed"):
        make_room(-1)


def test_cli_writes_loadable_scene_folders(tmp_path, capsys) -> None:
    io = pytest.importorskip("beep3d.io")
    box_files = pytest.importorskip("beep3d.io.box_files")
    assert main([str(tmp_path), "--count", "2", "--seed-start", "3", "--spacing", "0.04", "--val", "1"]) == 0
    out = capsys.readouterr().out
    # the split files beep3d-train reads: the last room validates
    assert (tmp_path / "train.txt").read_text().split() == ["synthetic_00003"]
    assert (tmp_path / "val.txt").read_text().split() == ["synthetic_00004"]
    assert "synthetic_00003" in out and "synthetic_00004" in out and "mean share" in out
    scene = io.load_scene(tmp_path / "synthetic_00004")
    expected, expected_boxes = make_room(4, spacing=0.04)
    np.testing.assert_array_equal(scene.xyz, expected.xyz)
    np.testing.assert_array_equal(scene.instance, expected.instance)
    assert scene.label_space == "nyu40"
    boxes = box_files.load_boxes(tmp_path / "synthetic_00004" / "boxes.json")
    assert boxes.ids.tolist() == expected_boxes.ids.tolist()
    assert boxes.labels == expected_boxes.labels


def test_cli_refuses_seed_ranges_crossing_evaluation_seeds(tmp_path, capsys) -> None:
    code = main([str(tmp_path), "--count", "5", "--seed-start", str(EVAL_SEED_START - 2)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and str(EVAL_SEED_START) in err
    assert not any(tmp_path.iterdir())


def test_cli_refuses_a_validation_split_as_large_as_the_rooms(tmp_path, capsys) -> None:
    assert main([str(tmp_path), "--count", "2", "--seed-start", "0", "--val", "2"]) == 2
    assert "--val" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, said",
    [
        (["--spacing", "0"], "spacing 0.0 m is out of range"),
        (["--clutter", "9"], "clutter 9.0 is out of range"),
    ],
)
def test_cli_refuses_bad_room_parameters_before_making_the_folder(tmp_path, capsys, extra, said) -> None:
    out = tmp_path / "rooms"
    assert main([str(out), "--count", "1", "--seed-start", "0", *extra]) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_an_empty_folder_name(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["", "--count", "1", "--seed-start", "3"]) == 2
    assert "OUT_DIR is empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_stopped_by_ctrl_c_keeps_the_rooms_written_and_says_so(tmp_path, capsys, monkeypatch) -> None:
    import beep3d.cli.synth as synth

    written = synth.write_room
    calls = []

    def write_then_interrupt(*args):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return written(*args)

    monkeypatch.setattr(synth, "write_room", write_then_interrupt)
    assert main([str(tmp_path / "rooms"), "--count", "3", "--seed-start", "0", "--spacing", "0.08"]) == 130
    captured = capsys.readouterr()
    assert "interrupted; the rooms printed above are complete" in captured.err
    assert "Traceback" not in captured.err
    assert "synthetic_00000:" in captured.out
    assert sorted(p.name for p in (tmp_path / "rooms").iterdir()) == ["synthetic_00000"]
