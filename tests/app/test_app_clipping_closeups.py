"""The annotator's day in the window (pytest-qt, under Xvfb): clipping by height and around a box, and
the close-ups of the selected box (what they show, and editing the box by dragging in them).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from PySide6.QtCore import QPoint, Qt

from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open, _pixel, _top_view

pytestmark = pytest.mark.gui

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def test_clipping_slices_by_height_and_crops_around_a_box(window, qtbot, scene_path, tmp_path):
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    _top_view(window)
    view = window.view
    top_of_block = _pixel(window, (1.0, 0.5, 1.0))
    assert view.pick_point(top_of_block.x(), top_of_block.y())[2] > 0.8  # the tall block's top
    qtbot.keyClick(view, Qt.Key.Key_Y)  # height slice, floor to 2 m
    assert window.clipping.mode == "slice" and window.clipping_panel.slice_check.isChecked()
    window.clipping_panel.z_hi.setValue(0.4)  # cut at 40 cm: look into the block from above
    top_of_block = _pixel(window, (1.0, 0.5, 1.0))
    lo, hi = view.clip
    assert hi[2] == pytest.approx(0.4)
    seen = view.pick_point(top_of_block.x(), top_of_block.y())
    assert seen is not None and seen[2] <= 0.4
    inside = window.clipping.inside(window.doc.scene.xyz)
    assert inside.sum() < len(inside) and np.all(window.doc.scene.xyz[inside, 2] <= 0.4)
    view.repaint()  # the shader draws with the clip (no GL error)
    # crop around the cube: the block is gone, the cube stays
    window.doc.select(1)
    qtbot.keyClick(view, Qt.Key.Key_C, SHIFT)
    top_of_block = _pixel(window, (1.0, 0.5, 1.0))
    assert window.clipping.mode == "crop" and not window.clipping_panel.slice_check.isChecked()
    assert view.pick_point(top_of_block.x(), top_of_block.y()) is None
    cube = _pixel(window, (-1.0, 0.0, 0.6))
    assert view.pick_point(cube.x(), cube.y()) is not None
    assert len(view.boxes) == 2  # boxes are not clipped
    qtbot.keyClick(view, Qt.Key.Key_C, CTRL | SHIFT)
    assert window.clipping.mode == "none" and view.clip is None
    top_of_block = _pixel(window, (1.0, 0.5, 1.0))  # the docks may have changed the view's size
    assert view.pick_point(top_of_block.x(), top_of_block.y())[2] > 0.8


def test_rectangle_fit_fits_only_the_points_the_clipping_draws(window, qtbot, scene_path):
    """Under a height slice to 0.5 m, a rectangle around the 1 m block gave a 1 m tall box: its top
    fitted to points that were not drawn."""
    _open(window, qtbot, scene_path)
    window.clipping_panel.slice_check.setChecked(True)
    window.clipping_panel.z_lo.setValue(-1.0)
    window.clipping_panel.z_hi.setValue(0.5)
    assert window.view.clip[1][2] == pytest.approx(0.5)
    window.set_tool("rectangle")
    _top_view(window)
    start, end = _pixel(window, (0.4, -0.1, 0.0)), _pixel(window, (1.6, 1.1, 0.0))
    qtbot.mousePress(window.view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(window.view, end)
    qtbot.mouseRelease(window.view, Qt.MouseButton.LeftButton, pos=end)
    box = window.doc.boxes[0]
    assert box.center[2] + box.size[2] / 2 == pytest.approx(0.5, abs=0.02)  # the slice's top
    np.testing.assert_allclose(box.size[:2], [0.8, 0.8], atol=0.04)


def test_closeups_show_the_selected_box_and_edit_it_by_dragging_edges(window, qtbot, scene_path, tmp_path):
    from beep3d.app.closeups import local_points, moved_face

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    closeups = window.closeups
    assert window.closeups_dock.isVisible()
    assert all(view.box is None for view in closeups.views.values())
    window.doc.select(2)
    box = window.doc.box(2)
    for view in closeups.views.values():
        assert view.box == box
        view.repaint()
    local, index = local_points(window.doc.scene.xyz, box)
    assert len(local) > 8000 * 0.9  # the block's points are there, in the box's frame
    assert np.all(np.abs(local[:, :2]) <= 0.8 / 2 + 0.29)
    top = closeups.views["top"]
    image = top._render_points()  # what its paint event draws under the box outline
    centre = top.to_pixel(0.0, 0.0)
    assert image.pixelColor(int(centre.x()), int(centre.y())).name() != "#1c1c1c"  # points drawn there

    # drag the front view's top edge up by 0.2 m: taller, bottom stays
    front = closeups.views["front"]
    rect = front._box_rect(box)
    grab = QPoint(int(rect.center().x()), int(round(rect.top())))
    assert front.grab_at(QtCore.QPointF(grab)) == "v+"
    scale, _ = front._scale()
    target = QPoint(grab.x(), int(round(grab.y() - 0.2 * scale)))
    qtbot.mousePress(front, Qt.MouseButton.LeftButton, pos=grab)
    qtbot.mouseMove(front, QPoint(grab.x(), (grab.y() + target.y()) // 2))
    qtbot.mouseMove(front, target)
    qtbot.mouseRelease(front, Qt.MouseButton.LeftButton, pos=target)
    after = window.doc.box(2)
    assert after.size[2] == pytest.approx(1.2, abs=1.5 / scale + 0.01)
    assert after.center[2] - after.size[2] / 2 == pytest.approx(0.0, abs=1e-6)
    assert window.undo_stack.count() == 1 and window.undo_stack.undoText() == "Edit box in a close-up"
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert window.doc.box(2) == box

    # drag inside the top view: moves the box on the floor
    rect = top._box_rect(box)
    start = rect.center().toPoint()
    qtbot.mousePress(top, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(top, start + QPoint(20, 0))
    qtbot.mouseRelease(top, Qt.MouseButton.LeftButton, pos=start + QPoint(20, 0))
    moved = window.doc.box(2)
    assert moved.center[0] > box.center[0] and moved.size == box.size
    # the pure face move keeps the opposite face where it was, and moves its own face outward
    wider = moved_face(box, 0, -1, 0.3)
    assert wider.center[0] + wider.size[0] / 2 == pytest.approx(box.center[0] + box.size[0] / 2)
    assert wider.center[0] - wider.size[0] / 2 == pytest.approx(box.center[0] - box.size[0] / 2 - 0.3)
    window.doc.select(None)
    assert all(view.box is None for view in closeups.views.values())


def test_every_closeup_edge_dragged_outward_grows_its_turned_box_by_the_drag(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.geometry.boxes import Box

    turned = Box(7, "cabinet", (0.0, 1.0, 0.4), (0.6, 0.5, 0.8), 0.6)
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, [turned]))
    window.doc.select(7)
    for name, view in window.closeups.views.items():
        scale, _ = view._scale()
        u, v, _ = view.axes
        for grab, (du, dv) in {"u+": (20, 0), "u-": (-20, 0), "v+": (0, -20), "v-": (0, 20)}.items():
            after = view.dragged_box(grab, turned, du, dv)
            axis = u if grab[0] == "u" else v
            grown = after.size[axis] - turned.size[axis]
            assert grown == pytest.approx(20 / scale), (name, grab)
            # the opposite face stays: the centre moves half the growth toward the dragged face
            shift = (np.asarray(after.center) - turned.center) @ _box_axes(turned)[:, axis]
            assert shift == pytest.approx((1 if grab[1] == "+" else -1) * grown / 2), (name, grab)


def _box_axes(box) -> np.ndarray:
    from beep3d.app.handles import box_rotation

    return box_rotation(box.yaw)


def test_the_front_and_side_closeups_show_the_near_side_of_a_box_over_the_far_side(qtbot):
    from beep3d.app.closeups import CloseupsPanel, viewer_side
    from beep3d.geometry.boxes import Box

    # a front view looks from -y, a side view from +x (right x up points at the viewer)
    assert viewer_side((0, 2, 1)) == -1 and viewer_side((1, 2, 0)) == 1 and viewer_side((0, 1, 2)) == 1
    box = Box(0, "cabinet", (0.0, 0.0, 0.5), (0.7, 0.7, 0.7))
    a, b = np.meshgrid(np.linspace(-0.3, 0.3, 60), np.linspace(0.2, 0.8, 60))
    a, b = a.ravel(), b.ravel()
    near, far = (250, 0, 0), (0, 0, 250)
    panel = CloseupsPanel()
    qtbot.addWidget(panel)
    panel.resize(220, 700)
    panel.show()
    qtbot.waitExposed(panel)
    for name, near_sheet, far_sheet in (
        (
            "front",
            np.column_stack([a, np.full_like(a, -0.35), b]),
            np.column_stack([a, np.full_like(a, 0.35), b]),
        ),
        (
            "side",
            np.column_stack([np.full_like(a, 0.35), a, b]),
            np.column_stack([np.full_like(a, -0.35), a, b]),
        ),
    ):
        xyz = np.concatenate([near_sheet, far_sheet]).astype(np.float32)
        rgb = np.concatenate([np.tile(near, (len(a), 1)), np.tile(far, (len(a), 1))]).astype(np.uint8)
        panel.show_box(box, xyz, rgb)
        view = panel.views[name]
        image = view._render_points()
        centre = view.to_pixel(0.0, 0.0)
        seen = image.pixelColor(int(centre.x()), int(centre.y()))
        assert (seen.red(), seen.blue()) == (250, 0), f"the {name} view shows the far sheet at its centre"


def test_a_click_in_a_closeup_leaves_a_flat_box_as_it_is(window, qtbot, scene_path, tmp_path):
    """A click without a drag on a 1 mm picture's edge made it 5 mm thick (the smallest side a face
    drag leaves), moved its centre 2 mm and added an undo step."""
    from beep3d.geometry.boxes import Box

    picture = Box(3, "picture", (0.0, 1.9, 1.5), (0.6, 0.001, 0.4))
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, [*_two_boxes(), picture]))
    window.doc.select(3)
    steps = window.undo_stack.count()
    for name in ("top", "side"):  # the box's 1 mm side across the view
        view = window.closeups.views[name]
        view.repaint()
        middle = view._box_rect(view.box).center()
        assert view.grab_at(middle) in ("v+", "v-", "u+", "u-")  # its edges lie on one another
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=middle.toPoint())
        assert window.doc.box(3) == picture and window.undo_stack.count() == steps
