"""The view's points without a window (beep3d.app.point_cloud): upload order, picking, how many to draw."""

from __future__ import annotations

import numpy as np

from beep3d.app.camera import OrbitCamera
from beep3d.app.point_cloud import PointCloud, interactive_count


def test_a_shuffled_cloud_keeps_every_point_and_its_colour():
    rng = np.random.default_rng(3)
    xyz = rng.uniform(
        [500_000.0, 4_000_000.0, 0.0], [500_010.0, 4_000_010.0, 3.0], (5000, 3)
    )  # map coordinates
    rgb = rng.integers(0, 255, (5000, 3), dtype=np.uint8)
    cloud = PointCloud(xyz, shuffle=True)
    assert cloud.order is not None and not np.array_equal(cloud.order, np.arange(5000))
    np.testing.assert_allclose(cloud.xyz + cloud.origin, xyz[cloud.order].astype(np.float32), atol=1e-3)
    np.testing.assert_array_equal(cloud.in_upload_order(rgb), rgb[cloud.order])
    plain = PointCloud(xyz, shuffle=False)
    assert plain.order is None
    np.testing.assert_array_equal(plain.in_upload_order(rgb), rgb)


def test_pick_finds_the_nearest_point_under_the_cursor_and_skips_clipped_ones():
    xyz = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [2.0, 2.0, 0.0]])
    cloud = PointCloud(xyz, shuffle=False)
    camera = OrbitCamera(distance=6.0)
    camera.set_preset("top")
    camera.fit(np.array([-3.0, -3.0, 0.0]), np.array([3.0, 3.0, 1.0]))
    mvp = camera.view_projection(400, 400)
    pixels, _ = camera.project(np.array([[0.0, 0.0, 0.0]]), 400, 400)
    x, y = pixels[0]
    np.testing.assert_allclose(cloud.pick(mvp, 400, 400, x, y, 4.0), [0, 0, 1])  # the top one
    below = (np.array([-1.0, -1.0, -0.5]), np.array([1.0, 1.0, 0.5]))
    np.testing.assert_allclose(cloud.pick(mvp, 400, 400, x, y, 4.0, clip=below), [0, 0, 0])
    assert cloud.pick(mvp, 400, 400, 5.0, 5.0, 4.0) is None  # nothing in that corner
    assert PointCloud(np.zeros((0, 3)), shuffle=False).pick(mvp, 400, 400, x, y, 4.0) is None


def test_interactive_count_draws_all_of_a_small_cloud_and_fewer_when_frames_are_slow():
    assert interactive_count(1000, 600_000, 150_000, 0.08, None) == 1000
    assert interactive_count(2_000_000, 600_000, 150_000, 0.08, None) == 600_000
    assert interactive_count(2_000_000, 600_000, 150_000, 0.08, 0.4 / 2_000_000) == 400_000
    assert interactive_count(2_000_000, 600_000, 150_000, 0.08, 1e-5) == 150_000  # never below the minimum
