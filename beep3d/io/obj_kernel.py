"""The compiled (numba) OBJ parser of :mod:`beep3d.io.obj`: one pass over a file's bytes, in steps.

Imported on the first OBJ read, not with :mod:`beep3d.io`: numba is slow to import, and its disk
cache folder is set by :mod:`beep3d.geometry.graph_segmentation` before it is (``cache=True``: the
parser is compiled once per machine). The steps are compiled into the pass (``inline="always"``).

Bytes are told apart by a class per byte value (:data:`BYTE_CLASSES`). Error codes are those of
``beep3d.io.obj._ERRORS`` (0: no error).

The steps take the file's bytes and plain numbers only: the tables they read are module constants
(compiled in), because every array handed to a step inlined in the loop costs reference counting on
each call (passing the tables made the filling pass about 1.15 times slower), and a step returns as
soon as it is done rather than breaking out of its loop first (breaking made the counting pass twice
as slow). The pass is still about 1.15 times slower than the single function it was split from
(1M vertices, 2M triangles: 0.25 s against 0.21-0.22 s filling, the counting pass unchanged).
"""

from __future__ import annotations

import numpy as np

from beep3d.geometry.graph_segmentation import numba

__all__ = ["BYTE_CLASSES", "parse_obj"]

_step = numba.njit(cache=True, nogil=True, inline="always")

#: Byte classes: a word's byte, a blank, the line end, ``#`` (a comment), ``\\`` (a continuation).
_WORD, _BLANK, _LINE_END, _COMMENT, _BACKSLASH = 0, 1, 2, 3, 4
#: Byte values: digits, signs, and the characters of a number or a face corner.
_ZERO, _NINE, _MINUS, _PLUS, _POINT, _SLASH, _NEWLINE = 48, 57, 45, 43, 46, 47, 10
#: Error codes (see ``beep3d.io.obj._ERRORS``).
_BAD_NUMBER, _BAD_CORNER, _INDEX_ZERO, _INDEX_BEYOND, _INDEX_BEFORE = 2, 4, 5, 6, 7


def _byte_classes() -> np.ndarray:
    """(256,) uint8: the class of every byte value (``_WORD`` .. ``_BACKSLASH``)."""
    classes = np.full(256, _WORD, dtype=np.uint8)
    classes[[32, 9, 13, 11, 12]] = _BLANK
    classes[_NEWLINE], classes[35], classes[92] = _LINE_END, _COMMENT, _BACKSLASH
    return classes


#: The class of every byte value (see :func:`_byte_classes`).
BYTE_CLASSES = _byte_classes()
#: 10**0 .. 10**22: the powers of ten a float64 holds exactly.
_POW10 = 10.0 ** np.arange(23, dtype=np.float64)


