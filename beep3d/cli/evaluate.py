"""``beep3d-eval``: score an export folder against a scene's ground truth.

    beep3d-eval EXPORT_DIR --gt SCENE [--boxes BOXES.json] [--json OUT.json]

EXPORT_DIR holds ``instance_ids.npy`` (int32 per point: box id or -1), ``semantic_ids.npy`` (int32 class id
per point), optionally ``confidence.npy`` (float32 per point) and ``boxes.json``. SCENE is anything
``beep3d.io.load_scene`` reads that carries GT labels (``semantic`` and ``instance``).

The export has one row per point of the scan file; when loading the scan dropped points (NaN or
infinite coordinates, strays far from the scan), the GT scene holds only the kept ones, so the
export's rows of the dropped points are left out (the loader's ``LoadReport.kept`` mask) and every
figure is computed on the points the GT labels.

Printed:

- ScanNet AP / AP50 / AP25: each exported instance (box id) is one prediction, labelled by the most
  frequent class id of its points, scored by the mean confidence of its points (1 without confidence.npy).
  Classes: the 18 ScanNet classes for NYU40 scenes, the 13 S3DIS classes for S3DIS scenes.
- mACC in overlap regions and mean instance IoU (see ``beep3d.metrics.mask_quality``), when boxes are
  known (``--boxes`` or the export's ``boxes.json``). Box membership is point-level
  (``BoxSet.membership``). Each box stands for a GT object of the evaluated classes: its own instance
  when the boxes were drawn around the GT objects (box id = instance id), else the object the
  one-to-one matching pairs it with (:func:`beep3d.metrics.mask_quality.gt_instances_as_box_ids`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from beep3d.cli.output_paths import check_output_file
from beep3d.errors import Beep3dError
from beep3d.io.arrays import read_npy_array
from beep3d.io.report import LoadReport


def _load_array(
    path: Path,
    dtype: type,
    num_points: int | None,
    required: bool = True,
    kept: np.ndarray | None = None,
) -> np.ndarray | None:
    """One per-point array of the export, lined up with the GT scene's ``num_points`` points.

    Parameters
    ----------
    path
        The ``.npy`` file.
    dtype
        The dtype to return.
    num_points
        Points of the GT scene as loaded (None: no check).
    required
        Whether a missing file is an error (else None is returned).
    kept
        (N_file,) bool: which points of the scan file the loaded scene holds (``LoadReport.kept``);
        an array of one row per file point keeps the rows of these points.

    Raises
    ------
    Beep3dError
        The file is missing (when required), not a readable array, or has neither one row per
        loaded point nor one per file point.
    """
    if not path.exists():
        if required:
            raise Beep3dError(
                f"{path}: not found; the export folder must hold it (write it with the exporter)"
            )
        return None
    array = _per_point_values(path, dtype)
    if kept is not None and len(array) == len(kept) and len(array) != num_points:
        array = array[kept]  # one row per file point: keep those of the points the GT scene holds
    if num_points is not None and len(array) != num_points:
        in_file = (
            "" if kept is None else f" ({len(kept)} in its file, {len(kept) - num_points} dropped on loading)"
        )
        raise Beep3dError(
            f"{path}: {len(array)} values but the GT scene has {num_points} points{in_file}; evaluate the "
            "export against the scene it was made from"
        )
    return array


def _per_point_values(path: Path, dtype: type) -> np.ndarray:
    """The values of an export's ``.npy`` file, one per point, checked for what they hold.

    Ids (``dtype`` an integer type) must be whole numbers; confidences (a float type) must be finite
    and in [0, 1]. The array must be (N,) or (N, 1).

    Raises
    ------
    Beep3dError
        Unreadable (empty, truncated, an ``.npz`` archive, pickled), not numbers, not one value per
        point, or values that are not ids / confidences; the message says which and what to do.
    """
    again = "export the scene again"
    array = read_npy_array(path, again)
    if array.dtype.kind not in "biuf":
        raise Beep3dError(f"{path}: holds {array.dtype} values, not numbers; {again}")
    if array.ndim > 2 or (array.ndim == 2 and array.shape[1] != 1):
        raise Beep3dError(f"{path}: shape {array.shape}, but it needs one value per point (N,); {again}")
    array = array.reshape(-1)
    with np.errstate(invalid="ignore"):
        if np.issubdtype(dtype, np.integer) and array.dtype.kind == "f":
            whole = np.isfinite(array) & (array == np.round(array))
            if not whole.all():
                bad = array[~whole][0]
                raise Beep3dError(
                    f"{path}: holds {float(bad):g}, but ids are whole numbers (-1 = none); {again}"
                )
        if np.issubdtype(dtype, np.floating):
            valid = np.isfinite(array) & (array >= 0) & (array <= 1)
            if not valid.all():
                bad = array[~valid][0]
                raise Beep3dError(f"{path}: holds {float(bad):g}, but confidences lie in [0, 1]; {again}")
    return array.astype(dtype)


def kept_points_of_file(
    export_dir: Path, num_points: int, report: LoadReport, name: str
) -> np.ndarray | None:
    """Which points of the GT scan's file its loading kept, when the export's rows need it.

    An export has one row per point of the scan file; loading drops points with NaN or infinite
    coordinates and strays. When the export's ``instance_ids.npy`` does not have one row per loaded
    point, the loading report's kept-point mask lines the rows up with the loaded points (and the
    loader's notes are printed).

    Parameters
    ----------
    export_dir
        The export folder.
    num_points
        Points of the GT scene as loaded.
    report
        What loading the GT scan noticed (:func:`beep3d.io.load_scene_with_report`).
    name
        The GT scan's file name, for the notes.

    Returns
    -------
    numpy.ndarray or None
        (N_file,) bool ``LoadReport.kept``; None when the rows already match the loaded points, the
        array is missing or unreadable (reported by the evaluation), or loading dropped nothing.
    """
    try:
        loaded = np.load(export_dir / "instance_ids.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if not isinstance(loaded, np.ndarray):  # an .npz archive under that name: the evaluation says so
        loaded.close()
        return None
    rows = loaded.size
    if rows == num_points:
        return None
    if report.kept is not None:
        for note in report.notes:  # the points dropped on loading, among others
            print(f"beep3d-eval: note: {name}: {note}", file=sys.stderr)
    return report.kept


def _class_set_for(label_space: str | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    from beep3d.classes import S3DIS13, SCANNET18

    class_set = S3DIS13 if label_space == "s3dis" else SCANNET18
    return class_set.ids, class_set.names


def evaluate_export(
    export_dir: Path, scene: Any, boxes_path: Path | None = None, kept: np.ndarray | None = None
) -> dict[str, Any]:
    """All figures for one export folder against one GT scene (a dict ready for JSON; NaN as None).

    Parameters
    ----------
    export_dir
        The export folder (``instance_ids.npy``, ``semantic_ids.npy``, optional ``confidence.npy``
        and ``boxes.json``).
    scene
        The GT scene as loaded (N points with ``semantic`` and ``instance``).
    boxes_path
        Box file for the overlap figures (default: the export's ``boxes.json``).
    kept
        (N_file,) bool, ``LoadReport.kept`` of the GT scene: which points of its file it holds. The
        export's arrays (one row per file point) are cut to these, so that every figure is computed
        on the GT scene's points; None when loading dropped none.
    """
    if not export_dir.is_dir():
        raise Beep3dError(f"{export_dir}: not a folder; give the folder the exporter wrote")
    if scene.semantic is None or scene.instance is None:
        raise Beep3dError(
            f"{scene.source or scene.name}: the scene has no GT semantic and instance labels; "
            "give a labelled scene (ScanNet folder, S3DIS room or a scene with label properties)"
        )
    n = len(scene.xyz)
    instance_ids = _load_array(export_dir / "instance_ids.npy", np.int64, n, kept=kept)
    semantic_ids = _load_array(export_dir / "semantic_ids.npy", np.int64, n, kept=kept)
    confidence = _load_array(export_dir / "confidence.npy", np.float64, n, required=False, kept=kept)
    class_ids, class_names = _class_set_for(scene.label_space)
    _check_ids(export_dir, instance_ids, semantic_ids, class_ids)
    report = _ap_figures(scene, instance_ids, semantic_ids, confidence, class_ids, class_names)
    if boxes_path is None and (export_dir / "boxes.json").exists():
        boxes_path = export_dir / "boxes.json"
    report["boxes"] = str(boxes_path) if boxes_path is not None else None
    report.update(_box_figures(scene, instance_ids, boxes_path, class_ids))
    return report


def _check_ids(
    export_dir: Path, instance_ids: np.ndarray, semantic_ids: np.ndarray, class_ids: tuple[int, ...]
) -> None:
    """Refuse instance or semantic ids below -1 (-1 is "none"); warn of semantic ids outside the
    evaluated classes (their instances predict no evaluated class).

    Raises
    ------
    Beep3dError
        An id below -1; the message names the file and the id.
    """
    for name, ids in (("instance_ids.npy", instance_ids), ("semantic_ids.npy", semantic_ids)):
        if len(ids) and int(ids.min()) < -1:
            raise Beep3dError(
                f"{export_dir / name}: holds {int(ids.min())}, but ids are -1 (none) or above; "
                "export the scene again"
            )
    unknown = np.setdiff1d(np.unique(semantic_ids[instance_ids >= 0]), [-1, *class_ids])
    if len(unknown):
        shown = ", ".join(str(int(i)) for i in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        print(
            f"beep3d-eval: warning: {export_dir / 'semantic_ids.npy'}: semantic ids {shown} are not among "
            f"the {len(class_ids)} evaluated classes; their instances count as predictions of no "
            "evaluated class",
            file=sys.stderr,
        )


def check_export_matches_scene(export_dir: Path, scene: Any) -> None:
    """Compare the export's ``export.json`` (when present) with the GT scene.

    A label space other than the GT's makes AP meaningless: refused. Another scan (source or
    scene name) is only warned of: a copy or another format of the same scan is fine, but points
    in another order score near zero.

    Raises
    ------
    Beep3dError
        The export's class set is of another label space than the GT scene's labels.
    """
    import json

    try:
        meta = json.loads((export_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no (readable) export.json: nothing recorded to compare
    if not isinstance(meta, dict):
        return
    space, gt_space = meta.get("class_set"), getattr(scene, "label_space", None)
    if isinstance(space, str) and gt_space is not None and space != gt_space:
        raise Beep3dError(
            f"{export_dir}: its semantic ids are {space} ids (export.json class_set), but the GT scene "
            f"{scene.source or scene.name} is labelled in {gt_space}: "
            f"AP would be meaningless. Export the scene again with a {gt_space} class set (--class-set) "
            "and evaluate it against GT of the same class set"
        )
    source, name = meta.get("source"), meta.get("scene")
    same_source = source is None or scene.source is None or _same_path(Path(source), Path(scene.source))
    if not same_source or (name is not None and name != scene.name):
        print(
            f"beep3d-eval: warning: {export_dir} was exported from {source or name}, but the GT is "
            f"{scene.source or scene.name}: unless both hold the same points in the same order, "
            "the figures are meaningless; evaluate against the scan the export was made from",
            file=sys.stderr,
        )


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _ap_figures(
    scene: Any,
    instance_ids: np.ndarray,
    semantic_ids: np.ndarray,
    confidence: np.ndarray | None,
    class_ids: tuple[int, ...],
    class_names: tuple[str, ...],
) -> dict[str, Any]:
    """The ScanNet AP figures of the exported instances, their table and the counts of the report.

    Parameters
    ----------
    scene
        The GT scene (N points with ``semantic`` and ``instance``).
    instance_ids, semantic_ids
        (N,) int64 exported box id (-1: none) and class id per point.
    confidence
        (N,) float64 exported confidence per point, or None (every instance scores 1).
    class_ids, class_names
        The evaluated classes.
    """
    from beep3d.metrics import SceneEval, evaluate_instances, instances_to_gt_ids, masks_from_instance_ids

    gt_ids = instances_to_gt_ids(scene.semantic, scene.instance)
    masks, labels, scores = masks_from_instance_ids(instance_ids, semantic_ids, confidence)
    ap = evaluate_instances(
        [SceneEval(gt_ids, masks, labels, scores, name=scene.name)],
        class_ids=class_ids,
        class_names=class_names,
    )
    report: dict[str, Any] = {
        "scene": scene.name,
        "num_points": len(scene.xyz),
        "num_predictions": len(masks),
        **ap.to_dict(),
    }
    report["table"] = ap.table()
    evaluated = np.isin(scene.semantic, class_ids) & (scene.instance >= 0)
    report["num_gt_instances"] = int(len(np.unique(scene.instance[evaluated])))
    return report


def _box_figures(
    scene: Any, instance_ids: np.ndarray, boxes_path: Path | None, class_ids: tuple[int, ...]
) -> dict[str, Any]:
    """The accuracy in box overlaps and the mean instance IoU of the exported instances (None without boxes).

    Parameters
    ----------
    scene
        The GT scene (N points with ``semantic`` and ``instance``).
    instance_ids
        (N,) int64 exported box id per point (-1: none).
    boxes_path
        The box file, or None.
    class_ids
        The evaluated classes: the GT objects a box can stand for.
    """
    from beep3d.metrics import (
        gt_instances_as_box_ids,
        instances_of_classes,
        mean_instance_iou,
        overlap_accuracy,
    )

    figures: dict[str, Any] = {
        "overlap_accuracy": None,
        "overlap_points": None,
        "mean_instance_iou": None,
        "num_boxed_instances": None,
    }
    if boxes_path is None:
        return figures
    from beep3d.io.box_files import load_boxes

    boxes = load_boxes(boxes_path, origin=scene.origin)
    membership = boxes.membership(scene.xyz)
    member_box_ids = boxes.ids[membership.box_index] if len(boxes) else np.zeros(0, dtype=np.int64)
    gt_box_ids, _ = gt_instances_as_box_ids(
        scene.instance,
        membership.point_index,
        member_box_ids,
        candidates=instances_of_classes(scene.semantic, scene.instance, class_ids),
    )
    accuracy = overlap_accuracy(instance_ids, gt_box_ids, membership.point_index, member_box_ids)
    iou = mean_instance_iou(instance_ids, gt_box_ids, boxes.ids)
    figures["overlap_accuracy"] = accuracy.value if accuracy.eligible else None
    figures["overlap_points"] = accuracy.eligible
    figures["mean_instance_iou"] = iou.value if iou.count else None
    figures["num_boxed_instances"] = iou.count
    return figures


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _report_path(text: str) -> Path:
    """The ``--json`` path; an empty one is refused (Path("") would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the path is empty; name the report file to write (for example eval.json)"
        )
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beep3d-eval",
        description="Score exported instance masks against a scene's ground truth "
        "(ScanNet AP/AP50/AP25, accuracy in box overlaps, mean instance IoU).",
    )
    parser.add_argument("export_dir", type=Path, help="folder with instance_ids.npy and semantic_ids.npy")
    parser.add_argument("--gt", type=Path, required=True, help="labelled scene (anything beep3d can load)")
    parser.add_argument(
        "--boxes", type=Path, default=None, help="boxes JSON (default: EXPORT_DIR/boxes.json)"
    )
    parser.add_argument(
        "--json", type=_report_path, default=None, help="also write all figures to this JSON file"
    )
    parser.add_argument("--per-class", action="store_true", help="print the per-class AP table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``beep3d-eval``; returns the exit status (2 for errors the user can fix)."""
    args = build_parser().parse_args(argv)
    try:
        if args.json is not None:
            _check_report_path(args)
        from beep3d.io import load_scene_with_report

        scene, loaded = load_scene_with_report(args.gt)
        kept = kept_points_of_file(args.export_dir, len(scene.xyz), loaded, Path(args.gt).name)
        check_export_matches_scene(Path(args.export_dir), scene)
        report = evaluate_export(args.export_dir, scene, args.boxes, kept=kept)
        print(
            f"scene {report['scene']}: {report['num_predictions']} predicted instances, {report['num_points']} points"
        )
        if args.per_class:
            print(report["table"])
        if report["num_gt_instances"] == 0:
            print(
                f"beep3d-eval: note: {Path(args.gt).name}: no GT instance of the {len(_class_set_for(scene.label_space)[0])} "
                "evaluated classes (wall and floor are not among them): AP and the box figures are n/a",
                file=sys.stderr,
            )
        print(f"AP    {_fmt(report['ap'])}")
        print(f"AP50  {_fmt(report['ap50'])}")
        print(f"AP25  {_fmt(report['ap25'])}")
        if report["boxes"] is None:
            print("mACC (overlap regions) and mean instance IoU: n/a (no boxes.json; pass --boxes)")
        else:
            print(
                f"mACC in overlap regions  {_fmt(report['overlap_accuracy'])} ({report['overlap_points']} points)"
            )
            print(
                f"mean instance IoU        {_fmt(report['mean_instance_iou'])} ({report['num_boxed_instances']} instances)"
            )
        if args.json is not None:
            from beep3d.io.atomic import write_json_atomic

            write_json_atomic(args.json, {k: v for k, v in report.items() if k != "table"})
            print(f"wrote {args.json}")
    except Beep3dError as exc:
        print(f"beep3d-eval: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the report cannot be written there
        print(
            f"beep3d-eval: error: {args.json}: cannot write the report ({exc}); choose another path",
            file=sys.stderr,
        )
        return 2
    return 0


def _check_report_path(args: argparse.Namespace) -> None:
    """Refuse a ``--json`` path that cannot be written (:func:`beep3d.cli.output_paths.check_output_file`:
    a folder, below a file, an unwritable folder) or is one of the files the evaluation reads."""
    target = check_output_file(str(args.json), "--json", "eval.json")
    export_dir = Path(args.export_dir)
    inputs = [Path(args.gt), export_dir / "boxes.json", export_dir / "export.json"]
    inputs += [export_dir / name for name in ("instance_ids.npy", "semantic_ids.npy", "confidence.npy")]
    if args.boxes is not None:
        inputs.append(Path(args.boxes))
    if target.exists() and any(p.exists() and target.resolve() == p.resolve() for p in inputs):
        raise Beep3dError(
            f"{target}: the evaluation reads this file; writing the report there would destroy it - "
            "choose another --json path"
        )


if __name__ == "__main__":
    sys.exit(main())
