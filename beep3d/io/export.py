"""Export resolved instance masks in the formats training code reads.

``export_all`` writes, into one folder that it replaces as a whole (every file is written into a
staging folder beside it, which is swapped in when complete: a crash leaves the old export or the new
one, never a mix; see :mod:`beep3d.io.staged_folder`; an earlier export is replaced only when it
holds nothing but the files its export.json lists, so a training run or notes kept inside it are never
deleted: the export refuses and names them)::

    instance_ids.npy        (N,) int32, box id per input point in input order, -1 = background (and
                            for points the loader dropped: NaN coordinates, strays far from the scan)
    semantic_ids.npy        (N,) int32, class id of that box (NYU40 for ScanNet classes), -1 = none
    confidence.npy          (N,) float32 in [0, 1]
    decided_by.npy          (N,) int8: what decided each point (beep3d.resolve.resolution.DECIDERS: 0 one box or
                            none, 1 nested-box rule, 2 volume rule, 3 teacher network, 4 nearest centre)
    boxes.json              the boxes (project format, version 2) with the corrections the masks were
                            made with and which boxes were hidden / locked: exporting it again gives
                            the same masks
    <scene>_labelled.ply    binary PLY coloured by instance; properties instance, semantic, confidence,
                            decided_by and the original colours as orig_red / orig_green / orig_blue
                            (the loaded points only)
    <scene>_labelled.pcd    the same as a binary PCD: packed rgb by instance, fields instance, semantic,
                            confidence, decided_by, orig_red / orig_green / orig_blue
    <scene>_labelled.las    the same as LAS 1.4 (point format 7): rgb by instance, classification = the
                            semantic id (0 for none, ids above 255 clipped), extra-bytes dimensions
                            instance, semantic, confidence, decided_by
    boxes/<format>/<scene>.json (boxes/box-arrays/<scene>_bbox.npy)
                            the boxes in the other tools' formats of beep3d.io.box_formats (labelCloud
                            centroid and vertices, SUSTechPOINTS, Supervisely, axis-aligned box arrays)
    scannet/<scene>.txt     ScanNet benchmark prediction list, one line per instance:
                            ``pred_mask/<scene>_<k>.txt <label id> <confidence>``
    scannet/pred_mask/...   one 0/1 per point per instance
    scannet/<scene>_instance_gt.txt   ScanNet GT-style ids: label_id * 1000 + k (k = 1.. per instance,
                            in box order), 0 for background: the masks as training labels
    training/<scene>/       a training-ready scene folder (scene.npz + boxes.json, no GT) for beep3d-train,
                            with point_labels.npy: the labels corrections and the foreground stage fixed
                            (the loaded points only)
    export.json             what was exported: resolver, membership, counts, the list of every file
                            written (nested ones included) and ``file_notes``: what each file holds;
                            for the box files their format and what it could not hold (a yaw in the
                            axis-aligned arrays, a class missing from the class set), for the box arrays
                            also the column order, units and class id mapping
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.corrections import Corrections
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import MAX_BOX_ID, BoxSet
from beep3d.io.atomic import write_json_atomic, write_npy_atomic, write_text_atomic
from beep3d.io.box_files import save_boxes
from beep3d.io.export_labelled import (
    instance_colours,
    las_classification_notes,
    mask_fields,
    write_labelled_las,
    write_labelled_pcd,
    write_labelled_ply,
)
from beep3d.io.export_layout import box_arrays_layout, file_notes, is_export_cache, is_export_file
from beep3d.io.staged_folder import MARKER_FILE, staged_folder
from beep3d.resolve.resolution import (
    DECIDED_BY_CORRECTION,
    DECIDED_BY_FOREGROUND,
    DECIDERS,
    Resolution,
    decider_counts,
)
from beep3d.scene import Scene

__all__ = [
    "EXPORTERS",
    "ExportJob",
    "Exporter",
    "PointRows",
    "box_arrays_layout",
    "export_all",
    "export_summary",
    "instance_colours",
    "is_export_file",
    "mask_fields",
    "scannet_gt_ids",
    "write_box_formats",
    "write_boxes_file",
    "write_json_atomic_path",
    "write_labelled_las",
    "write_labelled_pcd",
    "write_labelled_ply",
    "write_point_arrays",
    "write_scannet_files",
    "write_training_folder",
]


def scannet_gt_ids(instance_ids: np.ndarray, semantic_ids: np.ndarray) -> np.ndarray:
    """(N,) int64 ScanNet GT-style ids of the masks: class id * 1000 + the box's number among the
    boxes of its class (:func:`beep3d.metrics.scannet_ap.instances_to_gt_ids`, as ``beep3d-eval``
    reads GT); 0 for background.

    Parameters
    ----------
    instance_ids, semantic_ids
        (N,) int box id and class id per point (-1 none).

    Raises
    ------
    Beep3dError
        A class has more than 999 boxes holding points: the format cannot number them.
    """
    from beep3d.metrics.scannet_ap import instances_to_gt_ids

    inst = np.asarray(instance_ids, dtype=np.int64)
    semantic = np.asarray(semantic_ids, dtype=np.int64)
    return instances_to_gt_ids(np.where(inst >= 0, semantic, -1), np.where(semantic >= 0, inst, -1))


@dataclass(frozen=True)
class PointRows:
    """The per-point arrays of an export, one row per point of the scan file.

    Points the loader dropped (``kept`` False) are background: instance and semantic -1, confidence 0,
    decided_by 0.
    """

    instance_ids: np.ndarray
    semantic_ids: np.ndarray
    confidence: np.ndarray
    decided_by: np.ndarray | None

    @classmethod
    def of(cls, resolution: Resolution, kept: np.ndarray | None) -> PointRows:
        """Rows of ``resolution`` spread back to the file's points (``kept``: (N_file,) bool or None)."""

        def spread(values: np.ndarray, dtype: type, fill: float) -> np.ndarray:
            values = np.asarray(values, dtype=dtype)
            if kept is None:
                return values
            out = np.full(len(kept), fill, dtype=dtype)
            out[kept] = values
            return out

        decided_by = resolution.decided_by
        return cls(
            spread(resolution.instance_ids, np.int32, -1),
            spread(resolution.semantic_ids, np.int32, -1),
            spread(resolution.confidence, np.float32, 0.0),
            None if decided_by is None else spread(decided_by, np.int8, 0),
        )


