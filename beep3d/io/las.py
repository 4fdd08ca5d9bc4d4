"""LAS and LAZ point clouds (laser scanners), through laspy with the lazrs backend.

Reading: the scaled coordinates (``x y z``, metres), ``red green blue`` when the point format has
them (16-bit, or 8-bit values stored in 16 bits: the scale is detected), and every other dimension
kept in ``Scene.extra`` under its laspy name: ``classification``, ``intensity``, ``gps_time``,
``return_number``, ... and every extra-bytes dimension (a dimension of several values as
``name_0, name_1, ...``). Extra dimensions named ``instance`` or ``semantic`` / ``label`` become
the Scene's labels, so the masks this tool writes as LAS read back as labels.

Writing (:func:`write_las`): LAS 1.4, point format 7 (x y z, rgb, classification), millimetre
coordinates, and any per-point fields as extra-bytes dimensions; ``.laz`` is compressed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.atomic import atomic_path
from beep3d.io.columns import coordinates_to_write, scene_from_columns
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.scene import Scene

__all__ = ["LAS_SUFFIXES", "read_las_scene", "write_las"]

LAS_SUFFIXES = (".las", ".laz")
#: laspy's names of the raw integer coordinates and colours; the scaled x y z are read instead.
_RAW = ("X", "Y", "Z", "red", "green", "blue")


#: Bytes of a VLR header and of an extended VLR header: each record takes at least that much.
_VLR_BYTES, _EVLR_BYTES = 54, 60
#: More points than this per byte of LAZ point data is a damaged count: 1M identical points (point
#: formats 0 and 7, with and without extra bytes) compress to 90-140 points a byte.
_LAZ_POINTS_PER_BYTE = 1000


def _check_header(path: Path) -> None:
    """Check the counts of the LAS header against the file before laspy reads it.

    laspy trusts the header's record counts: a damaged count of variable-length records makes it
    loop billions of times over an empty stream. Such counts, and a point block that starts
    outside the file, are refused here.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(375)
    if len(head) < 227:
        raise Beep3dError(
            f"{path}: the file is shorter than a LAS header (227 bytes); it is truncated - export it again"
        )
    header_size, point_offset, vlr_count = (
        np.frombuffer(head, dtype="<u2", count=1, offset=94)[0],
        *np.frombuffer(head, dtype="<u4", count=2, offset=96),
    )
    if int(point_offset) > size or int(header_size) > int(point_offset):
        raise Beep3dError(
            f"{path}: the LAS header puts the points at byte {int(point_offset):,} of a {size:,}-byte file "
            f"(header {int(header_size)} bytes); the file is truncated or its header is damaged - export it again"
        )
    if int(vlr_count) * _VLR_BYTES > int(point_offset) - int(header_size):
        raise Beep3dError(
            f"{path}: the LAS header declares {int(vlr_count):,} variable-length records, more than the "
            f"{int(point_offset) - int(header_size):,} bytes before the points can hold; the header is damaged - export it again"
        )
    minor = head[25]
    record_bytes = int(np.frombuffer(head, dtype="<u2", count=1, offset=105)[0])
    points = int(np.frombuffer(head, dtype="<u4", count=1, offset=107)[0])
    if minor >= 4 and len(head) >= 255:
        # LAS 1.4 has a 64-bit count beside the legacy one, and laspy reads (and allocates for) that one
        points = int(np.frombuffer(head, dtype="<u8", count=1, offset=247)[0])
    needed = points * record_bytes
    compressed = bool(head[104] & 0x80)
    point_bytes = size - int(point_offset)
    if not compressed and needed > point_bytes:
        raise Beep3dError(
            f"{path}: the LAS header declares {points:,} points of {record_bytes} bytes, more than the file's "
            f"{point_bytes:,} bytes of points hold; the file is truncated or its header is wrong - "
            "export it again"
        )
    if compressed and points > _LAZ_POINTS_PER_BYTE * point_bytes:
        raise Beep3dError(
            f"{path}: the LAZ header declares {points:,} points, but the file has only {point_bytes:,} bytes of "
            f"compressed points (LAZ packs at most about 150 points in a byte, even of identical points; "
            f"{_LAZ_POINTS_PER_BYTE} is refused); the header is damaged or the file truncated - export it again"
        )
    if compressed:
        chunks = _check_chunk_table(path, int(point_offset), size)
        chunk = _laszip_chunk_points(path, int(header_size), int(vlr_count))
        if chunk is not None and chunk * record_bytes > _memory_bytes() // 2:
            raise Beep3dError(
                f"{path}: the LAZ compression record declares chunks of {chunk:,} points, more than this "
                "machine's memory holds; the file is damaged - export it again"
            )
        if chunk is not None and points > chunks * chunk:
            raise Beep3dError(
                f"{path}: the LAZ header declares {points:,} points, but the file's {chunks:,} compressed chunks "
                f"of {chunk:,} points hold at most {chunks * chunk:,}; the header is damaged or the file "
                "truncated - export it again"
            )
    if compressed and needed > _memory_bytes() // 2:
        # lazrs aborts the whole process when it cannot allocate the decompressed points
        raise Beep3dError(
            f"{path}: the LAZ header declares {points:,} points ({needed / 1e9:,.1f} GB decompressed), more than "
            "this machine's memory holds; the header is damaged, or split the scan into tiles"
        )
    if minor >= 4 and len(head) >= 247:
        evlr_start = int(np.frombuffer(head, dtype="<u8", count=1, offset=235)[0])
        evlr_count = int(np.frombuffer(head, dtype="<u4", count=1, offset=243)[0])
        if evlr_count and (evlr_start > size or evlr_count * _EVLR_BYTES > size - evlr_start):
            raise Beep3dError(
                f"{path}: the LAS header declares {evlr_count:,} extended records at byte {evlr_start:,}, more "
                f"than the {size:,}-byte file holds; the file is truncated or its header is damaged - export it again"
            )


