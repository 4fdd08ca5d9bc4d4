"""Periodic evaluation during training: the student's AP and the teacher's pseudo-mask quality.

- AP / AP50 / AP25 of the student's predictions (``model.predict``) against the GT masks of the
  validation scenes, by ScanNet's rules (:func:`beep3d.metrics.scannet_ap.evaluate_instances`), with the
  class indices of the run's class set as labels.
- mACC of the teacher's pseudo-masks (``model.pseudo_masks``) in overlap regions and their mean instance
  IoU (:mod:`beep3d.metrics.mask_quality`), GT instances expressed as box positions.

Scenes without GT masks (boxes only) are skipped; with none left, the figures are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from beep3d.classes import ClassSet
from beep3d.model.sample import ModelSample


def _prediction_fields(prediction: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    masks = np.asarray(prediction.masks)
    classes = getattr(prediction, "classes", None)
    if classes is None:
        classes = prediction.labels
    return masks, np.asarray(classes), np.asarray(prediction.scores)


def evaluate(
    model: Any,
    samples: Iterable[ModelSample],
    collate: Callable[[list[ModelSample]], Any],
    class_set: ClassSet,
) -> dict[str, float]:
    """Evaluation figures over ``samples`` (keys: ap, ap50, ap25, macc, macc_pooled, miou, scenes).

    ``collate`` turns a list of samples into the model's batch on its device.
    """
    import torch

    from beep3d.metrics.mask_quality import mean_instance_iou, overlap_accuracy, pooled_overlap_accuracy
    from beep3d.metrics.scannet_ap import SceneEval, evaluate_instances, instances_to_gt_ids

    was_training = model.training
    model.eval()
    scene_evals, accuracies, ious = [], [], []
    try:
        with torch.no_grad():
            for sample in samples:
                if sample.gt_instance is None:
                    continue
                batch = collate([sample])
                masks, classes, scores = _prediction_fields(model.predict(batch)[0])
                pseudo = np.asarray(model.pseudo_masks(batch)[0], dtype=np.int64)
                gt_semantic = (
                    sample.gt_semantic
                    if sample.gt_semantic is not None
                    else np.zeros_like(sample.gt_instance)
                )
                scene_evals.append(
                    SceneEval(
                        gt_ids=instances_to_gt_ids(gt_semantic, sample.gt_instance),
                        pred_masks=masks.reshape(-1, sample.num_points),
                        pred_labels=classes,
                        pred_scores=scores,
                        name=sample.name,
                    )
                )
                accuracies.append(
                    overlap_accuracy(pseudo, sample.gt_instance, sample.member_points, sample.member_boxes)
                )
                ious.append(mean_instance_iou(pseudo, sample.gt_instance, np.arange(sample.num_boxes)))
    finally:
        model.train(was_training)
    if not scene_evals:
        nan = float("nan")
        return {
            "ap": nan,
            "ap50": nan,
            "ap25": nan,
            "macc": nan,
            "macc_pooled": nan,
            "miou": nan,
            "scenes": 0,
        }
    result = evaluate_instances(scene_evals, class_ids=range(len(class_set)), class_names=class_set.names)
    macc, macc_pooled = pooled_overlap_accuracy(accuracies)
    miou_values = [r.value for r in ious if r.count]
    return {
        "ap": result.ap,
        "ap50": result.ap50,
        "ap25": result.ap25,
        "macc": macc,
        "macc_pooled": macc_pooled,
        "miou": float(np.mean(miou_values)) if miou_values else float("nan"),
        "scenes": len(scene_evals),
    }


#: Figures a run can pick its best checkpoint by ("auto": AP, else mACC, else mean instance IoU).
SELECTION_FIGURES = ("auto", "ap", "macc", "macc_pooled", "miou")

#: The figures that break ties on the chosen one, in order: the teacher's overlap accuracy (what the
#: annotation tool uses the network for), then its mean instance IoU.
TIE_BREAKERS = ("macc", "miou")


def _finite_or_minus_inf(value: float | None) -> float:
    return float(value) if value is not None and math.isfinite(value) else float("-inf")


def selection_score(figures: dict[str, float], select_by: str = "auto") -> float:
    """The figure that picks the best checkpoint (-inf when it is missing or not finite).

    ``select_by`` "auto" takes the student's AP, else the teacher's mACC, else mean instance IoU; a
    figure's name takes that figure alone ("macc" for a run whose teacher resolves overlaps). This is
    the figure a run reports as its best; :func:`selection_key` is what runs are compared by.
    """
    if select_by not in SELECTION_FIGURES:
        raise ValueError(f"select_by must be one of {SELECTION_FIGURES}, got {select_by!r}")
    for key in ("ap", "macc", "miou") if select_by == "auto" else (select_by,):
        value = figures.get(key)
        if value is not None and math.isfinite(value):
            return float(value)
    return float("-inf")


def selection_key(figures: dict[str, float], select_by: str = "auto") -> tuple[float, ...]:
    """What evaluations are compared by to pick the best checkpoint: compare the tuples, larger is better.

    The chosen figure comes first ("auto" means the student's AP), then the tie-breakers of
    :data:`TIE_BREAKERS` that are not the chosen figure: the teacher's mACC, then its mean instance
    IoU. Missing or non-finite figures count as -inf.

    Why the tie-break: a CPU-sized student scores an AP of exactly 0.0 at every evaluation of a short
    run, so AP alone never improves after the first evaluation and ``best.safetensors`` would stay at
    it, however much the teacher improved. The teacher's overlap accuracy is what the annotation tool
    uses the network for, so among equal APs the checkpoint whose teacher resolves overlaps best is kept.
    Ties are exact equality: any difference in the chosen figure decides first.

    Parameters
    ----------
    figures
        One evaluation's figures (:func:`evaluate`).
    select_by
        One of :data:`SELECTION_FIGURES`.

    Returns
    -------
    tuple of float
        (chosen figure, tie-breakers...), each -inf when missing.
    """
    if select_by not in SELECTION_FIGURES:
        raise ValueError(f"select_by must be one of {SELECTION_FIGURES}, got {select_by!r}")
    primary = "ap" if select_by == "auto" else select_by
    order = (primary, *(name for name in TIE_BREAKERS if name != primary))
    return tuple(_finite_or_minus_inf(figures.get(name)) for name in order)