@dataclass(frozen=True)
class ExportJob:
    """What every exporter gets: the scene, its boxes, the resolution, and the rows per file point.

    An exporter may describe a file it writes in ``described`` (its format, what it could not hold);
    :func:`export_all` records that in export.json's ``file_notes``.
    """

    scene: Scene
    boxes: BoxSet
    resolution: Resolution
    rows: PointRows
    class_set: ClassSet
    #: the hand corrections applied to the masks (written into boxes.json)
    corrections: Corrections | None = None
    #: ids of the boxes hidden / locked in the window (written into boxes.json)
    hidden: frozenset[int] = frozenset()
    locked: frozenset[int] = frozenset()
    #: file written -> what export.json says of it beyond the general description (its format, notes)
    described: dict[Path, dict[str, Any]] = field(default_factory=dict)


class Exporter(Protocol):
    """One export format: writes its files into a folder and returns them."""

    name: str

    def write(self, out: Path, job: ExportJob) -> list[Path]:
        """Write this format's files for ``job`` into ``out``."""
        ...


@dataclass(frozen=True)
class _FunctionExporter:
    name: str
    function: Callable[[Path, ExportJob], list[Path]]

    def write(self, out: Path, job: ExportJob) -> list[Path]:
        return self.function(out, job)


def _write_labelled_las(out: Path, job: ExportJob) -> Path:
    """The labelled LAS, with notes on the class ids its 8-bit classification cannot hold."""
    path = write_labelled_las(out, job.scene, job.resolution)
    notes = las_classification_notes(job.resolution.semantic_ids)
    if notes:
        job.described[path] = {"notes": notes}
    return path


