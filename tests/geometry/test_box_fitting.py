"""Box geometry behind the drawing tools: fitting, shrinking, floor height, default sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.box_fitting import (
    box_at_point,
    box_from_corners,
    default_box_size,
    estimate_floor_height,
    fit_box_to_points,
    shrink_box_to_points,
)
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, Box


def _floor_with_cube(floor_z: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 4 x 4 m floor at ``floor_z`` and a 0.5 m cube standing on it at (1, 1); returns (all, cube)."""
    rng = np.random.default_rng(seed)
    floor = np.column_stack([rng.uniform(-2, 2, 20000), rng.uniform(-2, 2, 20000), np.full(20000, floor_z)])
    cube = rng.uniform([0.75, 0.75, floor_z], [1.25, 1.25, floor_z + 0.5], size=(3000, 3))
    return np.vstack([floor, cube]), cube


def test_floor_height_found_under_objects_and_stray_points():
    xyz, _ = _floor_with_cube(floor_z=0.3)
    stray = np.array([[0.0, 0.0, -1.5]] * 20)  # a few points below the floor (noise)
    assert estimate_floor_height(np.vstack([xyz, stray])) == pytest.approx(0.3, abs=0.015)


def test_fit_ignores_floor_but_reaches_down_to_it():
    xyz, _ = _floor_with_cube(floor_z=0.0)
    column = xyz[(np.abs(xyz[:, 0] - 1) < 0.4) & (np.abs(xyz[:, 1] - 1) < 0.4)]  # cube + floor around it
    box = fit_box_to_points(column, floor_height=0.0, box_id=7, label="chair")
    assert box.id == 7 and box.label == "chair"
    np.testing.assert_allclose(box.size[:2], [0.51, 0.51], atol=0.02)  # not the 0.8 m floor patch
    assert box.center[2] - box.size[2] / 2 == pytest.approx(0.0, abs=0.01)  # bottom on the floor
    assert box.center[2] + box.size[2] / 2 == pytest.approx(0.5, abs=0.02)


def test_fit_with_yaw_is_tight_in_the_rotated_frame():
    rng = np.random.default_rng(1)
    local = rng.uniform([-1.0, -0.25, 0.0], [1.0, 0.25, 0.8], size=(4000, 3))
    yaw = math.radians(30)
    c, s = math.cos(yaw), math.sin(yaw)
    xyz = np.column_stack(
        [c * local[:, 0] - s * local[:, 1] + 3, s * local[:, 0] + c * local[:, 1], local[:, 2]]
    )
    box = fit_box_to_points(xyz, yaw=yaw, ignore_floor=False, margin=0.0)
    np.testing.assert_allclose(box.size, [2.0, 0.5, 0.8], atol=0.01)
    np.testing.assert_allclose(box.center, [3.0, 0.0, 0.4], atol=0.01)
    assert box.contains(xyz).all()


def test_fit_refuses_empty_and_floor_only_selections():
    with pytest.raises(Beep3dError, match="no points"):
        fit_box_to_points(np.zeros((0, 3)))
    floor_only = np.column_stack([np.random.default_rng(2).uniform(0, 1, (500, 2)), np.zeros(500)])
    with pytest.raises(Beep3dError, match="floor"):
        fit_box_to_points(floor_only, floor_height=0.0)


def test_shrink_keeps_yaw_id_and_class_and_hugs_the_object():
    xyz, cube = _floor_with_cube(floor_z=0.0)
    rough = Box(3, "table", (1.0, 1.0, 0.5), (1.5, 1.5, 1.2), 0.0)
    shrunk = shrink_box_to_points(rough, xyz, floor_height=0.0)
    assert (shrunk.id, shrunk.label, shrunk.yaw) == (3, "table", 0.0)
    np.testing.assert_allclose(shrunk.size, [0.51, 0.51, 0.505], atol=0.02)
    assert shrunk.contains(cube).all()


def test_shrink_an_empty_box_says_what_to_do():
    xyz, _ = _floor_with_cube()
    with pytest.raises(Beep3dError, match="holds no points"):
        shrink_box_to_points(Box(1, "chair", (10, 10, 10), (1, 1, 1)), xyz)


def test_box_at_point_stands_on_floor_or_centres_on_wall_point():
    chair = box_at_point(np.array([1.0, 2.0, 0.4]), "chair", floor_height=0.0, box_id=4)
    assert chair.size == default_box_size("chair")
    assert chair.center[2] - chair.size[2] / 2 == pytest.approx(0.0)
    assert chair.center[:2] == (1.0, 2.0)
    picture = box_at_point(np.array([0.0, 3.0, 1.8]), "picture", floor_height=0.0)
    assert picture.center == (0.0, 3.0, 1.8)
    assert default_box_size("no such class") == (0.5, 0.5, 0.5)


def test_box_from_two_corners_and_height():
    box = box_from_corners([2.0, 1.0], [0.0, 0.0, 0.3], height=0.9, base_height=0.1, label="desk")
    np.testing.assert_allclose(box.center, [1.0, 0.5, 0.55])
    np.testing.assert_allclose(box.size, [2.0, 1.0, 0.9])
    turned = box_from_corners([0, 0], [1, 1], height=1.0, base_height=0.0, yaw=math.pi / 4)
    np.testing.assert_allclose(turned.size[:2], [math.sqrt(2), 0.0 + 1e-3], atol=1e-3)


def test_a_corner_kilometres_away_gives_the_largest_box_not_an_error():
    """The corners tool near the horizon met the floor 1-50 km away: Box refused the box (over 1000 m)."""
    box = box_from_corners([1.0, 2.0], [30000.0, -5.0], height=0.9, base_height=0.0)
    np.testing.assert_allclose(box.size, [MAX_BOX_EXTENT_M, 7.0, 0.9])
    np.testing.assert_allclose(box.center[:2], [1.0 + MAX_BOX_EXTENT_M / 2, -1.5])  # from the first corner
    turned = box_from_corners([0, 0], [-40000.0, -40000.0], height=-5000.0, base_height=0.2, yaw=math.pi / 4)
    assert turned.size == pytest.approx((MAX_BOX_EXTENT_M, 1e-3, MAX_BOX_EXTENT_M))
    assert turned.center[2] + turned.size[2] / 2 == pytest.approx(0.2)  # spans down from the floor


def test_a_click_a_few_centimetres_below_a_noisy_floor_plane_still_stands_the_box_on_the_floor():
    # real ScanNet floors spread about 10 cm around their fitted plane: half the floor lies below it
    chair = box_at_point(np.array([1.0, 2.0, 0.03 - 0.04]), "chair", floor_height=0.03)
    assert chair.center[2] - chair.size[2] / 2 == pytest.approx(0.03)
    # far below the floor (a basement seen through a hole, a stray point) the box is centred on it
    deep = box_at_point(np.array([1.0, 2.0, -1.0]), "chair", floor_height=0.03)
    assert deep.center[2] == pytest.approx(-1.0)
