"""The annotation window: 3D view in the centre, box list, problems and box editor docked at the side."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
)

from beep3d.app.actions import MENUS, action_table
from beep3d.app.box_list import BoxListPanel, BoxRow, BoxStats, box_rows
from beep3d.app.class_picker import refresh_completions
from beep3d.app.colouring import ALSO_SELECTED_COLOUR, COLOUR_MODES, point_colours
from beep3d.app.correction_tools import click_markers
from beep3d.app.files_controller import FilesController
from beep3d.app.live import LiveResolver, LiveResult
from beep3d.app.navigation import ScanNavigation
from beep3d.app.panels import FIELD_NAMES, BoxEditor, ProblemList
from beep3d.app.refit_controller import RefitController
from beep3d.app.resolution_progress import ResolutionProgress
from beep3d.app.resolver_controller import ResolverController
from beep3d.app.selection_controller import SelectionController
from beep3d.app.side_views import SideViews
from beep3d.app.toolbars import build_toolbars
from beep3d.app.tools import TOOLS, Tool
from beep3d.app.undo_command import DocumentCommand
from beep3d.app.view import SceneView
from beep3d.classes import SCANNET18, ClassSet
from beep3d.document import (
    AnnotationDocument,
    ChangeBox,
    Command,
    DuplicateBox,
)
from beep3d.errors import Beep3dError
from beep3d.geometry import box_nudges
from beep3d.geometry.boxes import MAX_BOX_EXTENT_M, MAX_COORDINATE_M, Box, BoxSet
from beep3d.resolve.resolution import decider_counts, describe_deciders
from beep3d.resolve.teacher_resolver import TeacherResolver


class MainWindow(QMainWindow):
    """The annotation window.

    Parameters
    ----------
    class_set
        Classes to annotate with (default: the 18 ScanNet classes).
    resolver_name
        Resolver for live resolution ("smallest-box", "nearest-centre" or "teacher").
    checkpoint
        Teacher checkpoint (for ``resolver_name == "teacher"``).
    interactive
        False for scripted runs (screenshots): questions take their default answer and errors
        are printed instead of shown in dialogs.
    """

    def __init__(
        self,
        class_set: ClassSet = SCANNET18,
        resolver_name: str = "smallest-box",
        checkpoint: str | None = None,
        interactive: bool = True,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        super().__init__()
        self.interactive = interactive
        self.doc = AnnotationDocument(class_set)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(lambda clean: setattr(self.doc, "dirty", not clean))
        self.view = SceneView(self)
        self.setCentralWidget(self.view)
        self.colour_mode = "overlap"
        self.resolvers = ResolverController(self, resolver_name, checkpoint, device, threads)
        self.live = LiveResolver(self)
        self.live.resultReady.connect(self._on_result)
        self.live.failed.connect(self._on_resolution_failed)
        self.live.busyChanged.connect(self._on_busy)
        self.result: LiveResult | None = None
        self.tools: dict[str, Tool] = {name: cls(self) for name, cls in TOOLS.items()}
        self.tool: Tool = self.tools["select"]
        self.errors: list[str] = []
        self.refit = RefitController(self)
        self.navigation = ScanNavigation(self)
        self.selection = SelectionController(self)
        self.side = SideViews(self)
        #: (N, 3) uint8 colours the view shows, in scene order (None before a scan is open).
        self.shown_colours = None
        self._box_stats: BoxStats | None = None
        self._build_docks()
        self._build_actions()
        self._build_status()
        self.doc.subscribe(self._on_document)
        self.files = FilesController(self)
        self.set_tool("select")
        self._update_title()
        self.resize(1400, 900)
        self.view.setFocus()
        self.resolvers.select(resolver_name, checkpoint, quiet=True)
        self.actions_by_name[f"foreground_{self.resolvers.foreground_mode}"].setChecked(True)

    # construction -------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.box_list = BoxListPanel()
        self.box_table = self.box_list.table
        self.box_table.selectionChangedIds.connect(lambda ids, primary: self.doc.select_many(ids, primary))
        self.box_table.flagToggled.connect(
            lambda box_id, flag, value: self.selection.set_flag((box_id,), flag, value)
        )
        self.problem_list = ProblemList()
        self.problem_list.problemActivated.connect(self.frame_problem)
        self.box_editor = BoxEditor()
        self.box_editor.set_class_set(self.doc.class_set)
        self.box_editor.boxEdited.connect(self._panel_edit)
        self.boxes_dock = self.add_dock("Boxes", self.box_list, "boxes_dock")
        self.editor_dock = self.add_dock("Selected box", self.box_editor, "editor_dock")
        self.problems_dock = self.add_dock("Problems", self.problem_list, "problems_dock")
        self.side.add_docks()
        # the box list wide enough for its columns, the close-ups narrow: the view keeps most of the width
        self.resizeDocks([self.closeups_dock, self.boxes_dock], [200, 440], Qt.Orientation.Horizontal)

    def add_dock(
        self, title: str, widget, name: str, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """A movable, floatable dock named ``name`` holding ``widget``."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        """Menus, exclusive groups and shortcuts from the table in :mod:`beep3d.app.actions`."""
        a = self.actions_by_name = {}
        a["undo"] = self.undo_stack.createUndoAction(self, "&Undo")
        a["undo"].setShortcuts([QKeySequence("Ctrl+Z")])
        a["redo"] = self.undo_stack.createRedoAction(self, "&Redo")
        a["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(a["undo"])
        self.addAction(a["redo"])
        menus: dict[str, QMenu] = {}
        for key, (title, parent) in MENUS.items():
            if parent is None:
                menus[key] = self.menuBar().addMenu(title)
        menus["edit"].addAction(a["undo"])
        menus["edit"].addAction(a["redo"])
        groups: dict[str, QActionGroup] = {}
        listed_again: list[tuple[str, QAction]] = []
        for spec in action_table():
            action = self._action(
                spec.text, lambda t=spec.trigger: t(self), list(spec.shortcuts), spec.checkable
            )
            if spec.tip:
                action.setToolTip(spec.tip)
            if spec.group is not None:
                groups.setdefault(spec.group, QActionGroup(self)).addAction(action)
            if spec.menu not in menus:  # a submenu: created where its first action is listed
                title, parent = MENUS[spec.menu]
                menus[spec.menu] = menus[parent].addMenu(title)
            if spec.separator_before:
                menus[spec.menu].addSeparator()
            menus[spec.menu].addAction(action)
            listed_again += [(menu_key, action) for menu_key in spec.also_in]
            a[spec.name] = action
        for menu_key, action in listed_again:  # below a separator at the end of those menus
            menus[menu_key].addSeparator()
            menus[menu_key].addAction(action)
        a["refit_cancel"].setEnabled(False)
        menus["file"].insertMenu(a["load_boxes"], self.navigation.menu)
        self.tool_group, self.colour_group = groups["tools"], groups["colours"]
        self.resolver_group = groups["resolvers"]
        self.class_menu = menus["class"]
        self.class_group = QActionGroup(self)
        self._rebuild_class_menu()

        build_toolbars(self)
        self._fill_class_combo()
        self.set_colour_mode(self.colour_mode)

    def _rebuild_class_menu(self) -> None:
        self.class_menu.clear()
        self.class_menu.addAction(self.actions_by_name["pick_class"])
        self.class_menu.addSeparator()
        for action in self.class_group.actions():
            self.class_group.removeAction(action)
            self.removeAction(action)
        for position, name in enumerate(self.doc.class_set.names):
            shortcut = str(position + 1) if position < 9 else None
            action = self._action(name, lambda n=name: self.selection.set_class(n), shortcut, True)
            action.setChecked(name == self.doc.current_class)
            self.class_group.addAction(action)
            self.class_menu.addAction(action)

    def _fill_class_combo(self) -> None:
        self.class_combo.clear()
        for position, name in enumerate(self.doc.class_set.names):
            self.class_combo.addItem(f"{position + 1} {name}" if position < 9 else name, name)
        self.class_combo.setCurrentIndex(self.doc.class_set.names.index(self.doc.current_class))
        refresh_completions(self.class_combo)

    def _build_status(self) -> None:
        self.scene_label = QLabel("No scene")
        #: How many boxes the document holds: follows every change of the boxes, not the resolution.
        self.box_count_label = QLabel("")
        self.resolution_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setVisible(False)
        bar = self.statusBar()
        self.resolution_progress = ResolutionProgress()
        self.resolution_progress.cancelRequested.connect(self.cancel_resolution)
        self.live.progressChanged.connect(self.resolution_progress.set_progress)
        bar.addPermanentWidget(self.resolution_label)
        bar.addPermanentWidget(self.resolution_progress)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.box_count_label)
        bar.addPermanentWidget(self.scene_label)

    # user feedback -----------------------------------------------------------------------------
    def status(self, text: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def error(self, text: str, title: str = "BEEP3D annotate") -> None:
        """Tell the annotator about an error they can fix (a dialog; printed in scripted runs)."""
        self.errors.append(text)
        if not self.interactive:
            print(f"beep3d-annotate: error: {text}")
            return
        QMessageBox.critical(self, title, text)

    def ask(self, title: str, text: str, buttons, default):
        """A question with ``buttons`` (QMessageBox.StandardButton flags); scripted runs get ``default``."""
        if not self.interactive:
            return default
        return QMessageBox.question(self, title, text, buttons, default)

    # tools and modes -----------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if self.tool is not None:
            self.tool.deactivate(self.view)
        self.tool = self.tools[name]
        self.view.tool = self.tool
        self.tool.activate(self.view)
        self.actions_by_name[f"tool_{name}"].setChecked(True)
        self.view.update()
        if name != "select":
            default = f"{self.tool.title}: new boxes get class '{self.doc.current_class}'. Esc cancels."
            self.status(self.tool.status_text or default)

    def cancel(self) -> None:
        if self.tool.name != "select":
            self.tool.cancel(self.view)
            self.set_tool("select")
        else:
            self.tool.cancel(self.view)
            self.doc.select(None)

    def set_colour_mode(self, mode: str) -> None:
        self.colour_mode = mode
        self.actions_by_name[f"colour_{mode}"].setChecked(True)
        self.colour_combo.setCurrentIndex(self.colour_combo.findData(mode))
        self._recolour()

    def cycle_colour_mode(self) -> None:
        modes = [m for m, _ in COLOUR_MODES]
        self.set_colour_mode(modes[(modes.index(self.colour_mode) + 1) % len(modes)])

    def set_current_class(self, name: str) -> None:
        try:
            self.doc.set_current_class(name)
        except Beep3dError as exc:
            self.error(str(exc))

    # edits -----------------------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Apply an edit through the undo stack (refused, with a message, when it edits a locked box)."""
        locked = sorted(i for i in command.box_ids() if not self.doc.editable(i))
        if locked:
            self.status(
                f"Box {', '.join(map(str, locked))} is locked: unlock it first (Ctrl+Shift+L or the "
                "lock column of the box list)."
            )
            return
        self.undo_stack.push(DocumentCommand(self.doc, command))

    def need_selection(self) -> Box | None:
        """The selected box, or None with a hint in the status bar."""
        box = self.doc.selected_box
        if box is None:
            self.status("Select a box first (click it, or N for the next box).")
        return box

    def duplicate_selected(self) -> None:
        box = self.need_selection()
        if box is not None:
            offset = (max(box.size[0], 0.1), 0.0, 0.0)
            rotated = (offset[0] * math.cos(box.yaw), offset[0] * math.sin(box.yaw), 0.0)
            self.push(DuplicateBox(box.id, self.doc.boxes.next_id(), rotated))

    def shrink_selected(self) -> None:
        from beep3d.geometry.box_fitting import shrink_box_to_points

        box = self.need_selection()
        if box is None or self.doc.scene is None:
            return
        try:
            shrunk = shrink_box_to_points(
                box,
                self.doc.scene.xyz,
                floor_height=self.doc.floor_height_at(box.center),
                background=self.doc.room().points.on_surface,
            )
        except Beep3dError as exc:
            self.error(str(exc))
            return
        if shrunk != box:
            self.push(ChangeBox(box, shrunk, text="Shrink box to points"))

    def nudge(self, kind: str, p: int, q: int, big: bool = False) -> None:
        """Keyboard edit of the selected box (see the Edit > Move, turn and resize menu); a step past
        the box limits is refused with a message."""
        box = self.need_selection()
        if box is None:
            return
        _, up, forward = self.view.camera.axes()
        text = box_nudges.NUDGE_TEXTS.get(kind, "Change box")
        try:
            after = box_nudges.nudged(box, kind, p, q, big, forward, up)
        except Beep3dError:  # a box of 1000 m grown further, or a centre past the coordinate limit
            self.status(
                f"{text}: box {box.id} is at the box limits (sides up to {MAX_BOX_EXTENT_M:g} m, "
                f"centre coordinates up to {MAX_COORDINATE_M:g} m) and was left as it is."
            )
            return
        self.view.draw_fewer_points_for_a_moment()  # a held key: the frames until it is let go
        self.push(ChangeBox(box, after, text=text, merge_key=f"key-{kind}-{p}-{q}"))

    def _panel_edit(self, before: Box, after: Box, field: str, stepped: bool = False) -> None:
        """A value of the Selected-box panel: one undo step; a run of arrow-key or wheel steps of
        one field (``stepped``) is one step, every typed value its own."""
        current = self.doc.box(before.id)
        if current is None:
            return
        try:
            after = current.moved(center=after.center, size=after.size, yaw=after.yaw, label=after.label)
        except Beep3dError as exc:
            self.error(str(exc))
            return
        if after != current:
            name = FIELD_NAMES.get(field, field)
            merge_key = f"panel-{field}" if stepped else ""
            self.push(ChangeBox(current, after, text=f"Set box {name}", merge_key=merge_key))

    def frame_selected(self) -> None:
        box = self.need_selection()
        if box is not None:
            lo, hi = BoxSet([box]).aabbs()
            self.view.frame(lo[0], hi[0])

    def frame_problem(self, row: int) -> None:
        """Show the points (or boxes) of problem number ``row`` and select its first box."""
        if self.result is None or not (0 <= row < len(self.result.problems)):
            return
        problem = self.result.problems[row]
        if problem.box_ids:
            self.doc.select(problem.box_ids[0])
        scene = self.doc.scene
        if problem.point_index is not None and len(problem.point_index) and scene is not None:
            pts = scene.xyz[np.asarray(problem.point_index)]
            self.view.frame(pts.min(axis=0), pts.max(axis=0))
            return
        boxes = BoxSet([b for b in self.doc.boxes if b.id in problem.box_ids])
        if len(boxes):
            lo, hi = boxes.aabbs()
            self.view.frame(lo.min(axis=0), hi.max(axis=0))

    # document events ------------------------------------------------------------------------------
    def _on_document(self, event: str) -> None:
        if event == "scene":
            scene = self.doc.scene
            assert scene is not None
            self.result = None
            self.view.set_points(scene.xyz, scene.rgb)
            self.box_editor.set_origin(scene.origin)
            self.scene_label.setText(f"{scene.name}: {scene.num_points:,} points")
            if self.doc.scene_path is not None:
                self.navigation.remember(self.doc.scene_path)
            self.side.scene_opened()
            self._update_title()
        elif event in ("boxes", "preview"):
            self._show_box_count()
            self._show_boxes()
            if event == "boxes":
                self.request_resolution()
        elif event in ("selection", "flags"):
            if event == "flags":
                self._show_box_count()
            self._show_boxes()
        elif event == "corrections":
            self.request_resolution()
        elif event == "class":
            for action in self.class_group.actions():
                action.setChecked(action.text() == self.doc.current_class)
            index = self.class_combo.findData(self.doc.current_class)
            if index >= 0:
                self.class_combo.setCurrentIndex(index)
        elif event == "dirty":
            self._update_title()
        if event in ("scene", "corrections", "flags"):  # clicks as green / red dots
            self.view.set_markers(*click_markers(self.doc))

    #: Wireframe colour of boxes selected besides the one the panel shows.
    ALSO_SELECTED_COLOUR = ALSO_SELECTED_COLOUR

    def _box_colours(self) -> dict[int, tuple[int, int, int]]:
        colours = {b.id: self.doc.class_set.colour_of(b.label) for b in self.doc.boxes}
        for box_id in self.doc.selection:
            colours[box_id] = self.ALSO_SELECTED_COLOUR
        return colours

    def _show_boxes(self) -> None:
        self.view.set_boxes(self.doc.visible_boxes(), self._box_colours(), self.doc.selected_id)
        self._show_box_list()
        self.box_editor.show_box(self.doc.selected_box)
        self.side.update_legend()
        self.side.update_closeups()

    def _show_box_list(self) -> None:
        self.box_table.show_rows(self._box_rows(), self.doc.class_set)
        self.box_table.select_boxes(self.doc.selection, self.doc.selected_id)

    def _box_rows(self) -> list[BoxRow]:
        """What the box list shows: the figures of the last result, for the boxes it describes."""
        if self.result is None:
            return box_rows(self.doc.boxes, self.doc.hidden, self.doc.locked, None)
        if self._box_stats is None or self._box_stats.result is not self.result:
            self._box_stats = BoxStats(self.result)
        return box_rows(self.doc.boxes, self.doc.hidden, self.doc.locked, self._box_stats)

    def _show_box_count(self) -> None:
        """The status bar's box count (hidden boxes counted, and said): at once, not after the resolution."""
        if self.doc.scene is None:
            self.box_count_label.setText("")
            return
        count, hidden = len(self.doc.boxes), len(self.doc.hidden)
        self.box_count_label.setText(
            f"{count} box{'' if count == 1 else 'es'}" + (f" ({hidden} hidden)" if hidden else "")
        )

    def _update_title(self) -> None:
        name = self.doc.scene.name if self.doc.scene is not None else "no scene"
        self.setWindowTitle(f"{name}{' *' if self.doc.dirty else ''} — BEEP3D annotate")

    # live resolution ------------------------------------------------------------------------------
    def request_resolution(self) -> None:
        """Resolve the current boxes in the background (a newer request supersedes this one)."""
        if self.doc.scene is None or self.resolvers.resolver is None:
            return
        self.live.request(
            self.doc.scene,
            self.doc.boxes,
            self.resolvers.resolver,
            self.resolvers.membership_level,
            self.resolvers.foreground,
            self.doc.corrections,
        )

    def _on_busy(self, busy: bool) -> None:
        if not busy:
            self.resolution_progress.stop()
            return
        if isinstance(self.resolvers.resolver, TeacherResolver) and not self.resolvers.resolver.loaded:
            self.resolution_label.setText(
                f"Loading the teacher ({self.resolvers.resolver.checkpoint.name}; a few seconds, once)…"
            )
            self.resolution_progress.start("Loading the teacher")
        else:
            self.resolution_label.setText(f"Resolving ({self.resolvers.name})…")
            self.resolution_progress.start("Resolving")

    def cancel_resolution(self) -> None:
        """Stop waiting for the running resolution: the last masks stay; F5 or the next edit resolves."""
        self.live.cancel()
        self.resolution_progress.stop()
        self.resolution_label.setText(
            "Resolution cancelled: the masks shown are older than the boxes (F5 resolves)"
        )

    def _on_result(self, result: LiveResult) -> None:
        self.result = result
        analysis = result.analysis
        deciders = ""
        if self.resolvers.name == "teacher":  # the rules decide alone: no pass over every point for them
            deciders = describe_deciders(decider_counts(result.resolution.decided_by))
        self.resolution_label.setText(  # the box count is beside it (box_count_label), always current
            f"{analysis.num_single:,} points in one box · "
            f"{analysis.num_multi:,} in several ({self.resolvers.name}, {result.seconds * 1000:.0f} ms)"
            + (f" · decided by: {deciders}" if deciders else "")
        )
        self._show_box_list()
        self.problem_list.show_problems(result.problems)
        self._recolour()

    def _on_resolution_failed(self, message: str) -> None:
        if (
            isinstance(self.resolvers.resolver, TeacherResolver)
            and self.resolvers.resolver.load_error is not None
        ):
            self.resolvers.teacher_failed_to_load(self.resolvers.resolver.load_error)
            return
        self.resolution_label.setText("Resolution failed")
        self.error(message)

    def _recolour(self) -> None:
        self.side.update_legend()
        scene = self.doc.scene
        if scene is None:
            return
        labels = self.result.labels if self.result is not None else None
        box_colours = None
        if self.result is not None:
            box_colours = np.array(
                [self.doc.class_set.colour_of(b.label) for b in self.result.boxes], float
            ).reshape(-1, 3)
        self.shown_colours = point_colours(self.colour_mode, scene.rgb, labels, box_colours)
        self.view.set_colours(self.tool.shown_over(self.view, self.shown_colours))  # a stroke's preview
        self.side.update_closeups()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if not self.files.maybe_save():
            event.ignore()
            return
        self.files.stop_autosave()
        self.live.shutdown()
        self.refit.shutdown()
        event.accept()

    # export ------------------------------------------------------------------------------------------
    # help -----------------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """F1: every shortcut in an aligned table, Shift variants included (non-modal)."""
        from beep3d.app.shortcuts_dialog import ShortcutsDialog, shortcut_rows

        self.shortcuts_dialog = ShortcutsDialog(shortcut_rows(self.actions()), self)
        self.shortcuts_dialog.show()
