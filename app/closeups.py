"""Top, front and side close-ups of the selected box, for precise edits.

Each close-up looks at the box along one of its own axes, with the points around it (a margin of
:data:`MARGIN` of the box's size) drawn in the view's current colours, nearest on top:

=======  ==================  =====================
view     across (right, up)  looking along
=======  ==================  =====================
top      box x, box y        -z (from above)
front    box x, box z        +y (from the front)
side     box y, box z        -x (from the side)
=======  ==================  =====================

Drag an edge of the box's rectangle to move that face (the opposite face stays), or drag inside it
to move the box in that view's plane; one drag is one undo step. The geometry is numpy only
(:func:`local_points`, :func:`moved_face`, :func:`moved_in_plane`); the widgets draw and pass drags on.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from beep3d.app.handles import box_rotation
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MAX_COORDINATE_M, Box

#: Points within this share of the box's size around it are shown (and at least 10 cm).
MARGIN = 0.35
#: Local axes of each close-up: (right, up, depth). The viewer looks along the depth axis from the
#: side ``cross(right, up)`` points to (top: from +z; front: from -y; side: from +x).
VIEW_AXES: dict[str, tuple[int, int, int]] = {"top": (0, 1, 2), "front": (0, 2, 1), "side": (1, 2, 0)}
#: Smallest side a face drag leaves, metres.
MIN_SIDE = 0.005
#: At most this many points are drawn per close-up (a uniform sample beyond).
MAX_POINTS = 60_000
EDGE_TOLERANCE_PX = 6.0


def viewer_side(axes: tuple[int, int, int]) -> float:
    """+1 when a close-up with ``axes`` (right, up, depth) is seen from the depth axis's positive side,
    else -1 (right x up points at the viewer)."""
    right, up, depth = (np.eye(3)[axis] for axis in axes)
    return float(np.cross(right, up) @ depth)


def margin_of(box: Box) -> np.ndarray:
    """(3,) metres of context shown around the box along its axes."""
    return np.maximum(np.asarray(box.size) * MARGIN, 0.10)


def local_points(xyz: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Points near ``box`` in the box's frame: ((M, 3) local coordinates, (M,) their indices).

    One pass over x in the scan's own precision, then the few candidates (about 20 ms for 2M points).
    """
    xyz = np.asarray(xyz)
    reach = np.asarray(box.size) / 2 + margin_of(box)
    radius = float(np.hypot(reach[0], reach[1]))
    center = np.asarray(box.center)
    c = center.astype(xyz.dtype)
    candidates = np.flatnonzero(np.abs(xyz[:, 0] - c[0]) <= radius)
    near = np.abs(xyz[candidates, 1] - c[1]) <= radius
    near &= np.abs(xyz[candidates, 2] - c[2]) <= reach[2]
    index = candidates[near]
    local = (xyz[index].astype(np.float64) - center) @ box_rotation(box.yaw)  # world -> box frame
    inside = np.all(np.abs(local) <= reach, axis=1)
    return local[inside], index[inside]


def moved_face(box: Box, axis: int, sign: int, delta: float) -> Box:
    """``box`` with its face on ``axis`` (``sign`` +1 or -1: the face on that side) moved ``delta``
    metres outward (negative: inward); the opposite face stays. A face is not pulled past the opposite one,
    nor pushed beyond the largest box side (:data:`~beep3d.geometry.boxes.MAX_BOX_EXTENT_M`)."""
    size = list(box.size)
    new = min(max(size[axis] + delta, MIN_SIDE), MAX_BOX_EXTENT_M)
    shift = sign * (new - size[axis]) / 2
    size[axis] = new
    offset = np.zeros(3)
    offset[axis] = shift
    center = np.asarray(box.center) + box_rotation(box.yaw) @ offset
    return box.moved(size=tuple(size), center=tuple(center))


def moved_in_plane(box: Box, axes: tuple[int, int], delta: tuple[float, float]) -> Box:
    """``box`` moved ``delta`` metres along two of its own axes (its centre kept within
    :data:`~beep3d.geometry.boxes.MAX_COORDINATE_M`)."""
    offset = np.zeros(3)
    offset[axes[0]], offset[axes[1]] = delta
    center = np.clip(
        np.asarray(box.center) + box_rotation(box.yaw) @ offset, -MAX_COORDINATE_M, MAX_COORDINATE_M
    )
    return box.moved(center=tuple(center))


