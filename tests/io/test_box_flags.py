"""Hidden and locked boxes in the project's box file: optional per-box keys, written only when true."""

import json

import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import (
    BOX_FILE_VERSION,
    BoxFlags,
    boxes_to_dict,
    load_box_flags,
    load_boxes,
    save_boxes,
)
from beep3d.io.box_formats import save_boxes_as

BOXES = BoxSet(
    [
        Box(1, "chair", (0.0, 0.0, 0.3), (0.6, 0.6, 0.6)),
        Box(2, "table", (1.0, 0.5, 0.5), (0.8, 0.8, 1.0), 0.25),
        Box(7, "bed", (3.0, 0.5, 0.4), (2.0, 1.6, 0.8)),
    ]
)


def test_a_file_without_hidden_or_locked_boxes_is_written_as_before():
    data = boxes_to_dict(BOXES, "room")
    assert data == {
        "version": BOX_FILE_VERSION,
        "scene": "room",
        "boxes": [
            {"id": 1, "label": "chair", "center": [0.0, 0.0, 0.3], "size": [0.6, 0.6, 0.6], "yaw": 0.0},
            {"id": 2, "label": "table", "center": [1.0, 0.5, 0.5], "size": [0.8, 0.8, 1.0], "yaw": 0.25},
            {"id": 7, "label": "bed", "center": [3.0, 0.5, 0.4], "size": [2.0, 1.6, 0.8], "yaw": 0.0},
        ],
    }


def test_hidden_and_locked_boxes_round_trip_and_only_they_carry_the_keys(tmp_path):
    path = tmp_path / "room.boxes.json"
    save_boxes(path, BOXES, "room", hidden={1}, locked={1, 7})
    entries = {e["id"]: e for e in json.loads(path.read_text())["boxes"]}
    assert entries[1]["hidden"] is True and entries[1]["locked"] is True
    assert "hidden" not in entries[7] and entries[7]["locked"] is True
    assert "hidden" not in entries[2] and "locked" not in entries[2]
    assert load_boxes(path) == BOXES  # the boxes themselves are unchanged
    assert load_box_flags(path) == BoxFlags(frozenset({1}), frozenset({1, 7}))


def test_old_files_and_other_formats_have_no_flags(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": 1, "boxes": boxes_to_dict(BOXES)["boxes"]}))
    assert load_boxes(old) == BOXES and load_box_flags(old) == BoxFlags()
    other = tmp_path / "labelcloud.json"
    notes = save_boxes_as(other, BOXES, "labelcloud-centroid", hidden={1}, locked={2, 7})
    assert any("hidden or locked" in n and "1 hidden, 2 locked" in n for n in notes)
    assert load_box_flags(other) == BoxFlags()
    assert save_boxes_as(tmp_path / "plain.json", BOXES, "labelcloud-centroid") == []


def test_a_flag_that_is_not_true_or_false_is_refused_with_the_box_named(tmp_path):
    data = boxes_to_dict(BOXES)
    data["boxes"][1]["hidden"] = "yes"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(Beep3dError, match=r"box #1 \(id 2\): 'hidden' must be true or false"):
        load_boxes(path)
    with pytest.raises(Beep3dError, match="'hidden' must be true or false"):
        load_box_flags(path)
