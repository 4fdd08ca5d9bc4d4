"""Drawing and editing modes: small classes sharing one interface (as labelCloud's strategies).

The view hands mouse and key events to the active tool first; a tool returns True when it took
the event (otherwise the camera moves). Tools change the document only through commands pushed
with ``editor.push(command)``, so every edit can be undone.

``editor`` is the main window, seen through the :class:`ToolEditor` protocol: the document, pushing a
command, switching tool, and messages. Nothing else of the window is a tool's business.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt

from beep3d.app.handles import box_handles, box_rotation, closest_on_axis, drag_handle, ray_plane_hit
from beep3d.document import AddBox, AnnotationDocument, ChangeBox, Command
from beep3d.errors import Beep3dError
from beep3d.geometry.box_fitting import box_at_point, box_from_corners, fit_box_to_points
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MAX_COORDINATE_M, Box
from beep3d.resolve.diagnostics import DEGENERATE_EXTENT


class ToolEditor(Protocol):
    """What a drawing tool may use of the window."""

    doc: AnnotationDocument

    def push(self, command: Command) -> None:
        """Apply ``command`` to the document as one undo step."""
        ...

    def set_tool(self, name: str) -> None:
        """Switch to the tool named ``name`` (a key of :data:`TOOLS`)."""
        ...

    def status(self, text: str, timeout_ms: int = 6000) -> None:
        """Show ``text`` in the status bar."""
        ...

    def error(self, text: str, title: str = "BEEP3D annotate") -> None:
        """Tell the user that something went wrong."""
        ...


LEFT = Qt.MouseButton.LeftButton
UP = np.array([0.0, 0.0, 1.0])
#: A rectangle drag, or a second corner from the first, shorter than this (pixels) draws no box.
MIN_DRAG_PIXELS = 4
#: A first corner with a coordinate past this (metres; floor hits at the horizon) is refused: the box
#: drawn from it could not keep its centre within the coordinate limit.
FARTHEST_CORNER_M = MAX_COORDINATE_M - MAX_BOX_EXTENT_M


def snapped_heading(yaw: float, step_degrees: float = 90.0, tolerance_degrees: float = 45.0) -> float:
    """``yaw`` snapped to a multiple of ``step_degrees`` when within ``tolerance_degrees`` of it.

    With the default tolerance, new boxes follow the scene's axes (turn them with Z / X or the yaw
    handle); the rectangle tool passes a small tolerance, so its box follows the dragged rectangle.
    """
    step = math.radians(step_degrees)
    nearest = round(yaw / step) * step
    return nearest if abs(yaw - nearest) <= math.radians(tolerance_degrees) else yaw


class Tool:
    """Base of all modes: ignores everything, so the camera moves."""

    name = "tool"
    title = "Tool"
    hint = ""
    #: Status bar text when the tool is chosen (empty: the window's default for drawing tools).
    status_text = ""

    def __init__(self, editor: ToolEditor) -> None:
        self.editor = editor

    def activate(self, view) -> None:
        view.hint = self.hint

    def deactivate(self, view) -> None:
        view.hint = ""
        view.rubber_band = None
        view.set_ghost(None)

    def press(self, view, x: float, y: float, button, modifiers) -> bool:
        return False

    def move(self, view, x: float, y: float, buttons, modifiers) -> bool:
        return False

    def release(self, view, x: float, y: float, button, modifiers) -> None:
        pass

    def click(self, view, x: float, y: float, button, modifiers) -> None:
        """A press and release without moving, not taken by :meth:`press` (camera drags)."""

    def key(self, view, key, modifiers) -> bool:
        return False

    def cancel(self, view) -> None:
        """Esc: drop what is half drawn."""

    def shown_over(self, view, colours: np.ndarray) -> np.ndarray:
        """The point colours to draw when the window shows ``colours`` ((N, 3) uint8, scene order)
        anew: ``colours`` with the tool's preview over them (none here)."""
        return colours


