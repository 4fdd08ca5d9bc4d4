import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.resolve.resolvers import NearestCentreResolver, SmallestBoxResolver, get_resolver
from beep3d.scene import Scene


@pytest.fixture
def table_and_chair():
    """Points along x; a big table box over x 0..8 and a small chair box over x 5..8."""
    xyz = np.stack([np.arange(10.0), np.zeros(10), np.zeros(10)], axis=1)
    scene = Scene(xyz=xyz, rgb=np.zeros((10, 3)), name="line")
    boxes = BoxSet([Box(4, "table", (4, 0, 0), (8.2, 1, 1)), Box(7, "chair", (6.5, 0, 0), (3.2, 1, 1))])
    return scene, boxes


def test_smallest_box_gives_shared_points_to_the_smaller_box(table_and_chair):
    scene, boxes = table_and_chair
    result = SmallestBoxResolver().resolve(scene, boxes)
    assert result.instance_ids.tolist() == [4, 4, 4, 4, 4, 7, 7, 7, 7, -1]
    assert result.semantic_ids.tolist() == [7] * 5 + [5] * 4 + [-1]  # NYU40 table 7, chair 5
    assert result.overlap_counts.tolist() == [1] * 5 + [2] * 4 + [0]
    # confidence: 1 outside overlaps, 1 - V_chair / V_table inside
    expected = 1 - (3.2 / 8.2)
    np.testing.assert_allclose(result.confidence[5:9], expected, rtol=1e-5)
    assert np.all(result.confidence[[0, 1, 2, 3, 4, 9]] == 1)
    assert result.instance_ids.dtype == np.int32 and result.confidence.dtype == np.float32


def test_nearest_centre_splits_shared_points_by_distance(table_and_chair):
    scene, boxes = table_and_chair
    result = NearestCentreResolver().resolve(scene, boxes)
    # shared x = 5..8: table centre 4, chair centre 6.5 -> x=5 to table (1 < 1.5), 6, 7, 8 to chair
    assert result.instance_ids.tolist() == [4, 4, 4, 4, 4, 4, 7, 7, 7, -1]
    np.testing.assert_allclose(result.confidence[5], 1 - 1.0 / 1.5, rtol=1e-5)


def test_resolvers_only_choose_among_containing_boxes():
    rng = np.random.default_rng(1)
    xyz = rng.uniform(0, 5, size=(5000, 3))
    scene = Scene(xyz=xyz, rgb=np.zeros((5000, 3)))
    boxes = BoxSet(
        Box(i * 3, "chair", rng.uniform(1, 4, 3), rng.uniform(0.5, 3, 3), rng.uniform(0, 3))
        for i in range(10)
    )
    dense = boxes.membership(xyz).dense()
    for resolver in (SmallestBoxResolver(), NearestCentreResolver()):
        ids = resolver.resolve(scene, boxes).instance_ids
        assigned = ids >= 0
        assert np.array_equal(assigned, dense.any(axis=1))
        positions = np.searchsorted(boxes.ids, ids[assigned])
        assert dense[np.flatnonzero(assigned), positions].all()


def test_unknown_resolver_is_a_clear_error():
    with pytest.raises(Beep3dError, match="smallest-box"):
        get_resolver("largest-box")


def test_rule_resolvers_report_their_rule_for_contested_points():
    from beep3d.resolve.resolution import DECIDED_BY_CENTRE_RULE, DECIDED_BY_ONE_BOX, DECIDED_BY_VOLUME_RULE

    xyz = np.array([[0.1, 0, 0], [0.5, 0, 0], [0.9, 0, 0], [5, 5, 5]], dtype=np.float32)
    scene = Scene(xyz=xyz, rgb=np.zeros((4, 3), np.uint8))
    boxes = BoxSet(
        [Box(1, "chair", (0.3, 0, 0), (0.8, 1, 1), 0.0), Box(2, "table", (0.7, 0, 0), (0.8, 1, 1), 0.0)]
    )
    for name, code in (("smallest-box", DECIDED_BY_VOLUME_RULE), ("nearest-centre", DECIDED_BY_CENTRE_RULE)):
        result = get_resolver(name).resolve(scene, boxes)
        assert result.decided_by.tolist() == [
            DECIDED_BY_ONE_BOX,
            code,
            DECIDED_BY_ONE_BOX,
            DECIDED_BY_ONE_BOX,
        ]
