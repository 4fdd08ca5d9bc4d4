"""The annotator's day in the window (pytest-qt, under Xvfb): the tools people expect (hide / lock,
multi-select, recent files, the box list's columns, the class picker, the legend, the progress of a
long resolution) do what an annotator relies on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtWidgets
from PySide6.QtCore import QPoint, Qt

from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open, _pixel, _top_view, _two_cube_scene

pytestmark = pytest.mark.gui

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def test_hide_and_lock_boxes_from_the_keys_and_the_box_list(window, qtbot, scene_path, tmp_path):
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    _top_view(window)
    window.doc.select(1)
    qtbot.keyClick(window.view, Qt.Key.Key_H)
    assert window.doc.hidden == {1} and window.doc.selected_id is None
    assert [b.id for b in window.view.boxes] == [2]  # not drawn
    qtbot.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    assert window.doc.selected_id is None  # not picked
    assert (
        window.box_table.item(
            window.box_table.row_of(1), window.box_table.COLUMNS.index("hidden")
        ).checkState()
        == Qt.CheckState.Checked
    )
    qtbot.keyClick(window.view, Qt.Key.Key_H, SHIFT)
    assert window.doc.hidden == frozenset() and len(window.view.boxes) == 2
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)  # showing is one undo step
    assert window.doc.hidden == {1}
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert window.doc.hidden == frozenset()

    # lock from the list's check box: keys, panel and handles leave the box alone
    table = window.box_table
    item = table.item(table.row_of(2), table.COLUMNS.index("locked"))
    item.setCheckState(Qt.CheckState.Checked)
    assert window.doc.locked == {2}
    window.doc.select(2)
    before = window.doc.box(2)
    qtbot.keyClick(window.view, Qt.Key.Key_W)
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    window.box_editor.center[0].setValue(0.0)
    assert window.doc.box(2) == before
    assert "locked" in window.statusBar().currentMessage()
    grab = _pixel(window, before.center)
    qtbot.mousePress(window.view, Qt.MouseButton.LeftButton, pos=grab)
    qtbot.mouseMove(window.view, QPoint(grab.x() + 40, grab.y()))
    qtbot.mouseRelease(window.view, Qt.MouseButton.LeftButton, pos=QPoint(grab.x() + 40, grab.y()))
    assert window.doc.box(2) == before
    qtbot.keyClick(window.view, Qt.Key.Key_L, CTRL | SHIFT)  # unlock
    assert window.doc.locked == frozenset()
    qtbot.keyClick(window.view, Qt.Key.Key_W)
    assert window.doc.box(2) != before


def test_several_boxes_selected_in_the_list_change_class_and_delete_together(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.geometry.boxes import Box

    boxes = [*_two_boxes(), Box(3, "chair", (0.0, -1.0, 0.3), (0.5, 0.5, 0.6))]
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, boxes))
    table = window.box_table
    for number, box_id in enumerate((1, 3)):
        rect = table.visualItemRect(table.item(table.row_of(box_id), 0))
        qtbot.mouseClick(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            CTRL if number else Qt.KeyboardModifier.NoModifier,
            rect.center(),
        )
    assert set(window.doc.selection) == {1, 3} and window.doc.selected_id == 3
    qtbot.keyClick(window.view, Qt.Key.Key_2)  # second class for both, one undo step
    second = window.doc.class_set.names[1]
    assert window.doc.box(1).label == second and window.doc.box(3).label == second
    assert window.doc.box(2).label == "table"
    assert set(window.doc.selection) == {1, 3}
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert [b.id for b in window.doc.boxes] == [2]
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert len(window.doc.boxes) == 3
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert window.doc.box(1).label == "chair" and window.doc.box(3).label == "chair"
    # Ctrl+click in the view adds a box to the selection
    _top_view(window)
    window.doc.select(1)
    qtbot.mouseClick(window.view, Qt.MouseButton.LeftButton, CTRL, _pixel(window, (1.0, 0.5, 1.0)))
    assert set(window.doc.selection) == {1, 2}
    # a locked box among the selected ones is left as it is; the others change and go
    window.selection.set_flag((2,), "locked", True)
    window.doc.select_many((1, 2, 3), 3)
    qtbot.keyClick(window.view, Qt.Key.Key_2)
    assert window.doc.box(1).label == second and window.doc.box(3).label == second
    assert window.doc.box(2).label == "table" and "Box 2 is locked" in window.statusBar().currentMessage()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert [b.id for b in window.doc.boxes] == [2] and "left as it is" in window.statusBar().currentMessage()


def test_a_nudge_or_a_panel_edit_keeps_the_other_selected_boxes(window, qtbot, scene_path, tmp_path):
    """With boxes 1 and 2 selected, E raised box 2 and left it alone selected: the next class key
    relabelled one box instead of both. The keys and the panel change the box the panel shows."""
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    window.doc.select_many([1, 2], 2)
    first = window.doc.box(1)
    qtbot.keyClick(window.view, Qt.Key.Key_E)  # up 2 cm
    assert window.doc.selection == (1, 2) and window.doc.selected_id == 2
    assert window.doc.box(2).center[2] == pytest.approx(0.52) and window.doc.box(1) == first
    window.box_editor.size[0].setValue(0.5)  # the panel shows box 2
    assert window.doc.box(2).size[0] == pytest.approx(0.5) and window.doc.selection == (1, 2)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert window.doc.box(2).size[0] == pytest.approx(0.8) and window.doc.selection == (1, 2)
    qtbot.keyClick(window.view, Qt.Key.Key_1)  # the first class for both
    assert {window.doc.box(1).label, window.doc.box(2).label} == {window.doc.class_set.names[0]}


def test_the_box_list_shows_confidence_sorts_and_filters(window, qtbot, scene_path, tmp_path):
    from beep3d.document import ChangeBox
    from beep3d.geometry.boxes import Box

    boxes = [
        *_two_boxes(),
        Box(3, "chair", (1.0, 0.5, 0.4), (0.6, 0.6, 0.8)),
        Box(4, "sofa", (0.0, -1.5, 0.3), (0.3, 0.3, 0.3)),
    ]
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, boxes))
    table = window.box_table
    assert table.cell(1, "confidence") == "1.00"  # no contested point
    assert float(table.cell(3, "confidence")) < 1.0  # shares points with the table
    assert table.cell(2, "confidence") == "1.00"  # the smallest-box rule gave the shared points to box 3
    assert table.cell(4, "confidence") == "—"  # no points
    labels = window.result.labels
    mask = labels.instance_ids == 3
    assert float(table.cell(3, "confidence")) == pytest.approx(labels.confidence[mask].mean(), abs=0.006)
    # sort by total points, largest first
    table.sortByColumn(table.COLUMNS.index("total"), Qt.SortOrder.DescendingOrder)
    totals = [int(table.cell(i, "total")) for i in table.visible_ids()]
    assert totals == sorted(totals, reverse=True)
    # filters: a class, a comparison, the flags
    window.box_list.filter.setText("chair")
    assert set(table.visible_ids()) == {1, 3}
    window.box_list.filter.setText("conf<0.99")
    assert table.visible_ids() == [3]
    window.box_list.filter.setText("chair total>1000")
    assert set(table.visible_ids()) <= {1, 3} and 1 in table.visible_ids()
    # columns by the headers the list shows ("own", "not obj.") as well as by their keys
    for header, key in (("own", "exclusive"), ("notobj", "background")):
        window.box_list.filter.setText(f"{header}>=0")
        by_header = table.visible_ids()
        window.box_list.filter.setText(f"{key}>=0")
        assert by_header == table.visible_ids() and len(by_header) >= 3
    window.selection.set_flag((4,), "hidden", True)
    window.box_list.filter.setText("hidden")
    assert table.visible_ids() == [4]
    window.box_list.filter.setText("")
    assert len(table.visible_ids()) == 4
    # a new edit: its row waits for the resolution, and clicking a sorted row selects that box
    box = window.doc.box(3)
    window.push(ChangeBox(box, box.moved(size=(0.5, 0.6, 0.8))))
    assert table.cell(3, "confidence") == "…"
    window.live.wait_idle()
    assert table.cell(3, "confidence") != "…"
    rect = table.visualItemRect(table.item(table.row_of(4), 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.doc.selected_id == 4


def test_next_and_previous_scan_in_the_folder_and_recent_scans(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    from beep3d.app.recent_files import RecentFiles, neighbour_scan, scan_patterns

    second = _two_cube_scene(tmp_path / "room2.ply")
    tenth = _two_cube_scene(tmp_path / "room10.ply")
    (tmp_path / "notes.txt").write_text("not a scan")
    patterns = scan_patterns("Scans (*.ply *.npy);;All files (*)")
    assert patterns == ["*.ply", "*.npy"]
    assert neighbour_scan(second, 1, patterns) == tenth.absolute()  # natural order: 2 before 10
    # box arrays and an export's per-point arrays share the .npy suffix but are not scans
    np.save(tmp_path / "room2_bbox.npy", np.zeros((5, 7)))
    np.save(tmp_path / "room3.npy", np.zeros(10, np.int32))
    assert neighbour_scan(second, 1, patterns) == tenth.absolute()
    np.save(tmp_path / "room3.npy", np.zeros((10, 6), np.float32))
    assert neighbour_scan(second, 1, patterns) == (tmp_path / "room3.npy").absolute()
    (tmp_path / "room3.npy").unlink()
    _open(window, qtbot, scene_path)
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)
    assert window.doc.scene_path == second.absolute()
    window.live.wait_idle()
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)
    assert window.doc.scene_path == tenth.absolute()
    window.live.wait_idle()
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)  # the last one: stays, says so
    assert window.doc.scene_path == tenth.absolute() and "No next scan" in window.statusBar().currentMessage()
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp, CTRL)
    assert window.doc.scene_path == second.absolute()
    window.live.wait_idle()
    # unsaved boxes are asked about before moving on (the fixture answers Save)
    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box

    window.push(AddBox(Box(0, "chair", (-1.0, 0.0, 0.3), (0.6, 0.6, 0.6))))
    window.navigation.open_neighbour(1)
    assert window.questions and (tmp_path / "room2.boxes.json").exists()
    window.live.wait_idle()

    recent = RecentFiles().paths()  # XDG_CONFIG_HOME is the test's folder
    assert recent[:3] == [tenth.absolute(), second.absolute(), scene_path.absolute()]
    window.navigation.fill_menu()
    entries = [a.text() for a in window.navigation.menu.actions()]
    assert entries[0].startswith("&1 room10.ply")
    window.navigation.menu.actions()[2].trigger()
    assert window.doc.scene_path == scene_path.absolute()
    window.live.wait_idle()


def test_the_class_picker_reaches_every_class_by_typing(window, qtbot, scene_path, tmp_path):
    from beep3d.app.class_picker import filter_classes
    from beep3d.classes import SCANNET18

    names = list(SCANNET18.names)
    assert filter_classes(names, "ta")[0] == "table"
    assert "bathtub" in filter_classes(names, "tub")  # anywhere in the name
    assert filter_classes(names, "12") == [names[11]]  # by number, beyond the keys 1-9
    assert filter_classes(names, "zzz") == []

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    window.doc.select(1)
    qtbot.keyClick(window.view, Qt.Key.Key_K, CTRL)
    picker = window.selection.class_picker
    assert picker.isVisible() and picker.list.count() == len(names)
    qtbot.keyClicks(picker.search, "curt")
    found = [picker.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(picker.list.count())]
    assert found == ["curtain", "shower curtain"]  # starts with it, then a word that does
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert window.doc.current_class == "curtain" and window.doc.box(1).label == "curtain"
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)  # one undo step
    assert window.doc.box(1).label == "chair"
    # arrow keys choose among the matches
    qtbot.keyClick(window.view, Qt.Key.Key_K, CTRL)
    picker = window.selection.class_picker
    qtbot.keyClicks(picker.search, "s")
    matches = [picker.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(picker.list.count())]
    qtbot.keyClick(picker.search, Qt.Key.Key_Down)
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert window.doc.box(1).label == matches[1]
    # the toolbar's class box completes what is typed
    completer = window.class_combo.completer()
    completer.setCompletionPrefix("shower")
    assert completer.currentCompletion().endswith("shower curtain")


def test_a_class_name_typed_into_the_toolbar_class_box_is_the_class(window, qtbot, scene_path, tmp_path):
    """'chair' (listed as '3  chair') and Enter left the class unchanged while the box showed 'chair'."""
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    combo = window.class_combo

    def type_class(text: str) -> None:
        combo.setFocus()
        combo.lineEdit().selectAll()
        qtbot.keyClicks(combo.lineEdit(), text)
        qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)

    for typed, expected in (("chair", "chair"), ("Bookshelf", "bookshelf"), ("tub", "bathtub")):
        type_class(typed)
        assert window.doc.current_class == expected and combo.currentData() == expected
    type_class("xyz")  # names no class: the class and the box's text stay as they were
    assert window.doc.current_class == "bathtub" and combo.currentText() == combo.itemText(
        combo.currentIndex()
    )


def test_the_legend_explains_each_colour_mode(window, qtbot, scene_path, tmp_path):
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    assert window.legend_dock.isVisible()
    window.set_colour_mode("overlap")
    assert window.legend.title.text() == "Overlap regions (P^u)"
    assert any("several boxes" in t for t in window.legend.texts())
    window.set_colour_mode("membership")
    texts = window.legend.texts()
    assert "chair (1 box)" in texts and "table (1 box)" in texts
    assert window.legend.entries[0][0] == window.doc.class_set.colour_of("chair")
    window.set_colour_mode("instances")
    assert any(t.startswith("box 2 (table)") for t in window.legend.texts())
    window.set_colour_mode("confidence")
    assert any("unsure" in t for t in window.legend.texts())
    # the old mode's rows are no longer drawn, at once (not only once the event loop deletes them)
    current = {window.legend.title.text(), *window.legend.texts()}
    labels = window.legend.findChildren(QtWidgets.QLabel)
    assert any(w.text().startswith("box 2 (table)") for w in labels)  # still there, waiting for deletion
    assert not [w.text() for w in labels if w.text() and w.text() not in current and not w.isHidden()]
    qtbot.keyClick(window.view, Qt.Key.Key_M)  # cycling changes the legend too
    assert window.legend.title.text() == "Original colours"


class _SlowResolver:
    """A rule resolver that takes ``seconds`` longer, as the teacher on a big scan does."""

    def __init__(self, inner, seconds):
        self.inner, self.seconds = inner, seconds

    def resolve(self, scene, boxes):
        import time

        time.sleep(self.seconds)
        return self.inner.resolve(scene, boxes)


def test_a_long_resolution_shows_progress_and_can_be_cancelled(window, qtbot, scene_path, tmp_path):
    from beep3d.document import ChangeBox

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    shown = window.result
    window.resolvers.resolver = _SlowResolver(window.resolvers.resolver, 1.5)
    box = window.doc.box(1)
    window.push(ChangeBox(box, box.moved(center=(-0.9, 0.0, 0.3))))
    progress = window.resolution_progress
    qtbot.waitUntil(progress.isVisible, timeout=3000)  # shown once it takes long
    assert "Resolving" in progress.label.text()
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not progress.isVisible() and "cancelled" in window.resolution_label.text()
    window.live.wait_idle()
    qtbot.wait(50)
    assert window.result is shown  # the cancelled result is dropped: the last masks stay
    assert window.box_table.cell(1, "total") == "…"  # the list says the counts are not for this box
    window.resolvers.resolver = window.resolvers.resolver.inner
    qtbot.keyClick(window.view, Qt.Key.Key_F5)  # resolve again
    window.live.wait_idle()
    assert window.result.boxes == window.doc.boxes
    assert not progress.isVisible()


def test_the_folder_walk_gets_past_a_scan_that_does_not_open(window, qtbot, tmp_path, monkeypatch):
    """Ctrl+PgDown tried the same broken scan again at every press: the scans after it were out of
    reach. A cancelled unsaved-boxes question is no failure: the walk stays where it was."""
    import shutil

    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box

    folder = tmp_path / "scans"
    folder.mkdir()
    first = _two_cube_scene(folder / "room1.ply").absolute()
    (folder / "room2.ply").write_text("ply\nformat ascii 1.0\nelement vertex 5\nend_header\n1 2\n")
    third = Path(shutil.copy(first, folder / "room3.ply")).absolute()
    _open(window, qtbot, first)
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)
    assert window.doc.scene_path == first and "room2.ply" in window.errors_shown[-1]
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp, CTRL)  # back from the broken scan: the open one
    assert window.doc.scene_path == first and "Back at room1.ply" in window.statusBar().currentMessage()
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown, CTRL)  # past room2.ply
    assert window.doc.scene_path == third and len(window.errors_shown) == 2
    window.live.wait_idle()
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp, CTRL)
    assert window.doc.scene_path == third and len(window.errors_shown) == 3
    window.push(AddBox(Box(0, "chair", (-1.0, 0.0, 0.3), (0.6, 0.6, 0.6))))
    monkeypatch.setattr(window, "ask", lambda *args: QtWidgets.QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp, CTRL)  # room1.ply: the question is cancelled
    assert window.doc.scene_path == third and len(window.doc.boxes) == 1
    monkeypatch.setattr(window, "ask", lambda *args: QtWidgets.QMessageBox.StandardButton.Discard)
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp, CTRL)  # room1.ply again, not the scan before it
    assert window.doc.scene_path == first and len(window.errors_shown) == 3
    window.live.wait_idle()
