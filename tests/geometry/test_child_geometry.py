"""A scan's geometry found in a child process: the same arrays as in process, or nothing at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry import child_geometry
from beep3d.geometry.child_geometry import MIN_POINTS, GeometryChild
from beep3d.geometry.normals import scene_normals
from beep3d.geometry.room_surfaces import DEFAULT_AGREEMENT, DEFAULT_TOLERANCE, Room, room_known, room_of
from beep3d.geometry.superpoints import compute_superpoints
from beep3d.scene import Scene
from tests.geometry.test_room_surfaces import room_with_table

ROOM = (DEFAULT_TOLERANCE, DEFAULT_AGREEMENT, 0)


def room_scan() -> Scene:
    """A 4 x 3 x 2.5 m room with a table, about 25k points, coloured by part; no normals."""
    xyz, _normals, index = room_with_table(noise=0.005)
    rgb = np.zeros((len(xyz), 3), dtype=np.uint8)
    for part, (name, points) in enumerate(index.items()):
        rgb[points] = (40 * part) % 256, 90 if "wall" in name else 200, 30
    scene = Scene(xyz=xyz, rgb=rgb, name="room")
    assert scene.num_points >= MIN_POINTS
    return scene


def test_the_child_finds_the_superpoints_normals_and_room_this_process_would() -> None:
    scene, alone = room_scan(), room_scan()
    child = GeometryChild.start(scene, ROOM, threads=1)
    assert child is not None
    assert child.install()
    assert scene.superpoints is not None and room_known(scene, *ROOM)
    alone.superpoints = compute_superpoints(alone)
    expected = room_of(alone, *ROOM)
    assert np.array_equal(scene.superpoints, alone.superpoints)
    assert np.array_equal(scene_normals(scene), scene_normals(alone))
    found = room_of(scene, *ROOM)  # the child's, remembered: not found again
    assert sorted(s.kind for s in found.surfaces) == ["ceiling", "floor", "wall", "wall", "wall", "wall"]
    assert [(s.kind, s.inliers) for s in found.surfaces] == [(s.kind, s.inliers) for s in expected.surfaces]
    for got, want in zip(found.surfaces, expected.surfaces, strict=True):
        assert np.array_equal(got.normal, want.normal) and got.offset == want.offset
    assert np.array_equal(found.points.kind, expected.points.kind)
    assert np.array_equal(found.points.confidence, expected.points.confidence)


def fake_python(folder: Path, body: str) -> str:
    """An executable named like a Python interpreter that runs the shell ``body`` instead."""
    path = folder / "python-fake"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_a_failed_cancelled_or_stuck_child_installs_nothing_and_cleans_up(
    tmp_path, monkeypatch, caplog
) -> None:
    scene = room_scan()
    child = GeometryChild.start(scene, ROOM)
    folder = Path(child._folder.name)
    assert not child.install(cancelled=lambda: True)
    assert scene.superpoints is None and not room_known(scene, *ROOM) and not folder.exists()

    monkeypatch.setattr(child_geometry.sys, "executable", fake_python(tmp_path, "exit 3"))
    failing = GeometryChild.start(scene, ROOM)
    assert failing is not None and not failing.install()
    assert scene.superpoints is None and not room_known(scene, *ROOM)
    assert "computed in this process" in caplog.text

    monkeypatch.setattr(child_geometry.sys, "executable", fake_python(tmp_path, "exec sleep 600"))
    monkeypatch.setattr(child_geometry, "TIMEOUT_FACTOR", 0.0)
    monkeypatch.setattr(child_geometry, "TIMEOUT_MARGIN", 0.3)
    stuck = GeometryChild.start(scene, ROOM)
    assert not stuck.install()  # given up on, not waited for
    assert stuck._process.returncode is not None and "took over" in caplog.text

    monkeypatch.setattr(child_geometry.sys, "executable", "/no/such/python")
    assert GeometryChild.start(scene, ROOM) is None  # cannot start: the parent does the work
    monkeypatch.setattr(child_geometry.sys, "executable", shutil.which("true"))
    assert GeometryChild.start(scene, ROOM) is None  # not an interpreter (Python embedded in an application)


def test_small_scans_and_scans_whose_geometry_is_known_get_no_child() -> None:
    small = Scene(xyz=np.random.default_rng(0).uniform(0, 1, (500, 3)), rgb=np.zeros((500, 3)), name="s")
    assert GeometryChild.start(small, ROOM) is None
    known = room_scan()
    known.superpoints = np.zeros(known.num_points, dtype=np.int64)
    assert GeometryChild.start(known, None) is None


def test_a_room_survives_its_arrays_and_arrays_that_do_not_fit_are_refused() -> None:
    scene = room_scan()
    room = room_of(scene, *ROOM)
    back = Room.from_arrays(room.to_arrays(), scene.num_points)
    assert [(s.kind, s.offset, s.inliers) for s in back.surfaces] == [
        (s.kind, s.offset, s.inliers) for s in room.surfaces
    ]
    assert np.array_equal(back.points.kind, room.points.kind)
    with pytest.raises(Beep3dError, match="do not fit a scan"):
        Room.from_arrays(room.to_arrays(), scene.num_points + 1)
    broken = room.to_arrays()
    broken["surface_kinds"] = np.full(len(room.surfaces), 7, dtype=np.int8)
    with pytest.raises(Beep3dError, match="do not fit together"):
        Room.from_arrays(broken, scene.num_points)
    del broken["point_kinds"]
    with pytest.raises(Beep3dError, match="missing"):
        Room.from_arrays(broken, scene.num_points)
