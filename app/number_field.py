"""A number field for metres and degrees that reads a decimal comma as a decimal point.

Qt's ``QDoubleSpinBox`` follows the system locale: in an English locale "1,5" is read as 15 (the
comma a thousands separator), in a German one "1.5" is. Annotators type both, so these fields use
the C locale without group separators and take "," as ".": "1,5" and "1.5" are both 1.5 m
everywhere.

It also tells a value typed (Enter, focus out) from one stepped (arrow keys, wheel): a window may
merge a run of steps into one undo step, but every typed value is its own.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget


class DecimalField(QDoubleSpinBox):
    """A ``QDoubleSpinBox`` reading "1,5" and "1.5" alike as 1.5, in any system locale.

    :attr:`stepping` is True while a value changes through :meth:`stepBy` (arrow keys, the wheel,
    the arrow buttons), so a ``valueChanged`` handler can tell steps from typed values.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        locale = QLocale.c()
        locale.setNumberOptions(QLocale.NumberOption.RejectGroupSeparator)
        self.setLocale(locale)
        self.stepping = False

    @staticmethod
    def _with_point(text: str) -> str:
        return text.replace(",", ".")

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Validate with a decimal comma read as a point (the text shown keeps what was typed)."""
        state = super().validate(self._with_point(text), pos)[0]
        return (state, text, pos)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt name)
        """The value of ``text``, a decimal comma read as a point."""
        return super().valueFromText(self._with_point(text))

    def fixup(self, text: str) -> str:
        """Qt's fixup of the text with a decimal comma read as a point."""
        return super().fixup(self._with_point(text))

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt name)
        """Step the value, with :attr:`stepping` set while ``valueChanged`` is emitted."""
        self.stepping = True
        try:
            super().stepBy(steps)
        finally:
            self.stepping = False
