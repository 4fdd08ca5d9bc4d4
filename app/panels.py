"""Side panels: the problems list and the numeric box editor (the box list: :mod:`beep3d.app.box_list`)."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from beep3d.app.box_list import BoxTable  # noqa: F401 (the box list lives in beep3d.app.box_list)
from beep3d.app.number_field import DecimalField
from beep3d.classes import ClassSet
from beep3d.geometry.boxes import Box

PROBLEM_TAGS = {
    "nested": "nested",
    "no_exclusive_points": "no own points",
    "empty": "empty",
    "near_duplicate": "duplicate",
    "degenerate": "flat",
    "low_confidence": "unsure",
}


class ProblemList(QListWidget):
    """The diagnosed problems; clicking one emits its index (the window frames it)."""

    problemActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.itemClicked.connect(lambda item: self.problemActivated.emit(self.row(item)))
        self.itemActivated.connect(lambda item: self.problemActivated.emit(self.row(item)))

    def show_problems(self, problems: list) -> None:
        self.clear()
        if not problems:
            item = QListWidgetItem("No problems found.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
            return
        for problem in problems:
            tag = PROBLEM_TAGS.get(problem.kind, problem.kind)
            item = QListWidgetItem(f"[{tag}] {problem.message}")
            item.setToolTip(problem.message)
            self.addItem(item)


class _WindowUndoKeys(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y reach the window's undo stack while a field has focus.

    A spin box claims the undo keys for its own text; the annotator means the box edits.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo):
                event.ignore()  # not the field's: the shortcut goes to the window's actions
                return True
            combo = event.keyCombination()
            if (
                combo.key() == Qt.Key.Key_Y
                and combo.keyboardModifiers() == Qt.KeyboardModifier.ControlModifier
            ):
                event.ignore()
                return True
        return False


#: What each field of the box editor is called in undo texts and messages.
FIELD_NAMES = {
    "center0": "x",
    "center1": "y",
    "center2": "z",
    "size0": "length",
    "size1": "width",
    "size2": "height",
    "yaw": "yaw",
    "class": "class",
}


def box_with_field(box: Box, field: str, value: float) -> Box:
    """``box`` with one typed value changed (a key of :data:`FIELD_NAMES`; yaw in degrees).

    A typed height keeps the bottom where it is (as the O / U keys do), so a box standing on the
    floor stays on it; every other field changes only itself.
    """
    if field.startswith("center"):
        center = list(box.center)
        center[int(field[-1])] = value
        return box.moved(center=tuple(center))
    if field.startswith("size"):
        axis = int(field[-1])
        size = list(box.size)
        size[axis] = value
        center = list(box.center)
        if axis == 2:
            center[2] = box.center[2] - box.size[2] / 2 + value / 2
        return box.moved(size=tuple(size), center=tuple(center))
    if field == "yaw":
        return box.moved(yaw=math.radians(value))
    raise ValueError(f"unknown box field {field!r}")


class BoxEditor(QWidget):
    """Numeric entry of the selected box: class, centre, size (metres) and yaw (degrees).

    Emits ``boxEdited(before, after, field, stepped)`` when the annotator changes a value (``field``
    is a key of :data:`FIELD_NAMES`; ``stepped`` is True for an arrow-key, wheel or arrow-button step
    of a number field, False for a typed value or a chosen class). Without a selected box the fields
    are hidden. The centre is shown and typed in the scan file's own coordinates (:meth:`set_origin`:
    a georeferenced scan's local origin is added), as box files and other tools hold it.
    """

    boxEdited = Signal(object, object, str, bool)
    #: Decimals of lengths: 0.1 mm, so a degenerate 1 mm side reads 0.0010, not a rounded 0.010.
    DECIMALS = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._box: Box | None = None
        self._origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._updating = False
        self._undo_keys = _WindowUndoKeys(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("No box selected")
        outer.addWidget(self.title)
        self.fields = QWidget()
        layout = QFormLayout(self.fields)
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.fields)
        self.class_combo = QComboBox()
        self.class_combo.activated.connect(self._class_chosen)
        layout.addRow("Class", self.class_combo)
        self.center = [self._spin(-1e8, 1e8, 0.01, f"center{i}") for i in range(3)]  # UTM fits
        self.size = [self._spin(0.0, 1e3, 0.01, f"size{i}") for i in range(3)]
        self.yaw = self._spin(-360.0, 360.0, 1.0, "yaw", decimals=1, suffix=" °")
        layout.addRow("Centre x y z (m)", self._row(self.center))
        layout.addRow("Size l w h (m)", self._row(self.size))
        layout.addRow("Yaw", self.yaw)
        self.fields.setVisible(False)

    def _row(self, widgets: list[QDoubleSpinBox]) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget)
        return row

    def _spin(
        self, lo: float, hi: float, step: float, field: str, decimals: int = DECIMALS, suffix: str = ""
    ) -> QDoubleSpinBox:
        spin = DecimalField()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)
        spin.setObjectName(field)
        spin.installEventFilter(self._undo_keys)
        spin.valueChanged.connect(lambda value, f=field, s=spin: self._edited(f, value, s.stepping))
        return spin

    def set_class_set(self, class_set: ClassSet) -> None:
        self._updating = True
        self.class_combo.clear()
        for position, name in enumerate(class_set.names):
            self.class_combo.addItem(f"{position + 1}  {name}" if position < 9 else name, name)
        self._updating = False
        self.show_box(self._box)

    @property
    def box(self) -> Box | None:
        """The box shown (None: no box selected)."""
        return self._box

    def set_origin(self, origin: tuple[float, float, float]) -> None:
        """The open scene's local origin (metres; :attr:`beep3d.scene.Scene.origin`)."""
        self._origin = tuple(float(v) for v in origin)
        self.show_box(self._box)

    def show_box(self, box: Box | None) -> None:
        """Show ``box`` in the fields, or hide them (None)."""
        self._box = box
        self._updating = True
        try:
            self.fields.setVisible(box is not None)
            if box is None:
                self.title.setText("No box selected")
                return
            self.title.setText(f"Box {box.id}")
            index = self.class_combo.findData(box.label)
            if index < 0:
                self.class_combo.addItem(box.label, box.label)
                index = self.class_combo.count() - 1
            self.class_combo.setCurrentIndex(index)
            for spin, value, offset in zip(self.center, box.center, self._origin, strict=True):
                spin.setValue(value + offset)
            for spin, value in zip(self.size, box.size, strict=True):
                spin.setValue(value)
            self.yaw.setValue(math.degrees(math.remainder(box.yaw, math.tau)))  # shown in [-180, 180]
        finally:
            self._updating = False

    def _edited(self, field: str, value: float, stepped: bool = False) -> None:
        if self._updating or self._box is None:
            return
        if field.startswith("center"):
            value -= self._origin[int(field[-1])]
        after = box_with_field(self._box, field, value)
        if after != self._box:
            shown = self._box
            self.boxEdited.emit(self._box, after, field, stepped)
            if self._box is shown:  # the window refused the edit (a locked box): show the box again
                self.show_box(shown)

    def _class_chosen(self, index: int) -> None:
        if self._updating or self._box is None:
            return
        label = self.class_combo.itemData(index)
        if label and label != self._box.label:
            shown = self._box
            self.boxEdited.emit(self._box, self._box.moved(label=label), "class", False)
            if self._box is shown:  # refused
                self.show_box(shown)
