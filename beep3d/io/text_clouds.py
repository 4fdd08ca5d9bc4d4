"""Text point clouds: ``.xyz``, ``.xyzrgb``, ``.xyzn`` and ``.pts``, one point per line.

Values are separated by spaces, tabs, commas or semicolons; lines starting with ``#`` or ``//`` are
comments (CloudCompare writes its column names there). Every data line must hold the same number of
values. The columns, by suffix and width:

==========  =====================================================================================
suffix      columns
==========  =====================================================================================
.xyz        3: x y z; 4: + intensity; 6: + r g b, or + nx ny nz when every row's last three values
            form a unit vector; 7: + intensity r g b (as PTS); 9: + r g b nx ny nz (CloudCompare)
.xyzrgb     x y z r g b (0..255, or 0..1: see the colour scale below)
.xyzn       x y z nx ny nz
.pts        Leica PTS: a point count line before each scan's rows, then 3: x y z; 4: + intensity;
            6: + r g b; 7: + intensity r g b
==========  =====================================================================================

Columns beyond these are kept in ``Scene.extra`` as ``column_<k>`` (k counted from 0), with a note.

Colour scale: colours written as integers (no decimal point, no exponent, as CloudCompare and
:func:`write_text_cloud` write them) are 0..255, whatever their largest value, so a very dark scan
whose every channel is 0 or 1 reads back as written. Colours written as decimals are 0..1 when none
exceeds 1, else 0..255 (above 255: 0..65535); see :func:`beep3d.io.colours.normalise_colours`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.columns import scene_from_columns
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.scene import Scene

__all__ = ["TEXT_CLOUD_SUFFIXES", "read_text_cloud", "write_text_cloud"]

TEXT_CLOUD_SUFFIXES = (".xyz", ".xyzrgb", ".xyzn", ".pts")

_XYZ = ("x", "y", "z")
_RGB = ("red", "green", "blue")
_NORMALS = ("nx", "ny", "nz")
#: Column names by width, for each suffix (widths not listed: x y z and numbered extra columns).
_LAYOUTS: dict[str, dict[int, tuple[str, ...]]] = {
    ".xyz": {3: _XYZ, 4: (*_XYZ, "intensity"), 7: (*_XYZ, "intensity", *_RGB), 9: (*_XYZ, *_RGB, *_NORMALS)},
    ".xyzrgb": {6: (*_XYZ, *_RGB)},
    ".xyzn": {6: (*_XYZ, *_NORMALS)},
    ".pts": {3: _XYZ, 4: (*_XYZ, "intensity"), 6: (*_XYZ, *_RGB), 7: (*_XYZ, "intensity", *_RGB)},
}
_LEAST_COLUMNS = {".xyz": 3, ".xyzrgb": 6, ".xyzn": 6, ".pts": 3}


def _data_lines(path: Path, suffix: str) -> tuple[list[bytes], int | None]:
    """The data lines of the file, and the sum of PTS point-count lines (None when there are none)."""
    body = path.read_bytes().replace(b",", b" ").replace(b";", b" ")
    lines = []
    declared: int | None = None
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith((b"#", b"//")):
            continue
        if suffix == ".pts" and stripped.isdigit():
            declared = (declared or 0) + int(stripped)
            continue
        lines.append(stripped)
    return lines, declared


def _table(path: Path, lines: list[bytes]) -> np.ndarray:
    """(rows, columns) float64 values of the data lines; a line that is not numbers or has another
    width than the first is named."""
    width = len(lines[0].split())
    try:
        return np.loadtxt(lines, dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        pass  # find the line to name (the fast parser's message is about its own rows)
    bad = next((k for k, line in enumerate(lines) if len(line.split()) != width), None)
    if bad is not None:
        raise Beep3dError(
            f"{path}: data line {bad + 1} has {len(lines[bad].split())} values but the first has {width}; "
            "every point needs the same columns - the file is truncated or mixed"
        )
    bad = next((k for k, line in enumerate(lines) if not _numbers(line)), 0)
    raise Beep3dError(
        f"{path}: data line {bad + 1} ({lines[bad][:60].decode('ascii', 'replace')!r}) is not a row of "
        "numbers; a text cloud holds one point per line (x y z ...), comments start with # or //"
    )


def _numbers(line: bytes) -> bool:
    try:
        [float(word) for word in line.split()]
    except ValueError:
        return False
    return True


def _names(path: Path, suffix: str, table: np.ndarray, report: LoadReport) -> tuple[str, ...]:
    width = table.shape[1]
    if width < _LEAST_COLUMNS[suffix]:
        raise Beep3dError(
            f"{path}: a {suffix} file needs at least {_LEAST_COLUMNS[suffix]} values per line, this one has "
            f"{width}; check the file's suffix and columns"
        )
    layouts = _LAYOUTS[suffix]
    if suffix == ".xyz" and width == 6:
        finite = table[np.isfinite(table[:, 3:6]).all(axis=1), 3:6]
        unit = finite.size and np.allclose(np.linalg.norm(finite, axis=1), 1.0, atol=1e-3)
        names = (*_XYZ, *(_NORMALS if unit else _RGB))
    else:
        fitting = max((w for w in layouts if w <= width), default=3)
        names = layouts.get(fitting, _XYZ)
    if width > len(names):
        report.notes.append(
            f"kept columns {len(names)}..{width - 1} of the {width}-column {suffix} file as column_<k>"
        )
        names = (*names, *(f"column_{k}" for k in range(len(names), width)))
    return names


def read_text_cloud(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read an ``.xyz`` / ``.xyzrgb`` / ``.xyzn`` / ``.pts`` text cloud (columns: module docstring).

    Colours written as integers are 0..255 (even when none exceeds 1: a very dark scan); colours
    written as decimals are 0..1 when none exceeds 1, else 0..255.

    Raises
    ------
    Beep3dError
        No data lines, a line that is not numbers, lines of different widths, too few columns, or
        PTS point counts that disagree with the rows.
    """
    suffix = path.suffix.lower()
    try:
        lines, declared = _data_lines(path, suffix)
    except MemoryError:
        raise Beep3dError(f"{path}: the file is too large to read into memory") from None
    if not lines:
        raise Beep3dError(f"{path}: the file has no points (no data lines); choose a scan that has points")
    table = _table(path, lines)
    if declared is not None and declared != len(table):
        raise Beep3dError(
            f"{path}: the PTS point counts add up to {declared:,} but the file holds {len(table):,} rows; "
            "the file is truncated or its counts are wrong - export it again"
        )
    names = _names(path, suffix, table, report)
    columns = {name: table[:, k] for k, name in enumerate(names)}
    if _integer_colours(lines, table, names):
        for name in _RGB:  # an integer dtype is 0..255 to normalise_colours; floats up to 1 are 0..1
            columns[name] = columns[name].astype(np.int64)
    return scene_from_columns(path, report, nan_policy, columns)