#: The LAZ compression record (laszip's VLR) and its "chunks of varying size" marker.
_LASZIP_VLR = (b"laszip encoded", 22204)
_VARIABLE_CHUNKS = 0xFFFFFFFF


def _laszip_chunk_points(path: Path, header_size: int, vlr_count: int) -> int | None:
    """Points per compressed chunk that the LAZ compression record declares (None: not found, or
    chunks of varying size)."""
    with open(path, "rb") as handle:
        handle.seek(header_size)
        for _ in range(vlr_count):
            head = handle.read(_VLR_BYTES)
            if len(head) < _VLR_BYTES:
                return None
            user_id = head[2:18].split(b"\0")[0]
            record_id = int.from_bytes(head[18:20], "little")
            length = int.from_bytes(head[20:22], "little")
            data = handle.read(length)
            if (user_id, record_id) == _LASZIP_VLR and len(data) >= 16:
                chunk = int.from_bytes(data[12:16], "little")
                return None if chunk == _VARIABLE_CHUNKS else chunk
    return None


def _check_chunk_table(path: Path, point_offset: int, size: int) -> int:
    """The LAZ chunk table (where each compressed chunk starts) must lie in the file and count no
    more chunks than the file has bytes: lazrs allocates 16 bytes per declared chunk up front, and
    a damaged count aborts the process. Returns the number of chunks."""
    with open(path, "rb") as handle:
        handle.seek(point_offset)
        start = handle.read(8)
        if len(start) < 8:
            raise Beep3dError(
                f"{path}: the LAZ file ends before its points; it is truncated - export it again"
            )
        table = int.from_bytes(start, "little", signed=True)
        if table == -1:  # written after the points: its offset is the file's last 8 bytes
            handle.seek(max(size - 8, 0))
            table = int.from_bytes(handle.read(8), "little", signed=True)
        if not point_offset + 8 <= table <= size - 8:
            raise Beep3dError(
                f"{path}: the LAZ chunk table is said to start at byte {table:,} of a {size:,}-byte file; the "
                "file is truncated or damaged - export it again"
            )
        handle.seek(table)
        version, chunks = np.frombuffer(handle.read(8), dtype="<u4")
    if int(version) != 0 or int(chunks) > size - point_offset:
        raise Beep3dError(
            f"{path}: the LAZ chunk table is damaged (version {int(version)}, {int(chunks):,} chunks in a "
            f"{size:,}-byte file); export the file again"
        )
    return int(chunks)


