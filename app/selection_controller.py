"""What the annotator does to the selected boxes beyond editing them: hide, lock, pick a class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from beep3d.app.class_picker import ClassPicker
from beep3d.app.undo_command import DocumentCommand
from beep3d.document import SetBoxFlag

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow


class SelectionController:
    """Hide / show, lock / unlock (undo steps) and the class picker (Ctrl+K) of a window.

    Attributes
    ----------
    class_picker
        The last picker opened (None before the first).
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.class_picker: ClassPicker | None = None

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
                window.class_hotkey(picker.chosen)
            window.view.setFocus()

        picker.finished.connect(done)
        picker.open()
