"""The core annotation pipeline the window and the headless export share."""

from __future__ import annotations

import numpy as np

from beep3d.geometry.boxes import Box, BoxSet
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolution import DECIDED_BY_VOLUME_RULE
from beep3d.resolve.resolvers import get_resolver


class NeverCalled:
    name = "never"

    def resolve(self, scene, boxes):  # noqa: ANN001, ANN201
        raise AssertionError("a scene without boxes needs no resolver")


def test_the_pipeline_resolves_diagnoses_and_labels_in_one_pass(grid_scene) -> None:
    boxes = BoxSet(
        [
            Box(1, "chair", (0.3, 0.5, 0.5), (0.6, 1.1, 1.1)),
            Box(2, "table", (0.6, 0.5, 0.5), (0.4, 1.1, 1.1)),
            Box(3, "desk", (5, 5, 5), (0.1, 0.1, 0.1)),
        ]
    )
    result = annotate(grid_scene, boxes, get_resolver("smallest-box"))
    counts = result.analysis.counts
    assert result.analysis.num_multi == int(np.count_nonzero(counts >= 2)) > 0
    shared = counts >= 2
    # the smaller box (the table) takes the shared points, and the smallest-box rule is named for them
    assert np.all(result.resolution.instance_ids[shared] == 2)
    assert np.all(result.labels.decided_by[shared] == DECIDED_BY_VOLUME_RULE)
    assert np.array_equal(result.labels.overlap_counts, counts)
    assert np.array_equal(result.labels.instance_ids, result.resolution.instance_ids)
    assert {p.kind for p in result.problems} >= {"empty"}  # the desk box holds no point
    first = result.labels.first_box
    assert np.all(first[counts == 0] == -1) and np.all(first[counts >= 1] >= 0)


def test_no_boxes_is_all_background_without_calling_the_resolver(grid_scene) -> None:
    result = annotate(grid_scene, BoxSet([]), NeverCalled())
    assert np.all(result.resolution.instance_ids == -1) and np.all(result.labels.first_box == -1)
    assert result.problems == [] and result.analysis.num_multi == 0
