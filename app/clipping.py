"""Clipping: see inside a room past its walls and ceiling.

Two kinds, one at a time:

- a **height slice**: only points between two heights are drawn (drop the ceiling to look down into
  a room from the top view; slice at table height to see chairs tucked under tables);
- a **crop box**: only points in an axis-aligned box are drawn (the walls and furniture around an
  object are gone). Shift+C puts it around the selected box with a margin; its six numbers (from / to
  along x, y and z) in the panel can then be typed or stepped, and ticking "Crop box" without one
  starts from the whole scan.

:class:`Clipping` is the state (no Qt) and its region; :class:`ClippingPanel` edits it. Clipped points
are neither drawn nor picked; boxes, their handles and the masks are not changed by clipping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from beep3d.app.number_field import DecimalField
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
        self.crop(lo[0] - margin, hi[0] + margin)

    def crop(self, lo: ArrayLike, hi: ArrayLike) -> None:
        """Draw only points inside the axis-aligned box with corners ``lo`` and ``hi`` (3,), metres
        (per axis the two are swapped when given the wrong way)."""
        lo, hi = np.asarray(lo, dtype=float).reshape(3), np.asarray(hi, dtype=float).reshape(3)
        self.mode = "crop"
        self.crop_lo, self.crop_hi = np.minimum(lo, hi), np.maximum(lo, hi)

    def clear(self) -> None:
        """Draw every point."""
        self.mode = "none"


class ClippingPanel(QWidget):
    """Height slice (from / to, metres), the crop box (from / to along x, y, z, metres) and the crop
    buttons. Emits ``changed`` after every edit. Numbers are in the scan file's own coordinates, as in
    the Selected-box panel (:meth:`set_origin`: a georeferenced scan's local origin is added)."""

    changed = Signal()
    cropRequested = Signal()

    def __init__(self, clipping: Clipping, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clipping = clipping
        self._origin = np.zeros(3)
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
        self.crop_check = QCheckBox("Crop box (show only what is inside)")
        self.crop_check.setToolTip("Shift+C puts it around the selected box; type or step its numbers")
        outer.addWidget(self.crop_check)
        grid = QGridLayout()
        grid.addWidget(QLabel("from (m)"), 0, 1)
        grid.addWidget(QLabel("to (m)"), 0, 2)
        self.crop_lo = [self._spin() for _ in range(3)]
        self.crop_hi = [self._spin() for _ in range(3)]
        for axis, name in enumerate("xyz"):
            grid.addWidget(QLabel(name), axis + 1, 0)
            grid.addWidget(self.crop_lo[axis], axis + 1, 1)
            grid.addWidget(self.crop_hi[axis], axis + 1, 2)
        outer.addLayout(grid)
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
        self.crop_check.toggled.connect(self._crop_edited)
        for spin in (*self.crop_lo, *self.crop_hi):
            spin.valueChanged.connect(self._crop_edited)
        self.crop_button.clicked.connect(self.cropRequested.emit)
        self.clear_button.clicked.connect(self.clear)
        self.show_state()

    def _spin(self) -> QDoubleSpinBox:
        spin = DecimalField()
        spin.setRange(-1e8, 1e8)  # UTM fits
        spin.setDecimals(2)
        spin.setSingleStep(0.1)
        spin.setKeyboardTracking(False)
        return spin

    def set_origin(self, origin: tuple[float, float, float]) -> None:
        """The open scene's local origin (metres; :attr:`beep3d.scene.Scene.origin`): call before the
        scene's heights and bounds."""
        self._origin = np.asarray(origin, dtype=np.float64).reshape(3)

    def set_scene_heights(self, floor: float, top: float) -> None:
        """A new scan: the slice starts at its floor and ends :data:`DEFAULT_SLICE_HEIGHT` above it
        (local heights, metres)."""
        self._updating = True
        self.z_lo.setValue(floor - 0.05 + self._origin[2])
        self.z_hi.setValue(min(top, floor + DEFAULT_SLICE_HEIGHT) + self._origin[2])
        self._updating = False

    def set_scene_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """A new scan: a crop box ticked on before Shift+C starts as the scan's bounds (``lo``, ``hi``)."""
        self._set_crop_fields(lo, hi)

    def _set_crop_fields(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self._updating = True
        for axis in range(3):
            self.crop_lo[axis].setValue(float(lo[axis]) + self._origin[axis])
            self.crop_hi[axis].setValue(float(hi[axis]) + self._origin[axis])
        self._updating = False

    def _crop_edited(self) -> None:
        if self._updating:
            return
        if self.crop_check.isChecked():
            lo = [spin.value() - self._origin[axis] for axis, spin in enumerate(self.crop_lo)]
            hi = [spin.value() - self._origin[axis] for axis, spin in enumerate(self.crop_hi)]
            self.clipping.crop(lo, hi)
        elif self.clipping.mode == "crop":
            self.clipping.clear()
        self.show_state()
        self.changed.emit()

    def _edited(self) -> None:
        if self._updating:
            return
        if self.slice_check.isChecked():
            self.clipping.slice(self.z_lo.value() - self._origin[2], self.z_hi.value() - self._origin[2])
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
        self.crop_check.setChecked(self.clipping.mode == "crop")
        self._updating = False
        mode = self.clipping.mode
        if mode == "crop" and self.clipping.crop_lo is not None and self.clipping.crop_hi is not None:
            self._set_crop_fields(self.clipping.crop_lo, self.clipping.crop_hi)
        if mode == "slice":
            z_lo, z_hi = self.clipping.z_lo + self._origin[2], self.clipping.z_hi + self._origin[2]
            text = f"Showing points from z = {z_lo:.2f} to {z_hi:.2f} m."
        elif mode == "crop":
            text = "Showing only the points inside the crop box."
        else:
            text = "Showing every point."
        self.state.setText(text)
