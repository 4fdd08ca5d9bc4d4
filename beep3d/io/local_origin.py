"""Georeferenced scans: coordinates far from the origin are kept relative to a local origin.

A LAS file in UTM lies 500 km east and 4,000 km north of its origin. The tool keeps coordinates as
32-bit floats (every geometry step, the view, the network), whose step there is 25-50 cm: the room
would collapse onto a coarse grid. Such a scan is therefore *shifted* when it is read, the way
CloudCompare's "global shift" does it: a round origin near the scan (the median point, rounded to
whole kilometres on each axis, so a z of a few hundred metres above the datum stays as it is) is
subtracted in 64-bit arithmetic before the coordinates become 32-bit, and the scene remembers it
(:attr:`beep3d.scene.Scene.origin`). Everything the tool computes works in these local coordinates;
what it writes for other programs uses the file's own coordinates again (``local + origin``, in 64-bit):
box files of every format and the exported point clouds (PLY, PCD, LAS). Saved scene folders keep
the local coordinates and the origin beside them.

A file storing 32-bit coordinates that far out keeps only the precision of the file itself (4 mm at
50 km); beyond 131,072 m its step exceeds a centimetre, shifting cannot bring the precision back, and the
file is refused with what to do.
"""

from __future__ import annotations

import numpy as np

from beep3d.errors import Beep3dError

#: Coordinates are kept as 32-bit floats, whose step is 2 mm up to this distance from the origin
#: (metres); beyond it, nearby points of an indoor scan start to merge. Scans reaching further are
#: shifted (or refused, when the file's own 32-bit coordinates step by more than a centimetre).
FLOAT32_LIMIT_M = 16_384.0
#: A file storing 32-bit coordinates whose step is coarser than this where the scan lies (metres;
#: beyond 131,072 m from the origin) has lost its precision in the file itself and is refused.
FILE_STEP_LIMIT_M = 0.01
#: The local origin is rounded to whole multiples of this on each axis (metres).
ORIGIN_STEP_M = 1000.0

Origin = tuple[float, float, float]
NO_SHIFT: Origin = (0.0, 0.0, 0.0)


def local_origin(xyz: np.ndarray, where: object) -> Origin:
    """The origin to subtract from a scan's coordinates so they fit 32-bit floats.

    Parameters
    ----------
    xyz
        (N, 3) coordinates as read from the file (any numeric dtype), metres; NaN and infinite
        values are ignored, and far stray points do not move the origin (the median point decides).
    where
        The file, for the error message.

    Returns
    -------
    tuple of 3 floats
        :data:`NO_SHIFT` when every finite coordinate lies within :data:`FLOAT32_LIMIT_M` of the
        origin (nearly every scan), or when the median point lies within half of it (the far points
        are strays, which loading drops); else the median point rounded to :data:`ORIGIN_STEP_M` per
        axis.

    Raises
    ------
    Beep3dError
        The coordinates are 32-bit floats so far out that their step exceeds
        :data:`FILE_STEP_LIMIT_M`: the precision is lost in the file itself.
    """
    xyz = np.asarray(xyz)
    if xyz.size == 0:
        return NO_SHIFT
    with np.errstate(invalid="ignore", over="ignore"):
        if xyz.dtype.kind == "f":
            finite_values = np.isfinite(xyz)
            reach = float(np.max(np.abs(xyz), where=finite_values, initial=0.0))
        else:
            finite_values = None
            reach = float(np.abs(xyz.astype(np.float64)).max())
        if reach <= FLOAT32_LIMIT_M:  # nearly every scan: one pass, no copy
            return NO_SHIFT
        points = xyz if finite_values is None else xyz[finite_values.all(axis=1)]
        sample = points[:: max(1, len(points) // 100_000)]  # rounded to kilometres: 100k points decide
        centre = np.median(np.asarray(sample, dtype=np.float64), axis=0)
    reach = float(np.abs(centre).max())
    if reach <= FLOAT32_LIMIT_M / 2:
        return NO_SHIFT  # a scan near the origin with a few far strays, which are dropped as strays
    if xyz.dtype.kind == "f" and xyz.dtype.itemsize <= 4:
        refuse_lost_precision(reach, where)
    origin = np.round(centre / ORIGIN_STEP_M) * ORIGIN_STEP_M
    return (float(origin[0]), float(origin[1]), float(origin[2]))


def refuse_lost_precision(reach: float, where: object, what: str = "the scan") -> None:
    """Refuse a file that stores 32-bit coordinates reaching ``reach`` metres from its origin when
    their step there exceeds :data:`FILE_STEP_LIMIT_M` (the precision is lost in the file itself).

    Readers whose library hands over 64-bit arrays of 32-bit data (E57 single-precision fields, glTF
    positions) call it with the reach of the stored coordinates; ``what`` names them in the message
    ("the scan", "the boxes").
    """
    step = float(np.spacing(np.float32(reach)))
    if step > FILE_STEP_LIMIT_M:
        raise Beep3dError(
            f"{where}: {what} lie{'' if what.endswith('s') else 's'} {reach:,.0f} m from the origin "
            "(georeferenced coordinates) and the file stores them as 32-bit floats, whose step there is "
            f"{step * 100:.0f} cm: nearby values already merged in the file itself; export {what} with "
            "64-bit (double) coordinates, or "
            "shifted near the origin (for example CloudCompare's global shift, or PDAL's "
            "filters.transformation), and open it again"
        )


def shifted(xyz: np.ndarray, origin: Origin) -> np.ndarray:
    """(N, 3) float32 local coordinates ``xyz - origin``, subtracted in 64-bit arithmetic."""
    if origin == NO_SHIFT:
        return np.ascontiguousarray(xyz, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        local = np.asarray(xyz, dtype=np.float64) - np.asarray(origin, dtype=np.float64)
    return np.ascontiguousarray(local, dtype=np.float32)


def describe_shift(origin: Origin) -> str:
    """The sentence a load report carries about a shifted scan."""
    shown = ", ".join(f"{v:,.0f}" for v in origin)
    return (
        f"georeferenced coordinates: the scan is shown relative to ({shown}) m to keep millimetre "
        "precision; box files and exported point clouds use the file's own coordinates"
    )
