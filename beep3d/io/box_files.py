"""Box files: the project's JSON format (read and written) and labelCloud's centroid JSON (read).

The project's format, version 1::

    {"version": 1,
     "boxes": [{"id": 3, "label": "chair", "center": [x, y, z], "size": [dx, dy, dz], "yaw": 0.0}]}

``center`` and ``size`` are metres (``size`` = full extents along the box's own axes), ``yaw`` is radians
about +z. More keys are allowed and ignored on reading (for example ``scene``, ``class_set``, per-box
``color`` or ``note``). labelCloud's format (``{"objects": [{"name", "centroid", "dimensions",
"rotations"}]}``, rotations in degrees) is read too; its x/y rotations must be 0 (gravity-aligned boxes).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.atomic import write_json_atomic

BOX_FILE_VERSION = 1


def boxes_to_dict(boxes: BoxSet, scene_name: str | None = None) -> dict[str, Any]:
    """The JSON-ready dict of the project's box format."""
    data: dict[str, Any] = {"version": BOX_FILE_VERSION}
    if scene_name is not None:
        data["scene"] = scene_name
    data["boxes"] = [
        {
            "id": b.id,
            "label": b.label,
            "center": [round(v, 6) for v in b.center],
            "size": [round(v, 6) for v in b.size],
            "yaw": round(b.yaw, 8),
        }
        for b in boxes
    ]
    return data


def save_boxes(path: str | Path, boxes: BoxSet, scene_name: str | None = None) -> None:
    """Write ``boxes`` to ``path`` in the project's JSON format, atomically."""
    write_json_atomic(path, boxes_to_dict(boxes, scene_name))


def load_boxes(path: str | Path) -> BoxSet:
    """Read a box file: the project's JSON or labelCloud's centroid JSON.

    Raises
    ------
    Beep3dError
        When the file is missing, is not JSON, or a box is malformed; the message names the box.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Beep3dError(f"{path}: box file not found; check the path") from None
    except IsADirectoryError:
        raise Beep3dError(f"{path}: is a folder, not a box file; give the .json file") from None
    except UnicodeDecodeError:
        raise Beep3dError(f"{path}: not a text file; box files are JSON") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Beep3dError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or re-save the file"
        ) from None
    except RecursionError:
        raise Beep3dError(
            f"{path}: the JSON is nested too deeply to be a box file; re-save the boxes"
        ) from None
    return boxes_from_dict(data, source=str(path))


def boxes_from_dict(data: Any, source: str = "box data") -> BoxSet:
    """Parse the project's box dict or labelCloud's; see :func:`load_boxes`."""
    if isinstance(data, dict) and "objects" in data and "boxes" not in data:
        return _from_labelcloud(data, source)
    if not isinstance(data, dict) or "boxes" not in data:
        raise Beep3dError(
            f"{source}: not a box file: expected an object with a 'boxes' list "
            '({"version": 1, "boxes": [...]}) or labelCloud\'s {"objects": [...]}'
        )
    version = data.get("version", BOX_FILE_VERSION)
    if version != BOX_FILE_VERSION:
        raise Beep3dError(
            f"{source}: box file version {version!r} is not supported (this tool reads version {BOX_FILE_VERSION}); "
            "update beep3d-annotate or re-export the boxes"
        )
    if not isinstance(data["boxes"], list):
        raise Beep3dError(f"{source}: 'boxes' must be a list")
    boxes = []
    for position, entry in enumerate(data["boxes"]):
        where = f"{source}: box #{position}" + (f" (id {entry.get('id')})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict):
            raise Beep3dError(f"{where}: each box must be an object with id, label, center, size, yaw")
        missing = [k for k in ("label", "center", "size") if k not in entry]
        if missing:
            raise Beep3dError(f"{where}: missing {', '.join(missing)}")
        box_id = entry.get("id", position)
        if isinstance(box_id, bool) or not isinstance(box_id, int) or box_id < 0:
            raise Beep3dError(f"{where}: id must be a non-negative integer, got {box_id!r}")
        center = _vector3(entry["center"], where, "center")
        size = _vector3(entry["size"], where, "size")
        yaw = entry.get("yaw", 0.0)
        if isinstance(yaw, bool) or not isinstance(yaw, int | float) or not math.isfinite(yaw):
            raise Beep3dError(f"{where}: yaw must be a finite number of radians, got {yaw!r}")
        if any(s < 0 for s in size):
            raise Beep3dError(f"{where}: size {size} has a negative extent; sizes are full extents in metres")
        label = entry["label"]
        if not isinstance(label, str) or not label:
            raise Beep3dError(f"{where}: label must be a non-empty class name, got {label!r}")
        boxes.append(Box(box_id, label, center, size, float(yaw)))
    _check_unique_ids(boxes, source)
    return BoxSet(boxes)


def _check_unique_ids(boxes: list[Box], source: str) -> None:
    seen: set[int] = set()
    for box in boxes:
        if box.id in seen:
            raise Beep3dError(f"{source}: box id {box.id} appears twice; box ids must be unique")
        seen.add(box.id)


def _vector3(value: Any, where: str, name: str) -> tuple[float, float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise Beep3dError(f"{where}: {name} must be a list of 3 numbers, got {value!r}")
    if not all(math.isfinite(v) for v in value):
        raise Beep3dError(f"{where}: {name} has a non-finite value {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _from_labelcloud(data: dict[str, Any], source: str) -> BoxSet:
    objects = data["objects"]
    if not isinstance(objects, list):
        raise Beep3dError(f"{source}: labelCloud 'objects' must be a list")
    boxes = []
    for position, obj in enumerate(objects):
        where = f"{source}: labelCloud object #{position}"
        try:
            c, d, r = obj["centroid"], obj["dimensions"], obj.get("rotations", {"x": 0, "y": 0, "z": 0})
            center = _vector3([c["x"], c["y"], c["z"]], where, "centroid")
            size = _vector3([d["length"], d["width"], d["height"]], where, "dimensions")
            rx, ry, rz = float(r["x"]), float(r["y"]), float(r["z"])
            label = str(obj["name"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Beep3dError(
                f"{where}: missing or malformed field ({exc}); expected name, centroid{{x,y,z}}, "
                "dimensions{length,width,height}, rotations{x,y,z}"
            ) from None
        if abs(rx) > 1e-6 or abs(ry) > 1e-6:
            raise Beep3dError(
                f"{where}: rotated about x or y ({rx}, {ry} degrees); this tool handles gravity-aligned boxes "
                "(yaw about z only). Level the box in labelCloud and export again."
            )
        boxes.append(Box(position, label, center, size, math.radians(rz)))
    return BoxSet(boxes)
