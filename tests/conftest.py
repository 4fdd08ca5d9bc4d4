"""Shared fixtures: the location of ../shared/data and small hand-built scenes."""

from __future__ import annotations

import os
from pathlib import Path

# One torch/OpenMP thread per test process: spconv's CPU kernels slow down by an order of magnitude when
# their threads compete for the two cores (the DDP test runs two processes; CI may share the machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from beep3d.scene import Scene

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """Path of a file in ../shared/data, or skip the test with a reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real data not available: {path} (tests read ../shared/data beside the checkout)")
    return path


@pytest.fixture(autouse=True)
def _native_thread_variables():
    """Undo what a test's ``--threads`` did to the thread variables (``limit_native_threads`` sets
    them for the whole process), except the size of a numba pool started meanwhile: numba refuses
    to compile anything once ``NUMBA_NUM_THREADS`` no longer matches its pool."""
    from beep3d.native_threads import numba_pool_started

    names = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "NUMBA_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    yield
    for name, value in saved.items():
        if name == "NUMBA_NUM_THREADS" and numba_pool_started():
            continue
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def grid_scene() -> Scene:
    """A 1 m cube of points on a 5 cm grid (21^3 = 9261 points), colours by position."""
    axis = np.linspace(0.0, 1.0, 21)
    xyz = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)
    rgb = (xyz * 255).astype(np.uint8)
    return Scene(xyz=xyz, rgb=rgb, name="grid")
