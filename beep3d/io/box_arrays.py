"""Detection code's axis-aligned boxes as a float ``.npy`` array (see :mod:`beep3d.io.box_formats`):
votenet's ``*_bbox.npy`` and mmdetection3d's ``*_aligned_bbox.npy``, (K, 7) rows
``cx cy cz dx dy dz class_id`` (metres; class ids in the class set's ids), or (K, 8) with a yaw
before the class (read only). Boxes are numbered in row order.
"""

from __future__ import annotations

import io
import math
import tokenize
import warnings
from pathlib import Path

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet
from beep3d.io.atomic import write_bytes_atomic
from beep3d.io.box_files import make_box
from beep3d.io.local_origin import refuse_lost_precision

__all__ = ["BoxArrays"]


def _load_box_array(path: Path) -> np.ndarray:
    """The checked (K, 7) or (K, 8) numeric array of a ``.npy`` box file (never unpickled).

    Raises
    ------
    Beep3dError
        The file is missing, not a numpy array, of another shape, holds NaN or infinite values, or
        is 32-bit floats too far from the origin to keep millimetres.
    """
    try:
        with warnings.catch_warnings():  # numpy's notes on old headers are not the user's concern
            warnings.simplefilter("ignore")
            array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise Beep3dError(f"{path}: box file not found; check the path") from None
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError, MemoryError) as exc:
        # numpy parses the header's dict as Python literals: a damaged header gives SyntaxError
        raise Beep3dError(
            f"{path}: not a numpy box array ({exc}); save the boxes with numpy.save as float (K, 7) rows "
            "cx cy cz dx dy dz class_id"
        ) from None
    if array.dtype.kind not in "fiu" or array.ndim != 2 or array.shape[1] not in (7, 8):
        raise Beep3dError(
            f"{path}: expected a numeric (K, 7) array of cx cy cz dx dy dz class_id (or (K, 8) with a yaw "
            f"before the class), got {array.dtype} {array.shape}"
        )
    if not np.isfinite(array).all():
        raise Beep3dError(f"{path}: the box array holds NaN or infinite values")
    if array.dtype.kind == "f" and array.dtype.itemsize <= 4 and len(array):
        refuse_lost_precision(float(np.abs(array[:, :3]).max()), path, "the boxes")
    return array


class BoxArrays:
    """Detection code's axis-aligned boxes as a float ``.npy`` array (see the module docstring)."""

    name = "box-arrays"
    title = "Box arrays (votenet / mmdetection3d)"
    suffix = ".npy"

    def read(self, path: Path, class_set: ClassSet | None = None) -> BoxSet:
        """Read a box array; a class id the class set lacks becomes the label ``class_<id>``."""
        class_set = class_set or SCANNET18
        path = Path(path)
        array = _load_box_array(path)
        boxes = []
        for position, row in enumerate(array.astype(np.float64)):
            where = f"{path}: box row {position}"
            class_id = row[-1]
            if class_id != round(class_id):
                raise Beep3dError(f"{where}: the class id {class_id:g} is not a whole number")
            label = class_set.name_of_id(int(class_id)) or f"class_{int(class_id)}"
            if np.any(row[3:6] < 0):
                raise Beep3dError(f"{where}: size {row[3:6].tolist()} has a negative extent")
            yaw = float(row[6]) if array.shape[1] == 8 else 0.0
            boxes.append(make_box(where, position, label, tuple(row[:3]), tuple(row[3:6]), yaw))
        return BoxSet(boxes)

    def write(
        self, path: Path, boxes: BoxSet, scene_name: str | None = None, class_set: ClassSet | None = None
    ) -> list[str]:
        """Write (K, 7) float64 rows atomically; notes say which boxes lost their yaw or class."""
        class_set = class_set or SCANNET18
        notes = []
        rows = np.zeros((len(boxes), 7), dtype=np.float64)
        turned, unknown = [], set()
        for k, box in enumerate(boxes):
            if abs(math.sin(2 * box.yaw)) > 1e-6:
                turned.append(box.id)
                corners = box.corners()
                lo, hi = corners.min(axis=0), corners.max(axis=0)
                rows[k, :3], rows[k, 3:6] = (lo + hi) / 2, hi - lo
            else:  # a quarter turn swaps length and width
                sx, sy, sz = box.size
                rows[k, :3] = box.center
                rows[k, 3:6] = (sy, sx, sz) if abs(math.sin(box.yaw)) > 0.5 else (sx, sy, sz)
            class_id = class_set.id_of(box.label)
            if class_id < 0:
                unknown.add(box.label)
            rows[k, 6] = class_id
        if turned:
            notes.append(
                f"{len(turned)} turned boxes (ids {', '.join(map(str, turned[:10]))}) were written as the "
                "axis-aligned boxes around them: box arrays hold no yaw"
            )
        if unknown:
            notes.append(
                f"classes not in the class set were written with class id -1: {', '.join(sorted(unknown))}"
            )
        buffer = io.BytesIO()
        np.save(buffer, rows, allow_pickle=False)
        write_bytes_atomic(path, buffer.getvalue())
        return notes
