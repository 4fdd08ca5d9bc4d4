"""A numba kernel that replaces some points' rows of sorted (point, box) pairs in one pass.

Imported only when an edit updates a membership (:meth:`beep3d.geometry.boxes.BoxSet.membership_edit`),
so the command line does not pay numba's import.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _splice(
    point_index, box_index, starts, stops, new_point, new_box, new_starts, new_stops, out_point, out_box
):  # noqa: ANN001, ANN202
    src = 0
    dst = 0
    for i in range(len(starts)):
        count = starts[i] - src
        out_point[dst : dst + count] = point_index[src : starts[i]]
        out_box[dst : dst + count] = box_index[src : starts[i]]
        dst += count
        for j in range(new_starts[i], new_stops[i]):
            out_point[dst] = new_point[j]
            out_box[dst] = new_box[j]
            dst += 1
        src = stops[i]
    count = len(point_index) - src
    out_point[dst : dst + count] = point_index[src:]
    out_box[dst : dst + count] = box_index[src:]


def splice_rows(
    point_index: np.ndarray,
    box_index: np.ndarray,
    points: np.ndarray,
    new_point: np.ndarray,
    new_box: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs sorted by point with the rows of ``points`` replaced by their new pairs.

    Parameters
    ----------
    point_index, box_index
        (P,) int64 pairs sorted by point (then box).
    points
        (A,) int64 sorted unique points whose rows are replaced.
    new_point, new_box
        (Q,) int64 the new pairs of ``points`` (every ``new_point`` among them), sorted by point then box.

    Returns
    -------
    (np.ndarray, np.ndarray)
        (P - old rows of ``points`` + Q,) int64 point and box indices, sorted by point then box.
    """
    starts = np.searchsorted(point_index, points, side="left")
    stops = np.searchsorted(point_index, points, side="right")
    new_starts = np.searchsorted(new_point, points, side="left")
    new_stops = np.searchsorted(new_point, points, side="right")
    size = len(point_index) - int((stops - starts).sum()) + len(new_point)
    out_point = np.empty(size, dtype=np.int64)
    out_box = np.empty(size, dtype=np.int64)
    _splice(
        np.ascontiguousarray(point_index, dtype=np.int64),
        np.ascontiguousarray(box_index, dtype=np.int64),
        starts,
        stops,
        np.ascontiguousarray(new_point, dtype=np.int64),
        np.ascontiguousarray(new_box, dtype=np.int64),
        new_starts,
        new_stops,
        out_point,
        out_box,
    )
    return out_point, out_box
