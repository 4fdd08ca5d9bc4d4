"""Colours after an edit are recoloured only where the labels changed: equal to colouring every point."""

from __future__ import annotations

import numpy as np
import pytest

from beep3d.app.colouring import COLOUR_MODES, colour_all, point_colours
from beep3d.resolve.foreground import get_foreground
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolvers import get_resolver
from tests.resolve.test_incremental_pipeline import grid_scene


@pytest.mark.parametrize("mode", [key for key, _ in COLOUR_MODES])
def test_colours_after_edits_equal_colouring_every_point(mode):
    scene, boxes = grid_scene(4)
    scene.rgb[:] = np.random.default_rng(0).integers(0, 255, scene.rgb.shape, dtype=np.uint8)
    resolver, stage = get_resolver("smallest-box"), get_foreground("geometric")
    result = annotate(scene, boxes_set(boxes), resolver, foreground=stage)
    box_colours = np.random.default_rng(1).uniform(0, 255, (len(boxes), 3))
    np.testing.assert_array_equal(
        point_colours(mode, scene.rgb, result.labels, box_colours),
        colour_all(mode, scene.rgb, result.labels, box_colours),
    )
    rng = np.random.default_rng(2)
    for i in range(6):
        position = int(rng.integers(len(boxes)))
        box = boxes[position]
        boxes[position] = box.moved(
            center=(box.center[0] + 0.05, box.center[1], box.center[2]), label="chair"
        )
        box_colours[position] = rng.uniform(0, 255, 3) if i == 3 else box_colours[position]
        result = annotate(scene, boxes_set(boxes), resolver, foreground=stage, reuse=result)
        np.testing.assert_array_equal(
            point_colours(mode, scene.rgb, result.labels, box_colours),
            colour_all(mode, scene.rgb, result.labels, box_colours),
        )


def boxes_set(boxes):
    from beep3d.geometry.boxes import BoxSet

    return BoxSet(boxes)
