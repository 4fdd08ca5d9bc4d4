"""Wavefront OBJ meshes, read by a compiled (numba) parser.

What is read: ``v x y z`` vertex lines, with a fourth value ``w`` (ignored, as every mesh reader
does) or vertex colours ``v x y z r g b`` (and ``r g b a``; 0..1 or 0..255, detected later), and
``f`` face lines of three or more corners. A corner is ``i``, ``i/t``, ``i/t/n`` or ``i//n``; only
the vertex index ``i`` is used. Indices count from 1; a negative index counts back from the last
vertex read before the face (``-1`` is the vertex just above). Polygons are split into triangles as
fans (``a b c d`` gives ``a b c`` and ``a c d``). ``#`` starts a comment, a ``\\`` at the end of a
line continues the statement on the next line, and every other statement (``vt``, ``vn``, ``o``,
``g``, ``usemtl``, ``l``, curves, ...) is skipped. Vertices keep the file's order.

Any malformed ``v`` or ``f`` line (a value that is not a number, too few or too many values, an
index 0 or one that names no vertex) is refused with one error naming the file and the line.

Why a parser of its own: trimesh took 7.7-10.8 s for a 1M-vertex, 2M-triangle OBJ with vertex
colours (its reader is Python string work, then a per-face loop), and numpy's text parsers
(``np.loadtxt``, ``np.fromstring``) 2.4 s for the vertex lines alone on this 2-core machine; the
compiled parser reads the whole file in two passes over its bytes (count, then fill), about 10x
faster (``bench/bench_load_formats.py``). Numbers are parsed exactly as ``float()`` does when they
have at most 15 significant digits and an exponent within +-22 (``%f``-style output, the usual OBJ
writer's); longer ones (17-digit reprs) may differ from it by one unit in the last place of a float64
(2e-16 relative), far below the float32 the scene keeps.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError

__all__ = ["read_obj"]

# what the kernel's error code means: (message after "line N:", whether the value is shown)
_ERRORS = {
    1: "a vertex ('v') has {value} values; a vertex is 'v x y z', 'v x y z w' or 'v x y z r g b [a]'",
    2: "a vertex ('v') value is not a number",
    3: "a face ('f') has {value} corners; a face needs at least 3",
    4: "a face ('f') corner is not a vertex index ('i', 'i/t', 'i/t/n' or 'i//n')",
    5: "a face ('f') uses vertex index 0; OBJ indices count from 1",
    6: "a face ('f') refers to vertex {value}, but the file has {vertices:,} vertices",
    7: "a face ('f') refers to vertex {value} (counting back), but only {before:,} vertices come before it",
}


@cache
def _kernel():  # noqa: ANN202 - a numba dispatcher
    """The compiled parser, :func:`beep3d.io.obj_kernel.parse_obj` (numba is imported on first use,
    after its disk cache is pointed at a writable folder by :mod:`beep3d.geometry.graph_segmentation`)."""
    from beep3d.io.obj_kernel import parse_obj

    return parse_obj


def _line_text(data: bytes, line: int) -> str:
    """The first 60 characters of line ``line`` (1-based) of ``data``, for an error message."""
    start = 0
    for _ in range(line - 1):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return ""
    end = data.find(b"\n", start)
    text = data[start : end if end >= 0 else len(data)].strip()
    return text[:60].decode("utf-8", "replace") + ("..." if len(text) > 60 else "")


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
    """Read an OBJ mesh (see the module docstring).

    Parameters
    ----------
    path
        The ``.obj`` file.

    Returns
    -------
    vertices
        (N, 3) float64, in the file's order.
    faces
        (M, 3) int64 triangles, every index in ``0 .. N-1``.
    colours
        (N, 3) float64 vertex colours as written (0..1 or 0..255), or None when not every vertex has
        them.
    notes
        Remarks for the load report (e.g. colours dropped because only some vertices have them).

    Raises
    ------
    Beep3dError
        A malformed ``v`` or ``f`` line (the message names the file and the line).
    """
    data = path.read_bytes()
    if b"\n" not in data and b"\r" in data:  # classic Mac line ends
        data = data.replace(b"\r", b"\n")
    buf = np.frombuffer(data, dtype=np.uint8)
    parse = _kernel()
    empty_v, empty_t = np.zeros((0, 7), np.float64), np.zeros((0, 3), np.int64)
    n_vertices, n_triangles, min_width, max_width, code, line, value, before = parse(
        buf, False, 0, empty_v, empty_t
    )
    if code == 0:
        vertices = np.zeros((n_vertices, 7), dtype=np.float64)
        triangles = np.empty((n_triangles, 3), dtype=np.int64)
        _, _, _, _, code, line, value, before = parse(buf, True, n_vertices, vertices, triangles)
    if code != 0:
        problem = _ERRORS[int(code)].format(value=int(value), vertices=int(n_vertices), before=int(before))
        raise Beep3dError(
            f"{path}: line {line}: {problem} ({_line_text(data, int(line))!r}); the file is damaged - "
            "fix that line or export the mesh again"
        )
    notes: list[str] = []
    colours = None
    if n_vertices and min_width >= 6:
        colours = vertices[:, 3:6]
    elif max_width >= 6:
        notes.append("only some of the OBJ's vertices have colours; the mesh is read without colours")
    return vertices[:, :3], triangles, colours, notes
