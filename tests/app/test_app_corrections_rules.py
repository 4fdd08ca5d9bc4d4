"""Hand corrections in the window: hidden and locked boxes take none on any path, a stroke outliving its
box is dropped, what is drawn, listed, exported and kept follows the corrections."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.app.test_app_corrections import LEFT, SHIFT, _boxed, _drag, _mask, _outline, _stroke
from tests.app.test_app_window import _open, _pixel, _top_view

pytestmark = pytest.mark.gui

CHAIR = ((-1.0, 0.0, 0.32), (0.7, 0.7, 0.66))
#: The cube's top (z = 0.6) seen from above.
CUBE_TOP = [(-1.2, -0.2, 0.6), (-0.8, -0.2, 0.6), (-0.8, 0.2, 0.6), (-1.2, 0.2, 0.6)]


def _open_boxes(window, qtbot, scene_path, tmp_path, boxes, **flags):
    """The scene with ``boxes`` (:class:`Box` list; ``flags``: ``hidden`` / ``locked`` id sets), box 0
    selected, seen from the top, resolved."""
    from beep3d.geometry.boxes import BoxSet
    from beep3d.io.box_files import save_boxes

    path = tmp_path / "room.boxes.json"
    save_boxes(path, BoxSet(boxes), **flags)
    _open(window, qtbot, scene_path, path)
    _top_view(window)
    window.doc.select(0)
    window.live.wait_idle()
    return path


def _negative_click_on_the_cube(window, qtbot) -> None:
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))


def test_an_export_after_a_cancelled_correction_resolves_it_again(window, qtbot, scene_path, tmp_path):
    from beep3d.app.live import resolve_for_view

    _boxed(window, qtbot, scene_path, tmp_path)
    uncorrected = _mask(window)
    _negative_click_on_the_cube(window, qtbot)
    window.cancel_resolution()  # the status bar's Cancel: the masks shown are those before the click
    window.live.wait_idle()
    assert len(window.doc.corrections) == 1 and np.array_equal(_mask(window), uncorrected)
    r = window.resolvers
    expected = resolve_for_view(
        window.doc.scene,
        window.doc.boxes,
        r.resolver,
        r.membership_level,
        0,
        r.foreground,
        window.doc.corrections,
    ).resolution.instance_ids
    assert np.count_nonzero(expected == 0) < uncorrected.sum() - 100

    assert window.files.export_to(tmp_path / "out")
    assert np.array_equal(np.load(tmp_path / "out" / "instance_ids.npy"), expected)
    assert len(json.loads((tmp_path / "out" / "boxes.json").read_text())["corrections"]["items"]) == 1
    assert np.array_equal(window.result.labels.instance_ids, expected)  # and the window shows it


def test_closing_with_save_in_a_format_without_corrections_keeps_them_in_the_recovery_file(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    from beep3d.app.main_window import MainWindow
    from beep3d.io.box_formats import box_format

    _boxed(window, qtbot, scene_path, tmp_path)
    labelcloud = tmp_path / "labelcloud.json"
    assert window.files.save(labelcloud, box_format("labelcloud-centroid"))  # Save now writes labelCloud
    _negative_click_on_the_cube(window, qtbot)
    window.live.wait_idle()
    made = window.doc.corrections
    monkeypatch.setattr(window, "ask", lambda *a: QMessageBox.StandardButton.Save)
    assert window.close()  # "Unsaved boxes" answered Save: labelCloud holds the boxes, not the click
    assert "kept in the recovery file" in window.statusBar().currentMessage()

    other = MainWindow()  # the scan opened again with that file offers the click back
    qtbot.addWidget(other)
    asked = []
    monkeypatch.setattr(
        other, "ask", lambda title, text, *a: asked.append(text) or QMessageBox.StandardButton.Yes
    )
    assert other.files.open_scene(scene_path, labelcloud)
    other.live.wait_idle()
    assert asked and "1 mask corrections" in asked[0]
    assert other.doc.corrections.items == made.items and other.doc.dirty
    other.doc.dirty = False
    other.close()


def test_saving_unchanged_corrections_as_labelcloud_keeps_them_unsaved_and_in_the_recovery_file(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.io.box_files import load_corrections
    from beep3d.io.box_formats import box_format

    _boxed(window, qtbot, scene_path, tmp_path)
    _negative_click_on_the_cube(window, qtbot)
    assert window.files.save()  # the project's format: everything saved
    assert not window.doc.dirty and not window.files.recovery_file.exists()
    assert window.files.save(tmp_path / "labelcloud.json", box_format("labelcloud-centroid"))
    # the message, the title's "*" and the recovery file agree
    assert "stays unsaved (kept in the recovery file)" in window.statusBar().currentMessage()
    assert window.doc.dirty and window.windowTitle().startswith("room *")
    assert load_corrections(window.files.recovery_file).items == window.doc.corrections.items
    window.undo_stack.undo()  # undoing and redoing reaches no saved state: the recovery file stays
    window.undo_stack.redo()
    assert window.doc.dirty and window.files.recovery_file.exists()


def test_a_stroke_whose_box_is_deleted_while_it_is_drawn_is_dropped(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box

    table = Box(1, "table", (1.0, 0.5, 0.5), (0.9, 0.9, 1.05))
    _open_boxes(window, qtbot, scene_path, tmp_path, [Box(0, "chair", *CHAIR), table])
    window.doc.select(1)
    window.set_tool("lasso")
    pixels = [_pixel(window, c) for c in [(-1.9, -0.3, 0.0), (-1.5, -0.3, 0.0), (-1.7, 0.3, 0.0)]]
    qtbot.mousePress(window.view, LEFT, Qt.KeyboardModifier.NoModifier, pos=pixels[0])
    qtbot.mouseMove(window.view, pixels[1])
    qtbot.mouseMove(window.view, pixels[2])
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)  # box 1 deleted while the button is down
    assert window.doc.boxes.ids.tolist() == [0]
    qtbot.mouseRelease(window.view, LEFT, Qt.KeyboardModifier.NoModifier, pos=pixels[0])
    assert len(window.doc.corrections) == 0
    assert "Box 1 was deleted while the lasso was drawn" in window.statusBar().currentMessage()

    # a new box gets the freed id 1, and no floor point 3 m away
    window.set_tool("point")
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (1.0, 0.5, 1.0)))
    window.live.wait_idle()
    assert window.doc.boxes[-1].id == 1
    assert not np.any(window.doc.scene.xyz[_mask(window, 1), 0] < -1.4)


def test_a_negative_click_hands_nothing_to_a_locked_box(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box

    table = Box(1, "table", (-1.0, 0.0, 0.4), (1.2, 1.2, 0.9))  # around the chair's box
    _open_boxes(window, qtbot, scene_path, tmp_path, [Box(0, "chair", *CHAIR), table], locked={1})
    chair, locked = _mask(window, 0), _mask(window, 1)
    _negative_click_on_the_cube(window, qtbot)
    assert _mask(window, 0).sum() < chair.sum() - 100  # the region left the chair: to background
    assert np.array_equal(_mask(window, 1), locked)
    (click,) = window.doc.corrections.items
    assert click.protected == (1,)  # kept with the click, so that it holds whatever the flags are later
    # unlocking the table later changes no mask: the click was made while it was locked
    window.selection.set_flag((1,), "locked", False)
    window.live.wait_idle()
    assert np.array_equal(_mask(window, 1), locked)


def test_strokes_of_either_sign_leave_a_hidden_boxs_mask_alone(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box

    table = Box(1, "table", (1.0, 0.5, 0.5), (0.9, 0.9, 1.05))
    _open_boxes(window, qtbot, scene_path, tmp_path, [Box(0, "chair", *CHAIR), table])
    chair, block = _mask(window, 0), _mask(window, 1)
    window.selection.set_flag((0,), "hidden", True)
    window.doc.select(0)  # its row clicked in the box list
    window.set_tool("brush")
    _stroke(window, qtbot, (-1.1, 0, 0.6), (-0.9, 0, 0.6))
    assert len(window.doc.corrections) == 0 and "is hidden" in window.statusBar().currentMessage()
    _stroke(window, qtbot, (-1.1, 0, 0.6), (-0.9, 0, 0.6), SHIFT)  # to background: refused as well
    assert len(window.doc.corrections) == 0
    assert "touched only hidden or locked boxes' points" in window.statusBar().currentMessage()
    assert np.array_equal(_mask(window, 0), chair)

    # box 1 hidden, box 0 shown and selected: a lasso over the block takes none of its points
    window.selection.set_flag((0,), "hidden", False)
    window.selection.set_flag((1,), "hidden", True)
    window.doc.select(0)
    window.set_tool("lasso")
    _outline(window, qtbot, [(0.7, 0.2, 1.0), (1.3, 0.2, 1.0), (1.3, 0.8, 1.0), (0.7, 0.8, 1.0)])
    assert np.array_equal(_mask(window, 1), block)
    assert all(c.protected == (1,) for c in window.doc.corrections)


def test_a_locked_mask_is_protected_before_the_first_result(window, qtbot, scene_path, tmp_path):
    from beep3d.app.live import resolve_for_view
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    path = tmp_path / "room.boxes.json"
    save_boxes(path, BoxSet([Box(0, "chair", *CHAIR)]), locked={0})
    assert window.files.open_scene(scene_path, path)
    assert window.doc.locked == {0} and window.result is None  # the first resolution is still running
    _top_view(window)
    window.set_tool("lasso")
    pixels = [_pixel(window, c) for c in CUBE_TOP]
    _drag(window, qtbot, [*pixels, pixels[0]], SHIFT)
    assert len(window.doc.corrections) == 0 and "locked" in window.statusBar().currentMessage()
    r = window.resolvers
    untouched = resolve_for_view(
        window.doc.scene, window.doc.boxes, r.resolver, r.membership_level, 0, r.foreground
    )
    assert np.array_equal(_mask(window), untouched.labels.instance_ids == 0)


def test_points_a_stroke_gives_back_are_drawn_as_the_box_not_as_left_out(window, qtbot, scene_path, tmp_path):
    from beep3d.app.colouring import point_colours
    from beep3d.geometry.boxes import Box
    from beep3d.resolve.pipeline import PointLabels

    _open_boxes(window, qtbot, scene_path, tmp_path, [Box(0, "chair", (-1.0, 0.0, 0.32), (1.0, 1.0, 0.66))])
    labels = window.result.labels
    left_out = (labels.background_reason > 0) & (labels.first_box == 0)
    assert left_out.sum() > 100  # the floor ring inside the box is left out of the chair's mask (amber)
    window.set_tool("brush")
    _stroke(window, qtbot, (-1.42, -0.3, 0.0), (-1.42, 0.3, 0.0))  # over that ring: to the chair
    (stroke,) = window.doc.corrections.items
    given = stroke.points[left_out[stroke.points]]
    labels = window.result.labels
    assert len(given) > 20 and np.all(labels.instance_ids[given] == 0)
    assert not np.any(labels.background_reason[given])
    window.set_colour_mode("instances")
    as_chair = point_colours(
        "instances", window.doc.scene.rgb, PointLabels(**{**vars(labels), "background_reason": None})
    )
    assert np.array_equal(window.shown_colours[given], as_chair[given])


def test_the_not_object_share_and_background_problem_follow_the_corrections(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.geometry.boxes import Box

    _open_boxes(window, qtbot, scene_path, tmp_path, [Box(0, "chair", (-1.0, 0.0, 0.32), (1.6, 1.6, 0.66))])
    assert window._box_rows()[0].extra["background"] > 0.3  # most of the box is floor
    assert "much_background" in [p.kind for p in window.result.problems]
    in_box = window.result.labels.first_box == 0
    window.set_tool("lasso")  # around the whole box: every point seen in it goes to the chair
    _outline(
        window, qtbot, [(-1.78, -0.78, 0.0), (-0.22, -0.78, 0.0), (-0.22, 0.78, 0.0), (-1.78, 0.78, 0.0)]
    )
    assert _mask(window)[in_box].mean() > 0.9
    assert window._box_rows()[0].extra["background"] < 0.1
    assert "much_background" not in [p.kind for p in window.result.problems]


def test_autosave_follows_an_undo_and_a_new_edit_and_merged_key_presses(window, qtbot, scene_path, tmp_path):
    from beep3d.io.box_files import load_boxes, load_corrections

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_tool("correct")
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    qtbot.mouseClick(window.view, LEFT, pos=_pixel(window, (-1.7, 0.0, 0.0)))
    assert window.files.autosave()
    window.undo_stack.undo()  # the second click taken back, a third made: the same undo index again
    qtbot.mouseClick(window.view, LEFT, SHIFT, pos=_pixel(window, (-1.15, 0.15, 0.6)))
    assert window.files.autosave()
    assert load_corrections(window.files.recovery_file).items == window.doc.corrections.items
    assert not window.files.autosave()  # nothing changed since

    window.set_tool("select")
    qtbot.keyClick(window.view, Qt.Key.Key_D)
    assert window.files.autosave()
    qtbot.keyClick(window.view, Qt.Key.Key_D)  # merged into the previous press's undo step
    assert window.files.autosave()
    stored = load_boxes(window.files.recovery_file, origin=window.doc.scene.origin)[0]
    assert stored.center == window.doc.boxes[0].center


def test_a_result_arriving_during_a_stroke_is_shown_under_its_preview(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    from beep3d.app.live import resolve_for_view
    from beep3d.corrections import Correction, Corrections

    _boxed(window, qtbot, scene_path, tmp_path)
    window.set_colour_mode("instances")
    shown = []
    upload = window.view.set_colours
    monkeypatch.setattr(window.view, "set_colours", lambda rgb: (shown.append(np.array(rgb)), upload(rgb)))
    window.set_tool("brush")
    a, b = _pixel(window, (1.7, -1.7, 0.0)), _pixel(window, (1.7, -1.4, 0.0))
    qtbot.mousePress(window.view, LEFT, Qt.KeyboardModifier.NoModifier, pos=a)  # on the floor, far away
    painted = np.flatnonzero(np.any(shown[-1] != window.shown_colours, axis=1))
    assert len(painted) > 0

    # a result with the cube's top taken out of the chair arrives while the button is down
    r, scene = window.resolvers, window.doc.scene
    top = int(np.flatnonzero((scene.xyz[:, 2] > 0.55) & (np.abs(scene.xyz[:, 0] + 1) < 0.05))[0])
    click = Corrections((Correction("click", 0, False, [top]),), scene.num_points)
    before = window.shown_colours
    window.live.resultReady.emit(
        resolve_for_view(
            scene,
            window.doc.boxes,
            r.resolver,
            r.membership_level,
            window.live.generation,
            r.foreground,
            click,
        )
    )
    changed = np.flatnonzero(np.any(window.shown_colours != before, axis=1))
    assert len(changed) > 100 and not np.isin(changed, painted).any()
    qtbot.mouseMove(window.view, b)
    assert np.array_equal(shown[-1][changed], window.shown_colours[changed])  # the new masks
    assert np.array_equal(shown[-1][painted], shown[-2][painted])  # under the stroke's preview
    qtbot.mouseRelease(window.view, LEFT, Qt.KeyboardModifier.NoModifier, pos=b)
