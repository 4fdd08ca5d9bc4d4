import math

import numpy as np
import pytest

from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.overlap import OverlapAnalysis, membership_for
from beep3d.resolve.diagnostics import box_inside, box_iou_3d, diagnose
from beep3d.resolve.resolvers import SmallestBoxResolver


def kinds(problems):
    return sorted(p.kind for p in problems)


def analyse(grid_scene, boxes):
    return OverlapAnalysis.from_membership(membership_for(grid_scene, boxes))


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    a = Box(0, "chair", (0, 0, 0), (1, 1, 1))
    assert box_iou_3d(a, a) == pytest.approx(1.0)
    assert box_iou_3d(a, a.moved(center=(5, 0, 0))) == 0.0
    assert box_iou_3d(a, a.moved(center=(0.5, 0, 0))) == pytest.approx(1 / 3)


def test_iou_is_rotation_aware():
    a = Box(0, "table", (0, 0, 0), (2, 0.5, 1))
    b = a.moved(yaw=math.pi / 2)  # a cross: intersection 0.5 x 0.5
    assert box_iou_3d(a, b) == pytest.approx(0.25 / (1 + 1 - 0.25))
    assert box_iou_3d(a, a.moved(yaw=math.pi)) == pytest.approx(1.0)


def test_nested_box_is_reported_with_both_ids(grid_scene):
    outer = Box(1, "bookshelf", (0.5, 0.5, 0.5), (0.9, 0.9, 0.9))
    inner = Box(2, "otherfurniture", (0.5, 0.5, 0.5), (0.2, 0.2, 0.2))
    assert box_inside(inner, outer) and not box_inside(outer, inner)
    problems = diagnose(BoxSet([outer, inner]), analyse(grid_scene, BoxSet([outer, inner])))
    nested = [p for p in problems if p.kind == "nested"]
    assert len(nested) == 1 and nested[0].box_ids == (2, 1)
    assert "entirely inside" in nested[0].message
    assert len(nested[0].point_index) > 0
    # the inner box also has no point of its own
    assert "no_exclusive_points" in kinds(problems)


def test_empty_degenerate_and_duplicate_boxes(grid_scene):
    boxes = BoxSet(
        [
            Box(1, "chair", (0.3, 0.3, 0.3), (0.3, 0.3, 0.3)),
            Box(2, "chair", (0.31, 0.3, 0.3), (0.3, 0.3, 0.3)),  # near-duplicate of 1
            Box(3, "table", (5, 5, 5), (1, 1, 1)),  # empty: far from the points
            Box(4, "door", (0.8, 0.8, 0.5), (0.5, 0.005, 0.5)),  # degenerate: 5 mm thick
        ]
    )
    problems = diagnose(boxes, analyse(grid_scene, boxes))
    assert "near_duplicate" in kinds(problems)
    assert [p.box_ids for p in problems if p.kind == "empty"] == [(3,)]
    assert [p.box_ids for p in problems if p.kind == "degenerate"] == [(4,)]
    for problem in problems:
        assert problem.message.endswith(".") and str(problem.box_ids[0]) in problem.message


def test_clean_boxes_have_no_problems(grid_scene):
    boxes = BoxSet(
        [Box(1, "chair", (0.2, 0.2, 0.2), (0.3, 0.3, 0.3)), Box(2, "table", (0.7, 0.7, 0.7), (0.3, 0.3, 0.3))]
    )
    assert diagnose(boxes, analyse(grid_scene, boxes)) == []


def test_low_confidence_overlap_is_reported_when_a_resolution_is_given(grid_scene):
    # two equal boxes overlapping by half: the smallest-box rule cannot tell them apart (confidence 0)
    boxes = BoxSet(
        [Box(1, "chair", (0.35, 0.5, 0.5), (0.5, 1, 1)), Box(2, "chair", (0.65, 0.5, 0.5), (0.5, 1, 1))]
    )
    analysis = analyse(grid_scene, boxes)
    resolution = SmallestBoxResolver().resolve(grid_scene, boxes)
    assert "low_confidence" not in kinds(diagnose(boxes, analysis))
    low = [p for p in diagnose(boxes, analysis, resolution) if p.kind == "low_confidence"]
    assert len(low) == 1 and low[0].box_ids == (1, 2)
    assert np.all(analysis.counts[low[0].point_index] == 2)
    assert f"decided by volume rule {len(low[0].point_index):,}" in low[0].message


def test_superpoint_membership_box_with_points_but_no_superpoint_is_not_called_pointless(grid_scene):
    """At superpoint membership a box holding a sliver of a large superpoint gets no point; it is
    told what is true (its points, and what to do), not that it contains no points."""
    from dataclasses import replace

    from beep3d.resolve.pipeline import annotate

    scene = replace(grid_scene, superpoints=np.zeros(grid_scene.num_points, dtype=np.int64))
    sliver = Box(1, "chair", (0.05, 0.05, 0.05), (0.12, 0.12, 0.12))  # 3 x 3 x 3 grid points
    nowhere = Box(2, "table", (5.0, 5.0, 5.0), (0.5, 0.5, 0.5))
    boxes = BoxSet([sliver, nowhere])
    result = annotate(scene, boxes, SmallestBoxResolver(level="superpoint"), level="superpoint")
    messages = {p.box_ids: p.message for p in result.problems if p.kind == "empty"}
    assert "holds 27 points but no superpoint mostly inside it" in messages[(1,)]
    assert "point membership" in messages[(1,)] and "contains no points" not in messages[(1,)]
    assert "contains no points" in messages[(2,)]
    # point membership: the sliver holds its points, so it is not empty
    analysis = analyse(scene, boxes)
    assert [p.box_ids for p in diagnose(boxes, analysis) if p.kind == "empty"] == [(2,)]
