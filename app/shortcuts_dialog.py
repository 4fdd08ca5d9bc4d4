"""The F1 list: every keyboard shortcut of the window in two aligned columns (keys, action)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

BIG_STEP = " (big step)"


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in the order given.

    An action's several shortcuts share a row ("Del, Backspace"); a "big step" variant joins the row
    of its normal step as its Shift key ("W, Shift+W  Move forward (Shift: big step)").
    """
    rows: dict[str, list[str]] = {}
    big: dict[str, list[str]] = {}
    for action in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
        keys = [k for k in keys if k]
        if not keys:
            continue
        text = action.text().replace("&", "")
        if text.endswith(BIG_STEP):
            big.setdefault(text[: -len(BIG_STEP)], []).extend(keys)
            continue
        rows.setdefault(text, [])
        rows[text].extend(k for k in keys if k not in rows[text])
    result = []
    for text, keys in rows.items():
        if text in big:
            keys = keys + big.pop(text)
            text = f"{text} (Shift: big step)"
        result.append((", ".join(keys), text))
    result += [(", ".join(keys), f"{text}{BIG_STEP}") for text, keys in big.items()]
    return result


class ShortcutsDialog(QDialog):
    """A table of :func:`shortcut_rows`, with a filter field (type "undo" or "Shift")."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = rows
        layout = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: type a key or a word")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, (keys, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row, (keys, action) in enumerate(self.rows):
            self.table.setRowHidden(row, bool(needle) and needle not in f"{keys} {action}".lower())
