"""An orbit camera for z-up scenes: matrices, rays, projection and unprojection (numpy only)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: View presets: (azimuth, elevation) in degrees and whether they use an orthographic projection.
PRESETS: dict[str, tuple[float, float, bool]] = {
    "top": (-90.0, 90.0, True),
    "front": (-90.0, 0.0, True),
    "side": (0.0, 0.0, True),
    "perspective": (-60.0, 35.0, False),
}


def _normalise(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


@dataclass
class OrbitCamera:
    """Looks at ``target`` from ``distance`` metres along (``azimuth``, ``elevation``) degrees.

    Attributes
    ----------
    target
        (3,) point looked at (the orbit centre), metres.
    distance
        Eye-to-target distance, metres (also sets the orthographic zoom).
    azimuth, elevation
        Direction from the target to the eye, degrees; elevation 90 looks straight down.
    fov_y
        Vertical field of view of the perspective projection, degrees.
    orthographic
        Orthographic instead of perspective projection (used by the top / front / side presets).
    scene_center, scene_radius
        Bounding sphere of the scene, used to fit the near and far planes.
    """

    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    distance: float = 5.0
    azimuth: float = -60.0
    elevation: float = 35.0
    fov_y: float = 50.0
    orthographic: bool = False
    scene_center: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scene_radius: float = 1.0

    # frame ----------------------------------------------------------------------------------
    def eye(self) -> np.ndarray:
        """(3,) camera position, metres."""
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        direction = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        return np.asarray(self.target, dtype=np.float64) + self.distance * direction

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit (right, up, forward) vectors of the camera in world coordinates."""
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        forward = -np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        # derivative of the eye direction w.r.t. elevation: never parallel to forward, even looking down
        up = np.array([-math.sin(el) * math.cos(az), -math.sin(el) * math.sin(az), math.cos(el)])
        right = _normalise(np.cross(forward, up))
        return right, _normalise(up), _normalise(forward)

    def heading_yaw(self) -> float:
        """Yaw (radians) of the screen's right direction projected on the floor (for screen-aligned boxes)."""
        right, _, _ = self.axes()
        return math.atan2(right[1], right[0])

    def view_matrix(self) -> np.ndarray:
        """(4, 4) world-to-camera matrix."""
        right, up, forward = self.axes()
        eye = self.eye()
        m = np.eye(4)
        m[0, :3], m[1, :3], m[2, :3] = right, up, -forward
        m[:3, 3] = -m[:3, :3] @ eye
        return m

    def clip_planes(self) -> tuple[float, float]:
        """Near and far distances fitted to the scene's bounding sphere."""
        to_center = float(np.dot(np.asarray(self.scene_center) - self.eye(), self.axes()[2]))
        radius = max(self.scene_radius, 1e-3) * 1.1
        far = max(to_center + radius, 1e-2)
        if self.orthographic:
            return to_center - radius, far
        near = max(to_center - radius, far * 1e-4, 1e-3)
        return near, far

    def half_height(self) -> float:
        """Half the visible height at the target, metres (the orthographic zoom)."""
        return self.distance * math.tan(math.radians(self.fov_y) / 2)

    def projection_matrix(self, aspect: float) -> np.ndarray:
        """(4, 4) projection matrix for a viewport of width / height ``aspect`` (OpenGL clip space)."""
        near, far = self.clip_planes()
        m = np.zeros((4, 4))
        if self.orthographic:
            top = self.half_height()
            rightmost = top * aspect
            m[0, 0], m[1, 1] = 1 / rightmost, 1 / top
            m[2, 2] = -2 / (far - near)
            m[2, 3] = -(far + near) / (far - near)
            m[3, 3] = 1
        else:
            f = 1 / math.tan(math.radians(self.fov_y) / 2)
            m[0, 0], m[1, 1] = f / aspect, f
            m[2, 2] = (far + near) / (near - far)
            m[2, 3] = 2 * far * near / (near - far)
            m[3, 2] = -1
        return m

    def view_projection(self, width: int, height: int) -> np.ndarray:
        """(4, 4) world-to-clip matrix for a viewport of ``width`` x ``height`` pixels."""
        return self.projection_matrix(width / max(height, 1)) @ self.view_matrix()

    # screen <-> world -----------------------------------------------------------------------
    def unproject(self, x: float, y: float, depth: float, width: int, height: int) -> np.ndarray:
        """World point under pixel (``x``, ``y``) (origin top-left) at window depth ``depth`` in [0, 1]."""
        ndc = np.array([2 * x / width - 1, 1 - 2 * y / height, 2 * depth - 1, 1.0])
        world = np.linalg.inv(self.view_projection(width, height)) @ ndc
        return world[:3] / world[3]

    def ray(self, x: float, y: float, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """(origin, unit direction) of the ray through pixel (``x``, ``y``)."""
        near = self.unproject(x, y, 0.0, width, height)
        far = self.unproject(x, y, 1.0, width, height)
        return near, _normalise(far - near)

    def project(self, xyz: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (M, 2) of world points (M, 3) and a (M,) mask of points in front of the camera."""
        pts = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        m = self.view_projection(width, height)
        clip = pts @ m[:3, :3].T + m[:3, 3]
        w = pts @ m[3, :3] + m[3, 3]
        visible = w > 1e-9
        w = np.where(visible, w, 1.0)
        px = (clip[:, 0] / w + 1) * 0.5 * width
        py = (1 - clip[:, 1] / w) * 0.5 * height
        return np.stack([px, py], axis=1), visible

    # moves ----------------------------------------------------------------------------------
    def fit(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Look at the axis-aligned bounds ``lo``..``hi`` (metres) so that all of it is visible."""
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        self.target = (lo + hi) / 2
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 0.05)
        self.distance = radius / math.sin(math.radians(self.fov_y) / 2) * 1.05

    def set_preset(self, name: str) -> None:
        """Switch to one of :data:`PRESETS` ("top", "front", "side", "perspective")."""
        self.azimuth, self.elevation, self.orthographic = PRESETS[name]

    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        """Turn about the target by degrees (elevation kept within [-90, 90])."""
        self.azimuth = (self.azimuth + d_azimuth + 180.0) % 360.0 - 180.0
        self.elevation = float(np.clip(self.elevation + d_elevation, -90.0, 90.0))

    def pan(self, dx_pixels: float, dy_pixels: float, height: int) -> None:
        """Move target and eye sideways so the scene follows the mouse by (dx, dy) pixels."""
        right, up, _ = self.axes()
        metres_per_pixel = 2 * self.half_height() / max(height, 1)
        self.target = (
            np.asarray(self.target) - right * dx_pixels * metres_per_pixel + up * dy_pixels * metres_per_pixel
        )

    def zoom_about(self, factor: float, anchor: np.ndarray | None) -> None:
        """Scale the distance by ``factor`` (< 1 zooms in) keeping ``anchor`` (3,) fixed on screen."""
        factor = float(np.clip(factor, 0.05, 20.0))
        if anchor is not None:
            anchor = np.asarray(anchor, dtype=np.float64)
            self.target = anchor + (np.asarray(self.target) - anchor) * factor
        self.distance = max(self.distance * factor, 1e-3)
