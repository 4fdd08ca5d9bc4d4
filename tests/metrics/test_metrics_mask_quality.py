"""Pseudo-mask quality: accuracy in box overlaps (mACC) and mean instance IoU, on hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.metrics import (
    gt_instances_as_box_ids,
    mean_instance_iou,
    overlap_accuracy,
    pooled_overlap_accuracy,
)


def pairs(*membership: tuple[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Sparse (point, box id) pairs from (point, [box ids]) entries."""
    points = [p for p, boxes in membership for _ in boxes]
    box_ids = [b for _, boxes in membership for b in boxes]
    return np.array(points, dtype=np.int64), np.array(box_ids, dtype=np.int64)


def test_overlap_accuracy_counts_only_overlap_points_of_their_own_boxes():
    # 7 points, boxes 10 and 20.
    # p0: only in box 10 (not an overlap point)           -> not eligible
    # p1: in 10 and 20, GT 10, predicted 10               -> eligible, right
    # p2: in 10 and 20, GT 20, predicted 10               -> eligible, wrong
    # p3: in 10 and 20, GT 20, predicted 20               -> eligible, right
    # p4: in 10 and 20, GT -1 (background)                -> not eligible
    # p5: in 10 and 20, GT 30 (an object with another box) -> not eligible
    # p6: in no box                                        -> not eligible
    # accuracy = 2 right / 3 eligible
    pred = np.array([10, 10, 10, 20, 10, 20, -1])
    gt = np.array([10, 10, 20, 20, -1, 30, -1])
    points, box_ids = pairs(
        (0, [10]), (1, [10, 20]), (2, [10, 20]), (3, [10, 20]), (4, [10, 20]), (5, [10, 20])
    )
    result = overlap_accuracy(pred, gt, points, box_ids)
    assert (result.correct, result.eligible) == (2, 3)
    assert result.value == pytest.approx(2 / 3)


def test_overlap_accuracy_without_overlap_points_is_nan():
    pred = np.array([1, 2])
    gt = np.array([1, 2])
    points, box_ids = pairs((0, [1]), (1, [2]))
    result = overlap_accuracy(pred, gt, points, box_ids)
    assert result.eligible == 0 and math.isnan(result.value)


def test_mean_over_scenes_and_pooled_differ_as_defined():
    # Scene A: 1 of 1 right; scene B: 1 of 3 right; scene C: nothing eligible (left out).
    # Mean over scenes (1 + 1/3) / 2 = 2/3; pooled over points 2 / 4 = 1/2.
    a = overlap_accuracy(np.array([1]), np.array([1]), *pairs((0, [1, 2])))
    b = overlap_accuracy(
        np.array([1, 2, 2]), np.array([1, 1, 1]), *pairs((0, [1, 2]), (1, [1, 2]), (2, [1, 2]))
    )
    c = overlap_accuracy(np.array([1]), np.array([1]), *pairs((0, [1])))
    mean, pooled = pooled_overlap_accuracy([a, b, c])
    assert mean == pytest.approx(2 / 3) and pooled == pytest.approx(1 / 2)


def test_overlap_accuracy_rejects_points_outside_the_scene():
    with pytest.raises(Beep3dError, match="outside"):
        overlap_accuracy(np.zeros(2), np.zeros(2), np.array([5]), np.array([0]))


def test_mean_instance_iou_over_boxed_instances():
    # Instance 1 (4 points) has box 1; pseudo-mask of box 1 = its first 3 points + 1 point of instance 2:
    #   IoU = 3 / 5. Instance 2 (3 points) has box 2; pseudo-mask = its other 2 points: IoU = 2 / 3.
    # Instance 3 has no box: not evaluated. Mean = (3/5 + 2/3) / 2 = 19/30.
    gt = np.array([1, 1, 1, 1, 2, 2, 2, 3, 3, -1])
    pred = np.array([1, 1, 1, -1, 1, 2, 2, -1, -1, -1])
    result = mean_instance_iou(pred, gt, box_ids=[1, 2])
    assert result.per_instance == pytest.approx({1: 3 / 5, 2: 2 / 3})
    assert result.value == pytest.approx(19 / 30) and result.count == 2


def test_mean_instance_iou_without_boxed_instances_is_nan():
    result = mean_instance_iou(np.array([0, 0]), np.array([5, 5]), box_ids=[1])
    assert result.count == 0 and math.isnan(result.value)


