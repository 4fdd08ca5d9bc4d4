"""What the colours of the current colour mode mean: a legend beside the view.

:data:`LEGENDS` maps a colour mode (a key of :data:`beep3d.app.colouring.COLOUR_MODES`) to a function
giving its entries; a new mode adds one function there. A mode without one gets a one-line note.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from beep3d.app.colouring import (
    COLOUR_MODES,
    CORRECTED_SWATCH,
    DIMMED_SWATCH,
    NOT_OBJECT_TINT,
    OVERLAP_TINT,
    SINGLE_BOX_TINT,
    SURE_BY_RULE_TINT,
    SURE_TINT,
    UNSURE_TINT,
    instance_palette,
)
from beep3d.classes import ClassSet
from beep3d.geometry.boxes import BoxSet

RGB = tuple[int, int, int]
#: One legend line: a swatch colour (None: no swatch) and what it means.
LegendEntry = tuple[RGB | None, str]
DIMMED: RGB = DIMMED_SWATCH
#: At most this many boxes or classes are listed one by one.
MAX_LISTED = 12


def _rgb(tint: np.ndarray) -> RGB:
    return tuple(int(v) for v in np.asarray(tint).ravel()[:3])  # type: ignore[return-value]


#: Legend line of points decided by the annotator's clicks and strokes (a mid-grey lightened as they are).
CORRECTED_ENTRY: LegendEntry = (CORRECTED_SWATCH, "lightened: set by your corrections (clicks, brush, lasso)")


def _original(class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    return [(None, "The scan's own colours.")]


def _membership(class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    counts = Counter(b.label for b in boxes)
    entries: list[LegendEntry] = [
        (class_set.colour_of(label), f"{label} ({n} box{'es' if n > 1 else ''})")
        for label, n in counts.most_common(MAX_LISTED)
    ]
    if len(counts) > MAX_LISTED:
        entries.append((None, f"… and {len(counts) - MAX_LISTED} more classes"))
    if not counts:
        entries.append((None, "No boxes yet."))
    return [*entries, (DIMMED, "in no box (dimmed)")]


def _overlap(class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    return [
        (_rgb(SINGLE_BOX_TINT), "in exactly one box (P^l)"),
        (_rgb(OVERLAP_TINT), "in several boxes (P^u): the resolver decides"),
        (_rgb(NOT_OBJECT_TINT), "in a box, not its object (floor, wall, ceiling): left out"),
        CORRECTED_ENTRY,
        (DIMMED, "in no box (dimmed)"),
    ]


def _instances(class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    ids = np.asarray([b.id for b in boxes], dtype=np.int64)
    colours = instance_palette(ids) if len(ids) else np.zeros((0, 3))
    entries: list[LegendEntry] = [
        (_rgb(colour), f"box {box.id} ({box.label})")
        for box, colour in zip(list(boxes)[:MAX_LISTED], colours[:MAX_LISTED], strict=True)
    ]
    if len(ids) > MAX_LISTED:
        entries.append((None, f"… one colour for each of the other {len(ids) - MAX_LISTED} boxes"))
    return [
        *entries,
        (_rgb(NOT_OBJECT_TINT), "in a box, not its object: left out"),
        CORRECTED_ENTRY,
        (DIMMED, "background (dimmed)"),
    ]


def _confidence(class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    return [
        (_rgb(SURE_TINT), "sure: one box, or the teacher network"),
        (_rgb(SURE_BY_RULE_TINT), "sure by a rule (nested box, volume, nearest centre)"),
        (_rgb(UNSURE_TINT), "unsure (check these overlaps)"),
        (None, "in between: a blend by confidence"),
        (DIMMED, "in no box (dimmed)"),
    ]


#: Legend of each colour mode.
LEGENDS: dict[str, Callable[[ClassSet, BoxSet], list[LegendEntry]]] = {
    "original": _original,
    "membership": _membership,
    "overlap": _overlap,
    "instances": _instances,
    "confidence": _confidence,
}


def legend_entries(mode: str, class_set: ClassSet, boxes: BoxSet) -> list[LegendEntry]:
    """The legend lines of colour mode ``mode`` for these boxes."""
    make = LEGENDS.get(mode)
    if make is None:
        return [(None, f"Colour mode '{mode}'.")]
    return make(class_set, boxes)


def mode_title(mode: str) -> str:
    """Menu text of a colour mode (its key when unknown)."""
    return dict(COLOUR_MODES).get(mode, mode)


class LegendPanel(QWidget):
    """The legend: the mode's name, then one swatch and text per entry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        outer.addWidget(self.title)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._grid_host)
        outer.addStretch(1)
        self.entries: list[LegendEntry] = []
        self._mode: str | None = None

    def show_legend(self, mode: str, entries: list[LegendEntry]) -> None:
        """Show ``entries`` under the title of ``mode``."""
        if mode == self._mode and list(entries) == self.entries:
            return  # unchanged (most edits): no widgets rebuilt
        self._mode = mode
        self.entries = list(entries)
        self.title.setText(mode_title(mode))
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        for row, (colour, text) in enumerate(entries):
            swatch = QLabel()
            if colour is not None:
                pixmap = QPixmap(14, 14)
                pixmap.fill(QColor(*colour))
                swatch.setPixmap(pixmap)
            label = QLabel(text)
            label.setWordWrap(True)
            self._grid.addWidget(swatch, row, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(label, row, 1)
        self._grid.setColumnStretch(1, 1)

    def texts(self) -> list[str]:
        """The entries' texts (what a test or a screen reader reads)."""
        return [text for _, text in self.entries]
