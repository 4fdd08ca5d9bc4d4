"""``--data`` naming one ScanNet scene folder, one S3DIS room or one S3DIS area trains on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from beep3d.training.config import load_config
from beep3d.training.data_folders import detect_kind
from beep3d.training.datasets import build_datasets
from tests.training.test_scannet_label_map import OLD_TABLE, write_scannet_scene
from tests.training.test_training_label_space import write_s3dis_room


@pytest.fixture(autouse=True)
def _no_label_map_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEEP3D_SCANNET_LABEL_MAP", raising=False)


def test_one_scannet_scene_folder(tmp_path: Path) -> None:
    scene = write_scannet_scene(tmp_path / "scannet" / "scene0999_00")
    (scene / "scannet-labels.combined.tsv").write_text(OLD_TABLE)
    (scene / "scene0999_00_vh_clean_2.labels.ply").write_bytes(b"")  # ScanNet ships more PLYs beside
    assert detect_kind(scene) == "scannet"
    train, val, class_set, kind, has_split = build_datasets(scene, load_config("small"))
    assert kind == "scannet" and not has_split
    assert [e.path for e in train.entries] == [scene] == [e.path for e in val.entries]
    labels = sorted(class_set.names[c] for c in train.prepared(0).sample.box_classes.tolist())
    assert labels == ["chair", "sofa"]


def test_a_scannet_scene_folder_under_any_name(tmp_path: Path) -> None:
    scene = write_scannet_scene(tmp_path / "scannet_raw_scene0999_00")  # as ../shared/data names it
    (scene / "scannet-labels.combined.tsv").write_text(OLD_TABLE)
    train, _, _, kind, _ = build_datasets(scene, load_config("small"))
    assert kind == "scannet" and len(train) == 1


def test_one_s3dis_room_and_one_area(tmp_path: Path) -> None:
    room = tmp_path / "s3dis" / "Area_1" / "office_1"
    write_s3dis_room(room)
    write_s3dis_room(tmp_path / "s3dis" / "Area_1" / "office_2", seed=1)
    assert detect_kind(room) == "s3dis"
    train, val, _, kind, has_split = build_datasets(room, load_config("s3dis"))
    assert kind == "s3dis" and not has_split
    assert [e.name for e in train.entries] == ["Area_1/office_1"] == [e.name for e in val.entries]
    assert train.prepared(0).sample.num_boxes == 4
    assert detect_kind(tmp_path / "s3dis" / "Area_1") == "s3dis"
    train, *_ = build_datasets(tmp_path / "s3dis" / "Area_1", load_config("s3dis"))
    assert [e.name for e in train.entries] == ["Area_1/office_1", "Area_1/office_2"]
