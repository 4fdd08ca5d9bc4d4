"""Refit learns from what the annotator fixed: corrected and foreground points are training labels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from beep3d.errors import Beep3dError
from beep3d.io import load_scene
from beep3d.model.pseudo_masks import with_fixed_labels
from beep3d.model.sample import FREE
from beep3d.training.augment import crop_scene
from beep3d.training.config import TrainConfig
from beep3d.training.datasets import POINT_LABELS_FILE, build_datasets
from tests.training_fakes import write_rooms


def small_config(**changes: object) -> TrainConfig:
    return replace(TrainConfig(num_workers=0, crop_points=100_000), **changes)


def test_fixed_labels_win_over_the_box_and_teacher_labels():
    labels = torch.tensor([0, 0, 1, -1, 1])
    fixed = torch.tensor([FREE, -1, 0, 1, FREE])
    assert with_fixed_labels(labels, fixed).tolist() == [0, -1, 0, 1, 1]
    assert with_fixed_labels(labels, None).tolist() == labels.tolist()


def test_a_training_folder_s_point_labels_reach_the_sample_as_box_positions(tmp_path: Path):
    folder = write_rooms(tmp_path, 1)[0]
    boxes = json.loads((folder / "boxes.json").read_text())["boxes"]
    n = load_scene(folder).num_points
    fixed = np.full(n, -2, dtype=np.int64)
    fixed[:5] = -1
    fixed[5:9] = boxes[1]["id"]
    fixed[9] = 9999  # a box no longer there: left free
    np.save(folder / POINT_LABELS_FILE, fixed)
    _, val, *_ = build_datasets(tmp_path, small_config())
    sample = val[0]
    positions = {int(i): p for p, i in enumerate(sample.box_ids)}
    assert sample.fixed_labels[:5].tolist() == [-1] * 5
    assert sample.fixed_labels[5:9].tolist() == [positions[boxes[1]["id"]]] * 4
    assert sample.fixed_labels[9] == FREE and np.all(sample.fixed_labels[10:] == FREE)
    # a crop keeps them with the kept points, renumbered with the kept boxes
    keep = np.arange(3, n)
    cropped = crop_scene(sample, keep)
    kept_id = int(cropped.box_ids[cropped.fixed_labels[2]])
    assert cropped.fixed_labels[:2].tolist() == [-1, -1] and kept_id == boxes[1]["id"]


def test_broken_point_labels_are_refused_with_what_to_do(tmp_path: Path):
    folder = write_rooms(tmp_path, 1)[0]
    np.save(folder / POINT_LABELS_FILE, np.zeros(3, dtype=np.int64))
    with pytest.raises(Beep3dError, match="one per point"):  # before training: the first scene is read then
        build_datasets(tmp_path, small_config())
    (folder / POINT_LABELS_FILE).write_bytes(b"")  # empty, as a full disk leaves it
    with pytest.raises(Beep3dError, match="not a readable .npy array.*re-export"):
        build_datasets(tmp_path, small_config())
    with open(folder / POINT_LABELS_FILE, "wb") as archive:  # an .npz archive under the .npy name
        np.savez(archive, labels=np.zeros(3, dtype=np.int64))
    with pytest.raises(Beep3dError, match="an .npz archive"):
        build_datasets(tmp_path, small_config())
    n = load_scene(folder).num_points
    for wrong in (np.full(n, -3, dtype=np.int64), np.full(n, 2**64 - 1, dtype=np.uint64)):
        np.save(folder / POINT_LABELS_FILE, wrong)
        with pytest.raises(Beep3dError, match=rf"point_labels.npy: holds {wrong[0]}, but labels are box ids"):
            build_datasets(tmp_path, small_config())


def test_the_export_s_training_folder_fixes_corrected_and_foreground_points(tmp_path: Path):
    from beep3d.cli.annotate import main
    from beep3d.corrections import Correction, Corrections
    from beep3d.io import write_ply
    from beep3d.io.box_files import save_boxes
    from tests.resolve.test_foreground import loose_boxes, room_scene

    scene, parts = room_scene()
    normals = {f"n{axis}": scene.normals[:, i] for i, axis in enumerate("xyz")}
    write_ply(tmp_path / "room.ply", scene.xyz, scene.rgb, properties=normals)
    stroke = Correction("stroke", 1, True, parts["cube"][:3])
    save_boxes(
        tmp_path / "room.boxes.json", loose_boxes(), corrections=Corrections((stroke,), scene.num_points)
    )
    out = tmp_path / "out"
    assert main([str(tmp_path / "room.ply"), "--export", str(out), "--resolver", "smallest-box"]) == 0
    fixed = np.load(out / "training" / "room" / POINT_LABELS_FILE)
    ids = np.load(out / "instance_ids.npy")
    decided = np.load(out / "decided_by.npy")
    codes = json.loads((out / "export.json").read_text())["decided_by_codes"]
    assert fixed[parts["cube"][:3]].tolist() == [1, 1, 1]
    left = decided == codes.index("foreground")
    assert left.any() and np.all(fixed[left] == -1) and np.all(ids[left] == -1)
    assert np.all(fixed[~left & (decided != codes.index("correction"))] == -2)


def test_geometric_foreground_targets_make_the_floor_in_boxes_background(tmp_path: Path):
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes
    from beep3d.io.scene_folder import save_scene_folder
    from tests.resolve.test_foreground import room_scene

    scene, parts = room_scene()
    loose = BoxSet([Box(1, "cabinet", (3.0, 1.0, 0.32), (0.8, 0.8, 0.76), 0.0)])
    folder = save_scene_folder(scene, tmp_path / "room", loose)
    save_boxes(folder / "boxes.json", loose)
    _, plain, *_ = build_datasets(tmp_path, small_config())
    assert plain[0].fixed_labels is None  # off by default: a box's points are its targets
    _, val, *_ = build_datasets(tmp_path, small_config(foreground_targets="geometric"))
    fixed = val[0].fixed_labels
    inside = loose[0].contains(scene.xyz)
    floor_in_box = np.intersect1d(np.flatnonzero(inside), parts["floor"])
    assert len(floor_in_box) > 50 and np.all(fixed[floor_in_box] == -1)
    assert np.all(fixed[parts["cube"]] == FREE)
    with pytest.raises(Beep3dError, match="foreground_targets"):
        small_config(foreground_targets="model")


def test_points_given_to_a_box_that_holds_no_scan_point_still_teach_that_box(tmp_path: Path):
    """A stroke can give points to a box drawn beside the scan (or a crop can keep a box's corrected
    points but none of its own): the box stays in the sample, with those points as its targets."""
    folder = write_rooms(tmp_path, 1)[0]
    data = json.loads((folder / "boxes.json").read_text())
    empty = {"id": 4242, "label": data["boxes"][0]["label"], "center": [50.0, 50.0, 50.0]}
    data["boxes"].append({**data["boxes"][0], **empty})
    (folder / "boxes.json").write_text(json.dumps(data))
    n = load_scene(folder).num_points
    fixed = np.full(n, -2, dtype=np.int64)
    fixed[:7] = 4242
    np.save(folder / POINT_LABELS_FILE, fixed)
    _, val, *_ = build_datasets(tmp_path, small_config())
    sample = val[0]
    assert 4242 in sample.box_ids.tolist()
    position = sample.box_ids.tolist().index(4242)
    assert sample.fixed_labels[:7].tolist() == [position] * 7
    assert position not in sample.member_boxes.tolist()  # it holds no point of the scan
    cropped = crop_scene(sample, np.arange(3, n))  # a crop keeping four of its given points
    assert 4242 in cropped.box_ids.tolist()
    kept = cropped.box_ids.tolist().index(4242)
    assert cropped.fixed_labels[:4].tolist() == [kept] * 4
    cropped = crop_scene(sample, np.arange(7, n))  # and one keeping none drops it
    assert 4242 not in cropped.box_ids.tolist()
