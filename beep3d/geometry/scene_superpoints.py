"""A scene's superpoints, computed once when it has none (the many stages that need them share them).

Kept apart from :mod:`beep3d.geometry.superpoints`, whose compiled kernels take a moment to import:
a scene that carries its superpoints (a ScanNet scan, a saved scene folder) never loads them.
"""

from __future__ import annotations

import numpy as np

from beep3d.scene import Scene


def scene_superpoints(scene: Scene) -> np.ndarray:
    """(N,) int64 superpoint id of each point of ``scene``: its own, or computed by
    :func:`beep3d.geometry.superpoints.compute_superpoints` and kept on the scene for the next stage."""
    if scene.superpoints is None:
        from beep3d.geometry.superpoints import compute_superpoints

        scene.superpoints = compute_superpoints(scene)
    return np.asarray(scene.superpoints, dtype=np.int64)
