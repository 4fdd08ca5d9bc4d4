"""Keyboard edits of a box: moves on the floor as the camera sees it, turns, and resizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry import box_nudges
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, Box

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


def test_nudged_dispatches_the_keys_and_a_step_past_the_box_limits_raises() -> None:
    """The window refuses, with a message, the Beep3dError of a step past the limits (it escaped its slot)."""
    forward, up = np.array([0.0, 0.9, -0.4]), np.array([0.0, 0.4, 0.9])
    assert box_nudges.nudged(BOX, "move", 1, 0, False, forward, up).center == pytest.approx((1.02, 2.0, 0.45))
    assert box_nudges.nudged(BOX, "up", 1, 0, False, forward, up) == box_nudges.raised(BOX, 1, False)
    assert box_nudges.nudged(BOX, "yaw", -1, 0, True, forward, up) == box_nudges.turned(BOX, -1, True)
    assert box_nudges.nudged(BOX, "size", 2, 1, False, forward, up) == box_nudges.resized(BOX, 2, 1, False)
    longest = BOX.moved(size=(MAX_BOX_EXTENT_M, 0.5, 0.9))
    with pytest.raises(Beep3dError, match="beyond any scan"):
        box_nudges.nudged(longest, "size", 0, 1, False, forward, up)
    with pytest.raises(ValueError, match="unknown nudge"):
        box_nudges.nudged(BOX, "spin", 1, 0, False, forward, up)
