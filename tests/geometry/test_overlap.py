import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.overlap import (
    BACKGROUND,
    MULTI_BOX,
    SINGLE_BOX,
    OverlapAnalysis,
    membership_for,
    superpoint_membership,
)
from beep3d.scene import Scene


def line_scene(superpoints=None) -> Scene:
    """Ten points on the x axis at x = 0..9."""
    xyz = np.stack([np.arange(10.0), np.zeros(10), np.zeros(10)], axis=1)
    return Scene(xyz=xyz, rgb=np.zeros((10, 3)), superpoints=superpoints)


def test_counts_categories_and_per_box_figures():
    scene = line_scene()
    # box A holds x = 0..4, box B holds x = 3..6: x = 3, 4 are shared, 7..9 background
    boxes = BoxSet([Box(10, "table", (2, 0, 0), (4.2, 1, 1)), Box(20, "chair", (4.5, 0, 0), (3.2, 1, 1))])
    analysis = OverlapAnalysis.from_membership(membership_for(scene, boxes))
    assert analysis.counts.tolist() == [1, 1, 1, 2, 2, 1, 1, 0, 0, 0]
    assert (
        analysis.category.tolist() == [SINGLE_BOX] * 3 + [MULTI_BOX] * 2 + [SINGLE_BOX] * 2 + [BACKGROUND] * 3
    )
    assert analysis.exclusive.tolist() == [3, 2]
    assert analysis.shared.tolist() == [2, 2]
    assert analysis.total.tolist() == [5, 4]
    assert analysis.num_multi == 2 and analysis.num_single == 5
    assert analysis.multi_share_of_boxed == pytest.approx(2 / 7)


def test_superpoint_membership_keeps_a_mostly_outside_segment_out():
    # superpoint 0 = x 0..5 (a "floor" segment), superpoint 1 = x 6..9 (the object)
    scene = line_scene(superpoints=np.array([0] * 6 + [1] * 4))
    boxes = BoxSet([Box(1, "cabinet", (7, 0, 0), (4.2, 1, 1))])  # holds x = 5..9
    point_level = membership_for(scene, boxes, "point")
    assert point_level.counts().tolist() == [0] * 5 + [1] * 5
    sp_level = membership_for(scene, boxes, "superpoint", share=0.5)
    assert sp_level.counts().tolist() == [0] * 6 + [1] * 4


def test_superpoint_membership_completes_a_segment_mostly_inside():
    scene = line_scene(superpoints=np.array([0] * 5 + [1] * 5))
    boxes = BoxSet([Box(1, "sofa", (6.5, 0, 0), (3.2, 1, 1))])  # holds x = 5..8 (4 of superpoint 1's 5)
    sp_level = membership_for(scene, boxes, "superpoint", share=0.5)
    assert sp_level.counts().tolist() == [0] * 5 + [1] * 5
    strict = membership_for(scene, boxes, "superpoint", share=1.0)
    assert strict.counts().sum() == 0


def test_superpoint_membership_matches_a_per_superpoint_loop_on_random_data():
    rng = np.random.default_rng(3)
    xyz = rng.uniform(0, 4, size=(3000, 3))
    superpoints = np.unique(np.floor(xyz / 0.5).astype(int) @ np.array([64, 8, 1]), return_inverse=True)[1]
    boxes = BoxSet(
        Box(i, "chair", rng.uniform(0.5, 3.5, 3), rng.uniform(0.5, 2, 3), rng.uniform(0, 3)) for i in range(8)
    )
    point_level = boxes.membership(xyz)
    result = superpoint_membership(point_level, superpoints, share=0.3).dense()
    dense = point_level.dense()
    expected = np.zeros_like(dense)
    for sp in np.unique(superpoints):
        members = superpoints == sp
        expected[members] = dense[members].mean(axis=0) >= 0.3
    np.testing.assert_array_equal(result, expected)


def test_bad_share_and_level_are_refused():
    scene = line_scene(superpoints=np.zeros(10, dtype=int))
    boxes = BoxSet([Box(1, "sofa", (0, 0, 0), (1, 1, 1))])
    with pytest.raises(Beep3dError, match="share"):
        membership_for(scene, boxes, "superpoint", share=0.0)
    with pytest.raises(Beep3dError, match="membership level"):
        membership_for(scene, boxes, "voxel")  # type: ignore[arg-type]
