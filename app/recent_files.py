"""Recent scans, and the next / previous scan in the open scan's folder (no Qt).

The recent list is a small JSON file, ``$XDG_CONFIG_HOME/beep3d/recent.json`` (default
``~/.config``), written atomically; a missing or unreadable list is an empty one. Scans of a folder
are the files the Open dialog's scan filter shows, in natural order (``room2`` before ``room10``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from beep3d.io.atomic import write_json_atomic

#: How many scans the recent list keeps.
MAX_RECENT = 10


def recent_file() -> Path:
    """Where the recent list is kept."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "beep3d" / "recent.json"


class RecentFiles:
    """The most recently opened scans, newest first.

    Parameters
    ----------
    path
        The JSON file (default :func:`recent_file`).
    limit
        How many scans to keep.
    """

    def __init__(self, path: str | Path | None = None, limit: int = MAX_RECENT) -> None:
        self.path = Path(path) if path is not None else recent_file()
        self.limit = limit

    def paths(self) -> list[Path]:
        """The recent scans that still exist, newest first."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = [Path(p) for p in data.get("scans", []) if isinstance(p, str)]
        except (OSError, ValueError, AttributeError):
            return []
        return [p for p in entries if p.exists()][: self.limit]

    def add(self, scan: str | Path) -> list[Path]:
        """Put ``scan`` first (absolute); returns the new list. A list that cannot be written is left."""
        scan = Path(scan).absolute()
        entries = [scan] + [p for p in self.paths() if p != scan]
        try:
            write_json_atomic(self.path, {"scans": [str(p) for p in entries[: self.limit]]})
        except OSError:
            pass  # a read-only home: the window works without a recent list
        return entries[: self.limit]


def scan_patterns(file_filter: str) -> list[str]:
    """The ``*.ext`` patterns of a dialog filter's first entry ("Scans (*.ply *.npz);;All (*)")."""
    first = file_filter.split(";;")[0]
    return [p.lower() for p in re.findall(r"\*\.[\w.]+", first)]


def _natural_key(path: Path) -> tuple[list[object], str]:
    # by stem first, so "room.ply" comes before "room2.ply"; text and numbers alternate in the split
    parts = [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.stem)]
    return parts, path.suffix.lower()


#: Names of box files that share a scan suffix (votenet's ``*_bbox.npy`` box arrays).
BOX_FILE_ENDINGS = ("_bbox.npy",)


def scans_in_folder(folder: str | Path, patterns: list[str]) -> list[Path]:
    """Files in ``folder`` matching ``patterns`` (``*.ply`` ...), in natural order.

    Box files and per-point arrays that share a scan suffix are left out: ``*_bbox.npy`` box
    arrays, and ``.npy`` files that are not (N, >=3) point rows (an export's ``instance_ids.npy``).
    """
    suffixes = tuple(p[1:] for p in patterns)
    try:
        files = [p for p in Path(folder).iterdir() if p.is_file() and p.name.lower().endswith(suffixes)]
    except OSError:
        return []
    return sorted((p for p in files if _may_be_scan(p)), key=_natural_key)


def _may_be_scan(path: Path) -> bool:
    """False for box files and ``.npy`` arrays whose header shows they hold no point rows."""
    name = path.name.lower()
    if name.endswith(BOX_FILE_ENDINGS):
        return False
    if not name.endswith(".npy"):
        return True
    try:
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape  # the header only
    except Exception:  # noqa: BLE001 (not readable as numpy: opening it says what is wrong)
        return True
    return len(shape) == 2 and shape[1] >= 3


def neighbour_scan(scan: str | Path, step: int, patterns: list[str]) -> Path | None:
    """The scan ``step`` places after ``scan`` in its folder (negative: before); None past either end."""
    scan = Path(scan).absolute()
    scans = [p.absolute() for p in scans_in_folder(scan.parent, patterns)]
    if scan not in scans:
        scans = sorted([*scans, scan], key=_natural_key)
    position = scans.index(scan) + step
    return scans[position] if 0 <= position < len(scans) else None
