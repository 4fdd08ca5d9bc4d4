"""Every menu action of the window, declared as data in one table.

Each :class:`ActionSpec` names the action (the key of ``MainWindow.actions_by_name``), the menu it sits
in, its text, shortcuts and what it does (a function of the window). The window builds its menus,
exclusive groups and toolbar from :func:`action_table`, :data:`MENUS` and :data:`TOOLBAR`; undo and
redo come from Qt's undo stack and the class menu is rebuilt from the class set, so neither is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QKeySequence

from beep3d.app.colouring import COLOUR_MODES
from beep3d.app.tools import TOOLS

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow

Shortcut = str | QKeySequence.StandardKey

#: The foreground stage's modes in the Model menu (:mod:`beep3d.resolve.foreground`).
FOREGROUND_ENTRIES = (
    ("off", "Masks: whole boxes (foreground off)"),
    ("geometric", "Masks: leave out floor, walls, ceiling (geometric)"),
    ("model", "Masks: the teacher's own object masks (model)"),
)


@dataclass(frozen=True)
class ActionSpec:
    """One action of the window.

    Attributes
    ----------
    name
        Key in ``MainWindow.actions_by_name``.
    menu
        Key of the menu in :data:`MENUS` it is listed in ("" for none).
    text
        Menu text (``&`` marks the mnemonic).
    trigger
        What the action does, given the window.
    shortcuts
        Key sequences (the first is the one menus show).
    checkable
        A check mark (modes and toggles).
    group
        Name of the exclusive group it belongs to (one checked at a time), or None.
    separator_before
        A separator line above it in its menu.
    also_in
        Further menus that list it.
    tip
        Tooltip.
    """

    name: str
    menu: str
    text: str
    trigger: Callable[[MainWindow], Any]
    shortcuts: tuple[Shortcut, ...] = ()
    checkable: bool = False
    group: str | None = None
    separator_before: bool = False
    also_in: tuple[str, ...] = ()
    tip: str = ""


#: Menus in menu-bar order: key -> (title, parent menu key or None). "class" is filled by the window.
MENUS: dict[str, tuple[str, str | None]] = {
    "file": ("&File", None),
    "edit": ("&Edit", None),
    "nudge": ("&Move, turn and resize", "edit"),
    "tools": ("&Tools", None),
    "view": ("&View", None),
    "colours": ("&Colours", "view"),
    "class": ("&Class", None),
    "model": ("&Model", None),
    "help": ("&Help", None),
}

#: The toolbar's actions in order (None: a separator); the class and colour boxes follow them.
TOOLBAR: tuple[str | None, ...] = (
    "open", "save", None, "undo", "redo", None, "tool_select", "tool_point", "tool_corners",
    "tool_rectangle", "shrink", None, "tool_correct", "tool_brush", "tool_lasso", None, "view_top", "view_front",
    "view_side", "view_perspective",
)  # fmt: skip

#: Keys of the mask correction tools (K and J are the size nudges' Shorter / Narrower).
CORRECTION_KEYS: tuple[tuple[str, str], ...] = (("correct", "F2"), ("brush", "F3"), ("lasso", "F4"))

#: Keyboard nudges of the selected box: (text, key, (kind, p, q)) for ``MainWindow.nudge``.
NUDGES: tuple[tuple[str, str, tuple[str, int, int]], ...] = (
    ("Move forward", "W", ("move", 0, 1)),
    ("Move back", "S", ("move", 0, -1)),
    ("Move left", "A", ("move", -1, 0)),
    ("Move right", "D", ("move", 1, 0)),
    ("Move down", "Q", ("up", -1, 0)),
    ("Move up", "E", ("up", 1, 0)),
    ("Turn left (+1°)", "Z", ("yaw", 1, 0)),
    ("Turn right (-1°)", "X", ("yaw", -1, 0)),
    ("Longer (box x)", "I", ("size", 0, 1)),
    ("Shorter (box x)", "K", ("size", 0, -1)),
    ("Wider (box y)", "L", ("size", 1, 1)),
    ("Narrower (box y)", "J", ("size", 1, -1)),
    ("Taller", "O", ("size", 2, 1)),
    ("Lower", "U", ("size", 2, -1)),
)

RESOLVER_ENTRIES: tuple[tuple[str, str], ...] = (
    ("smallest-box", "Resolve overlaps: smallest box"),
    ("nearest-centre", "Resolve overlaps: nearest centre"),
    ("teacher", "Resolve overlaps: BEEP3D teacher"),
)


def _nudge_specs() -> list[ActionSpec]:
    specs = []
    for text, key, (kind, p, q) in NUDGES:
        for big in (False, True):
            specs.append(
                ActionSpec(
                    f"nudge_shift_{key.lower()}" if big else f"nudge_{key.lower()}",
                    "nudge",
                    f"{text} (big step)" if big else text,
                    lambda w, k=kind, p=p, q=q, b=big: w.nudge(k, p, q, big=b),
                    (f"Shift+{key}" if big else key,),
                )
            )
    return specs


def action_table() -> list[ActionSpec]:
    """Every action of the window, in menu order (see the module docstring)."""
    return [
        *_file_actions(),
        *_edit_actions(),
        *_nudge_specs(),
        *_tool_actions(),
        *_view_actions(),
        *_colour_actions(),
        *_model_actions(),
        *_class_and_help_actions(),
    ]


def _file_actions() -> list[ActionSpec]:
    """The File menu: scenes, boxes, class set, export, quit."""
    standard = QKeySequence.StandardKey
    return [
        ActionSpec("open", "file", "&Open scene…", lambda w: w.files.open_scene_dialog(), (standard.Open,)),
        ActionSpec("next_scan", "file", "&Next scan in folder", lambda w: w.navigation.open_neighbour(1), ("Ctrl+PgDown",)),
        ActionSpec("previous_scan", "file", "&Previous scan in folder", lambda w: w.navigation.open_neighbour(-1), ("Ctrl+PgUp",)),
        ActionSpec("load_boxes", "file", "&Load boxes…", lambda w: w.files.load_boxes_dialog(), ("Ctrl+L",)),
        ActionSpec("save", "file", "&Save boxes", lambda w: w.files.save(), (standard.Save,)),
        ActionSpec("save_as", "file", "Save boxes &as…", lambda w: w.files.save_as_dialog(), ("Ctrl+Shift+S",)),
        ActionSpec("class_set", "file", "Load &class set…", lambda w: w.files.load_class_set_dialog(), separator_before=True),
        ActionSpec("export", "file", "&Export masks…", lambda w: w.files.export_dialog(), ("Ctrl+E",)),
        ActionSpec("quit", "file", "&Quit", lambda w: w.close(), (standard.Quit,), separator_before=True),
    ]  # fmt: skip


def _edit_actions() -> list[ActionSpec]:
    """The Edit menu's box actions (the nudges of its submenu are :func:`_nudge_specs`)."""
    return [
        ActionSpec("delete", "edit", "&Delete box", lambda w: w.selection.delete_selected(), ("Del", "Backspace"), separator_before=True),
        ActionSpec("duplicate", "edit", "D&uplicate box", lambda w: w.duplicate_selected(), ("Ctrl+D",)),
        ActionSpec("hide", "edit", "H&ide selected boxes", lambda w: w.selection.hide_selected(), ("H",), separator_before=True),
        ActionSpec("show_all", "edit", "Show all hidden boxes", lambda w: w.selection.show_all_boxes(), ("Shift+H",)),
        ActionSpec("lock", "edit", "&Lock / unlock selected boxes", lambda w: w.selection.toggle_lock_selected(), ("Ctrl+Shift+L",)),
        ActionSpec("shrink", "edit", "S&hrink box to its points", lambda w: w.shrink_selected(), ("F",), also_in=("tools",)),
        ActionSpec("next", "edit", "Select &next box", lambda w: w.doc.select_step(1), ("N",), separator_before=True),
        ActionSpec("previous", "edit", "Select &previous box", lambda w: w.doc.select_step(-1), ("Shift+N",)),
        ActionSpec("deselect", "edit", "Cancel / select mode", lambda w: w.cancel(), ("Esc",)),
    ]  # fmt: skip


