"""`beep3d-annotate SCENE --export ""`: an empty export folder is refused, not taken for the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.cli.annotate import main as headless_main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import save_boxes


@pytest.fixture
def scan(tmp_path: Path) -> tuple[Path, Path]:
    xyz = np.random.default_rng(5).uniform(0, 1, size=(300, 3)).astype(np.float32)
    write_ply(tmp_path / "scan.ply", xyz, np.full((300, 3), 128, dtype=np.uint8))
    save_boxes(tmp_path / "boxes.json", BoxSet([Box(1, "chair", (0.5, 0.5, 0.5), (0.6, 0.6, 0.6))]))
    return tmp_path / "scan.ply", tmp_path / "boxes.json"


@pytest.mark.parametrize("command", [main, headless_main], ids=["beep3d-annotate", "headless"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_export_folder_is_refused(scan, tmp_path, monkeypatch, capsys, command, value) -> None:
    import beep3d.app.launch

    monkeypatch.chdir(tmp_path)  # a blank folder name would otherwise be written here

    def no_window(**_: object) -> int:
        raise AssertionError("the window was opened for --export with an empty value")

    monkeypatch.setattr(beep3d.app.launch, "run_app", no_window)
    scene, boxes = scan
    status = command([str(scene), "--boxes", str(boxes), "--export", value])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "--export was given an empty folder name" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boxes.json", "scan.ply"]  # nothing written
