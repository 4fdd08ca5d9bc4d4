"""The rest of issue 15 in the window (pytest-qt, under Xvfb): a long resolution shows its percentage
and stage and Cancel stops it; hidden and locked boxes survive saving and opening; the crop box of
the clipping tool is edited by its numbers.
"""

from __future__ import annotations

import re
import threading

import pytest
from PySide6.QtCore import Qt

from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open

pytestmark = pytest.mark.gui


class _EndlessResolver:
    """A resolver that reports its progress as the teacher does and would run for many minutes."""

    def __init__(self, inner):
        self.inner = inner
        self.class_set = inner.class_set
        self.steps = 0
        self.stopped = threading.Event()

    def resolve(self, scene, boxes, progress=None):
        import time

        try:
            for step in range(100_000):
                progress.report(step / 1000, "teacher backbone")
                self.steps += 1
                time.sleep(0.01)
        finally:
            self.stopped.set()
        return self.inner.resolve(scene, boxes)


# progress and cancel ------------------------------------------------------------------------------


def test_a_long_resolution_shows_its_percentage_and_cancel_stops_the_computation(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.document import ChangeBox

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    shown = window.result
    endless = _EndlessResolver(window.resolvers.resolver)
    window.resolvers.resolver = endless
    box = window.doc.box(1)
    window.push(ChangeBox(box, box.moved(center=(-0.9, 0.0, 0.3))))
    progress = window.resolution_progress
    qtbot.waitUntil(progress.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: "(teacher backbone)" in progress.label.text(), timeout=5000)
    text = progress.label.text()
    match = re.match(r"Resolving: (\d+) % \(teacher backbone\)", text)
    assert match, text
    assert progress.bar.maximum() == 100 and progress.bar.value() == int(match.group(1))
    percent = int(match.group(1))
    qtbot.waitUntil(lambda: progress.bar.value() > percent, timeout=5000)  # it moves
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not progress.isVisible() and "cancelled" in window.resolution_label.text()
    # the computation itself stops (it had minutes to go), and the window is idle again
    assert endless.stopped.wait(10)
    assert window.live.wait_idle(10_000)
    steps = endless.steps
    qtbot.wait(100)
    assert endless.steps == steps
    assert window.result is shown  # the older masks stay, with the status saying so
    assert "cancelled" in window.resolution_label.text()
    window.resolvers.resolver = endless.inner
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    window.live.wait_idle()
    assert window.result.boxes == window.doc.boxes


# hidden and locked boxes in the box file ---------------------------------------------------------


def _checked(window, box_id, column):
    table = window.box_table
    return table.item(table.row_of(box_id), table.COLUMNS.index(column)).checkState() == Qt.CheckState.Checked


def test_hidden_and_locked_boxes_are_saved_and_restored_on_opening_and_recovery(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    import json

    from beep3d.app.main_window import MainWindow
    from beep3d.geometry.boxes import BoxSet
    from beep3d.io.box_files import save_boxes

    boxes_path = tmp_path / "room.boxes.json"
    save_boxes(boxes_path, BoxSet(_two_boxes()), scene_name="room")  # as the window saves them
    before, inode = boxes_path.read_bytes(), boxes_path.stat().st_ino
    _open(window, qtbot, scene_path, boxes_path)
    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert boxes_path.stat().st_ino != inode  # written again (atomically: a new file)
    assert boxes_path.read_bytes() == before  # nothing hidden or locked: the same file
    window.doc.select(1)
    qtbot.keyClick(window.view, Qt.Key.Key_H)
    window.doc.select(2)
    qtbot.keyClick(
        window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.doc.dirty  # hiding and locking are unsaved changes now
    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    entries = {e["id"]: e for e in json.loads(boxes_path.read_text())["boxes"]}
    assert entries[1].get("hidden") is True and "locked" not in entries[1]
    assert entries[2].get("locked") is True and "hidden" not in entries[2]

    # opening the scan again brings them back: not drawn, refusing edits, checked in the list
    window.doc.select(None)
    assert window.files.open_scene(scene_path)
    window.live.wait_idle()
    assert window.doc.hidden == {1} and window.doc.locked == {2} and not window.doc.dirty
    assert [b.id for b in window.view.boxes] == [2]
    assert _checked(window, 1, "hidden") and _checked(window, 2, "locked")
    window.doc.select(2)
    box = window.doc.box(2)
    qtbot.keyClick(window.view, Qt.Key.Key_W)
    assert window.doc.box(2) == box

    # an unsaved unlock and show reaches the recovery file, and recovering restores it
    qtbot.keyClick(
        window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.keyClick(window.view, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert window.doc.hidden == frozenset() and window.doc.locked == frozenset()
    assert window.files.autosave()
    other = MainWindow()
    qtbot.addWidget(other)
    asked = []
    monkeypatch.setattr(other, "ask", lambda title, text, buttons, default: asked.append(text) or default)
    assert other.files.open_scene(scene_path)
    assert asked  # the recovery is offered (the boxes are the same; only the flags differ)
    assert other.doc.hidden == frozenset() and other.doc.locked == frozenset() and other.doc.dirty
    other.live.wait_idle()
    other.doc.dirty = False
    other.close()


# the crop box's numbers ------------------------------------------------------------------------------


def test_the_crop_box_is_edited_by_its_numbers_after_shift_c(window, qtbot, scene_path, tmp_path):
    import numpy as np

    from tests.app.test_app_window import _pixel, _top_view

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    _top_view(window)
    panel, clipping, view = window.clipping_panel, window.clipping, window.view
    window.doc.select(1)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert clipping.mode == "crop" and panel.crop_check.isChecked() and window.clipping_dock.isVisible()
    # the fields show the crop box around the chair (0.6 m cube at x = -1) with its 0.3 m margin
    assert panel.crop_lo[0].value() == pytest.approx(-1.6) and panel.crop_hi[0].value() == pytest.approx(-0.4)
    xyz = window.doc.scene.xyz
    # the table's points within the crop box's y and z range (x = 1 is outside it)
    table_points = (np.abs(xyz[:, 0] - 1.0) < 0.3) & (np.abs(xyz[:, 1] - 0.45) < 0.1) & (xyz[:, 2] < 0.8)
    assert table_points.sum() > 100
    assert not clipping.inside(xyz)[table_points].any()
    # widen it along x by typing its upper bound: the table's points come into view
    spin = panel.crop_hi[0]
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "2")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert clipping.mode == "crop" and clipping.crop_hi[0] == pytest.approx(2.0)
    assert view.clip[1][0] == pytest.approx(2.0)  # what the view draws and picks
    assert clipping.inside(xyz)[table_points].all()
    window.activateWindow()
    table = _pixel(window, (1.0, 0.5, 1.0))
    assert view.pick_point(table.x(), table.y()) is not None
    # lower its top below the table's top: the table's top is cut away, as with the slice
    panel.crop_hi[2].setValue(0.4)
    assert np.all(xyz[clipping.inside(xyz), 2] <= 0.4)
    assert view.pick_point(table.x(), table.y())[2] <= 0.4
    # unticking shows every point; ticking again brings the same crop box back
    panel.crop_check.setChecked(False)
    assert clipping.mode == "none" and view.clip is None
    panel.crop_check.setChecked(True)
    assert clipping.mode == "crop" and clipping.crop_hi[2] == pytest.approx(0.4)
    # the slice and the crop box are one at a time
    panel.slice_check.setChecked(True)
    assert clipping.mode == "slice" and not panel.crop_check.isChecked()
    # the F1 list says where the crop box's numbers are
    from beep3d.app.shortcuts_dialog import shortcut_rows

    rows = dict(shortcut_rows(window.actions()))
    assert "Clipping tab" in rows["Shift+C"]
