"""Defects of the box list, the status bar and the box colours: an edit rewrites only the box list
rows it changes, the status bar's box count follows every change of the box set (window tests:
pytest-qt, under Xvfb), and no box colour can be mistaken for a colour the window reserves for
something else.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from tests.app.day_helpers import _boxes_file, _two_boxes
from tests.app.test_app_window import _open


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


@pytest.mark.gui
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


@pytest.mark.gui
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


@pytest.mark.gui
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


# box colours ------------------------------------------------------------------------------------


def _lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB colours 0..255: the test's own conversion, to measure colour distances."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _reserved_colours() -> dict[str, tuple[int, int, int]]:
    """Colours with a meaning of their own where the box colours are shown."""
    from beep3d.app.colouring import NOT_OBJECT_TINT
    from beep3d.app.legend import CORRECTED_ENTRY, DIMMED
    from beep3d.app.main_window import MainWindow
    from beep3d.app.view import GHOST_COLOUR, SELECTED_COLOUR

    return {
        "left out (amber)": tuple(int(v) for v in NOT_OBJECT_TINT),
        "corrected": CORRECTED_ENTRY[0],
        "dimmed": DIMMED,
        "selected box": SELECTED_COLOUR,
        "also selected": MainWindow.ALSO_SELECTED_COLOUR,
        "box being drawn": GHOST_COLOUR,
    }


#: Colours at least this far apart (CIE76 delta E) are told apart at a glance.
APART = 20.0


def test_no_box_colour_comes_close_to_a_reserved_colour_over_many_box_ids():
    from beep3d.app.colouring import instance_palette

    ids = np.concatenate([np.arange(20000), np.random.default_rng(0).integers(0, 2**31, 20000)])
    palette = _lab(instance_palette(ids))
    for name, colour in _reserved_colours().items():
        distance = np.linalg.norm(palette - _lab(colour), axis=1)
        worst = int(np.argmin(distance))
        assert distance[worst] >= APART, f"box {ids[worst]} looks like {name}: delta E {distance[worst]:.1f}"
    # neighbouring ids (boxes drawn one after another) still get colours far apart
    steps = np.linalg.norm(palette[1:20000] - palette[:19999], axis=1)
    assert steps.min() >= APART


def test_the_instances_legend_swatches_of_boxes_differ_from_its_other_swatches():
    from beep3d.app.legend import MAX_LISTED, legend_entries
    from beep3d.classes import SCANNET18
    from beep3d.geometry.boxes import Box, BoxSet

    for first in range(0, 3000, MAX_LISTED):
        boxes = BoxSet(
            [Box(i, "chair", (i, 0, 0.5), (0.5, 0.5, 0.5)) for i in range(first, first + MAX_LISTED)]
        )
        entries = legend_entries("instances", SCANNET18, boxes)
        box_swatches = [colour for colour, text in entries if text.startswith("box ")]
        other = [colour for colour, text in entries if colour is not None and not text.startswith("box ")]
        assert len(box_swatches) == MAX_LISTED and len(other) >= 3
        distance = np.linalg.norm(_lab(box_swatches)[:, None] - _lab(other)[None], axis=2)
        assert distance.min() >= APART, entries


def test_the_selected_and_drawn_box_outlines_stand_apart_from_every_class_colour():
    # class colours draw the other boxes' outlines (and tint points in the membership mode)
    import beep3d.classes as classes
    from beep3d.app.main_window import MainWindow
    from beep3d.app.view import GHOST_COLOUR, SELECTED_COLOUR

    sets = [value for value in vars(classes).values() if isinstance(value, classes.ClassSet)]
    assert len(sets) >= 2  # ScanNet-18 and S3DIS-13
    for name, outline in {
        "selected box": SELECTED_COLOUR,
        "also selected": MainWindow.ALSO_SELECTED_COLOUR,
        "box being drawn": GHOST_COLOUR,
    }.items():
        for class_set in sets:
            distance = np.linalg.norm(_lab(class_set.colours) - _lab(outline), axis=1)
            worst = int(np.argmin(distance))
            assert distance[worst] >= APART, (
                f"{class_set.label_space} {class_set.names[worst]} looks like the {name} outline: "
                f"delta E {distance[worst]:.1f}"
            )
