"""decide_contests sorts only the pairs of points in several boxes: same labels and margins as sorting all."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from beep3d.model.pseudo_masks import decide_contests  # noqa: E402


def _decide_over_all_pairs(scores, member_points, member_boxes, num_points, priority=None, rule_bias=None):
    """The former implementation: every (point, box) pair sorted."""
    labels = torch.full((num_points,), -1, dtype=torch.long)
    margins = torch.ones(num_points, dtype=torch.float32)
    if member_points.numel() == 0:
        return labels, margins
    if priority is not None:
        rank = priority[member_boxes].to(torch.float32)
        order = torch.argsort(scores, descending=True, stable=True)
        order = order[torch.argsort(rank[order], descending=True, stable=True)]
    else:
        rank = None
        order = torch.argsort(scores, descending=True, stable=True)
    order = order[torch.argsort(member_points[order], stable=True)]
    sorted_points = member_points[order]
    counts = torch.bincount(sorted_points, minlength=num_points)
    starts = torch.cumsum(counts, 0) - counts
    present = counts > 0
    labels[present] = member_boxes[order[starts[present]]]
    several = counts >= 2
    if several.any():
        first, second = order[starts[several]], order[starts[several] + 1]
        gap = torch.tanh((scores[first] - scores[second]) / 2).float()
        if rank is not None:
            if rule_bias is None:
                rule_gap = torch.ones_like(gap)
            else:
                rule = rule_bias.to(torch.float32)[member_boxes]
                rule_gap = torch.tanh((rule[first] - rule[second]).abs() / 2).float()
            gap = torch.where(rank[first] > rank[second], rule_gap, gap)
        margins[several] = gap
    return labels, margins


@pytest.mark.parametrize("seed", range(6))
def test_labels_and_margins_equal_those_of_sorting_every_pair(seed):
    rng = np.random.default_rng(seed)
    num_points, num_boxes = 400, 7
    inside = rng.random((num_points, num_boxes)) < rng.uniform(0.05, 0.5)
    points, boxes = np.nonzero(inside)
    pick = rng.permutation(len(points))  # pairs in any order
    member_points = torch.as_tensor(points[pick], dtype=torch.long)
    member_boxes = torch.as_tensor(boxes[pick], dtype=torch.long)
    scores = torch.as_tensor(rng.integers(-3, 4, len(pick)), dtype=torch.float32)  # many ties
    if seed % 2:
        scores[: len(pick) // 10] = -torch.inf  # boxes without a query
    priority = torch.as_tensor(rng.random(num_boxes) < 0.3)
    rule_bias = torch.as_tensor(rng.normal(size=num_boxes), dtype=torch.float32)
    for options in ({}, {"priority": priority}, {"priority": priority, "rule_bias": rule_bias}):
        got = decide_contests(scores, member_points, member_boxes, num_points, **options)
        want = _decide_over_all_pairs(scores, member_points, member_boxes, num_points, **options)
        assert torch.equal(got[0], want[0])
        torch.testing.assert_close(got[1], want[1], rtol=0, atol=0, equal_nan=True)  # -inf - -inf
    assert (
        (inside.sum(axis=1) >= 2).any()
        and (inside.sum(axis=1) == 1).any()
        and (inside.sum(axis=1) == 0).any()
    )


def test_points_in_one_box_or_none_need_no_sort():
    member_points = torch.tensor([0, 2, 3])
    member_boxes = torch.tensor([1, 0, 1])
    labels, margins = decide_contests(torch.zeros(3), member_points, member_boxes, 5)
    assert labels.tolist() == [1, -1, 0, 1, -1] and margins.tolist() == [1.0] * 5
