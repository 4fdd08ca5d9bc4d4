"""beep3d-eval on an export of a scan whose loading dropped points (NaN coordinates, strays).

The export has one row per point of the scan file; the GT scene as loaded has only the kept points.
The evaluation lines the rows up with the loaded points, so its figures equal those of the same scan
without the dropped rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main as annotate
from beep3d.cli.evaluate import main as evaluate
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import save_boxes

CHAIR, TABLE, FLOOR = 5, 7, 2
#: rows of the file with NaN coordinates, and one stray point 50 km away
NAN_ROWS, STRAY_ROW = (0, 700, 1999), 1200


def labelled_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chair and a table whose boxes overlap, on a floor: xyz, nyu40 class and instance per point."""
    rng = np.random.default_rng(3)
    chair = rng.uniform([0.0, 0, 0.1], [1.0, 1, 1], size=(800, 3))
    table = rng.uniform([0.9, 0, 0.1], [2.0, 1, 1], size=(800, 3))
    floor = rng.uniform([-0.5, -0.5, 0], [2.5, 1.5, 0.02], size=(400, 3))
    xyz = np.concatenate([chair, table, floor]).astype(np.float32)
    semantic = np.repeat([CHAIR, TABLE, FLOOR], [800, 800, 400]).astype(np.int32)
    instance = np.repeat([1, 2, 3], [800, 800, 400]).astype(np.int32)
    return xyz, semantic, instance


def write_labelled(path: Path, xyz: np.ndarray, semantic: np.ndarray, instance: np.ndarray) -> None:
    rgb = np.full((len(xyz), 3), 128, dtype=np.uint8)
    write_ply(path, xyz, rgb, {"nyu40": semantic, "instance": instance})


def export_and_evaluate(tmp_path: Path, scan: Path, boxes: Path, name: str) -> dict:
    out = tmp_path / f"{name}_export"
    options = ["--resolver", "smallest-box", "--foreground", "off"]
    assert annotate([str(scan), "--boxes", str(boxes), "--export", str(out), *options]) == 0
    figures = tmp_path / f"{name}_figures.json"
    assert evaluate([str(out), "--gt", str(scan), "--json", str(figures)]) == 0
    return json.loads(figures.read_text())


def test_eval_scores_an_export_of_a_scan_with_dropped_points_on_the_kept_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xyz, semantic, instance = labelled_points()
    clean = tmp_path / "clean.ply"
    write_labelled(clean, xyz, semantic, instance)
    # the same scan with broken rows: NaN coordinates, and a stray point (their labels are nonsense)
    dirty_xyz = xyz.copy()
    dirty_xyz[list(NAN_ROWS)] = np.nan
    dirty_xyz[STRAY_ROW] = (50_000.0, 0.0, 0.0)
    dropped = np.zeros(len(xyz), dtype=bool)
    dropped[[*NAN_ROWS, STRAY_ROW]] = True
    dirty = tmp_path / "dirty.ply"
    write_labelled(dirty, dirty_xyz, semantic, instance)
    clean_kept = tmp_path / "clean_kept.ply"  # the points loading the dirty scan keeps
    write_labelled(clean_kept, xyz[~dropped], semantic[~dropped], instance[~dropped])
    boxes = tmp_path / "boxes.json"
    save_boxes(
        boxes,
        BoxSet(
            [
                Box(1, "chair", (0.5, 0.5, 0.55), (1.02, 1.02, 0.92)),
                Box(2, "table", (1.45, 0.5, 0.55), (1.12, 1.02, 0.92)),
            ]
        ),
    )

    dirty_figures = export_and_evaluate(tmp_path, dirty, boxes, "dirty")
    assert np.load(tmp_path / "dirty_export" / "instance_ids.npy").shape == (
        len(xyz),
    )  # one row per file point
    err = capsys.readouterr().err
    assert "dropped" in err and "error" not in err
    expected = export_and_evaluate(tmp_path, clean_kept, boxes, "clean_kept")
    assert dirty_figures["num_points"] == len(xyz) - int(dropped.sum())
    for key in (
        "ap",
        "ap50",
        "ap25",
        "overlap_accuracy",
        "overlap_points",
        "mean_instance_iou",
        "num_predictions",
    ):
        assert dirty_figures[key] == expected[key], key
    assert dirty_figures["overlap_points"] > 0 and dirty_figures["mean_instance_iou"] is not None


def test_eval_of_an_export_of_another_scan_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xyz, semantic, instance = labelled_points()
    scan = tmp_path / "scan.ply"
    write_labelled(scan, xyz, semantic, instance)
    other = tmp_path / "other.ply"
    write_labelled(other, xyz[:1500], semantic[:1500], instance[:1500])
    boxes = tmp_path / "boxes.json"
    save_boxes(boxes, BoxSet([Box(1, "chair", (0.5, 0.5, 0.55), (1.02, 1.02, 0.92))]))
    out = tmp_path / "export"
    assert (
        annotate([str(scan), "--boxes", str(boxes), "--export", str(out), "--resolver", "smallest-box"]) == 0
    )
    capsys.readouterr()
    assert evaluate([str(out), "--gt", str(other)]) == 2
    err = capsys.readouterr().err
    assert "2000 values but the GT scene has 1500 points" in err and "Traceback" not in err
