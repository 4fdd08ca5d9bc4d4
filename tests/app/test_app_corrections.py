"""Hand corrections in the window: the Correct (click) and Brush tools, their drawing, saving and recovery."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.app.test_app_window import _open, _pixel, _top_view

SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton
#: The cube of the two-cube scene: points 30000..35999, centre (-1, 0, 0.3), 0.6 m wide.
CUBE = slice(30000, 36000)

pytestmark = pytest.mark.gui


def _boxed(window, qtbot, scene_path, tmp_path):
    """The scene with a chair box around the cube (id 0), selected, seen from the top."""
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes = tmp_path / "room.boxes.json"
    save_boxes(boxes, BoxSet([Box(0, "chair", (-1.0, 0.0, 0.32), (0.7, 0.7, 0.66))]))
    _open(window, qtbot, scene_path, boxes)
    _top_view(window)
    window.doc.select(0)
    window.live.wait_idle()
    return boxes


def _mask(window, box_id: int = 0) -> np.ndarray:
    window.live.wait_idle()
    assert window.result is not None
    return window.result.labels.instance_ids == box_id


def _key(window, qtbot, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.view, key, modifiers)
    window.live.wait_idle()


def test_correct_tool_clicks_change_the_mask_one_undo_step_each(window, qtbot, scene_path, tmp_path):
    _boxed(window, qtbot, scene_path, tmp_path)
    before = _mask(window)
    assert before[CUBE].mean() > 0.9  # the box gives the cube to the chair
    _key(window, qtbot, Qt.Key.Key_F2)
    assert window.tool.name == "correct"
    steps = window.undo_stack.count()

    # Shift+click on the cube's top: not the chair
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    after = _mask(window)
    assert window.undo_stack.count() == steps + 1
    (click,) = window.doc.corrections.items
    assert (click.kind, click.box_id, click.positive) == ("click", 0, False)
    assert 30000 <= click.points[0] < 36000  # a cube point, the nearest to the camera under the cursor
    assert window.doc.scene.xyz[click.points[0], 2] > 0.5
    assert not after[click.points[0]]
    assert after[CUBE].sum() < before[CUBE].sum() - 100  # spread to the cube's top around the click
    assert window.result.labels.corrected[click.points[0]]
    assert window.doc.dirty and window.windowTitle().startswith("room *")
    # the click is drawn as a red dot where it was made
    (marker,) = window.view.markers
    assert np.allclose(marker[:3], window.doc.scene.xyz[click.points[0]], atol=1e-5)
    assert marker[3] > 0.8 and marker[4] < 0.5

    # Ctrl+Z takes it back: the mask returns, and the document is clean again
    _key(window, qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.corrections) == 0
    assert len(window.view.markers) == 0
    assert np.array_equal(_mask(window), before)
    assert not window.doc.dirty

    # a positive click on the floor beside the box gives that point to the chair
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (-1.7, 0.0, 0.0)))
    (click,) = window.doc.corrections.items
    assert click.positive and click.points[0] < 30000
    assert _mask(window)[click.points[0]]
    assert window.undo_stack.count() == steps + 1  # the undone click was replaced: still one step


def test_correct_tool_needs_a_visible_unlocked_box(window, qtbot, scene_path, tmp_path):
    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    where = _pixel(window, (-1.0, 0.0, 0.6))
    window.doc.select(None)
    qtbot.mouseClick(window.view, LEFT, pos=where)
    assert len(window.doc.corrections) == 0
    assert "select a box first" in window.statusBar().currentMessage()

    window.doc.select(0)
    window.selection.set_flag((0,), "locked", True)
    qtbot.mouseClick(window.view, LEFT, pos=where)
    assert len(window.doc.corrections) == 0
    assert "locked" in window.statusBar().currentMessage()


def _drag(window, qtbot, pixels, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A left-button drag in the view through ``pixels`` (press at the first, release at the last)."""
    qtbot.mousePress(window.view, LEFT, modifiers, pos=pixels[0])
    for pixel in pixels[1:]:
        qtbot.mouseMove(window.view, pixel)
    qtbot.mouseRelease(window.view, LEFT, modifiers, pos=pixels[-1])
    window.live.wait_idle()


