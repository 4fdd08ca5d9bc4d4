"""labelCloud's two box files (see :mod:`beep3d.io.box_formats`): the centroid format (centre,
dimensions, rotations in degrees) and the vertices format (the 8 corners of each box).

Both hold ``{"objects": [...]}`` beside a header naming the point cloud; neither stores box ids, so
boxes are numbered in file order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import make_box, read_vector3
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

__all__ = ["LabelCloudCentroid", "LabelCloudVertices", "box_from_vertices", "box_vertices"]

#: Local corner signs of labelCloud's vertex order: bottom face 0-3 (0->1 width, 0->3 length), 4-7 above.
_LABELCLOUD_CORNERS = np.array(
    [[-1, -1, -1], [-1, 1, -1], [1, 1, -1], [1, -1, -1], [-1, -1, 1], [-1, 1, 1], [1, 1, 1], [1, -1, 1]],
    dtype=np.float64,
)


def box_vertices(box: Box) -> np.ndarray:
    """(8, 3) corners of ``box`` in labelCloud's vertex order, metres."""
    local = _LABELCLOUD_CORNERS * (np.asarray(box.size) / 2)
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return local @ rotation.T + np.asarray(box.center)


def box_from_vertices(vertices: np.ndarray, box_id: int, label: str, where: str) -> Box:
    """The gravity-aligned box whose 8 corners (labelCloud's order) are ``vertices``.

    The yaw is read from the longer of the two horizontal sides, so a box with a zero length or
    width (a flat panel: a picture, a whiteboard; :func:`box_vertices` writes it with corners that
    coincide) reads back as written. When both are zero every yaw gives the same corners: yaw 0.

    Raises
    ------
    Beep3dError
        The corners do not form a box standing upright (within 1 mm).
    """
    length_axis = vertices[3] - vertices[0]
    width_axis = vertices[1] - vertices[0]
    height_axis = vertices[4] - vertices[0]
    size = (
        float(np.linalg.norm(length_axis)),
        float(np.linalg.norm(width_axis)),
        float(np.linalg.norm(height_axis)),
    )
    if size[0] >= size[1]:  # the length axis is the box's own +x turned by the yaw
        yaw = math.atan2(length_axis[1], length_axis[0])
    else:  # the width axis is its +y: (-sin yaw, cos yaw) times the width
        yaw = math.atan2(-width_axis[0], width_axis[1])
    box = make_box(where, box_id, label, tuple(vertices.mean(axis=0)), size, yaw)
    if (
        abs(length_axis[2]) > 1e-3
        or abs(width_axis[2]) > 1e-3
        or np.abs(box_vertices(box) - vertices).max() > 1e-3
    ):
        raise Beep3dError(
            f"{where}: the 8 vertices do not form an upright box in labelCloud's corner order (bottom face "
            "0-3, top 4-7 above them); this tool handles gravity-aligned boxes - level the box and export again"
        )
    return box


def _objects_of(data: Any) -> list[Any] | None:
    """The ``objects`` list of parsed JSON ``data``, or None when it has none."""
    objects = data.get("objects") if isinstance(data, dict) else None
    return objects if isinstance(objects, list) else None


def _holds_vertices(objects: list[Any]) -> bool:
    """Whether labelCloud ``objects`` are in the vertices format (its first object has ``vertices``)."""
    return bool(objects) and isinstance(objects[0], dict) and "vertices" in objects[0]


class _LabelCloudFormat(JsonBoxFormat):
    """What both labelCloud formats share: the objects list, read in order, and the file's header."""

    def box_of(self, obj: Any, position: int, where: str) -> Box:
        """The box of labelCloud object ``obj``, the ``position``-th of the file (its id)."""
        raise NotImplementedError

    def object_of(self, box: Box) -> dict[str, Any]:
        """The labelCloud object that holds ``box``."""
        raise NotImplementedError

    def from_data(self, data: Any, source: str) -> BoxSet:
        boxes = [
            self.box_of(obj, position, f"{source}: labelCloud object #{position}")
            for position, obj in enumerate(json_list(data, "objects", source, "labelCloud"))
        ]
        return box_set_of(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        name = scene_name or "scene"
        header = {"folder": "pointclouds", "filename": f"{name}.ply", "path": f"pointclouds/{name}.ply"}
        return {**header, "objects": [self.object_of(b) for b in boxes]}


class LabelCloudCentroid(_LabelCloudFormat):
    """labelCloud's centroid format (rotations in degrees)."""

    name = "labelcloud-centroid"
    title = "labelCloud (centroid)"

    def matches(self, data: Any) -> bool:
        objects = _objects_of(data)
        return objects is not None and "figures" not in data and not _holds_vertices(objects)

    def box_of(self, obj: Any, position: int, where: str) -> Box:
        expected = "name, centroid{x,y,z}, dimensions{length,width,height}, rotations{x,y,z}"
        with malformed_fields(where, expected):
            label = obj["name"]
            center = xyz_field(obj["centroid"], where, "centroid")
            size = xyz_field(obj["dimensions"], where, "dimensions", ("length", "width", "height"))
            rx, ry, rz = xyz_field(obj.get("rotations", {"x": 0, "y": 0, "z": 0}), where, "rotations")
        refuse_tilt(where, rx, ry, "degrees")
        return make_box(where, position, class_label(label, where), center, size, math.radians(rz))

    def object_of(self, box: Box) -> dict[str, Any]:
        return {
            "name": box.label,
            "centroid": dict(zip("xyz", rounded(box.center), strict=True)),
            "dimensions": dict(zip(("length", "width", "height"), rounded(box.size), strict=True)),
            "rotations": {"x": 0, "y": 0, "z": round(math.degrees(box.yaw), 6)},
        }


class LabelCloudVertices(_LabelCloudFormat):
    """labelCloud's vertices format: the 8 corners of each box."""

    name = "labelcloud-vertices"
    title = "labelCloud (vertices)"

    def matches(self, data: Any) -> bool:
        objects = _objects_of(data)
        return objects is not None and _holds_vertices(objects)

    def box_of(self, obj: Any, position: int, where: str) -> Box:
        vertices = obj.get("vertices") if isinstance(obj, dict) else None
        if not isinstance(vertices, list) or len(vertices) != 8:
            raise Beep3dError(f"{where}: 'vertices' must be a list of 8 corners [x, y, z]")
        corners = np.array([read_vector3(v, where, f"vertex {k}") for k, v in enumerate(vertices)])
        return box_from_vertices(corners, position, class_label(obj.get("name"), where), where)

    def object_of(self, box: Box) -> dict[str, Any]:
        return {"name": box.label, "vertices": [rounded(v) for v in box_vertices(box)]}
