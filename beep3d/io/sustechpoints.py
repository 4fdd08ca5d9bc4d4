"""SUSTechPOINTS' per-frame label file (see :mod:`beep3d.io.box_formats`): ``[{"obj_id", "obj_type",
"psr": {"position", "rotation", "scale"}}]`` (or ``{"objs": [...]}``), rotations in radians, ``scale``
the full size. Numeric ``obj_id`` values are kept as box ids when every object has a distinct one.
"""

from __future__ import annotations

from typing import Any

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import MAX_BOX_ID, Box, BoxSet
from beep3d.io.box_files import make_box, shown
from beep3d.io.box_format_base import (
    JsonBoxFormat,
    box_set_of,
    class_label,
    malformed_fields,
    refuse_tilt,
    rounded,
    xyz_field,
)

__all__ = ["SustechPoints"]


def _numeric_id(value: Any) -> int | None:
    """A SUSTechPOINTS ``obj_id`` as a box id: a non-negative JSON integer or a string of ASCII digits
    (``str.isdigit`` also accepts digits such as "²" that ``int`` refuses); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value) if len(value) <= 18 else MAX_BOX_ID + 1  # longer ones are beyond any id
    return None


class SustechPoints(JsonBoxFormat):
    """SUSTechPOINTS' per-frame label file."""

    name = "sustechpoints"
    title = "SUSTechPOINTS"

    @staticmethod
    def _items(data: Any) -> Any:
        return data.get("objs") if isinstance(data, dict) else data

    def matches(self, data: Any) -> bool:
        items = self._items(data)
        return isinstance(items, list) and (not items or (isinstance(items[0], dict) and "psr" in items[0]))

    def from_data(self, data: Any, source: str) -> BoxSet:
        items = self._items(data)
        raw_ids = [item.get("obj_id") if isinstance(item, dict) else None for item in items]
        ids = [_numeric_id(raw) for raw in raw_ids]
        numeric = None not in ids and len(set(ids)) == len(ids)
        boxes = []
        for position, item in enumerate(items):
            where = f"{source}: SUSTechPOINTS object #{position}"
            box_id = ids[position] if numeric else position
            boxes.append(self._box(item, box_id, raw_ids[position], where))
        return box_set_of(boxes, source)

    @staticmethod
    def _box(item: Any, box_id: int, raw_id: Any, where: str) -> Box:
        """The box of one object ``item``, numbered ``box_id`` (its ``obj_id``, ``raw_id``, or its position)."""
        with malformed_fields(where, "obj_type and psr{position, rotation, scale}"):
            psr = item["psr"]
            center = xyz_field(psr["position"], where, "position")
            size = xyz_field(psr["scale"], where, "scale")
            rx, ry, rz = xyz_field(psr.get("rotation", {"x": 0, "y": 0, "z": 0}), where, "rotation")
            label = class_label(item.get("obj_type"), where)
        refuse_tilt(where, rx, ry, "radians")
        if box_id > MAX_BOX_ID:
            raise Beep3dError(
                f"{where}: obj_id {shown(raw_id)} is beyond {MAX_BOX_ID} (exports write "
                "32-bit instance ids); renumber the object"
            )
        return make_box(where, box_id, label, center, size, rz)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        return [
            {
                "obj_id": str(b.id),
                "obj_type": b.label,
                "psr": {
                    "position": dict(zip("xyz", rounded(b.center), strict=True)),
                    "rotation": {"x": 0, "y": 0, "z": round(b.yaw, 8)},
                    "scale": dict(zip("xyz", rounded(b.size), strict=True)),
                },
            }
            for b in boxes
        ]
