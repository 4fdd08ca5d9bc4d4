"""Every class reachable fast: a search-as-you-type picker (Ctrl+K) and a searchable class box.

Keys 1-9 reach the first nine classes; class sets are often larger (ScanNet200, company sets). The
picker lists the classes that match what is typed (by name or by number), best matches first;
Enter takes the first, or the one chosen with the arrow keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from beep3d.classes import ClassSet


def filter_classes(names: Sequence[str], query: str) -> list[str]:
    """The class names that match ``query``, best first.

    Names that start with the query come first, then names with a word that starts with it, then
    names that contain it anywhere (each group in class-set order). A number picks that class
    (1-based, as the keys 1-9 do). An empty query lists every class.
    """
    query = query.strip().lower()
    if not query:
        return list(names)
    if query.isdigit():
        position = int(query) - 1
        return [names[position]] if 0 <= position < len(names) else []
    starts, word_starts, contains = [], [], []
    for name in names:
        lower = name.lower()
        if lower.startswith(query):
            starts.append(name)
        elif any(word.startswith(query) for word in lower.replace("_", " ").replace("-", " ").split()):
            word_starts.append(name)
        elif query in lower:
            contains.append(name)
    return starts + word_starts + contains


class ClassPicker(QDialog):
    """Type to filter the classes, Enter (or a double click) to take one; ``chosen`` holds it."""

    def __init__(
        self, class_set: ClassSet, current: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pick a class")
        self.class_set = class_set
        self.chosen: str | None = None
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a class name or its number")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QListWidget()
        layout.addWidget(self.list)
        self.hint = QLabel("Enter: take the class · ↑ ↓: choose · Esc: cancel")
        layout.addWidget(self.hint)
        self.search.textChanged.connect(self._refill)
        self.search.returnPressed.connect(self._take_current)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(lambda item: self._take(item.data(Qt.ItemDataRole.UserRole)))
        self._refill("")
        if current is not None:
            matches = self.list.findItems(current, Qt.MatchFlag.MatchEndsWith)
            if matches:
                self.list.setCurrentItem(matches[0])
        self.resize(360, 420)

    def _refill(self, query: str) -> None:
        self.list.clear()
        names = list(self.class_set.names)
        for name in filter_classes(names, query):
            position = names.index(name)
            item = QListWidgetItem(f"{position + 1:>3}  {name}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setData(Qt.ItemDataRole.DecorationRole, QColor(*self.class_set.colour_of(name)))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        # arrow keys in the search field move through the list
        if watched is self.search and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
        return False

    def _take_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._take(item.data(Qt.ItemDataRole.UserRole))

    def _take(self, name: str) -> None:
        self.chosen = name
        self.accept()


def make_searchable(combo: QComboBox) -> None:
    """Let the annotator type into a class box: a pop-up lists the classes containing the text."""
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    completer = QCompleter(combo)
    completer.setModel(QStringListModel(combo))
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCompleter(completer)
    combo.lineEdit().returnPressed.connect(lambda: take_typed_class(combo))


def typed_class_index(combo: QComboBox, text: str) -> int | None:
    """The item a typed class name means: the class of that name (or item text), else the only class
    whose name contains the text; None when the text names no class or several."""
    typed = text.strip().lower()
    if not typed:
        return None
    names = [str(combo.itemData(i) or combo.itemText(i)).lower() for i in range(combo.count())]
    for i, name in enumerate(names):
        if typed in (name, combo.itemText(i).strip().lower()):
            return i
    containing = [i for i, name in enumerate(names) if typed in name]
    return containing[0] if len(containing) == 1 else None


def take_typed_class(combo: QComboBox) -> None:
    """Enter in a searchable class box: choose the class typed (as if picked from the list, so the
    combo's ``activated`` handlers run), or show the current class again when the text names none."""
    index = typed_class_index(combo, combo.lineEdit().text())
    if index is None:
        combo.setEditText(combo.itemText(combo.currentIndex()))
        return
    combo.setCurrentIndex(index)
    combo.setEditText(combo.itemText(index))
    combo.activated.emit(index)


def refresh_completions(combo: QComboBox) -> None:
    """Offer the combo's current items (call after refilling it)."""
    completer = combo.completer()
    if completer is not None:
        model = completer.model()
        if isinstance(model, QStringListModel):
            model.setStringList([combo.itemText(i) for i in range(combo.count())])
