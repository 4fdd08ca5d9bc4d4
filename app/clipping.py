"""Clipping: see inside a room past its walls and ceiling.

Two kinds, one at a time:

- a **height slice**: only points between two heights are drawn (drop the ceiling to look down into
  a room from the top view; slice at table height to see chairs tucked under tables);
- a **crop box**: only points in an axis-aligned box around the selected box, with a margin, are drawn
  (the walls and furniture around an object are gone).

:class:`Clipping` is the state (no Qt) and its region; :class:`ClippingPanel` edits it. Clipped points
are neither drawn nor picked; boxes, their handles and the masks are not changed by clipping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from beep3d.geometry.boxes import Box, BoxSet

#: Margin around the selected box of a crop box, metres.
CROP_MARGIN = 0.3
#: Height of the default slice above the floor, metres: below most ceilings, above most furniture.
DEFAULT_SLICE_HEIGHT = 2.0
FAR = 1e6


@dataclass
class Clipping:
    """What is clipped.

    Attributes
    ----------
    mode
        "none", "slice" (between ``z_lo`` and ``z_hi``) or "crop" (inside ``crop_lo`` .. ``crop_hi``).
    z_lo, z_hi
        The height slice, metres.
    crop_lo, crop_hi
        The crop box's corners (3,), metres.
    """

    mode: str = "none"
    z_lo: float = -FAR
    z_hi: float = FAR
    crop_lo: np.ndarray | None = None
    crop_hi: np.ndarray | None = None

    def region(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The axis-aligned region whose points are drawn, or None (no clipping)."""
        if self.mode == "slice":
            return np.array([-FAR, -FAR, self.z_lo]), np.array([FAR, FAR, self.z_hi])
        if self.mode == "crop" and self.crop_lo is not None and self.crop_hi is not None:
            return self.crop_lo.copy(), self.crop_hi.copy()
        return None

    def inside(self, xyz: np.ndarray) -> np.ndarray:
        """(N,) bool: which points are drawn."""
        region = self.region()
        xyz = np.asarray(xyz)
        if region is None:
            return np.ones(len(xyz), dtype=bool)
        return np.all((xyz >= region[0]) & (xyz <= region[1]), axis=1)

    def slice(self, z_lo: float, z_hi: float) -> None:
        """Draw only points with ``z_lo <= z <= z_hi`` (the two are swapped when given the wrong way)."""
        self.mode = "slice"
        self.z_lo, self.z_hi = min(z_lo, z_hi), max(z_lo, z_hi)

    def crop_to(self, box: Box, margin: float = CROP_MARGIN) -> None:
        """Draw only points in the box's axis-aligned bounds grown by ``margin`` on every side."""
        lo, hi = BoxSet([box]).aabbs()
        self.mode = "crop"
        self.crop_lo, self.crop_hi = lo[0] - margin, hi[0] + margin

    def clear(self) -> None:
        """Draw every point."""
        self.mode = "none"


class ClippingPanel(QWidget):
    """Height slice (from / to, metres) and the crop-box buttons. Emits ``changed`` after every edit."""

    changed = Signal()
    cropRequested = Signal()

    def __init__(self, clipping: Clipping, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clipping = clipping
        self._updating = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.slice_check = QCheckBox("Height slice (hide what is above and below)")
        outer.addWidget(self.slice_check)
        form = QFormLayout()
        self.z_lo = self._spin()
        self.z_hi = self._spin()
        form.addRow("From z (m)", self.z_lo)
        form.addRow("To z (m)", self.z_hi)
        outer.addLayout(form)
        buttons = QHBoxLayout()
        self.crop_button = QPushButton("Crop around box")
        self.crop_button.setToolTip(f"Show only the selected box and {CROP_MARGIN:.1f} m around it (Shift+C)")
        self.clear_button = QPushButton("Show all")
        self.clear_button.setToolTip("No clipping (Ctrl+Shift+C)")
        buttons.addWidget(self.crop_button)
        buttons.addWidget(self.clear_button)
        outer.addLayout(buttons)
        self.state = QLabel()
        self.state.setWordWrap(True)
        outer.addWidget(self.state)
        outer.addStretch(1)
        self.slice_check.toggled.connect(self._edited)
        self.z_lo.valueChanged.connect(self._edited)
        self.z_hi.valueChanged.connect(self._edited)
        self.crop_button.clicked.connect(self.cropRequested.emit)
        self.clear_button.clicked.connect(self.clear)
        self.show_state()

    def _spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-1e4, 1e4)
        spin.setDecimals(2)
        spin.setSingleStep(0.1)
        spin.setKeyboardTracking(False)
        return spin

    def set_scene_heights(self, floor: float, top: float) -> None:
        """A new scan: the slice starts at its floor and ends :data:`DEFAULT_SLICE_HEIGHT` above it."""
        self._updating = True
        self.z_lo.setValue(floor - 0.05)
        self.z_hi.setValue(min(top, floor + DEFAULT_SLICE_HEIGHT))
        self._updating = False

    def _edited(self) -> None:
        if self._updating:
            return
        if self.slice_check.isChecked():
            self.clipping.slice(self.z_lo.value(), self.z_hi.value())
        elif self.clipping.mode == "slice":
            self.clipping.clear()
        self.show_state()
        self.changed.emit()

    def clear(self) -> None:
        """No clipping."""
        self.clipping.clear()
        self.show_state()
        self.changed.emit()

    def show_state(self) -> None:
        """Make the controls say what is clipped."""
        self._updating = True
        self.slice_check.setChecked(self.clipping.mode == "slice")
        self._updating = False
        mode = self.clipping.mode
        if mode == "slice":
            text = f"Showing points from z = {self.clipping.z_lo:.2f} to {self.clipping.z_hi:.2f} m."
        elif mode == "crop":
            text = "Showing only the crop box around the selected box."
        else:
            text = "Showing every point."
        self.state.setText(text)
