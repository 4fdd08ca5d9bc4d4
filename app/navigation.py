"""Moving between scans: File > Open recent, and the next / previous scan of the open scan's folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from beep3d.app.recent_files import RecentFiles, neighbour_scan, scan_patterns

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow


class ScanNavigation:
    """The recent-scans menu and the folder walk (Ctrl+PgDown / Ctrl+PgUp) of a window.

    Attributes
    ----------
    recent
        The recent list (``~/.config/beep3d/recent.json``).
    menu
        File > Open recent, filled each time it opens.
    walk_position
        Where the folder walk goes on from: a scan of the open scan's folder that could not be opened,
        until a scan opens (None: from the open scan). Each press then gets past a broken scan
        instead of trying it again.
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.recent = RecentFiles()
        self.menu = QMenu("Open &recent", window)
        self.menu.aboutToShow.connect(self.fill_menu)
        self.walk_position: Path | None = None

    def remember(self, scan: Path) -> None:
        """A scan was opened: first in the recent list, and the folder walk goes on from it."""
        self.recent.add(scan)
        self.walk_position = None

    def fill_menu(self) -> None:
        """The recent scans that still exist, newest first, numbered 1-9 for the keyboard."""
        self.menu.clear()
        paths = self.recent.paths()
        for number, path in enumerate(paths):
            text = f"&{number + 1} {path.name}  ({path.parent})" if number < 9 else path.name
            action = self.menu.addAction(text)
            action.triggered.connect(lambda _checked=False, p=path: self.window.files.open_scene(p))
        if not paths:
            self.menu.addAction("No recent scans").setEnabled(False)

    def open_neighbour(self, step: int) -> None:
        """Open the next (``step`` = 1) or previous (-1) scan in the open scan's folder.

        The walk goes on from a scan that could not be opened (:attr:`walk_position`), so the next
        press tries the scan after it; walking back onto the open scan just says so.
        """
        from beep3d.app.files_controller import SCENE_FILTER

        window = self.window
        here = window.doc.scene_path
        if here is None:
            window.status("Open a scan first; then Ctrl+PgDown / Ctrl+PgUp walk through its folder.")
            return
        here = here.absolute()
        position = self.walk_position if self.walk_position is not None else here
        if position.parent != here.parent:
            position = here
        target = neighbour_scan(position, step, scan_patterns(SCENE_FILTER))
        if target is None:
            window.status(f"No {'next' if step > 0 else 'previous'} scan in {here.parent}.")
            return
        if target == here:  # back past the scans that did not open
            self.walk_position = None
            window.status(f"Back at {here.name}, the open scan.")
            return
        # a failed scan is where the next press goes on from; a cancelled question leaves the walk
        if not window.files.open_scene(target) and window.files.unreadable is not None:
            self.walk_position = window.files.unreadable
