"""The student's losses on one scene: MAFT's matched mask, class, centre and score losses over every
decoder layer, the project's loss on the teacher's query layout, and the consistency terms (eq. 7-10).

:class:`~beep3d.model.beep3d_model.Beep3DModel` calls :func:`scene_losses` for each scene of a batch and
combines the parts with eq. 11 and 12 (:mod:`beep3d.model.losses`).
"""

from __future__ import annotations

import torch

from beep3d.model.batch import Batch
from beep3d.model.config import ModelConfig
from beep3d.model.decoder import DecoderOutput, SceneContext
from beep3d.model.losses import (
    center_loss,
    classification_loss,
    feature_consistency_loss,
    mask_bce_loss,
    mask_dice_loss,
    query_consistency_loss,
    score_loss,
    student_mask_features,
    teacher_mask_features,
)
from beep3d.model.matching import hungarian_match, matching_cost
from beep3d.model.network import MaftNetwork
from beep3d.model.pseudo_masks import superpoint_target_masks
from beep3d.model.teacher_result import TeacherResult

#: The parts :func:`scene_losses` returns (each summed over decoder layers where it has layers).
LOSS_PARTS = (
    "bce",
    "dice",
    "cls",
    "center",
    "score",
    "query_consistency",
    "feature_consistency",
    "center_queries",
)


def scene_losses(
    student: MaftNetwork,
    config: ModelConfig,
    batch: Batch,
    b: int,
    scene: SceneContext,
    output: DecoderOutput,
    labels: torch.Tensor,
    teacher: TeacherResult | None,
    ignore_shared: bool = False,
) -> dict[str, torch.Tensor]:
    xyz = batch.xyz[b]
    box_classes = batch.box_classes[b]
    num_boxes = box_classes.shape[0]
    num_superpoints = scene.superpoint_features.shape[0]
    labels = labels.to(xyz.device)
    targets = superpoint_target_masks(labels, scene.superpoints, num_boxes, num_superpoints)
    target_centers = mask_target_centers(xyz, labels, batch.box_centers[b])
    zero = output.content.sum() * 0.0
    parts = {name: zero for name in LOSS_PARTS}
    weights = (config.w_cls, config.w_bce, config.w_dice, config.w_center)
    student_query_per_box = torch.full((num_boxes,), -1, dtype=torch.long, device=xyz.device)
    keep = None
    if ignore_shared:
        # superpoints whose points mostly lie in several boxes carry no label yet: leave them out
        shared = torch.bincount(batch.member_points[b], minlength=xyz.shape[0]) >= 2
        shared_share = torch.zeros(num_superpoints, device=xyz.device).index_add_(
            0, scene.superpoints, shared.float()
        ) / torch.bincount(scene.superpoints, minlength=num_superpoints).clamp(min=1)
        keep = shared_share < 0.5
        targets = targets[:, keep]
    # Boxes without a single target superpoint (nested boxes before the teacher gives them points,
    # boxes whose points the teacher gave to others) are not matched: a query matched to an empty
    # target would learn that the object in that box does not exist.
    supervised = torch.nonzero(targets.sum(dim=1) > 0).squeeze(1)
    for layer in output.layers:
        mask_logits = layer.mask_logits if keep is None else layer.mask_logits[:, keep]
        if supervised.numel() == 0:
            query_index = torch.zeros(0, dtype=torch.long, device=xyz.device)
            box_index = query_index
        else:
            cost = matching_cost(
                layer.class_logits,
                mask_logits,
                layer.centers,
                box_classes[supervised],
                targets[supervised],
                target_centers[supervised],
                weights,
            )
            query_index, local_box_index = hungarian_match(cost)
            box_index = supervised[local_box_index]
        matched_logits = mask_logits[query_index]
        matched_targets = targets[box_index]
        parts["bce"] = parts["bce"] + mask_bce_loss(matched_logits, matched_targets)
        parts["dice"] = parts["dice"] + mask_dice_loss(matched_logits, matched_targets)
        parts["cls"] = parts["cls"] + classification_loss(
            layer.class_logits, query_index, box_classes[box_index], config.no_object_weight
        )
        parts["center"] = parts["center"] + center_loss(layer.centers[query_index], target_centers[box_index])
        parts["score"] = parts["score"] + score_loss(
            layer.scores[query_index], matched_logits, matched_targets
        )
    student_query_per_box[box_index] = query_index
    if config.w_center_queries > 0 and supervised.numel():
        parts["center_queries"] = center_query_loss(
            student, config, scene, batch.box_centers[b], box_classes, targets, supervised, keep
        )
    if teacher is not None and num_boxes and config.use_query_consistency:
        parts["query_consistency"] = query_consistency_loss(
            output.content, teacher.content, student_query_per_box, teacher.matched_query
        )
    if teacher is not None and num_boxes and config.use_feature_consistency:
        parts["feature_consistency"] = feature_consistency(
            scene, output, teacher, student_query_per_box, num_boxes
        )
    return parts


