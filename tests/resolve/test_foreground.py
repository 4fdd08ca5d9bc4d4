"""The foreground stage: a box's floor, wall and ceiling points leave its mask; its object stays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.resolve.foreground import (
    REASON_FLOOR,
    REASON_OBJECT,
    REASON_WALL,
    GeometricForeground,
    NoForeground,
    get_foreground,
)
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolution import DECIDED_BY_FOREGROUND
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene
from tests.geometry.test_room_surfaces import grid, room_with_table


def cube_surface(centre: np.ndarray, half: float, step: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Points and outward normals on the four sides and the top of a cube (its bottom is on the floor)."""
    ticks = np.arange(-half, half + 1e-9, step)
    face = grid(ticks, ticks)
    xyz, normals = [], []
    for axis, sign in ((0, 1), (0, -1), (1, 1), (1, -1), (2, 1)):
        points = np.zeros((len(face), 3))
        others = [a for a in range(3) if a != axis]
        points[:, others[0]], points[:, others[1]] = face[:, 0], face[:, 1]
        points[:, axis] = sign * half
        normal = np.zeros(3)
        normal[axis] = sign
        xyz.append(points + centre)
        normals.append(np.tile(normal, (len(face), 1)))
    return np.concatenate(xyz), np.concatenate(normals)


def room_scene(floor_noise: float = 0.0) -> tuple[Scene, dict[str, np.ndarray]]:
    """The test room, a 0.6 m cube on the floor, and a 'picture' flush on the east wall.

    ``floor_noise``: standard deviation (metres) of the floor points' heights, as on real scans.

    Instance ids: cube 1, picture 2, everything else -1. Superpoints: one per part (the room's
    surfaces each one, the cube one, the picture one).
    """
    xyz, normals, index = room_with_table()
    if floor_noise:
        xyz[index["floor"], 2] += np.random.default_rng(3).normal(0, floor_noise, len(index["floor"]))
    cube_xyz, cube_normals = cube_surface(np.array([3.0, 1.0, 0.3]), 0.3)
    # the picture: 0.6 x 0.4 m on the east wall (x = 4), facing west, 5 mm in front of it
    py = grid(np.arange(1.2, 1.8, 0.02), np.arange(1.2, 1.6, 0.02))
    picture = np.column_stack([np.full(len(py), 3.995), py])
    parts = [xyz, cube_xyz, picture]
    all_normals = [normals, cube_normals, np.tile([-1.0, 0, 0], (len(picture), 1))]
    xyz = np.concatenate(parts)
    n_room, n_cube = len(parts[0]), len(cube_xyz)
    instance = np.full(len(xyz), -1)
    instance[n_room : n_room + n_cube] = 1
    instance[n_room + n_cube :] = 2
    superpoints = np.zeros(len(xyz), dtype=np.int64)
    for label, idx in enumerate(index.values()):
        superpoints[idx] = label
    superpoints[n_room : n_room + n_cube] = len(index)
    superpoints[n_room + n_cube :] = len(index) + 1
    scene = Scene(
        xyz=xyz.astype(np.float32),
        rgb=np.full((len(xyz), 3), 128, np.uint8),
        normals=np.concatenate(all_normals).astype(np.float32),
        superpoints=superpoints,
        instance=instance,
        name="room",
    )
    parts_index = {
        "cube": np.arange(n_room, n_room + n_cube),
        "picture": np.arange(n_room + n_cube, len(xyz)),
        **index,
    }
    return scene, parts_index


def loose_boxes() -> BoxSet:
    """A loose box around the cube (reaching below the floor and into the east wall's side) and the picture."""
    return BoxSet(
        [
            Box(1, "cabinet", np.array([3.0, 1.0, 0.32]), np.array([0.8, 0.8, 0.76]), 0.0),
            Box(2, "picture", np.array([3.98, 1.5, 1.4]), np.array([0.08, 0.7, 0.5]), 0.0),
        ]
    )


ROOM = room_scene()


@pytest.fixture(scope="module")
def room():
    return ROOM


def test_the_floor_under_an_object_leaves_its_box_and_the_object_stays(room):
    scene, parts = room
    boxes = loose_boxes()
    result = annotate(scene, boxes, get_resolver("smallest-box"), foreground=GeometricForeground())
    ids = result.resolution.instance_ids
    assert np.all(ids[parts["cube"]] == 1)
    floor_in_box = parts["floor"][np.isin(parts["floor"], result.membership.point_index)]
    assert len(floor_in_box) > 50
    assert np.all(ids[floor_in_box] == -1)
    assert np.all(result.foreground.reason[floor_in_box] == REASON_FLOOR)
    assert np.all(result.resolution.decided_by[floor_in_box] == DECIDED_BY_FOREGROUND)
    assert np.all(result.resolution.confidence[floor_in_box] >= 0.5)
    assert np.all(result.foreground.reason[parts["cube"]] == REASON_OBJECT)
    assert 0.0 < result.foreground.box_share[0] < 0.5
    assert result.labels.background_reason is not None


def test_a_picture_on_the_wall_keeps_its_points_and_the_wall_around_it_leaves(room):
    scene, parts = room
    result = annotate(scene, loose_boxes(), get_resolver("smallest-box"), foreground=GeometricForeground())
    assert np.all(result.resolution.instance_ids[parts["picture"]] == 2)  # its own patch, wholly inside
    wall_in_box = parts["wall_east"][np.isin(parts["wall_east"], result.membership.point_index)]
    assert len(wall_in_box) > 20
    assert np.all(result.resolution.instance_ids[wall_in_box] == -1)


