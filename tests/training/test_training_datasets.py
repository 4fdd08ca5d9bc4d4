"""Training data: folder kinds, samples with exact membership, labels, superpoint caching, augmentation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from beep3d.classes import SCANNET18
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box
from beep3d.io.box_files import save_boxes
from beep3d.training.augment import augment_scene
from beep3d.training.config import TrainConfig
from beep3d.training.data_folders import detect_kind, list_scenes
from beep3d.training.datasets import build_datasets, prepare_scene
from tests.conftest import SHARED_DATA
from tests.training_fakes import make_room, write_rooms


def small_config(**changes: object) -> TrainConfig:
    return replace(TrainConfig(num_workers=0, crop_points=100_000), **changes)


def pairs(points: np.ndarray, boxes: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(points.tolist(), boxes.tolist(), strict=True))


def test_detect_kind(tmp_path: Path) -> None:
    write_rooms(tmp_path / "rooms", 1)
    assert detect_kind(tmp_path / "rooms") == "folders"
    assert detect_kind(tmp_path / "rooms" / "room00") == "folders"
    (tmp_path / "s3dis" / "Area_1" / "office_1").mkdir(parents=True)
    assert detect_kind(tmp_path / "s3dis") == "s3dis"
    (tmp_path / "scannet" / "scene0001_00").mkdir(parents=True)
    assert detect_kind(tmp_path / "scannet") == "scannet"
    (tmp_path / "junk" / "stuff").mkdir(parents=True)
    with pytest.raises(Beep3dError, match="cannot tell"):
        detect_kind(tmp_path / "junk")
    with pytest.raises(Beep3dError, match="not found"):
        detect_kind(tmp_path / "missing")


def test_splits(tmp_path: Path) -> None:
    write_rooms(tmp_path, 3)
    train, val, has_split = list_scenes(tmp_path, "folders")
    assert [e.name for e in train] == [e.name for e in val] == [
        "room00",
        "room01",
        "room02",
    ] and not has_split
    (tmp_path / "val.txt").write_text("room02\n")
    (tmp_path / "train.txt").write_text("room00\nroom01\n")
    train, val, has_split = list_scenes(tmp_path, "folders")
    assert (
        [e.name for e in train] == ["room00", "room01"] and [e.name for e in val] == ["room02"] and has_split
    )
    s3dis = tmp_path / "s3"
    for area in (1, 5):
        (s3dis / f"Area_{area}" / "office_1").mkdir(parents=True)
    train, val, _ = list_scenes(s3dis, "s3dis")
    assert [e.name for e in train] == ["Area_1/office_1"] and [e.name for e in val] == ["Area_5/office_1"]


def test_one_split_file_makes_the_other_set_the_rest_and_missing_names_are_said(
    tmp_path: Path, caplog
) -> None:
    """Only val.txt used to train on every scene, its validation scenes too, without a word."""
    write_rooms(tmp_path, 3)
    (tmp_path / "val.txt").write_text("room02\nroom09\n")
    with caplog.at_level("WARNING"):
        train, val, has_split = list_scenes(tmp_path, "folders")
    assert [e.name for e in train] == ["room00", "room01"] and [e.name for e in val] == ["room02"]
    assert has_split and "val.txt: 1 listed scene(s) are not in the data folder: room09" in caplog.text
    (tmp_path / "val.txt").unlink()
    (tmp_path / "train.txt").write_text("room00\n")
    train, val, _ = list_scenes(tmp_path, "folders")
    assert [e.name for e in train] == ["room00"] and [e.name for e in val] == ["room01", "room02"]


def test_folder_samples_have_boxes_classes_membership_and_gt(tmp_path: Path) -> None:
    write_rooms(tmp_path, 2)
    train, val, class_set, kind, _ = build_datasets(tmp_path, small_config())
    assert kind == "folders" and class_set == SCANNET18
    scene, boxes = make_room(0)
    sample = val[0]
    assert sample.num_points == scene.num_points and sample.num_boxes == len(boxes)
    expected = boxes.membership(scene.xyz)
    assert pairs(sample.member_points, sample.member_boxes) == pairs(expected.point_index, expected.box_index)
    assert sample.overlap_counts().max() >= 2, "the test rooms have overlapping boxes"
    assert [SCANNET18.names[c] for c in sample.box_classes] == boxes.labels
    np.testing.assert_array_equal(sample.box_ids, boxes.ids)
    # GT: box position of each object point, -1 on the floor; class of that box per point
    object_points = scene.instance >= 0
    np.testing.assert_array_equal(sample.gt_instance[object_points], scene.instance[object_points] - 1)
    assert (sample.gt_instance[~object_points] == -1).all()
    assert (sample.gt_semantic[object_points] == sample.box_classes[sample.gt_instance[object_points]]).all()
    np.testing.assert_allclose(sample.rgb, scene.rgb / 127.5 - 1, atol=1e-6)


def test_boxes_only_folders_have_no_gt(tmp_path: Path) -> None:
    write_rooms(tmp_path, 1, with_gt=False)
    _, val, *_ = build_datasets(tmp_path, small_config())
    assert val[0].gt_instance is None and val[0].num_boxes == 4


def test_unknown_label_names_label_box_and_class_set(tmp_path: Path) -> None:
    (folder,) = write_rooms(tmp_path, 1)
    _, boxes = make_room(0)
    save_boxes(folder / "boxes.json", boxes.with_box(Box(9, "spaceship", (0, 0, 0.5), (0.3, 0.3, 0.3))))
    with pytest.raises(Beep3dError, match=r"boxes.json: box 9 has label 'spaceship'.*nyu40"):
        build_datasets(tmp_path, small_config())


def test_class_count_must_match_the_model(tmp_path: Path) -> None:
    write_rooms(tmp_path, 1)
    config = small_config(class_set="s3dis13")
    with pytest.raises(Beep3dError, match="num_classes"):
        build_datasets(tmp_path, config)


def test_superpoint_membership_level(tmp_path: Path) -> None:
    write_rooms(tmp_path, 1)
    config = small_config()
    config = replace(config, model=replace(config.model, membership_level="superpoint"))
    _, val, *_ = build_datasets(tmp_path, config)
    sample = val[0]
    # every superpoint is either wholly in a box or not at all
    for box in range(sample.num_boxes):
        inside = np.zeros(sample.num_points, dtype=bool)
        inside[sample.member_points[sample.member_boxes == box]] = True
        for sp in np.unique(sample.superpoints[inside]):
            assert inside[sample.superpoints == sp].all()


def test_superpoints_are_computed_once_and_cached_beside_the_scene(tmp_path: Path) -> None:
    from beep3d.io.scene_folder import save_scene_folder

    scene, boxes = make_room(1, num_objects=2, points_per_object=300, floor_points=300)
    scene.superpoints = None
    folder = save_scene_folder(scene, tmp_path / "room", boxes)
    _, val, *_ = build_datasets(tmp_path, small_config())
    sample = val[0]
    cache = folder / "superpoints.npy"
    assert cache.is_file()
    np.testing.assert_array_equal(np.load(cache), sample.superpoints)


def test_training_samples_are_augmented_reproducibly(tmp_path: Path) -> None:
    write_rooms(tmp_path, 1)
    train, val, *_ = build_datasets(tmp_path, small_config(crop_points=1500))
    a, b, c = train[(3, 0)], train[(3, 0)], train[(4, 0)]
    np.testing.assert_array_equal(a.xyz, b.xyz)
    assert not np.allclose(a.xyz[: min(len(a.xyz), len(c.xyz))], c.xyz[: min(len(a.xyz), len(c.xyz))])
    assert a.num_points == 1500 and val[0].num_points > 1500


def test_augmentation_keeps_membership_exact_and_boxes_around_their_points(tmp_path: Path) -> None:
    scene, boxes = make_room(2)
    prepared = prepare_scene(scene, boxes, SCANNET18, scene.superpoints)
    arrays = prepared.sample
    original = pairs(arrays.member_points, arrays.member_boxes)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        out = augment_scene(arrays, rng, crop_points=1200, elastic=True)
        assert len(out.xyz) == 1200
        # membership of the cropped scene = original pairs of the kept points, boxes renumbered
        source = out.source_index
        kept_boxes = out.box_ids
        box_position = {int(b): i for i, b in enumerate(arrays.box_ids)}
        mapped = {
            (int(source[p]), box_position[int(kept_boxes[b])])
            for p, b in pairs(out.member_points, out.member_boxes)
        }
        kept = set(source.tolist())
        assert mapped == {(p, b) for p, b in original if p in kept}
        assert set(np.unique(out.member_boxes)) == set(range(len(out.box_ids))), (
            "boxes without points dropped"
        )
        # GT positions follow the boxes
        gt_ok = out.gt_instance >= 0
        assert (
            out.box_ids[out.gt_instance[gt_ok]] == arrays.box_ids[arrays.gt_instance[source[gt_ok]]]
        ).all()
    # without elastic distortion the moved boxes still hold all their member points
    out = augment_scene(arrays, np.random.default_rng(7), crop_points=100_000, elastic=False)
    for position in range(len(out.box_ids)):
        box = Box(
            0,
            "x",
            tuple(out.box_centers[position]),
            tuple(out.box_sizes[position] + 1e-6),
            out.box_yaws[position],
        )
        assert box.contains(out.xyz[out.member_points[out.member_boxes == position]]).all()


@pytest.mark.skipif(
    not (SHARED_DATA / "scannet_scene0423_00").is_dir(), reason="shared data folder ../shared/data is absent"
)
def test_gt_boxes_of_a_real_scannet_scene(tmp_path: Path) -> None:
    from beep3d.io import load_scene
    from beep3d.training.datasets import gt_boxes

    scene = load_scene(SHARED_DATA / "scannet_scene0423_00" / "scene0423_00_labeled.ply")
    if scene.instance is None or scene.semantic is None:
        pytest.skip("the PLY reader does not expose the GT labels")
    boxes = gt_boxes(scene, SCANNET18, "scene0423_00")
    assert sorted(boxes.labels) == ["chair", "chair", "chair", "chair", "table"]  # floor skipped


def write_labelled_plys(root: Path, names: list[str]) -> None:
    """Labelled scans as single PLY files (x y z, colours, nyu40, instance), as the real scans come."""
    from beep3d.io.ply import write_ply

    root.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        scene, _ = make_room(seed)
        properties = {"nyu40": scene.semantic.astype(np.int16), "instance": scene.instance.astype(np.int32)}
        write_ply(root / f"{name}_labeled.ply", scene.xyz, scene.rgb, properties)


def test_labelled_ply_scans_train_with_boxes_from_their_instances(tmp_path: Path) -> None:
    write_labelled_plys(tmp_path / "real", ["scene0001_00", "scene0002_00", "scene0002_01"])
    assert detect_kind(tmp_path / "real") == "plys"
    config = small_config(val_scenes=["scene0002_*"])
    train, val, class_set, kind, has_split = build_datasets(tmp_path / "real", config)
    assert kind == "plys" and has_split
    assert [e.name for e in train.entries] == ["scene0001_00"]
    assert [e.name for e in val.entries] == ["scene0002_00", "scene0002_01"]
    sample = train[0]
    scene, boxes = make_room(0)
    # boxes come from the GT instances (the four objects; the floor is not a ScanNet class)
    assert sample.num_boxes == len(boxes) == 4
    assert sorted(sample.box_ids.tolist()) == [1, 2, 3, 4]
    assert sample.gt_instance is not None and sample.num_points == scene.num_points


def test_val_scenes_split_pools_several_folders_and_names_typos(tmp_path: Path) -> None:
    write_labelled_plys(tmp_path / "real", ["scene0001_00", "scene0004_00"])
    write_rooms(tmp_path / "synth", 2)
    config = small_config(val_scenes=["scene0004_*"])
    train, val, _, kind, has_split = build_datasets([tmp_path / "real", tmp_path / "synth"], config)
    assert kind == "plys+folders" and has_split
    assert [e.name for e in train.entries] == ["scene0001_00", "room00", "room01"]
    assert [e.name for e in val.entries] == ["scene0004_00"]
    with pytest.raises(Beep3dError, match="no scene matches val_scenes"):
        build_datasets(tmp_path / "real", small_config(val_scenes=["scene9999_*"]))
    with pytest.raises(Beep3dError, match="nothing is left to train on"):
        build_datasets(tmp_path / "real", small_config(val_scenes=["scene*"]))


def test_shared_real_scans_split_by_room(tmp_path: Path) -> None:
    from tests.conftest import shared_file

    real = shared_file("scannet_real")
    config = small_config(val_scenes=["scene0002_*", "scene0004_*"])
    train, val, *_ = build_datasets(real, config)
    assert sorted(e.name for e in val.entries) == ["scene0002_00", "scene0002_01", "scene0004_00"]
    assert len(train.entries) == 18
    train_rooms = {e.name[:9] for e in train.entries}
    assert train_rooms.isdisjoint({"scene0002", "scene0004"})