def center_query_loss(
    student: MaftNetwork,
    config: ModelConfig,
    scene: SceneContext,
    box_centers: torch.Tensor,
    box_classes: torch.Tensor,
    targets: torch.Tensor,
    supervised: torch.Tensor,
    keep: torch.Tensor | None,
) -> torch.Tensor:
    """Auxiliary loss (``w_center_queries``): the student decoded with the teacher's query layout.

    One query per box at its centre, kept there after every layer (as the teacher's eq. 6 does with
    ``teacher_query_init: box_centers``); query k is paired with box k (no matching) and gets mask
    BCE + Dice and class cross-entropy against box k's target, summed over layers. Boxes without
    target superpoints (``supervised`` lists the others) are left out.

    Parameters
    ----------
    box_centers
        (K, 3) metres.
    box_classes
        (K,) int64.
    targets
        (K, S') 0/1 target masks over the superpoints in ``keep`` (all when None).
    supervised
        (K',) int64 boxes with at least one target superpoint.
    """
    centers = scene.normalise(box_centers[supervised])
    output = student.decoder(scene, centers, lambda positions: centers)
    classes = box_classes[supervised]
    own = torch.arange(supervised.numel(), device=classes.device)
    total = output.content.sum() * 0.0
    for layer in output.layers:
        logits = layer.mask_logits if keep is None else layer.mask_logits[:, keep]
        total = (
            total
            + config.w_bce * mask_bce_loss(logits, targets[supervised])
            + config.w_dice * mask_dice_loss(logits, targets[supervised])
            + config.w_cls * classification_loss(layer.class_logits, own, classes, config.no_object_weight)
        )
    return total


def mask_target_centers(xyz: torch.Tensor, labels: torch.Tensor, box_centers: torch.Tensor) -> torch.Tensor:
    """(K, 3) mean position of each target mask's points (the box centre for an empty mask), metres."""
    num_boxes = box_centers.shape[0]
    keep = labels >= 0
    sums = torch.zeros(num_boxes, 3, device=xyz.device, dtype=xyz.dtype).index_add_(
        0, labels[keep], xyz[keep]
    )
    counts = torch.bincount(labels[keep], minlength=num_boxes).to(xyz.dtype)
    return torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], box_centers)


def feature_consistency(
    scene: SceneContext,
    output: DecoderOutput,
    teacher: TeacherResult,
    student_query_per_box: torch.Tensor,
    num_boxes: int,
) -> torch.Tensor:
    """Eq. 8-10 for one scene: teacher means over m^l u m^u-hat, student means over its predicted masks."""
    teacher_means, teacher_valid = teacher_mask_features(
        teacher.mask_features, teacher.labels, scene.superpoints, num_boxes
    )
    student_means, student_valid = student_mask_features(
        output.mask_features, output.final.mask_logits, student_query_per_box, scene.superpoint_sizes
    )
    return feature_consistency_loss(teacher_means, student_means, teacher_valid & student_valid)
