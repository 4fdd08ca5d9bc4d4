"""Every field of every JSON box format (the project's corrections included), replaced by any JSON
value: the readers give boxes or one clean Beep3dError naming the file, never another exception (an
OverflowError from a 400-digit number, a TypeError from a list used as a key, ...). The damaged-bytes
fuzzer (test_fuzz_formats.py) rarely produces such values; this one puts them in each field on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from beep3d.corrections import Correction, Corrections  # noqa: E402
from beep3d.errors import Beep3dError  # noqa: E402
from beep3d.geometry.boxes import Box, BoxSet  # noqa: E402
from beep3d.io.box_files import load_box_flags, load_boxes, load_corrections  # noqa: E402
from beep3d.io.box_formats import BOX_FORMATS, save_boxes_as  # noqa: E402

BOXES = BoxSet(
    [Box(3, "chair", (1.2, 3.4, 0.45), (0.6, 0.55, 0.9), 0.1), Box(5, "table", (0, 0, 0.4), (1, 2, 0.8))]
)
CORRECTIONS = Corrections(
    (Correction("click", 3, False, np.array([7])), Correction("stroke", -1, True, np.array([1, 2]))), 100
)
JSON_FORMATS = [fmt for fmt in BOX_FORMATS if fmt.suffix == ".json"]

#: Integer literals JSON allows but Python's float() (about 309 digits) or int() (4300 digits) refuse.
#: Written into the file's text in place of these markers (json.dumps cannot write the long one).
LONG_LITERALS = {"<400 digits>": "7" * 400, "<5000 digits>": "1" + "0" * 5000, "<-5000 digits>": "-9" * 2501}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1.5, 2**31, 10**30, 1e308, "1", "false", "true", "²", "٣", "", "chair"]),
    st.sampled_from(sorted(LONG_LITERALS)),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


def node_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indices) of every node of a parsed JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += node_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += node_paths(item, (*prefix, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def valid_data(folder: Path, fmt: Any) -> Any:
    path = folder / f"valid_{fmt.name}.json"
    if not path.exists():
        save_boxes_as(path, BOXES, fmt, corrections=CORRECTIONS, hidden=[3], locked=[5])
    return json.loads(path.read_text())


def test_the_valid_files_load_with_every_field(tmp_path: Path) -> None:
    """The fuzzer starts from files that load, and reaches the fields it is meant to reach."""
    for fmt in JSON_FORMATS:
        data = valid_data(tmp_path, fmt)
        assert load_boxes(tmp_path / f"valid_{fmt.name}.json") == BOXES or fmt.name != "beep3d"
        assert len(load_boxes(tmp_path / f"valid_{fmt.name}.json")) == 2
        assert len(node_paths(data)) > 15, fmt.name
    project = tmp_path / "valid_beep3d.json"
    assert load_corrections(project) == CORRECTIONS
    assert load_box_flags(project).hidden == {3}
    assert ("corrections", "items", 0, "positive") in node_paths(valid_data(tmp_path, JSON_FORMATS[0]))


@pytest.mark.parametrize("fmt", JSON_FORMATS, ids=[fmt.name for fmt in JSON_FORMATS])
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_json_value_in_any_field_gives_boxes_or_a_clean_error(
    tmp_path: Path,
    fmt: Any,  # noqa: ANN401
    data: st.DataObject,
) -> None:
    original = valid_data(tmp_path, fmt)
    where = data.draw(st.sampled_from(node_paths(original)), label="field")
    value = data.draw(json_values, label="value")
    text = json.dumps(replaced(original, where, value))
    for marker, literal in LONG_LITERALS.items():
        text = text.replace(json.dumps(marker), literal)
    path = tmp_path / "fuzz.json"
    path.write_text(text)
    for read in (load_boxes, load_corrections, load_box_flags):
        try:
            result = read(path)
        except Beep3dError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message and len(message) < 600, message
            continue
        if read is load_boxes:
            for box in result:
                assert np.isfinite(box.center).all() and min(box.size) >= 0 and np.isfinite(box.yaw)
