"""The project's own scene folder: ``scene.npz`` (+ ``boxes.json``, written by beep3d.io.box_files).

``scene.npz`` keys: ``xyz`` float32 (N, 3), ``rgb`` uint8 (N, 3), optional ``normals``, ``faces``,
``superpoints``, ``semantic``, ``instance``, ``label_space`` and ``name`` (0-d strings),
``extra__<name>`` for each extra per-point property, and ``origin`` float64 (3,) for a georeferenced
scan (``xyz`` are relative to it; ``boxes.json`` holds the file's own coordinates, as every box file).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from beep3d.io.arrays import read_npz_scene
from beep3d.io.atomic import atomic_path
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.scene import Scene

if TYPE_CHECKING:
    from beep3d.geometry.boxes import BoxSet

SCENE_FILE = "scene.npz"
BOXES_FILE = "boxes.json"


def save_scene_folder(scene: Scene, folder: str | os.PathLike[str], boxes: BoxSet | None = None) -> Path:
    """Write ``scene.npz`` (and ``boxes.json`` when ``boxes`` is given) into ``folder``, atomically.

    Parameters
    ----------
    scene
        The scene to store; every array is kept, including ``extra`` properties.
    folder
        Target folder, created if missing.
    boxes
        Boxes to store beside the scene through :func:`beep3d.io.box_files.save_boxes`, or None.

    Returns
    -------
    Path
        The folder.
    """
    folder = Path(folder)
    arrays: dict[str, np.ndarray] = {"xyz": scene.xyz, "rgb": scene.rgb, "name": np.array(scene.name)}
    for key in ("normals", "faces", "superpoints", "semantic", "instance"):
        value = getattr(scene, key)
        if value is not None:
            arrays[key] = value
    if scene.label_space is not None:
        arrays["label_space"] = np.array(scene.label_space)
    if scene.shifted:
        arrays["origin"] = np.asarray(scene.origin, dtype=np.float64)
    for key, value in scene.extra.items():
        arrays[f"extra__{key}"] = np.asarray(value)
    with atomic_path(folder / SCENE_FILE) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    if boxes is not None:
        from beep3d.io.box_files import save_boxes

        save_boxes(folder / BOXES_FILE, boxes, scene_name=scene.name, origin=scene.origin)
    return folder


def read_scene_folder(folder: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read the ``scene.npz`` of a project scene folder (boxes are read by beep3d.io.box_files)."""
    scene = read_npz_scene(folder / SCENE_FILE, report, nan_policy, name=folder.name)
    return dataclasses.replace(scene, source=folder)
