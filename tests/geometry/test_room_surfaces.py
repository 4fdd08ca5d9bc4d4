"""Room surfaces: the floor, walls and ceiling bound the room; furniture planes do not."""

from __future__ import annotations

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.room_surfaces import SURFACE_KINDS, find_room_surfaces, surface_points


def grid(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def room_with_table(
    noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A 4 x 3 x 2.5 m room (floor, 4 walls, ceiling) with a 1.5 x 1 m table top at 0.75 m.

    Returns positions, normals and the index of each part's points.
    """
    rng = np.random.default_rng(seed)
    step = 0.05
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    fxy = grid(np.arange(0, 4, step), np.arange(0, 3, step))
    parts["floor"] = (np.column_stack([fxy, np.zeros(len(fxy))]), [0, 0, 1])
    parts["ceiling"] = (np.column_stack([fxy, np.full(len(fxy), 2.5)]), [0, 0, -1])
    xz = grid(np.arange(0, 4, step), np.arange(0, 2.5, step))
    parts["wall_south"] = (np.column_stack([xz[:, 0], np.zeros(len(xz)), xz[:, 1]]), [0, 1, 0])
    parts["wall_north"] = (np.column_stack([xz[:, 0], np.full(len(xz), 3.0), xz[:, 1]]), [0, -1, 0])
    yz = grid(np.arange(0, 3, step), np.arange(0, 2.5, step))
    parts["wall_west"] = (np.column_stack([np.zeros(len(yz)), yz[:, 0], yz[:, 1]]), [1, 0, 0])
    parts["wall_east"] = (np.column_stack([np.full(len(yz), 4.0), yz[:, 0], yz[:, 1]]), [-1, 0, 0])
    txy = grid(np.arange(1.0, 2.5, 0.03), np.arange(1.0, 2.0, 0.03))
    parts["table"] = (np.column_stack([txy, np.full(len(txy), 0.75)]), [0, 0, 1])
    xyz, normals, index, start = [], [], {}, 0
    for name, (points, normal) in parts.items():
        xyz.append(points)
        normals.append(np.tile(np.asarray(normal, float), (len(points), 1)))
        index[name] = np.arange(start, start + len(points))
        start += len(points)
    xyz = np.concatenate(xyz)
    xyz = xyz + rng.normal(0, noise, xyz.shape) if noise else xyz
    return xyz, np.concatenate(normals), index


def test_floor_walls_and_ceiling_are_found_facing_into_the_room_and_the_table_top_is_not():
    xyz, _normals, _index = room_with_table()
    surfaces = find_room_surfaces(xyz)
    kinds = sorted(s.kind for s in surfaces)
    assert kinds == ["ceiling", "floor", "wall", "wall", "wall", "wall"]
    centre = np.array([2.0, 1.5, 1.25])
    for surface in surfaces:
        assert surface.signed_distance(centre[None])[0] > 0.5  # normal faces into the room
    floor = next(s for s in surfaces if s.kind == "floor")
    assert floor.signed_distance(np.array([[2.0, 1.5, 0.75]]))[0] == pytest.approx(0.75, abs=0.02)


def test_points_on_surfaces_are_marked_with_their_kind_and_the_table_is_not():
    xyz, normals, index = room_with_table(noise=0.01)
    points = surface_points(xyz, normals, find_room_surfaces(xyz))
    assert np.mean(points.kind[index["floor"]] == SURFACE_KINDS.index("floor")) > 0.97
    assert np.mean(points.kind[index["wall_east"]] == SURFACE_KINDS.index("wall")) > 0.97
    assert np.mean(points.kind[index["ceiling"]] == SURFACE_KINDS.index("ceiling")) > 0.97
    assert not points.on_surface[index["table"]].any()
    assert np.all(points.confidence[points.on_surface] >= 0.5)
    assert np.all(points.confidence[~points.on_surface] == 0)


def test_a_point_near_the_floor_whose_normal_runs_along_it_is_not_floor():
    xyz, normals, _index = room_with_table()
    surfaces = find_room_surfaces(xyz)
    leg = np.array([[2.0, 1.5, 0.03], [2.0, 1.5, 0.03]])
    sideways = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # a chair leg's side, the floor itself
    points = surface_points(leg, sideways, surfaces)
    assert points.kind.tolist() == [-1, SURFACE_KINDS.index("floor")]


def test_a_scan_without_room_planes_has_no_surfaces():
    rng = np.random.default_rng(1)
    blob = rng.normal(0, 0.3, (3000, 3))
    assert find_room_surfaces(blob) == []
    assert find_room_surfaces(np.zeros((0, 3))) == []


def test_bad_settings_are_refused_with_what_to_do():
    xyz, normals, _ = room_with_table()
    with pytest.raises(Beep3dError, match="tolerance must be positive"):
        surface_points(xyz, normals, [], tolerance=0.0)
    with pytest.raises(Beep3dError, match="one normal per point"):
        surface_points(xyz, normals[:10], [])


_SURFACES_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_room_surfaces import room_with_table
from beep3d.geometry.room_surfaces import find_room_surfaces
if {full_import}:
    import open3d
surfaces = find_room_surfaces(room_with_table(noise=0.01)[0])
narrow = "open3d.visualization" not in sys.modules
import open3d
same = open3d.pybind is sys.modules["open3d.pybind"]
rows = [[s.kind, *s.normal.tolist(), s.offset, s.inliers] for s in surfaces]
print(repr((narrow, same, rows)))
"""


def _surfaces_in_fresh_process(full_import: bool) -> tuple:
    import ast
    import subprocess
    import sys
    from pathlib import Path

    script = _SURFACES_SCRIPT.format(tests=str(Path(__file__).parent), full_import=full_import)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_planes_found_with_open3d_compiled_module_alone_equal_those_of_the_full_import():
    narrow, same, rows = _surfaces_in_fresh_process(full_import=False)
    full_narrow, full_same, full_rows = _surfaces_in_fresh_process(full_import=True)
    assert narrow  # plotly / dash (open3d.visualization) were not imported
    assert same  # a later `import open3d` uses the module already loaded
    assert not full_narrow and full_same
    assert rows == full_rows and len(rows) >= 5


def test_a_clouds_normals_are_computed_once_and_are_the_same_whichever_stage_asks_first():
    from beep3d.geometry.normals import scene_normals
    from beep3d.geometry.superpoints import compute_superpoints
    from beep3d.scene import Scene

    xyz, _, index = room_with_table(noise=0.005)
    rgb = np.full((len(xyz), 3), 128, np.uint8)
    superpoints_first = Scene(xyz=xyz.astype(np.float32), rgb=rgb)
    normals_first = Scene(xyz=xyz.astype(np.float32), rgb=rgb)

    labels_a = compute_superpoints(superpoints_first)
    normals_a = scene_normals(superpoints_first)
    normals_b = scene_normals(normals_first)
    labels_b = compute_superpoints(normals_first)

    np.testing.assert_array_equal(normals_a, normals_b)
    np.testing.assert_array_equal(labels_a, labels_b)
    assert scene_normals(normals_first) is normals_b  # remembered, not recomputed
    assert np.mean(np.abs(normals_a[index["floor"], 2]) > 0.9) > 0.95
    assert np.mean(np.abs(normals_a[index["wall_west"], 0]) > 0.9) > 0.95
