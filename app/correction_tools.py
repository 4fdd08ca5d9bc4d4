"""Hand corrections of the masks in the view: the Correct (click), Brush and Lasso tools.

Both change the document only through :class:`beep3d.document.AddCorrection`, pushed with
``editor.push``, so each click and each whole stroke is one undo step; the window re-resolves on
the document's "corrections" event.

- **Correct** (:class:`CorrectTool`): a click on a scan point says "this point is the selected
  box's object"; Shift+click says "it is not".
- **Brush** (:class:`BrushTool`): a drag paints the points under a circle of ``radius`` pixels;
  on release they become one stroke for the selected box, or (Shift held when the drag starts) for
  background.
- **Lasso** (:class:`LassoTool`): a drag draws a closed outline; on release the points inside it
  become one stroke, as the brush's do (Shift: to background).

Points are found by projecting the scan with the view's camera (:meth:`SceneView.project`), the
way the rectangle tool does: only points in front of the camera, inside the view's clipping region
and on the surface the annotator sees (not hidden behind nearer points) are taken.

Hidden and locked boxes take no corrections: each click and stroke keeps the ids of the boxes hidden
or locked when it is made (:attr:`beep3d.corrections.Correction.protected`), and the corrections stage
leaves their masks alone. The tools also refuse, with a message, a click or stroke that could only
touch those masks (:func:`protected_owners`), and a stroke whose box was deleted or hidden while it
was drawn.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from matplotlib.path import Path as Outline
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QCursor, QPainter, QPen, QPixmap, QPolygon

from beep3d.app.tools import LEFT, TOOLS, Tool, ToolEditor
from beep3d.corrections import BACKGROUND, Correction
from beep3d.document import AddCorrection, AnnotationDocument
from beep3d.geometry.boxes import Box

#: A click takes the nearest visible point within this many pixels of the cursor.
CLICK_RADIUS_PIXELS = 5.0
#: Brush radius in pixels: the default, the limits, and the factor of one [ or ] step.
BRUSH_RADIUS_PIXELS = 16.0
BRUSH_RADIUS_LIMITS = (3.0, 120.0)
BRUSH_STEP = 1.25
#: Points this much (metres) behind the nearest point of their screen cell are hidden behind it ...
OCCLUSION_TOLERANCE = 0.05
#: ... where a cell is this many drawn point sizes wide (the gaps between a surface's points do not
#: show what is behind it).
OCCLUSION_CELL_POINTS = 3.0
#: Colour of points painted by a brush stroke that is not finished yet.
BRUSH_PREVIEW = np.array([255, 255, 255], dtype=np.float32)
BRUSH_PREVIEW_BACKGROUND = np.array([90, 90, 90], dtype=np.float32)


class CorrectionEditor(ToolEditor, Protocol):
    """What the correction tools use of the window: a :class:`ToolEditor`, the colours shown and the
    result shown (``result``: its ``labels.instance_ids`` are the masks on screen; None before one)."""

    #: (N, 3) uint8 colours the view shows, in scene order (None before a scan is open).
    shown_colours: np.ndarray | None


def protected_ids(doc: AnnotationDocument, box_id: int) -> tuple[int, ...]:
    """The boxes a correction about ``box_id`` (-1: background) made now leaves alone: those hidden or
    locked (:attr:`beep3d.corrections.Correction.protected`)."""
    return tuple(sorted((doc.hidden | doc.locked) - {box_id}))


def protected_owners(editor: CorrectionEditor, points: np.ndarray) -> np.ndarray:
    """(M,) int64: the hidden or locked box whose mask holds each of ``points``, -1 for none.

    Such a box takes no corrections: the corrections stage leaves its mask alone, and the tools refuse
    a click or stroke that could only touch it. The masks are those shown; before the first result
    arrives, a point inside a hidden or locked box counts as its.
    """
    doc = editor.doc
    protected = doc.hidden | doc.locked
    owners = np.full(len(points), -1, dtype=np.int64)
    if not protected or len(points) == 0 or doc.scene is None:
        return owners
    result = getattr(editor, "result", None)
    labels = None if result is None else getattr(result, "labels", None)
    if labels is not None and labels.instance_ids is not None:
        ids = np.asarray(labels.instance_ids, dtype=np.int64)[points]
        return np.where(np.isin(ids, np.fromiter(protected, np.int64)), ids, -1)
    xyz = doc.scene.xyz[points]
    for box in doc.boxes:
        if box.id in protected:
            owners[(owners < 0) & box.contains(xyz)] = box.id
    return owners


def _pickable(view, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels (N, 2), camera depths (N,) and a mask of the points the mouse can reach.

    A point is reachable when it is in front of the camera and inside the view's clipping region
    (``view.clip``): clipped points are neither drawn nor picked.
    """
    pixels, in_front = view.project(xyz)
    camera = view.camera
    eye = camera.eye()
    toward = np.asarray(camera.target, dtype=np.float64) - eye
    toward /= max(float(np.linalg.norm(toward)), 1e-12)
    depth = (np.asarray(xyz, dtype=np.float64) - eye) @ toward
    reachable = in_front.copy()
    if view.clip is not None:
        lo, hi = view.clip
        reachable &= np.all((xyz >= lo) & (xyz <= hi), axis=1)
    return pixels, depth, reachable


