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


def test_a_superpoint_membership_edit_equals_superpoint_membership_after_the_edit():
    """Random scenes, superpoints, shares and one box replaced: the edit's membership equals a full
    lift of the new point membership, and its old and new pairs are its points' rows before and after."""
    from beep3d.geometry.overlap import superpoint_membership, superpoint_membership_edit

    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(50, 400))
        xyz = rng.uniform(0, 2, (n, 3)).astype(np.float32)
        cells = np.floor(xyz / rng.uniform(0.2, 0.8)).astype(np.int64)
        superpoints = np.unique(cells, axis=0, return_inverse=True)[1].ravel()
        scene = Scene(xyz=xyz, rgb=np.zeros((n, 3), np.uint8), superpoints=superpoints, name="t")
        boxes = [
            Box(
                i + 1,
                "chair",
                tuple(rng.uniform(0, 2, 3)),
                tuple(rng.uniform(0.1, 1.5, 3)),
                rng.uniform(-3, 3),
            )
            for i in range(int(rng.integers(1, 6)))
        ]
        before = BoxSet(boxes)
        share = float(rng.choice([0.3, 0.5, 1.0]))
        points_before = before.membership(scene.xyz, index=scene.point_index)
        members_before = superpoint_membership(points_before, superpoints, share)
        j = int(rng.integers(len(boxes)))
        boxes[j] = Box(j + 1, "chair", tuple(rng.uniform(0, 2, 3)), tuple(rng.uniform(0.1, 1.5, 3)))
        after = BoxSet(boxes)
        edit = superpoint_membership_edit(
            after.membership_edit(points_before, before, scene.point_index),
            members_before,
            superpoints,
            share,
        )
        full = superpoint_membership(after.membership(scene.xyz, index=scene.point_index), superpoints, share)
        np.testing.assert_array_equal(edit.membership.point_index, full.point_index)
        np.testing.assert_array_equal(edit.membership.box_index, full.box_index)
        for pairs, (points, boxes_of) in (
            (members_before, (edit.old_point, edit.old_box)),
            (full, (edit.new_point, edit.new_box)),
        ):
            rows = np.isin(pairs.point_index, edit.points)
            np.testing.assert_array_equal(pairs.point_index[rows], points)
            np.testing.assert_array_equal(pairs.box_index[rows], boxes_of)
        outside = ~np.isin(members_before.point_index, edit.points)  # every other point keeps its boxes
        assert set(
            zip(members_before.point_index[outside], members_before.box_index[outside], strict=True)
        ) <= set(zip(full.point_index, full.box_index, strict=True))
