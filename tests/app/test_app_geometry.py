"""The view's numpy parts without a window: camera, handles and ray tests, colour modes, refit parsing."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from beep3d.app.camera import OrbitCamera
from beep3d.app.colouring import PointLabels, point_colours
from beep3d.app.handles import box_handles, drag_handle, ray_box_hit
from beep3d.app.refit import find_checkpoint, parse_progress, refit_arguments
from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.geometry.boxes import Box


def test_project_and_unproject_round_trip_in_both_projections():
    camera = OrbitCamera(
        target=np.array([1.0, 2.0, 0.5]), distance=6.0, scene_center=np.array([1.0, 2.0, 0.5])
    )
    camera.scene_radius = 5.0
    points = np.array([[1.0, 2.0, 0.5], [2.0, 1.5, 1.0], [0.0, 3.0, 0.0]])
    for orthographic in (False, True):
        camera.orthographic = orthographic
        pixels, visible = camera.project(points, 800, 600)
        assert visible.all()
        for (x, y), point in zip(pixels, points, strict=True):
            origin, direction = camera.ray(x, y, 800, 600)
            closest = origin + direction * np.dot(point - origin, direction)
            np.testing.assert_allclose(closest, point, atol=1e-6)
    camera.orthographic = False
    pixels, _ = camera.project(points[:1], 800, 600)
    np.testing.assert_allclose(pixels[0], [400, 300], atol=1e-6)  # the target is in the middle


def test_top_view_has_x_right_and_y_up_and_zoom_keeps_the_anchor_still():
    camera = OrbitCamera(distance=5.0)
    camera.set_preset("top")
    right, up, forward = camera.axes()
    np.testing.assert_allclose([right, up, forward], [[1, 0, 0], [0, 1, 0], [0, 0, -1]], atol=1e-9)
    assert camera.heading_yaw() == pytest.approx(0.0)
    camera.set_preset("perspective")
    anchor = np.array([0.7, -0.4, 0.2])
    before, _ = camera.project(anchor[None], 800, 600)
    camera.zoom_about(0.5, anchor)
    after, _ = camera.project(anchor[None], 800, 600)
    np.testing.assert_allclose(before, after, atol=1e-6)
    assert camera.distance == pytest.approx(2.5)


def test_near_and_far_planes_enclose_the_scene():
    camera = OrbitCamera(target=np.zeros(3), distance=10.0, scene_center=np.zeros(3), scene_radius=3.0)
    near, far = camera.clip_planes()
    assert 0 < near <= 10 - 3 and far >= 10 + 3


def test_face_drag_moves_one_face_and_yaw_drag_turns():
    box = Box(1, "chair", (0.0, 0.0, 0.5), (1.0, 1.0, 1.0))
    handles = box_handles(box)
    np.testing.assert_allclose(handles["+x"], [0.5, 0, 0.5])
    # a ray straight down through x = 1.0 drags the +x face there
    wider = drag_handle(box, "+x", np.array([1.0, 0.0, 5.0]), np.array([0.0, 0.0, -1.0]), np.zeros(3))
    np.testing.assert_allclose(wider.size, [1.5, 1.0, 1.0])
    np.testing.assert_allclose(wider.center, [0.25, 0.0, 0.5])
    turned = drag_handle(box, "yaw", np.array([0.0, 2.0, 5.0]), np.array([0.0, 0.0, -1.0]), np.zeros(3))
    assert turned.yaw == pytest.approx(math.pi / 2)
    moved = drag_handle(box, "center", np.array([3.0, 1.0, 5.0]), np.array([0.0, 0.0, -1.0]), np.zeros(3))
    np.testing.assert_allclose(moved.center, [3.0, 1.0, 0.5])


def test_ray_box_hit():
    box = Box(1, "chair", (0.0, 0.0, 0.0), (2.0, 2.0, 2.0), yaw=0.3)
    assert ray_box_hit(np.array([0.0, 0.0, 5.0]), np.array([0.0, 0.0, -1.0]), box) == pytest.approx(4.0)
    assert ray_box_hit(np.array([5.0, 5.0, 5.0]), np.array([0.0, 0.0, -1.0]), box) is None


def test_colour_modes_tint_but_keep_the_original_colours_visible():
    rgb = np.array([[200, 0, 0], [0, 200, 0], [0, 0, 200], [100, 100, 100]], dtype=np.uint8)
    labels = PointLabels(
        first_box=np.array([0, 0, 1, -1], np.int32),
        overlap_counts=np.array([1, 2, 1, 0], np.int32),
        instance_ids=np.array([5, 5, 7, -1], np.int32),
        confidence=np.array([1.0, 0.2, 1.0, 1.0], np.float32),
    )
    assert np.array_equal(point_colours("original", rgb, labels), rgb)
    for mode in ("membership", "overlap", "instances", "confidence"):
        out = point_colours(mode, rgb, labels, np.array([[255, 255, 0], [0, 255, 255]]))
        assert out.shape == rgb.shape and out.dtype == np.uint8
        assert not np.array_equal(out, rgb)
    overlap = point_colours("overlap", rgb, labels).astype(int)
    assert overlap[1, 1] > 30  # the shared point keeps some of its green under the tint
    assert overlap[1, 0] > overlap[0, 0] - 200 and overlap[1, 2] > 100  # and is tinted magenta


def test_confidence_mode_shows_points_a_rule_decided_in_blue_and_the_network_s_in_green():
    from beep3d.resolve.resolution import DECIDED_BY_NETWORK, DECIDED_BY_ONE_BOX, DECIDED_BY_VOLUME_RULE

    rgb = np.full((3, 3), 128, dtype=np.uint8)
    labels = PointLabels(
        first_box=np.zeros(3, np.int32),
        overlap_counts=np.array([2, 2, 1], np.int32),
        instance_ids=np.ones(3, np.int32),
        confidence=np.ones(3, np.float32),
        decided_by=np.array([DECIDED_BY_NETWORK, DECIDED_BY_VOLUME_RULE, DECIDED_BY_ONE_BOX], np.int8),
    )
    out = point_colours("confidence", rgb, labels).astype(int)
    assert out[0, 1] > out[0, 2] and out[2, 1] > out[2, 2]  # network and single box: green
    assert out[1, 2] > out[1, 1] and out[1, 2] > out[1, 0]  # the volume rule: blue


def test_refit_arguments_progress_and_checkpoint(tmp_path):
    args = refit_arguments([str(tmp_path / "training")], str(tmp_path / "run"))
    assert args[:2] == ["--config", "small"] and "--data" in args and "--out" in args
    assert args[args.index("--init") + 1] == str(DEFAULT_CHECKPOINT), "refits start from the shipped teacher"
    chosen = refit_arguments(
        [str(tmp_path / "training")], str(tmp_path / "run"), str(tmp_path / "mine.safetensors")
    )
    assert chosen[chosen.index("--init") + 1] == str(tmp_path / "mine.safetensors")
    # the window's device; one core left to the window while it keeps resolving
    assert args[args.index("--device") + 1] == "cpu"
    assert int(args[args.index("--threads") + 1]) == max(1, (os.cpu_count() or 2) - 1)
    on_gpu = refit_arguments([str(tmp_path / "training")], str(tmp_path / "run"), None, "cuda:1", 4)
    assert on_gpu[on_gpu.index("--device") + 1] == "cuda:1" and on_gpu[on_gpu.index("--threads") + 1] == "4"
    assert parse_progress(" 42%|████▏     | 21/50 [00:10<00:14]") == pytest.approx(0.42)
    assert parse_progress("step 5/10") == pytest.approx(0.5)
    assert parse_progress("loading data") is None
    assert find_checkpoint(tmp_path / "run") is None
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "last.safetensors").write_bytes(b"x")
    assert find_checkpoint(tmp_path / "run").name == "last.safetensors"
