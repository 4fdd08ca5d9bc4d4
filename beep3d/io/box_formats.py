"""Other tools' box files, read and written: one small class per format.

==========================  ============  ===========================================================
format (``name``)           file          content
==========================  ============  ===========================================================
``beep3d``                  ``.json``     the project's own format (:mod:`beep3d.io.box_files`)
``labelcloud-centroid``     ``.json``     labelCloud: ``{"objects": [{"name", "centroid": {x, y, z},
                                          "dimensions": {length, width, height}, "rotations":
                                          {x, y, z}}]}``, rotations in degrees
``labelcloud-vertices``     ``.json``     labelCloud: ``{"objects": [{"name", "vertices": 8 x [x, y,
                                          z]}]}``; corners 0-3 the bottom face in order, 4-7 above
                                          them, length along 0->3, width along 0->1
``sustechpoints``           ``.json``     SUSTechPOINTS: ``[{"obj_id", "obj_type", "psr": {"position",
                                          "rotation", "scale"}}]`` (or ``{"objs": [...]}``), radians,
                                          ``scale`` the full size
``supervisely``             ``.json``     Supervisely point-cloud annotation: ``objects`` (key,
                                          ``classTitle``) and ``figures`` of ``geometryType``
                                          ``cuboid_3d`` (``position``, ``rotation`` in radians,
                                          ``dimensions``)
``box-arrays``              ``.npy``      detection code's axis-aligned boxes (votenet's
                                          ``*_bbox.npy``, mmdetection3d's ``*_aligned_bbox.npy``):
                                          float (K, 7) rows ``cx cy cz dx dy dz class_id``, class ids
                                          in the class set's ids (NYU40 for ScanNet); (K, 8) rows with
                                          a yaw before the class are read too
==========================  ============  ===========================================================

Boxes here are gravity-aligned: a box turned about x or y is refused on reading. Box ids are kept
where a format stores them (labelCloud and the arrays do not: boxes are numbered in file order).
Writing never loses a box silently: what a format cannot hold (a yaw in axis-aligned arrays, a class
missing from the class set) is returned as notes.
"""

from __future__ import annotations

import io
import math
import tokenize
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.corrections import Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import MAX_BOX_ID, Box, BoxSet
from beep3d.io.atomic import write_bytes_atomic, write_json_atomic
from beep3d.io.box_files import (
    boxes_from_dict,
    boxes_to_dict,
    check_unique_ids,
    finite_number,
    make_box,
    read_json,
    read_vector3,
    save_boxes,
    shown,
)
from beep3d.io.local_origin import NO_SHIFT, Origin, refuse_lost_precision

__all__ = [
    "BOX_ARRAYS",
    "BOX_FORMATS",
    "BoxFormat",
    "box_format",
    "format_of_file",
    "json_format_of",
    "save_boxes_as",
]

#: Rotations about x or y (radians) below this are taken as none: labelling tools write 1e-9 noise.
_TILT_TOLERANCE = 1e-6


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


def _xyz(
    value: Any, where: str, name: str, keys: tuple[str, str, str] = ("x", "y", "z")
) -> tuple[float, ...]:
    if not isinstance(value, dict) or not all(k in value for k in keys):
        raise Beep3dError(f"{where}: {name} must be an object with {', '.join(keys)}, got {shown(value)}")
    return tuple(finite_number(value[k], where, f"{name}.{k}") for k in keys)


def _level(where: str, rx: float, ry: float, unit: str) -> None:
    if abs(rx) > _TILT_TOLERANCE or abs(ry) > _TILT_TOLERANCE:
        raise Beep3dError(
            f"{where}: rotated about x or y ({rx:g}, {ry:g} {unit}); this tool handles gravity-aligned boxes "
            "(yaw about z only). Level the box in the tool that made it and export again."
        )


