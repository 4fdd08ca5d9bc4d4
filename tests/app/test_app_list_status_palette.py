"""Defects of the box list and the status bar (pytest-qt, under Xvfb): an edit rewrites only the
box list rows it changes, and the status bar's box count follows every change of the box set.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.app.test_app_day import _boxes_file, _two_boxes
from tests.app.test_app_window import _open, _two_cube_scene

pytestmark = pytest.mark.gui


@pytest.fixture
def scene_path(tmp_path):
    return _two_cube_scene(tmp_path / "room.ply")


def _four_boxes():
    """Box 1 round the cube, box 4 overlapping it, box 2 round the tall block, box 3 on bare floor."""
    from beep3d.geometry.boxes import Box

    return [
        Box(1, "chair", (-1.0, 0.0, 0.32), (0.7, 0.7, 0.66)),
        Box(2, "table", (1.0, 0.5, 0.5), (0.9, 0.9, 1.1)),
        Box(3, "cabinet", (0.0, -1.4, 0.2), (0.6, 0.6, 0.5)),
        Box(4, "sofa", (-1.3, 0.1, 0.3), (0.5, 0.5, 0.7)),
    ]


def _cells(table) -> dict[int, tuple]:
    """Every box's row as shown: each column's text and check state, and the class swatch."""
    from PySide6.QtCore import Qt

    cells = {}
    for position in range(table.rowCount()):
        items = [table.item(position, column) for column in range(table.columnCount())]
        swatch = items[table.COLUMNS.index("class")].data(Qt.ItemDataRole.DecorationRole)
        cells[table.box_id_at(position)] = (
            tuple((item.text(), item.checkState()) for item in items),
            swatch.name() if swatch is not None else None,
        )
    return cells


def _order(table) -> list[int]:
    return [table.box_id_at(position) for position in range(table.rowCount())]


def test_a_nudge_rewrites_only_the_box_list_rows_it_changes_and_every_column_stays_right(
    window, qtbot, scene_path, tmp_path, monkeypatch
):
    from PySide6.QtCore import Qt

    from beep3d.app.box_list import BoxTable

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _four_boxes()))
    table = window.box_table
    table.sortItems(table.COLUMNS.index("total"), Qt.SortOrder.DescendingOrder)
    window.doc.select(1)
    window.live.wait_idle()
    before = _cells(table)
    assert "…" not in str(before)  # every figure known
    filled = Counter()  # cells visited, by box
    real_fill = table._fill

    def counting_fill(position, index, column, row, fresh):
        filled[row.box.id] += 1
        real_fill(position, index, column, row, fresh)

    monkeypatch.setattr(table, "_fill", counting_fill)

    window.nudge("up", 1, 0)  # box 1 goes up a step: it and box 4, which it overlaps, change
    assert table.cell(1, "total") == "…"  # until its resolution arrives
    assert window.live.wait_idle()
    after = _cells(table)

    changed = {box_id for box_id in after if after[box_id] != before[box_id]}
    assert 1 in changed and {2, 3}.isdisjoint(changed)
    assert set(filled) <= changed, "rows of boxes that did not change were filled again"
    columns = len(table.columns)
    assert filled[1] <= 2 * columns  # made pending by the edit, then given the result's figures
    # every column as a table filled from scratch shows it, in the same order
    fresh = BoxTable()
    qtbot.addWidget(fresh)
    fresh.horizontalHeader().setSortIndicator(table.COLUMNS.index("total"), Qt.SortOrder.DescendingOrder)
    fresh.show_rows(window._box_rows(), window.doc.class_set)
    assert _cells(fresh) == after
    assert _order(table) == _order(fresh)
    result = window.result
    position = result.boxes.position_of(1)
    assert table.cell(1, "total") == str(int(result.analysis.total[position]))
    assert table.cell(3, "background") == f"{result.foreground.box_share[result.boxes.position_of(3)]:.0%}"


def test_selecting_a_box_fills_no_row_of_the_box_list(window, qtbot, scene_path, tmp_path, monkeypatch):
    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _four_boxes()))
    table = window.box_table
    filled = []
    monkeypatch.setattr(table, "_fill", lambda *args, **kwargs: filled.append(args))
    window.doc.select(2)
    window.doc.select_many([1, 3], 3)
    assert filled == []
    assert sorted({index.row() for index in table.selectedIndexes()}) == sorted(
        table.row_of(i) for i in (1, 3)
    )


_COUNT = re.compile(r"(\d[\d,]*) box(?:es)?\b")


def _counts_shown(window) -> list[int]:
    """The box counts the status bar's permanent fields show (not its passing messages)."""
    from PySide6.QtWidgets import QLabel

    texts = [label.text() for label in window.statusBar().findChildren(QLabel) if label.isVisibleTo(window)]
    return [int(match.replace(",", "")) for text in texts for match in _COUNT.findall(text)]


def test_the_status_bar_box_count_follows_every_change_of_the_boxes(window, qtbot, scene_path, tmp_path):
    from beep3d.document import AddBox, DeleteBox
    from beep3d.geometry.boxes import Box

    _open(window, qtbot, scene_path)
    assert _counts_shown(window) == [0]
    boxes = _boxes_file(tmp_path, _two_boxes())
    assert window.files.load_boxes(boxes)  # loaded after the scan: the count does not wait for a resolution
    assert _counts_shown(window) == [2]
    window.live.wait_idle()
    assert _counts_shown(window) == [2]
    window.push(AddBox(Box(7, "sofa", (0.0, -1.4, 0.2), (0.6, 0.6, 0.5))))
    assert _counts_shown(window) == [3]
    window.push(DeleteBox(1))
    window.push(DeleteBox(2))
    assert _counts_shown(window) == [1]
    window.undo_stack.undo()
    assert _counts_shown(window) == [2]
    window.undo_stack.redo()
    assert _counts_shown(window) == [1]
    window.live.wait_idle()
    assert _counts_shown(window) == [1]
    window.files.open_scene(scene_path)  # another scan (no box file beside it): none again
    assert _counts_shown(window) == [0]
