"""A scan's superpoints, normals and room surfaces, computed in a child process.

The first teacher resolution of a scan needs two pieces of work that both hold Python's GIL nearly
all the time: importing torch and spconv and reading the network (about 1.4 s), and the scan's
geometry (superpoints with numba, normals with scipy, the room's floor, walls and ceiling with
Open3D: about 1.3 s at 100k points, imports included). In one process they add up, even in two
threads. When a teacher still has to load, the pipeline (:func:`beep3d.resolve.pipeline.annotate`)
starts the geometry in a child process (:class:`GeometryChild`) and loads the network meanwhile, so
the two run on two cores; the child's results are then put where the in-process functions look
first (``scene.superpoints``, :data:`beep3d.scene_cache.SCENE_NORMALS`,
:func:`beep3d.geometry.room_surfaces.remember_room`). They are the same arrays the parent would have
computed: the same functions run on the same inputs (a test compares them).

The child is a plain ``python -m beep3d.geometry.child_geometry FOLDER``; the scan goes to it and
its results come back as ``.npz`` files in a temporary folder (no pickle either way). When it cannot
start, fails or returns something that does not fit, nothing is installed and the parent computes
the geometry itself, as before (the reason is logged); so it does when the child runs far past its
expected time. A child whose parent has gone stops between its steps and removes its folder. Not
used in frozen applications or when ``sys.executable`` is not a Python interpreter, nor for scans
below :data:`MIN_POINTS` points, where the child's start-up (about 1.4 s with its imports, on 2 cores)
is not won back.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.scene import Scene

log = logging.getLogger(__name__)

#: Scans with fewer points compute their geometry in process (the child would not pay for itself).
MIN_POINTS = 20_000

#: Rough wall time of the child's start-up and imports, and of its geometry per point, seconds (2
#: CPU cores, grid rooms of 100k / 500k / 2M points: 1.8 / 2.8 / 7.0 s in all), for progress.
START_SECONDS = 1.4
SECONDS_PER_POINT = 2.8e-6

#: A child still working after this many times its expected time, plus this many seconds, is
#: stopped and the parent does the work (it would hang on an interpreter that does not exit).
TIMEOUT_FACTOR = 10.0
TIMEOUT_MARGIN = 30.0

_INPUT, _OUTPUT, _SETTINGS = "scan.npz", "geometry.npz", "settings.json"


class GeometryChild:
    """One child process computing a scan's geometry; :meth:`install` waits for it and uses its results.

    Parameters
    ----------
    scene
        The scan (N points).
    room
        The room-surface settings to find the room with, ``(tolerance m, agreement, seed)`` as
        :func:`beep3d.geometry.room_surfaces.room_of` takes them; None: no room surfaces.
    threads
        CPU threads for the child's numba and OpenMP kernels (None: their defaults).
    """

    def __init__(self, scene: Scene, room: tuple[float, float, int] | None, threads: int | None) -> None:
        self.scene = scene
        self.room = room
        self._folder = tempfile.TemporaryDirectory(prefix="beep3d-geometry-")
        self._log = None
        try:
            folder = Path(self._folder.name)
            arrays = {"xyz": scene.xyz, "rgb": scene.rgb}
            for name in ("normals", "faces", "superpoints"):
                value = getattr(scene, name)
                if value is not None:
                    arrays[name] = value
            np.savez(folder / _INPUT, **arrays)
            settings = {"room": list(room) if room is not None else None, "parent": os.getpid()}
            (folder / _SETTINGS).write_text(json.dumps(settings))
            env = dict(os.environ)
            if threads is not None:
                env.update(OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))
                env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            package_root = str(Path(__file__).resolve().parents[2])  # importable also from a source checkout
            env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
            self._log = open(folder / "child.log", "wb")  # noqa: SIM115 - closed in _finish
            self._started = time.perf_counter()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "beep3d.geometry.child_geometry", str(folder)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            if self._log is not None:
                self._log.close()
            self._folder.cleanup()
            raise

    @classmethod
    def start(
        cls, scene: Scene, room: tuple[float, float, int] | None, threads: int | None = None
    ) -> GeometryChild | None:
        """A child computing what ``scene`` still lacks, or None when it would not pay or cannot start.

        It pays for scans of at least :data:`MIN_POINTS` points that lack superpoints or room
        surfaces, outside frozen applications.
        """
        if getattr(sys, "frozen", False) or scene.num_points < MIN_POINTS or not _runs_python(sys.executable):
            return None
        if scene.superpoints is not None and room is None:
            return None
        try:
            return cls(scene, room, threads)
        except (OSError, ValueError) as exc:
            log.warning("the scan's geometry is computed in this process: no child process (%s)", exc)
            return None

    def stop(self) -> None:
        """Stop the child and forget its work (nothing is installed)."""
        if self._process.poll() is None:
            self._process.kill()
        self._finish()

    @property
    def expected_seconds(self) -> float:
        """Rough wall time of the child's work (start-up, imports, geometry) on 2 CPU cores, seconds."""
        return START_SECONDS + SECONDS_PER_POINT * self.scene.num_points

    def install(
        self, cancelled: Callable[[], bool] | None = None, waiting: Callable[[float], None] | None = None
    ) -> bool:
        """Wait for the child and put its results where the in-process functions find them.

        Parameters
        ----------
        cancelled
            Asked every 50 ms while waiting; when it answers True the child is stopped and False
            returned.
        waiting
            Called every 50 ms while waiting with the seconds since the child started.

        A child still working after :data:`TIMEOUT_FACTOR` times its expected time (plus
        :data:`TIMEOUT_MARGIN` seconds) is stopped, and False returned.

        Returns
        -------
        bool
            Whether the results were installed (False: the parent computes them itself when needed).
        """
        try:
            limit = TIMEOUT_FACTOR * self.expected_seconds + TIMEOUT_MARGIN
            while self._process.poll() is None:
                if cancelled is not None and cancelled():
                    self.stop()
                    return False
                waited = time.perf_counter() - self._started
                if waited > limit:
                    log.warning(
                        "the scan's geometry is computed in this process: the child took over %.0f s", limit
                    )
                    self.stop()
                    return False
                if waiting is not None:
                    waiting(waited)
                time.sleep(0.05)
            folder = Path(self._folder.name)
            if self._process.returncode != 0:
                reason = (folder / "child.log").read_text(errors="replace").strip().splitlines()
                log.warning(
                    "the scan's geometry is computed in this process: the child failed (%s)",
                    reason[-1] if reason else f"exit code {self._process.returncode}",
                )
                return False
            try:
                with np.load(folder / _OUTPUT, allow_pickle=False) as found:
                    self._use(dict(found))
            except Exception as exc:  # noqa: BLE001 - any damage to the results: compute them here
                log.warning("the scan's geometry is computed in this process: the child's results (%s)", exc)
                return False
            return True
        finally:
            self._finish()

    def _use(self, found: dict[str, np.ndarray]) -> None:
        from beep3d.geometry.room_surfaces import Room, remember_room
        from beep3d.scene_cache import SCENE_NORMALS

        scene, n = self.scene, self.scene.num_points
        superpoints = found.get("superpoints")
        if superpoints is None or superpoints.shape != (n,) or superpoints.dtype.kind not in "iu":
            raise Beep3dError("no superpoints of the scan's size")
        if n and superpoints.min() < 0:
            raise Beep3dError("negative superpoint ids")
        room = Room.from_arrays(found, n) if self.room is not None else None
        normals = found.get("normals")
        if normals is not None:
            if normals.shape != (n, 3):
                raise Beep3dError("normals not of the scan's size")
            SCENE_NORMALS.get(scene, lambda: normals.astype(np.float32, copy=False))
        if scene.superpoints is None:
            scene.superpoints = superpoints.astype(np.int64, copy=False)
        if room is not None:
            remember_room(scene, room, *self.room)

    def _finish(self) -> None:
        if self._process.poll() is None:  # left early (cancelled, timed out, or an error while waiting)
            self._process.kill()
            self._process.wait()
        if self._log is not None:
            self._log.close()
        self._folder.cleanup()


