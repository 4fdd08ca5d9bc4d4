"""What every box format of :mod:`beep3d.io.box_formats` shares: the :class:`BoxFormat` protocol, the
base of the JSON formats, and the checks their readers make on each field (naming the file and the
box in every error).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from beep3d.classes import SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.atomic import write_json_atomic
from beep3d.io.box_files import check_unique_ids, finite_number, read_json, shown

__all__ = [
    "TILT_TOLERANCE",
    "BoxFormat",
    "JsonBoxFormat",
    "box_set_of",
    "class_label",
    "json_list",
    "malformed_fields",
    "refuse_tilt",
    "rounded",
    "xyz_field",
]

#: Rotations about x or y (radians) below this are taken as none: labelling tools write 1e-9 noise.
TILT_TOLERANCE = 1e-6


class BoxFormat(Protocol):
    """One box file format.

    Attributes
    ----------
    name
        Short name (command line, export folder).
    title
        What the window's "Save boxes as" lists.
    suffix
        The file suffix, with the dot.
    """

    name: str
    title: str
    suffix: str

    def read(self, path: Path, class_set: ClassSet | None = None) -> BoxSet:
        """Read a file of this format; raises :class:`Beep3dError` naming the problem."""
        ...

    def write(
        self, path: Path, boxes: BoxSet, scene_name: str | None = None, class_set: ClassSet | None = None
    ) -> list[str]:
        """Write ``boxes`` atomically; returns notes on what the format could not hold."""
        ...


def xyz_field(
    value: Any, where: str, name: str, keys: tuple[str, str, str] = ("x", "y", "z")
) -> tuple[float, ...]:
    """The three finite numbers of a JSON object ``{x, y, z}`` (or the given ``keys``).

    Parameters
    ----------
    value
        The parsed JSON value of the field.
    where
        The file and box, for messages.
    name
        The field's name, for messages.
    keys
        The object's three keys, in the order returned.

    Returns
    -------
    tuple[float, ...]
        (3,) the values of ``keys``, as floats (metres, or radians / degrees for a rotation).

    Raises
    ------
    Beep3dError
        Not an object with those keys, or a value that is not a finite number.
    """
    if not isinstance(value, dict) or not all(k in value for k in keys):
        raise Beep3dError(f"{where}: {name} must be an object with {', '.join(keys)}, got {shown(value)}")
    return tuple(finite_number(value[k], where, f"{name}.{k}") for k in keys)


@contextmanager
def malformed_fields(where: str, expected: str) -> Iterator[None]:
    """Turn a missing key or a value of the wrong type met inside the block into one error.

    Parameters
    ----------
    where
        The file and box, for the message.
    expected
        The fields the format expects, as the message lists them.

    Raises
    ------
    Beep3dError
        Naming ``where``, the missing or malformed field and ``expected``.
    """
    try:
        yield
    except (KeyError, TypeError, AttributeError) as exc:
        raise Beep3dError(f"{where}: missing or malformed field ({exc}); expected {expected}") from None


def refuse_tilt(where: str, rx: float, ry: float, unit: str) -> None:
    """Refuse a box turned about x or y (``rx``, ``ry`` in ``unit``) beyond :data:`TILT_TOLERANCE`."""
    if abs(rx) > TILT_TOLERANCE or abs(ry) > TILT_TOLERANCE:
        raise Beep3dError(
            f"{where}: rotated about x or y ({rx:g}, {ry:g} {unit}); this tool handles gravity-aligned boxes "
            "(yaw about z only). Level the box in the tool that made it and export again."
        )


def json_list(data: Any, key: str, source: str, what: str) -> list[Any]:
    """The list under ``key`` of parsed JSON ``data``; raises naming ``source`` and the tool ``what``."""
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise Beep3dError(f"{source}: {what} {key!r} must be a list")
    return items


def box_set_of(boxes: list[Box], source: str) -> BoxSet:
    """The boxes read from ``source``, once their ids are checked to be unique."""
    check_unique_ids(boxes, source)
    return BoxSet(boxes)


def class_label(value: Any, where: str) -> str:
    """A box's class name: a non-empty string, or an error naming ``where``."""
    if not isinstance(value, str) or not value:
        raise Beep3dError(f"{where}: the class name must be a non-empty string, got {shown(value)}")
    return value


def rounded(values: Any) -> list[float]:
    """``values`` as floats rounded to 6 decimals (1 um for metres), for writing."""
    return [round(float(v), 6) for v in values]


class JsonBoxFormat:
    """A JSON box format: recognised by its content, read from and written as a dict."""

    name = ""
    title = ""
    suffix = ".json"

    def matches(self, data: Any) -> bool:
        """True when ``data`` (parsed JSON) is a file of this format."""
        raise NotImplementedError

    def from_data(self, data: Any, source: str) -> BoxSet:
        """The boxes of parsed JSON ``data`` read from ``source``."""
        raise NotImplementedError

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        """The JSON content that holds ``boxes``."""
        raise NotImplementedError

    def read(self, path: Path, class_set: ClassSet | None = None) -> BoxSet:
        """Read a file of this format; raises :class:`Beep3dError` when it is in another one."""
        data = read_json(Path(path))
        if not self.matches(data):
            raise Beep3dError(f"{path}: not a {self.title} box file; choose the format the file was saved in")
        return self.from_data(data, str(path))

    def write(
        self, path: Path, boxes: BoxSet, scene_name: str | None = None, class_set: ClassSet | None = None
    ) -> list[str]:
        """Write ``boxes`` atomically; a JSON format holds every box (no notes)."""
        write_json_atomic(path, self.to_data(boxes, scene_name, class_set or SCANNET18))
        return []
