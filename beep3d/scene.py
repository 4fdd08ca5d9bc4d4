"""The Scene: one indoor scan as flat arrays (points, colours, optional normals, faces, labels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import PointIndex


@dataclass
class Scene:
    """One scan, points in input order.

    Attributes
    ----------
    xyz
        (N, 3) float32, metres, z up.
    rgb
        (N, 3) uint8, 0..255.
    normals
        (N, 3) float32 unit vectors, or None.
    faces
        (M, 3) int64 vertex indices of a triangle mesh, or None for a plain point cloud.
    superpoints
        (N,) int64 superpoint id per point (0..S-1, dense), or None until computed.
    semantic
        (N,) int64 ground-truth semantic label per point in ``label_space`` (-1 = unlabelled), or None.
    instance
        (N,) int64 ground-truth instance id per point (-1 = none), or None.
    label_space
        What ``semantic`` counts in: "nyu40" (ScanNet, synthetic scenes), "s3dis" (0..12) or None.
    extra
        Other per-point properties read from the file (name -> (N,) array), kept for export.
    name
        A short scene name (the file or folder stem).
    source
        The path the scene was read from, or None.
    origin
        (3,) metres: the file's coordinates are ``xyz + origin``. (0, 0, 0) except for georeferenced
        scans, which are read relative to a round origin near them (:mod:`beep3d.io.local_origin`)
        so that their 32-bit ``xyz`` keep millimetres.
    """

    xyz: np.ndarray
    rgb: np.ndarray
    normals: np.ndarray | None = None
    faces: np.ndarray | None = None
    superpoints: np.ndarray | None = None
    semantic: np.ndarray | None = None
    instance: np.ndarray | None = None
    label_space: str | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    name: str = "scene"
    source: Path | None = None
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        origin = tuple(float(v) for v in np.asarray(self.origin, dtype=np.float64).reshape(-1))
        if len(origin) != 3 or not np.all(np.isfinite(origin)):
            raise Beep3dError(
                f"{self._where()}: origin must be 3 finite numbers (metres), got {self.origin!r}"
            )
        self.origin = origin
        self.xyz = np.ascontiguousarray(self.xyz, dtype=np.float32)
        if self.xyz.ndim != 2 or self.xyz.shape[1] != 3:
            raise Beep3dError(f"{self._where()}: coordinates must have shape (N, 3), got {self.xyz.shape}")
        n = len(self.xyz)
        self.rgb = np.ascontiguousarray(self.rgb, dtype=np.uint8)
        if self.rgb.shape != (n, 3):
            raise Beep3dError(f"{self._where()}: colours must have shape ({n}, 3), got {self.rgb.shape}")
        if self.normals is not None:
            self.normals = np.ascontiguousarray(self.normals, dtype=np.float32)
            if self.normals.shape != (n, 3):
                raise Beep3dError(
                    f"{self._where()}: normals must have shape ({n}, 3), got {self.normals.shape}"
                )
        if self.faces is not None:
            self.faces = np.ascontiguousarray(self.faces, dtype=np.int64)
            if self.faces.ndim != 2 or self.faces.shape[1] != 3:
                raise Beep3dError(f"{self._where()}: faces must be triangles (M, 3), got {self.faces.shape}")
            if len(self.faces) and (self.faces.min() < 0 or self.faces.max() >= n):
                raise Beep3dError(
                    f"{self._where()}: a face refers to vertex {int(self.faces.max())} but the scene has {n} "
                    "vertices; the file is inconsistent"
                )
        for attr in ("superpoints", "semantic", "instance"):
            value = getattr(self, attr)
            if value is not None:
                value = np.ascontiguousarray(value, dtype=np.int64)
                if value.shape != (n,):
                    raise Beep3dError(f"{self._where()}: {attr} must have shape ({n},), got {value.shape}")
                setattr(self, attr, value)

    def _where(self) -> str:
        return str(self.source) if self.source is not None else f"scene {self.name!r}"

    @property
    def num_points(self) -> int:
        """Number of points N."""
        return int(len(self.xyz))

    @cached_property
    def point_index(self) -> PointIndex:
        """A grid index of the points, built once and reused by every box membership query on this scene.

        Scenes are treated as immutable: build a new Scene (``subset``) rather than editing ``xyz``.
        """
        return PointIndex(self.xyz)

    @property
    def shifted(self) -> bool:
        """True when the scene is held relative to a local origin (a georeferenced scan)."""
        return any(self.origin)

    def file_xyz(self) -> np.ndarray:
        """(N, 3) the points in the file's own coordinates, metres: ``xyz`` itself (float32) for a scene
        that is not shifted, else ``xyz + origin`` in float64."""
        if not self.shifted:
            return self.xyz
        return self.xyz.astype(np.float64) + np.asarray(self.origin, dtype=np.float64)

    @property
    def has_gt(self) -> bool:
        """True when ground-truth instance labels are present."""
        return self.instance is not None

    def subset(self, keep: np.ndarray) -> Scene:
        """A new scene with only the points selected by ``keep`` ((N,) bool or index array).

        Faces that lose a vertex are dropped; the rest are re-indexed.
        """
        index = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep, dtype=np.int64)
        faces = None
        if self.faces is not None:
            remap = np.full(self.num_points, -1, dtype=np.int64)
            remap[index] = np.arange(len(index))
            mapped = remap[self.faces]
            faces = mapped[(mapped >= 0).all(axis=1)]

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[index]

        return Scene(
            xyz=self.xyz[index],
            rgb=self.rgb[index],
            normals=pick(self.normals),
            faces=faces,
            superpoints=None
            if self.superpoints is None
            else np.unique(self.superpoints[index], return_inverse=True)[1],
            semantic=pick(self.semantic),
            instance=pick(self.instance),
            label_space=self.label_space,
            extra={k: v[index] for k, v in self.extra.items()},
            name=self.name,
            source=self.source,
            origin=self.origin,
        )
