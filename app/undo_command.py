"""The document's undoable commands on Qt's undo stack (one adapter class)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from beep3d.document import AnnotationDocument, Command


class DocumentCommand(QUndoCommand):
    """A document :class:`Command` on Qt's undo stack (merges follow ``Command.merge``)."""

    MERGE_ID = 3301

    def __init__(self, doc: AnnotationDocument, command: Command) -> None:
        super().__init__(command.text)
        self.doc = doc
        self.command = command

    def redo(self) -> None:
        self.command.redo(self.doc)

    def undo(self) -> None:
        self.command.undo(self.doc)

    def id(self) -> int:
        return self.MERGE_ID if getattr(self.command, "merge_key", "") else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt name)
        return isinstance(other, DocumentCommand) and self.command.merge(other.command)