def front_points(pixels: np.ndarray, depth: np.ndarray, cell: float, tolerance: float) -> np.ndarray:
    """Mask of the points not hidden behind nearer ones (the surface the annotator sees).

    The screen is cut into square cells of ``cell`` pixels; a point is in front when it lies within
    ``tolerance`` of the nearest depth of its cell.

    Parameters
    ----------
    pixels
        (M, 2) screen positions.
    depth
        (M,) distances along the viewing direction, metres.
    cell, tolerance
        Cell size in pixels; depth tolerance in metres.
    """
    if len(depth) == 0:
        return np.zeros(0, dtype=bool)
    cells = np.floor(pixels / cell).astype(np.int64)
    cells -= cells.min(axis=0)
    key = cells[:, 0] * (int(cells[:, 1].max()) + 1) + cells[:, 1]
    _, inverse = np.unique(key, return_inverse=True)
    nearest = np.full(int(inverse.max()) + 1, np.inf)
    np.minimum.at(nearest, inverse, depth)
    return depth <= nearest[inverse] + tolerance


def point_at(view, xyz: np.ndarray, x: float, y: float, radius: float = CLICK_RADIUS_PIXELS) -> int | None:
    """Index of the scan point under pixel (x, y): the nearest to the camera within ``radius`` pixels.

    Returns None when no reachable point (in front of the camera, not clipped away) is that close.
    """
    if len(xyz) == 0:
        return None
    pixels, depth, reachable = _pickable(view, xyz)
    near = reachable & (np.hypot(pixels[:, 0] - x, pixels[:, 1] - y) <= radius)
    candidates = np.flatnonzero(near)
    if len(candidates) == 0:
        return None
    return int(candidates[int(np.argmin(depth[candidates]))])


#: Marker colours of positive and negative clicks.
POSITIVE_CLICK_COLOUR = (60, 230, 90)
NEGATIVE_CLICK_COLOUR = (240, 60, 60)


def click_markers(doc: AnnotationDocument) -> tuple[np.ndarray, np.ndarray]:
    """Where the document's clicks are and their marker colours: (M, 3) metres, (M, 3) 0..255.

    Positive clicks are green, negative ones red (drawn as small crosses, unlike the round handles);
    clicks on hidden boxes are not shown.
    """
    clicks = [
        c
        for c in doc.corrections
        if c.kind == "click" and c.box_id not in doc.hidden and doc.scene is not None
    ]
    if not clicks or doc.scene is None:
        return np.zeros((0, 3)), np.zeros((0, 3))
    xyz = doc.scene.xyz[[int(c.points[0]) for c in clicks]]
    colours = np.array(
        [POSITIVE_CLICK_COLOUR if c.positive else NEGATIVE_CLICK_COLOUR for c in clicks], float
    )
    return np.asarray(xyz, dtype=np.float64), colours


