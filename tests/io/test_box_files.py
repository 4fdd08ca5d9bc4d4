import json
import math

import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_boxes, save_boxes
from tests.conftest import shared_file


def test_round_trip_keeps_every_field(tmp_path):
    boxes = BoxSet(
        [Box(3, "chair", (1.5, -2.0, 0.4), (0.5, 0.6, 0.9), 0.25), Box(9, "table", (0, 0, 0), (1, 2, 0.8))]
    )
    path = tmp_path / "b.json"
    save_boxes(path, boxes, scene_name="room")
    data = json.loads(path.read_text())
    assert data["version"] == 2 and data["scene"] == "room"
    assert data["boxes"][0] == {
        "id": 3,
        "label": "chair",
        "center": [1.5, -2.0, 0.4],
        "size": [0.5, 0.6, 0.9],
        "yaw": 0.25,
    }
    assert load_boxes(path) == boxes
    assert not list(tmp_path.glob(".*tmp")), "no temporary file is left behind"


def test_extra_keys_are_allowed(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "tool": "x",
                "boxes": [{"id": 0, "label": "bed", "center": [0, 0, 0], "size": [2, 1, 1], "note": "ok"}],
            }
        )
    )
    assert load_boxes(path)[0].yaw == 0.0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 1}', "'boxes' list"),
        ('{"version": 3, "boxes": []}', "version 3"),
        (
            '{"boxes": [{"id": 0, "label": "chair", "center": [0, 0], "size": [1, 1, 1]}]}',
            "center must be a list of 3",
        ),
        ('{"boxes": [{"id": 0, "label": "chair", "center": [0, 0, 0], "size": [1, -1, 1]}]}', "negative"),
        (
            '{"boxes": [{"id": -4, "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1]}]}',
            "non-negative integer",
        ),
        ('{"boxes": [{"id": 0, "center": [0, 0, 0], "size": [1, 1, 1]}]}', "missing label"),
        (
            '{"boxes": [{"id": 1, "label": "a", "center": [0, 0, 0], "size": [1, 1, 1]}, {"id": 1, "label": "b", "center": [0, 0, 0], "size": [1, 1, 1]}]}',
            "appears twice",
        ),
        (
            '{"boxes": [{"id": 0, "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1], "yaw": "north"}]}',
            "yaw must be",
        ),
    ],
)
def test_bad_box_files_name_the_problem(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(Beep3dError, match=expected) as info:
        load_boxes(path)
    assert str(path) in str(info.value)


def test_missing_box_file(tmp_path):
    with pytest.raises(Beep3dError, match="not found"):
        load_boxes(tmp_path / "nope.json")


def test_reads_labelcloud_centroid_json_with_yaw_in_degrees():
    boxes = load_boxes(shared_file("labelcloud_example/exemplary.json"))
    assert len(boxes) == 1
    box = boxes[0]
    assert box.label == "cart"
    assert box.size == (0.75, 0.55, 0.15)
    assert math.isclose(box.yaw, math.radians(235))


def test_labelcloud_box_tilted_about_x_is_refused(tmp_path):
    path = tmp_path / "lc.json"
    path.write_text(
        json.dumps(
            {
                "objects": [
                    {
                        "name": "a",
                        "centroid": {"x": 0, "y": 0, "z": 0},
                        "dimensions": {"length": 1, "width": 1, "height": 1},
                        "rotations": {"x": 10, "y": 0, "z": 0},
                    }
                ]
            }
        )
    )
    with pytest.raises(Beep3dError, match="gravity-aligned"):
        load_boxes(path)


def test_written_files_get_normal_permissions_and_replace_atomically(tmp_path):
    import os
    import stat

    path = tmp_path / "b.json"
    save_boxes(path, BoxSet([Box(0, "bed", (0, 0, 0), (2, 1, 1))]))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o600)
    save_boxes(path, BoxSet())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "an existing file keeps its permissions"
    assert load_boxes(path) == BoxSet()


def test_boxes_round_trip_bit_exactly_so_an_export_exported_again_gives_the_same_masks(tmp_path):
    """A dragged box has a centre like 0.29256651234: the file keeps every bit. Rounded to 1 um, 12 of
    200 random moves of the demo room's boxes (up to 1 cm) changed some point's box on export ->
    boxes.json -> export."""
    import numpy as np

    rng = np.random.default_rng(4)
    boxes = BoxSet(
        Box(
            i, "chair", tuple(rng.uniform(-5, 5, 3)), tuple(rng.uniform(0.1, 2, 3)), float(rng.uniform(-3, 3))
        )
        for i in range(50)
    )
    save_boxes(tmp_path / "b.json", boxes)
    back = load_boxes(tmp_path / "b.json")
    assert back == boxes
