"""PLY point clouds and meshes: reading (through ``plyfile``) and writing (binary little-endian).

Reading maps well-known vertex properties onto the Scene:

- ``x y z`` -> xyz (any numeric type; float64 is converted to float32),
- ``red green blue`` / ``r g b`` / ``diffuse_red ...`` -> rgb (uchar, ushort or float; see
  :func:`beep3d.io.colours.normalise_colours`),
- ``nx ny nz`` -> normals,
- ``instance`` / ``instance_id`` -> instance; ``nyu40`` / ``semantic`` / ``label`` -> semantic
  (label space "nyu40"),
- every other scalar vertex property -> ``Scene.extra`` (e.g. ScanNet's ``sem20``, ``alpha``).

A ``face`` element with a ``vertex_indices`` (or ``vertex_index``) list becomes ``Scene.faces``;
polygons with more than three corners are split into triangles (fan).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.atomic import atomic_path
from beep3d.io.columns import checked_extra_columns, colours_to_write, coordinates_to_write
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

COLOUR_NAMES: tuple[tuple[str, str, str], ...] = (
    ("red", "green", "blue"),
    ("r", "g", "b"),
    ("diffuse_red", "diffuse_green", "diffuse_blue"),
)
NORMAL_NAMES = ("nx", "ny", "nz")
INSTANCE_NAMES = ("instance", "instance_id")
SEMANTIC_NAMES = ("nyu40", "semantic", "label")
FACE_LIST_NAMES = ("vertex_indices", "vertex_index")

_PLY_TYPE_OF_DTYPE = {
    "i1": "char",
    "u1": "uchar",
    "i2": "short",
    "u2": "ushort",
    "i4": "int",
    "u4": "uint",
    "f4": "float",
    "f8": "double",
}


#: Bytes per value of each PLY scalar type.
_TYPE_SIZES = {
    **dict.fromkeys(("char", "uchar", "int8", "uint8"), 1),
    **dict.fromkeys(("short", "ushort", "int16", "uint16"), 2),
    **dict.fromkeys(("int", "uint", "float", "int32", "uint32", "float32"), 4),
    **dict.fromkeys(("double", "float64"), 8),
}
#: The longest header read before giving up on finding ``end_header``.
_MAX_HEADER_BYTES = 1 << 20


@dataclass
class _Element:
    name: str
    count: int
    scalar_bytes: int = 0
    values_per_row: int = 0
    has_lists: bool = False
    list_names: list[str] = field(default_factory=list)


def _check_header(path: Path) -> None:
    """Check what the header promises against the file before any data is read.

    plyfile trusts the header: a vertex count of 10^12 in an ASCII file makes numpy allocate terabytes,
    a header without ``end_header`` fails with a codec error, and a body longer than the header says is
    read in part without a word. This reads the header alone and refuses such files clearly.
    """
    with open(path, "rb") as handle:
        if handle.read(4) not in (b"ply\n", b"ply\r"):
            raise Beep3dError(f"{path}: not a PLY file (it does not start with 'ply'); choose a .ply scan")
        handle.seek(0)
        head = handle.read(_MAX_HEADER_BYTES)
    end = head.find(b"end_header")
    if end < 0:
        raise Beep3dError(
            f"{path}: the PLY header has no 'end_header' line; the file is not a complete PLY - re-export it"
        )
    newline = head.find(b"\n", end)
    body_start = len(head) if newline < 0 else newline + 1
    body_bytes = path.stat().st_size - body_start
    lines = head[:end].decode("ascii", errors="replace").splitlines()
    fmt, elements = "", []
    for line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "format" and len(words) > 1:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3:
            try:
                elements.append(_Element(words[1], int(words[2])))
            except ValueError:
                raise Beep3dError(
                    f"{path}: the PLY header is invalid (element line {line!r} has no count); re-export the file"
                ) from None
        elif words[0] == "property" and elements and len(words) >= 3:
            element = elements[-1]
            element.values_per_row += 1
            types = words[2:4] if words[1] == "list" else words[1:2]
            unknown = [t for t in types if t not in _TYPE_SIZES]
            if unknown or (words[1] == "list" and len(words) < 5):
                raise Beep3dError(
                    f"{path}: the PLY header is invalid (property line {line!r}"
                    + (f": unknown type {unknown[0]!r}" if unknown else "")
                    + "); re-export the file as a standard PLY"
                )
            if words[1] == "list":
                element.has_lists = True
                element.list_names.append(words[-1])
                element.scalar_bytes += _TYPE_SIZES[words[2]]
            else:
                element.scalar_bytes += _TYPE_SIZES[words[1]]
    for element in elements:
        if element.count < 0:
            raise Beep3dError(f"{path}: the PLY header declares {element.count} {element.name} entries")
        listed = [axis for axis in ("x", "y", "z") if axis in element.list_names]
        if element.name == "vertex" and listed:
            raise Beep3dError(
                f"{path}: vertex property {listed[0]!r} is a list, expected a single number per vertex; "
                "the file is not a point cloud this tool can read"
            )
    ascii_body = fmt == "ascii"
    # the fewest bytes the declared rows can take: binary rows their scalar sizes, text rows one
    # character and one separator per value
    least = sum(e.count * (2 * e.values_per_row if ascii_body else e.scalar_bytes) for e in elements)
    if least > body_bytes + (1 if ascii_body else 0):
        counts = ", ".join(f"{e.count:,} {e.name}" for e in elements)
        raise Beep3dError(
            f"{path}: the header declares {counts} entries, more than the file's {body_bytes:,} bytes of "
            "data can hold; the file is truncated or its header is wrong - re-export it"
        )
    if not ascii_body and not any(e.has_lists for e in elements) and body_bytes > least:
        raise Beep3dError(
            f"{path}: the file holds {body_bytes - least:,} bytes more data than its header declares; "
            "the header's counts are wrong - re-export it"
        )
    if ascii_body:
        _check_ascii_rows(path, body_start, sum(e.count for e in elements))


def _check_ascii_rows(path: Path, body_start: int, declared: int) -> None:
    """An ASCII body must hold exactly the declared rows (blank lines aside)."""
    rows = 0
    with open(path, "rb") as handle:
        handle.seek(body_start)
        for line in handle:
            if line.strip():
                rows += 1
    if rows != declared:
        raise Beep3dError(
            f"{path}: the header declares {declared:,} rows of data but the file holds {rows:,}; the file "
            "is truncated or its header is wrong - re-export it"
        )


def _read_plydata(path: Path):  # noqa: ANN202 - plyfile.PlyData
    import plyfile

    _check_header(path)
    known_list_len = {"face": {name: 3 for name in FACE_LIST_NAMES}}
    try:
        try:
            return plyfile.PlyData.read(str(path), known_list_len=known_list_len)
        except plyfile.PlyElementParseError as exc:
            if exc.message != "unexpected list length":
                raise
            # Not all faces are triangles: use the slower general reader.
            return plyfile.PlyData.read(str(path))
    except plyfile.PlyHeaderParseError as exc:
        raise Beep3dError(
            f"{path}: the PLY header is invalid ({exc}); re-export the file as a standard PLY"
        ) from None
    except plyfile.PlyElementParseError as exc:
        raise Beep3dError(
            f"{path}: the PLY data could not be read ({exc}); the file is truncated or corrupt - re-export it"
        ) from None
    except OverflowError as exc:
        raise Beep3dError(
            f"{path}: a value does not fit its declared type ({exc}; for example a colour of 999 in a uchar "
            "property); fix the values or re-export the file"
        ) from None
    except MemoryError:
        raise Beep3dError(f"{path}: the file is too large to read into memory") from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as exc:
        raise Beep3dError(
            f"{path}: the PLY file could not be read ({exc}); re-export it as a standard PLY"
        ) from None


def _scalar(path: Path, vertex, name: str) -> np.ndarray:  # noqa: ANN001
    import plyfile

    prop = vertex.ply_property(name)
    if isinstance(prop, plyfile.PlyListProperty):
        raise Beep3dError(
            f"{path}: vertex property {name!r} is a list, expected a single number per vertex; "
            "the file is not a point cloud this tool can read"
        )
    values = vertex.data[name]
    return np.asarray(values).astype(values.dtype.newbyteorder("="), copy=True)


def _triangles(path: Path, face, n_vertices: int) -> np.ndarray | None:  # noqa: ANN001
    names = [p.name for p in face.properties]
    list_name = next((name for name in FACE_LIST_NAMES if name in names), None)
    if list_name is None:
        raise Beep3dError(
            f"{path}: the face element has no 'vertex_indices' list (properties: {', '.join(names)}); "
            "re-export the mesh as a standard PLY"
        )
    data = face.data[list_name]
    if data.dtype != object:  # fast path: (M, 3) block of triangles
        return np.asarray(data, dtype=np.int64).reshape(-1, 3)
    triangles: list[np.ndarray] = []
    for polygon in data:
        polygon = np.asarray(polygon, dtype=np.int64)
        if len(polygon) < 3:
            continue
        fan = np.empty((len(polygon) - 2, 3), dtype=np.int64)
        fan[:, 0] = polygon[0]
        fan[:, 1] = polygon[1:-1]
        fan[:, 2] = polygon[2:]
        triangles.append(fan)
    return np.concatenate(triangles) if triangles else np.zeros((0, 3), dtype=np.int64)


def read_ply_scene(
    path: Path, report: LoadReport, nan_policy: NanPolicy = "drop", name: str | None = None
) -> Scene:
    """Read a PLY point cloud or mesh into a Scene (see the module docstring for the mapping)."""
    data = _read_plydata(path)
    elements = {element.name: element for element in data.elements}
    if "vertex" not in elements:
        raise Beep3dError(
            f"{path}: the PLY file has no 'vertex' element (elements: {', '.join(elements) or 'none'}); "
            "it holds no points"
        )
    vertex = elements["vertex"]
    names = [p.name for p in vertex.properties]
    missing = [axis for axis in ("x", "y", "z") if axis not in names]
    if missing:
        raise Beep3dError(
            f"{path}: the vertices have no {'/'.join(missing)} coordinate (properties: {', '.join(names)}); "
            "the file is not a point cloud"
        )
    if vertex.count == 0:
        raise Beep3dError(f"{path}: the file has no points (0 vertices); choose a scan that has points")
    used: set[str] = set()

    def take(name: str) -> np.ndarray:
        used.add(name)
        return _scalar(path, vertex, name)

    xyz = np.stack([take(axis) for axis in ("x", "y", "z")], axis=1)
    colours = None
    for triple in COLOUR_NAMES:
        if all(c in names for c in triple):
            colours = np.stack([take(c) for c in triple], axis=1)
            break
    normals = (
        np.stack([take(c) for c in NORMAL_NAMES], axis=1) if all(c in names for c in NORMAL_NAMES) else None
    )
    instance = next((take(n) for n in INSTANCE_NAMES if n in names), None)
    semantic = next((take(n) for n in SEMANTIC_NAMES if n in names), None)
    extra = {name: take(name) for name in names if name not in used}
    faces = _triangles(path, elements["face"], vertex.count) if "face" in elements else None
    return assemble_scene(
        path,
        report,
        nan_policy,
        xyz,
        colours,
        normals=normals,
        faces=faces,
        semantic=semantic,
        instance=instance,
        label_space="nyu40" if semantic is not None else None,
        extra=extra,
        name=name,
    )


def _ply_type(name: str, array: np.ndarray) -> tuple[str, np.dtype]:
    kind = array.dtype
    if kind == np.bool_:
        kind = np.dtype(np.uint8)
    elif kind in (np.int64, np.uint64):
        if len(array) and (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
            raise Beep3dError(
                f"PLY property {name!r}: values do not fit a 32-bit integer, the largest PLY type"
            )
        kind = np.dtype(np.int32)
    elif kind == np.float16:
        kind = np.dtype(np.float32)
    key = kind.str[1:]
    if key not in _PLY_TYPE_OF_DTYPE:
        raise Beep3dError(f"PLY property {name!r}: dtype {array.dtype} has no PLY type; use numbers")
    return _PLY_TYPE_OF_DTYPE[key], np.dtype("<" + key)


def write_ply(
    path: str | os.PathLike[str],
    xyz: np.ndarray,
    rgb: np.ndarray | None = None,
    properties: dict[str, np.ndarray] | None = None,
    faces: np.ndarray | None = None,
) -> None:
    """Write a binary little-endian PLY point cloud or mesh, atomically.

    Parameters
    ----------
    path
        Output file.
    xyz
        (N, 3) float32 or float64 coordinates, metres (written as ``float`` or ``double``).
    rgb
        (N, 3) colours written as ``red green blue`` in their own dtype (uint8 -> ``uchar``), or None.
    properties
        Extra per-vertex properties, name -> (N,) array; the PLY type follows the dtype (int64 is
        written as ``int`` when it fits, bool as ``uchar``).
    faces
        (M, 3) triangle vertex indices, written as a ``face`` element with ``vertex_indices``, or None.
    """
    xyz = coordinates_to_write(path, xyz)
    n = len(xyz)
    columns: list[tuple[str, np.ndarray]] = [(axis, xyz[:, i]) for i, axis in enumerate("xyz")]
    if rgb is not None:
        rgb = colours_to_write(path, rgb, n)
        columns += [(channel, rgb[:, i]) for i, channel in enumerate(("red", "green", "blue"))]
    columns = checked_extra_columns(path, columns, properties, n, "property")
    typed = [(name, *_ply_type(name, values), values) for name, values in columns]
    vertex_dtype = np.dtype([(name, dtype) for name, _, dtype, _ in typed])
    vertex_block = np.empty(n, dtype=vertex_dtype)
    for name, _, _, values in typed:
        vertex_block[name] = values
    header = [
        "ply",
        "format binary_little_endian 1.0",
        "comment written by BEEP3D annotate",
        f"element vertex {n}",
    ]
    header += [f"property {ply_type} {name}" for name, ply_type, _, _ in typed]
    face_block = None
    if faces is not None:
        faces = np.asarray(faces)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise Beep3dError(f"{path}: faces must have shape (M, 3), got {faces.shape}")
        if len(faces) and (faces.min() < 0 or faces.max() >= n):
            raise Beep3dError(f"{path}: faces refer to vertices outside 0..{n - 1}")
        face_block = np.empty(len(faces), dtype=np.dtype([("count", "u1"), ("index", "<i4", (3,))]))
        face_block["count"] = 3
        face_block["index"] = faces
        header += [f"element face {len(faces)}", "property list uchar int vertex_indices"]
    header.append("end_header")
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(("\n".join(header) + "\n").encode("ascii"))
        handle.write(vertex_block.tobytes())
        if face_block is not None:
            handle.write(face_block.tobytes())
