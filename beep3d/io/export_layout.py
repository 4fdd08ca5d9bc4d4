"""The layout of an export folder: the names :func:`beep3d.io.export.export_all` writes, and what
each file holds (export.json's ``file_notes``; for the box arrays also their columns and class ids).

Also what tells an earlier export's own files from what else is in its folder (a training run, notes),
which an export never replaces (:func:`beep3d.io.staged_folder.foreign_entries`).
"""

from __future__ import annotations

from typing import Any

from beep3d.classes import ClassSet
from beep3d.geometry.boxes import BoxSet
from beep3d.io.staged_folder import MARKER_FILE

__all__ = [
    "FILE_CONTENT",
    "TOP_LEVEL_FILES",
    "TRAINING_FILES",
    "box_arrays_layout",
    "file_notes",
    "is_export_cache",
    "is_export_file",
]

#: The files :func:`export_all` writes at the top of its folder, besides ``<scene>_labelled.*``.
TOP_LEVEL_FILES = frozenset(
    {"instance_ids.npy", "semantic_ids.npy", "confidence.npy", "decided_by.npy", "boxes.json", MARKER_FILE}
)
#: The files of a training scene folder (``training/<scene>/``).
TRAINING_FILES = frozenset({"scene.npz", "boxes.json", "point_labels.npy"})
#: What ``beep3d-train`` caches in a training scene folder it trains on (a scene without superpoints
#: gets them computed once): derived from the export's files, so a new export may replace it.
TRAINING_CACHE_FILES = frozenset({"superpoints.npy"})


def is_export_file(relative: str) -> bool:
    """Whether a path inside an export folder has a name :func:`export_all` writes.

    Used only for an earlier export whose export.json lists no files (unreadable, or written before
    the list was kept): what else is in its folder is not replaced (see
    :func:`beep3d.io.staged_folder.foreign_entries`).

    Parameters
    ----------
    relative
        The path relative to the export folder, ``/``-separated.
    """
    parts = relative.split("/")
    if len(parts) == 1:
        return relative in TOP_LEVEL_FILES or relative.endswith(
            ("_labelled.ply", "_labelled.pcd", "_labelled.las")
        )
    top = parts[0]
    if top == "boxes":
        return len(parts) == 3
    if top == "scannet":
        return relative.endswith(".txt") and (
            len(parts) == 2 or (len(parts) == 3 and parts[1] == "pred_mask")
        )
    if top == "training":
        return len(parts) == 3 and parts[2] in TRAINING_FILES
    return False


#: What export.json says each file holds; ``{scene}`` is the scene's name. Files under a folder key
#: (ending in ``/``) share its entry.
FILE_CONTENT: dict[str, str] = {
    "instance_ids.npy": "(N,) int32, one row per point of the scan file in file order: the box id, -1 background "
    "(also for points dropped on loading)",
    "semantic_ids.npy": "(N,) int32: the class id of that box in the class set (NYU40 for the ScanNet classes), "
    "-1 none",
    "confidence.npy": "(N,) float32 in [0, 1]: how sure the resolver is of each point's box",
    "decided_by.npy": "(N,) int8: what decided each point, an index into decided_by_codes",
    "boxes.json": "the boxes that were resolved (BEEP3D box file, version 2) with the hand corrections the "
    "masks were made with and the boxes' hidden / locked flags",
    "{scene}_labelled.ply": "binary PLY of the loaded points coloured by instance; properties instance, semantic, "
    "confidence, decided_by, orig_red / orig_green / orig_blue",
    "{scene}_labelled.pcd": "binary PCD of the loaded points: packed rgb by instance, fields instance, semantic, "
    "confidence, decided_by, orig_red / orig_green / orig_blue",
    "{scene}_labelled.las": "LAS 1.4 (point format 7) of the loaded points: rgb by instance, classification = "
    "semantic id (0 none), extra-bytes dimensions instance, semantic, confidence, decided_by",
    "boxes/": "the boxes in another tool's box format (see format)",
    "scannet/{scene}.txt": "ScanNet benchmark predictions: one line 'pred_mask/<scene>_<k>.txt <class id> "
    "<confidence>' per instance",
    "scannet/pred_mask/": "ScanNet benchmark mask of one instance: one 0/1 line per point of the scan file",
    "scannet/{scene}_instance_gt.txt": "ScanNet GT-style ids, one line per point of the scan file: class id * 1000 "
    "+ k (k = 1.. per box, in box order), 0 background",
    "training/{scene}/scene.npz": "training scene for beep3d-train: the loaded points, colours, normals, faces, "
    "superpoints, no ground truth",
    "training/{scene}/boxes.json": "the boxes of the training scene (BEEP3D box file)",
    "training/{scene}/point_labels.npy": "(N_loaded,) int64 training labels fixed by corrections and the "
    "foreground stage: box id, -1 background, -2 left to the boxes and the teacher",
    MARKER_FILE: "this summary",
}


