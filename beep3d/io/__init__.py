"""Reading and writing scenes.

:func:`load_scene` reads, by what the path is:

- ``.ply`` - a point cloud or a mesh (binary or ASCII; see :mod:`beep3d.io.ply`),
- ``.npy`` / ``.npz`` / ``.bin`` - plain arrays (see :mod:`beep3d.io.arrays`),
- ``.pcd`` - PCL point clouds, ascii / binary / binary_compressed (see :mod:`beep3d.io.pcd`),
- ``.xyz`` / ``.xyzrgb`` / ``.xyzn`` / ``.pts`` - text clouds (see :mod:`beep3d.io.text_clouds`),
- ``.las`` / ``.laz`` - laser scans (see :mod:`beep3d.io.las`),
- ``.e57`` - terrestrial scans, several merged with their poses (see :mod:`beep3d.io.e57`),
- ``.obj`` / ``.off`` / ``.glb`` / ``.gltf`` - meshes (see :mod:`beep3d.io.meshes`),
- a folder holding ``scene.npz`` - the project's own scene folder (see :mod:`beep3d.io.scene_folder`),
- a folder holding ``*_vh_clean_2.ply`` - a ScanNet v2 scene (see :mod:`beep3d.io.scannet`),
- a folder holding ``Annotations/*.txt`` or ``<room>.txt`` - an S3DIS room (see :mod:`beep3d.io.s3dis`).

Colours are converted to uint8 from whatever scale the file uses; a scan without colours is mid grey
(128). Points with NaN or infinite coordinates are dropped (``nan_policy="drop"``, counted in the
:class:`LoadReport` of :func:`load_scene_with_report`) or refused (``nan_policy="refuse"``).
Every problem with the input raises :class:`beep3d.errors.Beep3dError` naming the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.arrays import read_bin_scene, read_npy_scene, read_npz_scene
from beep3d.io.colours import MISSING_COLOUR_GREY, normalise_colours
from beep3d.io.e57 import read_e57_scene
from beep3d.io.las import LAS_SUFFIXES, read_las_scene
from beep3d.io.meshes import MESH_SUFFIXES, read_mesh_scene
from beep3d.io.pcd import read_pcd_scene
from beep3d.io.ply import read_ply_scene, write_ply
from beep3d.io.report import LoadReport, NanPolicy
from beep3d.io.s3dis import annotation_files, read_s3dis_room
from beep3d.io.scannet import find_scannet_mesh, read_scannet_folder
from beep3d.io.scene_folder import BOXES_FILE, SCENE_FILE, read_scene_folder, save_scene_folder
from beep3d.io.text_clouds import TEXT_CLOUD_SUFFIXES, read_text_cloud
from beep3d.scene import Scene

__all__ = [
    "BOXES_FILE",
    "MISSING_COLOUR_GREY",
    "SCENE_FILE",
    "SUPPORTED_EXTENSIONS",
    "LoadReport",
    "load_scene",
    "load_scene_with_report",
    "normalise_colours",
    "save_scene_folder",
    "write_ply",
]

#: Scene file suffixes and their readers (each ``reader(path, report, nan_policy) -> Scene``).
_READERS = {
    ".ply": read_ply_scene,
    ".npy": read_npy_scene,
    ".npz": read_npz_scene,
    ".bin": read_bin_scene,
    ".pcd": read_pcd_scene,
    **dict.fromkeys(TEXT_CLOUD_SUFFIXES, read_text_cloud),
    **dict.fromkeys(LAS_SUFFIXES, read_las_scene),
    ".e57": read_e57_scene,
    **dict.fromkeys(MESH_SUFFIXES, read_mesh_scene),
}
SUPPORTED_EXTENSIONS = tuple(_READERS)


def load_scene_with_report(
    path: str | os.PathLike[str], *, nan_policy: NanPolicy = "drop"
) -> tuple[Scene, LoadReport]:
    """Read a scene and say what was noticed on the way.

    Parameters
    ----------
    path
        A scan file (any of :data:`SUPPORTED_EXTENSIONS`) or a scene folder (project, ScanNet, S3DIS).
    nan_policy
        ``"drop"`` drops points with NaN or infinite coordinates; ``"refuse"`` raises instead.

    Returns
    -------
    scene
        The scene (xyz float32 (N, 3) metres, rgb uint8 (N, 3), and whatever else the source has).
    report
        :class:`LoadReport`: dropped point count, the colour scale found, notes.

    Raises
    ------
    Beep3dError
        The path is missing, of an unknown kind, or the file is malformed; the message names the
        file, the problem and what to do.
    """
    if nan_policy not in ("drop", "refuse"):
        raise ValueError(f"nan_policy must be 'drop' or 'refuse', got {nan_policy!r}")
    path = Path(path)
    report = LoadReport()
    if not path.exists():
        if path.is_symlink():
            raise Beep3dError(
                f"{path}: a symbolic link that leads nowhere (a loop, or its target is missing); "
                "open the scan itself"
            )
        raise Beep3dError(f"{path}: no such file or folder; check the path")
    # library warnings (numpy on empty text files, casts, plyfile) never reach the user: what
    # matters is in the report or in the error
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _load(path, report, nan_policy)


def _load(path: Path, report: LoadReport, nan_policy: NanPolicy) -> tuple[Scene, LoadReport]:
    if path.is_dir():
        return _load_folder(path, report, nan_policy), report
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise Beep3dError(
            f"{path}: unknown scene file type {path.suffix or '(no extension)'!r}; "
            f"use a {', '.join(SUPPORTED_EXTENSIONS)} file or a ScanNet, S3DIS or scene folder"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Beep3dError(f"{path}: cannot read the file ({exc})") from None
    if size == 0:
        raise Beep3dError(
            f"{path}: the file is empty (0 bytes); it was not saved completely - export it again"
        )
    try:
        scene = _READERS[suffix](path, report, nan_policy)
    except PermissionError:
        raise Beep3dError(f"{path}: permission denied; make the file readable") from None
    return scene, report


def load_scene(path: str | os.PathLike[str], *, nan_policy: NanPolicy = "drop") -> Scene:
    """Read a scene; see :func:`load_scene_with_report` for the arguments and errors."""
    return load_scene_with_report(path, nan_policy=nan_policy)[0]


def _load_folder(folder: Path, report: LoadReport, nan_policy: NanPolicy) -> Scene:
    if (folder / SCENE_FILE).is_file():
        return read_scene_folder(folder, report, nan_policy)
    if find_scannet_mesh(folder) is not None:
        return read_scannet_folder(folder, report, nan_policy)
    if annotation_files(folder) or (folder / f"{folder.name}.txt").is_file():
        return read_s3dis_room(folder, report, nan_policy)
    raise Beep3dError(
        f"{folder}: this folder is no known scene layout; expected {SCENE_FILE} (a saved scene), "
        "<scene>_vh_clean_2.ply (ScanNet) or Annotations/<class>_<n>.txt (S3DIS room), "
        "or open a scan file directly (.ply, .pcd, .las, .e57, .obj, ...)"
    )