class CloseupView(QWidget):
    """One close-up (``name`` in :data:`VIEW_AXES`); emits ``boxDragged(start, box, finished)``."""

    boxDragged = Signal(object, object, bool)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.axes = VIEW_AXES[name]
        self.setMinimumSize(150, 110)
        self.setMouseTracking(True)
        self.box: Box | None = None
        self._frame: Box | None = None  # the box the projection is set up for (fixed while dragging)
        self._local = np.zeros((0, 3))
        self._colours = np.zeros((0, 3), np.uint8)
        self._drag: tuple[str, QPointF, Box] | None = None
        self.image: QImage | None = None

    # data ---------------------------------------------------------------------------------------
    def show_box(self, box: Box | None, local: np.ndarray, colours: np.ndarray) -> None:
        """Show ``box`` and the points around it (``local``: box-frame coordinates of the frame box)."""
        self.box = box
        if self._drag is None:
            self._frame = box
            self._local, self._colours = local, colours
        self.update()

    # projection ---------------------------------------------------------------------------------
    def _scale(self) -> tuple[float, QPointF]:
        """Pixels per metre and the pixel of the frame box's centre."""
        assert self._frame is not None
        u, v, _ = self.axes
        extent = np.asarray(self._frame.size) + 2 * margin_of(self._frame)
        scale = min((self.width() - 8) / max(extent[u], 1e-3), (self.height() - 20) / max(extent[v], 1e-3))
        return max(scale, 1e-3), QPointF(self.width() / 2, (self.height() + 12) / 2)

    def to_pixel(self, u: float, v: float) -> QPointF:
        """Pixel of a point at (u, v) metres in the frame box's coordinates along this view's axes."""
        scale, centre = self._scale()
        return QPointF(centre.x() + u * scale, centre.y() - v * scale)

    def _box_rect(self, box: Box) -> QRectF:
        """Rectangle of ``box`` in this view, in the frame box's coordinates."""
        assert self._frame is not None
        u, v, _ = self.axes
        offset = (np.asarray(box.center) - np.asarray(self._frame.center)) @ box_rotation(self._frame.yaw)
        half = np.asarray(box.size) / 2
        top_left = self.to_pixel(offset[u] - half[u], offset[v] + half[v])
        bottom_right = self.to_pixel(offset[u] + half[u], offset[v] - half[v])
        return QRectF(top_left, bottom_right)

    def _render_points(self) -> QImage:
        w, h = max(self.width(), 1), max(self.height(), 1)
        canvas = np.full((h, w, 3), 28, dtype=np.uint8)
        local, colours = self._local, self._colours
        if len(local) and self._frame is not None:
            if len(local) > MAX_POINTS:
                keep = np.random.default_rng(0).choice(len(local), MAX_POINTS, replace=False)
                local, colours = local[keep], colours[keep]
            u, v, d = self.axes
            scale, centre = self._scale()
            px = np.round(centre.x() + local[:, u] * scale).astype(np.int64)
            py = np.round(centre.y() - local[:, v] * scale).astype(np.int64)
            toward = local[:, d] * viewer_side(self.axes)  # larger: nearer the viewer
            order = np.argsort(
                toward, kind="stable"
            )  # far first: the nearest point of a pixel is written last
            px, py, colours = px[order], py[order], colours[order]
            for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):  # 2 x 2 pixel dots
                x, y = px + dx, py + dy
                ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
                canvas[y[ok], x[ok]] = colours[ok]
        self._canvas = np.ascontiguousarray(canvas)
        return QImage(self._canvas.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setPen(QColor(220, 220, 220))
        names = {"top": "Top", "front": "Front", "side": "Side"}
        if self._frame is None or self.box is None:
            painter.fillRect(self.rect(), QColor(28, 28, 28))
            painter.drawText(6, 14, f"{names[self.name]}: select a box")
            return
        self.image = self._render_points()
        painter.drawImage(0, 0, self.image)
        painter.setPen(QPen(QColor(255, 255, 0), 1.5))
        painter.drawRect(self._box_rect(self.box))
        painter.setPen(QColor(220, 220, 220))
        u, v, _ = self.axes
        size = self.box.size
        painter.drawText(
            6, 14, f"{names[self.name]}  {'xyz'[u]} {size[u]:.3f} m · {'xyz'[v]} {size[v]:.3f} m"
        )

    # dragging -----------------------------------------------------------------------------------
    def grab_at(self, pos: QPointF) -> str | None:
        """What a press at ``pos`` grabs: "u+", "u-", "v+", "v-" (an edge: that face), "move", or None."""
        if self.box is None or self._frame is None:
            return None
        rect = self._box_rect(self.box)
        near_u = rect.top() - EDGE_TOLERANCE_PX <= pos.y() <= rect.bottom() + EDGE_TOLERANCE_PX
        near_v = rect.left() - EDGE_TOLERANCE_PX <= pos.x() <= rect.right() + EDGE_TOLERANCE_PX
        edges = {
            "u+": abs(pos.x() - rect.right()) if near_u else np.inf,
            "u-": abs(pos.x() - rect.left()) if near_u else np.inf,
            "v+": abs(pos.y() - rect.top()) if near_v else np.inf,
            "v-": abs(pos.y() - rect.bottom()) if near_v else np.inf,
        }
        edge = min(edges, key=edges.get)
        if edges[edge] <= EDGE_TOLERANCE_PX:
            return edge
        return "move" if rect.contains(pos) else None

    def dragged_box(self, grab: str, start: Box, du_px: float, dv_px: float) -> Box:
        """The box after dragging ``grab`` by (du_px right, dv_px down) pixels; ``start`` itself for
        no movement (a click: the face of a box thinner than :data:`MIN_SIDE` is not pushed out to it)."""
        if du_px == 0 and dv_px == 0:
            return start
        scale, _ = self._scale()
        u, v, _ = self.axes
        du, dv = du_px / scale, -dv_px / scale
        if grab == "move":
            return moved_in_plane(start, (u, v), (du, dv))
        axis = u if grab[0] == "u" else v
        sign = 1 if grab[1] == "+" else -1
        return moved_face(start, axis, sign, sign * (du if grab[0] == "u" else dv))

    def mousePressEvent(self, event) -> None:  # noqa: N802
        grab = self.grab_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and grab is not None and self.box is not None:
            self._drag = (grab, event.position(), self.box)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            grab = self.grab_at(event.position())
            cursors = {"u": Qt.CursorShape.SizeHorCursor, "v": Qt.CursorShape.SizeVerCursor}
            shape = Qt.CursorShape.SizeAllCursor if grab == "move" else cursors.get((grab or " ")[0])
            self.setCursor(shape or Qt.CursorShape.ArrowCursor)
            return
        grab, origin, start = self._drag
        delta = event.position() - origin
        self.boxDragged.emit(start, self.dragged_box(grab, start, delta.x(), delta.y()), False)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        grab, origin, start = self._drag
        delta = event.position() - origin
        after = self.dragged_box(grab, start, delta.x(), delta.y())
        self._drag = None
        self.boxDragged.emit(start, after, True)


class CloseupsPanel(QWidget):
    """The three close-ups, stacked; :meth:`show_box` refreshes them all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.views = {name: CloseupView(name) for name in VIEW_AXES}
        for view in self.views.values():
            layout.addWidget(view, 1)
        self._shown: tuple | None = None
        hint = QLabel("Drag an edge: move that face · drag inside: move the box")
        hint.setWordWrap(True)
        layout.addWidget(hint)

    def show_box(self, box: Box | None, xyz: np.ndarray | None, colours: np.ndarray | None) -> None:
        """Show ``box`` among the scan's points ``xyz`` drawn in ``colours`` ((N, 3) uint8), or nothing."""
        if box is None or xyz is None or colours is None:
            self._shown = None
            for view in self.views.values():
                view.show_box(None, np.zeros((0, 3)), np.zeros((0, 3), np.uint8))
            return
        frame = next((v._frame for v in self.views.values() if v._drag is not None), None) or box
        shown = self._shown
        if shown is not None and shown[:2] == (box, frame) and shown[2] is xyz and shown[3] is colours:
            return  # nothing the close-ups show has changed
        self._shown = (box, frame, xyz, colours)
        local, index = local_points(xyz, frame)
        for view in self.views.values():
            view.show_box(box, local, np.asarray(colours)[index])
