"""The 3D view: points from GPU buffers drawn with shaders, box wireframes, handles and picking.

Design notes
------------
- Points live in two vertex buffers (positions float32, colours uint8). Changing a colour mode
  rewrites only the colour buffer (``glBufferSubData``); positions are uploaded once per scene.
- Large scans: the points are uploaded in a random order, so the first M points are a uniform
  sample (:mod:`beep3d.app.point_cloud`). While the camera moves, only the first
  :attr:`SceneView.interactive_budget` points are drawn; the full cloud is drawn again 0.2 s after
  the last move. A 2M-point scan stays interactive on a software renderer.
- Zooming about the cursor reads the depth under it (a small window, nearest hit to the centre)
  and unprojects it. Qt discards a QOpenGLWidget's depth buffer after each frame, so each frame
  copies its depth image once (a few milliseconds). Clicks that place boxes pick the exact scene
  point by projecting the points on the CPU (see :meth:`SceneView.pick_point`).
- Near and far planes follow the scene's bounding sphere (see :class:`OrbitCamera`).
"""

from __future__ import annotations

import ctypes
import time

import numpy as np
from OpenGL import GL
from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygon
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from beep3d.app.camera import OrbitCamera
from beep3d.app.colouring import GHOST_COLOUR, SELECTED_COLOUR
from beep3d.app.gl_drawing import (
    FRAGMENT_SHADER,
    VERTEX_SHADER,
    LineBatch,
    compile_program,
    default_surface_format,
    gl_matrix,
)
from beep3d.app.handles import HANDLE_COLOURS, box_handles, box_line_segments, ray_box_hit
from beep3d.app.point_cloud import PointCloud, interactive_count
from beep3d.geometry.boxes import Box, BoxSet

BACKGROUND = (0.13, 0.14, 0.16)
#: Half the width of a marker's cross (the hand correction clicks), metres.
MARKER_ARM = 0.08