@_step
def _keyword(buf: np.ndarray, i: int, n: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """Skip a statement's leading blanks and read its keyword; kind 1 ``v``, 2 ``f``, 0 any other."""
    while i < n and BYTE_CLASSES[buf[i]] == _BLANK:
        i += 1
    start = i
    while i < n and BYTE_CLASSES[buf[i]] == _WORD:
        i += 1
    kind = 0
    if i - start == 1 and buf[start] == 118:  # v
        kind = 1
    elif i - start == 1 and buf[start] == 102:  # f
        kind = 2
    return i, kind


@_step
def _skip_blanks(
    buf: np.ndarray, i: int, n: int, line: int
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Skip blanks, and a backslash continuing the statement on the next line; returns (i, line)."""
    while i < n:
        byte_class = BYTE_CLASSES[buf[i]]
        if byte_class == _BLANK:
            i += 1
        elif byte_class == _BACKSLASH:
            j = i + 1
            while j < n and (buf[j] == 13 or buf[j] == 32 or buf[j] == 9):
                j += 1
            if j < n and buf[j] == _NEWLINE:
                i = j + 1
                line += 1
            elif j >= n:
                i = j
            else:
                return i, line
        else:
            return i, line
    return i, line


@_step
def _step_over_word(buf: np.ndarray, i: int, n: int) -> int:  # pragma: no cover - compiled
    """The position after the word starting at ``i``."""
    i += 1
    while i < n and BYTE_CLASSES[buf[i]] == _WORD:
        i += 1
    return i


@_step
def _digits(
    buf: np.ndarray, i: int, n: int, mantissa: np.int64, digits: int, exponent: int, after_point: bool
) -> tuple[int, np.int64, int, int, bool]:  # pragma: no cover - compiled
    """Read a run of decimal digits into ``mantissa`` (its first 19 significant digits).

    Before the decimal point a digit beyond the 19th raises the ``exponent``; after it every kept
    digit lowers it. Returns (i, mantissa, digits kept, exponent, whether a digit was read).
    """
    seen_digit = False
    while i < n and _ZERO <= buf[i] <= _NINE:
        seen_digit = True
        if digits < 19:
            mantissa = mantissa * 10 + (buf[i] - _ZERO)
            if mantissa > 0:
                digits += 1
            if after_point:
                exponent -= 1
        elif not after_point:
            exponent += 1
        i += 1
    return i, mantissa, digits, exponent, seen_digit


@_step
def _exponent(buf: np.ndarray, i: int, n: int) -> tuple[int, int, bool]:  # pragma: no cover - compiled
    """Read the exponent after the ``e`` / ``E`` at ``i``; returns (i, exponent, whether it has digits)."""
    i += 1
    negative = False
    if i < n and (buf[i] == _MINUS or buf[i] == _PLUS):
        negative = buf[i] == _MINUS
        i += 1
    if i >= n or not (_ZERO <= buf[i] <= _NINE):
        return i, 0, False
    written = 0
    while i < n and _ZERO <= buf[i] <= _NINE:
        if written < 100000:
            written = written * 10 + (buf[i] - _ZERO)
        i += 1
    return i, -written if negative else written, True


@_step
def _scaled(mantissa: np.int64, exponent: int) -> float:  # pragma: no cover - compiled
    """``mantissa * 10**exponent``: as ``float()`` gives it for 15 digits and exponents within +-22."""
    value = float(mantissa)
    if mantissa == 0:
        value = 0.0
    elif 0 < exponent <= 22 and mantissa < (1 << 53):
        value = value * _POW10[exponent]
    elif -22 <= exponent < 0 and mantissa < (1 << 53):
        value = value / _POW10[-exponent]
    elif exponent > 400:
        value = np.inf
    elif exponent < -400:
        value = 0.0
    elif exponent != 0:
        value = value * 10.0**exponent
    return value


@_step
def _special_number(
    buf: np.ndarray, i: int, n: int
) -> tuple[int, float, bool]:  # pragma: no cover - compiled
    """Read ``nan``, ``inf`` or ``infinity`` (any case); returns (i, value, whether it was one)."""
    letters = 0
    while i + letters < n and (65 <= buf[i + letters] <= 90 or 97 <= buf[i + letters] <= 122):
        letters += 1
    word = buf[i : i + letters] | 32  # lower case
    if letters == 3 and word[0] == 110 and word[1] == 97 and word[2] == 110:
        return i + letters, np.nan, True
    if (letters == 3 or letters == 8) and word[0] == 105 and word[1] == 110 and word[2] == 102:
        if letters == 8 and not (
            word[3] == 105 and word[4] == 110 and word[5] == 105 and word[6] == 116 and word[7] == 121
        ):
            return i, 0.0, False
        return i + letters, np.inf, True
    return i, 0.0, False


@_step
def _number(buf: np.ndarray, i: int, n: int) -> tuple[int, float, int]:  # pragma: no cover - compiled
    """Read one vertex value: sign, digits, ``.``, digits, exponent; or nan / inf.

    Returns (i, value, error code): 0, or 2 when the word is not a number.
    """
    negative = False
    if buf[i] == _MINUS or buf[i] == _PLUS:
        negative = buf[i] == _MINUS
        i += 1
    i, mantissa, digits, exponent, seen_digit = _digits(buf, i, n, np.int64(0), 0, 0, False)
    if i < n and buf[i] == _POINT:
        i, mantissa, digits, exponent, seen_fraction = _digits(
            buf, i + 1, n, mantissa, digits, exponent, True
        )
        seen_digit = seen_digit or seen_fraction
    if seen_digit:
        if i < n and (buf[i] == 101 or buf[i] == 69):  # e / E
            i, shift, has_digits = _exponent(buf, i, n)
            if not has_digits:
                return i, 0.0, _BAD_NUMBER
            exponent += shift
        value = _scaled(mantissa, exponent)
    else:
        i, value, known = _special_number(buf, i, n)
        if not known:
            return i, 0.0, _BAD_NUMBER
    if i < n and BYTE_CLASSES[buf[i]] == _WORD:
        return i, 0.0, _BAD_NUMBER
    return i, -value if negative else value, 0


@_step
def _corner(
    buf: np.ndarray, i: int, n: int
) -> tuple[int, np.int64, bool, int]:  # pragma: no cover - compiled
    """Read one face corner: a signed vertex index, then ``/...`` (texture, normal) stepped over.

    Returns (i, index, whether it counts back, error code): 0, 4 (not an index) or 5 (index 0).
    """
    negative = False
    if buf[i] == _MINUS or buf[i] == _PLUS:
        negative = buf[i] == _MINUS
        i += 1
    index = np.int64(0)
    seen_digit = False
    while i < n and _ZERO <= buf[i] <= _NINE:
        seen_digit = True
        if index < (np.int64(1) << 40):
            index = index * 10 + (buf[i] - _ZERO)
        i += 1
    if not seen_digit:
        return i, index, negative, _BAD_CORNER
    if i < n and buf[i] == _SLASH:
        while i < n and (buf[i] == _SLASH or buf[i] == _MINUS or buf[i] == _PLUS or _ZERO <= buf[i] <= _NINE):
            i += 1
    if i < n and BYTE_CLASSES[buf[i]] == _WORD:
        return i, index, negative, _BAD_CORNER
    if index == 0:
        return i, index, negative, _INDEX_ZERO
    return i, index, negative, 0


@_step
def _resolved(
    index: np.int64, negative: bool, n_vertices: int, total_vertices: int
) -> tuple[np.int64, int, np.int64, int]:  # pragma: no cover - compiled
    """The 0-based vertex of a corner's index (counting back from the ``n_vertices`` read so far).

    Returns (vertex, error code, the index as written, vertices before): code 0, 6 (beyond the
    file's ``total_vertices``) or 7 (counting back past the first vertex).
    """
    if negative:
        if index > n_vertices:
            return np.int64(0), _INDEX_BEFORE, -index, n_vertices
        return n_vertices - index, 0, np.int64(0), 0
    if index > total_vertices:
        return np.int64(0), _INDEX_BEYOND, index, 0
    return index - 1, 0, np.int64(0), 0


@_step
def _next_line(buf: np.ndarray, i: int, n: int, line: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """The start of the next line (a comment runs to the end of the line); returns (i, line)."""
    while i < n and buf[i] != _NEWLINE:
        i += 1
    if i < n:
        i += 1
        line += 1
    return i, line


@numba.njit(cache=True, nogil=True)
def parse_obj(
    buf: np.ndarray, fill: bool, total_vertices: int, vertices: np.ndarray, triangles: np.ndarray
) -> tuple[int, int, int, int, int, int, int, int]:  # pragma: no cover - compiled
    """One pass over an OBJ file's bytes.

    With ``fill`` False the pass counts (vertex lines, triangles, smallest and largest vertex width)
    and checks the line shapes; with ``fill`` True it also parses the numbers into ``vertices``
    ((V, 7) float64) and the fan triangles into ``triangles`` ((T, 3) int64), checking every index
    against ``total_vertices``.

    Returns
    -------
    (vertices, triangles, min width, max width, error code, error line, error value, vertices before)
        Error code 0: no error; otherwise see ``beep3d.io.obj._ERRORS``.
    """
    n = len(buf)
    i = 0
    line = 1
    n_vertices = 0
    n_triangles = 0
    min_width = 1 << 30
    max_width = 0
    while i < n:
        i, kind = _keyword(buf, i, n)
        statement_line = line
        count = 0
        first = np.int64(0)
        previous = np.int64(0)
        while True:  # the statement's values (a skipped statement's words are stepped over the same way)
            i, line = _skip_blanks(buf, i, n, line)
            if i >= n or BYTE_CLASSES[buf[i]] == _LINE_END or BYTE_CLASSES[buf[i]] == _COMMENT:
                break
            if kind == 0 or not fill:
                i = _step_over_word(buf, i, n)
                count += 1
                continue
            if kind == 1:
                i, number, code = _number(buf, i, n)
                if code != 0:
                    return n_vertices, n_triangles, min_width, max_width, code, statement_line, 0, 0
                if count < 7:
                    vertices[n_vertices, count] = number
                count += 1
                continue
            i, index, negative, code = _corner(buf, i, n)
            if code != 0:
                return n_vertices, n_triangles, min_width, max_width, code, statement_line, 0, 0
            resolved, code, written, before = _resolved(index, negative, n_vertices, total_vertices)
            if code != 0:
                return n_vertices, n_triangles, min_width, max_width, code, statement_line, written, before
            if count == 0:
                first = resolved
            elif count >= 2:  # the fan's next triangle
                triangles[n_triangles + count - 2, 0] = first
                triangles[n_triangles + count - 2, 1] = previous
                triangles[n_triangles + count - 2, 2] = resolved
            previous = resolved
            count += 1
        i, line = _next_line(buf, i, n, line)
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
