"""The annotation window under Xvfb (pytest-qt): open, draw with every mode, edit, undo, resolve, export.

Run with a display, for example ``xvfb-run -a .venv/bin/python -m pytest tests/app/test_app_window.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

pytestmark = pytest.mark.gui


def _two_cube_scene(path):
    """A 4 x 4 m floor at z = 0 with a 0.6 m cube at (-1, 0) and a 0.8 x 0.8 x 1 m block at (1, 0.5)."""
    from beep3d.io import write_ply

    rng = np.random.default_rng(0)
    floor = np.column_stack([rng.uniform(-2, 2, 30000), rng.uniform(-2, 2, 30000), np.zeros(30000)])

    def block(center, size, n):
        lo = np.asarray(center) - np.asarray(size) / 2
        return rng.uniform(lo, lo + np.asarray(size), size=(n, 3))

    cube = block((-1.0, 0.0, 0.3), (0.6, 0.6, 0.6), 6000)
    tall = block((1.0, 0.5, 0.5), (0.8, 0.8, 1.0), 8000)
    xyz = np.vstack([floor, cube, tall]).astype(np.float32)
    rgb = np.vstack(
        [np.full((30000, 3), 120), np.tile([200, 60, 60], (6000, 1)), np.tile([60, 60, 200], (8000, 1))]
    ).astype(np.uint8)
    write_ply(path, xyz, rgb)
    return path


def _open(win, qtbot, path, boxes=None):
    assert win.files.open_scene(path, boxes)
    win.live.wait_idle()
    win.view.repaint()
    qtbot.wait(20)


def _pixel(win, xyz):
    pixels, visible = win.view.project(np.asarray([xyz], float))
    assert visible[0]
    return QPoint(int(round(pixels[0, 0])), int(round(pixels[0, 1])))


def _top_view(win):
    win.view.set_preset("top")
    win.view.fit_scene()
    win.view.repaint()


def test_open_scene_shows_points_and_reports_errors(window, qtbot, scene_path, tmp_path):
    _open(window, qtbot, scene_path)
    assert window.view.num_points == 44000
    assert "room" in window.windowTitle()
    bad = tmp_path / "broken.ply"
    bad.write_text("this is not a ply file")
    assert not window.files.open_scene(bad)
    assert window.errors_shown and "broken.ply" in window.errors_shown[-1]
    assert window.view.num_points == 44000  # the open scene stays


def test_point_tool_click_makes_a_default_box_on_the_floor_and_undo_redo(window, qtbot, scene_path):
    _open(window, qtbot, scene_path)
    _top_view(window)
    window.doc.set_current_class("chair")
    qtbot.keyClick(window.view, Qt.Key.Key_B)
    assert window.tool.name == "point"
    qtbot.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=_pixel(window, (-1.0, 0.0, 0.6)))
    assert len(window.doc.boxes) == 1
    box = window.doc.boxes[0]
    assert box.label == "chair" and window.doc.selected_id == box.id
    assert box.center[0] == pytest.approx(-1.0, abs=0.05) and box.center[1] == pytest.approx(0.0, abs=0.05)
    assert box.center[2] - box.size[2] / 2 == pytest.approx(0.0, abs=0.03)  # stands on the floor
    assert window.tool.name == "select"
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.boxes) == 0
    qtbot.keyClick(
        window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert len(window.doc.boxes) == 1


def test_corners_tool_spans_a_box_from_two_floor_corners_and_a_height(window, qtbot, scene_path):
    _open(window, qtbot, scene_path)
    window.view.set_preset("perspective")
    window.view.fit_scene()
    window.view.repaint()
    window.set_tool("corners")
    view = window.view
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_pixel(window, (0.5, 0.0, 0.0)))
    qtbot.mouseMove(view, _pixel(window, (1.5, 1.0, 0.0)))
    assert view._ghost is not None  # the box being drawn is previewed
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_pixel(window, (1.5, 1.0, 0.0)))
    qtbot.mouseMove(view, _pixel(window, (1.5, 1.0, 1.2)))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_pixel(window, (1.5, 1.0, 1.2)))
    assert len(window.doc.boxes) == 1
    box = window.doc.boxes[0]
    np.testing.assert_allclose(box.center[:2], [1.0, 0.5], atol=0.05)
    np.testing.assert_allclose(box.size[:2], [1.0, 1.0], atol=0.05)
    assert box.size[2] == pytest.approx(1.2, abs=0.1)
    assert box.center[2] - box.size[2] / 2 == pytest.approx(0.0, abs=0.03)


def test_rectangle_tool_fits_the_box_to_the_points_inside(window, qtbot, scene_path):
    _open(window, qtbot, scene_path)
    window.set_tool("rectangle")
    assert window.view.camera.elevation == 90  # switched to the top view
    _top_view(window)
    view = window.view
    start, end = _pixel(window, (0.4, -0.1, 0.0)), _pixel(window, (1.6, 1.1, 0.0))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)
    assert len(window.doc.boxes) == 1
    box = window.doc.boxes[0]
    np.testing.assert_allclose(box.center, [1.0, 0.5, 0.5], atol=0.03)
    np.testing.assert_allclose(box.size, [0.8, 0.8, 1.0], atol=0.04)  # the floor around it is ignored


def test_keyboard_edits_shrink_and_single_undo_steps(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes_file = tmp_path / "rough.json"
    save_boxes(boxes_file, BoxSet([Box(5, "table", (-1.0, 0.0, 0.5), (1.2, 1.2, 1.0))]))
    _open(window, qtbot, scene_path, boxes_file)
    view = window.view
    qtbot.keyClick(view, Qt.Key.Key_N)
    assert window.doc.selected_id == 5
    start = window.doc.box(5)
    qtbot.keyClick(view, Qt.Key.Key_E)  # up 2 cm
    assert window.doc.box(5).center[2] == pytest.approx(start.center[2] + 0.02)
    qtbot.keyClick(view, Qt.Key.Key_Z)  # +1 degree
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier)  # +45 degrees
    assert math.degrees(window.doc.box(5).yaw) == pytest.approx(46.0)
    qtbot.keyClick(view, Qt.Key.Key_I)  # longer by 2 cm
    assert window.doc.box(5).size[0] == pytest.approx(1.22)
    qtbot.keyClick(view, Qt.Key.Key_3)  # class hotkey: sofa (third ScanNet class is chair)
    assert window.doc.box(5).label == window.doc.class_set.names[2]
    qtbot.keyClick(view, Qt.Key.Key_F)  # shrink onto the cube
    shrunk = window.doc.box(5)
    assert max(shrunk.size[:2]) < 0.9 and shrunk.yaw == window.doc.box(5).yaw
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.boxes) == 2
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(window.doc.boxes) == 1
    for _ in range(window.undo_stack.count()):
        qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.box(5) == start and len(window.doc.boxes) == 1
    assert not window.doc.dirty


def test_dragging_a_face_handle_resizes_in_one_undo_step(window, qtbot, scene_path, tmp_path):
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes_file = tmp_path / "one.json"
    save_boxes(boxes_file, BoxSet([Box(1, "chair", (-1.0, 0.0, 0.3), (0.6, 0.6, 0.6))]))
    _open(window, qtbot, scene_path, boxes_file)
    _top_view(window)
    window.doc.select(1)
    view = window.view
    grab, target = _pixel(window, (-0.7, 0.0, 0.3)), _pixel(window, (-0.4, 0.0, 0.3))
    assert view.handle_at(grab.x(), grab.y()) == "+x"
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=grab)
    for fraction in (0.3, 0.6, 1.0):
        qtbot.mouseMove(view, QPoint(int(grab.x() + (target.x() - grab.x()) * fraction), grab.y()))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target)
    box = window.doc.box(1)
    assert box.size[0] == pytest.approx(0.9, abs=0.03)
    assert box.center[0] - box.size[0] / 2 == pytest.approx(-1.3, abs=0.01)  # the opposite face stays
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert window.doc.box(1).size[0] == pytest.approx(0.6)


def test_live_resolution_updates_colours_counts_and_problems(window, qtbot, scene_path, tmp_path):
    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes_file = tmp_path / "nested.json"
    save_boxes(boxes_file, BoxSet([Box(1, "table", (1.0, 0.5, 0.5), (0.9, 0.9, 1.1))]))
    _open(window, qtbot, scene_path, boxes_file)
    window.set_colour_mode("overlap")
    before = window.view._colours.copy()
    assert window.box_table.item(0, 2).text() != "…"
    window.push(AddBox(Box(2, "chair", (1.0, 0.5, 0.3), (0.5, 0.5, 0.5))))  # nested in box 1
    assert window.box_table.item(1, 2).text() == "…"  # counts of the new box are not known yet
    window.live.wait_idle()
    result = window.result
    assert result is not None and result.boxes == window.doc.boxes
    assert result.analysis.num_multi > 0
    assert not np.array_equal(before, window.view._colours)  # overlap points are tinted
    assert window.box_table.item(1, 4).text() == str(int(result.analysis.total[1]))
    kinds = {p.kind for p in result.problems}
    assert "nested" in kinds
    row = [p.kind for p in result.problems].index("nested")
    window.problem_list.item(row).setSelected(True)
    window.problem_list.problemActivated.emit(row)
    assert window.doc.selected_id in result.problems[row].box_ids
    for mode in ("original", "membership", "instances", "confidence"):
        window.set_colour_mode(mode)
    window.set_colour_mode("original")
    scene_rgb = window.doc.scene.rgb
    # the view keeps colours in upload order; small scenes are not reordered
    assert np.array_equal(window.view._colours, scene_rgb)


def test_stale_results_are_dropped(window, qtbot, scene_path):
    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box

    _open(window, qtbot, scene_path)
    for i in range(4):  # rapid edits: only the newest one's result is shown
        window.push(AddBox(Box(i, "chair", (-1.0 + 0.1 * i, 0.0, 0.3), (0.5, 0.5, 0.5))))
    window.live.wait_idle()
    assert window.result.boxes == window.doc.boxes and len(window.result.boxes) == 4


def test_save_export_and_autosave_recovery(window, qtbot, scene_path, tmp_path, monkeypatch):
    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box
    from beep3d.io.box_files import load_boxes

    _open(window, qtbot, scene_path)
    window.push(AddBox(Box(0, "chair", (-1.0, 0.0, 0.3), (0.7, 0.7, 0.7))))
    assert window.doc.dirty and window.windowTitle().startswith("room *")
    assert window.files.autosave()
    recovery = window.files.recovery_file
    assert recovery.exists() and len(load_boxes(recovery)) == 1
    written = window.files.export_to(tmp_path / "export")
    names = {p.name for p in written}
    assert {"instance_ids.npy", "semantic_ids.npy", "boxes.json"} <= names
    ids = np.load(tmp_path / "export" / "instance_ids.npy")
    assert (ids == 0).sum() > 1000

    # a second window (after a crash) offers the recovered boxes
    from beep3d.app.main_window import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    questions = []
    monkeypatch.setattr(other, "ask", lambda title, text, buttons, default: questions.append(text) or default)
    assert other.files.open_scene(scene_path)
    assert questions and len(other.doc.boxes) == 1 and other.doc.dirty
    assert other.files.save()
    assert (tmp_path / "room.boxes.json").exists() and not recovery.exists()
    other.live.wait_idle()
    other.close()


def test_close_with_unsaved_boxes_asks_and_can_cancel(window, qtbot, scene_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from beep3d.document import AddBox
    from beep3d.geometry.boxes import Box

    _open(window, qtbot, scene_path)
    window.push(AddBox(Box(0, "chair", (-1.0, 0.0, 0.3), (0.7, 0.7, 0.7))))
    monkeypatch.setattr(window, "ask", lambda *a: QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert window.isVisible()


def test_screenshot_is_not_blank(qtbot, scene_path, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    from beep3d.app.launch import run_app
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    boxes = tmp_path / "b.json"
    save_boxes(boxes, BoxSet([Box(1, "table", (1.0, 0.5, 0.5), (0.9, 0.9, 1.1))]))
    png = tmp_path / "shot.png"
    assert run_app(str(scene_path), str(boxes), str(png), "smallest-box", None, None) == 0
    image = QImage(str(png))
    assert image.width() > 600 and image.height() > 400
    from beep3d.app.view import BACKGROUND

    background = tuple(round(c * 255) for c in BACKGROUND)
    samples = [
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(20, int(image.width() * 0.6), 10)
        for y in range(int(image.height() * 0.2), int(image.height() * 0.8), 10)
    ]
    drawn = [c for c in samples if max(abs(a - b) for a, b in zip(c, background, strict=True)) > 12]
    assert len(drawn) > 0.05 * len(samples)  # points cover the view: not a blank frame
    assert len(set(drawn)) >= 3  # floor, the blocks and the box wireframe in their own colours


def _tiny_refit(tmp_path, run, max_steps):
    """A real beep3d-train command on two tiny exported rooms, as the window would start it."""
    import sys

    from tests.training_fakes import write_rooms, write_tiny_config

    data = tmp_path / "exports"
    if not data.exists():
        write_rooms(data, 2, num_objects=3, points_per_object=200, floor_points=200)
    config = write_tiny_config(tmp_path / "tiny.yaml")
    return [sys.executable, "-m", "beep3d.training.cli", "--config", str(config), "--data", str(data),
            "--out", str(run), "--device", "cpu", "--threads", "1", "--max-steps", str(max_steps)]  # fmt: skip


@pytest.mark.slow
def test_refit_trains_a_checkpoint_switches_the_teacher_to_it_and_can_be_cancelled(
    window, qtbot, tmp_path, scene_path
):
    from beep3d.resolve.teacher_resolver import TeacherResolver

    _open(window, qtbot, scene_path)
    run = tmp_path / "run"
    assert window.refit.start([str(tmp_path / "exports")], str(run), program=_tiny_refit(tmp_path, run, 2))
    assert window.actions_by_name["refit_cancel"].isEnabled()
    assert not window.actions_by_name["refit"].isEnabled()
    qtbot.waitUntil(lambda: not window.refit.running, timeout=300_000)
    assert window.errors_shown == []
    # README walkthrough, step 9: the teacher resolver now uses the checkpoint the refit wrote
    new_checkpoint = run / "checkpoints" / "best.safetensors"  # the run evaluates once at its end
    assert new_checkpoint.is_file()
    assert window.resolvers.name == "teacher"
    assert isinstance(window.resolvers.resolver, TeacherResolver)
    assert window.resolvers.resolver.checkpoint in (new_checkpoint, new_checkpoint.resolve())
    assert window.actions_by_name["refit"].isEnabled()

    # a second refit, cancelled from the menu while it runs: the process ends, nothing switches
    run2 = tmp_path / "run2"
    assert window.refit.start(
        [str(tmp_path / "exports")], str(run2), program=_tiny_refit(tmp_path, run2, 100_000)
    )
    qtbot.waitUntil(lambda: window.progress.isVisible(), timeout=5000)
    qtbot.wait(1500)
    window.actions_by_name["refit_cancel"].trigger()
    qtbot.waitUntil(lambda: not window.refit.running, timeout=20_000)
    assert not window.actions_by_name["refit_cancel"].isEnabled()
    assert window.actions_by_name["refit"].isEnabled() and not window.progress.isVisible()
    assert window.errors_shown == []
    assert window.resolvers.resolver.checkpoint in (new_checkpoint, new_checkpoint.resolve())
    assert "cancelled" in window.statusBar().currentMessage()


def test_a_refit_that_fails_says_so_and_keeps_the_resolver(window, qtbot, tmp_path):
    import sys

    before = window.resolvers.name
    script = "import sys; print('step 1/4', flush=True); print('bad data', file=sys.stderr); sys.exit(2)"
    assert window.refit.start([str(tmp_path)], str(tmp_path / "run"), program=[sys.executable, "-c", script])
    qtbot.waitUntil(lambda: not window.refit.running, timeout=20000)
    assert window.resolvers.name == before
    assert len(window.errors_shown) == 1 and "status 2" in window.errors_shown[0]
    assert "bad data" in window.errors_shown[0]


def test_mouse_orbits_pans_zooms_and_clicks_select(window, qtbot, scene_path, tmp_path):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    boxes_file = tmp_path / "b.json"
    save_boxes(boxes_file, BoxSet([Box(4, "chair", (-1.0, 0.0, 0.3), (0.6, 0.6, 0.6))]))
    _open(window, qtbot, scene_path, boxes_file)
    view, camera = window.view, window.view.camera
    azimuth = camera.azimuth
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    qtbot.mouseMove(view, QPoint(360, 300))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(360, 300))
    assert camera.azimuth != azimuth and window.doc.selected_id is None  # a drag orbits, selects nothing
    target = camera.target.copy()
    qtbot.mousePress(view, Qt.MouseButton.RightButton, pos=QPoint(300, 300))
    qtbot.mouseMove(view, QPoint(340, 330))
    qtbot.mouseRelease(view, Qt.MouseButton.RightButton, pos=QPoint(340, 330))
    assert not np.allclose(camera.target, target)
    view.repaint()
    distance = camera.distance
    centre = QPointF(view.width() / 2, view.height() / 2)
    wheel = QWheelEvent(
        centre, view.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    view.wheelEvent(wheel)
    assert camera.distance < distance
    view.repaint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_pixel(window, (-1.0, 0.0, 0.3)))
    assert window.doc.selected_id == 4  # a click (no drag) on a box selects it
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.doc.selected_id is None


def test_choosing_the_teacher_loads_it_in_the_worker_and_a_bad_network_falls_back(
    window, qtbot, scene_path, tmp_path
):
    torch = pytest.importorskip("torch")
    from safetensors import safe_open
    from safetensors.torch import save_file

    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes
    from beep3d.model.config import ModelConfig
    from beep3d.resolve.teacher_resolver import TeacherResolver
    from tests.training_fakes import save_untrained_checkpoint

    tiny = ModelConfig(
        backbone_channels=(8, 16), blocks_per_level=1, voxel_size=0.1, num_queries=8, num_layers=1,
        d_model=16, num_heads=2, ffn_dim=32,
    )  # fmt: skip
    good = tmp_path / "tiny.safetensors"
    save_untrained_checkpoint(good, tiny)
    with safe_open(str(good), framework="pt") as handle:
        metadata = handle.metadata()
    misfit = tmp_path / "misfit.safetensors"  # a valid header, but tensors of another network
    save_file({"model/not_a_layer.weight": torch.zeros(3)}, str(misfit), metadata=metadata)
    boxes_file = tmp_path / "b.json"
    save_boxes(boxes_file, BoxSet([Box(4, "chair", (-1.0, 0.0, 0.3), (0.7, 0.7, 0.7))]))
    _open(window, qtbot, scene_path, boxes_file)

    # choosing the teacher only checks the header; the network loads and warms up in a background
    # thread meanwhile (the live worker waits for it)
    assert window.resolvers.select("teacher", str(good))
    resolver = window.resolvers.resolver
    assert isinstance(resolver, TeacherResolver) and window.resolvers.name == "teacher"
    warming = window.resolvers.warming
    assert warming is not None and warming.name == "teacher warm-up"
    warming.join(timeout=120)
    assert resolver.loaded and resolver._warmed
    qtbot.waitUntil(lambda: not window.live.busy, timeout=120_000)
    assert resolver.loaded and window.result.boxes == window.doc.boxes and not window.errors_shown
    assert "teacher" in window.resolution_label.text()

    # a file that is not a checkpoint is refused at once; the loaded teacher stays
    assert not window.resolvers.select("teacher", str(boxes_file))
    assert window.resolvers.resolver is resolver and "not a BEEP3D checkpoint" in window.errors_shown[-1]

    # a network that cannot be loaded is reported from the worker; the previous teacher comes back
    window.errors_shown.clear()
    assert window.resolvers.select("teacher", str(misfit))
    qtbot.waitUntil(lambda: bool(window.errors_shown) and not window.live.busy, timeout=120_000)
    assert len(window.errors_shown) == 1
    message = window.errors_shown[0]
    assert "could not be loaded" in message and "does not fit this network" in message
    assert "tiny.safetensors" in message and "Choose teacher checkpoint" in message
    assert window.resolvers.name == "teacher" and window.resolvers.checkpoint == str(good)
    assert window.resolvers.resolver.loaded and window.actions_by_name["resolver_teacher"].isChecked()
    assert window.result.boxes == window.doc.boxes


def test_the_windows_teacher_runs_on_the_device_and_threads_it_was_opened_with(qtbot):
    from beep3d.app.main_window import MainWindow
    from beep3d.classes import SCANNET18

    window = MainWindow(SCANNET18, "teacher", None, interactive=False, device="cpu", threads=1)
    qtbot.addWidget(window)
    teacher = window.resolvers.resolver
    assert window.resolvers.name == "teacher" and (teacher.device, teacher.threads) == ("cpu", 1)
    window.resolvers.select_foreground("model")  # the model stage's teacher is that one
    assert window.resolvers.foreground.teacher is teacher
    if window.resolvers.warming is not None:
        window.resolvers.warming.join(timeout=120)
    window.doc.dirty = False
    window.close()
