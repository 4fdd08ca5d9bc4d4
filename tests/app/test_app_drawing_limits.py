"""Edits at the edge of what a box can be: a nudge past the box limits, a corner near the horizon, a
second corner on the first. Each is refused or stopped with a message in the status bar, never an
exception out of a Qt slot, and a refused edit adds no box and no undo step.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from beep3d.app.handles import ray_plane_hit
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M
from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open, _pixel, _top_view

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def test_a_nudge_past_the_box_limits_is_refused_with_a_message(window, qtbot, scene_path, tmp_path):
    """I on a box 1000 m long (the panel's largest length) raised Beep3dError in the action's slot."""
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    window.doc.select(1)
    window.box_editor.size[0].setValue(MAX_BOX_EXTENT_M)
    longest = window.doc.box(1)
    assert longest.size[0] == MAX_BOX_EXTENT_M
    steps = window.undo_stack.count()
    window.view.setFocus()
    with qtbot.capture_exceptions() as raised:
        qtbot.keyClick(window.view, Qt.Key.Key_I)  # longer
    assert not raised
    assert window.doc.box(1) == longest and window.undo_stack.count() == steps
    assert "box limits" in window.statusBar().currentMessage()
    qtbot.keyClick(window.view, Qt.Key.Key_K)  # shorter: still a nudge like any other
    assert window.doc.box(1).size[0] == pytest.approx(MAX_BOX_EXTENT_M - 0.02)


def _pixel_over_far_floor(view, near: float, far: float) -> QPoint:
    """The first pixel down the view's middle whose ray meets the floor ``near`` .. ``far`` metres out."""
    for y in range(view.height()):
        origin, direction = view.ray_at(view.width() // 2, y)
        hit = ray_plane_hit(origin, direction, np.zeros(3), np.array([0.0, 0.0, 1.0]))
        if hit is not None and near < np.linalg.norm(hit[:2]) < far:
            return QPoint(view.width() // 2, y)
    raise AssertionError(f"no floor {near}-{far} m away in the view")


def test_a_corner_near_the_horizon_stops_the_box_at_its_largest(window, qtbot, scene_path):
    """Moving the mouse near the horizon after the first corner raised Beep3dError from mouseMoveEvent
    (a box over 1000 m) at every move, and the preview stayed where it was."""
    _open(window, qtbot, scene_path)
    view = window.view
    view.set_preset("perspective")
    view.fit_scene()
    view.camera.elevation, view.camera.distance = 5.0, 40.0  # looking across the floor
    view.repaint()
    window.set_tool("corners")
    qtbot.mouseClick(view, LEFT, pos=_pixel(window, (0.5, 0.0, 0.0)))
    with qtbot.capture_exceptions() as raised:
        qtbot.mouseMove(view, _pixel_over_far_floor(view, 2 * MAX_BOX_EXTENT_M, 50 * MAX_BOX_EXTENT_M))
        far_ghost = view._ghost
        qtbot.mouseMove(view, _pixel(window, (1.5, 1.0, 0.0)))
    assert not raised
    assert max(far_ghost.size) == pytest.approx(MAX_BOX_EXTENT_M)  # stopped at the largest box
    first = np.array([0.5, 0.0])  # ... from the first corner, which stays one of its corners
    assert np.min(np.linalg.norm(far_ghost.corners()[:, :2] - first, axis=1)) < 1.0
    assert "largest box" in window.statusBar().currentMessage()
    assert max(view._ghost.size[:2]) < 3.0  # and follows the mouse again (pixels are coarse this low)


def test_a_second_corner_on_the_first_is_refused_and_draws_no_box(window, qtbot, scene_path):
    """Three clicks on one spot added a 1 mm x 1 mm x 2 cm box (a 'flat' problem and an undo step)."""
    _open(window, qtbot, scene_path)
    _top_view(window)
    window.set_tool("corners")
    spot = _pixel(window, (0.5, -1.0, 0.0))
    for _ in range(3):
        qtbot.mouseClick(window.view, LEFT, pos=spot)
    assert len(window.doc.boxes) == 0 and window.undo_stack.count() == 0
    assert "on the first one" in window.statusBar().currentMessage()
    assert window.tool.name == "corners"  # still waiting for the opposite corner
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (1.5, 0.0, 0.0)))
    qtbot.mouseMove(window.view, _pixel(window, (1.5, 0.5, 0.0)))
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (1.5, 0.5, 0.0)))
    assert len(window.doc.boxes) == 1
    np.testing.assert_allclose(window.doc.boxes[0].size[:2], [1.0, 1.0], atol=0.05)


def test_a_handle_or_closeup_drag_toward_the_horizon_stops_at_the_largest_box() -> None:
    """A mouse ray almost along a box axis put the face kilometres away: Box refused it inside
    mouseMoveEvent (an uncaught error); the drag now stops at the largest box."""
    import numpy as np

    from beep3d.app.closeups import moved_face, moved_in_plane
    from beep3d.app.handles import drag_handle
    from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MAX_COORDINATE_M, Box

    box = Box(1, "chair", (0.0, 0.0, 0.3), (0.6, 0.6, 0.6), 0.0)
    far = drag_handle(box, "+x", np.array([0.0, 5.0, 0.3]), np.array([1.0, -1e-3, 0.0]), np.zeros(3))
    assert far.size[0] == MAX_BOX_EXTENT_M and far.size[1:] == box.size[1:]
    assert far.center[0] - far.size[0] / 2 == pytest.approx(
        box.center[0] - box.size[0] / 2
    )  # the other face stays
    moved = drag_handle(box, "center", np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, -1e-9]), np.zeros(3))
    assert abs(moved.center[0]) <= MAX_COORDINATE_M
    big = Box(2, "table", (0.0, 0.0, 0.5), (999.0, 1.0, 1.0), 0.0)
    assert moved_face(big, 0, 1, 50.0).size[0] == MAX_BOX_EXTENT_M
    assert abs(moved_in_plane(big, (0, 1), (3e8, 0.0)).center[0]) == MAX_COORDINATE_M
