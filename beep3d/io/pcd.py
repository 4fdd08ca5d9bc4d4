"""PCD point clouds (PCL's format, used by labelCloud, SUSTechPOINTS, Xtreme1 and CVAT 3D).

Reading handles ``DATA ascii``, ``binary`` and ``binary_compressed`` (LZF, column by column) with
any fields. The header is checked against the file before any data is read (field lists of equal
length, sizes valid for their types, ``WIDTH * HEIGHT == POINTS``, the data size the points need),
and each problem is refused with its own message. Fields map onto the Scene as in
:mod:`beep3d.io.columns`; in addition a packed ``rgb`` / ``rgba`` field (4 bytes, float or unsigned,
``0x00RRGGBB``) gives the colours, a field with ``COUNT > 1`` is kept as ``name_0, name_1, ...`` and
``_`` padding fields are skipped. ``intensity`` and every other field are kept in ``Scene.extra``.

Open3D's tensor reader keeps arbitrary fields too, but it reports a damaged file as a printed
warning and an empty cloud, and was 0.6-0.7 s for 2M points where this reader takes 0.02-0.1 s
(``bench/bench_load_formats.py``); so PCD is read here with numpy.

Writing (:func:`write_pcd`) gives binary or ascii PCD v0.7 with packed ``rgb`` and any per-point
fields, atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.atomic import atomic_path
from beep3d.io.columns import (
    checked_extra_columns,
    colours_to_write,
    coordinates_to_write,
    scene_from_columns,
)
from beep3d.io.lzf import lzf_decompress
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.scene import Scene

__all__ = ["read_pcd_scene", "write_pcd"]

#: Sizes each PCD type letter allows (bytes).
_VALID_SIZES = {"F": (4, 8), "I": (1, 2, 4, 8), "U": (1, 2, 4, 8)}
_DATA_KINDS = ("ascii", "binary", "binary_compressed")
_MAX_HEADER_BYTES = 1 << 16
_HEADER_KEYS = (
    "VERSION",
    "FIELDS",
    "SIZE",
    "TYPE",
    "COUNT",
    "WIDTH",
    "HEIGHT",
    "VIEWPOINT",
    "POINTS",
    "DATA",
)
_PACKED_COLOUR_NAMES = ("rgb", "rgba")


@dataclass(frozen=True)
class PcdHeader:
    """The parsed header of a PCD file.

    Attributes
    ----------
    fields, sizes, types, counts
        One entry per field: name, bytes per value, type letter (F, I, U), values per point.
    points
        Number of points N.
    data
        "ascii", "binary" or "binary_compressed".
    body_start
        Byte offset of the data after the ``DATA`` line.
    """

    fields: tuple[str, ...]
    sizes: tuple[int, ...]
    types: tuple[str, ...]
    counts: tuple[int, ...]
    points: int
    data: str
    body_start: int

    def dtype(self) -> np.dtype:
        """The little-endian numpy record of one point (binary layout, fields in file order)."""
        parts = []
        for position, (name, size, kind, count) in enumerate(
            zip(self.fields, self.sizes, self.types, self.counts, strict=True)
        ):
            base = np.dtype(f"<{'f' if kind == 'F' else kind.lower()}{size}")
            key = f"{name}#{position}"  # field names may repeat ('_' padding)
            parts.append((key, base) if count == 1 else (key, base, (count,)))
        return np.dtype(parts)


def _ints(path: Path, key: str, words: list[str]) -> tuple[int, ...]:
    try:
        values = tuple(int(w) for w in words)
    except ValueError:
        raise Beep3dError(
            f"{path}: the PCD header line {key} {' '.join(words)!r} must hold whole numbers; "
            "the file is not a valid PCD - save it again"
        ) from None
    if any(v < 0 for v in values):
        raise Beep3dError(
            f"{path}: the PCD header line {key} has a negative value; the file is not a valid PCD"
        )
    return values


def read_pcd_header(path: Path) -> PcdHeader:
    """Read and check the header of a PCD file.

    Raises
    ------
    Beep3dError
        Not a PCD, a missing or inconsistent line, or an unknown data kind.
    """
    with open(path, "rb") as handle:
        head = handle.read(_MAX_HEADER_BYTES)
    entries: dict[str, list[str]] = {}
    offset = 0
    body_start = -1
    while offset < len(head):
        end = head.find(b"\n", offset)
        line_end = len(head) if end < 0 else end
        raw = head[offset:line_end]
        offset = line_end + 1
        text = raw.decode("ascii", errors="replace").strip()
        if not text or text.startswith("#"):
            continue
        words = text.split()
        key = words[0].upper()
        if key not in _HEADER_KEYS:
            if "FIELDS" in entries:
                raise Beep3dError(
                    f"{path}: the PCD header has no DATA line before its data; the file is not a "
                    "complete PCD - save it again"
                )
            raise Beep3dError(
                f"{path}: not a PCD file (unexpected header line {text[:60]!r}); choose a .pcd point cloud"
            )
        entries[key] = words[1:]
        if key == "DATA":
            body_start = min(offset, len(head)) if end >= 0 else len(head)
            break
    if body_start < 0:
        raise Beep3dError(
            f"{path}: the PCD header has no DATA line; the file is not a complete PCD - save it again"
        )
    missing = [k for k in ("FIELDS", "SIZE", "TYPE") if k not in entries]
    if missing or ("POINTS" not in entries and "WIDTH" not in entries):
        raise Beep3dError(
            f"{path}: the PCD header lacks {', '.join(missing or ['POINTS'])}; save the file again as PCD v0.7"
        )
    fields = tuple(entries["FIELDS"])
    sizes = _ints(path, "SIZE", entries["SIZE"])
    types = tuple(t.upper() for t in entries["TYPE"])
    counts = _ints(path, "COUNT", entries["COUNT"]) if "COUNT" in entries else (1,) * len(fields)
    if not fields or not (len(fields) == len(sizes) == len(types) == len(counts)):
        raise Beep3dError(
            f"{path}: the PCD header lists {len(fields)} FIELDS but {len(sizes)} SIZE, {len(types)} TYPE and "
            f"{len(counts)} COUNT entries; they must match - save the file again"
        )
    for name, size, kind, count in zip(fields, sizes, types, counts, strict=True):
        if kind not in _VALID_SIZES or size not in _VALID_SIZES[kind]:
            raise Beep3dError(
                f"{path}: PCD field {name!r} has TYPE {kind} SIZE {size}, which PCD does not define "
                "(F: 4 or 8 bytes, I/U: 1, 2, 4 or 8); the header is wrong - save the file again"
            )
        if count < 1:
            raise Beep3dError(f"{path}: PCD field {name!r} has COUNT {count}; every field needs at least 1")
    width = _ints(path, "WIDTH", entries.get("WIDTH", ["0"]))
    height = _ints(path, "HEIGHT", entries.get("HEIGHT", ["1"]))
    points = _ints(path, "POINTS", entries["POINTS"])[0] if "POINTS" in entries else width[0] * height[0]
    if "WIDTH" in entries and width and height and width[0] * height[0] != points:
        raise Beep3dError(
            f"{path}: the PCD header says WIDTH {width[0]} x HEIGHT {height[0]} but POINTS {points}; "
            "the header is inconsistent - save the file again"
        )
    data = entries["DATA"][0].lower() if entries["DATA"] else ""
    if data not in _DATA_KINDS:
        raise Beep3dError(
            f"{path}: unknown PCD data kind {data!r}; this tool reads DATA ascii, binary and binary_compressed"
        )
    return PcdHeader(fields, sizes, types, counts, points, data, body_start)


def _truncated(path: Path, needed: int, have: int) -> Beep3dError:
    return Beep3dError(
        f"{path}: the PCD header declares data of {needed:,} bytes but the file holds {have:,}; "
        "the file is truncated or its header is wrong - save it again"
    )


def _read_records(path: Path, header: PcdHeader) -> np.ndarray:
    """(N,) structured array of the file's points, whichever the data kind."""
    dtype = header.dtype()
    n = header.points
    with open(path, "rb") as handle:
        handle.seek(header.body_start)
        body = handle.read()
    if header.data == "binary":
        needed = n * dtype.itemsize
        if len(body) < needed:
            raise _truncated(path, needed, len(body))
        if len(body) > needed and body[needed:].strip(b"\x00\r\n "):
            raise Beep3dError(
                f"{path}: the file holds {len(body) - needed:,} bytes more data than its header declares "
                f"({n:,} points); the header's counts are wrong - save it again"
            )
        return np.frombuffer(body, dtype=dtype, count=n)
    if header.data == "binary_compressed":
        return _read_compressed(path, header, dtype, body)
    return _read_ascii(path, header, dtype, body)