class SelectTool(Tool):
    """Click a box to select it; drag the selected box's handles to move, resize and turn it."""

    name = "select"
    title = "Select / edit"
    hint = ""

    def __init__(self, editor: ToolEditor) -> None:
        super().__init__(editor)
        self._handle: str | None = None
        self._start: Box | None = None
        self._grab = np.zeros(3)
        self._current: Box | None = None

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        handle = view.handle_at(x, y)
        box = view.selected_box()
        if handle is None or box is None:
            return False
        if not self.editor.doc.editable(box.id):
            self.editor.status(f"Box {box.id} is locked: unlock it to drag its handles (Ctrl+Shift+L).")
            return False
        origin, direction = view.ray_at(x, y)
        handles = box_handles(box)
        if handle == "center":
            hit = ray_plane_hit(origin, direction, np.asarray(box.center), UP)
            self._grab = np.asarray(box.center) - hit if hit is not None else np.zeros(3)
        elif handle == "yaw":
            self._grab = np.zeros(3)
        else:
            axis = "xyz".index(handle[1])
            axis_dir = box_rotation(box.yaw)[:, axis] * (1.0 if handle[0] == "+" else -1.0)
            opposite = handles[handle] - axis_dir * box.size[axis]
            s0 = closest_on_axis(origin, direction, opposite, axis_dir)
            self._grab = axis_dir * (box.size[axis] - s0)
        self._handle, self._start, self._current = handle, box, box
        return True

    def move(self, view, x, y, buttons, modifiers) -> bool:
        if self._handle is None or self._start is None:
            return False
        origin, direction = view.ray_at(x, y)
        self._current = drag_handle(self._start, self._handle, origin, direction, self._grab)
        if modifiers & Qt.KeyboardModifier.ShiftModifier and self._handle == "yaw":
            step = math.radians(15)
            self._current = self._current.moved(yaw=round(self._current.yaw / step) * step)
        self.editor.doc.preview_box(self._current)
        return True

    def release(self, view, x, y, button, modifiers) -> None:
        start, current, handle = self._start, self._current, self._handle
        self._handle = self._start = self._current = None
        if start is not None and current is not None and current != start:
            text = {"center": "Move box", "yaw": "Turn box"}.get(handle or "", "Resize box")
            self.editor.push(ChangeBox(start, current, text=text))

    def click(self, view, x, y, button, modifiers) -> None:
        if button != LEFT:
            return
        doc, picked = self.editor.doc, view.pick_box(x, y)
        if modifiers & Qt.KeyboardModifier.ControlModifier:  # Ctrl+click adds or removes a box
            if picked is None:
                return
            ids = [i for i in doc.selection if i != picked]
            doc.select_many(ids if picked in doc.selection else [*ids, picked])
        else:
            doc.select(picked)

    def cancel(self, view) -> None:
        if self._start is not None:
            self.editor.doc.preview_box(self._start)
        self._handle = self._start = self._current = None


class PointBoxTool(Tool):
    """Click a point: a default-size box of the current class there (standing on the floor)."""

    name = "point"
    title = "Box at point"
    hint = "Box at point: click on the object (Esc: back to select)"

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        doc = self.editor.doc
        point = view.pick_point(x, y)
        if point is None:
            self.editor.status("No surface under the cursor: click on a point of the scan.")
            return True
        yaw = snapped_heading(view.camera.heading_yaw())
        floor = doc.floor_height_at(point)
        box = box_at_point(point, doc.current_class, floor, yaw=yaw, box_id=doc.boxes.next_id())
        self.editor.push(AddBox(box, text=f"Add {box.label}"))
        self.editor.set_tool("select")
        return True


