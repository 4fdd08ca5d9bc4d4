"""Region growing: a click's surface stops at creases and colour edges."""

from __future__ import annotations

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.region_growing import grow_region, scene_graph
from beep3d.scene import Scene


def floor_wall_and_poster() -> Scene:
    """A 1 m floor meeting a 1 m wall at x = 1; a red 0.4 m poster on the wall (all 2.5 cm grid)."""
    steps = np.arange(0.0, 1.0, 0.025)
    a, b = np.meshgrid(steps, steps, indexing="ij")
    floor = np.stack([a.ravel(), b.ravel(), np.zeros(a.size)], axis=1)
    wall = np.stack([np.full(a.size, 1.0), b.ravel(), a.ravel() + 0.025], axis=1)
    xyz = np.concatenate([floor, wall]).astype(np.float32)
    rgb = np.full((len(xyz), 3), 200, np.uint8)
    poster = (xyz[:, 0] == 1.0) & (np.abs(xyz[:, 1] - 0.5) < 0.2) & (np.abs(xyz[:, 2] - 0.5) < 0.2)
    rgb[poster] = (200, 20, 20)
    normals = np.zeros_like(xyz)
    normals[: len(floor), 2] = 1.0
    normals[len(floor) :, 0] = -1.0
    return Scene(xyz=xyz, rgb=rgb, normals=normals, extra={"poster": poster.astype(np.int8)}, name="corner")


def test_growing_stops_at_the_crease_and_at_the_colour_edge():
    scene = floor_wall_and_poster()
    graph = scene_graph(scene)
    everything = np.ones(scene.num_points, dtype=bool)
    on_floor = scene.xyz[:, 2] == 0.0
    region = grow_region(graph, scene.xyz, 0, everything)
    np.testing.assert_array_equal(region, np.flatnonzero(on_floor))  # the whole floor, no wall
    poster = scene.extra["poster"].astype(bool)
    inside_poster = int(np.flatnonzero(poster)[len(np.flatnonzero(poster)) // 2])
    np.testing.assert_array_equal(
        grow_region(graph, scene.xyz, inside_poster, everything), np.flatnonzero(poster)
    )


def test_growing_keeps_to_allowed_points_and_its_reach():
    scene = floor_wall_and_poster()
    graph = scene_graph(scene)
    allowed = scene.xyz[:, 1] < 0.5
    region = grow_region(graph, scene.xyz, 0, allowed, max_distance=0.3)
    assert np.all(allowed[region])
    assert np.all(np.linalg.norm(scene.xyz[region] - scene.xyz[0], axis=1) <= 0.3 + 1e-6)
    assert len(region) > 50
    with pytest.raises(Beep3dError, match="seed"):
        grow_region(graph, scene.xyz, scene.num_points, allowed)