def _integer_colours(lines: list[bytes], table: np.ndarray, names: tuple[str, ...]) -> bool:
    """True when the colours are whole numbers no larger than 1 written as integers ("0", "1"): the
    one case where the values alone cannot tell 0..255 (a very dark scan) from 0..1 (pure colours).
    Larger or fractional values need no look at the text; the text is read only in this rare case."""
    if not all(name in names for name in _RGB):
        return False
    positions = [names.index(name) for name in _RGB]
    colours = table[:, positions]
    if not np.isfinite(colours).all() or colours.max() > 1 or not np.array_equal(colours, np.rint(colours)):
        return False
    return not any(
        b"." in word or b"e" in word or b"E" in word
        for line in lines
        for word in (line.split()[k] for k in positions)
    )


def write_text_cloud(
    path: Path, xyz: np.ndarray, rgb: np.ndarray | None = None, normals: np.ndarray | None = None
) -> None:
    """Write a text cloud atomically, laid out for its suffix (``.xyzrgb`` needs ``rgb``, ``.xyzn``
    needs ``normals``; ``.pts`` starts with the point count and writes ``x y z [r g b]``).

    Parameters
    ----------
    xyz
        (N, 3) metres. rgb: (N, 3) uint8 or None, written as integers 0..255 (which
        :func:`read_text_cloud` reads as 0..255 whatever their values). normals: (N, 3) or None.
    """
    from beep3d.io.atomic import write_text_atomic

    suffix = Path(path).suffix.lower()
    parts = [np.char.mod("%.6f", np.asarray(xyz, dtype=np.float64))]
    if suffix in (".xyzrgb", ".pts", ".xyz") and rgb is not None:
        parts.append(np.asarray(rgb, dtype=np.int64).astype(str))
    elif suffix == ".xyzrgb":
        raise Beep3dError(f"{path}: an .xyzrgb file needs colours")
    if suffix == ".xyzn":
        if normals is None:
            raise Beep3dError(f"{path}: an .xyzn file needs normals")
        parts.append(np.char.mod("%.6f", np.asarray(normals, dtype=np.float64)))
    rows = np.concatenate(parts, axis=1)
    text = "\n".join(" ".join(row) for row in rows) + "\n"
    if suffix == ".pts":
        text = f"{len(rows)}\n{text}"
    write_text_atomic(path, text)