class CornersTool(Tool):
    """Click two opposite corners on the floor, then move up and click to set the height.

    A second corner on the first (within :data:`MIN_DRAG_PIXELS`, or a side under the 1 cm the
    problems list calls flat) is refused with a message; no side grows past the largest box
    (:func:`~beep3d.geometry.box_fitting.box_from_corners` stops it there).
    """

    name = "corners"
    title = "Two corners + height"
    hint = "Corners: click the first floor corner"

    def __init__(self, editor: ToolEditor) -> None:
        super().__init__(editor)
        self._reset()

    def _reset(self) -> None:
        self._corner_a: np.ndarray | None = None
        self._corner_b: np.ndarray | None = None
        self._height = 0.0
        self._ghost: Box | None = None

    def activate(self, view) -> None:
        self._reset()
        super().activate(view)

    def _floor(self) -> float:
        """The floor plane's height under the first corner (the scene centre before it is clicked)."""
        doc = self.editor.doc
        floor = doc.floor_height() if self._corner_a is None else doc.floor_height_at(self._corner_a)
        return 0.0 if floor is None else floor

    def _floor_hit(self, view, x, y) -> np.ndarray | None:
        origin, direction = view.ray_at(x, y)
        return ray_plane_hit(origin, direction, np.array([0.0, 0.0, self._floor()]), UP)

    def _ghost_box(self, view, corner_b: np.ndarray, height: float) -> Box:
        doc = self.editor.doc
        return box_from_corners(
            self._corner_a,
            corner_b,
            height,
            self._floor(),
            yaw=snapped_heading(view.camera.heading_yaw()),
            box_id=doc.boxes.next_id(),
            label=doc.current_class,
        )

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        if self._corner_a is None:
            hit = self._floor_hit(view, x, y)
            if hit is None or float(np.max(np.abs(hit))) > FARTHEST_CORNER_M:
                self.editor.status(
                    "The floor is not under the cursor: look down at the floor to place a corner."
                )
                return True
            self._corner_a = hit
            view.hint = "Corners: click the opposite corner"
        elif self._corner_b is None:
            hit = self._floor_hit(view, x, y)
            if hit is None:
                return True
            if self._on_first_corner(view, hit, x, y):
                self.editor.status(
                    "Corners: the opposite corner is on the first one (the box would be flat): click "
                    "the corner diagonally across the object, or Esc to cancel."
                )
                return True
            self._corner_b = hit
            self._height = 0.05
            view.hint = (
                "Corners: move the mouse up to set the height (in the top view: up the screen from "
                "the corner, as far as the object is tall), click to finish"
            )
        else:
            height = self._height_at(view, x, y)
            if height is not None:
                self._height = max(height, 0.02)
            box = self._ghost_box(view, self._corner_b, self._height)
            self._reset()
            view.set_ghost(None)
            self.editor.push(AddBox(box, text=f"Add {box.label}"))
            self.editor.set_tool("select")
        return True

    def move(self, view, x, y, buttons, modifiers) -> bool:
        if self._corner_a is None:
            return False
        if self._corner_b is None:
            hit = self._floor_hit(view, x, y)
            if hit is not None:
                self._show_ghost(view, self._ghost_box(view, hit, 0.02))
            return True
        height = self._height_at(view, x, y)
        if height is not None:
            self._height = max(height, 0.02)
        self._show_ghost(view, self._ghost_box(view, self._corner_b, self._height))
        return True

    def _on_first_corner(self, view, hit: np.ndarray, x: float, y: float) -> bool:
        """Whether a second corner at ``hit`` (pixel x, y) would draw a flat box: clicked within
        :data:`MIN_DRAG_PIXELS` of where the first is seen, or a side of the floor rectangle under 1 cm."""
        pixels, visible = view.project(np.asarray(self._corner_a, dtype=np.float64)[None])
        if visible[0] and np.all(np.abs(pixels[0] - (x, y)) < MIN_DRAG_PIXELS):
            return True
        return min(self._ghost_box(view, hit, 0.02).size[:2]) < DEGENERATE_EXTENT

    def _show_ghost(self, view, ghost: Box) -> None:
        """Draw the box being drawn; say so when it reaches the largest box (the cursor far away)."""
        view.set_ghost(ghost)
        if max(ghost.size) >= MAX_BOX_EXTENT_M:
            self.editor.status(
                f"Corners: the box stops at {MAX_BOX_EXTENT_M:g} m, the largest box: the floor under "
                "the cursor is farther away. Move the cursor back toward the object."
            )

    def _height_at(self, view, x, y) -> float | None:
        """Box height for the cursor at (x, y) during the height step.

        Seen from the side, the height is where the cursor's ray meets the upright plane through the
        second corner. Looking (nearly) straight down that ray never climbs, so there the height is how
        far the cursor moved up the screen from the second corner, in metres on the floor.
        """
        assert self._corner_b is not None
        origin, direction = view.ray_at(x, y)
        _, up, forward = view.camera.axes()
        if abs(forward[2]) > 0.95:  # top view (or close to it)
            hit = self._floor_hit(view, x, y)
            screen_up = np.array([up[0], up[1], 0.0])
            if hit is None or np.linalg.norm(screen_up) < 1e-6:
                return None
            return float(np.dot(hit - self._corner_b, screen_up / np.linalg.norm(screen_up)))
        normal = np.array([forward[0], forward[1], 0.0])
        normal /= np.linalg.norm(normal)
        hit = ray_plane_hit(origin, direction, self._corner_b, normal)
        if hit is None:
            hit = ray_plane_hit(origin, -direction, self._corner_b, normal)
        return None if hit is None else float(hit[2]) - self._floor()

    def cancel(self, view) -> None:
        self._reset()
        view.set_ghost(None)
        view.hint = self.hint