class _CorrectionTool(Tool):
    """What both tools share: the box a correction is for."""

    editor: CorrectionEditor

    def target_box(self) -> Box | None:
        """The selected box when it can take corrections; None with a message in the status bar."""
        doc = self.editor.doc
        box = doc.selected_box
        if box is None:
            self.editor.status(f"{self.title}: select a box first (click it in the box list, or N).")
            return None
        if box.id in doc.hidden:
            self.editor.status(f"Box {box.id} is hidden: show it first (Shift+H) to correct its mask.")
            return None
        if not doc.editable(box.id):
            self.editor.status(f"Box {box.id} is locked: unlock it first (Ctrl+Shift+L) to correct its mask.")
            return None
        return box

    def stroke_target(self, modifiers) -> int | None:
        """Box id a stroke started with ``modifiers`` is for: background with Shift, else the target box."""
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            return BACKGROUND
        box = self.target_box()
        return None if box is None else box.id


class CorrectTool(_CorrectionTool):
    """Click a point: it is the selected box's object; Shift+click: it is not (one undo step each)."""

    name = "correct"
    title = "Correct mask (click)"
    hint = "Correct: click a point of the selected box's object; Shift+click: a point that is not (Esc: done)"
    status_text = "Correct: click a point of the selected box's object, Shift+click a point that is not"

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        doc = self.editor.doc
        if doc.scene is None:
            return True
        box = self.target_box()
        if box is None:
            return True
        index = point_at(view, doc.scene.xyz, x, y)
        if index is None:
            self.editor.status("No point under the cursor: click on a point of the scan.")
            return True
        owner = int(protected_owners(self.editor, np.array([index]))[0])
        if owner >= 0:
            hidden = owner in doc.hidden
            what = "hidden: show it first (Shift+H)" if hidden else "locked: unlock it first (Ctrl+Shift+L)"
            self.editor.status(f"That point is in the mask of box {owner}, which is {what}.")
            return True
        positive = not (modifiers & Qt.KeyboardModifier.ShiftModifier)
        text = f"{'Positive' if positive else 'Negative'} click for {box.label} {box.id}"
        click = Correction("click", box.id, positive, np.array([index]), protected_ids(doc, box.id))
        self.editor.push(AddCorrection(click, text=text))
        return True


def brush_cursor(radius: float) -> QCursor:
    """A circle of ``radius`` pixels with a dot in the middle, as the mouse cursor."""
    r = int(round(radius))
    size = 2 * r + 3
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
        painter.drawEllipse(1, 1, 2 * r, 2 * r)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
        painter.drawEllipse(1, 1, 2 * r, 2 * r)
        painter.drawPoint(r + 1, r + 1)
    finally:
        painter.end()
    return QCursor(pixmap, r + 1, r + 1)


