"""Corrections in version-2 box files are read strictly: a JSON boolean for ``positive``, integers for
``box`` and ``points``. Anything looser used to be converted (``bool("false")`` is True: a negative
click became a positive one). Corrections about a box the file does not hold are left out with a note."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from beep3d.corrections import Correction, Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_corrections, save_boxes

BOXES = [{"id": 1, "label": "chair", "center": [1, 2, 0], "size": [1, 1, 1]}]


def box_file(tmp_path: Path, *items: dict[str, Any], num_points: Any = 4000) -> Path:
    path = tmp_path / "boxes.json"
    corrections = {"num_points": num_points, "items": list(items)}
    path.write_text(json.dumps({"version": 2, "boxes": BOXES, "corrections": corrections}))
    return path


def click(**changes: Any) -> dict[str, Any]:
    return {"kind": "click", "box": 1, "positive": False, "points": [2448], **changes}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (click(positive="false"), "item 1: positive must be true or false"),
        (click(positive="true"), "item 1: positive must be true or false"),
        (click(positive=0), "item 1: positive must be true or false"),
        (click(positive=None), "item 1: positive must be true or false"),
        (click(points=[1.5]), r"item 1: points\[0\] must be an integer, got 1.5"),
        (click(points=["5"]), r"item 1: points\[0\] must be an integer, got '5'"),
        (click(points=[True]), r"item 1: points\[0\] must be an integer, got True"),
        (click(points=[[5]]), r"item 1: points\[0\] must be an integer"),
        (click(points=5), "item 1: points must be a list"),
        (click(points=[2**70]), "item 1: point index .* is beyond any scan"),
        (click(points=[1, 2]), "item 1: a click is one point"),
        (click(points=[]), "item 1: a correction needs at least one point"),
        (click(box="1"), "item 1: box must be an integer, got '1'"),
        (click(box=1.5), "item 1: box must be an integer, got 1.5"),
        (click(box=True), "item 1: box must be an integer, got True"),
        (click(kind="Click"), "item 1: kind must be"),
        (click(kind=["click"]), "item 1: kind must be"),
        (click(box=-1, positive=True), "item 1: only a stroke can give points to background"),
        # a stroke sets its points to its box: "positive": false would silently do the opposite
        (
            click(kind="stroke", positive=False, points=[1, 2, 3]),
            "item 1: a stroke sets its points to its box",
        ),
        (
            click(kind="stroke", box=-1, positive=False, points=[1, 2]),
            "item 1: a stroke sets its points to its box",
        ),
    ],
)
def test_loose_values_are_refused_naming_the_item(
    tmp_path: Path, item: dict[str, Any], expected: str
) -> None:
    path = box_file(tmp_path, click(positive=True), item)
    with pytest.raises(Beep3dError, match=f"^{path}: corrections {expected}"):
        load_corrections(path)


def test_a_negative_click_written_as_a_string_is_not_read_as_a_positive_one(tmp_path: Path) -> None:
    """The audit's case: "positive": "false" gave the box the clicked region instead of taking it."""
    path = box_file(tmp_path, click(positive="false"))
    with pytest.raises(Beep3dError, match="positive must be true or false"):
        load_corrections(path)
    path = box_file(tmp_path, click(positive=False))
    assert load_corrections(path).items[0].positive is False


def test_a_correction_about_a_box_the_file_does_not_hold_is_left_out_with_a_note(tmp_path: Path) -> None:
    path = box_file(tmp_path, click(), click(box=77, positive=True, points=[5]))
    notes: list[str] = []
    loaded = load_corrections(path, notes)
    assert [c.box_id for c in loaded] == [1], "the correction about box 1 is kept"
    assert len(notes) == 1 and "items 1" in notes[0] and "left out" in notes[0]


def test_background_strokes_and_integral_floats_are_accepted(tmp_path: Path) -> None:
    stroke = {"kind": "stroke", "box": -1, "positive": True, "points": [3, 4.0, 5]}
    path = box_file(tmp_path, click(box=1.0), stroke, {"kind": "stroke", "box": 1, "points": [9]})
    loaded = load_corrections(path)
    assert [c.box_id for c in loaded] == [1, -1, 1]
    assert loaded.items[1].points.tolist() == [3, 4, 5]
    assert loaded.items[2].positive is True, "positive may be left out (true)"
    assert loaded.num_points == 4000


@pytest.mark.parametrize("num_points", ["4000", 4000.5, [4000], True, -1])
def test_num_points_must_be_a_non_negative_integer(tmp_path: Path, num_points: Any) -> None:
    path = box_file(tmp_path, click(), num_points=num_points)
    with pytest.raises(Beep3dError, match=f"^{path}: corrections: num_points must be"):
        load_corrections(path)


def test_corrections_written_by_the_tool_read_back(tmp_path: Path) -> None:
    boxes = BoxSet([Box(1, "chair", (1, 2, 0), (1, 1, 1)), Box(4, "table", (0, 0, 0), (1, 1, 1))])
    corrections = Corrections(
        (
            Correction("click", 4, False, np.array([7])),
            Correction("stroke", -1, True, np.arange(100_000)),
            Correction("stroke", 1, True, np.array([3, 9])),
        ),
        200_000,
    )
    save_boxes(tmp_path / "b.json", boxes, corrections=corrections)
    assert load_corrections(tmp_path / "b.json") == corrections


def test_about_boxes_keeps_background_and_the_boxes_given() -> None:
    corrections = Corrections(
        (Correction("stroke", -1, True, np.array([1])), Correction("click", 2, True, [0]))
    )
    assert corrections.about_boxes([2, 3]) == (corrections, [])
    kept, dropped = corrections.about_boxes([3])
    assert [c.box_id for c in kept] == [-1] and dropped == [1]


def test_a_correction_beyond_the_scan_names_the_file_and_the_item(tmp_path: Path) -> None:
    path = box_file(tmp_path, click(positive=True), click(points=[3999]), num_points=None)
    with pytest.raises(
        Beep3dError, match=rf"^{path}: corrections item 1 \(click for box 1\) refers to point 3999"
    ):
        load_corrections(path).for_scan(3000, str(path))
