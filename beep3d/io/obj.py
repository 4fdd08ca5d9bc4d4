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


def _byte_classes() -> np.ndarray:
    """(256,) uint8: 0 a word's byte, 1 a blank, 2 the line end, 3 ``#``, 4 ``\\``."""
    classes = np.zeros(256, dtype=np.uint8)
    classes[[32, 9, 13, 11, 12]] = 1
    classes[10], classes[35], classes[92] = 2, 3, 4
    return classes


_CLASSES = _byte_classes()


def _parse(  # noqa: C901, PLR0912, PLR0915 - one compiled pass, kept flat for numba
    buf: np.ndarray,
    fill: bool,
    total_vertices: int,
    vertices: np.ndarray,
    triangles: np.ndarray,
    pow10: np.ndarray,
    classes: np.ndarray,
) -> tuple[int, int, int, int, int, int, int, int]:  # pragma: no cover - compiled
    """One pass over an OBJ file's bytes.

    With ``fill`` False the pass counts (vertex lines, triangles, smallest and largest vertex width)
    and checks the line shapes; with ``fill`` True it also parses the numbers into ``vertices``
    ((V, 7) float64) and the fan triangles into ``triangles`` ((T, 3) int64), checking every index
    against ``total_vertices``. ``pow10`` holds 10**0 .. 10**22 and ``classes`` the class of every
    byte value (:data:`_CLASSES`).

    Returns
    -------
    (vertices, triangles, min width, max width, error code, error line, error value, vertices before)
        Error code 0: no error; otherwise see ``_ERRORS``.
    """
    n = len(buf)
    i = 0
    line = 1
    n_vertices = 0
    n_triangles = 0
    min_width = 1 << 30
    max_width = 0
    while i < n:
        # --- start of a statement: skip leading blanks, read the keyword
        while i < n and classes[buf[i]] == 1:
            i += 1
        start = i
        while i < n and classes[buf[i]] == 0:
            i += 1
        kind = 0
        if i - start == 1 and buf[start] == 118:  # v
            kind = 1
        elif i - start == 1 and buf[start] == 102:  # f
            kind = 2
        statement_line = line
        count = 0
        first = np.int64(0)
        previous = np.int64(0)
        # --- the statement's values (a skipped statement's words are stepped over the same way)
        while True:
            while i < n:  # blanks, and a backslash continuing the statement on the next line
                c = classes[buf[i]]
                if c == 1:
                    i += 1
                elif c == 4:
                    j = i + 1
                    while j < n and (buf[j] == 13 or buf[j] == 32 or buf[j] == 9):
                        j += 1
                    if j < n and buf[j] == 10:
                        i = j + 1
                        line += 1
                    elif j >= n:
                        i = j
                    else:
                        break
                else:
                    break
            if i >= n or classes[buf[i]] == 2 or classes[buf[i]] == 3:
                break
            if kind == 0 or not fill:
                # step over the word
                i += 1
                while i < n and classes[buf[i]] == 0:
                    i += 1
                count += 1
                continue
            if kind == 1:
                # --- a number: sign, digits, '.', digits, exponent; or nan / inf
                negative = False
                if buf[i] == 45 or buf[i] == 43:
                    negative = buf[i] == 45
                    i += 1
                mantissa = np.int64(0)
                digits = 0
                exponent = 0
                seen_digit = False
                while i < n and 48 <= buf[i] <= 57:
                    seen_digit = True
                    if digits < 19:
                        mantissa = mantissa * 10 + (buf[i] - 48)
                        if mantissa > 0:
                            digits += 1
                    else:
                        exponent += 1
                    i += 1
                if i < n and buf[i] == 46:
                    i += 1
                    while i < n and 48 <= buf[i] <= 57:
                        seen_digit = True
                        if digits < 19:
                            mantissa = mantissa * 10 + (buf[i] - 48)
                            if mantissa > 0:
                                digits += 1
                            exponent -= 1
                        i += 1
                value = 0.0
                if seen_digit:
                    if i < n and (buf[i] == 101 or buf[i] == 69):  # e / E
                        i += 1
                        exp_negative = False
                        if i < n and (buf[i] == 45 or buf[i] == 43):
                            exp_negative = buf[i] == 45
                            i += 1
                        if i >= n or not (48 <= buf[i] <= 57):
                            return n_vertices, n_triangles, min_width, max_width, 2, statement_line, 0, 0
                        written = 0
                        while i < n and 48 <= buf[i] <= 57:
                            if written < 100000:
                                written = written * 10 + (buf[i] - 48)
                            i += 1
                        exponent += -written if exp_negative else written
                    value = float(mantissa)
                    if mantissa == 0:
                        value = 0.0
                    elif 0 < exponent <= 22 and mantissa < (1 << 53):
                        value = value * pow10[exponent]
                    elif -22 <= exponent < 0 and mantissa < (1 << 53):
                        value = value / pow10[-exponent]
                    elif exponent > 400:
                        value = np.inf
                    elif exponent < -400:
                        value = 0.0
                    elif exponent != 0:
                        value = value * 10.0**exponent
                else:  # nan, inf, infinity (any case)
                    letters = 0
                    while i + letters < n and (65 <= buf[i + letters] <= 90 or 97 <= buf[i + letters] <= 122):
                        letters += 1
                    word = buf[i : i + letters] | 32  # lower case
                    if letters == 3 and word[0] == 110 and word[1] == 97 and word[2] == 110:
                        value = np.nan
                    elif (
                        (letters == 3 or letters == 8)
                        and word[0] == 105
                        and word[1] == 110
                        and word[2] == 102
                    ):
                        value = np.inf
                        if letters == 8 and not (
                            word[3] == 105
                            and word[4] == 110
                            and word[5] == 105
                            and word[6] == 116
                            and word[7] == 121
                        ):
                            return n_vertices, n_triangles, min_width, max_width, 2, statement_line, 0, 0
                    else:
                        return n_vertices, n_triangles, min_width, max_width, 2, statement_line, 0, 0
                    i += letters
                if i < n and classes[buf[i]] == 0:
                    return n_vertices, n_triangles, min_width, max_width, 2, statement_line, 0, 0
                if count < 7:
                    vertices[n_vertices, count] = -value if negative else value
                count += 1
                continue
            # --- a face corner: a signed vertex index, then '/...' (texture, normal) is stepped over
            negative = False
            if buf[i] == 45 or buf[i] == 43:
                negative = buf[i] == 45
                i += 1
            index = np.int64(0)
            seen_digit = False
            while i < n and 48 <= buf[i] <= 57:
                seen_digit = True
                if index < (np.int64(1) << 40):
                    index = index * 10 + (buf[i] - 48)
                i += 1
            if not seen_digit:
                return n_vertices, n_triangles, min_width, max_width, 4, statement_line, 0, 0
            if i < n and buf[i] == 47:  # '/'
                while i < n and (buf[i] == 47 or buf[i] == 45 or buf[i] == 43 or 48 <= buf[i] <= 57):
                    i += 1
            if i < n and classes[buf[i]] == 0:
                return n_vertices, n_triangles, min_width, max_width, 4, statement_line, 0, 0
            if index == 0:
                return n_vertices, n_triangles, min_width, max_width, 5, statement_line, 0, 0
            if negative:
                if index > n_vertices:
                    return (
                        n_vertices,
                        n_triangles,
                        min_width,
                        max_width,
                        7,
                        statement_line,
                        -index,
                        n_vertices,
                    )
                resolved = n_vertices - index
            else:
                if index > total_vertices:
                    return n_vertices, n_triangles, min_width, max_width, 6, statement_line, index, 0
                resolved = index - 1
            if count == 0:
                first = resolved
            elif count >= 2:
                triangles[n_triangles + count - 2, 0] = first
                triangles[n_triangles + count - 2, 1] = previous
                triangles[n_triangles + count - 2, 2] = resolved
            previous = resolved
            count += 1
        # --- end of the statement: a comment runs to the end of the line
        while i < n and buf[i] != 10:
            i += 1
        if i < n:
            i += 1
            line += 1
        if kind == 1:
            if count != 3 and count != 4 and count != 6 and count != 7:
                return n_vertices, n_triangles, min_width, max_width, 1, statement_line, count, 0
            min_width = min(min_width, count)
            max_width = max(max_width, count)
            n_vertices += 1
        elif kind == 2:
            if count < 3:
                return n_vertices, n_triangles, min_width, max_width, 3, statement_line, count, 0
            n_triangles += count - 2
    return n_vertices, n_triangles, min_width, max_width, 0, 0, 0, 0


@cache
def _kernel():  # noqa: ANN202 - a numba dispatcher
    """The compiled parser (numba is imported on first use, after its disk cache is pointed at a
    writable folder by :mod:`beep3d.geometry.graph_segmentation`)."""
    import importlib

    importlib.import_module("beep3d.geometry.graph_segmentation")  # before numba: its cache folder
    import numba

    return numba.njit(cache=True, nogil=True)(_parse)


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
    pow10 = 10.0 ** np.arange(23, dtype=np.float64)
    empty_v, empty_t = np.zeros((0, 7), np.float64), np.zeros((0, 3), np.int64)
    n_vertices, n_triangles, min_width, max_width, code, line, value, before = parse(
        buf, False, 0, empty_v, empty_t, pow10, _CLASSES
    )
    if code == 0:
        vertices = np.zeros((n_vertices, 7), dtype=np.float64)
        triangles = np.empty((n_triangles, 3), dtype=np.int64)
        _, _, _, _, code, line, value, before = parse(
            buf, True, n_vertices, vertices, triangles, pow10, _CLASSES
        )
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