def _read_compressed(path: Path, header: PcdHeader, dtype: np.dtype, body: bytes) -> np.ndarray:
    n = header.points
    if len(body) < 8:
        raise _truncated(path, 8, len(body))
    compressed, uncompressed = (int(v) for v in np.frombuffer(body[:8], dtype="<u4"))
    if uncompressed != n * dtype.itemsize:
        raise Beep3dError(
            f"{path}: the compressed PCD data expands to {uncompressed:,} bytes, but {n:,} points of "
            f"{dtype.itemsize} bytes need {n * dtype.itemsize:,}; the header is wrong - save the file again"
        )
    if len(body) - 8 < compressed:
        raise _truncated(path, compressed + 8, len(body))
    raw = lzf_decompress(
        np.frombuffer(body, dtype=np.uint8, count=compressed, offset=8), uncompressed, str(path)
    )
    # the uncompressed data is stored field by field (all points' x, then all y, ...)
    records = np.empty(n, dtype=dtype)
    offset = 0
    for key in dtype.names or ():
        field = dtype.fields[key][0]
        block = n * field.itemsize
        records[key] = raw[offset : offset + block].view(field.base).reshape((n, *field.shape))
        offset += block
    return records


def _read_ascii(path: Path, header: PcdHeader, dtype: np.dtype, body: bytes) -> np.ndarray:
    n = header.points
    width = sum(header.counts)
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError:
        raise Beep3dError(
            f"{path}: the PCD ascii data holds a value that is not a number; the file is corrupt - save it again"
        ) from None
    if len(values) != n * width:
        rows = len(values) / width
        raise Beep3dError(
            f"{path}: the PCD header declares {n:,} points of {width} values but the data holds "
            f"{len(values):,} values ({rows:,.1f} rows); the file is truncated or its header is wrong"
        )
    table = values.reshape(n, width)
    records = np.empty(n, dtype=dtype)
    column = 0
    for key, name, size, count in zip(
        dtype.names or (), header.fields, header.sizes, header.counts, strict=True
    ):
        part = table[:, column : column + count]
        column += count
        if name.lower() in _PACKED_COLOUR_NAMES and size == 4 and count == 1:
            records[key] = _packed_colour_from_text(part[:, 0], records[key].dtype)
            continue
        records[key] = part if count > 1 else part[:, 0]
    return records


