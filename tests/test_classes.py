"""Class set files: every class needs a unique non-empty name, a unique JSON-integer id that the
exports can hold (0..2**31-1) and a colour of three integers 0..255; anything else is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError


def write_class_set(path: Path, classes: object) -> Path:
    path.write_text(json.dumps({"label_space": "mine", "classes": classes}), encoding="utf-8")
    return path


def test_a_valid_class_set_loads_and_id_0_is_allowed(tmp_path) -> None:
    classes = [{"name": "ceiling", "id": 0}, {"name": "chair", "id": 5, "color": [1, 2, 3]}]
    loaded = ClassSet.load(write_class_set(tmp_path / "ok.json", classes))
    assert loaded.names == ("ceiling", "chair") and loaded.ids == (0, 5)
    assert loaded.colours == ((160, 160, 160), (1, 2, 3)) and loaded.label_space == "mine"


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ({"name": "bed", "id": 5.7}, "'bed' has id 5.7"),
        ({"name": "bed", "id": True}, "'bed' has id True"),
        ({"name": "bed", "id": -1}, "'bed' has id -1"),
        ({"name": "bed", "id": 1099511627776}, "'bed' has id 1099511627776"),
        ({"name": "bed", "id": "4"}, "'bed' has id '4'"),
        ({"name": None, "id": 4}, "has name None"),
        ({"name": "  ", "id": 4}, "has name '  '"),
        ({"name": "bed", "id": 4, "color": [999, -5]}, "'bed' has color [999, -5]"),
        ({"name": "bed", "id": 4, "color": [1, 2, 3.5]}, "'bed' has color"),
        ({"name": "bed", "id": 3}, "share id 3"),
        ({"name": "chair", "id": 4}, "two classes are named 'chair'"),
        ("bed", "not an object"),
    ],
)
def test_a_bad_class_is_refused_naming_it(tmp_path, bad, said) -> None:
    path = write_class_set(tmp_path / "bad.json", [{"name": "chair", "id": 3}, bad])
    with pytest.raises(Beep3dError, match="bad.json") as refused:
        ClassSet.load(path)
    assert said in str(refused.value)


@pytest.mark.parametrize("literal", ["Infinity", "NaN", "-Infinity"])
def test_non_finite_ids_are_refused(tmp_path, literal) -> None:
    path = tmp_path / "inf.json"
    path.write_text('{"classes": [{"name": "bed", "id": ' + literal + "}]}", encoding="utf-8")
    with pytest.raises(Beep3dError, match="'bed' has id"):
        ClassSet.load(path)


def test_an_empty_class_list_is_refused(tmp_path) -> None:
    with pytest.raises(Beep3dError, match="no class"):
        ClassSet.load(write_class_set(tmp_path / "empty.json", []))


def test_a_folder_or_unreadable_path_is_one_error(tmp_path) -> None:
    with pytest.raises(Beep3dError, match="a folder; --class-set"):
        ClassSet.load(tmp_path)
    with pytest.raises(Beep3dError, match="cannot read the class set"):
        ClassSet.load(write_class_set(tmp_path / "file.json", []) / "below")  # below a file
