import math

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet, PointIndex, boxes_from_instances


def brute_force(xyz: np.ndarray, boxes: BoxSet) -> np.ndarray:
    return np.stack([b.contains(xyz) for b in boxes], axis=1) if len(boxes) else np.zeros((len(xyz), 0), bool)


def test_rotated_box_contains_points_along_its_own_axes():
    box = Box(1, "table", (0, 0, 0), (2.0, 0.2, 1.0), yaw=math.pi / 4)
    along = np.array([[0.6, 0.6, 0.0], [-0.6, -0.6, 0.0]])  # on the long axis after 45 degrees
    across = np.array([[0.6, -0.6, 0.0]])  # on the short axis: outside
    assert box.contains(along).all()
    assert not box.contains(across).any()


def test_membership_matches_brute_force_for_random_yawed_boxes():
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-3, 3, size=(20000, 3))
    boxes = BoxSet(
        Box(i, "chair", rng.uniform(-2, 2, 3), rng.uniform(0.2, 2.0, 3), rng.uniform(-math.pi, math.pi))
        for i in range(25)
    )
    membership = boxes.membership(xyz)
    np.testing.assert_array_equal(membership.dense(), brute_force(xyz, boxes))
    np.testing.assert_array_equal(membership.counts(), brute_force(xyz, boxes).sum(axis=1))
    assert np.all(np.diff(membership.point_index) >= 0)


def test_membership_reuses_a_point_index_and_handles_empty_sets():
    xyz = np.zeros((5, 3))
    index = PointIndex(xyz)
    assert BoxSet().membership(xyz, index).counts().tolist() == [0] * 5
    boxes = BoxSet([Box(7, "sofa", (0, 0, 0), (1, 1, 1))])
    assert boxes.membership(xyz, index).counts().tolist() == [1] * 5


def test_boundary_points_are_inside():
    box = Box(0, "cabinet", (0, 0, 0), (1, 1, 1))
    assert box.contains(np.array([[0.5, 0.5, 0.5], [-0.5, 0.0, 0.0]])).all()


def test_box_rejects_bad_values():
    with pytest.raises(Beep3dError, match="negative"):
        Box(0, "chair", (0, 0, 0), (1, -1, 1))
    with pytest.raises(Beep3dError, match="finite"):
        Box(0, "chair", (0, float("nan"), 0), (1, 1, 1))
    with pytest.raises(Beep3dError, match="unique"):
        BoxSet([Box(1, "chair", (0, 0, 0), (1, 1, 1)), Box(1, "table", (1, 0, 0), (1, 1, 1))])


def test_boxset_edits_are_persistent_and_keep_order():
    a, b = Box(0, "chair", (0, 0, 0), (1, 1, 1)), Box(5, "table", (2, 0, 0), (1, 1, 1))
    boxes = BoxSet([a, b])
    moved = boxes.with_box(a.moved(center=(0.5, 0, 0)))
    assert boxes[0].center == (0.0, 0.0, 0.0)
    assert moved[0].center == (0.5, 0.0, 0.0) and moved.ids.tolist() == [0, 5]
    assert boxes.next_id() == 6
    assert boxes.without(0).ids.tolist() == [5]


def test_corners_are_inside_the_axis_aligned_bounds():
    box = Box(0, "bed", (1, 2, 0.5), (2, 1, 1), yaw=0.3)
    lo, hi = BoxSet([box]).aabbs()
    corners = box.corners()
    assert np.all(corners >= lo[0] - 1e-9) and np.all(corners <= hi[0] + 1e-9)
    assert np.isclose(corners[:, 0].min(), lo[0, 0]) and np.isclose(corners[:, 1].max(), hi[0, 1])


def test_boxes_from_instances_add_the_margin_and_skip_wall_and_floor():
    xyz = np.array([[0, 0, 0], [1, 1, 1], [5, 5, 0], [6, 6, 0], [9, 9, 9]], dtype=np.float32)
    instance = np.array([3, 3, 4, 4, -1])
    semantic = np.array([5, 5, 2, 2, 0])
    boxes = boxes_from_instances(xyz, instance, semantic, {5: "chair"}, skip_semantic=(1, 2))
    assert len(boxes) == 1
    box = boxes[0]
    assert box.id == 3 and box.label == "chair"
    np.testing.assert_allclose(box.size, [1.01, 1.01, 1.01], atol=1e-6)
    np.testing.assert_allclose(box.center, [0.5, 0.5, 0.5], atol=1e-6)
