"""What the annotator does to the selected boxes as a group: class, delete, hide, lock, pick a class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from beep3d.app.class_picker import ClassPicker
from beep3d.app.undo_command import DocumentCommand
from beep3d.document import Batch, ChangeBox, DeleteBox, SetBoxFlag
from beep3d.geometry.boxes import Box

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow


class SelectionController:
    """Class change and delete of the selected boxes, hide / show, lock / unlock (undo steps each) and
    the class picker (Ctrl+K) of a window. A locked box among the selected ones is left as it is.

    Attributes
    ----------
    class_picker
        The last picker opened (None before the first).
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.class_picker: ClassPicker | None = None

    def set_class(self, name: str) -> None:
        """Class keys: the class for new boxes, and the selected boxes' class (one undo step)."""
        window = self.window
        window.set_current_class(name)
        boxes, locked = self._editable_selection()
        changes = [ChangeBox(b, b.moved(label=name)) for b in boxes if b.label != name]
        if len(changes) == 1:
            window.push(ChangeBox(changes[0].before, changes[0].after, text=f"Class {name}"))
        elif changes:
            window.push(Batch(changes, text=f"Class {name} for {len(changes)} boxes"))
        self._say_left_alone(locked)

    def delete_selected(self) -> None:
        """Del: delete the selected boxes (one undo step)."""
        if self.window.need_selection() is None:
            return
        boxes, locked = self._editable_selection()
        if len(boxes) > 1:
            self.window.push(Batch([DeleteBox(b.id) for b in boxes], text=f"Delete {len(boxes)} boxes"))
        else:
            self.window.push(DeleteBox(boxes[0].id, text=f"Delete {boxes[0].label} {boxes[0].id}"))
        self._say_left_alone(locked)

    def _editable_selection(self) -> tuple[list[Box], list[int]]:
        """The selected boxes a group edit changes, and the locked ones it leaves alone.

        With every selected box locked, those are returned as the boxes: the window then refuses the
        edit with its usual message."""
        doc = self.window.doc
        boxes = doc.selected_boxes
        editable = [b for b in boxes if doc.editable(b.id)]
        if not editable:
            return boxes, []
        return editable, [b.id for b in boxes if not doc.editable(b.id)]

    def _say_left_alone(self, locked: list[int]) -> None:
        if locked:
            which = ", ".join(map(str, locked))
            self.window.status(f"Box {which} is locked and was left as it is (Ctrl+Shift+L unlocks).")

    def set_flag(self, box_ids, flag: str, value: bool) -> None:
        """Hide / show (``flag`` "hidden") or lock / unlock ("locked") boxes, as one undo step."""
        doc = self.window.doc
        ids = tuple(int(i) for i in box_ids if (int(i) in getattr(doc, flag)) != value)
        if not ids:
            return
        verb = {("hidden", True): "Hide", ("hidden", False): "Show"}.get((flag, value))
        verb = verb or ("Lock" if value else "Unlock")
        text = f"{verb} box {ids[0]}" if len(ids) == 1 else f"{verb} {len(ids)} boxes"
        self.window.undo_stack.push(DocumentCommand(doc, SetBoxFlag(ids, flag, value, text=text)))

    def hide_selected(self) -> None:
        """H: hide the selected boxes (not drawn, not picked) until Shift+H shows them."""
        if self.window.need_selection() is not None:
            self.set_flag(self.window.doc.selection, "hidden", True)

    def show_all_boxes(self) -> None:
        """Shift+H: show every hidden box."""
        self.set_flag(self.window.doc.hidden, "hidden", False)

    def toggle_lock_selected(self) -> None:
        """Ctrl+Shift+L: lock the selected boxes, or unlock them when all are locked."""
        if self.window.need_selection() is None:
            return
        ids = self.window.doc.selection
        self.set_flag(ids, "locked", not all(i in self.window.doc.locked for i in ids))

    def pick_class(self) -> None:
        """Ctrl+K: search the classes by name or number; the choice is the class for new boxes and
        for the selected boxes (as the keys 1-9 are)."""
        window = self.window
        picker = self.class_picker = ClassPicker(window.doc.class_set, window.doc.current_class, window)

        def done(result: int) -> None:
            if result == ClassPicker.DialogCode.Accepted and picker.chosen:
                self.set_class(picker.chosen)
            window.view.setFocus()

        picker.finished.connect(done)
        picker.open()
