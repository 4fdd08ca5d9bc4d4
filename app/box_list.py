"""The box list: one row per box, columns declared as data, sortable, filterable, several selectable.

Each column is a :class:`BoxColumn` in :data:`BOX_COLUMNS`: a title and how to read its value from a
:class:`BoxRow` (what the window knows about one box). Adding a column is one entry there, plus the
value in ``BoxRow.extra`` when it is not yet among the row's fields. Numbers sort as numbers; a value
still being computed shows "…" and sorts last. The hide and lock columns are check boxes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from beep3d.classes import ClassSet
from beep3d.geometry.boxes import Box

PENDING = "…"
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass
class BoxRow:
    """What the box list shows of one box.

    Attributes
    ----------
    box
        The box.
    counts
        (exclusive, shared, total) points, or None while the resolution of this box is pending.
    confidence
        Mean resolution confidence of the points given to the box (1 where it is the only box), NaN
        for a box that got no points, None while pending.
    hidden, locked
        The box's flags.
    extra
        Further per-box values by column key (for columns added later).
    """

    box: Box
    counts: tuple[int, int, int] | None = None
    confidence: float | None = None
    hidden: bool = False
    locked: bool = False
    extra: dict[str, float | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BoxColumn:
    """One column of the box list.

    Attributes
    ----------
    key
        Name of the column (the filter and tests use it).
    title
        Header text.
    value
        The cell's value for a row (None: pending; numbers sort as numbers).
    text
        How a value is written (``str`` by default; never called with None).
    tip
        Header tooltip.
    check
        "hidden" or "locked": a check box for that flag instead of text.
    """

    key: str
    title: str
    value: Callable[[BoxRow], object]
    text: Callable[[object], str] = str
    tip: str = ""
    check: str | None = None


def _count(i: int) -> Callable[[BoxRow], int | None]:
    return lambda row: None if row.counts is None else row.counts[i]


def _confidence_text(value: object) -> str:
    return "—" if isinstance(value, float) and np.isnan(value) else f"{value:.2f}"


#: The columns in order. Append a :class:`BoxColumn` to add one.
BOX_COLUMNS: list[BoxColumn] = [
    BoxColumn("id", "id", lambda r: r.box.id),
    BoxColumn("class", "class", lambda r: r.box.label),
    BoxColumn("exclusive", "own", _count(0), tip="Points only this box holds (exclusive)"),
    BoxColumn("shared", "shared", _count(1), tip="Points this box shares with other boxes"),
    BoxColumn("total", "total", _count(2), tip="All points inside the box"),
    BoxColumn(
        "confidence",
        "conf.",
        lambda r: r.confidence,
        _confidence_text,
        tip="Mean resolution confidence of the box's points (1 = no contested point; low = check it)",
    ),
    BoxColumn(
        "background",
        "not obj.",
        lambda r: r.extra.get("background"),
        lambda v: f"{v:.0%}",
        tip="Share of the box's points that are not its object (floor, wall, ceiling) and were left out of "
        "its mask (Model > Masks); much means the box is loose or stands on a surface",
    ),
    BoxColumn(
        "hidden", "hide", lambda r: r.hidden, tip="Hidden boxes are not drawn or picked (H)", check="hidden"
    ),
    BoxColumn(
        "locked", "lock", lambda r: r.locked, tip="Locked boxes refuse edits (Ctrl+Shift+L)", check="locked"
    ),
]


def row_matches(row: BoxRow, query: str) -> bool:
    """The filter: every word of ``query`` must match the row.

    A word matches the class name (a part of it), the box id, "hidden", "locked", or a comparison on a
    numeric column such as ``conf<0.8``, ``own>100`` or ``notobj>0.3``: a column is named by its key
    or by its header without spaces and dots (:func:`column_named`).
    """
    for word in query.lower().split():
        if not _word_matches(row, word):
            return False
    return True


def column_named(name: str) -> BoxColumn | None:
    """The column whose key, or header without spaces and dots ("own", "conf", "notobj"), is ``name``."""
    name = name.lower()
    for column in BOX_COLUMNS:
        if name in (column.key, column.title.replace(" ", "").replace(".", "").lower()):
            return column
    return None


def _word_matches(row: BoxRow, word: str) -> bool:
    for op in ("<=", ">=", "<", ">", "="):
        if op in word:
            key, _, number = word.partition(op)
            column = column_named(key)
            try:
                limit = float(number)
            except ValueError:
                return False
            value = column.value(row) if column is not None else row.extra.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or np.isnan(value):
                return False
            return {
                "<=": value <= limit,
                ">=": value >= limit,
                "<": value < limit,
                ">": value > limit,
                "=": value == limit,
            }[op]
    if word == "hidden":
        return row.hidden
    if word == "locked":
        return row.locked
    return word in row.box.label.lower() or word == str(row.box.id)


class _Item(QTableWidgetItem):
    """A cell that sorts by its value (numbers as numbers, pending last)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(a, str) != isinstance(b, str):
            return isinstance(a, str)
        return a < b