def _tool_actions() -> list[ActionSpec]:
    """The Tools menu: the box tools and the mask correction tools (one checked), the brush size."""
    specs = []
    box_tools = (("select", None), ("point", "B"), ("corners", "C"), ("rectangle", "R"))
    for name, shortcut in (*box_tools, *CORRECTION_KEYS):
        specs.append(
            ActionSpec(
                f"tool_{name}",
                "tools",
                TOOLS[name].title,
                lambda w, n=name: w.set_tool(n),
                () if shortcut is None else (shortcut,),
                checkable=True,
                group="tools",
                tip="Select / edit (Esc)" if name == "select" else TOOLS[name].status_text,
                separator_before=name == "correct",
            )
        )
    specs += [
        ActionSpec("brush_smaller", "tools", "Smaller brush", lambda w: w.tools["brush"].grow(w.view, -1), ("[",)),
        ActionSpec("brush_bigger", "tools", "Bigger brush", lambda w: w.tools["brush"].grow(w.view, 1), ("]",)),
    ]  # fmt: skip
    return specs


def _view_actions() -> list[ActionSpec]:
    """The View menu: camera presets, projection, framing, clipping, point size."""
    specs = []
    for name, shortcut in (("top", "T"), ("front", "G"), ("side", "V"), ("perspective", "P")):
        specs.append(
            ActionSpec(f"view_{name}", "view", f"{name.capitalize()} view", lambda w, n=name: w.view.set_preset(n), (shortcut,))
        )  # fmt: skip
    specs += [
        ActionSpec("ortho", "view", "Toggle orthographic", lambda w: w.view.toggle_projection(), ("Shift+P",)),
        ActionSpec("fit", "view", "Show whole scene", lambda w: w.view.fit_scene(), ("Home",)),
        ActionSpec("frame_selected", "view", "Frame selected box", lambda w: w.frame_selected(), (".",)),
        ActionSpec("height_slice", "view", "Height slice on / off", lambda w: w.side.toggle_height_slice(), ("Y",), separator_before=True),
        ActionSpec("crop_box", "view", "Crop box around selected box (its numbers: Clipping tab)", lambda w: w.side.crop_to_selected(), ("Shift+C",)),
        ActionSpec("clear_clipping", "view", "Show all points (no clipping)", lambda w: w.side.clear_clipping(), ("Ctrl+Shift+C",)),
        ActionSpec("bigger_points", "view", "Bigger points", lambda w: w.view.set_point_size(w.view.point_size + 1), ("+", "="), separator_before=True),
        ActionSpec("smaller_points", "view", "Smaller points", lambda w: w.view.set_point_size(w.view.point_size - 1), ("-",)),
    ]  # fmt: skip
    return specs


