"""ScanNet instance-segmentation AP / AP50 / AP25, by the benchmark's rules.

The rules (shared/reference/EVALUATION.md, after ScanNet's ``evaluate_semantic_instance.py``):

- IoU thresholds 0.50, 0.55, ..., 0.90 (nine values) for AP, plus 0.25 for AP25; AP50 is the 0.50 column.
- GT instances with fewer than 100 points are ignored; predictions with fewer than 100 points are skipped;
  predictions whose label is not an evaluated class are skipped.
- A prediction matches only GT of the same label, when IoU = inter / (|gt| + |pred| - inter) is strictly
  greater than the threshold. A second prediction matching an already matched GT makes one false positive
  with the lower of the two scores (the GT keeps the higher one).
- An unmatched prediction is a false positive unless the share of its points on void (points whose GT
  label is not an evaluated class) or on ignored small GT of its label exceeds the threshold.
- Per class, all scenes are pooled; precision/recall at each unique confidence plus a final point
  (precision 1, recall 0); step widths from convolving recall with [-0.5, 0, 0.5]; AP = dot product.
- A class with GT and no prediction scores 0; a class without GT is NaN and left out of the means.

GT ids follow ScanNet's files: ``label_id * 1000 + instance`` per point, 0 = no instance. To evaluate
label spaces that contain class 0 (S3DIS 0..12), instance numbers start at 1 (:func:`instances_to_gt_ids`
does this), so an id is never 0 unless the point has no instance; points with id 0 are void. The
benchmark script also treats ids below 1000 as ignorable "groups"; no ScanNet class id is below 3, so
that rule never applies to the 18 classes, and it is left out here so that class 0 of S3DIS counts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beep3d.classes import SCANNET18_NAMES, SCANNET18_NYU40
from beep3d.errors import Beep3dError
from beep3d.io.atomic import write_text_atomic

#: IoU thresholds of AP: 0.50 .. 0.90 in steps of 0.05 (generated as the benchmark script does).
AP_THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.arange(0.5, 0.95, 0.05))
#: The AP25 threshold.
AP25_THRESHOLD = 0.25
#: GT instances and predictions with fewer points than this are ignored / skipped.
MIN_REGION_SIZE = 100
#: Multiplier of the label in GT ids (``label_id * 1000 + instance``).
GT_LABEL_DIVISOR = 1000


@dataclass
class SceneEval:
    """GT and predictions of one scene.

    Attributes
    ----------
    gt_ids
        (N,) int64 per point: ``label_id * 1000 + instance`` (instance >= 1), 0 = no instance (void).
    pred_masks
        (P, N) bool, one row per predicted instance.
    pred_labels
        (P,) int class id of each prediction (same id space as the GT labels).
    pred_scores
        (P,) float confidence of each prediction.
    name
        Scene name, for error messages.
    """

    gt_ids: np.ndarray
    pred_masks: np.ndarray
    pred_labels: np.ndarray
    pred_scores: np.ndarray
    name: str = "scene"

    def __post_init__(self) -> None:
        self.gt_ids = np.asarray(self.gt_ids, dtype=np.int64).reshape(-1)
        n = len(self.gt_ids)
        masks = np.asarray(self.pred_masks)
        if masks.size == 0:
            masks = masks.reshape(0, n)
        if masks.ndim != 2 or masks.shape[1] != n:
            raise Beep3dError(
                f"{self.name}: prediction masks have shape {masks.shape} but the GT has {n} points; "
                "predict one value per point of the same scene"
            )
        self.pred_masks = masks != 0
        self.pred_labels = np.asarray(self.pred_labels, dtype=np.int64).reshape(-1)
        self.pred_scores = np.asarray(self.pred_scores, dtype=np.float64).reshape(-1)
        if not (len(self.pred_labels) == len(self.pred_scores) == len(self.pred_masks)):
            raise Beep3dError(
                f"{self.name}: {len(self.pred_masks)} masks, {len(self.pred_labels)} labels and "
                f"{len(self.pred_scores)} scores; give one label and one score per mask"
            )


@dataclass
class APResult:
    """AP figures: means over classes (NaN classes left out) and per class.

    Attributes
    ----------
    ap, ap50, ap25
        Mean over classes of AP (itself the mean over the nine thresholds 0.50..0.90), AP at 0.50, AP at
        0.25. NaN when no class has GT.
    class_names
        Evaluated class names, in order.
    per_class_ap, per_class_ap50, per_class_ap25
        Class name -> value (NaN for a class without GT).
    """

    ap: float
    ap50: float
    ap25: float
    class_names: tuple[str, ...] = ()
    per_class_ap: dict[str, float] = field(default_factory=dict)
    per_class_ap50: dict[str, float] = field(default_factory=dict)
    per_class_ap25: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """A text table: one line per class, then the averages."""
        width = max([len("average"), *(len(n) for n in self.class_names)])
        lines = [f"{'class':<{width}}  {'AP':>6}  {'AP50':>6}  {'AP25':>6}", "-" * (width + 26)]

        def fmt(value: float) -> str:
            return f"{value:6.3f}" if np.isfinite(value) else f"{'nan':>6}"

        for name in self.class_names:
            lines.append(
                f"{name:<{width}}  {fmt(self.per_class_ap[name])}  {fmt(self.per_class_ap50[name])}  "
                f"{fmt(self.per_class_ap25[name])}"
            )
        lines.append("-" * (width + 26))
        lines.append(f"{'average':<{width}}  {fmt(self.ap)}  {fmt(self.ap50)}  {fmt(self.ap25)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (NaN written as None)."""

        def clean(value: float) -> float | None:
            return float(value) if np.isfinite(value) else None

        return {
            "ap": clean(self.ap),
            "ap50": clean(self.ap50),
            "ap25": clean(self.ap25),
            "per_class": {
                name: {
                    "ap": clean(self.per_class_ap[name]),
                    "ap50": clean(self.per_class_ap50[name]),
                    "ap25": clean(self.per_class_ap25[name]),
                }
                for name in self.class_names
            },
        }