def sort_value(value: object) -> float | str:
    """What a cell sorts by: a number, or lower-case text; pending (None) and NaN sort last."""
    if value is None:
        return math.inf
    if isinstance(value, (bool, int, float, np.number)):
        number = float(value)
        return 1e300 if math.isnan(number) else number
    return str(value).lower()


class BoxTable(QTableWidget):
    """The rows of the box list (see :data:`BOX_COLUMNS`).

    Signals
    -------
    boxActivated(int)
        The first selected box, after a click.
    selectionChangedIds(list, object)
        Every selected box id and the one clicked last (the primary selection).
    flagToggled(int, str, bool)
        A hide or lock check box changed: box id, "hidden" or "locked", new value.
    """

    boxActivated = Signal(int)
    selectionChangedIds = Signal(list, object)
    flagToggled = Signal(int, str, bool)

    def __init__(self, parent: QWidget | None = None, columns: list[BoxColumn] | None = None) -> None:
        self.columns = list(columns if columns is not None else BOX_COLUMNS)
        super().__init__(0, len(self.columns), parent)
        self.COLUMNS = tuple(c.key for c in self.columns)
        self.setHorizontalHeaderLabels([c.title for c in self.columns])
        for position, column in enumerate(self.columns):
            if column.tip:
                self.horizontalHeaderItem(position).setToolTip(column.tip)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self._fit_columns_to_contents(True)
        self.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.itemSelectionChanged.connect(self._on_selection)
        self.itemChanged.connect(self._on_item_changed)
        self._rows: dict[int, BoxRow] = {}
        #: What the table shows of each box (:meth:`_row_key`), to write only the rows that change.
        self._keys: dict[int, tuple] = {}
        self._query = ""
        self._updating = False

    def _fit_columns_to_contents(self, fit: bool) -> None:
        """Columns sized to their contents (the class column takes the rest), or left as they are.

        While the table is filled the columns are left as they are: sized to their contents, Qt
        measures a column over every row at each changed cell (500 boxes: about 7 ms a cell); once
        filled, they are measured once.
        """
        header = self.horizontalHeader()
        for position in range(len(self.columns)):
            mode = QHeaderView.ResizeMode.ResizeToContents if fit else QHeaderView.ResizeMode.Interactive
            if position == self.COLUMNS.index("class"):
                mode = QHeaderView.ResizeMode.Stretch
            if header.sectionResizeMode(position) != mode:
                header.setSectionResizeMode(position, mode)

    # filling --------------------------------------------------------------------------------
    def show_rows(self, rows: Iterable[BoxRow], class_set: ClassSet) -> None:
        """Show ``rows`` (kept sorted as the header says, filtered by the query).

        When the boxes are the ones shown, only the rows whose cells change are written (an edit
        changes a few rows, its resolution a few more, a new selection none); otherwise the table is
        filled again.
        """
        rows = list(rows)
        keys = {row.box.id: self._row_key(row, class_set) for row in rows}
        same_boxes = len(keys) == len(rows) == self.rowCount() and keys.keys() == self._keys.keys()
        changed = (
            [row for row in rows if keys[row.box.id] != self._keys.get(row.box.id)] if same_boxes else rows
        )
        self._rows = {row.box.id: row for row in rows}
        self._keys = keys
        if not same_boxes:
            self._write_rows(rows, class_set, refill=True)
            self.apply_filter(self._query)
        elif changed:
            self._write_rows(changed, class_set, refill=False)
            if self._query.strip():
                ids = {row.box.id for row in changed}
                for position in range(self.rowCount()):
                    box_id = self.box_id_at(position)
                    if box_id in ids:
                        self.setRowHidden(position, not row_matches(self._rows[box_id], self._query))

    def _row_key(self, row: BoxRow, class_set: ClassSet) -> tuple:
        """Everything :meth:`_write_row` writes for ``row``: equal keys, equal cells."""
        cells = []
        for column in self.columns:
            value = column.value(row)
            if column.check is not None:
                cells.append(bool(value))
            else:
                cells.append((sort_value(value), PENDING if value is None else column.text(value)))
        warn = row.counts is not None and row.counts[0] == 0
        return (*cells, tuple(class_set.colour_of(row.box.label)), warn)

    def _write_rows(self, rows: list[BoxRow], class_set: ClassSet, refill: bool) -> None:
        """Write ``rows`` into the table: all rows anew (``refill``), else over the rows of their boxes."""
        self._updating = True
        self.setSortingEnabled(False)
        self._fit_columns_to_contents(False)
        try:
            if refill:
                filled = self.rowCount()  # rows below this have no items yet
                self.setRowCount(len(rows))
                for position, row in enumerate(rows):
                    self._write_row(position, row, class_set, fresh=position >= filled)
            else:
                positions = {self.box_id_at(p): p for p in range(self.rowCount())}
                for row in rows:
                    self._write_row(positions[row.box.id], row, class_set, fresh=False)
        finally:
            self._fit_columns_to_contents(True)
            self.setSortingEnabled(True)
            self._updating = False

    def _write_row(self, position: int, row: BoxRow, class_set: ClassSet, fresh: bool) -> None:
        for index, column in enumerate(self.columns):
            self._fill(position, index, column, row, fresh=fresh)
        colour = QColor(*class_set.colour_of(row.box.label))
        item = self.item(position, self.COLUMNS.index("class"))
        if item.data(Qt.ItemDataRole.DecorationRole) != colour:
            item.setData(Qt.ItemDataRole.DecorationRole, colour)
        warn = row.counts is not None and row.counts[0] == 0
        text_colour = QColor(230, 80, 60) if warn else self.palette().text().color()
        item = self.item(position, self.COLUMNS.index("exclusive"))
        if item.foreground().color() != text_colour:
            item.setForeground(text_colour)

    def _fill(self, position: int, index: int, column: BoxColumn, row: BoxRow, fresh: bool) -> None:
        # A change to a cell of the table makes Qt re-measure the columns over every row, so a cell is
        # written only when its content changes, and a new cell is made whole before it is inserted
        # (684 boxes: 20 s per edit when every cell's flags were set again).
        item = _Item() if fresh else self.item(position, index)
        value = column.value(row)
        if fresh or item.data(ID_ROLE) != row.box.id:
            item.setData(ID_ROLE, row.box.id)
        key = sort_value(value)
        if fresh or item.data(SORT_ROLE) != key:
            item.setData(SORT_ROLE, key)
        if column.check is not None:
            if fresh:
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
                )
            state = Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
            if fresh or item.checkState() != state:
                item.setCheckState(state)
        else:
            text = PENDING if value is None else column.text(value)
            if fresh or item.text() != text:
                item.setText(text)
            if fresh and index != self.COLUMNS.index("class"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if fresh:
            self.setItem(position, index, item)

    def apply_filter(self, query: str) -> None:
        """Show only the rows that match ``query`` (:func:`row_matches`)."""
        self._query = query
        for position in range(self.rowCount()):
            row = self._rows.get(self.box_id_at(position))
            self.setRowHidden(
                position, row is not None and bool(query.strip()) and not row_matches(row, query)
            )

    # reading --------------------------------------------------------------------------------
    def box_id_at(self, position: int) -> int | None:
        """Id of the box in table row ``position`` (rows follow the sort, not the document order)."""
        item = self.item(position, 0)
        return None if item is None else int(item.data(ID_ROLE))

    def row_of(self, box_id: int) -> int | None:
        """Table row of a box, or None."""
        for position in range(self.rowCount()):
            if self.box_id_at(position) == box_id:
                return position
        return None

    def cell(self, box_id: int, key: str) -> str:
        """Text shown for a box in the column named ``key``."""
        position = self.row_of(box_id)
        assert position is not None, f"box {box_id} is not in the list"
        return self.item(position, self.COLUMNS.index(key)).text()

    def visible_ids(self) -> list[int]:
        """Ids of the rows the filter shows, in table order."""
        return [
            box_id
            for position in range(self.rowCount())
            if not self.isRowHidden(position) and (box_id := self.box_id_at(position)) is not None
        ]

    # selection ------------------------------------------------------------------------------
    def select_box(self, box_id: int | None) -> None:
        """Select one box's row (None: none)."""
        self.select_boxes(() if box_id is None else (box_id,), box_id)

    def select_boxes(self, box_ids: Iterable[int], primary: int | None = None) -> None:
        """Select the rows of ``box_ids``; scroll to ``primary``."""
        self._updating = True
        try:
            self.clearSelection()
            mode = self.selectionMode()
            self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
            for box_id in box_ids:
                position = self.row_of(box_id)
                if position is not None:
                    self.selectRow(position)
            self.setSelectionMode(mode)
            position = self.row_of(primary) if primary is not None else None
            if position is not None:
                self.scrollToItem(self.item(position, 0))
        finally:
            self._updating = False

    def _on_selection(self) -> None:
        if self._updating:
            return
        positions = sorted({index.row() for index in self.selectedIndexes()})
        ids = [i for i in (self.box_id_at(p) for p in positions) if i is not None]
        if not ids:
            return
        current = self.currentRow()
        primary = self.box_id_at(current) if current in positions else ids[0]
        self.selectionChangedIds.emit(ids, primary)
        self.boxActivated.emit(ids[0])

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        column = self.columns[item.column()]
        if column.check is None:
            return
        checked = item.checkState() == Qt.CheckState.Checked
        box_id = int(item.data(ID_ROLE))
        self._keys[box_id] = ()  # the cell no longer shows the row: written again at the next show_rows
        row = self._rows.get(box_id)
        if row is not None and bool(column.value(row)) != checked:
            self.flagToggled.emit(box_id, column.check, checked)


#: Height of the box list, at least, in pixels (about four rows: the docks below it share the rest).
BOX_LIST_MIN_HEIGHT = 170


class BoxListPanel(QWidget):
    """The filter field above the box table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(BOX_LIST_MIN_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(
            "Filter: class, id, hidden, locked, conf<0.8, own>100, total>1000, notobj>0.3"
        )
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        self.table = BoxTable()
        layout.addWidget(self.table)
        self.filter.textChanged.connect(self.table.apply_filter)


class BoxStats:
    """Per-box figures of one resolution, for the box list.

    Each figure describes the box that was resolved; a box edited since then gets none (its row
    shows "…") until the next resolution.

    Parameters
    ----------
    result
        A :class:`beep3d.resolve.pipeline.AnnotationResult`.
    """

    def __init__(self, result) -> None:
        self.result = result
        a, boxes = result.analysis, result.boxes
        self.boxes = {box.id: box for box in boxes}
        self.counts = {
            box.id: (int(a.exclusive[i]), int(a.shared[i]), int(a.total[i])) for i, box in enumerate(boxes)
        }
        labels = result.labels
        self.confidence = getattr(result, "box_confidence", None) or box_confidences(
            labels.instance_ids, labels.confidence, boxes.ids
        )
        shares = getattr(result, "background_share", None)  # corrections included
        if shares is None:
            shares = result.foreground.box_share
        self.extra = {
            box.id: {"background": float(shares[i]) if i < len(shares) else None}
            for i, box in enumerate(boxes)
        }

    def row(self, box: Box, hidden: bool, locked: bool) -> BoxRow:
        """The list row of ``box``: with this resolution's figures while the box is unchanged."""
        if self.boxes.get(box.id) != box:
            return BoxRow(box, hidden=hidden, locked=locked)
        return BoxRow(
            box, self.counts[box.id], self.confidence[box.id], hidden, locked, dict(self.extra[box.id])
        )


def box_rows(boxes: Iterable[Box], hidden, locked, stats: BoxStats | None) -> list[BoxRow]:
    """The rows of the box list for ``boxes`` (``hidden`` / ``locked``: sets of ids)."""
    if stats is None:
        return [BoxRow(b, hidden=b.id in hidden, locked=b.id in locked) for b in boxes]
    return [stats.row(b, b.id in hidden, b.id in locked) for b in boxes]


def box_confidences(
    instance_ids: np.ndarray, confidence: np.ndarray, box_ids: Iterable[int]
) -> dict[int, float]:
    """Mean confidence of the points resolved to each box (NaN for a box that got none)."""
    ids = np.asarray(list(box_ids), dtype=np.int64)
    result = {int(i): float("nan") for i in ids}
    if len(ids) == 0:
        return result
    order = np.argsort(ids)
    assigned = np.asarray(instance_ids) >= 0
    point_ids = np.asarray(instance_ids)[assigned]
    positions = np.searchsorted(ids[order], point_ids)
    positions = np.clip(positions, 0, len(ids) - 1)
    known = ids[order][positions] == point_ids
    slots = order[positions[known]]
    sums = np.bincount(slots, weights=np.asarray(confidence)[assigned][known], minlength=len(ids))
    counts = np.bincount(slots, minlength=len(ids))
    for slot, box_id in enumerate(ids):
        if counts[slot]:
            result[int(box_id)] = float(sums[slot] / counts[slot])
    return result
