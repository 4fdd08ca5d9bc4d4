"""Named per-point columns to a Scene: the one mapping the PCD, text, LAS and E57 readers share
(and, for the writers, the checks of the columns they are given).

A reader that has turned its file into named (N,) columns hands them here. Well-known names become
the Scene's fields, as in the PLY reader; every other column is kept in ``Scene.extra``:

- ``x y z`` -> xyz (required),
- ``red green blue`` / ``r g b`` (any numeric scale; see :func:`beep3d.io.colours.normalise_colours`) -> rgb,
- ``nx ny nz`` / ``normal_x normal_y normal_z`` -> normals,
- ``instance`` / ``instance_id`` -> instance; ``semantic`` / ``label`` / ``nyu40`` -> semantic
  (label space "nyu40" only for a column named ``nyu40``, else unknown).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

COLOUR_COLUMNS: tuple[tuple[str, str, str], ...] = (("red", "green", "blue"), ("r", "g", "b"))
NORMAL_COLUMNS: tuple[tuple[str, str, str], ...] = (("nx", "ny", "nz"), ("normal_x", "normal_y", "normal_z"))
INSTANCE_COLUMNS = ("instance", "instance_id")
SEMANTIC_COLUMNS = ("nyu40", "semantic", "label")


def _triple(columns: dict[str, np.ndarray], names: tuple[tuple[str, str, str], ...]) -> tuple[str, ...]:
    return next((triple for triple in names if all(n in columns for n in triple)), ())


def _labels(path: Path, name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        finite = np.isfinite(values)
        if not finite.all() or np.any(values[finite] != np.round(values[finite])):
            raise Beep3dError(
                f"{path}: column {name!r} holds labels that are not whole numbers; "
                "labels must be integers (rename the column if it is something else)"
            )
    return values.astype(np.int64)


def scene_from_columns(
    path: Path,
    report: LoadReport,
    nan_policy: NanPolicy,
    columns: dict[str, np.ndarray],
    *,
    faces: np.ndarray | None = None,
    name: str | None = None,
) -> Scene:
    """Build a checked Scene from named per-point columns.

    Parameters
    ----------
    path
        The file the columns came from (for messages and ``Scene.source``).
    report
        Filled with the colour scale, dropped points and notes.
    nan_policy
        What to do with points whose coordinates are NaN or infinite.
    columns
        Name -> (N,) numeric array; must hold ``x``, ``y`` and ``z`` (metres).
    faces
        (M, 3) triangle vertex indices, or None.
    name
        Scene name (default: the file stem).

    Raises
    ------
    Beep3dError
        No coordinates, columns of different lengths, non-integer labels, or what
        :func:`beep3d.io.report.assemble_scene` refuses.
    """
    missing = [axis for axis in "xyz" if axis not in columns]
    if missing:
        raise Beep3dError(
            f"{path}: no {'/'.join(missing)} coordinate (columns: {', '.join(columns) or 'none'}); "
            "a scan needs x, y and z per point"
        )
    lengths = {key: len(value) for key, value in columns.items()}
    if len(set(lengths.values())) > 1:
        raise Beep3dError(f"{path}: the columns have different lengths ({lengths}); the file is malformed")
    used: set[str] = set()

    def stack(triple: tuple[str, ...]) -> np.ndarray | None:
        if not triple:
            return None
        used.update(triple)
        return np.stack([np.asarray(columns[n]) for n in triple], axis=1)

    xyz = stack(("x", "y", "z"))
    colours = stack(_triple(columns, COLOUR_COLUMNS))
    normals = stack(_triple(columns, NORMAL_COLUMNS))
    if normals is not None:
        normals = normals.astype(np.float32)
    instance_name = next((n for n in INSTANCE_COLUMNS if n in columns), None)
    semantic_name = next((n for n in SEMANTIC_COLUMNS if n in columns), None)
    instance = None if instance_name is None else _labels(path, instance_name, columns[instance_name])
    semantic = None if semantic_name is None else _labels(path, semantic_name, columns[semantic_name])
    used.update(n for n in (instance_name, semantic_name) if n is not None)
    extra = {key: np.asarray(value) for key, value in columns.items() if key not in used}
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
        label_space="nyu40" if semantic_name == "nyu40" else None,
        extra=extra,
        name=name,
    )


def checked_extra_columns(
    path: Path, columns: list[tuple[str, np.ndarray]], extra: dict[str, np.ndarray] | None, n: int, what: str
) -> list[tuple[str, np.ndarray]]:
    """``columns`` followed by the ``extra`` per-point ones, checked for a writer.

    Parameters
    ----------
    path
        The file being written (for messages).
    columns
        (name, values) columns the writer has already (x, y, z, colours, ...).
    extra
        Further named (N,) arrays, or None.
    n
        Number of points.
    what
        What the format calls a column ("property", "field").

    Raises
    ------
    Beep3dError
        A column that is not one value per point, a name that is not one word, or a repeated name.
    """
    columns = list(columns)
    for name, values in (extra or {}).items():
        values = np.asarray(values)
        if values.shape != (n,):
            raise Beep3dError(f"{path}: {what} {name!r} must have shape ({n},), got {values.shape}")
        if not name or any(ch.isspace() for ch in name):
            raise Beep3dError(f"{path}: {what} name {name!r} must be one word")
        columns.append((name, values))
    names = [name for name, _ in columns]
    if len(set(names)) != len(names):
        raise Beep3dError(f"{path}: {what} names repeat: {names}")
    return columns


def coordinates_to_write(path: str | os.PathLike[str], xyz: np.ndarray) -> np.ndarray:
    """``xyz`` checked for a writer: (N, 3) floats, metres (float32 unless float32 or wider is given).

    Raises
    ------
    Beep3dError
        ``xyz`` is not (N, 3).
    """
    xyz = np.asarray(xyz)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise Beep3dError(f"{path}: xyz must have shape (N, 3), got {xyz.shape}")
    if not np.issubdtype(xyz.dtype, np.floating) or xyz.dtype.itemsize < 4:
        xyz = xyz.astype(np.float32)
    return xyz


def colours_to_write(
    path: str | os.PathLike[str], rgb: np.ndarray, n: int, dtype: type | None = None
) -> np.ndarray:
    """``rgb`` checked for a writer: (N, 3) colours, as ``dtype`` when given (else their own).

    Raises
    ------
    Beep3dError
        ``rgb`` is not one colour per point of the ``n``.
    """
    rgb = np.asarray(rgb, dtype=dtype)
    if rgb.shape != (n, 3):
        raise Beep3dError(f"{path}: rgb must have shape ({n}, 3), got {rgb.shape}")
    return rgb
