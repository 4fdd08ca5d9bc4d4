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

Each format family has its module: :mod:`beep3d.io.labelcloud`, :mod:`beep3d.io.sustechpoints`,
:mod:`beep3d.io.supervisely`, :mod:`beep3d.io.box_arrays` (what they share:
:mod:`beep3d.io.box_format_base`); this module lists them and saves or recognises a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from beep3d.classes import ClassSet
from beep3d.corrections import Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.io.box_arrays import BoxArrays
from beep3d.io.box_files import boxes_from_dict, boxes_to_dict, read_json, save_boxes
from beep3d.io.box_format_base import BoxFormat, JsonBoxFormat
from beep3d.io.labelcloud import LabelCloudCentroid, LabelCloudVertices, box_from_vertices, box_vertices
from beep3d.io.local_origin import NO_SHIFT, Origin
from beep3d.io.supervisely import Supervisely
from beep3d.io.sustechpoints import SustechPoints

__all__ = [
    "BOX_ARRAYS",
    "BOX_FORMATS",
    "BoxArrays",
    "BoxFormat",
    "JsonBoxFormat",
    "LabelCloudCentroid",
    "LabelCloudVertices",
    "ProjectJson",
    "Supervisely",
    "SustechPoints",
    "box_format",
    "box_from_vertices",
    "box_vertices",
    "format_of_file",
    "json_format_of",
    "save_boxes_as",
]


class ProjectJson(JsonBoxFormat):
    """The project's own format (see :mod:`beep3d.io.box_files`)."""

    name = "beep3d"
    title = "BEEP3D boxes"

    def matches(self, data: Any) -> bool:
        return isinstance(data, dict) and "boxes" in data

    def from_data(self, data: Any, source: str) -> BoxSet:
        return boxes_from_dict(data, source)

    def to_data(self, boxes: BoxSet, scene_name: str | None, class_set: ClassSet) -> Any:
        return boxes_to_dict(boxes, scene_name)


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


def json_format_of(data: Any) -> JsonBoxFormat | None:
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
