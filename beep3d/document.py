"""The annotation document: one scene, its boxes, the selection and the edit history (no Qt).

The desktop app shows a document and changes it only through command objects
(:class:`AddBox`, :class:`DeleteBox`, :class:`ChangeBox`, :class:`DuplicateBox`), which it wraps
in ``QUndoCommand`` subclasses on a ``QUndoStack``. Scripts and tests use :class:`History`, the
same undo / redo without Qt.

Observers subscribe with :meth:`AnnotationDocument.subscribe` and receive an event name:
``"scene"``, ``"boxes"``, ``"selection"``, ``"class"``, ``"dirty"``, ``"flags"`` (a box was hidden,
shown, locked or unlocked) or ``"corrections"`` (a click or stroke was added or undone).

Corrections (:mod:`beep3d.corrections`: clicks and brush strokes on the masks) are part of the
annotation: :class:`AddCorrection` adds one as one undo step, and they are saved with the boxes
(box file version 2).

Hidden and locked boxes (:class:`SetBoxFlag`) are the annotator's working state: undoable like any
edit, and saved with the boxes as optional per-box keys (``"hidden": true``, ``"locked": true``;
:meth:`AnnotationDocument.set_box_flags` restores them on opening). A hidden box is neither drawn nor
picked; a locked one refuses edits (:meth:`AnnotationDocument.editable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.corrections import Correction, Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.room_surfaces import Room
from beep3d.scene import Scene

Listener = Callable[[str], None]
#: The events that change what a box file holds (:attr:`AnnotationDocument.revision` counts them).
SAVED_EVENTS = ("scene", "boxes", "corrections", "flags")


class AnnotationDocument:
    """What an annotator works on.

    Attributes
    ----------
    scene
        The scan, or None before one is opened.
    boxes
        The current boxes (an immutable :class:`BoxSet`, replaced on every edit).
    selected_id
        Id of the selected box (the one the panel shows and handles edit), or None.
    selection
        Ids of every selected box (several after Ctrl / Shift clicks in the box list); contains
        ``selected_id`` when one is selected.
    hidden, locked
        Ids of hidden / locked boxes.
    class_set
        The classes to pick from.
    current_class
        Class given to new boxes.
    scene_path, boxes_path
        Where the scene was read from and where the boxes are saved (None until known).
    dirty
        True when the boxes changed since they were last saved or loaded.
    revision
        Counts the changes of what a box file holds (boxes, corrections, flags, the scene): equal
        revisions, the same annotation (an undo and a new edit, or merged key presses, change it
        although the undo stack's index is the same again).
    """

    def __init__(self, class_set: ClassSet = SCANNET18) -> None:
        self.scene: Scene | None = None
        self.boxes = BoxSet()
        self.selected_id: int | None = None
        self.selection: tuple[int, ...] = ()
        self.hidden: frozenset[int] = frozenset()
        self.locked: frozenset[int] = frozenset()
        self.corrections = Corrections()
        self.class_set = class_set
        self.current_class = class_set.names[0] if len(class_set) else "object"
        self.scene_path: Path | None = None
        self.boxes_path: Path | None = None
        self._dirty = False
        self.revision = 0
        self._listeners: list[Listener] = []

    # observers -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(event)`` after every change (see the module docstring for events)."""
        self._listeners.append(listener)

    def _emit(self, event: str) -> None:
        if event in SAVED_EVENTS:
            self.revision += 1
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
        self.corrections = Corrections(num_points=scene.num_points)
        self.selected_id = None
        self.selection = ()
        self.hidden = self.locked = frozenset()
        self._dirty = False
        self._emit("scene")
        self._emit("boxes")
        self._emit("selection")
        self._emit("dirty")

    def set_boxes(self, boxes: BoxSet, dirty: bool = False) -> None:
        """Replace all boxes (after loading a file); the selection is kept when its box remains."""
        self.boxes = boxes
        ids = set(boxes.ids.tolist())
        self.hidden, self.locked = self.hidden & ids, self.locked & ids
        if any(i not in ids for i in self.selection):
            self._set_selection(tuple(i for i in self.selection if i in ids), None)
        self._emit("boxes")
        self.dirty = dirty

    def set_box_flags(self, hidden: Iterable[int] = (), locked: Iterable[int] = ()) -> None:
        """Replace which boxes are hidden and locked (after loading a box file; not an edit).

        Ids of boxes that do not exist are left out; a hidden box leaves the selection.
        """
        ids = set(self.boxes.ids.tolist())
        self.hidden = frozenset(int(i) for i in hidden) & ids
        self.locked = frozenset(int(i) for i in locked) & ids
        if set(self.selection) & self.hidden:
            self._set_selection(tuple(i for i in self.selection if i not in self.hidden), None)
        self._emit("flags")

    def set_corrections(self, corrections: Corrections, dirty: bool = False) -> None:
        """Replace all corrections (after loading a box file); checked against the scene's points."""
        if self.scene is not None:
            corrections = corrections.for_scan(self.scene.num_points)
        self.corrections = corrections
        self._emit("corrections")
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
        """Select one box by id (None clears the selection)."""
        if box_id is not None and self.box(box_id) is None:
            box_id = None
        self._set_selection(() if box_id is None else (box_id,), box_id)

    def select_many(self, box_ids, primary: int | None = None) -> None:
        """Select several boxes; ``primary`` (default: the last of them) is the one the panel shows."""
        ids = tuple(dict.fromkeys(int(i) for i in box_ids if self.box(int(i)) is not None))
        if primary is None or primary not in ids:
            primary = ids[-1] if ids else None
        self._set_selection(ids, primary)

    def _set_selection(self, ids: tuple[int, ...], primary: int | None) -> None:
        if primary is None and ids:
            primary = ids[-1]
        if ids != self.selection or primary != self.selected_id:
            self.selection, self.selected_id = ids, primary
            self._emit("selection")

    @property
    def selected_boxes(self) -> list[Box]:
        """Every selected box, in selection order."""
        return [b for b in (self.box(i) for i in self.selection) if b is not None]

    def editable(self, box_id: int) -> bool:
        """False for a locked box (unlock it to edit it)."""
        return box_id not in self.locked

    def visible_boxes(self) -> BoxSet:
        """The boxes that are not hidden (what the view draws and picks)."""
        if not self.hidden:
            return self.boxes
        return BoxSet([b for b in self.boxes if b.id not in self.hidden])

    def _set_flag(self, flag: str, box_ids, value: bool) -> None:
        ids = frozenset(int(i) for i in box_ids)
        current = getattr(self, flag)
        setattr(self, flag, current | ids if value else current - ids)
        if flag == "hidden" and value and set(self.selection) & ids:  # a hidden box is not selected
            self._set_selection(tuple(i for i in self.selection if i not in ids), None)
        self._emit("flags")

    def select_step(self, step: int) -> None:
        """Select the next (``step`` = 1) or previous (-1) shown box in list order, wrapping around."""
        ids = [b.id for b in self.boxes]
        shown = [i for i in ids if i not in self.hidden]
        if not shown:
            self.select(None)
            return
        if self.selected_id is None or self.selected_id not in ids:
            self.select(shown[0] if step > 0 else shown[-1])
            return
        position = ids.index(self.selected_id)
        for offset in range(1, len(ids) + 1):
            candidate = ids[(position + step * offset) % len(ids)]
            if candidate not in self.hidden:
                self.select(candidate)
                return

    def floor_height(self) -> float | None:
        """Floor z of the scene (metres) under its centre, cached per scene; None without a scene.

        The room's floor plane (:func:`beep3d.geometry.room_surfaces.room_of`) when one is found,
        else the densest low height slab (:func:`beep3d.geometry.box_fitting.estimate_floor_height`).
        """
        if self.scene is None:
            return None
        cached = getattr(self, "_floor_cache", None)
        if cached is not None and cached[0] is self.scene:
            return cached[1]
        centre = (
            (self.scene.xyz.min(axis=0) + self.scene.xyz.max(axis=0)) / 2 if self.scene.num_points else None
        )
        height = self.room().floor_height_at(centre) if centre is not None else None
        if height is None:
            from beep3d.geometry.box_fitting import estimate_floor_height

            height = estimate_floor_height(self.scene.xyz)
        self._floor_cache = (self.scene, height)
        return height

    def floor_height_at(self, point: np.ndarray) -> float | None:
        """Floor z (metres) under ``point`` (x, y[, z]): the room's floor plane there, which may slope."""
        if self.scene is None:
            return None
        height = self.room().floor_height_at(np.asarray(point, dtype=np.float64))
        return self.floor_height() if height is None else height

    def room(self) -> Room:
        """The scene's floor, walls and ceiling and the points on them (computed once per scene)."""
        if self.scene is None:
            raise Beep3dError("no scene is open")
        from beep3d.geometry.room_surfaces import room_of

        return room_of(self.scene)

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
        self.hidden, self.locked = self.hidden - {box_id}, self.locked - {box_id}
        if box_id in self.selection:
            self._set_selection(tuple(i for i in self.selection if i != box_id), None)
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
        """Show an in-progress change (a drag) without recording it; finish with a :class:`ChangeBox`.

        A locked box is not previewed (it refuses edits)."""
        if not self.editable(box.id):
            return
        self.boxes = self.boxes.with_box(box)
        self._emit("boxes")


# commands ----------------------------------------------------------------------------------


def _select_keeping_others(doc: AnnotationDocument, box_id: int) -> None:
    """Make ``box_id`` the selected box: the only one, unless it is among several selected already."""
    if box_id in doc.selection:
        doc.select_many(doc.selection, box_id)
    else:
        doc.select(box_id)


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

    def box_ids(self) -> tuple[int, ...]:
        """Ids of the existing boxes this command changes or deletes (a locked box refuses it)."""
        return ()


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
class AddCorrection(Command):
    """Add one click or stroke (:class:`beep3d.corrections.Correction`); undo takes it back."""

    correction: Correction
    text: str = "Correct mask"

    def redo(self, doc: AnnotationDocument) -> None:
        doc.corrections = doc.corrections.added(self.correction)
        doc._emit("corrections")

    def undo(self, doc: AnnotationDocument) -> None:
        doc.corrections = doc.corrections.without(len(doc.corrections) - 1)
        doc._emit("corrections")

    def box_ids(self) -> tuple[int, ...]:
        return () if self.correction.box_id < 0 else (self.correction.box_id,)


@dataclass
class DeleteBox(Command):
    """Delete a box and the clicks and strokes about it; undo puts both back as they were, and the
    box's hidden and locked flags with it.

    The corrections go with the box: a later box may get the freed id, and must not inherit them
    (nor the protection of the others, which no longer leave that id alone).
    """

    box_id: int
    text: str = "Delete box"
    _removed: Box | None = field(default=None, repr=False)
    _position: int = 0
    _corrections: Corrections | None = field(default=None, repr=False)
    _flags: tuple[str, ...] = field(default=(), repr=False)

    def redo(self, doc: AnnotationDocument) -> None:
        self._flags = tuple(flag for flag in ("hidden", "locked") if self.box_id in getattr(doc, flag))
        self._removed, self._position = doc._remove(self.box_id)
        kept = doc.corrections.without_boxes([self.box_id])
        if kept != doc.corrections:  # its own went, or others no longer leave it alone
            self._corrections = doc.corrections
            doc.corrections = kept
            doc._emit("corrections")

    def undo(self, doc: AnnotationDocument) -> None:
        assert self._removed is not None
        for flag in self._flags:  # before the box is back: a hidden box is never drawn
            setattr(doc, flag, getattr(doc, flag) | {self.box_id})
        doc._insert(self._removed, self._position)
        if self._flags:
            doc._emit("flags")
        if self._corrections is not None:
            doc.corrections, self._corrections = self._corrections, None
            doc._emit("corrections")
        doc.select(self.box_id)

    def box_ids(self) -> tuple[int, ...]:
        return (self.box_id,)


@dataclass
class ChangeBox(Command):
    """Replace a box by a changed copy (move, resize, yaw, class), same id.

    ``merge_key`` groups consecutive changes of one box into one undo step (for example a
    sequence of spin-box steps): two commands merge when both have the same non-empty key and
    the same box id.

    The changed box becomes the selected one; when it is among several selected boxes, they stay
    selected (a nudge or a panel edit of the box the panel shows keeps the others).
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
        _select_keeping_others(doc, self.after.id)

    def undo(self, doc: AnnotationDocument) -> None:
        doc._replace(self.before)
        _select_keeping_others(doc, self.before.id)

    def box_ids(self) -> tuple[int, ...]:
        return (self.after.id,)

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


@dataclass
class SetBoxFlag(Command):
    """Hide / show or lock / unlock boxes (``flag`` is "hidden" or "locked")."""

    ids: tuple[int, ...]
    flag: str
    value: bool
    text: str = "Hide boxes"
    _before: frozenset[int] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        if self.flag not in ("hidden", "locked"):
            raise ValueError(f"unknown box flag {self.flag!r}; use 'hidden' or 'locked'")

    def redo(self, doc: AnnotationDocument) -> None:
        self._before = getattr(doc, self.flag)
        doc._set_flag(self.flag, self.ids, self.value)

    def undo(self, doc: AnnotationDocument) -> None:
        setattr(doc, self.flag, self._before)
        doc._emit("flags")


@dataclass
class Batch(Command):
    """Several commands as one undo step (a class change or delete of several selected boxes)."""

    commands: list[Command]
    text: str = "Edit boxes"
    _selection: tuple[tuple[int, ...], int | None] | None = field(default=None, repr=False)

    def redo(self, doc: AnnotationDocument) -> None:
        if self._selection is None:
            self._selection = (doc.selection, doc.selected_id)
        for command in self.commands:
            command.redo(doc)
        doc.select_many(*self._selection)  # the boxes stay selected (those that remain)

    def undo(self, doc: AnnotationDocument) -> None:
        for command in reversed(self.commands):
            command.undo(doc)
        assert self._selection is not None
        doc.select_many(*self._selection)

    def box_ids(self) -> tuple[int, ...]:
        return tuple(i for command in self.commands for i in command.box_ids())


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
