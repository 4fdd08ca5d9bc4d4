"""The window's two toolbars: files, undo and the tools on the first row; the colour mode, the class
and the camera presets on the second.

Toolbar buttons carry short labels (:data:`SHORT_LABELS`; the menus keep the full texts), and Undo /
Redo keep a fixed label (the step they undo is their tooltip), so the toolbar does not shift as the
undo text changes and nothing falls into its overflow menu at 1200 pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from beep3d.app.actions import TOOLBAR
from beep3d.app.class_picker import make_searchable
from beep3d.app.colouring import COLOUR_MODES

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow

#: Toolbar labels of actions whose menu text is long (action name -> label).
SHORT_LABELS: dict[str, str] = {
    "open": "Open",
    "save": "Save",
    "tool_select": "Select",
    "tool_point": "Point box",
    "tool_corners": "Corners",
    "tool_rectangle": "Rectangle",
    "shrink": "Shrink",
    "tool_correct": "Correct",
    "tool_brush": "Brush",
    "tool_lasso": "Lasso",
    "view_top": "Top",
    "view_front": "Front",
    "view_side": "Side",
    "view_perspective": "Perspective",
}


def fixed_undo_buttons(stack: QUndoStack, parent: QWidget) -> dict[str, QAction]:
    """ "Undo" and "Redo" actions on ``stack`` whose text never changes; their tooltip names the step."""
    buttons = {}
    for key, can, text in (("undo", stack.canUndo, stack.undoText), ("redo", stack.canRedo, stack.redoText)):
        title = key.capitalize()
        button = QAction(title, parent)
        button.setEnabled(can())
        act = getattr(stack, key)
        button.triggered.connect(lambda _checked=False, act=act: act())
        getattr(stack, f"can{title}Changed").connect(button.setEnabled)

        def tip(step: str, button: QAction = button, title: str = title) -> None:
            button.setToolTip(f"{title} {step}".strip())

        getattr(stack, f"{key}TextChanged").connect(tip)
        tip(text())
        buttons[key] = button
    return buttons


def build_toolbars(window: MainWindow) -> None:
    """Add both toolbars to ``window``; sets ``toolbar_undo``, ``toolbar_redo``, ``colour_combo``
    and ``class_combo`` on it."""
    actions = window.actions_by_name
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    fixed = fixed_undo_buttons(window.undo_stack, window)
    window.toolbar_undo, window.toolbar_redo = fixed["undo"], fixed["redo"]
    first = [key for key in TOOLBAR if key is None or not key.startswith("view_")]
    while first and first[-1] is None:
        first.pop()
    for key in first:
        toolbar.addSeparator() if key is None else toolbar.addAction(fixed.get(key, actions[key]))
    for key, label in SHORT_LABELS.items():
        if key in actions:
            tip = actions[key].toolTip()  # its own tip, or the full text
            actions[key].setIconText(label)
            actions[key].setToolTip(tip)
    window.addToolBarBreak()
    toolbar = window.addToolBar("Class and colours")
    toolbar.setObjectName("class_toolbar")
    window.colour_combo = QComboBox()
    for mode, text in COLOUR_MODES:
        window.colour_combo.addItem(text, mode)
    window.colour_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    window.colour_combo.activated.connect(
        lambda index: window.set_colour_mode(window.colour_combo.itemData(index))
    )
    toolbar.addWidget(window.colour_combo)
    window.class_combo = QComboBox()
    make_searchable(window.class_combo)  # type to find a class; Ctrl+K opens the picker

    def chosen(index: int) -> None:
        window.set_current_class(window.class_combo.itemData(index))
        window.view.setFocus()  # the keys are the view's again

    window.class_combo.activated.connect(chosen)
    toolbar.addWidget(QLabel(" Class: "))
    toolbar.addWidget(window.class_combo)
    toolbar.addSeparator()
    for key in TOOLBAR:  # the camera presets
        if key is not None and key.startswith("view_"):
            toolbar.addAction(actions[key])
