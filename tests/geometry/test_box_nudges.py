"""Keyboard edits of a box: moves on the floor as the camera sees it, turns, and resizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beep3d.geometry import box_nudges
from beep3d.geometry.boxes import Box

BOX = Box(4, "chair", (1.0, 2.0, 0.45), (0.6, 0.5, 0.9), 0.0)


def test_moves_follow_the_camera_on_the_floor_and_a_big_step_is_five_small_ones() -> None:
    # camera looking along +y, slightly down: ahead is +y, right is +x
    ahead, right = box_nudges.floor_directions(np.array([0.0, 0.9, -0.4]), np.array([0.0, 0.4, 0.9]))
    np.testing.assert_allclose(ahead, [0, 1, 0], atol=1e-9)
    np.testing.assert_allclose(right, [1, 0, 0], atol=1e-9)
    moved = box_nudges.moved_on_floor(BOX, 1, 0, ahead, right, big=False)
    assert moved.center == pytest.approx((1.02, 2.0, 0.45))
    moved = box_nudges.moved_on_floor(BOX, 0, -1, ahead, right, big=True)
    assert moved.center == pytest.approx((1.0, 1.9, 0.45))
    assert moved.size == BOX.size and moved.yaw == BOX.yaw and moved.id == BOX.id


def test_looking_straight_down_ahead_is_up_on_the_screen() -> None:
    ahead, right = box_nudges.floor_directions(np.array([0.0, 0.0, -1.0]), np.array([-1.0, 0.0, 0.0]))
    np.testing.assert_allclose(ahead, [-1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(right, [0, 1, 0], atol=1e-9)


def test_raise_turn_and_wrap_the_yaw() -> None:
    assert box_nudges.raised(BOX, -1, big=False).center == pytest.approx((1.0, 2.0, 0.43))
    assert box_nudges.turned(BOX, 1, big=False).yaw == pytest.approx(math.radians(1))
    turned = BOX.moved(yaw=math.radians(170))
    assert box_nudges.turned(turned, 1, big=True).yaw == pytest.approx(math.radians(-145))


def test_height_grows_upwards_and_sides_never_vanish() -> None:
    taller = box_nudges.resized(BOX, 2, 1, big=True)
    assert taller.size[2] == pytest.approx(1.0)
    bottom_before, bottom_after = BOX.center[2] - BOX.size[2] / 2, taller.center[2] - taller.size[2] / 2
    assert bottom_after == pytest.approx(bottom_before)  # the bottom stays on the floor
    wider = box_nudges.resized(BOX, 1, 1, big=False)
    assert wider.size == pytest.approx((0.6, 0.52, 0.9)) and wider.center == BOX.center
    thin = Box(1, "picture", (0, 0, 1), (0.02, 1.0, 0.5))
    assert box_nudges.resized(thin, 0, -1, big=True).size[0] == box_nudges.MIN_SIDE_M
