"""S3DIS room folders: ``Annotations/<class>_<n>.txt``, one object per file, rows of ``x y z r g b``.

Each file becomes one instance (ids 0..K-1 in natural file order: chair_2 before chair_10); its
semantic label is the S3DIS13 index of ``<class>`` (label space "s3dis"; classes outside the 13,
such as "stairs", count as "clutter"). A room without an Annotations folder but with
``<room>.txt`` beside it is read as an unlabelled point cloud.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from beep3d.classes import S3DIS13
from beep3d.errors import Beep3dError
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

_ANNOTATION_NAME = re.compile(r"^(?P<cls>.+?)_(?P<n>\d+)$")


def annotation_files(room: Path) -> list[Path]:
    """The ``Annotations/*.txt`` object files of a room, in natural order (empty if none)."""
    folder = room / "Annotations"
    if not folder.is_dir():
        return []

    def order(path: Path) -> tuple[str, int, str]:
        match = _ANNOTATION_NAME.match(path.stem)
        return (match["cls"], int(match["n"]), path.name) if match else (path.stem, -1, path.name)

    return sorted((p for p in folder.glob("*.txt") if p.is_file()), key=order)


def read_xyzrgb_text(path: Path) -> np.ndarray:
    """Read rows of ``x y z r g b`` (extra columns ignored) as a (N, 6) float64 array."""
    try:
        rows = np.loadtxt(path, dtype=np.float64, ndmin=2, usecols=range(6))
    except ValueError:
        line_number, text = _first_bad_line(path)
        raise Beep3dError(
            f"{path}: line {line_number} is not 'x y z r g b' (it reads {text!r}); fix or remove that line"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Beep3dError(f"{path}: the file could not be read ({exc})") from None
    return rows


def _first_bad_line(path: Path) -> tuple[int, str]:
    """1-based number and text of the first line that is not six numbers (only called on errors)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                if len(fields) >= 6:
                    [float(value) for value in fields[:6]]
                    continue
            except ValueError:
                pass
            return line_number, line.rstrip("\r\n")[:80]
    return 0, ""


def s3dis_class_index(name: str) -> int:
    """S3DIS13 index of a class name; unknown names count as "clutter"."""
    name = name.strip().lower()
    return S3DIS13.names.index(name) if name in S3DIS13.names else S3DIS13.names.index("clutter")


def read_s3dis_room(room: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read an S3DIS room folder (see the module docstring)."""
    files = annotation_files(room)
    if not files:
        room_file = room / f"{room.name}.txt"
        report.notes.append(f"no Annotations folder: read {room_file.name} without labels")
        rows = read_xyzrgb_text(room_file)
        return assemble_scene(room_file, report, nan_policy, rows[:, :3], rows[:, 3:6], name=room.name)
    blocks, instance_ids, semantic_ids = [], [], []
    unknown: set[str] = set()
    for instance_id, path in enumerate(files):
        rows = read_xyzrgb_text(path)
        match = _ANNOTATION_NAME.match(path.stem)
        class_name = match["cls"] if match else path.stem
        if class_name.lower() not in S3DIS13.names:
            unknown.add(class_name)
        blocks.append(rows)
        instance_ids.append(np.full(len(rows), instance_id, dtype=np.int64))
        semantic_ids.append(np.full(len(rows), s3dis_class_index(class_name), dtype=np.int64))
    if unknown:
        report.notes.append(f"classes outside S3DIS's 13 counted as clutter: {', '.join(sorted(unknown))}")
    rows = np.concatenate(blocks)
    if len(rows) == 0:
        raise Beep3dError(f"{room / 'Annotations'}: every annotation file is empty; the room has no points")
    scene = assemble_scene(
        room,
        report,
        nan_policy,
        rows[:, :3],
        rows[:, 3:6],
        semantic=np.concatenate(semantic_ids),
        instance=np.concatenate(instance_ids),
        label_space="s3dis",
        name=room.name,
    )
    return scene
