"""Plain array files: ``.npy`` (N, >=3) xyz[rgb], ``.npz`` with named arrays, and ``.bin`` float32
(N, 6) xyz rgb (the layout of mmdetection3d's sample points). Nothing is unpickled."""

from __future__ import annotations

import tokenize
import zipfile
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

XYZ_KEYS = ("xyz", "coord", "coords", "points")
COLOUR_KEYS = ("rgb", "color", "colors", "colour", "colours")
SEMANTIC_KEYS = ("semantic", "semantic_ids", "semantic_labels")
INSTANCE_KEYS = ("instance", "instance_ids", "instance_labels")
#: The first bytes of every .npy file (and of every array in an .npz archive).
NPY_MAGIC = b"\x93NUMPY"


def _refuse_pickle_message(path: Path) -> str:
    return (
        f"{path}: the file holds Python objects (a pickle), which this tool never loads because "
        "that could run code; save plain numeric arrays with numpy.save / numpy.savez instead"
    )


def _numeric(path: Path, key: str, array: np.ndarray) -> np.ndarray:
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise Beep3dError(f"{path}: array {key!r} must be numeric, got dtype {array.dtype}")
    return array


def read_npy_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read an (N, >=3) array: columns 0-2 are xyz, columns 3-5 (when present) rgb.

    Colour scale (:func:`beep3d.io.colours.normalise_colours`): an integer array is 0..255; in a float
    array, colours none of which exceeds 1 are 0..1, else 0..255. A float array cannot tell a very dark
    0..255 scan (every channel 0 or 1) from 0..1 pure colours, and reads it as 0..1: save such colours
    as integers, or as uint8 under ``rgb`` in an ``.npz``.
    """
    with open(path, "rb") as handle:
        start = handle.read(len(NPY_MAGIC))
    if start != NPY_MAGIC:
        if start[:1] == b"\x80":
            raise Beep3dError(_refuse_pickle_message(path))
        raise Beep3dError(
            f"{path}: not a .npy file (it does not start with numpy's header); save the points with numpy.save"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise Beep3dError(_refuse_pickle_message(path)) from None
        raise Beep3dError(f"{path}: not a valid .npy file ({exc}); save the points with numpy.save") from None
    except (OSError, EOFError, SyntaxError, tokenize.TokenError, MemoryError) as exc:
        # numpy parses the header's dict as Python literals: a damaged header gives SyntaxError
        raise Beep3dError(
            f"{path}: the .npy file could not be read ({type(exc).__name__}: {exc}); it is damaged, "
            "truncated or not a .npy - save the points again with numpy.save"
        ) from None
    _numeric(path, "points", array)
    if array.ndim != 2 or array.shape[1] < 3:
        raise Beep3dError(
            f"{path}: expected an (N, 3) or (N, 6) array of xyz[rgb], got shape {array.shape}; "
            "save points as rows of x y z [r g b]"
        )
    colours = array[:, 3:6] if array.shape[1] >= 6 else None
    if array.shape[1] not in (3, 6):
        report.notes.append(f"used columns 0-2 as xyz and 3-5 as rgb of a {array.shape[1]}-column array")
    return assemble_scene(path, report, nan_policy, array[:, :3], colours)


def _first(data: dict[str, np.ndarray], keys: tuple[str, ...]) -> tuple[str, np.ndarray] | tuple[None, None]:
    for key in keys:
        if key in data:
            return key, data[key]
    return None, None


def read_npy_array(path: Path, remedy: str) -> np.ndarray:
    """One plain numpy array from an ``.npy`` file, never unpickled.

    Parameters
    ----------
    path
        The ``.npy`` file.
    remedy
        What the user should do when it cannot be read, ending the error message ("re-export ...").

    Returns
    -------
    np.ndarray
        The array as stored (any shape and dtype but object).

    Raises
    ------
    Beep3dError
        Empty, truncated, damaged, an ``.npz`` archive, or pickled objects.
    """
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError, tokenize.TokenError, MemoryError) as exc:
        raise Beep3dError(f"{path}: not a readable .npy array ({exc}); {remedy}") from None
    if not isinstance(array, np.ndarray):  # np.load opened an .npz archive
        array.close()
        raise Beep3dError(f"{path}: an .npz archive, not an .npy array; {remedy}")
    return array


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive, each checked to be numpy data (never a pickle)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {}
            for key in archive.files:
                member_name = key if key in archive.zip.namelist() else f"{key}.npy"
                with archive.zip.open(member_name) as member:
                    start = member.read(len(NPY_MAGIC))
                if start != NPY_MAGIC:
                    raise Beep3dError(
                        f"{path}: array {key!r} in the archive is damaged (not numpy data); save the scene "
                        "again with numpy.savez"
                    )
                try:
                    data[key] = archive[key]
                except ValueError as exc:
                    if "pickle" in str(exc).lower():
                        raise Beep3dError(_refuse_pickle_message(path) + f" (array {key!r})") from None
                    raise
    except Beep3dError:
        raise
    except (
        ValueError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
        KeyError,
        SyntaxError,
        tokenize.TokenError,
        MemoryError,
        NotImplementedError,
    ) as exc:
        raise Beep3dError(
            f"{path}: the .npz archive could not be read ({exc}); it is truncated or not an .npz"
        ) from None
    return data


def _stored_name(data: dict[str, np.ndarray]) -> str | None:
    """The scene name an archive stores under ``name`` (a 0-d string), if any."""
    stored = data.get("name")
    if stored is not None and stored.ndim == 0 and stored.dtype.kind == "U" and str(stored):
        return str(stored)
    return None


def _label_space(path: Path, data: dict[str, np.ndarray], has_semantic: bool) -> str | None:
    """The archive's ``label_space`` (a 0-d string), else "nyu40" when it has semantic labels."""
    if "label_space" in data:
        value = data["label_space"]
        if value.ndim != 0 or value.dtype.kind not in "US":
            raise Beep3dError(
                f"{path}: 'label_space' must be a single string, got {value.dtype} {value.shape}"
            )
        return str(value) or None
    return "nyu40" if has_semantic else None


