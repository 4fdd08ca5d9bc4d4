"""Values in box files that Python's own conversions choke on (numbers of hundreds of digits, Unicode
digits, lists where a key belongs) are refused with one Beep3dError naming the file, the box and the
field: the command line prints it and exits 2 instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beep3d.errors import Beep3dError
from beep3d.io.box_files import load_box_flags, load_boxes

#: Integer literals JSON allows: 400 digits overflow float(), 5001 digits exceed int()'s 4300-digit limit.
DIGITS_400 = "1" + "0" * 399
DIGITS_5001 = "1" + "0" * 5000
BOX = '{"id": 1, "label": "chair", "center": %s, "size": %s, "yaw": %s}'
LABELCLOUD = (
    '{"objects": [{"name": "chair", "centroid": {"x": 1, "y": 2, "z": 0}, '
    '"dimensions": {"length": 1, "width": 1, "height": 1}, "rotations": {"x": 0, "y": 0, "z": %s}}]}'
)
SUSTECH = (
    '[{"obj_id": %s, "obj_type": "chair", "psr": {"position": {"x": 1, "y": 2, "z": 0}, '
    '"rotation": {"x": 0, "y": 0, "z": 0}, "scale": {"x": 1, "y": 1, "z": 1}}}]'
)
SUPERVISELY = (
    '{"objects": [{"key": %s, "classTitle": "chair"}], "figures": [{"objectKey": %s, '
    '"geometryType": "cuboid_3d", "geometry": {"position": {"x": 1, "y": 2, "z": 0}, '
    '"rotation": {"x": 0, "y": 0, "z": 0}, "dimensions": {"x": 1, "y": 1, "z": 1}}}]}'
)


def project_file(center: str = "[1, 2, 0]", size: str = "[1, 1, 1]", yaw: str = "0") -> str:
    return '{"version": 1, "boxes": [' + BOX % (center, size, yaw) + "]}"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (project_file(center=f"[{DIGITS_400}, 2, 0]"), ["box #0 (id 1)", "center[0]", "not a finite number"]),
        (project_file(yaw=DIGITS_400), ["box #0 (id 1)", "yaw", "not a finite number"]),
        (project_file(yaw=f"-{DIGITS_400}"), ["box #0 (id 1)", "yaw", "not a finite number"]),
        (
            project_file(size=f"[{DIGITS_5001}, 1, 1]"),
            ["box #0 (id 1)", "size[0]", "an integer of 5001 digits"],
        ),
        (project_file(center="[1e999, 2, 0]"), ["box #0 (id 1)", "center[0]", "not a finite number"]),
        (project_file(yaw="NaN"), ["box #0 (id 1)", "yaw", "not a finite number"]),
        (project_file().replace('"id": 1', f'"id": {DIGITS_5001}'), ["box #0", "id must be", "5001 digits"]),
        (project_file().replace('"id": 1', '"id": 4294967296'), ["box #0", "id must be", "2147483647"]),
        (project_file().replace('"version": 1', '"version": true'), ["version True is not supported"]),
        (LABELCLOUD % DIGITS_400, ["labelCloud object #0", "rotations.z", "not a finite number"]),
        (LABELCLOUD % DIGITS_5001, ["labelCloud object #0", "rotations.z", "5001 digits"]),
        (SUSTECH % '"99999999999999"', ["SUSTechPOINTS object #0", "obj_id '99999999999999'", "2147483647"]),
        (SUSTECH % f'"{"9" * 5000}"', ["SUSTechPOINTS object #0", "obj_id", "2147483647"]),
        (SUPERVISELY % ('["a"]', '"a"'), ["Supervisely object #0", "key must be a string"]),
        (SUPERVISELY % ('"a"', '["a"]'), ["Supervisely figure #0", "objectKey must be a string"]),
        (SUPERVISELY % ('{"k": 1}', '"a"'), ["Supervisely object #0", "key must be a string"]),
    ],
)
def test_values_python_cannot_convert_are_refused_naming_file_box_and_field(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "boxes.json"
    path.write_text(content)
    with pytest.raises(Beep3dError) as caught:
        load_boxes(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message
    assert len(message) < 400, "a huge number is shortened in the message, which stays one line"


def test_unicode_digits_as_a_sustechpoints_obj_id_number_the_boxes_in_file_order(tmp_path: Path) -> None:
    """ "²" passes str.isdigit() but int() refuses it: such ids are not numbers, so boxes are numbered
    in file order, as for any other non-numeric obj_id."""
    path = tmp_path / "boxes.json"
    path.write_text("[" + ",".join([SUSTECH[1:-1] % '"²"', SUSTECH[1:-1] % '"٣"']) + "]")
    assert load_boxes(path).ids.tolist() == [0, 1]
    path.write_text("[" + ",".join([SUSTECH[1:-1] % '"12"', SUSTECH[1:-1] % "7"]) + "]")
    assert load_boxes(path).ids.tolist() == [12, 7]


def test_integer_literals_that_python_can_convert_still_load(tmp_path: Path) -> None:
    path = tmp_path / "boxes.json"
    path.write_text(project_file(center="[1, 2, 0]", size="[1, 2, 3]", yaw="0"))
    box = load_boxes(path)[0]
    assert box.center == (1.0, 2.0, 0.0) and box.size == (1.0, 2.0, 3.0) and box.yaw == 0.0


def test_box_flags_of_a_box_with_a_malformed_id_are_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "boxes.json"
    path.write_text(
        json.dumps(
            {"boxes": [{"id": [1], "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1], "hidden": True}]}
        )
    )
    with pytest.raises(Beep3dError, match="box #0.*id must be"):
        load_box_flags(path)
