"""ScanNet's label map under its older name, and the loader's notes printed by beep3d-train."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from beep3d.io import load_scene_with_report
from beep3d.io.ply import write_ply
from beep3d.training.cli import main
from tests.conftest import shared_file

#: The older ScanNet label table: the raw label is in ``category`` (there is no ``raw_category``).
OLD_TABLE = (
    "id\tcategory\tcount\tnyuId\tnyu40id\teigen13id\n2\tchair\t5419\t5\t5\t4\n6\tcouch\t1222\t83\t6\t9\n"
)


def write_scannet_scene(folder: Path, labels: tuple[str, str] = ("couch", "chair")) -> Path:
    """A tiny ScanNet scene folder: 12 vertices, 2 segments, 2 objects labelled ``labels``."""
    folder.mkdir(parents=True)
    scene_id = "scene0999_00"
    rng = np.random.default_rng(0)
    xyz = np.concatenate([rng.uniform(0, 1, (6, 3)), rng.uniform(2, 3, (6, 3))]).astype(np.float32)
    write_ply(folder / f"{scene_id}_vh_clean_2.ply", xyz, np.full((12, 3), 128, np.uint8), {})
    (folder / f"{scene_id}_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"segIndices": [3] * 6 + [8] * 6})
    )
    groups = [
        {"objectId": k, "segments": [seg], "label": label}
        for k, (seg, label) in enumerate(zip((3, 8), labels, strict=True))
    ]
    (folder / f"{scene_id}.aggregation.json").write_text(json.dumps({"segGroups": groups}))
    return folder


@pytest.fixture(autouse=True)
def _no_label_map_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEEP3D_SCANNET_LABEL_MAP", raising=False)


@pytest.mark.parametrize("where", ["folder", "parent"])
def test_the_older_label_map_name_is_read(tmp_path: Path, where: str) -> None:
    folder = write_scannet_scene(tmp_path / "scans" / "scene0999_00")
    (folder if where == "folder" else folder.parent).joinpath("scannet-labels.combined.tsv").write_text(
        OLD_TABLE
    )
    scene, report = load_scene_with_report(folder)
    assert sorted(set(scene.semantic.tolist())) == [5, 6], "couch is NYU40 6 (sofa) through the table"
    assert report.notes == []


def test_the_shared_raw_scene_gets_its_sofa_box() -> None:
    from beep3d.classes import SCANNET18
    from beep3d.training.datasets import gt_boxes

    folder = shared_file("scannet_raw_scene0000_00")
    scene, report = load_scene_with_report(folder)
    boxes = gt_boxes(scene, SCANNET18, str(folder))
    # through the table: couch -> sofa, nightstand / stool / ... -> otherfurniture (by name: 21 boxes)
    assert boxes.labels.count("sofa") == 1 and boxes.labels.count("otherfurniture") == 3
    assert len(boxes) == 25
    assert not any("combined.tsv" in note for note in report.notes), report.notes


def test_beep3d_train_prints_the_loaders_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # no label map, and labels that no ScanNet class is named: the scene has no box
    write_scannet_scene(tmp_path / "scannet" / "scene0999_00", labels=("couch", "armchair"))
    caplog.set_level(logging.INFO)
    args = ["--config", "small", "--data", str(tmp_path / "scannet"), "--out", str(tmp_path / "run")]
    status = main([*args, "--device", "cpu", "--quiet"])
    notes = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert status == 2 and "no boxes to train on" in capsys.readouterr().err
    assert any("scene0999_00" in n and "scannetv2-labels.combined.tsv" in n for n in notes), notes
    assert any("armchair, couch" in n for n in notes), notes