#: The formats :func:`export_all` writes, in order (see the module docstring).
EXPORTERS: tuple[Exporter, ...] = (
    _FunctionExporter("point arrays", lambda out, job: write_point_arrays(out, job.rows)),
    _FunctionExporter(
        "boxes",
        lambda out, job: [
            write_boxes_file(out, job.scene, job.boxes, job.corrections, job.hidden, job.locked)
        ],
    ),
    _FunctionExporter("labelled PLY", lambda out, job: [write_labelled_ply(out, job.scene, job.resolution)]),
    _FunctionExporter("labelled PCD", lambda out, job: [write_labelled_pcd(out, job.scene, job.resolution)]),
    _FunctionExporter("labelled LAS", lambda out, job: [_write_labelled_las(out, job)]),
    _FunctionExporter(
        "box formats",
        lambda out, job: write_box_formats(
            out, job.scene.name, job.boxes, job.class_set, job.described, job.scene.origin
        ),
    ),
    _FunctionExporter(
        "ScanNet benchmark",
        lambda out, job: write_scannet_files(out, job.scene.name, job.boxes, job.rows, job.class_set),
    ),
    _FunctionExporter(
        "training folder",
        lambda out, job: write_training_folder(
            out, job.scene, job.boxes, job.class_set, job.resolution, job.corrections, job.hidden, job.locked
        ),
    ),
)


def export_all(
    scene: Scene,
    boxes: BoxSet,
    resolution: Resolution,
    out_dir: str | Path,
    class_set: ClassSet = SCANNET18,
    info: dict[str, Any] | None = None,
    kept: np.ndarray | None = None,
    *,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
    inputs: Iterable[tuple[str, str | Path | None]] = (),
) -> list[Path]:
    """Write every export format into ``out_dir``, replacing it as a whole (see the module docstring).

    Parameters
    ----------
    scene
        The scene the resolution belongs to (N points).
    boxes
        The boxes that were resolved.
    resolution
        Per-point result for the N points of ``scene``.
    out_dir
        The export folder: new, empty, or an earlier export holding only the files that export wrote
        (those its export.json lists); it is replaced as a whole.
    class_set
        Class set the box labels belong to (for the benchmark ids).
    info
        Extra facts recorded in export.json (resolver name, membership level, ...).
    kept
        (N_file,) bool: which points of the scan file the scene holds (``LoadReport.kept``), so the
        per-point files keep one row per point of the file; None = the scene holds them all.
    corrections
        The hand corrections the resolution was made with (indexing the scene's N points); written
        into ``boxes.json`` so that exporting it again gives the same masks.
    hidden, locked
        Ids of the boxes hidden / locked in the window, kept in ``boxes.json``.
    inputs
        ``(what, path)`` of the files the export is made from (the box file, a class set, ...); the
        scene's own ``source`` is always one. None may lie inside ``out_dir``, which is replaced as a
        whole.

    Returns
    -------
    list[Path]
        The files written (under ``out_dir``).

    Raises
    ------
    Beep3dError
        Arrays of the wrong length, box ids that do not fit the exports' int32, an export folder that
        is a file, holds other files (also an earlier export beside files it did not write, such as a
        training run's ``checkpoints/``: the message names them) or holds one of the inputs, or
        another export writing into it. Nothing is written before these checks.
    """
    _check_export(scene, boxes, resolution, kept)
    inputs = [("scan", scene.source), *inputs]
    job = ExportJob(
        scene,
        boxes,
        resolution,
        PointRows.of(resolution, kept),
        class_set,
        corrections=corrections.for_scan(scene.num_points) if corrections else None,
        hidden=frozenset(int(i) for i in hidden),
        locked=frozenset(int(i) for i in locked),
    )
    with staged_folder(out_dir, inputs, owned=is_export_file, disposable=is_export_cache) as staging:
        written = [path for exporter in EXPORTERS for path in exporter.write(staging, job)]
        written = _with_nested_files(staging, written)
        written.append(_write_export_json(staging, written, job, info))
    return [Path(out_dir) / p.relative_to(staging) for p in written]


def _check_export(scene: Scene, boxes: BoxSet, resolution: Resolution, kept: np.ndarray | None) -> None:
    """Refuse per-point arrays that do not match the scene's N points, and box ids beyond int32.

    Raises
    ------
    Beep3dError
        A resolution array or the ``kept`` mask of another length, or a box id above
        :data:`MAX_BOX_ID`.
    """
    n = scene.num_points
    for name in ("instance_ids", "semantic_ids", "confidence"):
        if len(getattr(resolution, name)) != n:
            raise Beep3dError(
                f"export: {name} has {len(getattr(resolution, name))} entries but the scene has {n} points"
            )
    if kept is not None and int(np.count_nonzero(kept)) != n:
        raise Beep3dError(
            f"export: the kept-point mask selects {int(np.count_nonzero(kept))} points, not {n}"
        )
    if len(boxes) and int(boxes.ids.max()) > MAX_BOX_ID:
        raise Beep3dError(
            f"export: box id {int(boxes.ids.max())} does not fit the exports' 32-bit ids (at most {MAX_BOX_ID}); "
            "renumber the boxes"
        )


