"""The scan's points as the 3D view holds them (numpy only): shuffled for drawing fewer, picked on the CPU.

A large cloud is kept in a random order (its *upload order*), so its first M points are a uniform
sample: while the camera moves the view draws only those (:func:`interactive_count` says how many),
and the full cloud once it stops. Positions are kept relative to the middle of the scan's bounds
(float32 holds millimetres there even for scans in map coordinates).
"""

from __future__ import annotations

import numpy as np


class PointCloud:
    """Points in upload order, relative to :attr:`origin`.

    Parameters
    ----------
    xyz
        (N, 3) positions in metres, in scene order.
    shuffle
        Keep the points in a random (seeded) order: a large cloud, drawn in part while the camera moves.

    Attributes
    ----------
    origin
        (3,) float64 middle of the bounds: the points' positions are relative to it.
    xyz
        (N, 3) float32 positions relative to :attr:`origin`, in upload order.
    order
        Upload order (``order[i]`` is the scene index of point ``i``), or None: scene order.
    bounds
        (lo, hi) float64 world bounds.
    """

    def __init__(self, xyz: np.ndarray, shuffle: bool) -> None:
        xyz = np.asarray(xyz, dtype=np.float32)
        n = len(xyz)
        if n:
            lo, hi = xyz.min(axis=0).astype(np.float64), xyz.max(axis=0).astype(np.float64)
        else:
            lo, hi = np.zeros(3), np.ones(3)
        self.bounds = (lo, hi)
        self.origin = (lo + hi) / 2
        self.order: np.ndarray | None = None
        if shuffle:
            self.order = np.random.default_rng(0).permutation(n)
            xyz = xyz[self.order]
        self.xyz = np.ascontiguousarray(xyz - self.origin.astype(np.float32), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.xyz)

    def in_upload_order(self, rgb: np.ndarray) -> np.ndarray:
        """(N, 3) uint8 colours given in scene order, contiguous and in upload order."""
        rgb = np.asarray(rgb, dtype=np.uint8)
        if self.order is not None:
            rgb = rgb[self.order]
        return np.ascontiguousarray(rgb)

    def pick(
        self,
        view_projection: np.ndarray,
        width: int,
        height: int,
        x: float,
        y: float,
        radius: float,
        clip: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray | None:
        """World position (3,) of the point nearest the camera within ``radius`` pixels of (x, y), or None.

        Projects every point (vectorised; ~0.1 s for 2M points), which gives an exact scene point.

        Parameters
        ----------
        view_projection
            (4, 4) world-to-clip matrix of the camera.
        width, height
            Widget size in pixels.
        x, y
            Widget pixel (origin top left).
        radius
            Half the side of the square searched, pixels.
        clip
            Only points inside this world-space ``(lo, hi)`` count (None: all).
        """
        if len(self.xyz) == 0:
            return None
        model = np.eye(4)
        model[:3, 3] = self.origin
        m = (view_projection @ model).astype(np.float32)
        clip_w = self.xyz @ m[3, :3] + m[3, 3]
        in_front = clip_w > 1e-6
        safe_w = np.where(in_front, clip_w, 1.0)
        px = ((self.xyz @ m[0, :3] + m[0, 3]) / safe_w + 1) * 0.5 * width
        py = (1 - (self.xyz @ m[1, :3] + m[1, 3]) / safe_w) * 0.5 * height
        near = in_front & (np.abs(px - x) <= radius) & (np.abs(py - y) <= radius)
        candidates = np.flatnonzero(near)
        if clip is not None:  # clipped points are not there for the mouse either
            lo, hi = clip[0] - self.origin, clip[1] - self.origin
            kept = np.all((self.xyz[candidates] >= lo) & (self.xyz[candidates] <= hi), axis=1)
            candidates = candidates[kept]
        if len(candidates) == 0:
            return None
        depth = (self.xyz[candidates] @ m[2, :3] + m[2, 3]) / safe_w[candidates]
        best = candidates[int(np.argmin(depth))]
        return self.xyz[best].astype(np.float64) + self.origin


def interactive_count(
    num_points: int,
    budget: int,
    minimum: int,
    frame_seconds: float,
    seconds_per_point: float | None,
) -> int:
    """How many points to draw while the camera moves.

    All of them for a cloud of at most ``minimum`` points; else at most ``budget``, and fewer when
    full frames were slow (``seconds_per_point`` measured, aiming at ``frame_seconds`` a frame), never
    fewer than ``minimum``.
    """
    if num_points <= minimum:
        return num_points
    if seconds_per_point:
        budget = min(budget, int(frame_seconds / seconds_per_point))
    return min(num_points, max(budget, minimum))
