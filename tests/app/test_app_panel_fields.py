"""The Selected-box panel reads what annotators type and always shows the selected box as it is."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QLocale, Qt

from beep3d.geometry.boxes import Box
from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open

pytestmark = pytest.mark.gui
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def type_into(qtbot, spin, text: str) -> None:
    """Select the field's text, type ``text`` and press Enter, as an annotator does."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


@pytest.mark.parametrize("system_locale", ["en_US", "de_DE"])
def test_a_decimal_comma_or_point_is_a_decimal_in_any_locale(
    window, qtbot, scene_path, tmp_path, system_locale
):
    """'1,5' was read as 15 m in an English locale (a thousands separator), '1.5' in a German one."""
    previous = QLocale()  # the default locale, put back for the tests after this one
    QLocale.setDefault(QLocale(system_locale))
    try:
        _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
        window.doc.select(1)
        type_into(qtbot, window.box_editor.center[0], "1,5")
        assert window.doc.box(1).center[0] == pytest.approx(1.5)
        type_into(qtbot, window.box_editor.size[1], "0.25")
        assert window.doc.box(1).size[1] == pytest.approx(0.25)
        type_into(qtbot, window.clipping_panel.z_hi, "1,25")
        assert window.clipping_panel.z_hi.value() == pytest.approx(1.25)
    finally:
        QLocale.setDefault(previous)


def test_a_refused_edit_of_a_locked_box_leaves_the_panel_showing_the_box(window, qtbot, scene_path, tmp_path):
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    window.doc.select(1)
    before = window.doc.box(1)
    qtbot.keyClick(window.view, Qt.Key.Key_L, CTRL | SHIFT)  # lock box 1
    spin = window.box_editor.center[0]
    type_into(qtbot, spin, "0.25")
    combo = window.box_editor.class_combo
    other = next(name for name in ("table", "chair") if name != before.label)
    combo.setCurrentIndex(combo.findData(other))
    combo.activated.emit(combo.currentIndex())
    assert window.doc.box(1) == before  # refused
    assert spin.value() == pytest.approx(before.center[0]) and combo.currentData() == before.label


def test_a_yaw_past_a_full_turn_is_shown_as_its_angle(window, qtbot, scene_path, tmp_path):
    """Box files take any finite yaw; 10 rad showed as 360.0 and a step down turned the box by 146 degrees."""
    box = Box(1, "desk", (0.0, 1.0, 0.3), (0.5, 0.5, 0.6), 10.0)
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, [box]))
    window.doc.select(1)
    shown = window.box_editor.yaw.value()
    assert -180.0 <= shown <= 180.0
    assert math.cos(math.radians(shown)) == pytest.approx(math.cos(10.0), abs=1e-3)
    assert math.sin(math.radians(shown)) == pytest.approx(math.sin(10.0), abs=1e-3)
    window.box_editor.yaw.stepBy(-1)
    turned = math.degrees(math.remainder(window.doc.box(1).yaw - 10.0, math.tau))
    assert turned == pytest.approx(-1.0, abs=0.1)


def test_every_typed_value_is_its_own_undo_step_and_a_run_of_steps_is_one(
    window, qtbot, scene_path, tmp_path
):
    """Two values typed one after the other into one field were one undo step: Ctrl+Z went back past
    both. Arrow-key steps of a field still merge (a held key is one step)."""
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    window.doc.select(1)
    spin = window.box_editor.center[0]
    type_into(qtbot, spin, "0.5")
    type_into(qtbot, spin, "0.7")
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert window.doc.box(1).center[0] == pytest.approx(0.72)
    assert window.undo_stack.count() == 3
    for expected in (0.7, 0.5, -1.0):
        qtbot.keyClick(spin, Qt.Key.Key_Z, CTRL)
        assert window.doc.box(1).center[0] == pytest.approx(expected)