class RectangleFitTool(Tool):
    """Drag a rectangle in the top view: a box fitted to the points inside it (floor ignored), of
    those drawn (not the points clipping hides)."""

    name = "rectangle"
    title = "Rectangle fit (top view)"
    hint = "Rectangle fit: drag a rectangle around the object"

    def __init__(self, editor: ToolEditor) -> None:
        super().__init__(editor)
        self._start: QPoint | None = None

    def activate(self, view) -> None:
        super().activate(view)
        if view.camera.elevation < 60:
            view.set_preset("top")

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        self._start = QPoint(int(x), int(y))
        view.rubber_band = QRect(self._start, self._start)
        view.update()
        return True

    def move(self, view, x, y, buttons, modifiers) -> bool:
        if self._start is None:
            return False
        view.rubber_band = QRect(self._start, QPoint(int(x), int(y))).normalized()
        view.update()
        return True

    def release(self, view, x, y, button, modifiers) -> None:
        if self._start is None:
            return
        rect = QRect(self._start, QPoint(int(x), int(y))).normalized()
        self._start = None
        view.rubber_band = None
        view.update()
        if rect.width() < MIN_DRAG_PIXELS or rect.height() < MIN_DRAG_PIXELS:
            return
        doc = self.editor.doc
        if doc.scene is None:
            return
        pixels, visible = view.project(doc.scene.xyz)
        if view.clip is not None:  # clipped points are neither drawn nor fitted
            lo, hi = view.clip
            visible = visible & np.all((doc.scene.xyz >= lo) & (doc.scene.xyz <= hi), axis=1)
        inside = (
            visible
            & (pixels[:, 0] >= rect.left())
            & (pixels[:, 0] <= rect.right())
            & (pixels[:, 1] >= rect.top())
            & (pixels[:, 1] <= rect.bottom())
        )
        # the object's points: the room's floor, walls and ceiling under the rectangle are not fitted
        objects = inside & ~doc.room().points.on_surface
        selected = doc.scene.xyz[objects if objects.any() else inside]
        try:
            box = fit_box_to_points(
                selected,
                yaw=snapped_heading(view.camera.heading_yaw(), tolerance_degrees=1.0),
                ignore_floor=True,
                floor_height=doc.floor_height_at(selected.mean(axis=0)) if len(selected) else None,
                box_id=doc.boxes.next_id(),
                label=doc.current_class,
            )
        except Beep3dError as exc:
            self.editor.status(str(exc))
            return
        self.editor.push(AddBox(box, text=f"Add {box.label}"))
        self.editor.set_tool("select")

    def cancel(self, view) -> None:
        self._start = None
        view.rubber_band = None
        view.update()


#: Tool classes by name.
TOOLS: dict[str, type[Tool]] = {
    cls.name: cls for cls in (SelectTool, PointBoxTool, CornersTool, RectangleFitTool)
}

# the mask correction tools (Correct, Brush) add themselves to TOOLS
import beep3d.app.correction_tools  # noqa: E402, F401
