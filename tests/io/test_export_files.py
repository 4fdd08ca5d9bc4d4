"""What export.json says of the export: every file written (nested ones too) and what each holds,
with the box arrays' layout and the notes on what each box format could not hold."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from beep3d.classes import SCANNET18
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_formats import BOX_ARRAYS
from beep3d.io.export import export_all
from beep3d.resolve.resolution import DECIDED_BY_CORRECTION, DECIDED_BY_FOREGROUND
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene

BOXES = BoxSet(
    [
        Box(4, "chair", (1.0, 1.0, 0.5), (1.0, 0.6, 1.0), math.pi / 6),  # turned: the arrays cannot hold it
        Box(9, "table", (2.5, 1.0, 0.4), (1.2, 0.8, 0.8)),
        Box(2, "robot", (0.5, 2.5, 0.5), (0.6, 0.6, 1.0)),  # not a ScanNet class
    ]
)


def export(tmp_path: Path) -> tuple[Path, dict]:
    rng = np.random.default_rng(0)
    xyz = rng.uniform([0, 0, 0], [3.5, 3.0, 1.2], (3000, 3)).astype(np.float32)
    scene = Scene(xyz=xyz, rgb=np.full((3000, 3), 128, np.uint8), name="room")
    resolution = get_resolver("smallest-box", class_set=SCANNET18).resolve(scene, BOXES)
    decided = np.asarray(resolution.decided_by).copy()
    decided[:5], decided[5:10] = DECIDED_BY_CORRECTION, DECIDED_BY_FOREGROUND  # point_labels.npy is written
    resolution = type(resolution)(
        resolution.instance_ids,
        resolution.semantic_ids,
        resolution.confidence,
        resolution.overlap_counts,
        decided,
    )
    out = tmp_path / "out"
    export_all(scene, BOXES, resolution, out, SCANNET18)
    return out, json.loads((out / "export.json").read_text())


def test_the_file_list_names_every_file_written_nested_ones_too(tmp_path: Path) -> None:
    out, summary = export(tmp_path)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(summary["files"]) == on_disk
    assert len(summary["files"]) == len(set(summary["files"]))
    for nested in (
        "training/room/scene.npz",
        "training/room/boxes.json",
        "training/room/point_labels.npy",
        "scannet/room.txt",
        "scannet/room_instance_gt.txt",
        "boxes/box-arrays/room_bbox.npy",
    ):
        assert nested in summary["files"], nested
    masks = [name for name in summary["files"] if name.startswith("scannet/pred_mask/")]
    listed_masks = (out / "scannet" / "room.txt").read_text().split()[::3]
    assert len(masks) == 3 and sorted(masks) == sorted(f"scannet/{m}" for m in listed_masks)


def test_every_file_is_described_and_the_box_arrays_say_their_layout(tmp_path: Path) -> None:
    out, summary = export(tmp_path)
    notes = summary["file_notes"]
    for name in summary["files"]:
        key = "scannet/pred_mask/" if name.startswith("scannet/pred_mask/") else name
        assert notes[key]["content"], name
    arrays = notes["boxes/box-arrays/room_bbox.npy"]
    assert arrays["format"] == BOX_ARRAYS.name
    assert arrays["columns"] == ["cx", "cy", "cz", "dx", "dy", "dz", "class_id"]
    assert "metres" in arrays["units"] and arrays["dtype"] == "float64"
    rows = np.load(out / "boxes" / "box-arrays" / "room_bbox.npy")
    assert list(rows.shape) == arrays["shape"] == [3, 7] and arrays["rows"] == [4, 9, 2]
    # the mapping explains the class column: every class id written is the box's class, or -1
    by_id = {class_id: name for name, class_id in arrays["class_ids"].items()}
    assert [by_id.get(int(c), "-1") for c in rows[:, 6]] == ["chair", "table", "-1"]
    assert "not in the class set" in arrays["class_id_minus_1"]
    # what the arrays could not hold is said: the turned chair, the unknown class
    said = " ".join(arrays["notes"])
    assert "1 turned boxes (ids 4)" in said and "robot" in said
    # the other box formats say their format, and hold the yaw (no note on it)
    centroid = notes["boxes/labelcloud-centroid/room.json"]
    assert centroid["format"] == "labelcloud-centroid" and not any("turned" in n for n in centroid["notes"])


def test_scannet_gt_ids_stay_one_per_box_with_more_than_999_boxes() -> None:
    """ScanNet's ids are class * 1000 + instance: each class numbers its own boxes, so 1,200 boxes of
    two classes keep one id each and ``id // 1000`` their class (a global count collided past 999)."""
    import pytest

    from beep3d.errors import Beep3dError
    from beep3d.io.export import scannet_gt_ids

    box_ids = np.repeat(np.arange(1200) * 7 + 3, 4)  # 4 points per box, ids not their positions
    classes = np.where(np.repeat(np.arange(1200), 4) % 2 == 0, 5, 7)
    gt = scannet_gt_ids(np.append(box_ids, -1), np.append(classes, -1))
    assert gt[-1] == 0
    pairs = set(zip(box_ids.tolist(), gt[:-1].tolist(), strict=True))
    assert len(pairs) == 1200 and len({g for _, g in pairs}) == 1200
    np.testing.assert_array_equal(gt[:-1] // 1000, classes)
    with pytest.raises(Beep3dError, match="at most 999 per class"):
        scannet_gt_ids(box_ids, np.full(len(box_ids), 5))
