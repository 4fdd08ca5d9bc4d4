"""Values computed once per scan and remembered while the scan lives (k-d trees, neighbour graphs).

Keyed by the scene object, weakly: a value goes with its scene. Thread-safe: the window resolves in
a worker thread while the main thread draws; two threads asking at once may both build the value,
and one of them is kept.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from beep3d.scene import Scene

T = TypeVar("T")


class SceneCache(Generic[T]):
    """One value per live scene, built by the caller's function on first use."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[weakref.ref, T]] = {}
        self._lock = threading.Lock()

    def get(self, scene: Scene, build: Callable[[], T]) -> T:
        """The value remembered for ``scene``, or ``build()``'s, remembered from now on."""
        with self._lock:
            for ident in [i for i, (ref, _) in self._values.items() if ref() is None]:
                del self._values[ident]
            cached = self._values.get(id(scene))
            if cached is not None and cached[0]() is scene:
                return cached[1]
        value = build()
        with self._lock:
            self._values[id(scene)] = (weakref.ref(scene), value)
        return value


#: Each scan's normals, as :func:`beep3d.geometry.normals.scene_normals` computes them; kept here,
#: apart from the numba kernels, so that normals found by a child process
#: (:mod:`beep3d.geometry.child_geometry`) are remembered without importing numba.
SCENE_NORMALS: SceneCache = SceneCache()
