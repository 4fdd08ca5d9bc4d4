"""beep3d-train refuses data without a box to train on, before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import save_boxes
from beep3d.io.scene_folder import save_scene_folder
from beep3d.training.cli import main
from beep3d.training.config import load_config
from beep3d.training.datasets import build_datasets
from tests.training_fakes import make_room, write_rooms

# ---------------------------------------------------------------------- no boxes


def test_scenes_whose_box_files_are_empty_are_refused(tmp_path: Path) -> None:
    for folder in write_rooms(tmp_path / "data", 2):
        save_boxes(folder / "boxes.json", BoxSet([]), folder.name)
    with pytest.raises(Beep3dError, match="no boxes to train on in .*data"):
        build_datasets(tmp_path / "data", load_config("small"))


def test_scenes_whose_gt_has_no_instance_of_the_class_set_are_refused(tmp_path: Path) -> None:
    scene, _ = make_room(0)
    scene.semantic = np.full_like(scene.semantic, 1)  # every instance a wall: not one of ScanNet's 18
    save_scene_folder(scene, tmp_path / "data" / "walls")  # no boxes.json: boxes come from the GT
    with pytest.raises(Beep3dError, match="no boxes to train on"):
        build_datasets(tmp_path / "data", load_config("small"))


def test_boxes_that_hold_no_point_are_no_boxes_to_train_on(tmp_path: Path) -> None:
    """A run on boxes beside the scan used to end after its last step having learnt nothing."""
    for folder in write_rooms(tmp_path / "data", 2):
        save_boxes(folder / "boxes.json", BoxSet([Box(1, "chair", (50.0, 50.0, 50.0), (1.0, 1.0, 1.0))]))
    with pytest.raises(Beep3dError, match="no box of any boxes.json holds a point of its scene"):
        build_datasets(tmp_path / "data", load_config("small"))


def test_a_scene_within_one_coarse_cell_is_refused_by_name_before_training(tmp_path: Path) -> None:
    """One point, or points within one cell of the coarsest level, ended a run with a BatchNorm error."""
    from beep3d.scene import Scene
    from beep3d.training.datasets import check_scene_spread

    config = load_config("small")
    check_scene_spread(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), config.model, "two cells")
    for xyz in (np.zeros((1, 3)), np.random.default_rng(0).uniform(0, 0.01, (50, 3))):
        folder = tmp_path / f"data{len(xyz)}" / "speck"
        save_scene_folder(Scene(xyz, np.full((len(xyz), 3), 128)), folder)
        save_boxes(folder / "boxes.json", BoxSet([Box(1, "chair", (0, 0, 0), (1, 1, 1))]))
        with pytest.raises(
            Beep3dError, match=rf"speck: its {len(xyz)} point\(s\) lie within one 0.32 m cell"
        ):
            build_datasets(folder.parent, config)


def test_one_scene_with_boxes_is_enough(tmp_path: Path) -> None:
    folders = write_rooms(tmp_path / "data", 2)
    save_boxes(folders[0] / "boxes.json", BoxSet([]), folders[0].name)
    train, *_ = build_datasets(tmp_path / "data", load_config("small"))
    assert len(train) == 2


def test_the_cli_exits_2_without_writing_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for folder in write_rooms(tmp_path / "data", 1):
        save_boxes(folder / "boxes.json", BoxSet([]), folder.name)
    out = tmp_path / "run"
    status = main(["--config", "small", "--data", str(tmp_path / "data"), "--out", str(out), "--quiet",
                   "--device", "cpu", "--max-steps", "1"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and "no boxes to train on" in err and "Traceback" not in err
    assert not (out / "checkpoints").exists()