def _memory_bytes() -> int:
    """Physical memory of this machine in bytes (a large number where the system does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 1 << 40


def _read(path: Path):  # noqa: ANN202 - laspy.LasData
    import laspy

    with open(path, "rb") as handle:
        signature = handle.read(4)
    if signature != b"LASF":
        raise Beep3dError(
            f"{path}: not a LAS/LAZ file (it does not start with 'LASF'); choose a .las or .laz scan"
        )
    _check_header(path)
    # laspy logs a short read as an error and returns the points it got: keep its log quiet and check
    log = logging.getLogger("laspy")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        las = laspy.read(path)
    except MemoryError:
        raise Beep3dError(f"{path}: the file is too large to read into memory") from None
    except laspy.errors.LaspyException as exc:
        raise Beep3dError(
            f"{path}: the LAS/LAZ file could not be read ({exc}); it is truncated or corrupt - export it again"
        ) from None
    except Exception as exc:  # noqa: BLE001 - laspy and lazrs raise many types (ValueError, ZeroDivisionError, ...)
        raise Beep3dError(
            f"{path}: the LAS/LAZ data could not be read ({type(exc).__name__}: {exc}); the file is truncated "
            "or corrupt - export it again"
        ) from None
    finally:
        log.setLevel(level)
    declared = int(las.header.point_count)
    if len(las.points) != declared:
        raise Beep3dError(
            f"{path}: the header declares {declared:,} points but the file holds {len(las.points):,}; "
            "the file is truncated or its header is wrong - export it again"
        )
    return las


def read_las_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read a ``.las`` or ``.laz`` file (fields: see the module docstring).

    Raises
    ------
    Beep3dError
        Not a LAS file, a damaged header or compressed data, or no points.
    """
    las = _read(path)
    if len(las.points) == 0:
        raise Beep3dError(f"{path}: the file has no points; choose a scan that has points")
    columns: dict[str, np.ndarray] = {
        "x": np.asarray(las.x, dtype=np.float64),
        "y": np.asarray(las.y, dtype=np.float64),
        "z": np.asarray(las.z, dtype=np.float64),
    }
    names = list(las.point_format.dimension_names)
    if all(c in names for c in ("red", "green", "blue")):
        rgb = {channel: np.asarray(las[channel]) for channel in ("red", "green", "blue")}
        if any(values.any() for values in rgb.values()):
            columns.update(rgb)
        else:  # scanners without a camera fill the colour fields with 0
            report.notes.append("the file's colours are all 0 (none recorded); the scan is shown grey")
    for name in names:
        if name in _RAW:
            continue
        values = np.asarray(las[name])
        if values.dtype == np.bool_:
            values = values.astype(np.uint8)
        if values.ndim == 2:
            columns.update(
                {f"{name}_{k}": np.ascontiguousarray(values[:, k]) for k in range(values.shape[1])}
            )
        else:
            columns[name] = values
    return scene_from_columns(path, report, nan_policy, columns)


def _extra_dtype(name: str, values: np.ndarray) -> np.dtype:
    dtype = values.dtype
    if dtype == np.bool_:
        return np.dtype(np.uint8)
    if dtype.kind not in "fiu":
        raise Beep3dError(f"LAS field {name!r}: dtype {dtype} is not a number")
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def write_las(
    path: str | os.PathLike[str],
    xyz: np.ndarray,
    rgb: np.ndarray | None = None,
    fields: dict[str, np.ndarray] | None = None,
    classification: np.ndarray | None = None,
) -> None:
    """Write a LAS 1.4 (``.las``) or LAZ (``.laz``) point cloud atomically.

    Parameters
    ----------
    path
        Output file; ``.laz`` compresses (lazrs).
    xyz
        (N, 3) coordinates, metres; stored as integers in millimetres from the cloud's floor corner.
    rgb
        (N, 3) uint8 colours (stored scaled to 16 bits, as LAS expects), or None.
    fields
        Per-point values, name -> (N,) numeric array: a standard dimension of point format 7 when the
        name is one (``intensity``, ``gps_time``, ...; cast to its type), else an extra-bytes dimension.
    classification
        (N,) integers 0..255 for the standard classification (viewers colour by it), or None.
    """
    import laspy

    xyz = coordinates_to_write(path, np.asarray(xyz, dtype=np.float64))
    n = len(xyz)
    fields = {name: np.asarray(values) for name, values in (fields or {}).items()}
    for name, values in fields.items():
        if values.shape != (n,):
            raise Beep3dError(f"{path}: field {name!r} must have shape ({n},), got {values.shape}")
    header = laspy.LasHeader(point_format=7, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    finite = xyz[np.isfinite(xyz).all(axis=1)]
    header.offsets = np.floor(finite.min(axis=0)) if len(finite) else np.zeros(3)
    standard = set(header.point_format.dimension_names)  # intensity, gps_time, ...: no extra bytes
    header.add_extra_dims(
        [
            laspy.ExtraBytesParams(name=name, type=_extra_dtype(name, v))
            for name, v in fields.items()
            if name not in standard
        ]
    )
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb is not None:
        rgb16 = np.asarray(rgb, dtype=np.uint16) * 257
        las.red, las.green, las.blue = rgb16[:, 0], rgb16[:, 1], rgb16[:, 2]
    if classification is not None:
        las.classification = np.clip(np.asarray(classification), 0, 255).astype(np.uint8)
    for name, values in fields.items():
        if name in standard:
            las[name] = values.astype(las[name].dtype)
        else:
            las[name] = values.astype(_extra_dtype(name, values))
    suffix = Path(path).suffix.lower()
    # a stream, not a path: laspy picks compression from a path's suffix, and the temporary file's is .tmp
    with atomic_path(path, suffix=suffix) as tmp, open(tmp, "wb") as handle:
        las.write(handle, do_compress=suffix == ".laz")
