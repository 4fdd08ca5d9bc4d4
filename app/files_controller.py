"""Files of the window's annotation: open, load, save, autosave and recovery, class sets, export.

Everything that reads or writes a file for the window lives here; the window keeps drawing and
interaction. Files are written atomically; unsaved boxes are autosaved every
:data:`AUTOSAVE_SECONDS` to a recovery file that opening the same scan again offers back.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from beep3d.classes import ClassSet
from beep3d.corrections import Corrections
from beep3d.defaults import DEFAULT_SHARE
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.io import SUPPORTED_EXTENSIONS
from beep3d.io.box_formats import BOX_FORMATS, BoxFormat

if TYPE_CHECKING:
    from beep3d.app.main_window import MainWindow

#: Seconds between autosaves of unsaved boxes to the recovery file.
AUTOSAVE_SECONDS = 5.0
SCENE_FILTER = f"Scans ({' '.join('*' + suffix for suffix in SUPPORTED_EXTENSIONS)});;All files (*)"
BOX_FILTER = "Box files (*.json *.npy);;All files (*)"
#: "Save boxes as" filters, one per box format (beep3d.io.box_formats), the project's first.
SAVE_BOX_FILTERS = {f"{fmt.title} (*{fmt.suffix})": fmt for fmt in BOX_FORMATS}


def recovery_dir() -> Path:
    """Folder of autosaved boxes: ``$XDG_CACHE_HOME/beep3d/recovery`` (default ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "beep3d" / "recovery"


def recovery_path(scene_path: str | Path) -> Path:
    """Recovery file of a scene: named by a hash of the scene's absolute path."""
    key = hashlib.sha1(str(Path(scene_path).resolve()).encode("utf-8")).hexdigest()[:16]
    return recovery_dir() / f"{key}.json"


def export_listing(folder: str | Path, written: list[Path]) -> str:
    """Every written file, relative to ``folder``, one a line; a folder of many files (the ScanNet
    masks) as one line with its count, so the summary stays short and still names every file."""
    folder = Path(folder)
    lines: list[str] = []
    groups: dict[str, list[str]] = {}
    for path in written:
        name = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
        parent = str(Path(name).parent)
        groups.setdefault(parent, []).append(name)
    for parent, names in groups.items():
        if len(names) > 6 and parent != ".":
            lines.append(f"{parent}/  ({len(names)} files: {Path(names[0]).name} … {Path(names[-1]).name})")
        else:
            lines.extend(names)
    return "\n".join(lines)


def default_boxes_path(scene_path: Path) -> Path:
    """``<scene>.boxes.json`` beside the scene, or a scene folder's own ``boxes.json`` (the CLI's rule)."""
    from beep3d.defaults import default_boxes_path as rule

    return rule(Path(scene_path))


class FilesController(QObject):
    """Opens, saves, autosaves, recovers and exports the window's annotation.

    Attributes
    ----------
    kept_points
        (N_file,) bool: which points of the scan file the scene holds (None: all), so exports keep one
        row per point of the file.
    boxes_format
        The box format Save writes: the one the boxes were loaded or last saved in (the project's
        JSON for new boxes).
    unreadable
        The scan the last :meth:`open_scene` could not open (its file or its boxes unreadable); None
        after one that opened or that the annotator cancelled at the unsaved-boxes question.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.kept_points: np.ndarray | None = None
        self.boxes_format: BoxFormat = BOX_FORMATS[0]
        self.unreadable: Path | None = None
        self._recovery_file: Path | None = None
        self._autosaved_revision = -1
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(int(AUTOSAVE_SECONDS * 1000))
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        window.undo_stack.cleanChanged.connect(self._on_clean_changed)

    @property
    def recovery_file(self) -> Path | None:
        """Where the unsaved boxes of the open scan are autosaved."""
        return self._recovery_file

    def stop_autosave(self) -> None:
        """Stop autosaving (the window closes)."""
        self._autosave_timer.stop()

    def open_scene(self, path: str | Path, boxes_path: str | Path | None = None) -> bool:
        """Open a scan (and its boxes: ``boxes_path``, else ``<scene>.boxes.json`` when present)."""
        from beep3d.io import load_scene_with_report

        self.unreadable = None
        if not self.maybe_save():
            return False
        path = Path(path).absolute()  # export.json, recovery and dialogs need it wherever the window runs
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            scene, report = load_scene_with_report(path)
            boxes, found_boxes, opened_format = BoxSet(), None, BOX_FORMATS[0]
            candidate = Path(boxes_path) if boxes_path is not None else default_boxes_path(path)
            if boxes_path is not None or candidate.exists():
                from beep3d.io.box_files import load_boxes
                from beep3d.io.box_formats import format_of_file

                boxes = load_boxes(candidate, self.window.doc.class_set, origin=scene.origin)
                found_boxes = candidate
                opened_format = format_of_file(candidate)
        except Beep3dError as exc:
            QGuiApplication.restoreOverrideCursor()
            self.unreadable = path
            self.window.error(str(exc))
            return False
        except Exception as exc:  # a file the readers did not foresee: say so instead of crashing
            QGuiApplication.restoreOverrideCursor()
            self.unreadable = path
            self.window.error(
                f"{path}: could not be read ({type(exc).__name__}: {exc}); check that it is a scan this tool reads."
            )
            return False
        finally:
            if QGuiApplication.overrideCursor() is not None:
                QGuiApplication.restoreOverrideCursor()
        self.window.undo_stack.clear()
        self.kept_points = (
            report.kept
        )  # the file's points the scene holds: exports keep one row per file point
        self.window.doc.set_scene(scene, path, boxes)
        correction_notes = []
        if found_boxes is not None:
            correction_notes = self._load_corrections(found_boxes)
            self._load_flags(found_boxes)
        self.boxes_format = opened_format
        self.window.doc.boxes_path = found_boxes if found_boxes is not None else default_boxes_path(path)
        self.window.undo_stack.setClean()
        self._recovery_file = recovery_path(path)
        self._autosaved_revision = -1
        self._offer_recovery()
        unknown = sorted({b.label for b in self.window.doc.boxes} - set(self.window.doc.class_set.names))
        note = f"; classes not in the class set: {', '.join(unknown)}" if unknown else ""
        note += "".join(f"; {text}" for text in (*report.notes, *correction_notes))
        self.window.status(
            f"Opened {path.name}: {scene.num_points:,} points, {len(self.window.doc.boxes)} boxes{note}",
            10000,
        )
        return True

    def _offer_recovery(self) -> None:
        from beep3d.io.box_files import load_boxes

        recovery = self._recovery_file
        if recovery is None or not recovery.exists() or not self.window.interactive:
            return
        from beep3d.io.box_files import load_box_flags, load_corrections

        try:
            origin = self.window.doc.scene.origin if self.window.doc.scene is not None else (0.0, 0.0, 0.0)
            recovered = load_boxes(recovery, origin=origin)
            corrections = load_corrections(recovery)
            flags = load_box_flags(recovery)
            if self.window.doc.scene is not None:
                corrections = corrections.for_scan(self.window.doc.scene.num_points, str(recovery))
        except Beep3dError as exc:
            self.window.status(f"Ignored an unreadable recovery file: {exc}")
            return
        doc = self.window.doc
        same_flags = flags.hidden == doc.hidden and flags.locked == doc.locked
        if recovered == doc.boxes and corrections == doc.corrections and same_flags:
            recovery.unlink(missing_ok=True)
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(recovery.stat().st_mtime))
        answer = self.window.ask(
            "Recover unsaved boxes?",
            f"Boxes of this scene that were not saved were recovered from {when} ({len(recovered)} boxes, "
            f"{len(corrections)} mask corrections; the box file has {len(self.window.doc.boxes)} boxes, "
            f"{len(self.window.doc.corrections)} corrections).\n\nRecover them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.window.doc.set_boxes(recovered, dirty=True)
            self.window.doc.set_corrections(corrections, dirty=True)
            self.window.doc.set_box_flags(flags.hidden, flags.locked)
            self.window.undo_stack.resetClean()
            self.window.status(f"Recovered {len(recovered)} boxes; save them with Ctrl+S.")
        else:
            recovery.unlink(missing_ok=True)

    def _load_corrections(self, path: str | Path) -> list[str]:
        """Put the mask corrections stored in box file ``path`` into the document (none: nothing to do).

        Corrections that do not fit the open scan (made on another scan) are reported and left out;
        the boxes stay. Returns notes for the status bar (corrections about boxes the file does not
        hold, left out).
        """
        from beep3d.io.box_files import load_corrections

        notes: list[str] = []
        try:
            corrections = load_corrections(path, notes)
            if corrections and self.window.doc.scene is not None:
                corrections = corrections.for_scan(self.window.doc.scene.num_points, str(path))
            if corrections:
                self.window.doc.set_corrections(corrections)
        except Beep3dError as exc:
            self.window.error(f"The boxes were loaded, but not their mask corrections: {exc}")
        return notes

    def _load_flags(self, path: str | Path) -> bool:
        """Hide and lock the boxes box file ``path`` marks so (other formats mark none)."""
        from beep3d.io.box_files import load_box_flags

        try:
            flags = load_box_flags(path)
        except Beep3dError as exc:
            self.window.error(f"The boxes were loaded, but not which are hidden or locked: {exc}")
            return False
        self.window.doc.set_box_flags(flags.hidden, flags.locked)
        return True

    def start_folder(self) -> str:
        """Where file dialogs start: the open scan's folder, else the working folder."""
        scene_path = self.window.doc.scene_path
        return str(scene_path.parent) if scene_path is not None else str(Path.cwd())

    def open_scene_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scene", self.start_folder(), SCENE_FILTER)
        if path:
            self.open_scene(path)

    def load_boxes(self, path: str | Path) -> bool:
        from beep3d.io.box_files import load_boxes

        if self.window.doc.scene is None:
            self.window.error("Open a scene before loading boxes (File > Open scene).")
            return False
        from beep3d.io.box_formats import format_of_file

        try:
            boxes = load_boxes(path, self.window.doc.class_set, origin=self.window.doc.scene.origin)
            box_format = format_of_file(path)
        except Beep3dError as exc:
            self.window.error(str(exc))
            return False
        except Exception as exc:  # unforeseen content: report it, keep the current boxes
            self.window.error(f"{path}: could not be read as boxes ({type(exc).__name__}: {exc}).")
            return False
        self.window.undo_stack.clear()
        self.window.doc.set_boxes(boxes)
        self.window.doc.set_corrections(Corrections())  # the new file's own corrections, or none
        notes = self._load_corrections(path)
        self._load_flags(path)  # and its own hidden and locked boxes, or none
        self.window.doc.boxes_path = Path(path)
        self.boxes_format = box_format  # Save writes the boxes back in the format they came in
        self.window.undo_stack.setClean()
        said = "".join(f"; {note}" for note in notes)
        self.window.status(f"Loaded {len(boxes)} boxes from {Path(path).name} ({box_format.title}){said}")
        return True

    def load_boxes_dialog(self) -> None:
        if not self.maybe_save():
            return
        boxes_path = self.window.doc.boxes_path
        start = str(boxes_path.parent) if boxes_path is not None else self.start_folder()
        path, _ = QFileDialog.getOpenFileName(self, "Load boxes", start, BOX_FILTER)
        if path:
            self.load_boxes(path)

    def save(self, path: str | Path | None = None, box_format: BoxFormat | None = None) -> bool:
        """Save the boxes (default: where they came from, else ``<scene>.boxes.json``), in
        ``box_format`` (default: the format they were loaded or last saved in, else the project's)."""
        from beep3d.io.box_formats import save_boxes_as

        if self.window.doc.scene is None:
            self.window.error("There is nothing to save: open a scene and draw boxes first.")
            return False
        target = (
            Path(path)
            if path
            else self.window.doc.boxes_path or default_boxes_path(self.window.doc.scene_path)
        )
        box_format = box_format or self.boxes_format
        try:
            notes = save_boxes_as(
                target,
                self.window.doc.boxes,
                box_format,
                scene_name=self.window.doc.scene.name,
                class_set=self.window.doc.class_set,
                corrections=self.window.doc.corrections,
                hidden=self.window.doc.hidden,
                locked=self.window.doc.locked,
                origin=self.window.doc.scene.origin,
            )
        except OSError as exc:
            self.window.error(
                f"{target}: could not save the boxes ({exc.strerror or exc}); choose another place with Save as."
            )
            return False
        except Beep3dError as exc:
            self.window.error(str(exc))
            return False
        self.window.doc.boxes_path = target
        self.boxes_format = box_format
        said = "".join(f"; {note}" for note in notes)
        if notes:
            said += f". What the file could not hold stays unsaved ({self._keep_unsaved()})"
        else:
            self.window.undo_stack.setClean()
            self.window.doc.dirty = False
            self._drop_recovery()
        self.window.status(
            f"Saved {len(self.window.doc.boxes)} boxes to {target} ({box_format.title}){said}", 10000
        )
        return True

    def _keep_unsaved(self) -> str:
        """After a save whose file could not hold everything the window has (corrections, flags, yaw):
        keep that part unsaved, so that the title keeps its "*", closing and the next scan ask, and the
        recovery file holds it at once (a close answered "Save" loses nothing); says where it is."""
        self.window.undo_stack.resetClean()  # no undo step is the saved state any more
        self.window.doc.dirty = True
        if self.autosave():
            return "kept in the recovery file"
        if self._recovery_file is not None and self._recovery_file.exists():
            return "kept in the recovery file"  # written already, with nothing changed since
        return "not kept in any file: save the boxes in the project's format (Save as)"

    def save_as_dialog(self) -> None:
        """Choose a file and a box format (one filter per format), and save the boxes there."""
        start = str(self.window.doc.boxes_path or "")
        chosen = next(name for name, fmt in SAVE_BOX_FILTERS.items() if fmt is self.boxes_format)
        path, selected = QFileDialog.getSaveFileName(
            self, "Save boxes as", start, ";;".join(SAVE_BOX_FILTERS), chosen
        )
        if not path:
            return
        box_format = SAVE_BOX_FILTERS.get(selected, self.boxes_format)
        if not path.lower().endswith(box_format.suffix):
            path += box_format.suffix
        self.save(path, box_format)

    def load_class_set(self, path: str | Path) -> bool:
        try:
            class_set = ClassSet.load(path)
            self.window.doc.set_class_set(class_set)
        except Beep3dError as exc:
            self.window.error(str(exc))
            return False
        self.window._rebuild_class_menu()
        self.window._fill_class_combo()
        self.window.box_editor.set_class_set(class_set)
        self.window.resolvers.select(self.window.resolvers.name, self.window.resolvers.checkpoint, quiet=True)
        self.window._show_boxes()
        return True

    def load_class_set_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load class set", self.start_folder(), "Class sets (*.json)"
        )
        if path:
            self.load_class_set(path)

    def maybe_save(self) -> bool:
        """Before replacing or closing: offer to save unsaved boxes. False when the annotator cancels."""
        if not self.window.doc.dirty:
            return True
        answer = self.window.ask(
            "Unsaved boxes",
            "The boxes have unsaved changes. Save them?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self._drop_recovery()
            return True
        return False

    def autosave(self) -> bool:
        """Write unsaved boxes to the recovery file (atomically); True when a file was written."""
        from beep3d.io.box_files import save_boxes

        if self._recovery_file is None or self.window.doc.scene is None:
            return False
        if not self.window.doc.dirty:
            return False
        if self._autosaved_revision == self.window.doc.revision and self._recovery_file.exists():
            return False  # nothing changed since (not the undo index: an undo and a new edit reach it again)
        try:
            save_boxes(
                self._recovery_file,
                self.window.doc.boxes,
                scene_name=self.window.doc.scene.name,
                corrections=self.window.doc.corrections,
                hidden=self.window.doc.hidden,
                locked=self.window.doc.locked,
                origin=self.window.doc.scene.origin,
            )
        except (OSError, Beep3dError) as exc:
            self.window.status(f"Autosave failed: {exc}")
            return False
        self._autosaved_revision = self.window.doc.revision
        return True

    def _on_clean_changed(self, clean: bool) -> None:
        # undone back to the saved boxes: an older autosave must not be offered on the next opening
        if clean:
            self._drop_recovery()

    def _drop_recovery(self) -> None:
        if self._recovery_file is not None:
            self._recovery_file.unlink(missing_ok=True)
        self._autosaved_revision = -1

    def current_resolution(self):
        """The resolution of the current boxes (waiting for or computing it when needed).

        The result shown is used only when it was computed from the same boxes, corrections and
        settings (resolver, membership rule, foreground stage): after a cancelled resolution it is
        older than the document. A result the teacher made from an edit (its untouched points keep
        earlier decisions: :mod:`beep3d.resolve.teacher_edits`) is resolved again in full, so an
        export equals the headless export of the same boxes; the window then shows that result.
        """
        from beep3d.resolve.pipeline import run_inputs

        window = self.window
        window.live.wait_idle()
        result, scene = window.result, window.doc.scene
        resolver, level = window.resolvers.resolver, window.resolvers.membership_level
        foreground = window.resolvers.foreground
        assert scene is not None and resolver is not None
        inputs = run_inputs(scene, resolver, level, DEFAULT_SHARE, foreground)
        if result is not None and result.computed_from(window.doc.boxes, window.doc.corrections, inputs):
            exact = getattr(resolver, "is_exact", None)
            if exact is None or result.resolved is None or exact(result.resolved):
                return result.resolution
        from beep3d.app.live import resolve_for_view

        full = resolve_for_view(
            scene,
            window.doc.boxes,
            resolver,
            level,
            window.live.generation,
            foreground,
            window.doc.corrections,
        )
        window.live.last_result = full  # the next edit starts from it
        window.live.resultReady.emit(full)  # and the window shows it
        return full.resolution

    def export_to(self, out_dir: str | Path) -> list[Path]:
        """Write every export format into ``out_dir``; returns every file in it (empty on an error)."""
        from beep3d.io.export import export_all

        if self.window.doc.scene is None:
            self.window.error("Open a scene and draw boxes before exporting.")
            return []
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            resolution = self.current_resolution()
            written = export_all(
                self.window.doc.scene,
                self.window.doc.boxes,
                resolution,
                out_dir,
                self.window.doc.class_set,
                info={
                    "resolver": self.window.resolvers.name,
                    "membership": self.window.resolvers.membership_level,
                    "checkpoint": str(getattr(self.window.resolvers.resolver, "checkpoint", "")) or None,
                    "tool": "beep3d-annotate",
                },
                kept=self.kept_points,
                corrections=self.window.doc.corrections,
                hidden=self.window.doc.hidden,
                locked=self.window.doc.locked,
            )
        except Beep3dError as exc:
            self.window.error(str(exc))
            return []
        except OSError as exc:
            self.window.error(
                f"{out_dir}: could not write the export ({exc.strerror or exc}); choose another folder."
            )
            return []
        finally:
            QGuiApplication.restoreOverrideCursor()
        # the export replaced the folder as a whole: what is in it now is the export, nested files too
        written = sorted(p for p in Path(out_dir).rglob("*") if p.is_file()) or list(written)
        self.window.status(f"Exported {len(written)} files to {out_dir}", 10000)
        return written

    def export_dialog(self) -> None:
        if self.window.doc.scene is None:
            self.window.error("Open a scene and draw boxes before exporting.")
            return
        base = self.window.doc.scene_path.parent if self.window.doc.scene_path else Path.cwd()
        folder = QFileDialog.getExistingDirectory(self, "Export masks into folder", str(base))
        if not folder:
            return
        written = self.export_to(folder)
        if written and self.window.interactive:
            box = QMessageBox(self.window)
            box.setIcon(QMessageBox.Icon.Information)
            box.setWindowTitle("Export done")
            box.setText(f"Wrote {len(written)} files to {folder}:\n\n{export_listing(folder, written)}")
            box.setDetailedText("\n".join(str(p) for p in written))
            box.exec()
