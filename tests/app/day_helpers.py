"""Boxes the window tests of an annotator's day open: box files written for a test, two boxes of the
two-cube scene (:func:`tests.app.test_app_window._two_cube_scene`)."""

from __future__ import annotations


def _boxes_file(tmp_path, boxes, name="boxes.json"):
    from beep3d.geometry.boxes import BoxSet
    from beep3d.io.box_files import save_boxes

    path = tmp_path / name
    save_boxes(path, BoxSet(boxes))
    return path


def _two_boxes():
    from beep3d.geometry.boxes import Box

    return [
        Box(1, "chair", (-1.0, 0.0, 0.3), (0.6, 0.6, 0.6)),
        Box(2, "table", (1.0, 0.5, 0.5), (0.8, 0.8, 1.0)),
    ]