def _runs_python(executable: str) -> bool:
    """Whether ``executable`` looks like a Python interpreter (an application embedding Python names
    its own binary in ``sys.executable``, which would not run the child)."""
    return bool(executable) and Path(executable).name.lower().startswith(("python", "pypy"))


def compute_geometry(
    scene: Scene, room: tuple[float, float, int] | None, go_on: Callable[[], bool] = lambda: True
) -> dict[str, np.ndarray] | None:
    """What the child computes: superpoints, the shared normals and the room surfaces, as arrays.

    ``go_on`` is asked between the steps; None is returned as soon as it answers False.
    """
    from beep3d.geometry.normals import scene_normals
    from beep3d.geometry.room_surfaces import room_of
    from beep3d.geometry.superpoints import compute_superpoints

    if scene.superpoints is None:
        scene.superpoints = compute_superpoints(scene)
    arrays: dict[str, np.ndarray] = {"superpoints": scene.superpoints}
    if not go_on():
        return None
    if room is not None:
        arrays.update(room_of(scene, *room).to_arrays())
    if not go_on():
        return None
    arrays["normals"] = scene_normals(scene)  # computed with the superpoints (or the room), or now
    return arrays


def _child_main(folder: Path) -> None:
    with np.load(folder / _INPUT, allow_pickle=False) as given:
        arrays = dict(given)
    settings = json.loads((folder / _SETTINGS).read_text())
    room = settings.get("room")
    scene = Scene(
        xyz=arrays["xyz"],
        rgb=arrays["rgb"],
        normals=arrays.get("normals"),
        faces=arrays.get("faces"),
        superpoints=arrays.get("superpoints"),
        name="child",
    )
    parent = settings.get("parent")

    def parent_alive() -> bool:  # an orphan stops early and leaves no folder behind
        return parent is None or os.getppid() == parent

    found = compute_geometry(
        scene, (float(room[0]), float(room[1]), int(room[2])) if room else None, parent_alive
    )
    if found is None or not parent_alive():
        shutil.rmtree(folder, ignore_errors=True)
        return
    partial = folder / ("partial-" + _OUTPUT)
    np.savez(partial, **found)
    partial.replace(folder / _OUTPUT)


if __name__ == "__main__":
    _child_main(Path(sys.argv[1]))
