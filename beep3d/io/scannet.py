"""ScanNet v2 scene folders: ``<scene>_vh_clean_2.ply`` (mesh), ``<scene>_vh_clean_2.0.010000.segs.json``
(superpoints) and ``<scene>.aggregation.json`` (objects as lists of superpoints, with raw labels).

Semantic labels are NYU40 ids, found through ScanNet's ``scannetv2-labels.combined.tsv``
(columns ``raw_category`` and ``nyu40id``), or its older release ``scannet-labels.combined.tsv``
(the raw label in column ``category``), searched in this order: the file named by the environment
variable ``BEEP3D_SCANNET_LABEL_MAP``, the scene folder, its parent folder (in each, the current
name first). Without one, raw labels
are matched by text against the 18 ScanNet benchmark class names plus wall and floor; other labels
get semantic -1 and the load report says so in a note (no warning is emitted).
Instance ids are the aggregation's ``objectId``; points in no object get instance -1, semantic -1.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.errors import Beep3dError
from beep3d.io.ply import read_ply_scene
from beep3d.io.report import LoadReport, NanPolicy, apply_nan_policy
from beep3d.scene import Scene

LABEL_MAP_NAME = "scannetv2-labels.combined.tsv"
#: Every name ScanNet's label table has shipped under, the current one first.
LABEL_MAP_NAMES = (LABEL_MAP_NAME, "scannet-labels.combined.tsv")
#: The columns that hold the raw label, by table release (current first).
RAW_LABEL_COLUMNS = ("raw_category", "category")
LABEL_MAP_ENV = "BEEP3D_SCANNET_LABEL_MAP"
MESH_SUFFIX = "_vh_clean_2.ply"


def find_scannet_mesh(folder: Path) -> Path | None:
    """The ``<scene>_vh_clean_2.ply`` file of a ScanNet scene folder, or None."""
    preferred = folder / f"{folder.name}{MESH_SUFFIX}"
    if preferred.is_file():
        return preferred
    candidates = sorted(folder.glob(f"*{MESH_SUFFIX}"))
    return candidates[0] if candidates else None


def find_label_map(folder: Path) -> Path | None:
    """Where ScanNet's raw-category -> NYU40 table is (env var, folder, parent), or None."""
    from_env = os.environ.get(LABEL_MAP_ENV)
    if from_env:
        if not Path(from_env).is_file():
            raise Beep3dError(
                f"{from_env}: the file named by {LABEL_MAP_ENV} does not exist; "
                f"point it at ScanNet's {LABEL_MAP_NAME} or unset it"
            )
        return Path(from_env)
    for place in (folder, folder.parent):
        for name in LABEL_MAP_NAMES:
            if (place / name).is_file():
                return place / name
    return None