def test_boxes_stand_for_the_gt_instance_with_most_points_inside():
    # GT instances 7 (points 0-3) and 8 (points 4-6). Box 100 holds points 0-4 (4 of instance 7, 1 of 8)
    # -> instance 7. Box 200 holds points 3-6 (1 of 7, 3 of 8) -> instance 8. Box 300 holds points 0-1
    # (instance 7, 2 points) but box 100 holds more of instance 7 and keeps it.
    gt = np.array([7, 7, 7, 7, 8, 8, 8, -1])
    points = np.array([0, 1, 2, 3, 4, 3, 4, 5, 6, 0, 1])
    box_ids = np.array([100, 100, 100, 100, 100, 200, 200, 200, 200, 300, 300])
    gt_box_ids, box_to_instance = gt_instances_as_box_ids(gt, points, box_ids)
    assert box_to_instance == {100: 7, 200: 8}
    assert gt_box_ids.tolist() == [100, 100, 100, 100, 200, 200, 200, -1]


def test_nested_overlap_points_are_those_shared_with_a_box_without_points_of_its_own():
    from beep3d.metrics.mask_quality import nested_overlap_points, overlap_accuracy

    # box 7 holds points 0-3 alone and shares 4-5 with box 8, which also holds point 8 alone (a partial
    # overlap); box 9 lies wholly inside box 7: its points 6-7 are all shared, so they are nested
    points = np.array([0, 1, 2, 3, 4, 5, 4, 5, 8, 6, 7, 6, 7])
    boxes = np.array([7, 7, 7, 7, 7, 7, 8, 8, 8, 7, 7, 9, 9])
    nested = nested_overlap_points(points, boxes, 10)
    assert nested.tolist() == [False] * 6 + [True, True] + [False] * 2
    pred = np.array([7, 7, 7, 7, 8, 8, 7, 9, 8, -1])
    gt = np.array([7, 7, 7, 7, 8, 8, 9, 9, 8, -1])
    in_nested = overlap_accuracy(pred, gt, points, boxes, subset=nested)
    assert (in_nested.correct, in_nested.eligible) == (1, 2)
    assert overlap_accuracy(pred, gt, points, boxes, subset=~nested).value == 1.0


def test_a_small_box_mostly_holding_another_boxed_object_still_stands_for_its_own():
    # a door box holds 100 door points (instance 5) and 150 of a cabinet (instance 7), whose own box
    # holds all its 600 points: the door box stands for the door (each box taking the instance with
    # most points inside left the door without a box, and out of the figures)
    gt = np.concatenate([np.full(100, 5), np.full(600, 7)])
    points = np.concatenate([np.arange(100), np.arange(100, 250), np.arange(100, 700)])
    box_ids = np.concatenate([np.full(250, 20), np.full(600, 30)])
    gt_box_ids, box_to_instance = gt_instances_as_box_ids(gt, points, box_ids)
    assert box_to_instance == {20: 5, 30: 7}
    assert (gt_box_ids[:100] == 20).all() and (gt_box_ids[100:] == 30).all()


def test_boxes_numbered_like_instances_are_paired_by_their_points_not_their_ids():
    # an annotator's boxes 0 and 1 drawn around instances 1 and 0: the ids agree only by chance
    gt = np.array([0, 0, 0, 1, 1, 1])
    points = np.array([3, 4, 5, 0, 1, 2])
    box_ids = np.array([0, 0, 0, 1, 1, 1])
    gt_box_ids, box_to_instance = gt_instances_as_box_ids(gt, points, box_ids)
    assert box_to_instance == {0: 1, 1: 0}
    assert gt_box_ids.tolist() == [1, 1, 1, 0, 0, 0]
    # boxes derived from the GT (each holding its own instance) keep their ids
    _, derived = gt_instances_as_box_ids(gt, np.arange(6), gt)
    assert derived == {0: 0, 1: 1}


def test_only_instances_of_the_evaluated_classes_are_paired_with_boxes():
    from beep3d.metrics.mask_quality import instances_of_classes

    # a door box (instance 5, class 8) holding more wall (instance 1, class 1) than door
    gt = np.concatenate([np.full(100, 5), np.full(400, 1)])
    semantic = np.concatenate([np.full(100, 8), np.full(400, 1)])
    candidates = instances_of_classes(semantic, gt, class_ids=(8, 5, 7))
    assert candidates.tolist() == [5]
    _, unrestricted = gt_instances_as_box_ids(gt, np.arange(500), np.full(500, 9))
    _, restricted = gt_instances_as_box_ids(gt, np.arange(500), np.full(500, 9), candidates=candidates)
    assert unrestricted == {9: 1} and restricted == {9: 5}
