"""The panels around the view that help see: close-ups of the selected box, the colour legend and
clipping. The window keeps them current through :class:`SideViews`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from beep3d.app.clipping import Clipping, ClippingPanel
from beep3d.app.closeups import CloseupsPanel
from beep3d.app.legend import LegendPanel, legend_entries
from beep3d.document import ChangeBox
from beep3d.geometry.boxes import Box

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow


class SideViews:
    """Close-ups (a dock on the left), the legend and clipping (tabs on the right) of a window.

    The widgets are also the window's attributes ``closeups``, ``legend``, ``clipping`` (the state),
    ``clipping_panel`` and their docks ``closeups_dock``, ``legend_dock``, ``clipping_dock``.
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        window.legend = self.legend = LegendPanel()
        window.clipping = self.clipping = Clipping()
        window.clipping_panel = self.clipping_panel = ClippingPanel(self.clipping)
        self.clipping_panel.changed.connect(lambda: window.view.set_clip(self.clipping.region()))
        self.clipping_panel.cropRequested.connect(self.crop_to_selected)
        window.closeups = self.closeups = CloseupsPanel()
        for closeup in self.closeups.views.values():
            closeup.boxDragged.connect(self.closeup_drag)

    def add_docks(self) -> None:
        """Legend and clipping as tabs below the window's right docks, the close-ups on the left."""
        window = self.window
        window.legend_dock = window.add_dock("Colour legend", self.legend, "legend_dock")
        window.clipping_dock = window.add_dock("Clipping", self.clipping_panel, "clipping_dock")
        window.tabifyDockWidget(window.legend_dock, window.clipping_dock)
        window.legend_dock.raise_()
        dock = window.closeups_dock = window.add_dock(
            "Close-ups", self.closeups, "closeups_dock", Qt.DockWidgetArea.LeftDockWidgetArea
        )
        dock.setFeatures(dock.features() | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        dock.visibilityChanged.connect(lambda visible: visible and self.update_closeups())

    # updates ------------------------------------------------------------------------------------
    def scene_opened(self) -> None:
        """A new scan: no clipping; the slice starts at its floor."""
        window, scene = self.window, self.window.doc.scene
        assert scene is not None
        self.clipping.clear()
        floor = window.doc.floor_height()
        z = scene.xyz[:, 2]
        self.clipping_panel.set_origin(scene.origin)
        self.clipping_panel.set_scene_heights(floor if floor is not None else float(z.min()), float(z.max()))
        self.clipping_panel.set_scene_bounds(scene.xyz.min(axis=0), scene.xyz.max(axis=0))
        self.clipping_panel.show_state()
        window.view.set_clip(None)

    def update_legend(self) -> None:
        """The legend of the window's colour mode."""
        window = self.window
        mode = window.colour_mode
        self.legend.show_legend(mode, legend_entries(mode, window.doc.class_set, window.doc.boxes))

    def update_closeups(self) -> None:
        """The selected box among its points, in the colours the view shows (when the dock is shown)."""
        window = self.window
        if not window.closeups_dock.isVisible():
            return
        scene, colours = window.doc.scene, window.shown_colours
        if scene is not None and (colours is None or len(colours) != scene.num_points):
            colours = scene.rgb
        self.closeups.show_box(window.doc.selected_box, None if scene is None else scene.xyz, colours)

    # actions ------------------------------------------------------------------------------------
    def closeup_drag(self, start: Box, after: Box, finished: bool) -> None:
        """A drag in a close-up: previewed while it lasts, one undo step when released."""
        window = self.window
        if not window.doc.editable(start.id):
            window.status(f"Box {start.id} is locked: unlock it to edit it (Ctrl+Shift+L).")
            return
        if not finished:
            window.doc.preview_box(after)
        elif after != start:
            window.push(ChangeBox(start, after, text="Edit box in a close-up"))
        else:
            window.doc.preview_box(start)

    def crop_to_selected(self) -> None:
        """Shift+C: show only the selected box and a margin around it (Ctrl+Shift+C shows all again);
        the Clipping tab comes forward with the crop box's numbers, to adjust it."""
        box = self.window.need_selection()
        if box is not None:
            self.clipping.crop_to(box)
            self.clipping_panel.show_state()
            self.window.view.set_clip(self.clipping.region())
            self.window.clipping_dock.show()
            self.window.clipping_dock.raise_()

    def toggle_height_slice(self) -> None:
        """Y: the height slice of the Clipping tab on / off (by default: the floor to 2 m above it)."""
        self.window.clipping_dock.show()
        self.window.clipping_dock.raise_()
        self.clipping_panel.slice_check.setChecked(self.clipping.mode != "slice")

    def clear_clipping(self) -> None:
        """Ctrl+Shift+C: draw every point again."""
        self.clipping_panel.clear()