def _colour_actions() -> list[ActionSpec]:
    """The Colours submenu of View: one checked colour mode (Ctrl+1..), and cycling through them."""
    specs = []
    for index, (mode, text) in enumerate(COLOUR_MODES):
        specs.append(
            ActionSpec(
                f"colour_{mode}",
                "colours",
                text,
                lambda w, m=mode: w.set_colour_mode(m),
                (f"Ctrl+{index + 1}",),
                checkable=True,
                group="colours",
            )
        )
    specs.append(
        ActionSpec("cycle_colours", "colours", "Next colour mode", lambda w: w.cycle_colour_mode(), ("M",))
    )
    return specs


def _model_actions() -> list[ActionSpec]:
    """The Model menu: the resolver and the foreground mode (one checked each), resolving, refitting."""
    specs = []
    for name, text in RESOLVER_ENTRIES:
        specs.append(
            ActionSpec(
                f"resolver_{name}",
                "model",
                text,
                lambda w, n=name: w.resolvers.select(n, w.resolvers.checkpoint),
                checkable=True,
                group="resolvers",
            )
        )
    for mode, text in FOREGROUND_ENTRIES:
        specs.append(
            ActionSpec(
                f"foreground_{mode}",
                "model",
                text,
                lambda w, m=mode: w.resolvers.select_foreground(m),
                checkable=True,
                group="foreground",
                separator_before=mode == FOREGROUND_ENTRIES[0][0],
            )
        )
    specs += [
        ActionSpec("resolve_now", "model", "Resolve now", lambda w: w.request_resolution(), ("F5",), separator_before=True),
        ActionSpec("superpoints", "model", "Superpoint membership", lambda w: w.resolvers.toggle_superpoints(), checkable=True),
        ActionSpec("checkpoint", "model", "Choose teacher checkpoint…", lambda w: w.resolvers.choose_checkpoint_dialog()),
        ActionSpec("refit", "model", "Refit model on boxed scenes…", lambda w: w.refit.dialog(), separator_before=True),
        ActionSpec("refit_cancel", "model", "Cancel refit", lambda w: w.refit.cancel()),
    ]  # fmt: skip
    return specs


def _class_and_help_actions() -> list[ActionSpec]:
    """The Class menu's search (its classes come from the class set) and the Help menu."""
    return [
        ActionSpec("pick_class", "class", "&Search classes…", lambda w: w.selection.pick_class(), ("Ctrl+K",)),
        ActionSpec("shortcuts", "help", "Keyboard shortcuts", lambda w: w.show_shortcuts(), ("F1",)),
    ]  # fmt: skip