class SceneView(QOpenGLWidget):
    """The 3D view of a scan with boxes.

    The view knows nothing of documents or undo: the main window gives it points, colours and
    boxes, and a *tool* (see ``beep3d.app.tools``) that receives mouse and key events first;
    what the tool does not take moves the camera (left drag: orbit; right / middle drag or
    Shift + left drag: pan; wheel: zoom about the point under the cursor).
    """

    #: Emitted after each frame with the frame time in seconds.
    frameRendered = Signal(float)
    #: Emitted when the camera moved.
    cameraChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFormat(default_surface_format())
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self.camera = OrbitCamera()
        self.point_size = 2.0
        #: While the camera moves, draw at most this many points (a uniform sample) ...
        self.interactive_budget = 600_000
        #: ... and fewer when full frames are slow: aim at this frame time, never below the minimum.
        self.interactive_frame_seconds = 0.08
        self.min_interactive_points = 150_000
        self._seconds_per_point: float | None = None
        self.tool = None
        self._gl_ready = False
        self._program = 0
        self._points_vao = 0
        self._position_vbo = 0
        self._colour_vbo = 0
        self._uploaded_points = 0
        self.points_drawn = 0
        self._lines: LineBatch | None = None
        self._overlay_lines: LineBatch | None = None
        self._handles: LineBatch | None = None
        self._origin = np.zeros(3)  # the cloud's origin: positions on the GPU are relative to it
        self._cloud: PointCloud | None = None
        self._colours: np.ndarray | None = None  # (N, 3) uint8 in the cloud's upload order
        self._needs_points = False
        self._needs_colours = False
        self._needs_lines = True
        self._boxes = BoxSet()
        self._box_colours: dict[int, tuple[int, int, int]] = {}
        self._selected_id: int | None = None
        self._ghost: Box | None = None
        self._segments: dict[Box, np.ndarray] = {}  # wireframe segments by box, relative to _origin
        self._markers = np.zeros((0, 6))  # world xyz (float64: scans in map coordinates), colour 0..1
        self.rubber_band: QRect | None = None
        #: The lasso tool's outline while it is drawn (screen pixels), or None.
        self.lasso: QPolygon | None = None
        self.hint = ""
        self._interacting = False
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(200)
        self._settle_timer.timeout.connect(self._settle)
        self._drag_mode: str | None = None
        self._last_pos = QPoint()
        self._press_pos = QPoint()
        self.last_frame_seconds = 0.0
        self._frame_mvp = np.zeros((4, 4))
        self._depth_image: np.ndarray | None = None
        self._frames = 0  # frames painted so far
        self._depth_frame = -1  # the frame the depth image was copied from
        self._depth_wanted = False  # the next frame copies its depth image
        #: Only points inside this world-space region are drawn and picked (None: all points).
        self.clip: tuple[np.ndarray, np.ndarray] | None = None

    # data ---------------------------------------------------------------------------------------
    @property
    def num_points(self) -> int:
        return 0 if self._cloud is None else len(self._cloud)

    def set_points(self, xyz: np.ndarray, rgb: np.ndarray, fit_camera: bool = True) -> None:
        """Show a new point cloud: ``xyz`` (N, 3) metres, ``rgb`` (N, 3) uint8.

        A large cloud first shows its interactive sample and the full cloud a moment later, so
        the window answers at once after opening a big scan.
        """
        cloud = self._cloud = PointCloud(xyz, shuffle=len(xyz) > self.min_interactive_points)
        lo, hi = cloud.bounds
        self._origin = cloud.origin
        self._segments = {}
        self._seconds_per_point = None
        self._colours = cloud.in_upload_order(rgb)
        self.camera.scene_center = (lo + hi) / 2
        self.camera.scene_radius = max(float(np.linalg.norm(hi - lo)) / 2, 0.1)
        self._scene_bounds = (lo, hi)
        self._needs_points = True
        if fit_camera:
            self.camera.set_preset("perspective")
            self.camera.fit(lo, hi)
        self._camera_moved()

    def set_colours(self, rgb: np.ndarray) -> None:
        """Recolour the points ((N, 3) uint8 in scene order); only the colour buffer is rewritten."""
        if self._cloud is None or len(rgb) != len(self._cloud):
            return
        self._colours = self._cloud.in_upload_order(rgb)
        self._needs_colours = True
        self.update()

    def set_boxes(
        self,
        boxes: BoxSet,
        colours: dict[int, tuple[int, int, int]],
        selected_id: int | None,
        ghost: Box | None = None,
    ) -> None:
        """Boxes to draw as wireframes (colour per box id), the selected one, and a preview box."""
        self._boxes = boxes
        self._box_colours = dict(colours)
        self._selected_id = selected_id
        self._ghost = ghost
        self._needs_lines = True
        self.update()

    def set_ghost(self, ghost: Box | None) -> None:
        """A box being drawn (shown in magenta), or None."""
        self._ghost = ghost
        self._needs_lines = True
        self.update()

    def set_markers(self, xyz: np.ndarray, colours: np.ndarray) -> None:
        """Small crosses drawn on top of the points: ``xyz`` (M, 3) metres, ``colours`` (M, 3) 0..255."""
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        rgb = np.asarray(colours, dtype=np.float64).reshape(-1, 3) / 255
        self._markers = np.hstack([xyz, rgb])
        self._needs_lines = True
        self.update()

    @property
    def markers(self) -> np.ndarray:
        """(M, 6) marker positions (metres) and colours (0..1)."""
        return self._markers

    @property
    def boxes(self) -> BoxSet:
        return self._boxes

    @property
    def selected_id(self) -> int | None:
        return self._selected_id

    def set_clip(self, region: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Draw and pick only the points inside the axis-aligned ``(lo, hi)`` (world metres); None: all.

        Boxes, handles and the box being drawn are not clipped.
        """
        self.clip = None if region is None else (np.asarray(region[0], float), np.asarray(region[1], float))
        self.update()

    def _clip_uniforms(self, clip_points: bool) -> None:
        big = np.full(3, 1e30)
        lo, hi = (
            (-big, big)
            if (self.clip is None or not clip_points)
            else (
                self.clip[0] - self._origin,
                self.clip[1] - self._origin,
            )
        )
        GL.glUniform3f(GL.glGetUniformLocation(self._program, "clip_lo"), *map(float, lo))
        GL.glUniform3f(GL.glGetUniformLocation(self._program, "clip_hi"), *map(float, hi))

    def set_point_size(self, size: float) -> None:
        self.point_size = float(np.clip(size, 1.0, 12.0))
        self.update()

    # camera -------------------------------------------------------------------------------------
    def scene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return getattr(self, "_scene_bounds", (np.zeros(3), np.ones(3)))

    def fit_scene(self) -> None:
        lo, hi = self.scene_bounds()
        self.camera.fit(lo, hi)
        self._camera_moved(settle=False)

    def set_preset(self, name: str) -> None:
        """ "top", "front", "side" (orthographic) or "perspective"."""
        self.camera.set_preset(name)
        self._camera_moved(settle=False)

    def toggle_projection(self) -> None:
        self.camera.orthographic = not self.camera.orthographic
        self._camera_moved(settle=False)

    def frame(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Move the camera to show the bounds ``lo``..``hi`` (keeps the viewing direction)."""
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        pad = np.maximum((hi - lo) * 0.3, 0.3)
        self.camera.fit(lo - pad, hi + pad)
        self._camera_moved(settle=False)

    def interactive_points(self) -> int:
        """How many points are drawn while the camera moves (all of them for small scans)."""
        return interactive_count(
            self.num_points,
            self.interactive_budget,
            self.min_interactive_points,
            self.interactive_frame_seconds,
            self._seconds_per_point,
        )

    def draw_fewer_points_for_a_moment(self) -> None:
        """Draw the interactive subset of a big scan until nothing has happened for a moment.

        For camera moves, and for bursts of edits (a held nudge key): each frame of a 2M-point scan
        takes 0.4 s on a software renderer, so the frames in between draw fewer points and the
        last one, 200 ms after, all of them.
        """
        if self.interactive_points() < self.num_points:
            self._interacting = True
            self._settle_timer.start()

    def _camera_moved(self, settle: bool = True) -> None:
        if settle:
            self.draw_fewer_points_for_a_moment()
        self.cameraChanged.emit()
        self.update()

    def _settle(self) -> None:
        self._interacting = False
        self.update()

    # geometry queries ---------------------------------------------------------------------------
    def ray_at(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        """(origin, direction) of the mouse ray through widget pixel (x, y)."""
        return self.camera.ray(x, y, max(self.width(), 1), max(self.height(), 1))

    def project(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Widget pixel coordinates (M, 2) of world points and a mask of points in front of the camera."""
        return self.camera.project(xyz, max(self.width(), 1), max(self.height(), 1))

    def read_depth(self, x: int, y: int, radius: int = 4) -> float | None:
        """Window depth in [0, 1) of the nearest drawn surface around pixel (x, y), or None.

        Reads the depth image copied at the end of a frame (Qt discards the depth buffer of a
        QOpenGLWidget after each frame, so it cannot be read later). Copying it waits for the frame
        and costs 0.1-0.25 s on a software renderer, so a frame copies it only when asked: the
        first read after a new frame paints once more.
        """
        if not self._gl_ready or not self.isVisible():
            return None
        if (
            self._depth_image is None
            or self._depth_frame != self._frames
            or not np.array_equal(self._frame_mvp, self._current_mvp())
        ):
            self._depth_wanted = True
            self.repaint()  # the depth must show what the camera sees now, and is copied on request
        depth_image = self._depth_image
        if depth_image is None:
            return None
        ratio = self.devicePixelRatioF()
        h, w = depth_image.shape
        px, py = int(x * ratio), int(h - 1 - y * ratio)
        x0, y0 = max(px - radius, 0), max(py - radius, 0)
        x1, y1 = min(px + radius + 1, w), min(py + radius + 1, h)
        if x1 <= x0 or y1 <= y0:
            return None
        depth = depth_image[y0:y1, x0:x1]
        hit = depth < 1.0
        if not np.any(hit):
            return None
        yy, xx = np.nonzero(hit)
        nearest = np.argmin((yy + y0 - py) ** 2 + (xx + x0 - px) ** 2)
        return float(depth[yy[nearest], xx[nearest]])

    def _current_mvp(self) -> np.ndarray:
        return self.camera.view_projection(max(self.width(), 1), max(self.height(), 1))

    def pick_point(self, x: float, y: float, radius: float = 4.0) -> np.ndarray | None:
        """World position (3,) of the scene point nearest the camera under widget pixel (x, y), or None.

        Projects the points on the CPU (:meth:`PointCloud.pick`), which gives an exact scene point.
        The depth image (:meth:`read_depth`) serves the wheel zoom, which needs speed more than
        exactness; under Xvfb it was seen to hold a stale frame now and then.
        """
        if self._cloud is None:
            return None
        w, h = max(self.width(), 1), max(self.height(), 1)
        return self._cloud.pick(self.camera.view_projection(w, h), w, h, x, y, radius, self.clip)

    def depth_point(self, x: float, y: float) -> np.ndarray | None:
        """World position under pixel (x, y) from the frame's depth image (fast; for zooming)."""
        depth = self.read_depth(int(x), int(y))
        if depth is None:
            return None
        return self.camera.unproject(x + 0.5, y + 0.5, depth, max(self.width(), 1), max(self.height(), 1))

    def pick_box(self, x: float, y: float) -> int | None:
        """Id of the box the mouse ray enters first (the smaller one when it starts inside several)."""
        origin, direction = self.ray_at(x, y)
        hits = []
        for box in self._boxes:
            t = ray_box_hit(origin, direction, box)
            if t is not None:
                hits.append((round(t, 6), box.volume, box.id))
        return min(hits)[2] if hits else None

    def handle_at(self, x: float, y: float, tolerance: float = 9.0) -> str | None:
        """Name of the selected box's handle under widget pixel (x, y), or None."""
        box = self.selected_box()
        if box is None:
            return None
        handles = box_handles(box)
        names = list(handles)
        pixels, visible = self.project(np.stack([handles[n] for n in names]))
        distance = np.hypot(pixels[:, 0] - x, pixels[:, 1] - y)
        distance[~visible] = np.inf
        best = int(np.argmin(distance))
        return names[best] if distance[best] <= tolerance else None

    def selected_box(self) -> Box | None:
        if self._selected_id is None:
            return None
        try:
            return self._boxes[self._boxes.position_of(self._selected_id)]
        except KeyError:
            return None

    # GL -----------------------------------------------------------------------------------------
    def initializeGL(self) -> None:
        self._program = compile_program(VERTEX_SHADER, FRAGMENT_SHADER)
        self._points_vao = GL.glGenVertexArrays(1)
        self._position_vbo, self._colour_vbo = GL.glGenBuffers(2)
        GL.glBindVertexArray(self._points_vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._position_vbo)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._colour_vbo)
        GL.glEnableVertexAttribArray(1)
        GL.glVertexAttribPointer(1, 3, GL.GL_UNSIGNED_BYTE, GL.GL_TRUE, 0, ctypes.c_void_p(0))
        GL.glBindVertexArray(0)
        self._lines = LineBatch()
        self._overlay_lines = LineBatch()
        self._handles = LineBatch()
        self._gl_ready = True
        self._needs_points = self._cloud is not None
        self._needs_lines = True

    def _upload_points(self) -> None:
        assert self._cloud is not None and self._colours is not None
        xyz = self._cloud.xyz
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._position_vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, max(xyz.nbytes, 12), xyz, GL.GL_STATIC_DRAW)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._colour_vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, max(self._colours.nbytes, 3), self._colours, GL.GL_DYNAMIC_DRAW)
        self._uploaded_points = len(xyz)
        self._needs_points = False
        self._needs_colours = False

    def _upload_colours(self) -> None:
        assert self._colours is not None
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._colour_vbo)
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, self._colours.nbytes, self._colours)
        self._needs_colours = False

    def _upload_lines(self) -> None:
        assert self._lines is not None and self._overlay_lines is not None and self._handles is not None
        regular, on_top = [], []
        # a box's segments are kept while the box is unchanged: an edit recomputes only its own
        cache, self._segments = self._segments, {}
        for box in self._boxes:
            colour = np.asarray(self._box_colours.get(box.id, (200, 200, 200)), dtype=np.float32) / 255
            segments = cache.get(box)
            if segments is None:
                segments = box_line_segments(box) - self._origin
            self._segments[box] = segments
            if box.id == self._selected_id:
                on_top.append(
                    np.hstack([segments, np.tile(np.asarray(SELECTED_COLOUR) / 255, (len(segments), 1))])
                )
            else:
                regular.append(np.hstack([segments, np.tile(colour, (len(segments), 1))]))
        if self._ghost is not None:
            segments = box_line_segments(self._ghost) - self._origin
            on_top.append(np.hstack([segments, np.tile(np.asarray(GHOST_COLOUR) / 255, (len(segments), 1))]))
        if len(self._markers):  # a small 3D cross at each marker
            arms = np.repeat(np.eye(3), 2, axis=0) * np.tile([-1.0, 1.0], 3)[:, None] * MARKER_ARM
            ends = self._markers[:, None, :3] - self._origin + arms[None]
            colours = np.repeat(self._markers[:, None, 3:], 6, axis=1)
            on_top.append(np.concatenate([ends, colours], axis=2).reshape(-1, 6))
        self._lines.upload(np.concatenate(regular) if regular else np.zeros((0, 6)))
        self._overlay_lines.upload(np.concatenate(on_top) if on_top else np.zeros((0, 6)))
        handles = []
        selected = self.selected_box()
        if selected is not None:
            for name, position in box_handles(selected).items():
                handles.append([*(position - self._origin), *(np.asarray(HANDLE_COLOURS[name]) / 255)])
        self._handles.upload(np.asarray(handles, dtype=np.float32).reshape(-1, 6))
        self._needs_lines = False

    def paintGL(self) -> None:
        started = time.perf_counter()
        if self._needs_points and self._cloud is not None:
            self._upload_points()
        if self._needs_colours and self._colours is not None:
            self._upload_colours()
        if self._needs_lines:
            self._upload_lines()
        # state a QPainter or Qt's compositor may have left behind
        GL.glDepthMask(GL.GL_TRUE)
        GL.glColorMask(GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE)
        GL.glDepthRange(0.0, 1.0)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glDisable(GL.GL_STENCIL_TEST)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_CULL_FACE)
        ratio_viewport = self.devicePixelRatioF()
        GL.glViewport(0, 0, int(self.width() * ratio_viewport), int(self.height() * ratio_viewport))
        GL.glClearColor(*BACKGROUND, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glUseProgram(self._program)
        ratio = self.devicePixelRatioF()
        mvp = self._current_mvp()
        self._frame_mvp = mvp
        model = np.eye(4)
        model[:3, 3] = self._origin
        GL.glUniformMatrix4fv(
            GL.glGetUniformLocation(self._program, "mvp"), 1, GL.GL_FALSE, gl_matrix(mvp @ model)
        )
        size_location = GL.glGetUniformLocation(self._program, "point_size")
        round_location = GL.glGetUniformLocation(self._program, "round_points")
        GL.glUniform1f(size_location, self.point_size * ratio)
        GL.glUniform1i(round_location, 0)
        self._clip_uniforms(clip_points=True)
        count = self._uploaded_points
        if count:
            if self._interacting:
                count = min(count, self.interactive_points())
            GL.glBindVertexArray(self._points_vao)
            GL.glDrawArrays(GL.GL_POINTS, 0, count)
        #: Points the last frame drew.
        self.points_drawn = count
        self._clip_uniforms(clip_points=False)
        if self._lines is not None and self._overlay_lines is not None and self._handles is not None:
            self._lines.draw(GL.GL_LINES)
            GL.glDisable(GL.GL_DEPTH_TEST)
            self._overlay_lines.draw(GL.GL_LINES)
            GL.glUniform1f(size_location, 11.0 * ratio)
            GL.glUniform1i(round_location, 1)
            self._handles.draw(GL.GL_POINTS)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        self._frames += 1
        if self._depth_wanted:
            self._copy_depth(ratio)
            self._depth_wanted, self._depth_frame = False, self._frames
        if self.rubber_band is not None or self.lasso is not None or self.hint:
            self._paint_overlay()
        if count > self.min_interactive_points:
            GL.glFinish()  # the frame is composed right after anyway; this makes its time measurable
            self._seconds_per_point = (time.perf_counter() - started) / count
        self.last_frame_seconds = time.perf_counter() - started
        self.frameRendered.emit(self.last_frame_seconds)

    def _copy_depth(self, ratio: float) -> None:
        """Keep the frame's depth image for picking (a few milliseconds on a software renderer)."""
        w, h = max(int(self.width() * ratio), 1), max(int(self.height() * ratio), 1)
        if self._depth_image is None or self._depth_image.shape != (h, w):
            self._depth_image = np.ones((h, w), dtype=np.float32)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        GL.glReadPixels(0, 0, w, h, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT, self._depth_image)

    def _paint_overlay(self) -> None:
        painter = QPainter(self)
        try:
            if self.rubber_band is not None:
                painter.setPen(QPen(QColor(0, 230, 255), 1, Qt.PenStyle.DashLine))
                painter.setBrush(QColor(0, 230, 255, 40))
                painter.drawRect(self.rubber_band)
            if self.lasso is not None:
                painter.setPen(QPen(QColor(255, 230, 0), 1, Qt.PenStyle.DashLine))
                painter.setBrush(QColor(255, 230, 0, 40))
                painter.drawPolygon(self.lasso)
            if self.hint:
                painter.setPen(QColor(235, 235, 235))
                font = QFont(painter.font())
                font.setPointSize(10)
                painter.setFont(font)
                painter.drawText(QRect(10, 8, self.width() - 20, 40), Qt.AlignmentFlag.AlignLeft, self.hint)
        finally:
            painter.end()

    # events -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.setFocus()
        pos = event.position()
        if self.tool is not None and self.tool.press(
            self, pos.x(), pos.y(), event.button(), event.modifiers()
        ):
            self._drag_mode = "tool"
            return
        button, shift = event.button(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if button == Qt.MouseButton.LeftButton and not shift:
            self._drag_mode = "orbit"
        elif button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._drag_mode = "pan"
        self._last_pos = event.position().toPoint()
        self._press_pos = self._last_pos

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._drag_mode == "tool" or (self._drag_mode is None and self.tool is not None):
            if self.tool is not None and self.tool.move(
                self, pos.x(), pos.y(), event.buttons(), event.modifiers()
            ):
                return
        if self._drag_mode in ("orbit", "pan"):
            point = pos.toPoint()
            dx, dy = point.x() - self._last_pos.x(), point.y() - self._last_pos.y()
            self._last_pos = point
            if self._drag_mode == "orbit":
                self.camera.orbit(-dx * 0.4, dy * 0.4)
            else:
                self.camera.pan(dx, dy, self.height())
            self._camera_moved()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        mode, self._drag_mode = self._drag_mode, None
        if mode == "tool" and self.tool is not None:
            self.tool.release(self, pos.x(), pos.y(), event.button(), event.modifiers())
        elif mode in ("orbit", "pan") and self.tool is not None:
            moved = event.position().toPoint() - self._press_pos
            if abs(moved.x()) + abs(moved.y()) <= 3:
                self.tool.click(self, pos.x(), pos.y(), event.button(), event.modifiers())

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        pos = event.position()
        anchor = self.depth_point(pos.x(), pos.y())
        self.camera.zoom_about(0.85**steps, anchor)
        self._camera_moved()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self.tool is not None and self.tool.key(self, event.key(), event.modifiers()):
            return
        super().keyPressEvent(event)
