"""The annotation document: one scene, its boxes, the selection and the edit history (no Qt).

The desktop app shows a document and changes it only through command objects
(:class:`AddBox`, :class:`DeleteBox`, :class:`ChangeBox`, :class:`DuplicateBox`), which it wraps
in ``QUndoCommand`` subclasses on a ``QUndoStack``. Scripts and tests use :class:`History`, the
same undo / redo without Qt.

Observers subscribe with :meth:`AnnotationDocument.subscribe` and receive an event name:
``"scene"``, ``"boxes"``, ``"selection"``, ``"class"`` or ``"dirty"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.scene import Scene

Listener = Callable[[str], None]


class AnnotationDocument:
    """What an annotator works on.

    Attributes
    ----------
    scene
        The scan, or None before one is opened.
    boxes
        The current boxes (an immutable :class:`BoxSet`, replaced on every edit).
    selected_id
        Id of the selected box, or None.
    class_set
        The classes to pick from.
    current_class
        Class given to new boxes.
    scene_path, boxes_path
        Where the scene was read from and where the boxes are saved (None until known).
    dirty
        True when the boxes changed since they were last saved or loaded.
    """

    def __init__(self, class_set: ClassSet = SCANNET18) -> None:
        self.scene: Scene | None = None
        self.boxes = BoxSet()
        self.selected_id: int | None = None
        self.class_set = class_set
        self.current_class = class_set.names[0] if len(class_set) else "object"
        self.scene_path: Path | None = None
        self.boxes_path: Path | None = None
        self._dirty = False
        self._listeners: list[Listener] = []

    # observers -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(event)`` after every change (see the module docstring for events)."""
        self._listeners.append(listener)

    def _emit(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    # state ---------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when there are unsaved box edits."""
        return self._dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if bool(value) != self._dirty:
            self._dirty = bool(value)
            self._emit("dirty")

    def set_scene(self, scene: Scene, path: str | Path | None = None, boxes: BoxSet | None = None) -> None:
        """Start working on ``scene`` (with ``boxes``, default none); clears the selection."""
        self.scene = scene
        self.scene_path = Path(path) if path is not None else scene.source
        self.boxes = boxes if boxes is not None else BoxSet()
        self.selected_id = None
        self._dirty = False
        self._emit("scene")
        self._emit("boxes")
        self._emit("selection")
        self._emit("dirty")

    def set_boxes(self, boxes: BoxSet, dirty: bool = False) -> None:
        """Replace all boxes (after loading a file); the selection is kept when its box remains."""
        self.boxes = boxes
        if self.selected_id is not None and self.selected_id not in set(boxes.ids.tolist()):
            self.selected_id = None
            self._emit("selection")
        self._emit("boxes")
        self.dirty = dirty

    def set_class_set(self, class_set: ClassSet) -> None:
        """Use another class set; the current class becomes its first class if it lacks the old one."""
        if len(class_set) == 0:
            raise Beep3dError("the class set has no classes; add at least one class to its JSON file")
        self.class_set = class_set
        if self.current_class not in class_set.names:
            self.current_class = class_set.names[0]
        self._emit("class")

    def set_current_class(self, name: str) -> None:
        """Class given to new boxes; raises :class:`Beep3dError` for an unknown class."""
        self.class_set.index_of(name)
        self.current_class = name
        self._emit("class")

    @property
    def selected_box(self) -> Box | None:
        """The selected box, or None."""
        if self.selected_id is None:
            return None
        return self.box(self.selected_id)

    def box(self, box_id: int) -> Box | None:
        """The box with id ``box_id``, or None."""
        try:
            return self.boxes[self.boxes.position_of(box_id)]
        except KeyError:
            return None

    def select(self, box_id: int | None) -> None:
        """Select a box by id (None clears the selection)."""
        if box_id is not None and self.box(box_id) is None:
            box_id = None
        if box_id != self.selected_id:
            self.selected_id = box_id
            self._emit("selection")

    def select_step(self, step: int) -> None:
        """Select the next (``step`` = 1) or previous (-1) box in list order, wrapping around."""
        if len(self.boxes) == 0:
            self.select(None)
            return
        if self.selected_id is None or self.box(self.selected_id) is None:
            position = 0 if step > 0 else len(self.boxes) - 1
        else:
            position = (self.boxes.position_of(self.selected_id) + step) % len(self.boxes)
        self.select(self.boxes[position].id)

    def floor_height(self) -> float | None:
        """Floor z of the scene (metres), cached per scene; None without a scene."""
        if self.scene is None:
            return None
        cached = getattr(self, "_floor_cache", None)
        if cached is not None and cached[0] is self.scene:
            return cached[1]
        from beep3d.geometry.box_fitting import estimate_floor_height

        height = estimate_floor_height(self.scene.xyz)
        self._floor_cache = (self.scene, height)
        return height

    # low-level edits used by commands ------------------------------------------------------
    def _insert(self, box: Box, position: int | None = None) -> None:
        boxes = self.boxes.boxes
        if any(b.id == box.id for b in boxes):
            raise Beep3dError(f"a box with id {box.id} exists already")
        boxes.insert(len(boxes) if position is None else position, box)
        self.boxes = BoxSet(boxes)
        self._changed()

    def _remove(self, box_id: int) -> tuple[Box, int]:
        position = self.boxes.position_of(box_id)
        box = self.boxes[position]
        self.boxes = self.boxes.without(box_id)
        if self.selected_id == box_id:
            self.selected_id = None
            self._emit("selection")
        self._changed()
        return box, position

    def _replace(self, box: Box) -> None:
        self.boxes.position_of(box.id)  # raises KeyError for a missing box
        self.boxes = self.boxes.with_box(box)
        self._changed()

    def _changed(self) -> None:
        self._emit("boxes")
        self.dirty = True

    def preview_box(self, box: Box) -> None:
        """Show an in-progress change (a drag) without recording it; finish with a :class:`ChangeBox`."""
        self.boxes = self.boxes.with_box(box)
        self._emit("boxes")


# commands ----------------------------------------------------------------------------------


class Command:
    """One undoable edit. ``redo`` applies it (also the first time), ``undo`` reverts it."""

    text: str = "edit"

    def redo(self, doc: AnnotationDocument) -> None:
        raise NotImplementedError

    def undo(self, doc: AnnotationDocument) -> None:
        raise NotImplementedError

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (the next command) into this one; True when merged."""
        return False


@dataclass
class AddBox(Command):
    """Add a box (and select it)."""

    box: Box
    text: str = "Add box"

    def redo(self, doc: AnnotationDocument) -> None:
        doc._insert(self.box)
        doc.select(self.box.id)

    def undo(self, doc: AnnotationDocument) -> None:
        doc._remove(self.box.id)


@dataclass
class DeleteBox(Command):
    """Delete a box; undo puts it back at its place in the list."""

    box_id: int
    text: str = "Delete box"
    _removed: Box | None = field(default=None, repr=False)
    _position: int = 0

    def redo(self, doc: AnnotationDocument) -> None:
        self._removed, self._position = doc._remove(self.box_id)

    def undo(self, doc: AnnotationDocument) -> None:
        assert self._removed is not None
        doc._insert(self._removed, self._position)
        doc.select(self.box_id)


@dataclass
class ChangeBox(Command):
    """Replace a box by a changed copy (move, resize, yaw, class), same id.

    ``merge_key`` groups consecutive changes of one box into one undo step (for example a
    sequence of spin-box steps): two commands merge when both have the same non-empty key and
    the same box id.
    """

    before: Box
    after: Box
    text: str = "Change box"
    merge_key: str = ""

    def __post_init__(self) -> None:
        if self.before.id != self.after.id:
            raise ValueError("ChangeBox needs the same box id before and after")

    def redo(self, doc: AnnotationDocument) -> None:
        doc._replace(self.after)
        doc.select(self.after.id)

    def undo(self, doc: AnnotationDocument) -> None:
        doc._replace(self.before)
        doc.select(self.before.id)

    def merge(self, other: Command) -> bool:
        if (
            isinstance(other, ChangeBox)
            and self.merge_key
            and other.merge_key == self.merge_key
            and other.after.id == self.after.id
        ):
            self.after = other.after
            return True
        return False


@dataclass
class DuplicateBox(Command):
    """Copy a box under a new id, shifted by ``offset`` metres, and select the copy."""

    source_id: int
    new_id: int
    offset: tuple[float, float, float] = (0.2, 0.2, 0.0)
    text: str = "Duplicate box"
    _copy: Box | None = field(default=None, repr=False)

    def redo(self, doc: AnnotationDocument) -> None:
        if self._copy is None:
            source = doc.box(self.source_id)
            if source is None:
                raise Beep3dError(f"box {self.source_id} does not exist; select a box to duplicate")
            center = tuple(np.asarray(source.center) + np.asarray(self.offset))
            self._copy = source.moved(id=self.new_id, center=center)
        doc._insert(self._copy)
        doc.select(self._copy.id)

    def undo(self, doc: AnnotationDocument) -> None:
        doc._remove(self.new_id)
        doc.select(self.source_id)


class History:
    """Undo / redo of commands on one document, without Qt (the app uses a ``QUndoStack``)."""

    def __init__(self, doc: AnnotationDocument) -> None:
        self.doc = doc
        self._done: list[Command] = []
        self._undone: list[Command] = []

    def push(self, command: Command) -> None:
        """Apply ``command`` and record it (merged into the previous one when it allows)."""
        command.redo(self.doc)
        self._undone.clear()
        if self._done and self._done[-1].merge(command):
            return
        self._done.append(command)

    def undo(self) -> bool:
        """Revert the last command; False when there is nothing to undo."""
        if not self._done:
            return False
        command = self._done.pop()
        command.undo(self.doc)
        self._undone.append(command)
        return True

    def redo(self) -> bool:
        """Re-apply the last undone command; False when there is nothing to redo."""
        if not self._undone:
            return False
        command = self._undone.pop()
        command.redo(self.doc)
        self._done.append(command)
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)