def _with_nested_files(staging: Path, written: list[Path]) -> list[Path]:
    """``written`` followed by every other file in the staging folder, sorted.

    Every file there is this export's: the list holds the nested ones too (ScanNet masks, ...).
    """
    listed = set(written)
    return written + sorted(p for p in staging.rglob("*") if p.is_file() and p not in listed)


def _write_export_json(
    staging: Path, written: list[Path], job: ExportJob, info: dict[str, Any] | None
) -> Path:
    """``export.json``: the export's summary (with ``info``), the ``written`` files and what each holds."""
    summary = export_summary(job.scene, job.boxes, job.resolution, job.rows, job.class_set, info)
    relative = [p.relative_to(staging).as_posix() for p in written]
    summary["files"] = [*relative, MARKER_FILE]
    summary["file_notes"] = file_notes(
        job.scene.name,
        relative,
        {p.relative_to(staging).as_posix(): notes for p, notes in job.described.items()},
    )
    return write_json_atomic_path(staging / MARKER_FILE, summary)


def write_json_atomic_path(path: Path, data: dict[str, Any]) -> Path:
    """:func:`write_json_atomic`, returning the path."""
    write_json_atomic(path, data)
    return path


def write_point_arrays(out: Path, rows: PointRows) -> list[Path]:
    """``instance_ids.npy``, ``semantic_ids.npy``, ``confidence.npy`` and ``decided_by.npy``."""
    arrays = {
        "instance_ids": rows.instance_ids,
        "semantic_ids": rows.semantic_ids,
        "confidence": rows.confidence,
        "decided_by": rows.decided_by,
    }
    written = []
    for name, values in arrays.items():
        if values is not None:
            write_npy_atomic(out / f"{name}.npy", values)
            written.append(out / f"{name}.npy")
    return written


def write_boxes_file(
    out: Path,
    scene: Scene,
    boxes: BoxSet,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
) -> Path:
    """``boxes.json``: the boxes that were resolved (project format, version 2).

    With the ``corrections`` the masks were made with (indexing the scene's points as loaded) and
    the ids of the ``hidden`` / ``locked`` boxes, so that exporting the file again gives the same
    masks and opening it restores the window's state.
    """
    path = out / "boxes.json"
    save_boxes(
        path,
        boxes,
        scene_name=scene.name,
        corrections=corrections,
        hidden=hidden,
        locked=locked,
        origin=scene.origin,
    )
    return path


