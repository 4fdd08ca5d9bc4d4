"""ScanNet AP rules on hand-built scenes whose AP is worked out in the comments.

AP integration recap (used in the comments): sort by score, one (precision, recall) point per unique score
plus a final (1, 0); the step width of point k is (r[k-1] - r[k+1]) / 2 with r[-1] = r[0] and r[K] = 0.
A single true positive and nothing else gives points (1, 1), (1, 0): widths 0.5, 0.5, AP = 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from beep3d.classes import S3DIS13_NAMES
from beep3d.errors import Beep3dError
from beep3d.metrics import (
    SceneEval,
    evaluate_instances,
    instances_to_gt_ids,
    masks_from_instance_ids,
    read_scannet_gt,
    read_scannet_predictions,
    write_scannet_gt,
    write_scannet_predictions,
)
from beep3d.metrics.scannet_ap import AP_THRESHOLDS

CHAIR, TABLE, WALL = 5, 7, 1


def layout(*segments: tuple[int, int]) -> np.ndarray:
    """GT ids from consecutive (gt_id, length) runs."""
    return np.concatenate([np.full(length, gt_id, dtype=np.int64) for gt_id, length in segments])


def mask(n: int, *ranges: tuple[int, int]) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for start, stop in ranges:
        out[start:stop] = True
    return out


def scene(gt_ids, masks, labels, scores) -> SceneEval:
    return SceneEval(gt_ids, np.array(masks).reshape(len(masks), len(gt_ids)), labels, scores)


def test_thresholds_are_the_nine_of_the_benchmark():
    assert len(AP_THRESHOLDS) == 9
    assert AP_THRESHOLDS[0] == 0.5 and AP_THRESHOLDS[-1] == pytest.approx(0.9)


def test_perfect_prediction_scores_one_and_other_classes_are_left_out():
    gt = layout((CHAIR * 1000 + 1, 200), (CHAIR * 1000 + 2, 200), (0, 50))
    s = scene(gt, [gt == 5001, gt == 5002], [CHAIR, CHAIR], [0.9, 0.8])
    result = evaluate_instances([s])
    assert (result.ap, result.ap50, result.ap25) == (1.0, 1.0, 1.0)
    assert result.per_class_ap["chair"] == 1.0
    assert math.isnan(result.per_class_ap["table"])  # no GT: NaN, not 0
    assert "chair" in result.table() and "average" in result.table()


def test_iou_exactly_at_threshold_does_not_match():
    # GT: 200 chair points; prediction: those 200 plus 200 void points -> IoU = 200 / 400 = 0.5 exactly.
    # At 0.50 (and above) no match: the GT is a false negative, the prediction a false positive (its void
    # share 0.5 does not exceed 0.5) -> AP 0. At 0.25 it matches -> 1. So AP = 0, AP50 = 0, AP25 = 1.
    gt = layout((5001, 200), (0, 200))
    result = evaluate_instances([scene(gt, [np.ones(400, bool)], [CHAIR], [0.7])])
    assert result.ap50 == 0.0 and result.ap == 0.0 and result.ap25 == 1.0
    # One void point fewer: IoU = 200 / 399 > 0.5 -> matches at 0.50 (only): AP50 = 1, AP = 1/9.
    result = evaluate_instances([scene(gt[:399], [np.ones(399, bool)], [CHAIR], [0.7])])
    assert result.ap50 == 1.0 and result.ap == pytest.approx(1 / 9)


def test_iou_at_exactly_a_quarter_does_not_match_at_ap25():
    # GT 100 points, prediction 100 GT points + 300 void: IoU = 100 / 400 = 0.25 -> no match at 0.25.
    gt = layout((5001, 100), (0, 300))
    result = evaluate_instances([scene(gt, [np.ones(400, bool)], [CHAIR], [0.7])])
    assert result.ap25 == 0.0


def test_small_gt_is_ignored_and_a_prediction_on_it_is_no_false_positive():
    # Chair A (200 points) predicted exactly. Chair B has 99 points: ignored (no false negative). The
    # prediction covering B plus 21 void points (120 points) matches nothing counted, and its share on
    # void + ignored GT is 120 / 120 > every threshold: not a false positive. AP = 1 everywhere.
    gt = layout((5001, 200), (5002, 99), (0, 21))
    n = len(gt)
    s = scene(gt, [mask(n, (0, 200)), mask(n, (200, 320))], [CHAIR, CHAIR], [0.5, 0.9])
    result = evaluate_instances([s])
    assert (result.ap, result.ap50, result.ap25) == (1.0, 1.0, 1.0)


def test_class_with_only_small_gt_has_no_gt():
    gt = layout((5001, 99), (0, 10))
    result = evaluate_instances([scene(gt, [gt == 5001], [CHAIR], [0.9])])
    assert math.isnan(result.ap) and math.isnan(result.per_class_ap["chair"])


def test_gt_of_exactly_100_points_counts():
    gt = layout((5001, 100), (0, 10))
    result = evaluate_instances([scene(gt, [gt == 5001], [CHAIR], [0.9])])
    assert result.ap == 1.0


def fp_case(fp_points: int) -> float:
    # Chair GT 200 points predicted exactly at score 0.5; a second chair prediction of `fp_points` points
    # lies on table GT (not void, not chair) at score 0.9.
    # If it counts, it is a false positive above the true positive:
    #   scores ascending 0.5 (TP), 0.9 (FP): points (p, r) = (1/2, 1), (0, 0), final (1, 0);
    #   widths (1 - 0) / 2 = 0.5, (1 - 0) / 2 = 0.5, (0 - 0) / 2 = 0 -> AP = 0.25.
    # With fewer than 100 points it is skipped -> AP = 1.
    gt = layout((5001, 200), (7001, 200))
    n = len(gt)
    s = scene(gt, [mask(n, (0, 200)), mask(n, (200, 200 + fp_points))], [CHAIR, CHAIR], [0.5, 0.9])
    return evaluate_instances([s]).per_class_ap50["chair"]


def test_predictions_under_100_points_are_skipped():
    assert fp_case(99) == 1.0
    assert fp_case(100) == pytest.approx(0.25)


def test_prediction_mostly_on_void_is_not_a_false_positive():
    # Exact chair prediction (score 0.5) plus a chair prediction (score 0.9) of 150 points on wall (label 1,
    # not evaluated) and unlabelled points: void share 1.0 -> ignored at every threshold, AP = 1.
    gt = layout((5001, 200), (WALL * 1000 + 1, 100), (0, 50), (7001, 200))
    n = len(gt)
    s = scene(gt, [mask(n, (0, 200)), mask(n, (200, 350))], [CHAIR, CHAIR], [0.5, 0.9])
    result = evaluate_instances([s])
    assert result.per_class_ap["chair"] == 1.0
    # Void share 60 / 150 = 0.4 (rest on the table): ignored at 0.25 (0.4 > 0.25) but a false positive at
    # 0.50 (0.4 <= 0.5) -> AP25 = 1 and AP50 = 0.25 (the false positive above the true positive, as in
    # fp_case).
    s = scene(gt, [mask(n, (0, 200)), mask(n, (290, 440))], [CHAIR, CHAIR], [0.5, 0.9])
    result = evaluate_instances([s])
    assert result.per_class_ap25["chair"] == 1.0
    assert result.per_class_ap50["chair"] == pytest.approx(0.25)


@pytest.mark.parametrize("duplicate_score", [0.7, 0.9])
def test_duplicate_match_lower_score_becomes_false_positive(duplicate_score):
    # Chairs G1, G2 (200 points each). P1 = G1 exactly, score 0.8; P2 = 190 points of G1 (IoU 0.95, a
    # duplicate) with `duplicate_score`; P3 = G2 exactly, score 0.6.
    # Either way G1 keeps the higher score and the lower one is the false positive:
    #   ascending: 0.6 TP, {0.7 or 0.8} FP, {0.8 or 0.9} TP; 2 true among 3.
    #   points: (2/3, 1), (1/2, 1/2), (1, 1/2), final (1, 0); widths 1/4 each -> AP = 1/6 + 1/8 + 1/4 + 1/4
    #   = 19/24. (Making the later prediction the false positive instead would give 5/12 for 0.9.)
    gt = layout((5001, 200), (5002, 200))
    n = len(gt)
    masks = [mask(n, (0, 200)), mask(n, (0, 190)), mask(n, (200, 400))]
    result = evaluate_instances([scene(gt, masks, [CHAIR] * 3, [0.8, duplicate_score, 0.6])])
    assert result.ap == pytest.approx(19 / 24)
    assert result.ap50 == pytest.approx(19 / 24)


def test_label_mismatch_never_matches():
    # A perfect mask labelled table: chair has GT and no prediction -> 0; table has no GT -> NaN, left out.
    gt = layout((5001, 200), (0, 10))
    result = evaluate_instances([scene(gt, [gt == 5001], [TABLE], [0.9])])
    assert result.per_class_ap["chair"] == 0.0
    assert math.isnan(result.per_class_ap["table"])
    assert result.ap == 0.0
    # A label that is not evaluated (wall) is skipped the same way.
    result = evaluate_instances([scene(gt, [gt == 5001], [WALL], [0.9])])
    assert result.ap == 0.0


def test_two_classes_are_averaged_equally_and_nan_classes_left_out():
    # Chair: perfect -> AP 1. Table: prediction = 144 of its 200 points, IoU 0.72 -> matches at
    # 0.50, 0.55, 0.60, 0.65, 0.70 (5 of 9) -> AP 5/9, AP50 = AP25 = 1. The 16 classes without GT
    # are NaN and left out: mean AP = (1 + 5/9) / 2 = 7/9.
    gt = layout((5001, 200), (7001, 200))
    n = len(gt)
    s = scene(gt, [mask(n, (0, 200)), mask(n, (200, 344))], [CHAIR, TABLE], [0.9, 0.9])
    result = evaluate_instances([s])
    assert result.per_class_ap["table"] == pytest.approx(5 / 9)
    assert result.ap == pytest.approx(7 / 9)
    assert result.ap50 == 1.0 and result.ap25 == 1.0
    # A third class (bed) with GT but no prediction scores 0 and counts: (1 + 5/9 + 0) / 3.
    gt3 = np.concatenate([gt, np.full(200, 4001)])
    masks = np.zeros((2, len(gt3)), bool)
    masks[:, :n] = s.pred_masks
    result = evaluate_instances([scene(gt3, masks, [CHAIR, TABLE], [0.9, 0.9])])
    assert result.ap == pytest.approx((1 + 5 / 9) / 3)


def test_scenes_are_pooled_per_class():
    # Scene 1: chair found; scene 2: chair missed. One TP and one false negative: points (1, 1/2), (1, 0),
    # widths 1/4, 1/4 -> AP = 0.5.
    gt = layout((5001, 200))
    found = scene(gt, [gt == 5001], [CHAIR], [0.9])
    missed = scene(gt, np.zeros((0, 200), bool), [], [])
    assert evaluate_instances([found, missed]).ap == pytest.approx(0.5)


def test_generic_label_space_with_class_zero():
    semantic = np.array([0] * 150 + [8] * 150 + [3] * 20)
    instance = np.array([4] * 150 + [9] * 150 + [-1] * 20)
    gt = instances_to_gt_ids(semantic, instance)
    assert set(np.unique(gt)) == {0, 1, 8001}  # each class numbers its own instances
    masks, labels, scores = masks_from_instance_ids(instance, semantic)
    result = evaluate_instances([SceneEval(gt, masks, labels, scores)], range(13), S3DIS13_NAMES)
    assert result.per_class_ap["ceiling"] == 1.0 and result.per_class_ap["chair"] == 1.0
    assert math.isnan(result.per_class_ap["beam"])
    assert result.ap == 1.0


def test_instances_to_gt_ids_uses_the_majority_label_and_keeps_void():
    semantic = np.array([5, 5, 7, 1, -1, 5])
    instance = np.array([3, 3, 3, 8, -1, -1])
    gt = instances_to_gt_ids(semantic, instance)
    assert gt.tolist() == [5001, 5001, 5001, 1001, 0, 0]


def test_masks_from_instance_ids_mean_confidence():
    ids = np.array([2, 2, -1, 7, 7, 7])
    semantic = np.array([5, 5, -1, 7, 7, 3])
    confidence = np.array([1.0, 0.5, 1.0, 0.2, 0.4, 0.6], dtype=np.float32)
    masks, labels, scores = masks_from_instance_ids(ids, semantic, confidence)
    assert masks.tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1]]
    assert labels.tolist() == [5, 7]
    assert scores == pytest.approx([0.75, 0.4])


def test_shape_mismatch_is_a_user_error():
    with pytest.raises(Beep3dError, match="points"):
        SceneEval(np.zeros(10), np.zeros((1, 9), bool), [5], [1.0])


def test_benchmark_files_round_trip(tmp_path):
    gt = layout((5001, 200), (7001, 150), (0, 30))
    n = len(gt)
    masks = np.stack([gt == 5001, gt == 7001])
    txt = write_scannet_predictions(tmp_path / "pred", "scene0011_00", masks, [CHAIR, TABLE], [0.9, 0.25])
    lines = txt.read_text().splitlines()
    assert lines[0].startswith("pred_mask/scene0011_00_") and lines[0].endswith(" 5 0.900000")
    first_mask = (txt.parent / lines[0].split()[0]).read_text().split()
    assert first_mask[:2] == ["1", "1"] and len(first_mask) == n
    read_masks, labels, scores = read_scannet_predictions(txt, n)
    assert (read_masks == masks).all() and labels.tolist() == [5, 7] and scores == pytest.approx([0.9, 0.25])
    write_scannet_gt(tmp_path / "gt" / "scene0011_00.txt", gt)
    assert (read_scannet_gt(tmp_path / "gt" / "scene0011_00.txt") == gt).all()
    with pytest.raises(Beep3dError, match="points"):
        read_scannet_predictions(txt, n + 1)
