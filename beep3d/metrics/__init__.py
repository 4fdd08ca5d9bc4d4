"""Metrics: ScanNet instance AP / AP50 / AP25 and the quality of pseudo-masks made from boxes."""

from beep3d.metrics.mask_quality import (
    InstanceIoU,
    OverlapAccuracy,
    gt_instances_as_box_ids,
    instances_of_classes,
    mean_instance_iou,
    nested_overlap_points,
    overlap_accuracy,
    pooled_overlap_accuracy,
)
from beep3d.metrics.scannet_ap import (
    AP_THRESHOLDS,
    APResult,
    SceneEval,
    evaluate_instances,
    instances_to_gt_ids,
    masks_from_instance_ids,
    read_scannet_gt,
    read_scannet_predictions,
    write_scannet_gt,
    write_scannet_predictions,
)

__all__ = [
    "AP_THRESHOLDS",
    "APResult",
    "InstanceIoU",
    "OverlapAccuracy",
    "SceneEval",
    "evaluate_instances",
    "gt_instances_as_box_ids",
    "instances_of_classes",
    "instances_to_gt_ids",
    "masks_from_instance_ids",
    "mean_instance_iou",
    "overlap_accuracy",
    "nested_overlap_points",
    "pooled_overlap_accuracy",
    "read_scannet_gt",
    "read_scannet_predictions",
    "write_scannet_gt",
    "write_scannet_predictions",
]
