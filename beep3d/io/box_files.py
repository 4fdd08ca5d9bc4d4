"""Box files: the project's JSON format (read and written), and reading any box file by its content.

The project's format, version 2::

    {"version": 2,
     "boxes": [{"id": 3, "label": "chair", "center": [x, y, z], "size": [dx, dy, dz], "yaw": 0.0},
               {"id": 4, ..., "hidden": true, "locked": true}],
     "corrections": {"num_points": 50000,
                     "items": [{"kind": "click", "box": 3, "positive": true, "points": [1234]}]}}

Version 2 adds the annotator's mask corrections (:mod:`beep3d.corrections`; the key is written
only when there are some); version 1 files (boxes only) load as before. A box the annotator hid or
locked in the window carries ``"hidden": true`` / ``"locked": true`` (written only when true, so a
file without such boxes is the same as before; readers that do not know the keys ignore them).
A correction item may carry ``"protected": [ids]``: the boxes hidden or locked when it was made,
whose masks it leaves alone (:class:`beep3d.corrections.Correction`).

``center`` and ``size`` are metres (``size`` = full extents along the box's own axes), ``yaw`` is radians
about +z. Centres are in the scan file's own coordinates, in every box format: for a georeferenced
scan, which the tool holds relative to a local origin (:mod:`beep3d.io.local_origin`), the readers
and writers take that ``origin`` and move the boxes by it. More keys are allowed and ignored on
reading (for example ``scene``, ``class_set``, per-box ``color`` or ``note``). :func:`load_boxes`
also reads the other tools' formats of :mod:`beep3d.io.box_formats` (labelCloud, SUSTechPOINTS,
Supervisely, detection box arrays), recognised by their content (``.npy``: box arrays).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from beep3d.classes import ClassSet
from beep3d.corrections import Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import MAX_BOX_ID, Box, BoxSet
from beep3d.io.atomic import write_json_atomic
from beep3d.io.local_origin import NO_SHIFT, Origin

BOX_FILE_VERSION = 2
#: Versions of the project's format this code reads.
READABLE_VERSIONS = (1, 2)
#: The optional per-box flags of the project's format (written only when true).
BOX_FLAGS = ("hidden", "locked")


class BoxFlags(NamedTuple):
    """Ids of the boxes a box file marks hidden and locked (the window's working state)."""

    hidden: frozenset[int] = frozenset()
    locked: frozenset[int] = frozenset()


def boxes_to_dict(
    boxes: BoxSet,
    scene_name: str | None = None,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
    origin: Origin = NO_SHIFT,
) -> dict[str, Any]:
    """The JSON-ready dict of the project's box format (with the corrections, when there are any).

    ``hidden`` and ``locked`` are ids of boxes that get ``"hidden": true`` / ``"locked": true``;
    ``origin`` (metres) is added to the centres (the scene's local origin: centres are written in the
    file's own coordinates).
    """
    boxes = boxes.translated(origin)
    flagged = {"hidden": {int(i) for i in hidden}, "locked": {int(i) for i in locked}}
    data: dict[str, Any] = {"version": BOX_FILE_VERSION}
    if scene_name is not None:
        data["scene"] = scene_name
    entries = []
    for b in boxes:
        entry: dict[str, Any] = {
            "id": b.id,
            "label": b.label,
            # full precision (JSON floats round-trip exactly): a centre rounded to 1 um moved points
            # lying on a box face in or out of it, so exporting an export's boxes.json changed masks
            "center": list(b.center),
            "size": list(b.size),
            "yaw": b.yaw,
        }
        for flag in BOX_FLAGS:
            if b.id in flagged[flag]:
                entry[flag] = True
        entries.append(entry)
    data["boxes"] = entries
    if corrections:
        data["corrections"] = corrections.to_dict()
    return data


def save_boxes(
    path: str | Path,
    boxes: BoxSet,
    scene_name: str | None = None,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
    origin: Origin = NO_SHIFT,
) -> None:
    """Write ``boxes`` (and ``corrections``, and which boxes are ``hidden`` / ``locked``: ids) to
    ``path`` in the project's JSON format, atomically; ``origin`` is the scene's local origin
    (:attr:`beep3d.scene.Scene.origin`), added to the centres."""
    write_json_atomic(path, boxes_to_dict(boxes, scene_name, corrections, hidden, locked, origin))


def load_box_flags(path: str | Path) -> BoxFlags:
    """Which boxes a box file marks hidden and locked (none for other tools' formats).

    Raises
    ------
    Beep3dError
        When the file cannot be read, a box is malformed, or a flag is not ``true`` / ``false``
        (names the box).
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        return BoxFlags()
    data = read_json(path)
    if not isinstance(data, dict) or "boxes" not in data:
        return BoxFlags()
    boxes_from_dict(data, str(path))  # every box checked (ids, flags) before its flags are used
    found: dict[str, set[int]] = {flag: set() for flag in BOX_FLAGS}
    for position, entry in enumerate(data["boxes"]):
        for flag in BOX_FLAGS:
            if entry.get(flag, False):
                found[flag].add(entry.get("id", position))
    return BoxFlags(frozenset(found["hidden"]), frozenset(found["locked"]))


def check_flag(entry: dict[str, Any], flag: str, where: str) -> bool:
    """The value of an optional per-box flag (absent: False), or an error naming ``where``."""
    value = entry.get(flag, False)
    if not isinstance(value, bool):
        raise Beep3dError(f"{where}: {flag!r} must be true or false, got {shown(value)}")
    return value


def load_corrections(path: str | Path, notes: list[str] | None = None) -> Corrections:
    """The mask corrections stored in a box file (none for version 1 files and other tools' formats).

    The file's boxes are read with them: a correction about a box the file does not hold (a box
    deleted by a version that left its corrections behind) changes no mask, and is left out, with a
    sentence in ``notes`` saying so.

    Raises
    ------
    Beep3dError
        When the file's corrections are malformed (says which item and what is wrong), or a box is
        malformed.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        return Corrections()
    data = read_json(path)
    if not isinstance(data, dict) or "corrections" not in data:
        return Corrections()
    corrections = Corrections.from_dict(data["corrections"], f"{path}: corrections")
    if "boxes" in data:
        box_ids = boxes_from_dict(data, str(path)).ids.tolist()
        corrections, dropped = corrections.about_boxes(box_ids)
        if dropped and notes is not None:
            notes.append(
                f"{path}: {len(dropped)} mask correction(s) (items {', '.join(map(str, dropped))}) are about "
                "boxes the file does not hold; they change no mask and were left out"
            )
    return corrections


def load_boxes(path: str | Path, class_set: ClassSet | None = None, origin: Origin = NO_SHIFT) -> BoxSet:
    """Read a box file: the project's JSON, or any format of :mod:`beep3d.io.box_formats`.

    Parameters
    ----------
    path
        The box file (``.json``; ``.npy`` for detection box arrays).
    class_set
        Turns class ids into names for formats that store ids (box arrays); default: the 18
        ScanNet classes (NYU40 ids).
    origin
        The local origin of the scene the boxes are for (:attr:`beep3d.scene.Scene.origin`, metres):
        it is subtracted from the file's centres.

    Raises
    ------
    Beep3dError
        When the file is missing, is not JSON, is of no known box format, or a box is malformed;
        the message names the box.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        from beep3d.io.box_formats import BOX_ARRAYS

        boxes = BOX_ARRAYS.read(path, class_set)
    else:
        boxes = boxes_from_dict(read_json(path), source=str(path))
    return boxes.translated(-np.asarray(origin, dtype=np.float64))


def read_json(path: Path) -> Any:
    """The JSON content of a box file.

    Raises
    ------
    Beep3dError
        Missing file, a folder, not text, not JSON, or nested too deeply.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Beep3dError(f"{path}: box file not found; check the path") from None
    except IsADirectoryError:
        raise Beep3dError(f"{path}: is a folder, not a box file; give the .json file") from None
    except UnicodeDecodeError:
        raise Beep3dError(f"{path}: not a text file; box files are JSON") from None
    try:
        data = json.loads(text, parse_int=_json_integer)
    except json.JSONDecodeError as exc:
        raise Beep3dError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or re-save the file"
        ) from None
    except RecursionError:
        raise Beep3dError(
            f"{path}: the JSON is nested too deeply to be a box file; re-save the boxes"
        ) from None
    return data