def _stroke(window, qtbot, start, end, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A brush drag from world point ``start`` to ``end`` (through its middle)."""
    a, b = _pixel(window, start), _pixel(window, end)
    _drag(window, qtbot, [a, QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2), b], modifiers)


def test_brush_stroke_to_background_is_one_undo_step(window, qtbot, scene_path, tmp_path):
    _boxed(window, qtbot, scene_path, tmp_path)
    before = _mask(window)
    _key(window, qtbot, Qt.Key.Key_F3)
    assert window.tool.name == "brush"
    steps = window.undo_stack.count()
    # across the middle of the cube's top (the brush is 16 px, about 0.15 m here)
    _stroke(window, qtbot, (-1.1, 0.0, 0.6), (-0.9, 0.0, 0.6), SHIFT)
    assert window.undo_stack.count() == steps + 1
    (stroke,) = window.doc.corrections.items
    assert (stroke.kind, stroke.box_id) == ("stroke", -1)
    painted = stroke.points
    assert len(painted) > 50
    xyz = window.doc.scene.xyz[painted]
    # the surface seen from above: the cube's top, never the floor hidden under it (the cube is a
    # volume of scattered points, so now and then a point below its top shows through a gap)
    assert np.all(xyz[:, 2] > 0.1)
    assert np.mean(xyz[:, 2] > 0.45) > 0.95
    assert np.all(np.abs(xyz[:, :2] - (-1.0, 0.0)).max(axis=1) < 0.3)
    after = _mask(window)
    assert not after[painted].any() and before[painted].all()
    assert window.result.labels.corrected[painted].all()
    assert after.sum() == before.sum() - before[painted].sum()
    window.undo_stack.undo()
    assert np.array_equal(_mask(window), before)


def test_brush_gives_points_to_the_selected_box_respects_clipping_and_resizes(
    window, qtbot, scene_path, tmp_path
):
    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("brush")
    radius = window.tools["brush"].radius
    _key(window, qtbot, Qt.Key.Key_BracketRight)
    assert window.tools["brush"].radius > radius
    _key(window, qtbot, Qt.Key.Key_BracketLeft)
    _key(window, qtbot, Qt.Key.Key_BracketLeft)
    assert window.tools["brush"].radius < radius

    # floor beside the box: to the chair
    _stroke(window, qtbot, (-1.6, -0.3, 0.0), (-1.6, 0.3, 0.0))
    (stroke,) = window.doc.corrections.items
    assert stroke.box_id == 0 and np.all(stroke.points < 30000)
    assert _mask(window)[stroke.points].all()

    # with the points above 0.2 m clipped away, the brush reaches the cube's lower points only
    window.view.set_clip((np.array([-5.0, -5.0, -1.0]), np.array([5.0, 5.0, 0.2])))
    window.view.repaint()
    _stroke(window, qtbot, (-1.2, 0.0, 0.6), (-0.8, 0.0, 0.6), SHIFT)
    stroke = window.doc.corrections.items[-1]
    assert stroke.box_id == -1
    assert np.all(window.doc.scene.xyz[stroke.points, 2] <= 0.2)


def test_corrected_points_are_drawn_lighter_with_a_legend_line(window, qtbot, scene_path, tmp_path):
    from beep3d.app.colouring import point_colours
    from beep3d.resolve.pipeline import PointLabels

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_colour_mode("instances")
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    window.live.wait_idle()
    labels = window.result.labels
    corrected = labels.corrected
    assert corrected.any()
    plain = point_colours(
        "instances", window.doc.scene.rgb, PointLabels(**{**vars(labels), "corrected": None})
    )
    shown = window.shown_colours.astype(int)
    assert np.all(shown[corrected].sum(axis=1) > plain[corrected].astype(int).sum(axis=1))
    assert np.array_equal(shown[~corrected], plain[~corrected])
    assert any("brush" in text for text in window.legend.texts())


def test_save_writes_version_2_and_reopening_restores_the_corrections(window, qtbot, scene_path, tmp_path):
    boxes = _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    window.set_tool("brush")
    _stroke(window, qtbot, (-1.6, -0.3, 0.0), (-1.6, 0.3, 0.0))
    made = window.doc.corrections
    corrected = window.result.labels.corrected.copy()
    assert len(made) == 2 and window.doc.dirty
    assert window.files.save()
    assert not window.doc.dirty
    data = json.loads(boxes.read_text())
    assert data["version"] == 2
    assert data["corrections"]["num_points"] == 44000
    assert [item["kind"] for item in data["corrections"]["items"]] == ["click", "stroke"]

    # opening the scan again loads the box file with its corrections, and the same masks
    assert window.files.open_scene(scene_path)
    window.live.wait_idle()
    assert window.doc.corrections == made and not window.doc.dirty
    assert np.array_equal(window.result.labels.corrected, corrected)

    # loading another box file replaces them with that file's (none here)
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    plain = tmp_path / "plain.json"
    save_boxes(plain, BoxSet([Box(0, "chair", (-1.0, 0.0, 0.32), (0.7, 0.7, 0.66))]))
    assert window.files.load_boxes(plain)
    assert len(window.doc.corrections) == 0
    assert window.files.load_boxes(boxes)
    assert window.doc.corrections == made


def test_saving_to_a_format_without_corrections_says_so(window, qtbot, scene_path, tmp_path):
    from beep3d.io.box_formats import box_format

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    assert window.files.save(tmp_path / "labelcloud.json", box_format("labelcloud-centroid"))
    message = window.statusBar().currentMessage()
    assert "cannot hold the 1 mask corrections" in message
    assert "corrections" not in json.loads((tmp_path / "labelcloud.json").read_text())
    # the correction exists only in the window: it stays unsaved, so closing asks, and the recovery
    # file holds it at once
    assert window.doc.dirty and "stays unsaved (kept in the recovery file)" in message
    from beep3d.io.box_files import load_corrections

    assert load_corrections(window.files.recovery_file).items == window.doc.corrections.items


def test_autosave_and_recovery_keep_the_corrections(window, qtbot, scene_path, tmp_path, monkeypatch):
    from beep3d.app.main_window import MainWindow
    from beep3d.io.box_files import load_corrections

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    made = window.doc.corrections
    assert window.doc.dirty  # a correction alone is an unsaved change: autosaved, asked about on close
    assert window.files.autosave()
    recovery = window.files.recovery_file
    assert load_corrections(recovery).items == made.items

    other = MainWindow()
    qtbot.addWidget(other)
    questions = []
    monkeypatch.setattr(other, "ask", lambda title, text, buttons, default: questions.append(text) or default)
    assert other.files.open_scene(scene_path)
    other.live.wait_idle()
    assert questions and "1 mask corrections" in questions[0]
    assert other.doc.corrections == made and other.doc.dirty
    assert other.result is not None and other.result.labels.corrected.any()
    other.doc.dirty = False
    other.close()


def test_f1_lists_the_correction_keys(window):
    from beep3d.app.shortcuts_dialog import shortcut_rows

    rows = dict((text, keys) for keys, text in shortcut_rows(window.actions()))
    assert rows["Correct mask (click)"] == "F2"
    assert rows["Brush mask"] == "F3" and rows["Lasso mask"] == "F4"
    assert rows["Smaller brush"] == "[" and rows["Bigger brush"] == "]"
    assert rows["Shorter (box x) (Shift: big step)"] == "K, Shift+K"  # the size nudges keep their keys


def test_a_correction_alone_is_asked_about_on_close_and_outlives_its_box(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    questions = []
    monkeypatch.setattr(
        window, "ask", lambda title, text, *a: questions.append(title) or QMessageBox.StandardButton.Cancel
    )
    assert not window.close()
    assert questions == ["Unsaved boxes"] and window.isVisible()

    # deleting the box leaves its click without effect; undoing the delete brings both back
    window.set_tool("select")
    window.doc.select(0)
    window.selection.delete_selected()
    window.live.wait_idle()
    assert not window.errors_shown and not (window.result.labels.instance_ids >= 0).any()
    window.undo_stack.undo()
    assert not _mask(window)[window.doc.corrections.items[0].points].any()


def _outline(window, qtbot, corners, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A lasso drag through the world points ``corners`` and back to the first."""
    pixels = [_pixel(window, c) for c in corners]
    _drag(window, qtbot, [*pixels, pixels[0]], modifiers)


def test_lasso_gives_the_points_inside_its_outline_one_undo_step(window, qtbot, scene_path, tmp_path):
    _boxed(window, qtbot, scene_path, tmp_path)
    before = _mask(window)
    _key(window, qtbot, Qt.Key.Key_F4)
    assert window.tool.name == "lasso"
    steps = window.undo_stack.count()
    # a triangle over the floor beside the cube, outside its box: those floor points go to the chair
    _outline(window, qtbot, [(-1.9, -0.3, 0.0), (-1.5, -0.3, 0.0), (-1.7, 0.3, 0.0)])
    assert window.undo_stack.count() == steps + 1
    assert window.view.lasso is None  # the outline is gone once drawn
    (stroke,) = window.doc.corrections.items
    assert (stroke.kind, stroke.box_id) == ("stroke", 0)
    xyz = window.doc.scene.xyz[stroke.points]
    assert len(stroke.points) > 20
    assert np.all((xyz[:, 0] > -1.95) & (xyz[:, 0] < -1.45) & (np.abs(xyz[:, 1]) < 0.35))
    # inside the triangle only: none from the corners the triangle leaves out
    assert not np.any((xyz[:, 0] < -1.85) & (xyz[:, 1] > 0.2))
    after = _mask(window)
    assert after[stroke.points].all() and not before[stroke.points].any()

    # Shift: the cube's top inside the outline goes to background
    _outline(window, qtbot, [(-1.2, -0.2, 0.6), (-0.8, -0.2, 0.6), (-0.8, 0.2, 0.6), (-1.2, 0.2, 0.6)], SHIFT)
    stroke = window.doc.corrections.items[-1]
    assert stroke.box_id == -1 and len(stroke.points) > 50
    assert (
        np.mean(window.doc.scene.xyz[stroke.points, 2] > 0.45) > 0.95
    )  # the top you see, not the floor below
    assert not _mask(window)[stroke.points].any()
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert np.array_equal(_mask(window), before)


def test_no_stroke_or_click_takes_points_from_a_locked_boxs_mask(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box

    _boxed(window, qtbot, scene_path, tmp_path)
    window.doc.set_boxes(window.doc.boxes.with_box(Box(1, "table", (-1.7, 0.0, 0.1), (0.4, 0.8, 0.2))))
    window.live.wait_idle()
    before = _mask(window)
    window.selection.set_flag((0,), "locked", True)
    # Shift+lasso over the locked cube's top: its points stay in its mask, no step is recorded
    _key(window, qtbot, Qt.Key.Key_F4)
    steps = window.undo_stack.count()
    _outline(window, qtbot, [(-1.2, -0.2, 0.6), (-0.8, -0.2, 0.6), (-0.8, 0.2, 0.6), (-1.2, 0.2, 0.6)], SHIFT)
    assert window.undo_stack.count() == steps and len(window.doc.corrections) == 0
    assert "locked" in window.statusBar().currentMessage()
    # the other box selected, a lasso over the cube and the floor beside it: only the floor is taken
    window.doc.select(1)
    _outline(window, qtbot, [(-1.9, -0.2, 0.0), (-0.8, -0.2, 0.6), (-0.8, 0.2, 0.6), (-1.9, 0.2, 0.0)])
    (stroke,) = window.doc.corrections.items
    assert stroke.box_id == 1 and not before[stroke.points].any()
    assert np.array_equal(_mask(window), before)
    # a click on the locked cube for the other box is refused
    _key(window, qtbot, Qt.Key.Key_F2)
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    assert len(window.doc.corrections) == 1 and "locked" in window.statusBar().currentMessage()


def test_a_box_file_with_corrections_about_a_deleted_box_loads_the_others_and_says_so(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.corrections import Correction, Corrections
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes = tmp_path / "stale.boxes.json"
    kept = Correction("click", 0, True, np.array([3]))
    stale = Correction("stroke", 5, True, np.array([4, 5]))  # box 5 was deleted by an older version
    save_boxes(
        boxes,
        BoxSet([Box(0, "chair", (-1.0, 0.0, 0.32), (0.7, 0.7, 0.66))]),
        corrections=Corrections((kept, stale)),
    )
    _open(window, qtbot, scene_path, boxes)
    assert list(window.doc.corrections) == [kept]
    assert "left out" in window.statusBar().currentMessage() and not window.errors_shown


def test_the_windows_export_keeps_the_corrections_and_flags_in_its_box_file(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.io.box_files import load_box_flags, load_corrections

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    window.selection.set_flag((0,), "locked", True)
    window.live.wait_idle()
    assert window.files.export_to(tmp_path / "out")
    exported = tmp_path / "out" / "boxes.json"
    assert load_corrections(exported).items == window.doc.corrections.items
    assert load_box_flags(exported).locked == {0}