def read_label_map(path: Path) -> dict[str, int]:
    """Read ``raw label -> nyu40id`` from ScanNet's tab-separated label table.

    The raw label is the column ``raw_category`` (``scannetv2-labels.combined.tsv``) or, in the older
    ``scannet-labels.combined.tsv``, ``category``.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise Beep3dError(f"{path}: the ScanNet label map could not be read ({exc})") from None
    raw_column = next((c for c in RAW_LABEL_COLUMNS if rows and c in rows[0]), None)
    if raw_column is None or "nyu40id" not in rows[0]:
        raise Beep3dError(
            f"{path}: the ScanNet label map needs the tab-separated columns raw_category (or category, in "
            f"older releases) and nyu40id; use ScanNet's {LABEL_MAP_NAME}"
        )
    mapping: dict[str, int] = {}
    for line_number, row in enumerate(rows, start=2):
        if isinstance(row.get("nyu40id"), str) and not row["nyu40id"].strip():
            continue  # a raw label without an NYU40 class (the older table has some): semantic -1
        try:
            mapping[row[raw_column].strip()] = int(row["nyu40id"])
        except (TypeError, ValueError, AttributeError):
            raise Beep3dError(
                f"{path}: line {line_number}: nyu40id {row.get('nyu40id')!r} is not a number"
            ) from None
    return mapping


def _fallback_label_map() -> dict[str, int]:
    mapping = dict(zip(SCANNET18.names, SCANNET18.ids, strict=True))
    mapping.update({"wall": NYU40_WALL, "floor": NYU40_FLOOR})
    return mapping


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Beep3dError(
            f"{path}: the ScanNet {what} file is missing; the scene folder is incomplete"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Beep3dError(
            f"{path}: the ScanNet {what} file is not valid JSON ({exc}); restore it from ScanNet"
        ) from None


def _segments(path: Path, n_vertices: int) -> np.ndarray:
    data = _read_json(path, "segments")
    if not isinstance(data, dict) or not isinstance(data.get("segIndices"), list):
        raise Beep3dError(f"{path}: expected a JSON object with a 'segIndices' list; restore it from ScanNet")
    try:
        seg = np.asarray(data["segIndices"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise Beep3dError(f"{path}: 'segIndices' must be a list of integers") from None
    if seg.shape != (n_vertices,):
        raise Beep3dError(
            f"{path}: 'segIndices' has {seg.size} entries but the mesh has {n_vertices} vertices; "
            "the segments belong to another mesh - use the files of one scene"
        )
    return seg


def _groups(path: Path) -> list[tuple[int, str, list[int]]]:
    data = _read_json(path, "aggregation")
    groups = data.get("segGroups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise Beep3dError(f"{path}: expected a JSON object with a 'segGroups' list; restore it from ScanNet")
    parsed = []
    for index, group in enumerate(groups):
        try:
            object_id = int(group["objectId"] if "objectId" in group else group["id"])
            label = str(group["label"])
            segments = [int(s) for s in group["segments"]]
        except (KeyError, TypeError, ValueError):
            raise Beep3dError(
                f"{path}: segGroups[{index}] needs 'objectId' (or 'id'), 'label' and a 'segments' list of "
                "integers; restore the file from ScanNet"
            ) from None
        parsed.append((object_id, label, segments))
    seen: set[int] = set()
    for object_id, _label, _segments in parsed:
        if object_id in seen:
            raise Beep3dError(
                f"{path}: object id {object_id} appears twice in 'segGroups'; object ids must be unique - "
                "restore the file from ScanNet"
            )
        seen.add(object_id)
    return parsed


def read_scannet_folder(folder: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read a ScanNet v2 scene folder (see the module docstring)."""
    mesh_path = find_scannet_mesh(folder)
    if mesh_path is None:
        raise Beep3dError(f"{folder}: no '*{MESH_SUFFIX}' mesh in this ScanNet folder")
    scene_id = mesh_path.name[: -len(MESH_SUFFIX)]
    # Read with every point kept: segments and labels index the original vertices.
    scene = read_ply_scene(mesh_path, report, "refuse" if nan_policy == "refuse" else "keep", name=scene_id)
    n = scene.num_points
    segs_path = folder / f"{scene_id}_vh_clean_2.0.010000.segs.json"
    if not segs_path.is_file():
        found = sorted(folder.glob(f"{scene_id}_vh_clean_2*.segs.json"))
        segs_path = found[0] if found else segs_path
    seg = _segments(segs_path, n)
    unique_segments, superpoints = np.unique(seg, return_inverse=True)
    superpoints = superpoints.reshape(-1)
    labels: dict[str, object] = {}

    agg_path = folder / f"{scene_id}.aggregation.json"
    if not agg_path.is_file() and (folder / f"{scene_id}_vh_clean.aggregation.json").is_file():
        agg_path = folder / f"{scene_id}_vh_clean.aggregation.json"
    if agg_path.is_file():
        groups = _groups(agg_path)
        map_path = find_label_map(folder)
        if map_path is not None:
            label_map = read_label_map(map_path)
        else:
            label_map = _fallback_label_map()
            report.notes.append(
                f"no {LABEL_MAP_NAME} (or {LABEL_MAP_NAMES[1]}) found (folder, parent or ${LABEL_MAP_ENV}); "
                "raw labels were matched "
                "by name against the 18 ScanNet classes, wall and floor, other objects got semantic -1"
            )
        segment_instance = np.full(len(unique_segments), -1, dtype=np.int64)
        segment_semantic = np.full(len(unique_segments), -1, dtype=np.int64)
        unmapped: set[str] = set()
        known = set(unique_segments.tolist())
        for object_id, label, segments in groups:
            missing = sorted(set(segments) - known)
            if missing:
                raise Beep3dError(
                    f"{agg_path}: object {object_id} ({label}) names segment {missing[0]}, which "
                    f"{segs_path.name} does not have; the files belong to different scans - use the files of one scene"
                )
            members = np.isin(unique_segments, np.asarray(segments, dtype=np.int64))
            nyu40 = label_map.get(label.strip(), label_map.get(label.strip().lower(), -1))
            if nyu40 < 0:
                unmapped.add(label)
            segment_instance[members] = object_id
            segment_semantic[members] = nyu40
        if unmapped:
            report.notes.append(f"labels without an NYU40 id (semantic -1): {', '.join(sorted(unmapped))}")
        labels = {
            "instance": segment_instance[superpoints],
            "semantic": segment_semantic[superpoints],
            "label_space": "nyu40",
        }
    else:
        report.notes.append(f"no {scene_id}.aggregation.json: the scene has superpoints but no labels")
    scene = dataclasses.replace(scene, superpoints=superpoints, name=scene_id, source=folder, **labels)
    return apply_nan_policy(scene, report, nan_policy)