def boxes_from_dict(data: Any, source: str = "box data") -> BoxSet:
    """Parse the project's box dict or another tool's (see :func:`load_boxes`)."""
    if not isinstance(data, dict) or "boxes" not in data:
        from beep3d.io.box_formats import json_format_of

        other = json_format_of(data)
        if other is not None:
            return other.from_data(data, source)
        raise Beep3dError(
            f"{source}: not a box file: expected an object with a 'boxes' list "
            '({"version": 2, "boxes": [...]}), or a labelCloud, SUSTechPOINTS or Supervisely box file'
        )
    version = data.get("version", BOX_FILE_VERSION)
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise Beep3dError(
            f"{source}: box file version {shown(version)} is not supported (this tool reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}); "
            "update beep3d-annotate or re-export the boxes"
        )
    if not isinstance(data["boxes"], list):
        raise Beep3dError(f"{source}: 'boxes' must be a list")
    boxes = []
    for position, entry in enumerate(data["boxes"]):
        where = f"{source}: box #{position}" + (
            f" (id {shown(entry.get('id'))})" if isinstance(entry, dict) and "id" in entry else ""
        )
        if not isinstance(entry, dict):
            raise Beep3dError(f"{where}: each box must be an object with id, label, center, size, yaw")
        missing = [k for k in ("label", "center", "size") if k not in entry]
        if missing:
            raise Beep3dError(f"{where}: missing {', '.join(missing)}")
        box_id = entry.get("id", position)
        if isinstance(box_id, bool) or not isinstance(box_id, int) or not 0 <= box_id <= MAX_BOX_ID:
            raise Beep3dError(
                f"{where}: id must be a non-negative integer up to {MAX_BOX_ID} (exports write 32-bit "
                f"instance ids), got {shown(box_id)}; renumber the box"
            )
        center = read_vector3(entry["center"], where, "center")
        size = read_vector3(entry["size"], where, "size")
        yaw = finite_number(entry.get("yaw", 0.0), where, "yaw")
        if any(s < 0 for s in size):
            raise Beep3dError(f"{where}: size {size} has a negative extent; sizes are full extents in metres")
        label = entry["label"]
        if not isinstance(label, str) or not label:
            raise Beep3dError(f"{where}: label must be a non-empty class name, got {shown(label)}")
        for flag in BOX_FLAGS:
            check_flag(entry, flag, where)
        boxes.append(make_box(where, box_id, label, center, size, yaw))
    check_unique_ids(boxes, source)
    return BoxSet(boxes)


