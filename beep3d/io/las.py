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

import os
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.atomic import atomic_path
from beep3d.io.columns import scene_from_columns
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.scene import Scene

__all__ = ["LAS_SUFFIXES", "read_las_scene", "write_las"]

LAS_SUFFIXES = (".las", ".laz")
#: laspy's names of the raw integer coordinates and colours; the scaled x y z are read instead.
_RAW = ("X", "Y", "Z", "red", "green", "blue")
#: Coordinates beyond this (metres) lose more than a centimetre in the Scene's float32.
_FLOAT32_CM_LIMIT_M = 100_000.0


def _read(path: Path):  # noqa: ANN202 - laspy.LasData
    import laspy

    try:
        with open(path, "rb") as handle:
            signature = handle.read(4)
        if signature != b"LASF":
            raise Beep3dError(
                f"{path}: not a LAS/LAZ file (it does not start with 'LASF'); choose a .las or .laz scan"
            )
        return laspy.read(path)
    except Beep3dError:
        raise
    except MemoryError:
        raise Beep3dError(f"{path}: the file is too large to read into memory") from None
    except laspy.errors.LaspyException as exc:
        raise Beep3dError(
            f"{path}: the LAS/LAZ file could not be read ({exc}); it is truncated or corrupt - export it again"
        ) from None
    except (ValueError, OSError, EOFError, RuntimeError, KeyError, IndexError, TypeError) as exc:
        # lazrs reports damaged compressed chunks as plain exceptions
        raise Beep3dError(
            f"{path}: the LAS/LAZ data could not be read ({type(exc).__name__}: {exc}); the file is truncated "
            "or corrupt - export it again"
        ) from None


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
        for channel in ("red", "green", "blue"):
            columns[channel] = np.asarray(las[channel])
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
    reach = max(float(np.abs(las.header.mins).max()), float(np.abs(las.header.maxs).max()))
    if reach > _FLOAT32_CM_LIMIT_M:
        report.notes.append(
            f"coordinates reach {reach:,.0f} m (georeferenced); held as float32 they keep about "
            f"{reach * 2**-24 * 100:.0f} cm - shift the scan to a local origin for finer boxes"
        )
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
        Per-point values as extra-bytes dimensions, name -> (N,) numeric array.
    classification
        (N,) integers 0..255 for the standard classification (viewers colour by it), or None.
    """
    import laspy

    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise Beep3dError(f"{path}: xyz must have shape (N, 3), got {xyz.shape}")
    n = len(xyz)
    fields = {name: np.asarray(values) for name, values in (fields or {}).items()}
    for name, values in fields.items():
        if values.shape != (n,):
            raise Beep3dError(f"{path}: field {name!r} must have shape ({n},), got {values.shape}")
    header = laspy.LasHeader(point_format=7, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    finite = xyz[np.isfinite(xyz).all(axis=1)]
    header.offsets = np.floor(finite.min(axis=0)) if len(finite) else np.zeros(3)
    header.add_extra_dims(
        [laspy.ExtraBytesParams(name=name, type=_extra_dtype(name, v)) for name, v in fields.items()]
    )
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb is not None:
        rgb16 = np.asarray(rgb, dtype=np.uint16) * 257
        las.red, las.green, las.blue = rgb16[:, 0], rgb16[:, 1], rgb16[:, 2]
    if classification is not None:
        las.classification = np.clip(np.asarray(classification), 0, 255).astype(np.uint8)
    for name, values in fields.items():
        las[name] = values.astype(_extra_dtype(name, values))
    suffix = Path(path).suffix.lower()
    # a stream, not a path: laspy picks compression from a path's suffix, and the temporary file's is .tmp
    with atomic_path(path, suffix=suffix) as tmp, open(tmp, "wb") as handle:
        las.write(handle, do_compress=suffix == ".laz")
