"""Box geometry for drawing tools: fit a box to points, shrink a box onto its points, floor height.

Everything here is plain numpy (no Qt): the app's drawing tools call these functions and the
tests check them without a window.

Floor height
------------
:func:`estimate_floor_height` takes the densest 2 cm height slab among the lowest 40 cm of the scan
(above the 0.5th height percentile, which drops stray points below the floor). Indoor scans have
their largest horizontal surface at the bottom, so that slab is the floor; a RANSAC plane fit
(Open3D) gives the same answer on level floors, costs more, and can lock onto a table top in
cluttered rooms. When no slab holds at least 2% of the points (an object scan without a floor),
the 0.5th percentile is returned.
"""

from __future__ import annotations

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MIN_BOX_EXTENT, Box

#: Default box size (length along the box x axis, width along y, height; metres) per class name.
DEFAULT_BOX_SIZES: dict[str, tuple[float, float, float]] = {
    "cabinet": (1.0, 0.6, 1.0),
    "bed": (2.0, 1.6, 0.6),
    "chair": (0.6, 0.6, 0.9),
    "sofa": (2.0, 0.9, 0.85),
    "table": (1.2, 0.8, 0.75),
    "door": (1.0, 0.1, 2.1),
    "window": (1.2, 0.1, 1.2),
    "bookshelf": (1.0, 0.35, 1.8),
    "bookcase": (1.0, 0.35, 1.8),
    "picture": (0.6, 0.05, 0.5),
    "counter": (1.8, 0.6, 0.9),
    "desk": (1.4, 0.7, 0.75),
    "curtain": (1.5, 0.15, 2.2),
    "refrigerator": (0.8, 0.7, 1.8),
    "shower curtain": (1.5, 0.1, 1.9),
    "toilet": (0.7, 0.45, 0.8),
    "sink": (0.6, 0.5, 0.3),
    "bathtub": (1.7, 0.8, 0.6),
    "otherfurniture": (0.8, 0.6, 0.8),
    "board": (1.5, 0.05, 1.0),
    "column": (0.4, 0.4, 2.5),
    "beam": (3.0, 0.3, 0.3),
    "clutter": (0.4, 0.4, 0.4),
}
#: Size used for classes not in :data:`DEFAULT_BOX_SIZES`, metres.
FALLBACK_BOX_SIZE: tuple[float, float, float] = (0.5, 0.5, 0.5)

#: Points closer than this to the floor (metres) count as floor when fitting.
DEFAULT_FLOOR_MARGIN = 0.03
#: Slack added on every side of a fitted box, metres (as Box2Mask's boxes from instances).
DEFAULT_FIT_MARGIN = 0.005


def default_box_size(label: str) -> tuple[float, float, float]:
    """Typical (length, width, height) in metres of an object of class ``label``."""
    return DEFAULT_BOX_SIZES.get(label, FALLBACK_BOX_SIZE)


def estimate_floor_height(xyz: np.ndarray, slab: float = 0.02, search_depth: float = 0.4) -> float:
    """Height (z, metres) of the floor of an indoor scan.

    Parameters
    ----------
    xyz
        (N, 3) coordinates, metres, z up.
    slab
        Thickness of the height bins, metres.
    search_depth
        How far above the lowest points (0.5th percentile) to look for the floor, metres.

    Returns
    -------
    float
        The centre height of the densest slab near the bottom (see the module docstring).
    """
    z = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)[:, 2]
    if len(z) == 0:
        raise Beep3dError("cannot estimate the floor height of an empty scene")
    low = float(np.percentile(z, 0.5))
    near = z[(z >= low) & (z <= low + search_depth)]
    if len(near) == 0:
        return low
    bins = max(1, int(np.ceil(search_depth / slab)))
    counts, edges = np.histogram(near, bins=bins, range=(low, low + search_depth))
    best = int(np.argmax(counts))
    if counts[best] < 0.02 * len(z):
        return low
    return float((edges[best] + edges[best + 1]) / 2)