def _packed_colour_from_text(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A packed colour column of an ascii PCD, as the 4 bytes of the binary layout.

    Writers print it two ways: PCL as the unsigned integer of its bits (``4286611584``), others as
    the float those bits make (tiny numbers like ``9.18e-39``). Whole numbers from 1 up are the first.
    """
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and finite.max() >= 1:
        bits = np.clip(np.nan_to_num(values), 0, 2**32 - 1).astype(np.uint32)
    else:
        bits = values.astype(np.float32).view(np.uint32)
    return bits.view(dtype)


def _columns(path: Path, header: PcdHeader, records: np.ndarray) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for key, name, size, count in zip(
        records.dtype.names or (), header.fields, header.sizes, header.counts, strict=True
    ):
        if name == "_":
            continue
        values = records[key]
        if name.lower() in _PACKED_COLOUR_NAMES and size == 4 and count == 1:
            packed = np.ascontiguousarray(values).view(np.uint32)
            columns["red"] = ((packed >> 16) & 255).astype(np.uint8)
            columns["green"] = ((packed >> 8) & 255).astype(np.uint8)
            columns["blue"] = (packed & 255).astype(np.uint8)
            continue
        if count > 1:
            for k in range(count):
                columns[f"{name}_{k}"] = np.ascontiguousarray(values[:, k])
            continue
        if name in columns:
            raise Beep3dError(f"{path}: PCD field {name!r} appears twice; field names must be unique")
        columns[name] = np.ascontiguousarray(values)
    return columns


def read_pcd_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read a PCD file (see the module docstring for the fields understood).

    Parameters
    ----------
    path
        The ``.pcd`` file.
    report
        Filled with dropped points, the colour scale and notes.
    nan_policy
        ``"drop"`` or ``"refuse"`` points with NaN coordinates (organised clouds mark missing
        returns with NaN).

    Raises
    ------
    Beep3dError
        Any problem with the header or the data, named with what to do.
    """
    header = read_pcd_header(path)
    if header.points == 0:
        raise Beep3dError(f"{path}: the file has no points (POINTS 0); choose a scan that has points")
    records = _read_records(path, header)
    return scene_from_columns(path, report, nan_policy, _columns(path, header, records))


def _pcd_type(name: str, values: np.ndarray) -> tuple[np.dtype, str]:
    dtype = values.dtype
    if dtype == np.bool_:
        dtype = np.dtype(np.uint8)
    if (
        dtype.kind not in "fiu"
        or dtype.itemsize not in (1, 2, 4, 8)
        or (dtype.kind == "f" and dtype.itemsize < 4)
    ):
        if dtype == np.float16:
            dtype = np.dtype(np.float32)
        else:
            raise Beep3dError(f"PCD field {name!r}: dtype {values.dtype} has no PCD type; use numbers")
    return dtype.newbyteorder("<"), {"f": "F", "i": "I", "u": "U"}[dtype.kind]


def write_pcd(
    path: str | os.PathLike[str],
    xyz: np.ndarray,
    rgb: np.ndarray | None = None,
    fields: dict[str, np.ndarray] | None = None,
    *,
    ascii: bool = False,
) -> None:
    """Write a PCD v0.7 point cloud atomically.

    Parameters
    ----------
    path
        Output file.
    xyz
        (N, 3) coordinates, metres (float32 unless float64 is given).
    rgb
        (N, 3) uint8 colours, written as one packed ``rgb`` field (float32 bits of ``0x00RRGGBB``,
        as PCL and Open3D read it), or None.
    fields
        More per-point fields, name -> (N,) numeric array; the PCD type follows the dtype.
    ascii
        Write ``DATA ascii`` instead of ``binary``.
    """
    xyz = coordinates_to_write(path, xyz)
    n = len(xyz)
    columns: list[tuple[str, np.ndarray]] = [(axis, xyz[:, i]) for i, axis in enumerate("xyz")]
    if rgb is not None:
        rgb = colours_to_write(path, rgb, n, np.uint32)
        packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        columns.append(("rgb", packed.astype(np.uint32).view(np.float32)))
    columns = checked_extra_columns(path, columns, fields, n, "field")
    typed = [(name, *_pcd_type(name, values), values) for name, values in columns]
    header = [
        "# .PCD v0.7 - Point Cloud Data file format, written by BEEP3D annotate",
        "VERSION 0.7",
        "FIELDS " + " ".join(name for name, _, _, _ in typed),
        "SIZE " + " ".join(str(dtype.itemsize) for _, dtype, _, _ in typed),
        "TYPE " + " ".join(kind for _, _, kind, _ in typed),
        "COUNT " + " ".join("1" for _ in typed),
        f"WIDTH {n}",
        "HEIGHT 1",
        "VIEWPOINT 0 0 0 1 0 0 0",
        f"POINTS {n}",
        f"DATA {'ascii' if ascii else 'binary'}",
    ]
    block = np.empty(n, dtype=np.dtype([(name, dtype) for name, dtype, _, _ in typed]))
    for name, _, _, values in typed:
        block[name] = values
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(("\n".join(header) + "\n").encode("ascii"))
        if not ascii:
            handle.write(block.tobytes())
            return
        text_columns = []  # a packed colour as the unsigned number of its bits, as PCL writes it
        for name, _, kind, _ in typed:
            if name == "rgb":
                text_columns.append(block[name].view(np.uint32).astype(np.int64).astype(str))
            elif kind == "F":
                text_columns.append(np.char.mod("%.9g", block[name].astype(np.float64)))
            else:
                text_columns.append(block[name].astype(str))
        rows = np.stack(text_columns, axis=1) if text_columns else np.empty((n, 0), dtype=str)
        handle.write(("\n".join(" ".join(row) for row in rows) + "\n").encode("ascii"))