@dataclass
class _Gt:
    instance_id: int
    vert_count: int
    matched_preds: list[tuple[int, int]]  # (prediction key, intersection), in prediction order


@dataclass
class _Pred:
    key: int
    vert_count: int
    score: float
    void_intersection: int
    matched_gts: list[tuple[int, int, int]]  # (gt instance id, gt vert count, intersection)


def _scene_tables(
    scene: SceneEval, class_ids: Sequence[int], key_offset: int
) -> tuple[dict[int, list[_Gt]], dict[int, list[_Pred]]]:
    """Per class: the scene's GT instances (all sizes) and its kept predictions with their overlaps."""
    gt_ids = scene.gt_ids
    valid = set(int(c) for c in class_ids)
    gt_labels = gt_ids // GT_LABEL_DIVISOR
    void = (gt_ids == 0) | ~np.isin(gt_labels, list(valid))
    unique_ids, inverse, counts = np.unique(gt_ids, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    gts: dict[int, list[_Gt]] = {c: [] for c in valid}
    gt_position: dict[int, tuple[int, int]] = {}
    for index, (gt_id, count) in enumerate(zip(unique_ids.tolist(), counts.tolist(), strict=True)):
        label = gt_id // GT_LABEL_DIVISOR
        if gt_id == 0 or label not in valid:
            continue
        gt_position[index] = (label, len(gts[label]))
        gts[label].append(_Gt(gt_id, count, []))
    preds: dict[int, list[_Pred]] = {c: [] for c in valid}
    for p in range(len(scene.pred_masks)):
        label = int(scene.pred_labels[p])
        if label not in valid:
            continue
        mask = scene.pred_masks[p]
        vert_count = int(np.count_nonzero(mask))
        if vert_count < MIN_REGION_SIZE:
            continue
        pred = _Pred(
            key_offset + p, vert_count, float(scene.pred_scores[p]), int(np.count_nonzero(void & mask)), []
        )
        intersections = np.bincount(inverse[mask], minlength=len(unique_ids))
        for index in np.flatnonzero(intersections):
            where = gt_position.get(int(index))
            if where is None or where[0] != label:
                continue
            gt = gts[label][where[1]]
            inter = int(intersections[index])
            gt.matched_preds.append((pred.key, inter))
            pred.matched_gts.append((gt.instance_id, gt.vert_count, inter))
        preds[label].append(pred)
    return gts, preds


def _average_precision(y_true: np.ndarray, y_score: np.ndarray, hard_false_negatives: int) -> float:
    """Area under the precision/recall curve with one point per unique confidence plus (recall 0, precision 1)."""
    order = np.argsort(y_score, kind="stable")
    score_sorted = y_score[order]
    true_cumsum = np.cumsum(y_true[order])
    _, first_of_each = np.unique(score_sorted, return_index=True)
    num_examples = len(score_sorted)
    num_true = true_cumsum[-1] if num_examples else 0.0
    true_cumsum = np.append(true_cumsum, 0.0)  # index -1 reads 0: nothing below the lowest score
    precision = np.zeros(len(first_of_each) + 1)
    recall = np.zeros(len(first_of_each) + 1)
    for k, start in enumerate(first_of_each):
        below = true_cumsum[start - 1]  # true positives scoring below this confidence
        tp = num_true - below
        fp = num_examples - start - tp
        fn = below + hard_false_negatives
        precision[k] = tp / (tp + fp)
        recall[k] = tp / (tp + fn)
    precision[-1], recall[-1] = 1.0, 0.0
    padded = np.concatenate([recall[:1], recall, [0.0]])
    step_widths = np.convolve(padded, [-0.5, 0.0, 0.5], "valid")
    return float(np.dot(precision, step_widths))


def _class_ap(scene_gts: list[list[_Gt]], scene_preds: list[list[_Pred]], threshold: float) -> float:
    """AP of one class at one IoU threshold, pooled over scenes."""
    has_gt = has_pred = False
    y_true_parts: list[np.ndarray] = []
    y_score_parts: list[np.ndarray] = []
    hard_false_negatives = 0
    used: set[int] = set()
    for gts_all, preds in zip(scene_gts, scene_preds, strict=True):
        gts = [g for g in gts_all if g.vert_count >= MIN_REGION_SIZE]
        has_gt |= bool(gts)
        has_pred |= bool(preds)
        true = [1.0] * len(gts)
        score = [-np.inf] * len(gts)
        matched = [False] * len(gts)
        by_key = {p.key: p for p in preds}
        for g, gt in enumerate(gts):
            found = False
            for key, inter in gt.matched_preds:
                if key in used:
                    continue
                iou = inter / (gt.vert_count + by_key[key].vert_count - inter)
                if iou <= threshold:
                    continue
                confidence = by_key[key].score
                if matched[g]:
                    # duplicate: the lower of the two scores becomes a false positive
                    true.append(0.0)
                    score.append(min(score[g], confidence))
                    matched.append(True)
                    score[g] = max(score[g], confidence)
                else:
                    found = True
                    matched[g] = True
                    score[g] = confidence
                    used.add(key)
            if not found:
                hard_false_negatives += 1
        keep = np.asarray(matched, dtype=bool)
        true_arr = np.asarray(true, dtype=np.float64)[keep]
        score_arr = np.asarray(score, dtype=np.float64)[keep]
        extra_true: list[float] = []
        extra_score: list[float] = []
        for pred in preds:
            if any(
                inter / (gt_count + pred.vert_count - inter) > threshold
                for _, gt_count, inter in pred.matched_gts
            ):
                continue
            ignored = pred.void_intersection
            for _, gt_count, inter in pred.matched_gts:
                if gt_count < MIN_REGION_SIZE:
                    ignored += inter
            if ignored / pred.vert_count <= threshold:
                extra_true.append(0.0)
                extra_score.append(pred.score)
        y_true_parts += [true_arr, np.asarray(extra_true)]
        y_score_parts += [score_arr, np.asarray(extra_score)]
    if has_gt and has_pred:
        y_true = np.concatenate(y_true_parts) if y_true_parts else np.zeros(0)
        y_score = np.concatenate(y_score_parts) if y_score_parts else np.zeros(0)
        return _average_precision(y_true, y_score, hard_false_negatives)
    if has_gt:
        return 0.0
    return float("nan")


def evaluate_instances(
    scenes: Sequence[SceneEval],
    class_ids: Sequence[int] = SCANNET18_NYU40,
    class_names: Sequence[str] | None = None,
) -> APResult:
    """ScanNet AP, AP50 and AP25 over a set of scenes.

    Parameters
    ----------
    scenes
        One :class:`SceneEval` per scene (GT ids and predictions as arrays).
    class_ids
        The evaluated class ids (default: the 18 ScanNet classes by NYU40 id; S3DIS: ``range(13)``).
        GT of other labels is void; predictions of other labels are skipped.
    class_names
        Display names, same order as ``class_ids`` (default: the ScanNet names for the default ids,
        otherwise ``"class <id>"``).

    Returns
    -------
    APResult
        Means over classes (classes without GT left out) and per-class values.
    """
    class_ids = [int(c) for c in class_ids]
    if class_names is None:
        if tuple(class_ids) == SCANNET18_NYU40:
            class_names = SCANNET18_NAMES
        else:
            class_names = [f"class {c}" for c in class_ids]
    class_names = tuple(str(n) for n in class_names)
    if len(class_names) != len(class_ids):
        raise Beep3dError(
            f"{len(class_ids)} class ids but {len(class_names)} class names; give one name per id"
        )
    tables = []
    key_offset = 0
    for scene in scenes:
        tables.append(_scene_tables(scene, class_ids, key_offset))
        key_offset += len(scene.pred_masks)
    thresholds = (*AP_THRESHOLDS, AP25_THRESHOLD)
    aps = np.full((len(class_ids), len(thresholds)), np.nan)
    for c, class_id in enumerate(class_ids):
        scene_gts = [gts[class_id] for gts, _ in tables]
        scene_preds = [preds[class_id] for _, preds in tables]
        for t, threshold in enumerate(thresholds):
            aps[c, t] = _class_ap(scene_gts, scene_preds, threshold)
    per_ap = aps[:, : len(AP_THRESHOLDS)].mean(axis=1)  # NaN rows stay NaN
    per_ap50 = aps[:, 0]
    per_ap25 = aps[:, -1]

    def nanmean(values: np.ndarray) -> float:
        finite = values[~np.isnan(values)]
        return float(finite.mean()) if len(finite) else float("nan")

    return APResult(
        ap=nanmean(per_ap),
        ap50=nanmean(per_ap50),
        ap25=nanmean(per_ap25),
        class_names=class_names,
        per_class_ap=dict(zip(class_names, per_ap.tolist(), strict=True)),
        per_class_ap50=dict(zip(class_names, per_ap50.tolist(), strict=True)),
        per_class_ap25=dict(zip(class_names, per_ap25.tolist(), strict=True)),
    )


def instances_to_gt_ids(semantic: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """ScanNet-style GT ids from per-point labels.

    Parameters
    ----------
    semantic
        (N,) int class id per point (NYU40 for ScanNet, 0..12 for S3DIS; -1 = unlabelled).
    instance
        (N,) int instance id per point (-1 = none).

    Returns
    -------
    np.ndarray
        (N,) int64 ``label * 1000 + k``, the label of an instance being the most frequent semantic id
        among its points (so an instance is never split), and k = 1, 2, ... numbering the instances
        of each label in ascending id order (ScanNet's evaluation needs only ``id // 1000`` to be the
        label and each instance's id to be its own). 0 for points without an instance or whose
        instance has no label.

    Raises
    ------
    Beep3dError
        The lengths differ, or a label has more than 999 instances: the id format cannot number them.
    """
    semantic = np.asarray(semantic, dtype=np.int64).reshape(-1)
    instance = np.asarray(instance, dtype=np.int64).reshape(-1)
    if semantic.shape != instance.shape:
        raise Beep3dError(
            f"semantic labels ({len(semantic)} points) and instance ids ({len(instance)} points) differ in "
            "length; they must describe the same points"
        )
    gt_ids = np.zeros(len(instance), dtype=np.int64)
    has_instance = instance >= 0
    unique_instances, inverse = np.unique(instance[has_instance], return_inverse=True)
    inverse = inverse.reshape(-1)
    instance_label = _majority_per_group(inverse, semantic[has_instance], len(unique_instances))
    number = np.zeros(len(unique_instances), dtype=np.int64)
    for label in np.unique(instance_label[instance_label >= 0]):
        of_label = np.flatnonzero(instance_label == label)
        if len(of_label) >= GT_LABEL_DIVISOR:
            raise Beep3dError(
                f"{len(of_label)} instances of class id {label} in one scene; ScanNet's id format (label * "
                f"1000 + instance) holds at most {GT_LABEL_DIVISOR - 1} per class; split the scene into parts"
            )
        number[of_label] = np.arange(1, len(of_label) + 1)
    ids = np.where(instance_label >= 0, instance_label * GT_LABEL_DIVISOR + number, 0)
    gt_ids[has_instance] = ids[inverse]
    return gt_ids


def _majority_per_group(group: np.ndarray, values: np.ndarray, num_groups: int) -> np.ndarray:
    """(G,) int64 the most frequent of ``values`` in each group (the smallest among ties).

    ``group`` (M,) int in [0, G) and ``values`` (M,) int; every group has a member.
    """
    pairs, counts = np.unique(np.stack([group, values], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))  # by group, then most frequent first
    ranked = pairs[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = ranked[1:, 0] != ranked[:-1, 0]
    majority = np.full(num_groups, -1, dtype=np.int64)
    majority[ranked[first, 0]] = ranked[first, 1]
    return majority


def masks_from_instance_ids(
    instance_ids: np.ndarray, semantic_ids: np.ndarray, confidence: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn per-point outputs (one instance id per point) into prediction masks.

    Parameters
    ----------
    instance_ids
        (N,) int instance (box) id per point, -1 = background.
    semantic_ids
        (N,) int class id per point; an instance's label is its most frequent class id.
    confidence
        (N,) float per-point confidence; an instance's score is the mean over its points (1.0 when None).

    Returns
    -------
    pred_masks, pred_labels, pred_scores
        (P, N) bool, (P,) int64 and (P,) float64, one row per instance id in ascending order.
    """
    instance_ids = np.asarray(instance_ids, dtype=np.int64).reshape(-1)
    semantic_ids = np.asarray(semantic_ids, dtype=np.int64).reshape(-1)
    n = len(instance_ids)
    if semantic_ids.shape != (n,) or (confidence is not None and np.shape(confidence) != (n,)):
        raise Beep3dError(
            f"instance ids ({n} points), semantic ids ({len(semantic_ids)}) and confidence "
            f"({'none' if confidence is None else len(confidence)}) differ in length; give one value per point"
        )
    unique_ids = np.unique(instance_ids[instance_ids >= 0])
    masks = np.zeros((len(unique_ids), n), dtype=bool)
    labels = np.zeros(len(unique_ids), dtype=np.int64)
    scores = np.ones(len(unique_ids), dtype=np.float64)
    for row, instance in enumerate(unique_ids):
        members = instance_ids == instance
        masks[row] = members
        values, counts = np.unique(semantic_ids[members], return_counts=True)
        labels[row] = values[np.argmax(counts)]
        if confidence is not None:
            scores[row] = float(np.mean(np.asarray(confidence, dtype=np.float64)[members]))
    return masks, labels, scores


def write_scannet_predictions(
    out_dir: str | os.PathLike[str],
    scene_name: str,
    masks: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
) -> Path:
    """Write predictions in the ScanNet benchmark format.

    Writes ``out_dir/<scene>.txt`` with lines ``pred_mask/<scene>_<i>.txt label_id confidence`` and one
    mask file per prediction under ``out_dir/pred_mask/`` holding one 0/1 per point. All files are written
    atomically. Returns the path of the scene's ``.txt`` file.
    """
    out_dir = Path(out_dir)
    masks = np.asarray(masks) != 0
    masks = masks.reshape(len(masks), -1) if masks.size else masks.reshape(0, 0)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not (len(masks) == len(labels) == len(scores)):
        raise Beep3dError(
            f"{scene_name}: {len(masks)} masks, {len(labels)} labels, {len(scores)} scores differ"
        )
    lines = []
    for i, (mask, label, score) in enumerate(zip(masks, labels, scores, strict=True)):
        relative = f"pred_mask/{scene_name}_{i:03d}.txt"
        write_text_atomic(out_dir / relative, "\n".join(mask.astype(np.uint8).astype(str).tolist()) + "\n")
        lines.append(f"{relative} {int(label)} {float(score):.6f}")
    txt_path = out_dir / f"{scene_name}.txt"
    write_text_atomic(txt_path, "".join(line + "\n" for line in lines))
    return txt_path


def read_scannet_predictions(
    txt_path: str | os.PathLike[str], num_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a ScanNet benchmark prediction file (and its mask files, relative to its folder).

    Returns
    -------
    pred_masks, pred_labels, pred_scores
        (P, num_points) bool, (P,) int64, (P,) float64.
    """
    txt_path = Path(txt_path)
    try:
        text = txt_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Beep3dError(f"{txt_path}: prediction file not found") from None
    masks, labels, scores = [], [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            relative, label, score = parts[0], int(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise Beep3dError(
                f"{txt_path}:{line_number}: expected 'mask_path label_id confidence', got {line!r}"
            ) from None
        mask_path = txt_path.parent / relative
        try:
            mask = np.loadtxt(mask_path, dtype=np.int64, ndmin=1)
        except (OSError, ValueError) as exc:
            raise Beep3dError(
                f"{mask_path}: cannot read the mask ({exc}); it needs one 0/1 per line"
            ) from None
        if mask.shape != (num_points,):
            raise Beep3dError(
                f"{mask_path}: {mask.size} values but the scene has {num_points} points; "
                "the mask belongs to another scene or version"
            )
        masks.append(mask != 0)
        labels.append(label)
        scores.append(score)
    return (
        np.asarray(masks, dtype=bool).reshape(len(masks), num_points),
        np.asarray(labels, dtype=np.int64),
        np.asarray(scores, dtype=np.float64),
    )


def write_scannet_gt(path: str | os.PathLike[str], gt_ids: np.ndarray) -> None:
    """Write GT ids (``label * 1000 + instance``, 0 = none) one integer per line, atomically."""
    gt_ids = np.asarray(gt_ids, dtype=np.int64).reshape(-1)
    write_text_atomic(path, "".join(f"{v}\n" for v in gt_ids.tolist()))


def read_scannet_gt(path: str | os.PathLike[str]) -> np.ndarray:
    """Read GT ids written one integer per line (ScanNet's ``scene*.txt`` GT format)."""
    try:
        return np.loadtxt(path, dtype=np.int64, ndmin=1)
    except (OSError, ValueError) as exc:
        raise Beep3dError(f"{path}: cannot read GT ids ({exc}); it needs one integer per line") from None
