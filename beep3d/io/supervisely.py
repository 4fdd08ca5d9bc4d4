"""Supervisely's point-cloud annotation (see :mod:`beep3d.io.box_formats`): ``objects`` (``key``,
``classTitle``) and ``figures``, one of ``geometryType`` ``cuboid_3d`` per box (``position``,
``rotation`` in radians, ``dimensions``). Figures of other kinds hold no box and are skipped.
"""

from __future__ import annotations

from typing import Any

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.io.box_files import make_box, shown
from beep3d.io.box_format_base import (
    JsonBoxFormat,
    box_set_of,
    class_label,
    json_list,
    malformed_fields,
    refuse_tilt,
    rounded,
    xyz_field,
)

__all__ = ["Supervisely"]


def _key(value: Any, where: str, name: str) -> str | int:
    """A Supervisely ``key`` / ``objectKey``: a string (Supervisely writes 32 hex digits) or an integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Beep3dError(
            f"{where}: {name} must be a string (Supervisely writes 32 hex digits), got {shown(value)}"
        )
    return value


class Supervisely(JsonBoxFormat):
    """Supervisely's point-cloud annotation: objects, and one ``cuboid_3d`` figure per box."""

    name = "supervisely"
    title = "Supervisely point cloud"

    def matches(self, data: Any) -> bool:
        return isinstance(data, dict) and isinstance(data.get("figures"), list) and "objects" in data

    @staticmethod
    def _classes(data: Any, source: str) -> dict[Any, str]:
        """Object key -> class name, from the file's ``objects``."""
        classes: dict[Any, str] = {}
        for position, obj in enumerate(json_list(data, "objects", source, "Supervisely")):
            where = f"{source}: Supervisely object #{position}"
            if not isinstance(obj, dict) or "key" not in obj:
                raise Beep3dError(f"{where} has no 'key'")
            classes[_key(obj["key"], where, "key")] = class_label(obj.get("classTitle"), where)
        return classes

    def from_data(self, data: Any, source: str) -> BoxSet:
        classes = self._classes(data, source)
        boxes = []
        for position, figure in enumerate(json_list(data, "figures", source, "Supervisely")):
            where = f"{source}: Supervisely figure #{position}"
            if not isinstance(figure, dict) or figure.get("geometryType") != "cuboid_3d":
                continue  # other figure kinds (point cloud segmentation) hold no box
            object_key = _key(figure.get("objectKey"), where, "objectKey")
            if object_key not in classes:
                raise Beep3dError(f"{where}: its objectKey {shown(object_key)} names no object")
            with malformed_fields(where, "geometry{position, rotation, dimensions}"):
                geometry = figure["geometry"]
                center = xyz_field(geometry["position"], where, "position")
                size = xyz_field(geometry["dimensions"], where, "dimensions")
                rx, ry, rz = xyz_field(geometry.get("rotation", {"x": 0, "y": 0, "z": 0}), where, "rotation")
            refuse_tilt(where, rx, ry, "radians")
            boxes.append(make_box(where, len(boxes), classes[object_key], center, size, rz))
        return box_set_of(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        objects = [{"key": f"{b.id:032x}", "classTitle": b.label, "tags": []} for b in boxes]
        figures = [
            {
                "key": f"{b.id + 2**64:032x}",
                "objectKey": f"{b.id:032x}",
                "geometryType": "cuboid_3d",
                "geometry": {
                    "position": dict(zip("xyz", rounded(b.center), strict=True)),
                    "rotation": {"x": 0, "y": 0, "z": round(b.yaw, 8)},
                    "dimensions": dict(zip("xyz", rounded(b.size), strict=True)),
                },
            }
            for b in boxes
        ]
        return {
            "description": scene_name or "",
            "key": "",
            "tags": [],
            "objects": objects,
            "figures": figures,
        }
