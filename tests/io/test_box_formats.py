"""Other tools' box files: each format written, read back by content, and fed broken files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from beep3d.classes import SCANNET18
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_boxes
from beep3d.io.box_formats import BOX_FORMATS, box_format, box_vertices, save_boxes_as

BOXES = BoxSet(
    [
        Box(4, "chair", (1.5, -2.0, 0.45), (0.5, 0.6, 0.9), 0.3),
        Box(7, "table", (0.0, 1.0, 0.4), (1.2, 0.8, 0.8), 0.0),
        Box(9, "bed", (3.0, 3.0, 0.3), (2.0, 1.6, 0.6), -2.5),
    ]
)
#: A box turned 20 degrees about x: no gravity-aligned box has these corners.
_ROLL = math.radians(20)
TILTED_CORNERS = (
    box_vertices(Box(0, "a", (0, 0, 0), (1, 2, 1)))
    @ np.array([[1, 0, 0], [0, math.cos(_ROLL), math.sin(_ROLL)], [0, -math.sin(_ROLL), math.cos(_ROLL)]])
).tolist()
SUFFIX = {fmt.name: fmt.suffix for fmt in BOX_FORMATS}


def same_region(a: Box, b: Box) -> bool:
    """The same box up to the order of its corners (a yaw of 180 degrees more is the same box)."""
    points = np.random.default_rng(0).uniform(-4, 5, (20000, 3))
    return a.label == b.label and bool(np.array_equal(a.contains(points), b.contains(points)))


@pytest.mark.parametrize("name", [fmt.name for fmt in BOX_FORMATS if fmt.name != "box-arrays"])
def test_json_formats_round_trip_and_are_recognised_by_content(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"boxes{SUFFIX[name]}"
    assert save_boxes_as(path, BOXES, name, scene_name="room") == []
    read = load_boxes(path)  # no format given: recognised by content
    assert len(read) == len(BOXES)
    for original, back in zip(BOXES, read, strict=True):
        assert same_region(original, back), (original, back)
        np.testing.assert_allclose(back.center, original.center, atol=1e-6)
    if name in ("beep3d", "sustechpoints"):
        assert list(read.ids) == list(BOXES.ids), "formats that store ids keep them"
    assert box_format(name).read(path) == read


def test_labelcloud_vertices_follow_labelclouds_corner_order(tmp_path: Path) -> None:
    """labelCloud derives length from corners 0-3, width from 0-1, height from 0-4, centre from 2 and 4."""
    box = BOXES[0]
    corners = box_vertices(box)
    assert math.isclose(np.linalg.norm(corners[0] - corners[3]), box.size[0])
    assert math.isclose(np.linalg.norm(corners[0] - corners[1]), box.size[1])
    assert math.isclose(np.linalg.norm(corners[0] - corners[4]), box.size[2])
    np.testing.assert_allclose((corners[2] + corners[4]) / 2, box.center)


@pytest.mark.parametrize(
    ("size", "yaw"),
    [
        ((0.0, 0.72, 0.58), 0.5),  # the audit's flat picture: zero length, turned
        ((0.0, 0.72, 0.58), -2.9),
        ((0.72, 0.0, 0.58), 2.0),  # zero width
        ((0.0, 0.0, 0.58), 1.0),  # a vertical line: every yaw has the same corners
        ((0.4, 0.72, 0.0), 0.7),  # zero height
        ((1e-7, 0.72, 0.58), 0.5),  # a length below the file's 6 decimals
    ],
)
def test_labelcloud_vertices_read_back_flat_and_degenerate_turned_boxes(
    tmp_path: Path, size: tuple[float, float, float], yaw: float
) -> None:
    """A box with a zero side is allowed (and warned about as degenerate): the vertices format must
    read it back as written, not refuse its own file as 'not an upright box'."""
    box = Box(1, "picture", (3.98, 2.68, 0.41), size, yaw)
    path = tmp_path / "flat.json"
    save_boxes_as(path, BoxSet([box]), "labelcloud-vertices")
    loaded = load_boxes(path)[0]
    np.testing.assert_allclose(box_vertices(loaded), box_vertices(box), atol=2e-6)
    np.testing.assert_allclose(loaded.size, box.size, atol=2e-6)
    if max(size[:2]) > 0:  # the yaw itself is kept (with no horizontal side, any yaw is the same box)
        assert abs(math.remainder(loaded.yaw - yaw, 2 * math.pi)) < 1e-5


def test_sustechpoints_and_supervisely_files_as_the_tools_write_them(tmp_path: Path) -> None:
    sustech = tmp_path / "000001.json"
    sustech.write_text(
        json.dumps(
            [
                {
                    "obj_id": "12",
                    "obj_type": "chair",
                    "psr": {
                        "position": {"x": 1, "y": 2, "z": 0.5},
                        "rotation": {"x": 0, "y": 0, "z": 1.2},
                        "scale": {"x": 0.6, "y": 0.5, "z": 1.0},
                    },
                }
            ]
        )
    )
    assert load_boxes(sustech) == BoxSet([Box(12, "chair", (1, 2, 0.5), (0.6, 0.5, 1.0), 1.2)])
    supervisely = tmp_path / "scan.pcd.json"
    supervisely.write_text(
        json.dumps(
            {
                "description": "",
                "key": "",
                "tags": [],
                "objects": [{"key": "a1", "classTitle": "table", "tags": []}],
                "figures": [
                    {
                        "key": "f0",
                        "objectKey": "a1",
                        "geometryType": "point_cloud",
                        "geometry": {"indices": [1, 2]},
                    },
                    {
                        "key": "f1",
                        "objectKey": "a1",
                        "geometryType": "cuboid_3d",
                        "geometry": {
                            "position": {"x": 0, "y": 0, "z": 0.4},
                            "rotation": {"x": 0, "y": 0, "z": 0.5},
                            "dimensions": {"x": 1.2, "y": 0.8, "z": 0.8},
                        },
                    },
                ],
            }
        )
    )
    assert load_boxes(supervisely) == BoxSet([Box(0, "table", (0, 0, 0.4), (1.2, 0.8, 0.8), 0.5)])


def test_box_arrays_round_trip_with_class_ids(tmp_path: Path) -> None:
    axis_aligned = BoxSet(
        [Box(0, "chair", (1, 2, 0.4), (0.5, 0.6, 0.8)), Box(1, "table", (0, 0, 0.3), (1, 2, 0.6))]
    )
    path = tmp_path / "scene0000_00_bbox.npy"
    assert save_boxes_as(path, axis_aligned, "box-arrays") == []
    rows = np.load(path)
    assert rows.shape == (2, 7)
    assert rows[0, 6] == SCANNET18.id_of("chair") and rows[1, 6] == SCANNET18.id_of("table")  # NYU40 ids
    assert load_boxes(path) == axis_aligned


def test_box_arrays_say_what_they_could_not_hold(tmp_path: Path) -> None:
    path = tmp_path / "b.npy"
    turned = BoxSet(
        [Box(0, "chair", (0, 0, 0), (2, 1, 1), math.pi / 4), Box(1, "spaceship", (5, 0, 0), (1, 1, 1))]
    )
    notes = save_boxes_as(path, turned, "box-arrays")
    assert any("axis-aligned boxes around them" in note for note in notes)
    assert any("spaceship" in note for note in notes)
    rows = np.load(path)
    np.testing.assert_allclose(
        rows[0, 3:5], [3 / math.sqrt(2)] * 2, atol=1e-5
    )  # the box around the turned box
    assert load_boxes(path)[1].label == "class_-1"


def test_box_arrays_with_a_yaw_column(tmp_path: Path) -> None:
    path = tmp_path / "sunrgbd.npy"
    np.save(path, np.array([[1, 2, 0.5, 1, 2, 1, 0.7, 5]], dtype=np.float32))
    (box,) = load_boxes(path)
    assert box.label == "chair" and math.isclose(box.yaw, 0.7, rel_tol=1e-6)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("tilted.json", {"objects": [{"name": "a", "vertices": TILTED_CORNERS}]}, ("upright box",)),
        ("few.json", {"objects": [{"name": "a", "vertices": [[0, 0, 0]] * 7}]}, ("8 corners",)),
        (
            "roll.json",
            [
                {
                    "obj_type": "car",
                    "psr": {
                        "position": {"x": 0, "y": 0, "z": 0},
                        "rotation": {"x": 0.3, "y": 0, "z": 0},
                        "scale": {"x": 1, "y": 1, "z": 1},
                    },
                }
            ],
            ("gravity-aligned",),
        ),
        ("nopsr.json", [{"obj_type": "car", "psr": {"position": {"x": 0, "y": 0}}}], ("position",)),
        (
            "orphan.json",
            {"objects": [], "figures": [{"objectKey": "zz", "geometryType": "cuboid_3d", "geometry": {}}]},
            ("names no object",),
        ),
        ("other.json", {"frames": []}, ("not a box file",)),
    ],
)
def test_broken_box_files_get_one_clean_error(
    tmp_path: Path, name: str, content: object, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    with pytest.raises(Beep3dError) as caught:
        load_boxes(path)
    for word in (str(path), *words):
        assert word in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((2, 5)), ("(K, 7)",)),
        (np.array([[0, 0, 0, 1, 1, 1, 2.5]]), ("not a whole number",)),
        (np.array([[0, 0, 0, 1, -1, 1, 3]]), ("negative",)),
        (np.array([[0, 0, np.nan, 1, 1, 1, 3]]), ("NaN",)),
    ],
)
def test_broken_box_arrays_get_one_clean_error(
    tmp_path: Path, array: np.ndarray, words: tuple[str, ...]
) -> None:
    path = tmp_path / "b.npy"
    np.save(path, array)
    with pytest.raises(Beep3dError) as caught:
        load_boxes(path)
    for word in words:
        assert word in str(caught.value), str(caught.value)
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(Beep3dError, match="not a numpy box array"):
        load_boxes(path)


def test_unknown_format_name_is_refused() -> None:
    with pytest.raises(Beep3dError, match="unknown box format"):
        box_format("kitti")