def test_a_box_lying_in_a_wall_patch_keeps_its_points_and_is_reported(room):
    scene, parts = room
    merged = scene.superpoints.copy()
    merged[parts["picture"]] = merged[parts["wall_east"][0]]  # segmentation merged it into the wall
    scene = dataclasses.replace(scene, superpoints=merged)
    result = annotate(scene, loose_boxes(), get_resolver("smallest-box"), foreground=GeometricForeground())
    assert np.all(result.resolution.instance_ids[parts["picture"]] == 2)
    assert result.foreground.kept_surface.tolist() == [False, True]
    assert ("in_surface", (2,)) in {(p.kind, p.box_ids) for p in result.problems}


def test_the_wall_behind_an_object_leaves_its_box(room):
    scene, parts = room
    # a box around the cube that also reaches the east wall (x = 4): the wall's patch runs far beyond
    # it, so its points leave; the cube's own superpoint is wholly inside, so its top (parallel to
    # the floor, 0.6 m up) and its side facing the wall stay
    box = Box(1, "cabinet", np.array([3.35, 1.0, 0.35]), np.array([1.4, 0.8, 0.8]), 0.0)
    result = annotate(scene, BoxSet([box]), get_resolver("smallest-box"), foreground=GeometricForeground())
    wall_in_box = parts["wall_east"][np.isin(parts["wall_east"], result.membership.point_index)]
    assert len(wall_in_box) > 20
    assert np.all(result.foreground.reason[wall_in_box] == REASON_WALL)
    assert np.all(result.resolution.instance_ids[parts["cube"]] == 1)


def test_the_stage_never_moves_points_to_another_box_or_adds_points(room):
    scene, _ = room
    boxes = loose_boxes()
    resolver = get_resolver("smallest-box")
    off = annotate(scene, boxes, resolver)
    on = annotate(scene, boxes, resolver, foreground=GeometricForeground())
    changed = off.resolution.instance_ids != on.resolution.instance_ids
    assert changed.any()
    assert np.all(on.resolution.instance_ids[changed] == -1)
    assert np.array_equal(off.analysis.counts, on.analysis.counts)


def test_off_keeps_every_point_a_box_holds(room):
    scene, _ = room
    boxes = loose_boxes()
    resolver = get_resolver("smallest-box")
    result = annotate(scene, boxes, resolver, foreground=NoForeground())
    assert np.array_equal(result.resolution.instance_ids, resolver.resolve(scene, boxes).instance_ids)
    assert not result.foreground.background.any()


def test_no_boxes_and_unknown_modes(room):
    scene, _ = room
    result = annotate(scene, BoxSet([]), get_resolver("smallest-box"), foreground=GeometricForeground())
    assert np.all(result.resolution.instance_ids == -1)
    with pytest.raises(Beep3dError, match="unknown foreground mode 'tight'"):
        get_foreground("tight")
    with pytest.raises(Beep3dError, match="needs the teacher"):
        get_foreground("model")


def test_geometric_masks_are_tighter_than_boxes_on_a_synthetic_room():
    """Synthetic rooms have walls and furniture flush against them: IoU rises, it does not fall."""
    from beep3d.metrics.mask_quality import mean_instance_iou
    from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

    scene, boxes = make_room(EVAL_SEED_START + 1)
    resolver = get_resolver("smallest-box")
    off = annotate(scene, boxes, resolver)
    geometric = annotate(scene, boxes, resolver, foreground=GeometricForeground())
    before = mean_instance_iou(off.resolution.instance_ids, scene.instance, boxes.ids).value
    after = mean_instance_iou(geometric.resolution.instance_ids, scene.instance, boxes.ids).value
    assert after > before + 0.01


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)), min_size=1, max_size=6)
)
def test_after_edits_the_stage_redoes_only_touched_boxes_and_equals_a_fresh_run(edits):
    """The window's stage remembers its last result; after each box move it must equal a fresh one."""
    scene, _ = ROOM
    boxes = [
        Box(1, "cabinet", (3.0, 1.0, 0.32), (0.8, 0.8, 0.76), 0.0),
        Box(2, "picture", (3.98, 1.5, 1.4), (0.08, 0.7, 0.5), 0.0),
        Box(3, "table", (2.5, 1.0, 0.5), (1.0, 0.9, 1.0), 0.4),  # overlaps the cabinet: points change boxes
    ]
    resolver = get_resolver("smallest-box")
    stage = GeometricForeground()
    for position, dx, dy in edits:
        box = boxes[position]
        boxes[position] = Box(
            box.id, box.label, (box.center[0] + dx, box.center[1] + dy, box.center[2]), box.size, box.yaw
        )
        box_set = BoxSet(list(boxes))
        remembered = annotate(scene, box_set, resolver, foreground=stage).foreground
        fresh = annotate(scene, box_set, resolver, foreground=GeometricForeground()).foreground
        np.testing.assert_array_equal(remembered.reason, fresh.reason)
        np.testing.assert_array_equal(remembered.confidence, fresh.confidence)
        np.testing.assert_array_equal(remembered.box_share, fresh.box_share)
        np.testing.assert_array_equal(remembered.kept_surface, fresh.kept_surface)