def _yaw_frame(xyz: np.ndarray, yaw: float) -> np.ndarray:
    """(N, 3) coordinates rotated by -yaw about z (into a frame whose x axis points along ``yaw``)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([c * xyz[:, 0] + s * xyz[:, 1], -s * xyz[:, 0] + c * xyz[:, 1], xyz[:, 2]], axis=1)


def _from_yaw_frame(local: np.ndarray, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([c * local[0] - s * local[1], s * local[0] + c * local[1], local[2]])


def fit_box_to_points(
    xyz: np.ndarray,
    yaw: float = 0.0,
    ignore_floor: bool = True,
    floor_height: float | None = None,
    floor_margin: float = DEFAULT_FLOOR_MARGIN,
    margin: float = DEFAULT_FIT_MARGIN,
    box_id: int = 0,
    label: str = "object",
) -> Box:
    """The smallest box of the given yaw around ``xyz`` (plus ``margin``).

    Parameters
    ----------
    xyz
        (N, 3) coordinates of the object's points, metres.
    yaw
        Box yaw about +z, radians; the box is tight in that frame.
    ignore_floor
        Drop points less than ``floor_margin`` above the floor before fitting, so a rectangle
        dragged around a chair does not grow to the floor patch around it. When the object still
        reaches down to the floor, the box bottom is extended to the floor.
    floor_height
        Floor z in metres; estimated from ``xyz`` itself when None (pass the scene's floor: a
        handful of object points says little about the floor).
    floor_margin
        Thickness of the floor layer to ignore, metres.
    margin
        Slack added on every side, metres.
    box_id, label
        Id and class of the returned box.

    Returns
    -------
    Box
        The fitted box.

    Raises
    ------
    Beep3dError
        When no point is left to fit (empty selection, or only floor points).
    """
    pts = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    if len(pts) == 0:
        raise Beep3dError("no points to fit a box to; select a region that holds points of the object")
    touches_floor = False
    if ignore_floor:
        floor = estimate_floor_height(pts) if floor_height is None else float(floor_height)
        keep = pts[:, 2] > floor + floor_margin
        if not np.any(keep):
            raise Beep3dError(
                "the selected region holds only floor points; drag the rectangle over the object itself"
            )
        pts = pts[keep]
        touches_floor = float(pts[:, 2].min()) <= floor + 2 * floor_margin
    local = _yaw_frame(pts, yaw)
    lo, hi = local.min(axis=0) - margin, local.max(axis=0) + margin
    if ignore_floor and touches_floor:
        lo[2] = min(lo[2], floor)
    size = np.maximum(hi - lo, MIN_BOX_EXTENT * 10)
    center = _from_yaw_frame((lo + hi) / 2, yaw)
    return Box(box_id, label, tuple(center), tuple(size), float(yaw))


def shrink_box_to_points(
    box: Box,
    xyz: np.ndarray,
    ignore_floor: bool = True,
    floor_height: float | None = None,
    floor_margin: float = DEFAULT_FLOOR_MARGIN,
    margin: float = DEFAULT_FIT_MARGIN,
    background: np.ndarray | None = None,
) -> Box:
    """Snap a rough box onto the points it holds, keeping its yaw, id and class; it never grows.

    Parameters
    ----------
    box
        The rough box.
    xyz
        (N, 3) scene coordinates, metres (all of them: the points inside ``box`` are selected here).
    ignore_floor, floor_height, floor_margin, margin
        As in :func:`fit_box_to_points`; ``floor_height`` None estimates it from ``xyz``.
    background
        (N,) bool: points that are not any object's (the room's floor, walls and ceiling,
        :attr:`beep3d.geometry.room_surfaces.SurfacePoints.on_surface`); they are not fitted. A
        real floor's points spread about 10 cm, more than any fixed floor margin.

    Returns
    -------
    Box
        The fitted box, clipped to ``box`` in its own frame: the slack and the floor extension of
        the fit never make it larger than it was.

    Raises
    ------
    Beep3dError
        When the box holds no points (nothing to shrink onto).
    """
    pts = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    held = box.contains(pts)
    if background is not None:
        objects = held & ~np.asarray(background, dtype=bool).reshape(-1)
        held = objects if objects.any() else held  # a box on floor or wall only: shrink onto those
    inside = pts[held]
    if len(inside) == 0:
        raise Beep3dError(
            f"box {box.id} ({box.label}) holds no points; move it onto the object before shrinking"
        )
    if ignore_floor and floor_height is None:
        floor_height = estimate_floor_height(pts)
    if ignore_floor and not np.any(inside[:, 2] > floor_height + floor_margin):
        ignore_floor = False  # a box around floor points only: shrink onto them as they are
    fitted = fit_box_to_points(
        inside,
        yaw=box.yaw,
        ignore_floor=ignore_floor,
        floor_height=floor_height,
        floor_margin=floor_margin,
        margin=margin,
        box_id=box.id,
        label=box.label,
    )
    return clipped_to(fitted, box)


def clipped_to(fitted: Box, outer: Box) -> Box:
    """``fitted`` (same yaw as ``outer``) cut back to the extent of ``outer`` in their shared frame."""
    centre_f = _yaw_frame(np.asarray(fitted.center, dtype=np.float64)[None], outer.yaw)[0]
    centre_o = _yaw_frame(np.asarray(outer.center, dtype=np.float64)[None], outer.yaw)[0]
    half_f, half_o = np.asarray(fitted.size) / 2, np.asarray(outer.size) / 2
    low = np.maximum(centre_f - half_f, centre_o - half_o)
    high = np.minimum(centre_f + half_f, centre_o + half_o)
    size = np.maximum(high - low, MIN_BOX_EXTENT * 10)
    centre = _from_yaw_frame((low + high) / 2, outer.yaw)
    return Box(fitted.id, fitted.label, tuple(centre), tuple(size), float(outer.yaw))


#: A click this far below the floor plane (metres) is still on the floor: real floors spread about
#: 10 cm around their fitted plane, and half their points lie below it.
FLOOR_NOISE = 0.15


def box_at_point(
    point: np.ndarray,
    label: str,
    floor_height: float | None = None,
    yaw: float = 0.0,
    box_id: int = 0,
) -> Box:
    """A default-size box of class ``label`` at a clicked point.

    When the point lies lower above the floor than the class's default height (or on the floor:
    up to :data:`FLOOR_NOISE` below its plane), the object stands on the floor: the box is put on
    the floor under the point. Otherwise (a picture on a wall, an
    object on a table) the box is centred on the point.

    Parameters
    ----------
    point
        (3,) clicked position, metres.
    label
        Class name (chooses the default size).
    floor_height
        Floor z, metres, or None to always centre on the point.
    yaw
        Box yaw, radians.
    box_id
        Id of the new box.
    """
    point = np.asarray(point, dtype=np.float64).reshape(3)
    size = np.asarray(default_box_size(label), dtype=np.float64)
    center = point.copy()
    if floor_height is not None and -FLOOR_NOISE <= point[2] - floor_height <= size[2]:
        center[2] = floor_height + size[2] / 2
    return Box(box_id, label, tuple(center), tuple(size), float(yaw))


def box_from_corners(
    corner_a: np.ndarray,
    corner_b: np.ndarray,
    height: float,
    base_height: float,
    yaw: float = 0.0,
    box_id: int = 0,
    label: str = "object",
) -> Box:
    """A box spanned by two opposite corners on a horizontal plane and a height.

    No side is longer than :data:`~beep3d.geometry.boxes.MAX_BOX_EXTENT_M` (the largest box): a
    ``corner_b`` farther from ``corner_a`` along a box axis is brought to that distance, a taller
    ``height`` to that height. A corner picked on the floor near the horizon, kilometres away, gives
    the largest box rather than an error.

    Parameters
    ----------
    corner_a, corner_b
        (2,) or (3,) opposite corners (only x and y are used), metres.
    height
        Box height above ``base_height``, metres (a negative height spans downwards).
    base_height
        z of the plane the corners lie on (usually the floor), metres.
    yaw
        Orientation of the box edges about +z, radians.
    """
    a = np.asarray(corner_a, dtype=np.float64).reshape(-1)[:2]
    b = np.asarray(corner_b, dtype=np.float64).reshape(-1)[:2]
    two = _yaw_frame(np.array([[a[0], a[1], 0.0], [b[0], b[1], 0.0]]), yaw)
    two[1, :2] = two[0, :2] + np.clip(two[1, :2] - two[0, :2], -MAX_BOX_EXTENT_M, MAX_BOX_EXTENT_M)
    height = float(np.clip(height, -MAX_BOX_EXTENT_M, MAX_BOX_EXTENT_M))
    lo, hi = two.min(axis=0), two.max(axis=0)
    z0, z1 = sorted((float(base_height), float(base_height) + height))
    local_center = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0])
    center = _from_yaw_frame(local_center, yaw)
    center[2] = (z0 + z1) / 2
    size = np.clip([hi[0] - lo[0], hi[1] - lo[1], z1 - z0], MIN_BOX_EXTENT * 10, MAX_BOX_EXTENT_M)
    return Box(box_id, label, tuple(center), tuple(size), float(yaw))
