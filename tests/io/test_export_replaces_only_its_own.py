"""An export replaces an earlier export folder only when that folder holds nothing but what it wrote.

A training run pointed at an export folder writes ``checkpoints/`` into it; a user may keep notes or
collect other scenes' training folders there. Replacing the folder as a whole would delete them, so
the export refuses, names them, and leaves the folder as it was. An earlier export with only its own
files is replaced as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.classes import SCANNET18
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import export as export_module
from beep3d.io.export import export_all
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene

BOXES = BoxSet(
    [
        Box(1, "chair", (0.5, 0.5, 0.5), (0.8, 0.8, 1.0)),
        Box(2, "table", (1.5, 0.5, 0.4), (0.8, 0.8, 0.8)),
        Box(3, "bed", (0.5, 1.5, 0.4), (0.8, 0.8, 0.8)),
    ]
)


def export(out: Path, boxes: BoxSet = BOXES, points: int = 1000) -> list[Path]:
    rng = np.random.default_rng(0)
    xyz = rng.uniform([0, 0, 0], [2.0, 2.0, 1.0], (points, 3)).astype(np.float32)
    scene = Scene(xyz=xyz, rgb=np.full((points, 3), 128, np.uint8), name="room")
    resolution = get_resolver("smallest-box", class_set=SCANNET18).resolve(scene, boxes)
    return export_all(scene, boxes, resolution, out, SCANNET18)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_an_export_with_a_training_run_inside_is_refused_and_nothing_is_deleted(tmp_path: Path) -> None:
    out = tmp_path / "r1"
    export(out)
    # beep3d-train --data r1/training --out r1 wrote its run into the export folder
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "last.safetensors").write_bytes(b"weights")
    (out / "notes.txt").write_text("chairs done")
    before = snapshot(out)
    with pytest.raises(Beep3dError) as refused:
        export(out, points=1200)
    message = str(refused.value)
    assert "checkpoints/" in message and "notes.txt" in message  # what it would delete, by name
    assert "last.safetensors" not in message  # the folder stands for its content
    assert "Move them out of the folder, or export into another folder" in message
    assert snapshot(out) == before
    assert not list(tmp_path.glob(".r1.staging-*"))  # nothing left beside it either


def test_an_earlier_export_with_only_its_own_files_is_still_replaced_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "r1"
    export(out)
    assert (out / "scannet" / "pred_mask" / "room_002.txt").exists()
    export(out, BoxSet(list(BOXES)[:2]), points=1200)
    assert json.loads((out / "export.json").read_text())["num_points"] == 1200
    assert not (out / "scannet" / "pred_mask" / "room_002.txt").exists()  # the old export's, gone


def test_scenes_collected_into_the_exports_training_folder_are_kept(tmp_path: Path) -> None:
    """Names the export writes are not enough: only what the earlier export listed is replaced."""
    out = tmp_path / "r1"
    export(out)
    other = out / "training" / "scene0002_00"
    other.mkdir()
    (other / "scene.npz").write_bytes(b"another export's scene")
    with pytest.raises(Beep3dError, match="training/scene0002_00/"):
        export(out)
    assert (other / "scene.npz").read_bytes() == b"another export's scene"


def test_an_export_json_without_a_file_list_falls_back_to_the_names_the_export_writes(tmp_path: Path) -> None:
    out = tmp_path / "r1"
    export(out)
    (out / "export.json").write_text("{}")  # an older or damaged summary: no file list
    export(out)  # its own names: replaced
    assert json.loads((out / "export.json").read_text())["files"]
    (out / "export.json").write_text("not json")
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "best.safetensors").write_bytes(b"weights")
    with pytest.raises(Beep3dError, match="checkpoints/"):
        export(out)
    assert (out / "checkpoints" / "best.safetensors").read_bytes() == b"weights"


def test_links_and_empty_folders_inside_are_named_and_links_are_not_followed(tmp_path: Path) -> None:
    from beep3d.io.export import is_export_file
    from beep3d.io.staged_folder import foreign_entries

    out = tmp_path / "r1"
    export(out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("x")
    (out / "runs").symlink_to(elsewhere, target_is_directory=True)
    (out / "empty").mkdir()
    assert foreign_entries(out, is_export_file) == ["empty/", "runs"]
    with pytest.raises(Beep3dError, match="empty/, runs"):
        export(out)
    assert (elsewhere / "keep.txt").read_text() == "x"


def test_files_written_into_the_folder_while_the_export_runs_stop_the_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "r1"
    export(out)

    def training_run_meanwhile(staging: Path, job: object) -> list[Path]:
        (out / "checkpoints").mkdir()
        (out / "checkpoints" / "last.safetensors").write_bytes(b"weights")
        return []

    exporters = (*export_module.EXPORTERS, export_module._FunctionExporter("run", training_run_meanwhile))
    monkeypatch.setattr(export_module, "EXPORTERS", exporters)
    before = json.loads((out / "export.json").read_text())
    with pytest.raises(Beep3dError, match="checkpoints/"):
        export(out, points=1200)
    assert (out / "checkpoints" / "last.safetensors").read_bytes() == b"weights"
    assert json.loads((out / "export.json").read_text()) == before  # the earlier export stays
    assert not list(tmp_path.glob(".r1.staging-*"))


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("instance_ids.npy", True),
        ("room_labelled.las", True),
        ("boxes/supervisely/room.json", True),
        ("scannet/pred_mask/room_000.txt", True),
        ("training/room/point_labels.npy", True),
        ("checkpoints/last.safetensors", False),
        ("training/room/checkpoints/last.safetensors", False),
        ("notes.txt", False),
    ],
)
def test_the_names_the_export_writes(name: str, written: bool) -> None:
    from beep3d.io.export import is_export_file

    assert is_export_file(name) is written


def test_a_superpoint_cache_a_training_run_left_in_the_training_folder_is_replaced(tmp_path: Path) -> None:
    """beep3d-train on ``OUT/training`` caches each scene's superpoints there (the README's refit
    workflow); exporting into OUT again replaces that cache, which may not fit the new scene, while a
    run's checkpoints still make the export refuse."""
    out = tmp_path / "r1"
    export(out)
    cache = out / "training" / "room" / "superpoints.npy"
    np.save(cache, np.zeros(1000, dtype=np.int64))
    export(out, points=1200)
    assert not cache.exists() and np.load(out / "instance_ids.npy").shape == (1200,)
    np.save(cache, np.zeros(1200, dtype=np.int64))
    (out / "training" / "room" / "notes.txt").write_text("not a cache")
    with pytest.raises(Beep3dError, match="notes.txt"):
        export(out)
    assert cache.exists()
