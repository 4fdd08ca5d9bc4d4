"""The headless export never deletes or rewrites its own inputs.

The export replaces its folder OUT as a whole, so a scan or box file inside OUT (an earlier export's
folder, OUT a parent of the input, or a symlink into OUT) would be lost: it is refused up front, with
one line naming the file, and nothing is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import save_boxes
from beep3d.io.export import export_all

OPTIONS = ["--resolver", "smallest-box", "--foreground", "off"]


def write_scan(folder: Path) -> tuple[Path, Path]:
    """A small scan (a block of points, some floor) and a box file around the block, in ``folder``."""
    rng = np.random.default_rng(1)
    block = rng.uniform([0, 0, 0], [1, 1, 1], size=(500, 3))
    floor = rng.uniform([-1, -1, 0], [2, 2, 0.01], size=(500, 3))
    xyz = np.concatenate([block, floor]).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    write_ply(folder / "scan.ply", xyz, np.full((len(xyz), 3), 128, dtype=np.uint8))
    save_boxes(folder / "boxes.json", BoxSet([Box(1, "chair", (0.5, 0.5, 0.5), (1.02, 1.02, 1.02))]))
    return folder / "scan.ply", folder / "boxes.json"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def earlier_export(tmp_path: Path) -> Path:
    """An earlier export folder, into which the user then copies a scan and a box file."""
    scan, boxes = write_scan(tmp_path / "source")
    out = tmp_path / "r01"
    assert main([str(scan), "--boxes", str(boxes), "--export", str(out), *OPTIONS]) == 0
    return out


def run_refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err


def test_scan_and_box_file_inside_the_export_folder_are_refused_and_kept(tmp_path, capsys) -> None:
    out = earlier_export(tmp_path)
    scan, boxes = write_scan(out)  # r01/scan.ply, r01/boxes.json (over the export's own boxes.json)
    before = snapshot(out)
    err = run_refused([str(scan), "--boxes", str(boxes), "--export", str(out), *OPTIONS], capsys)
    assert str(scan) in err and "export into another folder" in err
    assert snapshot(out) == before  # the scan, the box file and the earlier export are untouched


def test_box_file_alone_inside_the_export_folder_is_refused(tmp_path, capsys) -> None:
    out = earlier_export(tmp_path)
    scan = tmp_path / "source" / "scan.ply"
    before = snapshot(out)
    err = run_refused([str(scan), "--boxes", str(out / "boxes.json"), "--export", str(out), *OPTIONS], capsys)
    assert str(out / "boxes.json") in err and "box file" in err
    assert snapshot(out) == before


def test_an_export_folder_that_is_a_parent_of_the_scan_is_refused(tmp_path, capsys) -> None:
    scan, boxes = write_scan(tmp_path / "project" / "scans")
    before = snapshot(tmp_path / "project")
    err = run_refused(
        [str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "project"), *OPTIONS], capsys
    )
    assert str(scan) in err and "scan" in err
    assert snapshot(tmp_path / "project") == before


def test_symlinks_are_seen_through(tmp_path, capsys) -> None:
    out = earlier_export(tmp_path)
    scan, boxes = write_scan(out / "inputs")
    (tmp_path / "link.ply").symlink_to(scan)  # a link outside OUT to the scan inside it
    (tmp_path / "out_link").symlink_to(out, target_is_directory=True)  # OUT named through a link
    before = snapshot(out)
    run_refused([str(tmp_path / "link.ply"), "--boxes", str(boxes), "--export", str(out), *OPTIONS], capsys)
    outside_scan, outside_boxes = scan, tmp_path / "source" / "boxes.json"
    run_refused(
        [str(outside_scan), "--boxes", str(outside_boxes), "--export", str(tmp_path / "out_link"), *OPTIONS],
        capsys,
    )
    assert snapshot(out) == before


def test_inputs_beside_the_export_folder_are_fine(tmp_path) -> None:
    scan, boxes = write_scan(tmp_path / "r01")
    out = tmp_path / "r01_out"  # a sibling whose name starts like the scan's folder
    assert main([str(scan), "--boxes", str(boxes), "--export", str(out), *OPTIONS]) == 0
    assert scan.exists() and json.loads((out / "export.json").read_text())["num_points"] == 1000


def test_export_all_refuses_to_replace_the_folder_its_scene_was_loaded_from(tmp_path) -> None:
    """The window's export (export_all) knows the scan from the scene's source."""
    from beep3d.errors import Beep3dError
    from beep3d.io import load_scene
    from beep3d.resolve.resolvers import get_resolver

    out = earlier_export(tmp_path)
    scan, _ = write_scan(out)
    scene = load_scene(scan)
    boxes = BoxSet([Box(1, "chair", (0.5, 0.5, 0.5), (1.02, 1.02, 1.02))])
    resolution = get_resolver("smallest-box").resolve(scene, boxes)
    with pytest.raises(Beep3dError, match="export into another folder"):
        export_all(scene, boxes, resolution, out)
    assert scan.exists()


def test_check_inputs_outside_skips_missing_inputs(tmp_path) -> None:
    from beep3d.io.staged_folder import check_inputs_outside

    check_inputs_outside(tmp_path / "out", [("scan", tmp_path / "scan.ply"), ("class set", None)])
    assert not os.path.exists(tmp_path / "out")


def test_a_symlink_loop_as_export_folder_is_a_clean_error(tmp_path, capsys) -> None:
    scan, boxes = write_scan(tmp_path / "source")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    status = main([str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "a"), *OPTIONS])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err, err
    assert scan.exists()
