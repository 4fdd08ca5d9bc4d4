"""The rest of issue 15 in the window (pytest-qt, under Xvfb): a long resolution shows its percentage
and stage and Cancel stops it; hidden and locked boxes survive saving and opening; the crop box of
the clipping tool is edited by its numbers.
"""

from __future__ import annotations

import os
import re
import threading

import pytest

from tests.app.test_app_day import _boxes_file, _two_boxes
from tests.app.test_app_window import _open, _two_cube_scene

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")),
        reason="GUI tests need a display: run them under xvfb-run -a (OpenGL does not render offscreen)",
    ),
]

QtCore = pytest.importorskip("PySide6.QtCore")
Qt = QtCore.Qt


@pytest.fixture
def scene_path(tmp_path):
    return _two_cube_scene(tmp_path / "room.ply")


class _EndlessResolver:
    """A resolver that reports its progress as the teacher does and would run for many minutes."""

    def __init__(self, inner):
        self.inner = inner
        self.class_set = inner.class_set
        self.steps = 0
        self.stopped = threading.Event()

    def resolve(self, scene, boxes, progress=None):
        import time

        try:
            for step in range(100_000):
                progress.report(step / 1000, "teacher backbone")
                self.steps += 1
                time.sleep(0.01)
        finally:
            self.stopped.set()
        return self.inner.resolve(scene, boxes)


# progress and cancel ------------------------------------------------------------------------------


def test_a_long_resolution_shows_its_percentage_and_cancel_stops_the_computation(
    window, qtbot, scene_path, tmp_path
):
    from beep3d.document import ChangeBox

    _open(window, qtbot, scene_path, _boxes_file(tmp_path, _two_boxes()))
    shown = window.result
    endless = _EndlessResolver(window.resolvers.resolver)
    window.resolvers.resolver = endless
    box = window.doc.box(1)
    window.push(ChangeBox(box, box.moved(center=(-0.9, 0.0, 0.3))))
    progress = window.resolution_progress
    qtbot.waitUntil(progress.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: "(teacher backbone)" in progress.label.text(), timeout=5000)
    text = progress.label.text()
    match = re.match(r"Resolving: (\d+) % \(teacher backbone\)", text)
    assert match, text
    assert progress.bar.maximum() == 100 and progress.bar.value() == int(match.group(1))
    percent = int(match.group(1))
    qtbot.waitUntil(lambda: progress.bar.value() > percent, timeout=5000)  # it moves
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not progress.isVisible() and "cancelled" in window.resolution_label.text()
    # the computation itself stops (it had minutes to go), and the window is idle again
    assert endless.stopped.wait(10)
    assert window.live.wait_idle(10_000)
    steps = endless.steps
    qtbot.wait(100)
    assert endless.steps == steps
    assert window.result is shown  # the older masks stay, with the status saying so
    assert "cancelled" in window.resolution_label.text()
    window.resolvers.resolver = endless.inner
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    window.live.wait_idle()
    assert window.result.boxes == window.doc.boxes