def check_unique_ids(boxes: list[Box], source: str) -> None:
    """Refuse a list of boxes in which an id appears twice."""
    seen: set[int] = set()
    for box in boxes:
        if box.id in seen:
            raise Beep3dError(f"{source}: box id {box.id} appears twice; box ids must be unique")
        seen.add(box.id)


def read_vector3(value: Any, where: str, name: str) -> tuple[float, float, float]:
    """Three finite numbers from a JSON value, or an error naming ``where`` and ``name``."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise Beep3dError(f"{where}: {name} must be a list of 3 numbers, got {shown(value)}")
    x, y, z = (finite_number(v, where, f"{name}[{k}]") for k, v in enumerate(value))
    return (x, y, z)


def finite_number(value: Any, where: str, name: str) -> float:
    """A JSON number as a finite float, or an error naming ``where`` and ``name``.

    Refuses booleans, non-numbers, NaN and infinities, and integers too large for a float (JSON
    allows integer literals of any length; Python's ``float()`` overflows beyond about 309 digits).

    Raises
    ------
    Beep3dError
        ``value`` is not a finite number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Beep3dError(f"{where}: {name} must be a number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Beep3dError(
            f"{where}: {name} has a value that is not a finite number (NaN, infinite or too large): "
            f"{shown(value)}; box files are in metres and radians"
        )
    return number


def make_box(
    where: str,
    box_id: int,
    label: str,
    center: tuple[float, float, float],
    size: tuple[float, float, float],
    yaw: float,
) -> Box:
    """:class:`Box` ``(box_id, label, center, size, yaw)``; its own refusals (an id beyond 32 bits, a box
    beyond any scan) are prefixed with ``where`` (the file and the box)."""
    try:
        return Box(box_id, label, center, size, yaw)
    except Beep3dError as exc:
        raise Beep3dError(f"{where}: {exc}") from None


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages (a damaged file may hold a
    4000-digit number or a long list where a number belongs)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's limit for int -> str conversion
        text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _LongInteger(float):
    """A JSON integer literal with more digits than Python converts (``sys.get_int_max_str_digits()``,
    4300 by default): kept as an infinity, so the field it is in is refused by name, and shown by its
    length in messages."""

    digits: int

    def __new__(cls, text: str) -> _LongInteger:
        number = super().__new__(cls, "-inf" if text.startswith("-") else "inf")
        number.digits = len(text.lstrip("-"))
        return number

    def __repr__(self) -> str:
        return f"<an integer of {self.digits} digits>"


def _json_integer(text: str) -> int | float:
    """``json.loads``'s integer parser: ``int``, or :class:`_LongInteger` where ``int()`` refuses."""
    try:
        return int(text)
    except ValueError:
        return _LongInteger(text)
