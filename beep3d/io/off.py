"""OFF meshes (Object File Format), read with numpy.

Layout: a keyword line (``OFF``, with ``C`` / ``N`` / ``ST`` prefixes when vertices carry colours,
normals or texture coordinates), a counts line ``vertices faces edges`` (it may share the keyword's
line), one vertex per line (``x y z`` then normals, colours, texture coordinates as the prefixes say),
and one face per line (``k i_1 ... i_k``, an optional colour after it). ``#`` starts a comment.
Polygons are split into triangles as fans. Vertex colours may be 0..1 floats or 0..255.

Open3D reads OFF too, but crashed the process (a segmentation fault) on damaged files in
``tests/io/test_fuzz_formats.py``, and trimesh took 13 s for a 1M-vertex mesh and dropped the
colours; so OFF is read here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError

__all__ = ["read_off"]

_KEYWORD = re.compile(rb"^(ST)?(C)?(N)?(4)?(n)?OFF$")


def _lines(path: Path) -> list[bytes]:
    lines = []
    for raw in path.read_bytes().splitlines():
        line = raw.split(b"#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _numbers(path: Path, lines: list[bytes], what: str, first_line: int) -> np.ndarray:
    """(rows, columns) values of ``lines``, which must all hold the same count of numbers."""
    try:
        return np.loadtxt(lines, dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        width = len(lines[0].split())
        bad = next((k for k, line in enumerate(lines) if len(line.split()) != width), None)
        where = f"line {first_line + (bad or 0) + 1}"
        raise Beep3dError(
            f"{path}: the OFF {what} on {where} "
            + ("has another number of values than the first" if bad is not None else "are not numbers")
            + "; the file is damaged - export it again"
        ) from None


def _faces(path: Path, lines: list[bytes], n_vertices: int, first_line: int) -> np.ndarray:
    """(M, 3) int64 triangles of the face lines (polygons as fans)."""
    if not lines:
        return np.zeros((0, 3), dtype=np.int64)
    widths = {len(line.split()) for line in lines[:1000]}
    if widths == {4} and all(line.startswith(b"3 ") for line in lines[:1000]):
        try:
            table = np.loadtxt(lines, dtype=np.int64, ndmin=2, comments=None)
        except ValueError:
            table = None
        if table is not None and table.shape[1] == 4 and np.all(table[:, 0] == 3):
            return table[:, 1:]
    triangles = []
    for k, line in enumerate(lines):
        try:
            values = [int(v) for v in line.split()]
        except ValueError:
            values = []
        if not values or values[0] < 3 or len(values) < values[0] + 1:
            raise Beep3dError(
                f"{path}: OFF face on line {first_line + k + 1} ({line[:50].decode('ascii', 'replace')!r}) is not "
                "'k i_1 ... i_k' with k >= 3; the file is damaged - export it again"
            )
        corners = values[1 : values[0] + 1]
        triangles.extend((corners[0], corners[j], corners[j + 1]) for j in range(1, len(corners) - 1))
    return np.asarray(triangles, dtype=np.int64).reshape(-1, 3)


def read_off(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read an OFF mesh.

    Returns
    -------
    vertices
        (N, 3) float64, as in the file.
    faces
        (M, 3) int64 triangles (not yet checked against N).
    colours
        (N, 3) float64 vertex colours (0..1 or 0..255, as the file has them), or None.

    Raises
    ------
    Beep3dError
        No OFF keyword, bad counts, fewer lines than the counts declare, or rows that are not numbers.
    """
    lines = _lines(path)
    if not lines:
        raise Beep3dError(f"{path}: no vertices could be read; the .off file is empty - export it again")
    words = lines[0].split()
    match = _KEYWORD.match(words[0])
    if match is None or match.group(4) or match.group(5):
        raise Beep3dError(
            f"{path}: not an OFF mesh this tool reads (first word {words[0][:20].decode('ascii', 'replace')!r}; "
            "expected OFF, COFF, NOFF, CNOFF or STOFF)"
        )
    counts_line, body = (
        (words[1:], lines[1:]) if len(words) > 1 else (lines[1].split() if len(lines) > 1 else [], lines[2:])
    )
    try:
        n_vertices, n_faces = int(counts_line[0]), int(counts_line[1])
    except (IndexError, ValueError):
        raise Beep3dError(
            f"{path}: the OFF counts line must start with the vertex and face counts; the file is damaged"
        ) from None
    if n_vertices <= 0 or n_faces < 0 or n_vertices + n_faces > len(body):
        raise Beep3dError(
            f"{path}: the OFF header declares {n_vertices:,} vertices and {n_faces:,} faces but the file has "
            f"{len(body):,} lines after it; the file is truncated or its counts are wrong - export it again"
        )
    first = len(lines) - len(body)
    table = _numbers(path, body[:n_vertices], "vertices", first)
    has_normals, has_colours = bool(match.group(3)), bool(match.group(2))
    colour_at = 6 if has_normals else 3
    if table.shape[1] < 3 + 3 * has_normals + 3 * has_colours:
        raise Beep3dError(
            f"{path}: the OFF vertices have {table.shape[1]} values, fewer than its keyword needs"
        )
    colours = table[:, colour_at : colour_at + 3] if has_colours else None
    faces = _faces(path, body[n_vertices : n_vertices + n_faces], n_vertices, first + n_vertices)
    return table[:, :3], faces, colours