class BrushTool(_CorrectionTool):
    """Drag over the scan: the points under the brush become one stroke (Shift: to background)."""

    name = "brush"
    title = "Brush mask"
    status_text = "Brush: drag to give points to the selected box, Shift+drag to background; [ ] size"

    def __init__(self, editor: CorrectionEditor) -> None:
        super().__init__(editor)
        self.radius = BRUSH_RADIUS_PIXELS
        self._reset()

    def _reset(self) -> None:
        self._painting = False
        self._box_id: int | None = None
        self._pixels: np.ndarray | None = None
        self._depth: np.ndarray | None = None
        self._reachable: np.ndarray | None = None
        self._painted: np.ndarray | None = None
        self._last: tuple[float, float] | None = None
        self._colours: np.ndarray | None = None

    @property
    def hint(self) -> str:  # type: ignore[override]
        return (
            f"Brush ({self.radius:.0f} px; [ ] resize): drag over the selected box's object; "
            "Shift+drag: to background (Esc: done)"
        )

    def activate(self, view) -> None:
        super().activate(view)
        view.setCursor(brush_cursor(self.radius))

    def deactivate(self, view) -> None:
        self.cancel(view)
        view.unsetCursor()
        super().deactivate(view)

    def set_radius(self, view, radius: float) -> None:
        """Brush radius in pixels (kept within :data:`BRUSH_RADIUS_LIMITS`)."""
        self.radius = float(np.clip(radius, *BRUSH_RADIUS_LIMITS))
        if view.tool is self:
            view.setCursor(brush_cursor(self.radius))
            view.hint = self.hint
            view.update()
        self.editor.status(f"Brush radius {self.radius:.0f} px")

    def grow(self, view, steps: int) -> None:
        """``steps`` presses of ] (negative: of [)."""
        self.set_radius(view, self.radius * BRUSH_STEP**steps)

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        doc = self.editor.doc
        if doc.scene is None:
            return True
        self._box_id = self.stroke_target(modifiers)
        if self._box_id is None:
            return True
        xyz = doc.scene.xyz
        self._pixels, self._depth, self._reachable = _pickable(view, xyz)
        self._painted = np.zeros(len(xyz), dtype=bool)
        shown = self.editor.shown_colours
        self._colours = None if shown is None else np.array(shown, dtype=np.uint8, copy=True)
        self._painting = True
        self._last = None
        self._paint(view, x, y)
        return True

    def move(self, view, x, y, buttons, modifiers) -> bool:
        if not self._painting:
            return False
        self._paint(view, x, y)
        return True

    def _paint(self, view, x: float, y: float) -> None:
        """Add the points under the brush on the way from the last position to (x, y)."""
        assert self._pixels is not None and self._reachable is not None and self._painted is not None
        start = self._last if self._last is not None else (x, y)
        self._last = (x, y)
        length = float(np.hypot(x - start[0], y - start[1]))
        steps = max(int(np.ceil(length / max(self.radius / 2, 1.0))), 1)
        centres = np.linspace(start, (x, y), steps + 1)
        lo, hi = centres.min(axis=0) - self.radius, centres.max(axis=0) + self.radius
        px = self._pixels
        near = np.flatnonzero(
            self._reachable
            & ~self._painted
            & (px[:, 0] >= lo[0])
            & (px[:, 0] <= hi[0])
            & (px[:, 1] >= lo[1])
            & (px[:, 1] <= hi[1])
        )
        if len(near) == 0:
            return
        # distance from each candidate to the swept segment
        a, b = np.asarray(start, float), np.asarray((x, y), float)
        ab = b - a
        t = np.clip(((px[near] - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        closest = a + t[:, None] * ab
        inside = near[np.hypot(*(px[near] - closest).T) <= self.radius]
        if len(inside) == 0:
            return
        self._painted[inside] = True
        if self._colours is not None:
            self._tint(inside)
            view.set_colours(self._colours)

    def _tint(self, points: np.ndarray) -> None:
        """Draw ``points`` (indices or (N,) bool) in the preview colours as painted by this stroke."""
        assert self._colours is not None
        tint = BRUSH_PREVIEW_BACKGROUND if self._box_id == BACKGROUND else BRUSH_PREVIEW
        self._colours[points] = (self._colours[points] * 0.3 + tint * 0.7).astype(np.uint8)

    def shown_over(self, view, colours: np.ndarray) -> np.ndarray:
        """``colours`` with the stroke painted so far over them: a result that arrives while the button
        is down is shown under the stroke's preview (not replaced by the colours it started on)."""
        if not self._painting or self._painted is None or self._colours is None:
            return colours
        self._colours = np.array(colours, dtype=np.uint8, copy=True)
        self._tint(self._painted)
        return self._colours

    def release(self, view, x, y, button, modifiers) -> None:
        if not self._painting:
            return
        assert self._painted is not None and self._pixels is not None and self._depth is not None
        seen = visible_stroke_points(view, self._pixels, self._depth, np.flatnonzero(self._painted))
        box_id = self._box_id
        self._restore_colours(view)
        self._reset()
        push_stroke(self.editor, box_id, seen, "Brush")

    def _restore_colours(self, view) -> None:
        if self._colours is not None and self.editor.shown_colours is not None:
            view.set_colours(self.editor.shown_colours)

    def cancel(self, view) -> None:
        if self._painting:
            self._restore_colours(view)
        self._reset()


def visible_stroke_points(view, pixels: np.ndarray, depth: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The ``chosen`` point indices the annotator sees (not hidden behind nearer points)."""
    return chosen[
        front_points(
            pixels[chosen],
            depth[chosen],
            cell=OCCLUSION_CELL_POINTS * max(2.0, float(view.point_size)),
            tolerance=OCCLUSION_TOLERANCE,
        )
    ]


def push_stroke(editor: CorrectionEditor, box_id: int | None, points: np.ndarray, tool: str) -> None:
    """One stroke correction (one undo step) giving ``points`` to ``box_id`` or to background.

    Dropped, with a message, when the box was deleted or hidden while the stroke was drawn; the points
    of hidden and locked boxes' masks are left out (none left: dropped too).
    """
    if len(points) == 0 or box_id is None:
        editor.status(f"The {tool.lower()} touched no point of the scan.")
        return
    doc = editor.doc
    box = None if box_id == BACKGROUND else doc.box(box_id)
    if box_id != BACKGROUND and (box is None or box_id in doc.hidden):
        gone = "deleted" if box is None else "hidden"
        editor.status(f"Box {box_id} was {gone} while the {tool.lower()} was drawn: the stroke is dropped.")
        return
    owners = protected_owners(editor, points)
    if (owners >= 0).all():
        if any(int(i) in doc.hidden for i in owners):
            what = "hidden or locked boxes' points: show (Shift+H) or unlock (Ctrl+Shift+L) them first"
        else:
            what = "locked boxes' points: unlock them first (Ctrl+Shift+L)"
        editor.status(f"The {tool.lower()} touched only {what}.")
        return
    points = points[owners < 0]
    if box is None:
        text = f"{tool} {len(points):,} points to background"
    else:
        text = f"{tool} {len(points):,} points to {box.label} {box_id}"
    stroke = Correction("stroke", box_id, True, points, protected_ids(doc, box_id))
    editor.push(AddCorrection(stroke, text=text))


class LassoTool(_CorrectionTool):
    """Drag an outline around points: those inside become one stroke (Shift: to background)."""

    name = "lasso"
    title = "Lasso mask"
    hint = "Lasso: drag around points of the selected box's object; Shift+drag: to background (Esc: done)"
    status_text = (
        "Lasso: drag an outline to give the points inside to the selected box, Shift+drag to background"
    )

    def __init__(self, editor: CorrectionEditor) -> None:
        super().__init__(editor)
        self._reset()

    def _reset(self) -> None:
        self._box_id: int | None = None
        self._outline: list[tuple[float, float]] = []

    def deactivate(self, view) -> None:
        self.cancel(view)
        super().deactivate(view)

    def press(self, view, x, y, button, modifiers) -> bool:
        if button != LEFT:
            return False
        if self.editor.doc.scene is None:
            return True
        self._box_id = self.stroke_target(modifiers)
        if self._box_id is None:
            return True
        self._outline = [(float(x), float(y))]
        self._show(view)
        return True

    def move(self, view, x, y, buttons, modifiers) -> bool:
        if not self._outline:
            return False
        if np.hypot(x - self._outline[-1][0], y - self._outline[-1][1]) >= 2.0:
            self._outline.append((float(x), float(y)))
            self._show(view)
        return True

    def _show(self, view) -> None:
        view.lasso = QPolygon([QPoint(int(round(px)), int(round(py))) for px, py in self._outline])
        view.update()

    def release(self, view, x, y, button, modifiers) -> None:
        if not self._outline:
            return
        self._outline.append((float(x), float(y)))
        outline, box_id = np.asarray(self._outline, dtype=np.float64), self._box_id
        self._hide(view)
        self._reset()
        if len(outline) < 3 or np.ptp(outline[:, 0]) < 2 or np.ptp(outline[:, 1]) < 2:
            self.editor.status("Lasso: drag around the points (the outline was too small).")
            return
        pixels, depth, reachable = _pickable(view, self.editor.doc.scene.xyz)
        lo, hi = outline.min(axis=0), outline.max(axis=0)
        near = np.flatnonzero(reachable & np.all((pixels >= lo) & (pixels <= hi), axis=1))
        inside = near[Outline(outline).contains_points(pixels[near])] if len(near) else near
        push_stroke(self.editor, box_id, visible_stroke_points(view, pixels, depth, inside), "Lasso")

    def _hide(self, view) -> None:
        view.lasso = None
        view.update()

    def cancel(self, view) -> None:
        if self._outline:
            self._hide(view)
        self._reset()


#: The correction tools by name (registered in :data:`beep3d.app.tools.TOOLS`).
CORRECTION_TOOLS: dict[str, type[Tool]] = {cls.name: cls for cls in (CorrectTool, BrushTool, LassoTool)}
TOOLS.update(CORRECTION_TOOLS)
