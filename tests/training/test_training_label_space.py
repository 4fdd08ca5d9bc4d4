"""beep3d-train refuses GT labels read through the class set of another label space (S3DIS ids as NYU40 ids)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from beep3d.errors import Beep3dError
from beep3d.io.scene_folder import save_scene_folder
from beep3d.training.config import load_config
from beep3d.training.datasets import build_datasets
from tests.training_fakes import make_room, write_s3dis_room

# ---------------------------------------------------------------------- label spaces


def test_s3dis_data_with_scannet_classes_is_refused_naming_the_s3dis_config(tmp_path: Path) -> None:
    write_s3dis_room(tmp_path / "s3dis" / "Area_1" / "office_1")
    with pytest.raises(Beep3dError, match=r"S3DIS.*--config small_s3dis \(or s3dis\)") as error:
        build_datasets(tmp_path / "s3dis", load_config("small"))
    assert "scannet18" in str(error.value) and "s3dis13" in str(error.value)


@pytest.mark.parametrize("name", ["s3dis", "small_s3dis"])
def test_s3dis_data_with_s3dis_classes_gets_its_chairs(tmp_path: Path, name: str) -> None:
    write_s3dis_room(tmp_path / "s3dis" / "Area_1" / "office_1")
    config = load_config(name)
    train, _, class_set, kind, _ = build_datasets(tmp_path / "s3dis", config)
    sample = train.prepared(0).sample
    labels = sorted(class_set.names[c] for c in sample.box_classes.tolist())
    assert kind == "s3dis" and labels == ["chair", "chair", "floor", "table"]


def test_scannet_labelled_scenes_with_s3dis_classes_are_refused(tmp_path: Path) -> None:
    scene, _ = make_room(0)  # GT in NYU40 ids
    save_scene_folder(scene, tmp_path / "data" / "room")
    config = replace(load_config("s3dis"), dataset="auto")  # the s3dis config reads S3DIS folders only
    with pytest.raises(Beep3dError, match=r"NYU40 ids.*s3dis13.*--config small"):
        train, *_ = build_datasets(tmp_path / "data", config)
        train.prepared(0)
