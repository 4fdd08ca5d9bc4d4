"""Keyboard edits of a box as pure functions: move, raise, turn and resize by fixed steps.

The window maps keys to these (W/A/S/D move on the floor as seen on screen, Q/E down and up, Z/X turn,
I/K, L/J, O/U resize); a big step (Shift) is five small ones, or 45 degrees for a turn. Every function
returns a new :class:`~beep3d.geometry.boxes.Box`; the caller puts the change on the undo stack.
"""

from __future__ import annotations

import math

import numpy as np

from beep3d.geometry.boxes import Box

#: Undo texts of the nudge kinds :func:`nudged` takes.
NUDGE_TEXTS = {"move": "Move box", "up": "Move box", "yaw": "Turn box", "size": "Resize box"}

#: A small move or resize step, metres.
MOVE_STEP_M = 0.02
#: A big step is this many small ones.
BIG_STEP_FACTOR = 5
#: Turn steps, degrees.
YAW_STEP_DEGREES = 1.0
YAW_BIG_STEP_DEGREES = 45.0
#: The smallest side a resize leaves, metres.
MIN_SIDE_M = 0.01


def step_length(big: bool) -> float:
    """The move or resize step in metres."""
    return MOVE_STEP_M * (BIG_STEP_FACTOR if big else 1)


def floor_directions(camera_forward: np.ndarray, camera_up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ahead, right) unit vectors on the floor (z = 0) as the camera sees it.

    Ahead is the camera's forward direction flattened onto the floor; when the camera looks almost
    straight down, "ahead" is the direction that is up on the screen.

    Parameters
    ----------
    camera_forward, camera_up
        (3,) the camera's viewing direction and its screen-up direction, world frame.
    """
    ahead = np.array([camera_forward[0], camera_forward[1], 0.0], dtype=np.float64)
    if np.linalg.norm(ahead) < 0.3:  # looking down: "forward" is up on the screen
        ahead = np.array([camera_up[0], camera_up[1], 0.0], dtype=np.float64)
    ahead /= np.linalg.norm(ahead)
    right = np.array([ahead[1], -ahead[0], 0.0])
    return ahead, right


def moved_on_floor(
    box: Box, right_steps: int, ahead_steps: int, ahead: np.ndarray, right: np.ndarray, big: bool
) -> Box:
    """The box moved ``right_steps`` to the right and ``ahead_steps`` ahead (see :func:`floor_directions`)."""
    offset = (right * right_steps + ahead * ahead_steps) * step_length(big)
    return box.moved(center=tuple(np.asarray(box.center) + offset))


def raised(box: Box, steps: int, big: bool) -> Box:
    """The box moved up (``steps`` > 0) or down along z."""
    return box.moved(center=tuple(np.asarray(box.center) + np.array([0.0, 0.0, steps * step_length(big)])))


def turned(box: Box, steps: int, big: bool) -> Box:
    """The box turned about z by ``steps`` turn steps (counter-clockwise > 0), yaw kept in [-pi, pi)."""
    degrees = YAW_BIG_STEP_DEGREES if big else YAW_STEP_DEGREES
    yaw = (box.yaw + math.radians(steps * degrees) + math.pi) % (2 * math.pi) - math.pi
    return box.moved(yaw=yaw)


def resized(box: Box, axis: int, steps: int, big: bool) -> Box:
    """The box grown (``steps`` > 0) or shrunk along its own ``axis`` (0 x, 1 y, 2 height).

    Sides never go below :data:`MIN_SIDE_M`. Along x and y the centre stays; the height grows upwards,
    so the bottom stays on what the box stands on.
    """
    size = np.asarray(box.size, dtype=np.float64)
    new_size = size.copy()
    new_size[axis] = max(new_size[axis] + steps * step_length(big), MIN_SIDE_M)
    center = np.asarray(box.center, dtype=np.float64).copy()
    if axis == 2:
        center[2] += (new_size[2] - size[2]) / 2
    return box.moved(size=tuple(new_size), center=tuple(center))


def nudged(
    box: Box,
    kind: str,
    p: int,
    q: int,
    big: bool,
    camera_forward: np.ndarray,
    camera_up: np.ndarray,
) -> Box:
    """``box`` after one nudge key: the dispatch of the window's Move, turn and resize keys.

    Parameters
    ----------
    box
        The box to change.
    kind
        "move" (``p`` steps right, ``q`` ahead: :func:`moved_on_floor`), "up" (``p`` steps:
        :func:`raised`), "yaw" (``p`` steps: :func:`turned`) or "size" (axis ``p``, ``q`` steps:
        :func:`resized`); a key of :data:`NUDGE_TEXTS`.
    p, q
        The key's steps, as above.
    big
        A big step (Shift).
    camera_forward, camera_up
        (3,) the camera's viewing and screen-up directions (for "move": see :func:`floor_directions`).

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    beep3d.errors.Beep3dError
        When the nudged box would be past the box limits (a side over
        :data:`~beep3d.geometry.boxes.MAX_BOX_EXTENT_M`, a centre coordinate over
        :data:`~beep3d.geometry.boxes.MAX_COORDINATE_M`).
    """
    if kind == "move":
        ahead, right = floor_directions(camera_forward, camera_up)
        return moved_on_floor(box, p, q, ahead, right, big)
    if kind == "up":
        return raised(box, p, big)
    if kind == "yaw":
        return turned(box, p, big)
    if kind == "size":
        return resized(box, p, q, big)
    raise ValueError(f"unknown nudge {kind!r}; use move, up, yaw or size")
