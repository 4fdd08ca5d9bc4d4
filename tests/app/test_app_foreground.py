"""The window's foreground stage: floor points leave a loose box's mask, and the annotator sees it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.test_app_window import _open, _two_cube_scene

pytestmark = pytest.mark.gui


@pytest.fixture
def loose_box_scene(tmp_path):
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import save_boxes

    scene = _two_cube_scene(tmp_path / "room.ply")
    boxes = tmp_path / "room.boxes.json"
    # around the 0.6 m cube at (-1, 0), 10 cm loose on every side and below the floor
    save_boxes(boxes, BoxSet([Box(1, "cabinet", (-1.0, 0.0, 0.3), (0.8, 0.8, 0.8))]))
    return scene, boxes


def test_floor_in_a_loose_box_is_left_out_shown_and_counted(window, qtbot, loose_box_scene):
    from beep3d.app.colouring import NOT_OBJECT_TINT

    scene, boxes = loose_box_scene
    assert window.actions_by_name["foreground_geometric"].isChecked()  # the default
    _open(window, qtbot, scene, boxes)
    result = window.result
    xyz = window.doc.scene.xyz
    beside_cube = (
        np.abs(xyz[:, :2] - [-1.0, 0.0]).max(axis=1) > 0.32
    )  # floor under the cube is hidden in scans
    floor_in_box = np.flatnonzero((result.analysis.counts > 0) & (xyz[:, 2] == 0) & beside_cube)
    assert len(floor_in_box) > 100
    assert np.mean(result.resolution.instance_ids[floor_in_box] == -1) > 0.95
    column = window.box_table.COLUMNS.index("background")
    share = result.foreground.box_share[0]
    assert share > 0.05
    assert window.box_table.item(0, column).text() == f"{share:.0%}"
    window.set_colour_mode("overlap")
    assert any("not its object" in text for text in window.legend.texts())
    from beep3d.app.colouring import point_colours

    drawn = point_colours("overlap", window.doc.scene.rgb, result.labels)
    left = floor_in_box[result.labels.background_reason[floor_in_box] > 0]
    rgb = window.doc.scene.rgb[left].astype(np.float32)
    expected = np.clip(rgb * 0.45 + NOT_OBJECT_TINT * 0.55, 0, 255).astype(np.uint8)
    assert np.abs(drawn[left].astype(int) - expected.astype(int)).max() <= 1


def test_switching_the_foreground_off_gives_the_box_its_floor_back(window, qtbot, loose_box_scene):
    scene, boxes = loose_box_scene
    _open(window, qtbot, scene, boxes)
    left_before = int(window.result.foreground.background.sum())
    assert left_before > 0
    window.actions_by_name["foreground_off"].trigger()
    window.live.wait_idle()
    assert window.resolvers.foreground_mode == "off"
    assert not window.result.foreground.background.any()
    column = window.box_table.COLUMNS.index("background")
    assert window.box_table.item(0, column).text() == "0%"
    window.actions_by_name["foreground_geometric"].trigger()
    window.live.wait_idle()
    assert int(window.result.foreground.background.sum()) == left_before


def test_model_foreground_uses_the_teacher_network(window, qtbot, loose_box_scene):
    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.resolve.foreground import REASON_NETWORK, REASON_OBJECT

    if not DEFAULT_CHECKPOINT.exists():
        pytest.skip("the shipped teacher checkpoint is not installed")
    scene, boxes = loose_box_scene
    _open(window, qtbot, scene, boxes)
    window.actions_by_name["foreground_model"].trigger()
    assert window.live.wait_idle(120_000)
    assert window.resolvers.foreground_mode == "model"
    reasons = set(np.unique(window.result.foreground.reason).tolist())
    assert reasons <= {REASON_OBJECT, REASON_NETWORK}
    assert window.actions_by_name["foreground_model"].isChecked()