def file_notes(
    scene_name: str, files: list[str], described: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """export.json's ``file_notes``: for each file (relative, ``/``-separated) what it holds.

    Parameters
    ----------
    scene_name
        The scene's name (file names start with it).
    files
        The files written, relative to the export folder.
    described
        What the exporters said of some files (format, notes), merged into their entries.

    Returns
    -------
    dict
        relative path -> ``{"content": ..., **described}``; ScanNet mask files share one entry, under
        ``scannet/pred_mask/``. A file no entry knows gets ``content`` None.
    """
    described = described or {}
    patterns = {key.replace("{scene}", scene_name): text for key, text in FILE_CONTENT.items()}
    notes: dict[str, dict[str, Any]] = {}
    for name in [*files, MARKER_FILE]:
        folder = next((key for key in patterns if key.endswith("/") and name.startswith(key)), None)
        if folder == "scannet/pred_mask/":
            notes[folder] = {"content": patterns[folder]}
            continue
        content = patterns.get(name, patterns.get(folder) if folder else None)
        notes[name] = {"content": content, **described.get(name, {})}
    return notes


def box_arrays_layout(boxes: BoxSet, class_set: ClassSet) -> dict[str, Any]:
    """How the exported box array is laid out, for export.json: shape, column order, units, class ids.

    Returns
    -------
    dict
        ``dtype``, ``shape`` [K, 7], ``columns``, ``units``, ``frame``, ``class_ids`` (the class set's
        name -> id, and what -1 means) and ``rows`` (box id per row, in the file's order).
    """
    return {
        "dtype": "float64",
        "shape": [len(boxes), 7],
        "columns": ["cx", "cy", "cz", "dx", "dy", "dz", "class_id"],
        "units": "cx cy cz: box centre, metres; dx dy dz: full extents along the scene's x y z, metres; "
        "class_id: the class set's id of the box's label (class_ids), stored as a float",
        "frame": "the scan's coordinates, axis-aligned (no yaw column: a turned box is written as the "
        "axis-aligned box around it, see notes); the layout of votenet's *_bbox.npy and "
        "mmdetection3d's *_aligned_bbox.npy",
        "class_set": class_set.label_space,
        "class_ids": {
            name: int(class_id) for name, class_id in zip(class_set.names, class_set.ids, strict=True)
        },
        "class_id_minus_1": "a label not in the class set",
        "rows": [int(box_id) for box_id in boxes.ids],
    }


def is_export_cache(relative: str) -> bool:
    """Whether a path inside an export folder is a cache another tool derived from the export's
    files (:data:`TRAINING_CACHE_FILES` in ``training/<scene>/``): exporting into the folder again
    replaces it (it could be stale for the new scene) instead of refusing the folder.

    Parameters
    ----------
    relative
        The path relative to the export folder, ``/``-separated.
    """
    parts = relative.split("/")
    return len(parts) == 3 and parts[0] == "training" and parts[2] in TRAINING_CACHE_FILES