def write_box_formats(
    out: Path,
    scene_name: str,
    boxes: BoxSet,
    class_set: ClassSet,
    described: dict[Path, dict[str, Any]] | None = None,
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> list[Path]:
    """``boxes/<format>/``: the boxes in every other tool's format of :mod:`beep3d.io.box_formats`.

    Parameters
    ----------
    described
        When given, each file's format, the notes on what it could not hold (see
        :func:`beep3d.io.box_formats.save_boxes_as`) and, for the box arrays, their layout
        (:func:`box_arrays_layout`) are added to it, keyed by the file.
    origin
        The scene's local origin (metres): the files hold the scan file's own coordinates.
    """
    from beep3d.io.box_formats import BOX_ARRAYS, BOX_FORMATS, save_boxes_as

    written = []
    for fmt in BOX_FORMATS:
        if fmt.name == "beep3d":
            continue  # boxes.json
        name = f"{scene_name}_bbox.npy" if fmt.suffix == ".npy" else f"{scene_name}{fmt.suffix}"
        path = out / "boxes" / fmt.name / name
        notes = save_boxes_as(path, boxes, fmt, scene_name=scene_name, class_set=class_set, origin=origin)
        written.append(path)
        if described is not None:
            entry: dict[str, Any] = {"format": fmt.name, "tool": fmt.title}
            if fmt is BOX_ARRAYS:
                entry |= box_arrays_layout(boxes, class_set)
            described[path] = entry | {"notes": notes}
    return written


def write_scannet_files(
    out: Path, scene_name: str, boxes: BoxSet, rows: PointRows, class_set: ClassSet
) -> list[Path]:
    """ScanNet benchmark predictions (one mask per box) and GT-style ids, one row per file point."""
    from beep3d.metrics.scannet_ap import write_scannet_predictions

    masks, labels, scores = [], [], []
    for box in boxes:
        mask = rows.instance_ids == box.id
        if mask.any():
            masks.append(mask)
            labels.append(class_set.id_of(box.label))
            scores.append(float(rows.confidence[mask].mean()))
    scannet_dir = out / "scannet"
    n = len(rows.instance_ids)
    predictions = write_scannet_predictions(
        scannet_dir,
        scene_name,
        np.array(masks, dtype=bool).reshape(len(masks), n),
        np.array(labels, dtype=np.int64),
        np.array(scores, dtype=np.float64),
    )
    gt_ids = scannet_gt_ids(rows.instance_ids, rows.semantic_ids)
    gt_path = scannet_dir / f"{scene_name}_instance_gt.txt"
    write_text_atomic(gt_path, "\n".join(map(str, gt_ids.tolist())) + "\n")
    # the mask files the prediction list names, in its order
    mask_files = [
        scannet_dir / line.split()[0] for line in predictions.read_text().splitlines() if line.strip()
    ]
    return [predictions, *mask_files, gt_path]


def write_training_folder(
    out: Path,
    scene: Scene,
    boxes: BoxSet,
    class_set: ClassSet,
    resolution: Resolution | None = None,
    corrections: Corrections | None = None,
    hidden: Iterable[int] = (),
    locked: Iterable[int] = (),
) -> list[Path]:
    """``training/<scene>/``: the scene and its boxes, as ``beep3d-train`` reads them (no GT).

    Its ``boxes.json`` is the export's own (:func:`write_boxes_file`: the corrections and the hidden
    and locked boxes too; the folder holds the scene's points as loaded, which the corrections
    index), so the folder opens and exports again to the same masks. With a resolution,
    ``point_labels.npy`` beside them fixes the training labels of the points the annotator's
    corrections decided (their box id, or -1) and of those the foreground stage took out of their
    box (-1); -2 leaves a point to the boxes and the teacher.
    """
    from beep3d.io import save_scene_folder

    training_scene = Scene(
        xyz=scene.xyz,
        rgb=scene.rgb,
        normals=scene.normals,
        faces=scene.faces,
        superpoints=scene.superpoints,
        label_space=class_set.label_space,
        name=scene.name,
        origin=scene.origin,
    )
    folder = out / "training" / scene.name
    save_scene_folder(training_scene, folder)
    written = [folder / "scene.npz", write_boxes_file(folder, scene, boxes, corrections, hidden, locked)]
    if resolution is not None and resolution.decided_by is not None:
        decided = resolution.decided_by
        fixed = np.full(scene.num_points, -2, dtype=np.int64)
        fixed[decided == DECIDED_BY_FOREGROUND] = -1
        corrected = decided == DECIDED_BY_CORRECTION
        fixed[corrected] = resolution.instance_ids[corrected]
        write_npy_atomic(folder / "point_labels.npy", fixed)
        written.append(folder / "point_labels.npy")
    return written


def export_summary(
    scene: Scene,
    boxes: BoxSet,
    resolution: Resolution,
    rows: PointRows,
    class_set: ClassSet,
    info: dict[str, Any] | None,
) -> dict[str, Any]:
    """What ``export.json`` records (without the file list)."""
    counts = np.asarray(resolution.overlap_counts)
    return {
        "scene": scene.name,
        "source": str(Path(scene.source).resolve()) if scene.source else None,
        "num_points": len(rows.instance_ids),
        "num_points_loaded": scene.num_points,
        "num_boxes": len(boxes),
        "points_in_one_box": int(np.count_nonzero(counts == 1)),
        "points_in_several_boxes": int(np.count_nonzero(counts >= 2)),
        "background_points": int(np.count_nonzero(counts == 0)),
        "points_in_several_boxes_decided_by": decider_counts(resolution.decided_by),
        "decided_by_codes": list(DECIDERS),
        "class_set": class_set.label_space,
        **(info or {}),
    }
