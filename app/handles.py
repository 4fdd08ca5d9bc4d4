"""Box wireframes, drag handles and ray tests (numpy only), shared by the view and the tools."""

from __future__ import annotations

import math

import numpy as np

from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MAX_COORDINATE_M, Box

#: Corner pairs of the 12 box edges, for corners ordered as in :meth:`Box.corners`.
BOX_EDGES = np.array(
    [[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]],
    dtype=np.int64,
)

#: Handle names: faces of the box ("+x" is the face the box's x axis points through), the centre
#: (move on the floor plane) and the yaw handle in front of the +x face.
HANDLE_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z", "center", "yaw")
HANDLE_COLOURS = {
    "+x": (240, 70, 70),
    "-x": (240, 70, 70),
    "+y": (70, 220, 90),
    "-y": (70, 220, 90),
    "+z": (80, 140, 255),
    "-z": (80, 140, 255),
    "center": (255, 255, 255),
    "yaw": (255, 210, 40),
}


def box_rotation(yaw: float) -> np.ndarray:
    """(3, 3) rotation about +z by ``yaw`` radians (box frame to world)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_handle_offset(box: Box) -> float:
    """Distance of the yaw handle from the box centre along the box x axis, metres."""
    return box.size[0] / 2 + max(0.15, 0.3 * max(box.size[0], box.size[1]))


def box_handles(box: Box) -> dict[str, np.ndarray]:
    """World positions (3,) of the drag handles of ``box``, by name (see :data:`HANDLE_NAMES`)."""
    half = np.asarray(box.size) / 2
    local = {
        "+x": (half[0], 0, 0),
        "-x": (-half[0], 0, 0),
        "+y": (0, half[1], 0),
        "-y": (0, -half[1], 0),
        "+z": (0, 0, half[2]),
        "-z": (0, 0, -half[2]),
        "center": (0, 0, 0),
        "yaw": (yaw_handle_offset(box), 0, 0),
    }
    rot = box_rotation(box.yaw)
    center = np.asarray(box.center)
    return {name: rot @ np.asarray(p, dtype=np.float64) + center for name, p in local.items()}


def box_line_segments(box: Box) -> np.ndarray:
    """(26, 3) float64 line-segment end points: the 12 edges plus a heading tick on the +x face."""
    corners = box.corners()
    edges = corners[BOX_EDGES].reshape(-1, 3)
    handles = box_handles(box)
    tick = np.stack([handles["+x"], handles["+x"] + (handles["yaw"] - handles["+x"]) * 0.5])
    return np.concatenate([edges, tick])


def ray_box_hit(origin: np.ndarray, direction: np.ndarray, box: Box) -> float | None:
    """Distance along the ray (origin, unit direction) to where it enters ``box``, or None on a miss."""
    rot = box_rotation(box.yaw)
    o = rot.T @ (np.asarray(origin, dtype=np.float64) - np.asarray(box.center))
    d = rot.T @ np.asarray(direction, dtype=np.float64)
    half = np.asarray(box.size) / 2
    t_near, t_far = -np.inf, np.inf
    for axis in range(3):
        if abs(d[axis]) < 1e-12:
            if abs(o[axis]) > half[axis]:
                return None
            continue
        t1, t2 = (-half[axis] - o[axis]) / d[axis], (half[axis] - o[axis]) / d[axis]
        t_near, t_far = max(t_near, min(t1, t2)), min(t_far, max(t1, t2))
    if t_near > t_far or t_far < 0:
        return None
    return float(max(t_near, 0.0))


def ray_plane_hit(
    origin: np.ndarray, direction: np.ndarray, point: np.ndarray, normal: np.ndarray
) -> np.ndarray | None:
    """Where the ray meets the plane through ``point`` with ``normal`` (None when parallel or behind)."""
    normal = np.asarray(normal, dtype=np.float64)
    denom = float(np.dot(direction, normal))
    if abs(denom) < 1e-9:
        return None
    t = float(np.dot(np.asarray(point) - origin, normal)) / denom
    if t < 0:
        return None
    return np.asarray(origin) + t * np.asarray(direction)


def closest_on_axis(
    origin: np.ndarray, direction: np.ndarray, axis_point: np.ndarray, axis_dir: np.ndarray
) -> float:
    """Parameter s of the point ``axis_point + s * axis_dir`` closest to the ray (for face drags)."""
    u = np.asarray(axis_dir, dtype=np.float64)
    v = np.asarray(direction, dtype=np.float64)
    w = np.asarray(axis_point, dtype=np.float64) - np.asarray(origin, dtype=np.float64)
    a, b, c = float(u @ u), float(u @ v), float(v @ v)
    d, e = float(u @ w), float(v @ w)
    denom = a * c - b * b
    if abs(denom) < 1e-12:
        return 0.0
    return (b * e - c * d) / denom


def drag_handle(
    box: Box, handle: str, origin: np.ndarray, direction: np.ndarray, grab_offset: np.ndarray
) -> Box:
    """The box after dragging ``handle`` to the mouse ray (origin, direction).

    Faces move along their axis with the opposite face fixed; "center" moves the box on the
    horizontal plane through its centre; "yaw" turns the box about its vertical axis.
    ``grab_offset`` is (handle position - where the mouse grabbed it) at the start of the drag,
    so the handle does not jump to the cursor. A drag toward the horizon stops at the largest box
    (sides up to :data:`~beep3d.geometry.boxes.MAX_BOX_EXTENT_M`, centres within
    :data:`~beep3d.geometry.boxes.MAX_COORDINATE_M`) instead of failing.
    """
    center = np.asarray(box.center, dtype=np.float64)
    size = np.asarray(box.size, dtype=np.float64)
    rot = box_rotation(box.yaw)
    if handle == "center":
        hit = ray_plane_hit(origin, direction, center - grab_offset, np.array([0.0, 0.0, 1.0]))
        if hit is None:
            return box
        new_center = np.clip(hit + grab_offset, -MAX_COORDINATE_M, MAX_COORDINATE_M)
        new_center[2] = center[2]
        return box.moved(center=tuple(new_center))
    if handle == "yaw":
        hit = ray_plane_hit(origin, direction, center, np.array([0.0, 0.0, 1.0]))
        if hit is None:
            return box
        delta = hit - center
        if np.hypot(delta[0], delta[1]) < 1e-6:
            return box
        return box.moved(yaw=math.atan2(delta[1], delta[0]))
    axis = "xyz".index(handle[1])
    sign = 1.0 if handle[0] == "+" else -1.0
    axis_dir = rot[:, axis] * sign
    opposite = center - axis_dir * size[axis] / 2
    s = closest_on_axis(origin, direction, opposite, axis_dir) + float(np.dot(grab_offset, axis_dir))
    extent = min(max(s, 0.01), MAX_BOX_EXTENT_M)
    new_size = size.copy()
    new_size[axis] = extent
    new_center = opposite + axis_dir * extent / 2
    return box.moved(center=tuple(new_center), size=tuple(new_size))
