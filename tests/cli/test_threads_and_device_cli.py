"""``--threads`` and ``--device`` reach the teacher, in the headless export and in the window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import write_ply
from beep3d.io.box_files import save_boxes
from beep3d.native_threads import numba_pool_started


@pytest.fixture
def scan_and_boxes(tmp_path: Path) -> tuple[Path, Path]:
    xyz = np.random.default_rng(0).uniform(0, 1, (800, 3)).astype(np.float32)
    write_ply(tmp_path / "scan.ply", xyz, np.full((800, 3), 128, np.uint8))
    save_boxes(tmp_path / "boxes.json", BoxSet([Box(1, "chair", (0.5, 0.5, 0.5), (0.6, 0.6, 0.6))]))
    return tmp_path / "scan.ply", tmp_path / "boxes.json"


@pytest.fixture
def clean_thread_variables():
    """No thread variables set (restored after the test by the suite's own fixture); a numba pool
    started by an earlier test keeps its variable (numba refuses to compile when it changes)."""
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        os.environ.pop(name, None)
    if not numba_pool_started():
        os.environ.pop("NUMBA_NUM_THREADS", None)


def numba_threads() -> int:
    """The threads numba's kernels will use: its pool's setting once started, else what it will start with."""
    if numba_pool_started():
        import numba

        return numba.get_num_threads()
    return int(os.environ["NUMBA_NUM_THREADS"])


def test_the_headless_export_gives_the_teacher_its_threads_and_device(
    scan_and_boxes, tmp_path, monkeypatch, clean_thread_variables
):
    import beep3d.resolve.resolvers as resolvers

    seen: dict[str, object] = {}
    real = resolvers.get_resolver

    def spy(name, **options):
        seen.update(options, name=name)
        # a rule resolves (no network to load); the export's record asks the teacher's checkpoint
        stand_in = real(
            "smallest-box", level=options["level"], share=options["share"], class_set=options["class_set"]
        )
        stand_in.checkpoint = options["checkpoint"]
        return stand_in

    monkeypatch.setattr(resolvers, "get_resolver", spy)
    scan, boxes = scan_and_boxes
    args = [str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--resolver", "teacher"]
    assert main([*args, "--threads", "1", "--foreground", "off"]) == 0
    assert seen["name"] == "teacher" and seen["threads"] == 1 and seen["device"] == "cpu"
    assert os.environ["OMP_NUM_THREADS"] == "1" and numba_threads() == 1


def test_threads_below_one_are_refused(scan_and_boxes, tmp_path, capsys, clean_thread_variables):
    scan, boxes = scan_and_boxes
    assert main([str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), "--threads", "0"]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_window_is_opened_with_the_device_and_threads_asked_for(
    scan_and_boxes, monkeypatch, clean_thread_variables
):
    import beep3d.app.launch as launch

    opened: dict[str, object] = {}
    monkeypatch.setattr(launch, "run_app", lambda **kwargs: opened.update(kwargs) or 0)
    scan, _ = scan_and_boxes
    assert main([str(scan), "--threads", "2", "--device", "cpu"]) == 0
    assert opened["threads"] == 2 and opened["device"] == "cpu" and opened["scene"] == str(scan)


def test_threads_limited_after_numba_started_its_pool_leave_numba_able_to_compile(tmp_path):
    """A second ``--threads`` in one process (a library user, the test suite): numba's pool keeps its
    size and uses fewer threads, instead of refusing every kernel compiled from then on."""
    import subprocess
    import sys

    code = (
        "import numba, numpy as np\n"
        "from beep3d.geometry.superpoints import spatial_order\n"
        "spatial_order(np.random.default_rng(0).uniform(0, 1, (100, 3)))  # starts the pool\n"
        "from beep3d.native_threads import limit_native_threads, numba_pool_started\n"
        "assert numba_pool_started()\n"
        "limit_native_threads(1)\n"
        "@numba.njit(parallel=True)\n"
        "def total(x):\n"
        "    s = 0.0\n"
        "    for i in numba.prange(x.shape[0]):\n"
        "        s += x[i]\n"
        "    return s\n"
        "print(total(np.ones(1000)), numba.get_num_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
    env.update(NUMBA_NUM_THREADS="2", NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000.0", "1"]
