"""Drawing on real floors: F fits the object's points without floor and wall, and never grows a box."""

from __future__ import annotations

import numpy as np

from beep3d.geometry.box_fitting import shrink_box_to_points
from beep3d.geometry.boxes import Box
from beep3d.geometry.room_surfaces import room_of
from beep3d.scene import Scene
from tests.conftest import shared_file
from tests.resolve.test_foreground import room_scene


def test_shrinking_never_grows_a_box():
    rng = np.random.default_rng(0)
    block = rng.uniform([-0.5, -0.5, 0.0], [0.5, 0.5, 1.0], size=(4000, 3))
    small = Box(1, "chair", (0.0, 0.0, 0.5), (0.4, 0.4, 0.4), 0.3)
    shrunk = shrink_box_to_points(small, block, floor_height=0.0)
    assert np.all(np.asarray(shrunk.size) <= np.asarray(small.size) + 1e-9)
    corners = np.asarray(shrunk.corners())
    assert small.contains(corners * 0.999 + np.asarray(shrunk.center) * 0.001).all()


def test_shrinking_a_loose_box_leaves_the_floor_and_wall_out():
    scene, _parts = room_scene(floor_noise=0.03)  # a real floor's points spread about 10 cm
    room = room_of(scene)
    # the cube (0.6 m at x 2.7..3.3, y 0.7..1.3, z 0..0.6), boxed 15 cm loose and 10 cm below the floor
    loose = Box(1, "cabinet", (3.0, 1.0, 0.3), (0.9, 0.9, 0.8), 0.0)
    without = shrink_box_to_points(loose, scene.xyz, floor_height=0.0)
    with_surfaces = shrink_box_to_points(
        loose, scene.xyz, floor_height=0.0, background=room.points.on_surface
    )
    # without the surfaces the floor points above the 3 cm floor margin keep the box as wide as it was
    assert without.size[0] > 0.75  # the floor grid reaches 0.8 m across inside the box
    np.testing.assert_allclose(with_surfaces.size[:2], [0.61, 0.61], atol=0.02)
    assert with_surfaces.center[2] - with_surfaces.size[2] / 2 >= -0.01


def point_iou(box: Box, xyz: np.ndarray, truth: np.ndarray) -> float:
    held = box.contains(xyz)
    return float(np.sum(held & truth) / np.sum(held | truth))


def test_f_on_real_chairs_boxed_loose_tightens_them():
    """scene0423_00's chairs with boxes 10 cm loose: F shrinks each, and their masks gain IoU."""
    from beep3d.classes import SCANNET18
    from beep3d.geometry.boxes import boxes_from_instances
    from beep3d.io import load_scene

    scene: Scene = load_scene(shared_file("scannet_scene0423_00/scene0423_00_labeled.ply"))
    names = {i: n for n, i in zip(SCANNET18.names, SCANNET18.ids, strict=True)}
    tight = boxes_from_instances(scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(1, 2))
    room = room_of(scene)
    floor = room.floor_height_at(scene.xyz.mean(axis=0))
    gains = []
    for box in tight:
        loose = Box(box.id, box.label, box.center, tuple(np.asarray(box.size) + 0.2), box.yaw)
        shrunk = shrink_box_to_points(loose, scene.xyz, floor_height=floor, background=room.points.on_surface)
        assert np.prod(shrunk.size) < np.prod(loose.size)
        truth = scene.instance == box.id
        gains.append(point_iou(shrunk, scene.xyz, truth) - point_iou(loose, scene.xyz, truth))
    assert np.mean(gains) > 0.1
