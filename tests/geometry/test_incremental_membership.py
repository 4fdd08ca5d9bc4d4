"""After an edit of a few boxes, the membership is updated, and equals a full recompute."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from beep3d.geometry.boxes import Box, BoxSet, PointIndex
from beep3d.geometry.overlap import point_membership
from beep3d.scene import Scene

RNG = np.random.default_rng(0)
XYZ = RNG.uniform(0, 4, size=(6000, 3)).astype(np.float32)
INDEX = PointIndex(XYZ)


def boxes_from(params: list[tuple[float, float, float, float, float]]) -> BoxSet:
    return BoxSet(
        [Box(i + 1, "chair", (x, y, 1.0), (sx, sy, 1.5), yaw) for i, (x, y, sx, sy, yaw) in enumerate(params)]
    )


box_params = st.tuples(
    st.floats(0, 4), st.floats(0, 4), st.floats(0.05, 2), st.floats(0.05, 2), st.floats(-3.1, 3.1)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(box_params, min_size=1, max_size=12),
    st.data(),
)
def test_updating_a_few_changed_boxes_equals_recomputing(params, data):
    before = boxes_from(params)
    previous = before.membership(XYZ, INDEX)
    changed = data.draw(st.sets(st.integers(0, len(params) - 1), max_size=3))
    edited = list(params)
    for position in changed:
        edited[position] = data.draw(box_params)
    after = boxes_from(edited)
    updated = after.updated_membership(previous, before, INDEX)
    full = after.membership(XYZ, INDEX)
    assert updated is not None
    np.testing.assert_array_equal(updated.point_index, full.point_index)
    np.testing.assert_array_equal(updated.box_index, full.box_index)


def test_adding_or_deleting_boxes_is_not_an_in_place_edit():
    before = boxes_from([(1, 1, 1, 1, 0), (2, 2, 1, 1, 0)])
    previous = before.membership(XYZ, INDEX)
    assert boxes_from([(1, 1, 1, 1, 0)]).updated_membership(previous, before, INDEX) is None


def test_the_scene_remembers_its_last_membership_and_updates_it():
    scene = Scene(xyz=XYZ, rgb=np.zeros((len(XYZ), 3), np.uint8))
    first = boxes_from([(1, 1, 1, 1, 0), (2, 2, 1, 1, 0.3)])
    assert point_membership(scene, first) is point_membership(scene, first)
    moved = boxes_from([(1.1, 1, 1, 1, 0), (2, 2, 1, 1, 0.3)])
    full = moved.membership(XYZ, scene.point_index)
    np.testing.assert_array_equal(point_membership(scene, moved).point_index, full.point_index)