def _objects(data: Any, key: str, source: str, what: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise Beep3dError(f"{source}: {what} {key!r} must be a list")
    return items


def _finish(boxes: list[Box], source: str) -> BoxSet:
    check_unique_ids(boxes, source)
    return BoxSet(boxes)


class _JsonFormat:
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
        data = read_json(Path(path))
        if not self.matches(data):
            raise Beep3dError(f"{path}: not a {self.title} box file; choose the format the file was saved in")
        return self.from_data(data, str(path))

    def write(
        self, path: Path, boxes: BoxSet, scene_name: str | None = None, class_set: ClassSet | None = None
    ) -> list[str]:
        write_json_atomic(path, self.to_data(boxes, scene_name, class_set or SCANNET18))
        return []


class ProjectJson(_JsonFormat):
    """The project's own format (see :mod:`beep3d.io.box_files`)."""

    name = "beep3d"
    title = "BEEP3D boxes"

    def matches(self, data: Any) -> bool:
        return isinstance(data, dict) and "boxes" in data

    def from_data(self, data: Any, source: str) -> BoxSet:
        return boxes_from_dict(data, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        return boxes_to_dict(boxes, scene_name)


def _labelcloud_header(scene_name: str | None) -> dict[str, Any]:
    name = scene_name or "scene"
    return {"folder": "pointclouds", "filename": f"{name}.ply", "path": f"pointclouds/{name}.ply"}


class LabelCloudCentroid(_JsonFormat):
    """labelCloud's centroid format (rotations in degrees)."""

    name = "labelcloud-centroid"
    title = "labelCloud (centroid)"

    def matches(self, data: Any) -> bool:
        objects = data.get("objects") if isinstance(data, dict) else None
        return (
            isinstance(objects, list)
            and "figures" not in data
            and not (objects and isinstance(objects[0], dict) and "vertices" in objects[0])
        )

    def from_data(self, data: Any, source: str) -> BoxSet:
        boxes = []
        for position, obj in enumerate(_objects(data, "objects", source, "labelCloud")):
            where = f"{source}: labelCloud object #{position}"
            try:
                label = obj["name"]
                center = _xyz(obj["centroid"], where, "centroid")
                size = _xyz(obj["dimensions"], where, "dimensions", ("length", "width", "height"))
                rx, ry, rz = _xyz(obj.get("rotations", {"x": 0, "y": 0, "z": 0}), where, "rotations")
            except (KeyError, TypeError, AttributeError) as exc:
                raise Beep3dError(
                    f"{where}: missing or malformed field ({exc}); expected name, centroid{{x,y,z}}, "
                    "dimensions{length,width,height}, rotations{x,y,z}"
                ) from None
            _level(where, rx, ry, "degrees")
            boxes.append(make_box(where, position, _label(label, where), center, size, math.radians(rz)))
        return _finish(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        objects = [
            {
                "name": b.label,
                "centroid": dict(zip("xyz", _rounded(b.center), strict=True)),
                "dimensions": dict(zip(("length", "width", "height"), _rounded(b.size), strict=True)),
                "rotations": {"x": 0, "y": 0, "z": round(math.degrees(b.yaw), 6)},
            }
            for b in boxes
        ]
        return {**_labelcloud_header(scene_name), "objects": objects}


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


class LabelCloudVertices(_JsonFormat):
    """labelCloud's vertices format: the 8 corners of each box."""

    name = "labelcloud-vertices"
    title = "labelCloud (vertices)"

    def matches(self, data: Any) -> bool:
        objects = data.get("objects") if isinstance(data, dict) else None
        return (
            isinstance(objects, list)
            and bool(objects)
            and isinstance(objects[0], dict)
            and "vertices" in objects[0]
        )

    def from_data(self, data: Any, source: str) -> BoxSet:
        boxes = []
        for position, obj in enumerate(_objects(data, "objects", source, "labelCloud")):
            where = f"{source}: labelCloud object #{position}"
            vertices = obj.get("vertices") if isinstance(obj, dict) else None
            if not isinstance(vertices, list) or len(vertices) != 8:
                raise Beep3dError(f"{where}: 'vertices' must be a list of 8 corners [x, y, z]")
            corners = np.array([read_vector3(v, where, f"vertex {k}") for k, v in enumerate(vertices)])
            boxes.append(box_from_vertices(corners, position, _label(obj.get("name"), where), where))
        return _finish(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        objects = [{"name": b.label, "vertices": [_rounded(v) for v in box_vertices(b)]} for b in boxes]
        return {**_labelcloud_header(scene_name), "objects": objects}


class SustechPoints(_JsonFormat):
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
        boxes = []
        items = self._items(data)
        raw_ids = [item.get("obj_id") if isinstance(item, dict) else None for item in items]
        ids = [_numeric_id(raw) for raw in raw_ids]
        numeric = None not in ids and len(set(ids)) == len(ids)
        for position, item in enumerate(items):
            where = f"{source}: SUSTechPOINTS object #{position}"
            try:
                psr = item["psr"]
                center = _xyz(psr["position"], where, "position")
                size = _xyz(psr["scale"], where, "scale")
                rx, ry, rz = _xyz(psr.get("rotation", {"x": 0, "y": 0, "z": 0}), where, "rotation")
                label = _label(item.get("obj_type"), where)
            except (KeyError, TypeError, AttributeError) as exc:
                raise Beep3dError(
                    f"{where}: missing or malformed field ({exc}); expected obj_type and "
                    "psr{position, rotation, scale}"
                ) from None
            _level(where, rx, ry, "radians")
            box_id = ids[position] if numeric else position
            if box_id > MAX_BOX_ID:
                raise Beep3dError(
                    f"{where}: obj_id {shown(raw_ids[position])} is beyond {MAX_BOX_ID} (exports write "
                    "32-bit instance ids); renumber the object"
                )
            boxes.append(make_box(where, box_id, label, center, size, rz))
        return _finish(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        return [
            {
                "obj_id": str(b.id),
                "obj_type": b.label,
                "psr": {
                    "position": dict(zip("xyz", _rounded(b.center), strict=True)),
                    "rotation": {"x": 0, "y": 0, "z": round(b.yaw, 8)},
                    "scale": dict(zip("xyz", _rounded(b.size), strict=True)),
                },
            }
            for b in boxes
        ]


class Supervisely(_JsonFormat):
    """Supervisely's point-cloud annotation: objects, and one ``cuboid_3d`` figure per box."""

    name = "supervisely"
    title = "Supervisely point cloud"

    def matches(self, data: Any) -> bool:
        return isinstance(data, dict) and isinstance(data.get("figures"), list) and "objects" in data

    def from_data(self, data: Any, source: str) -> BoxSet:
        classes: dict[Any, str] = {}
        for position, obj in enumerate(_objects(data, "objects", source, "Supervisely")):
            where = f"{source}: Supervisely object #{position}"
            if not isinstance(obj, dict) or "key" not in obj:
                raise Beep3dError(f"{where} has no 'key'")
            classes[_key(obj["key"], where, "key")] = _label(obj.get("classTitle"), where)
        boxes = []
        for position, figure in enumerate(_objects(data, "figures", source, "Supervisely")):
            where = f"{source}: Supervisely figure #{position}"
            if not isinstance(figure, dict) or figure.get("geometryType") != "cuboid_3d":
                continue  # other figure kinds (point cloud segmentation) hold no box
            object_key = _key(figure.get("objectKey"), where, "objectKey")
            if object_key not in classes:
                raise Beep3dError(f"{where}: its objectKey {shown(object_key)} names no object")
            try:
                geometry = figure["geometry"]
                center = _xyz(geometry["position"], where, "position")
                size = _xyz(geometry["dimensions"], where, "dimensions")
                rx, ry, rz = _xyz(geometry.get("rotation", {"x": 0, "y": 0, "z": 0}), where, "rotation")
            except (KeyError, TypeError, AttributeError) as exc:
                raise Beep3dError(
                    f"{where}: missing or malformed field ({exc}); expected geometry{{position, rotation, dimensions}}"
                ) from None
            _level(where, rx, ry, "radians")
            boxes.append(make_box(where, len(boxes), classes[object_key], center, size, rz))
        return _finish(boxes, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        objects = [{"key": f"{b.id:032x}", "classTitle": b.label, "tags": []} for b in boxes]
        figures = [
            {
                "key": f"{b.id + 2**64:032x}",
                "objectKey": f"{b.id:032x}",
                "geometryType": "cuboid_3d",
                "geometry": {
                    "position": dict(zip("xyz", _rounded(b.center), strict=True)),
                    "rotation": {"x": 0, "y": 0, "z": round(b.yaw, 8)},
                    "dimensions": dict(zip("xyz", _rounded(b.size), strict=True)),
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


class BoxArrays:
    """Detection code's axis-aligned boxes as a float ``.npy`` array (see the module docstring)."""

    name = "box-arrays"
    title = "Box arrays (votenet / mmdetection3d)"
    suffix = ".npy"

    def read(self, path: Path, class_set: ClassSet | None = None) -> BoxSet:
        class_set = class_set or SCANNET18
        path = Path(path)
        try:
            with warnings.catch_warnings():  # numpy's notes on old headers are not the user's concern
                warnings.simplefilter("ignore")
                array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise Beep3dError(f"{path}: box file not found; check the path") from None
        except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError, MemoryError) as exc:
            # numpy parses the header's dict as Python literals: a damaged header gives SyntaxError
            raise Beep3dError(
                f"{path}: not a numpy box array ({exc}); save the boxes with numpy.save as float (K, 7) rows "
                "cx cy cz dx dy dz class_id"
            ) from None
        if array.dtype.kind not in "fiu" or array.ndim != 2 or array.shape[1] not in (7, 8):
            raise Beep3dError(
                f"{path}: expected a numeric (K, 7) array of cx cy cz dx dy dz class_id (or (K, 8) with a yaw "
                f"before the class), got {array.dtype} {array.shape}"
            )
        if not np.isfinite(array).all():
            raise Beep3dError(f"{path}: the box array holds NaN or infinite values")
        if array.dtype.kind == "f" and array.dtype.itemsize <= 4 and len(array):
            refuse_lost_precision(float(np.abs(array[:, :3]).max()), path, "the boxes")
        boxes = []
        for position, row in enumerate(array.astype(np.float64)):
            where = f"{path}: box row {position}"
            class_id = row[-1]
            if class_id != round(class_id):
                raise Beep3dError(f"{where}: the class id {class_id:g} is not a whole number")
            label = class_set.name_of_id(int(class_id)) or f"class_{int(class_id)}"
            if np.any(row[3:6] < 0):
                raise Beep3dError(f"{where}: size {row[3:6].tolist()} has a negative extent")
            yaw = float(row[6]) if array.shape[1] == 8 else 0.0
            boxes.append(make_box(where, position, label, tuple(row[:3]), tuple(row[3:6]), yaw))
        return BoxSet(boxes)

    def write(
        self, path: Path, boxes: BoxSet, scene_name: str | None = None, class_set: ClassSet | None = None
    ) -> list[str]:
        class_set = class_set or SCANNET18
        notes = []
        rows = np.zeros((len(boxes), 7), dtype=np.float64)
        turned, unknown = [], set()
        for k, box in enumerate(boxes):
            if abs(math.sin(2 * box.yaw)) > 1e-6:
                turned.append(box.id)
                corners = box.corners()
                lo, hi = corners.min(axis=0), corners.max(axis=0)
                rows[k, :3], rows[k, 3:6] = (lo + hi) / 2, hi - lo
            else:  # a quarter turn swaps length and width
                sx, sy, sz = box.size
                rows[k, :3] = box.center
                rows[k, 3:6] = (sy, sx, sz) if abs(math.sin(box.yaw)) > 0.5 else (sx, sy, sz)
            class_id = class_set.id_of(box.label)
            if class_id < 0:
                unknown.add(box.label)
            rows[k, 6] = class_id
        if turned:
            notes.append(
                f"{len(turned)} turned boxes (ids {', '.join(map(str, turned[:10]))}) were written as the "
                "axis-aligned boxes around them: box arrays hold no yaw"
            )
        if unknown:
            notes.append(
                f"classes not in the class set were written with class id -1: {', '.join(sorted(unknown))}"
            )
        buffer = io.BytesIO()
        np.save(buffer, rows, allow_pickle=False)
        write_bytes_atomic(path, buffer.getvalue())
        return notes


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise Beep3dError(f"{where}: the class name must be a non-empty string, got {shown(value)}")
    return value


def _numeric_id(value: Any) -> int | None:
    """A SUSTechPOINTS ``obj_id`` as a box id: a non-negative JSON integer or a string of ASCII digits
    (``str.isdigit`` also accepts digits such as "²" that ``int`` refuses); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value) if len(value) <= 18 else MAX_BOX_ID + 1  # longer ones are beyond any id
    return None


def _key(value: Any, where: str, name: str) -> str | int:
    """A Supervisely ``key`` / ``objectKey``: a string (Supervisely writes 32 hex digits) or an integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Beep3dError(
            f"{where}: {name} must be a string (Supervisely writes 32 hex digits), got {shown(value)}"
        )
    return value


def _rounded(values: Any) -> list[float]:
    return [round(float(v), 6) for v in values]


BOX_ARRAYS = BoxArrays()
#: Every box format, the project's first (the order of "Save boxes as").
BOX_FORMATS: tuple[BoxFormat, ...] = (
    ProjectJson(),
    LabelCloudCentroid(),
    LabelCloudVertices(),
    SustechPoints(),
    Supervisely(),
    BOX_ARRAYS,
)
#: The JSON formats in the order their content is tried (the most specific first).
_JSON_DETECTION = (BOX_FORMATS[4], BOX_FORMATS[2], BOX_FORMATS[1], BOX_FORMATS[3])


def json_format_of(data: Any) -> _JsonFormat | None:
    """The other tool's JSON format that parsed JSON ``data`` is in, or None."""
    return next((fmt for fmt in _JSON_DETECTION if fmt.matches(data)), None)  # type: ignore[attr-defined]


def box_format(name: str) -> BoxFormat:
    """The format called ``name`` (see :data:`BOX_FORMATS`).

    Raises
    ------
    Beep3dError
        No format has that name.
    """
    for fmt in BOX_FORMATS:
        if fmt.name == name:
            return fmt
    raise Beep3dError(
        f"unknown box format {name!r}; choose one of {', '.join(fmt.name for fmt in BOX_FORMATS)}"
    )


def save_boxes_as(
    path: str | Path,
    boxes: BoxSet,
    fmt: str | BoxFormat,
    scene_name: str | None = None,
    class_set: ClassSet | None = None,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
    origin: Origin = NO_SHIFT,
) -> list[str]:
    """Write ``boxes`` to ``path`` in the format ``fmt`` (a name or a :class:`BoxFormat`), atomically.

    ``origin`` is the scene's local origin (:attr:`beep3d.scene.Scene.origin`, metres): every format
    holds centres in the scan file's own coordinates.

    ``corrections`` (the annotator's clicks and strokes on the masks) and which boxes are ``hidden``
    and ``locked`` (ids) are written by the project's format only (box file version 2); other formats
    cannot hold them and say so in a note.

    Returns
    -------
    list[str]
        Notes on what the format could not hold (empty when nothing was lost).
    """
    chosen = box_format(fmt) if isinstance(fmt, str) else fmt
    if chosen is BOX_FORMATS[0]:
        save_boxes(path, boxes, scene_name, corrections, hidden, locked, origin)
        return []
    notes = list(chosen.write(Path(path), boxes.translated(origin), scene_name, class_set))
    ids = set(boxes.ids.tolist())
    flagged = [
        (name, len(ids & {int(i) for i in given})) for name, given in (("hidden", hidden), ("locked", locked))
    ]
    flagged = [f"{count} {name}" for name, count in flagged if count]
    if flagged:
        notes.append(
            f"{chosen.title} cannot mark boxes hidden or locked: the file holds them as ordinary boxes "
            f"({', '.join(flagged)}); save as BEEP3D boxes to keep that"
        )
    if corrections:
        notes.append(
            f"{chosen.title} cannot hold the {len(corrections)} mask corrections (clicks and strokes): "
            "they were not saved; save as BEEP3D boxes to keep them"
        )
    return notes


def format_of_file(path: str | Path) -> BoxFormat:
    """The format a box file is in, recognised by its suffix (``.npy``) or its JSON content.

    Raises
    ------
    Beep3dError
        The file cannot be read, or is in no known box format.
    """
    path = Path(path)
    if path.suffix.lower() == BOX_ARRAYS.suffix:
        return BOX_ARRAYS
    data = read_json(path)
    if BOX_FORMATS[0].matches(data):  # type: ignore[attr-defined]
        return BOX_FORMATS[0]
    found = json_format_of(data)
    if found is None:
        raise Beep3dError(
            f"{path}: not a box file of any known format (BEEP3D, labelCloud, SUSTechPOINTS, Supervisely)"
        )
    return found