def read_npz_scene(
    path: Path, report: LoadReport, nan_policy: NanPolicy = "drop", name: str | None = None
) -> Scene:
    """Read a ``.npz`` archive.

    Keys: coordinates under ``xyz``/``coord``/``coords``/``points``; colours under ``rgb``/``color``/
    ``colors``; optional ``normals``, ``faces``, ``superpoints``, ``semantic``/``semantic_ids``,
    ``instance``/``instance_ids``, ``label_space`` (0-d string), ``extra__<name>`` per-point arrays, and
    ``origin`` (3,): the local origin the coordinates are relative to (a georeferenced scan's).
    """
    data = _npz_arrays(path)
    xyz_key, xyz = _first(data, XYZ_KEYS)
    if xyz is None:
        raise Beep3dError(
            f"{path}: the archive has no coordinates (keys: {', '.join(data) or 'none'}); "
            f"store the (N, 3) points under one of {', '.join(XYZ_KEYS)}"
        )
    xyz = _numeric(path, xyz_key, xyz)
    if xyz.ndim != 2 or xyz.shape[1] < 3:
        raise Beep3dError(f"{path}: array {xyz_key!r} must have shape (N, 3), got {xyz.shape}")
    colour_key, colours = _first(data, COLOUR_KEYS)
    if colours is None and xyz.shape[1] >= 6:
        colours = xyz[:, 3:6]
    xyz = xyz[:, :3]
    n = len(xyz)

    def per_point(key: str | None, array: np.ndarray | None, width: int | None = None) -> np.ndarray | None:
        if array is None:
            return None
        array = _numeric(path, key or "?", array)
        expected = (n,) if width is None else (n, width)
        if array.shape != expected:
            raise Beep3dError(
                f"{path}: array {key!r} must have shape {expected} to match {n} points, got {array.shape}"
            )
        return array

    colours = per_point(colour_key or xyz_key, colours, 3)
    normals = per_point("normals", data.get("normals"), 3)
    superpoints = per_point("superpoints", data.get("superpoints"))
    semantic = per_point(*_first(data, SEMANTIC_KEYS))
    instance = per_point(*_first(data, INSTANCE_KEYS))
    faces = data.get("faces")
    if faces is not None:
        faces = _numeric(path, "faces", faces)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise Beep3dError(f"{path}: array 'faces' must have shape (M, 3), got {faces.shape}")
    name = _stored_name(data) or name
    origin = _stored_origin(path, data)
    label_space = _label_space(path, data, semantic is not None)
    if superpoints is not None and len(superpoints):
        superpoints = np.unique(superpoints, return_inverse=True)[1].reshape(-1)
    extra = {
        key[len("extra__") :]: per_point(key, value)
        for key, value in data.items()
        if key.startswith("extra__")
    }
    return assemble_scene(
        path,
        report,
        nan_policy,
        xyz,
        colours,
        normals=normals,
        faces=faces,
        superpoints=superpoints,
        semantic=semantic,
        instance=instance,
        label_space=label_space,
        extra=extra,
        name=name,
        origin=origin,
    )


def _stored_origin(path: Path, data: dict[str, np.ndarray]) -> tuple[float, float, float] | None:
    """The local origin a saved scene's ``xyz`` are relative to (key ``origin``), or None."""
    if "origin" not in data:
        return None
    origin = np.asarray(data["origin"])
    if origin.shape != (3,) or origin.dtype.kind not in "fiu" or not np.isfinite(origin).all():
        raise Beep3dError(
            f"{path}: 'origin' must be 3 finite numbers (the local origin of the points, metres), got "
            f"{origin.shape} {origin.dtype}; the archive is damaged - save the scene again"
        )
    return (float(origin[0]), float(origin[1]), float(origin[2]))


def read_bin_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read raw float32 rows of x y z r g b (mmdetection3d's ``points/*.bin``); rgb may be 0..1 or 0..255."""
    size = path.stat().st_size
    row_bytes = 6 * 4
    if size % row_bytes:
        raise Beep3dError(
            f"{path}: a .bin point file must hold float32 rows of x y z r g b (24 bytes each), "
            f"but its size {size} is not a multiple of 24; it is truncated or has another layout"
        )
    points = np.fromfile(path, dtype="<f4").reshape(-1, 6)
    return assemble_scene(path, report, nan_policy, points[:, :3], points[:, 3:6])
