"""BEEP3D's equations and MAFT's building blocks on tiny hand-built inputs (no spconv needed)."""

from __future__ import annotations

import math

import pytest
import torch

from beep3d.errors import Beep3dError
from beep3d.model.batch import voxelise
from beep3d.model.config import ModelConfig
from beep3d.model.decoder import allow_at_least_one_key
from beep3d.model.ema import ema_decay, ema_update
from beep3d.model.losses import (
    classification_loss,
    feature_consistency_loss,
    mask_dice_loss,
    masked_feature_means,
    query_consistency_loss,
    score_loss,
)
from beep3d.model.matching import hungarian_match, matching_cost
from beep3d.model.positional import (
    fourier_encode,
    quantise_offsets,
    relative_attention_bias,
    relative_value_bias,
)
from beep3d.model.pseudo_masks import (
    assign_points_to_boxes,
    exclusive_point_labels,
    log_volume_bias,
    match_queries_to_boxes,
    nested_box_priority,
    query_similarity,
    recognised_boxes,
    superpoint_target_masks,
)
from beep3d.model.teacher_queries import attend_to_centers, farthest_point_sampling, fps_position_queries


# ---------------------------------------------------------------- config
def test_config_round_trips_and_rejects_unknown_keys():
    config = ModelConfig(backbone_channels=(8, 16), num_queries=16)
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["backbone_channels"] == [8, 16]
    with pytest.raises(Beep3dError, match="unknown key"):
        ModelConfig.from_dict({"num_querys": 3})
    with pytest.raises(Beep3dError, match="teacher_mode"):
        ModelConfig(teacher_mode="frozen")


def test_config_defaults_are_the_papers():
    config = ModelConfig()
    assert (config.num_queries, config.num_layers, config.d_model, config.num_heads, config.ffn_dim) == (
        400,
        6,
        256,
        8,
        1024,
    )
    assert (config.w_bce, config.w_dice, config.w_cls, config.w_q, config.w_f) == (1.0, 1.0, 0.5, 0.5, 0.5)
    assert config.ema_alpha == 0.99 and config.voxel_size == 0.02


# ---------------------------------------------------------------- voxelisation
def test_voxelise_averages_points_of_a_voxel_and_maps_points_back():
    xyz = torch.tensor([[0.01, 0.01, 0.01], [0.015, 0.0, 0.0], [0.5, 0.5, 0.5]])
    features = torch.tensor([[1.0], [3.0], [7.0]])
    coords, voxel_features, point_to_voxel, shape = voxelise([xyz], [features], voxel_size=0.1)
    assert len(coords) == 2
    assert point_to_voxel[0] == point_to_voxel[1] != point_to_voxel[2]
    assert voxel_features[point_to_voxel[0], 0] == pytest.approx(2.0)
    assert voxel_features[point_to_voxel[2], 0] == pytest.approx(7.0)
    assert coords[point_to_voxel[2]].tolist() == [0, 4, 5, 5]  # origin at the scene minimum (0.01, 0, 0)
    assert all(s % 32 == 0 for s in shape)


def test_voxelise_keeps_scenes_apart():
    xyz = torch.zeros(1, 3)
    coords, _, point_to_voxel, _ = voxelise([xyz, xyz], [torch.ones(1, 1), torch.ones(1, 1)], 0.1)
    assert len(coords) == 2 and sorted(coords[:, 0].tolist()) == [0, 1]


# ---------------------------------------------------------------- positional encodings
def test_fourier_encoding_shape_and_values():
    coords = torch.tensor([[0.5, 0.0, 1.0]])
    features = fourier_encode(coords, num_frequencies=2)
    assert features.shape == (1, 12)
    # x axis: sin(pi*0.5), sin(2*pi*0.5), cos(pi*0.5), cos(2*pi*0.5)
    assert torch.allclose(features[0, :4], torch.tensor([1.0, 0.0, 0.0, -1.0]), atol=1e-6)


def test_quantise_offsets_bins_and_clamps():
    offsets = torch.tensor([[[0.0, 0.05, -0.05], [10.0, -10.0, 0.15]]])
    index = quantise_offsets(offsets, grid=0.1, bins=24)
    assert index[0, 0].tolist() == [24, 24, 23]
    assert index[0, 1].tolist() == [47, 0, 25]


def test_relative_biases_match_a_materialised_table():
    torch.manual_seed(0)
    heads, queries_n, keys_n, dim, bins = 2, 3, 5, 4, 3
    queries = torch.randn(heads, queries_n, dim)
    keys = torch.randn(heads, keys_n, dim)
    bin_index = torch.randint(0, 2 * bins, (queries_n, keys_n, 3))
    tables = [torch.randn(3, 2 * bins, heads, dim) for _ in range(3)]
    attention = torch.softmax(torch.randn(heads, queries_n, keys_n), dim=-1)

    # materialise the per-pair embeddings (Q, S, H, D), summed over axes
    def lookup(table):
        return sum(table[a][bin_index[:, :, a]] for a in range(3))

    q_embed, k_embed, v_embed = (lookup(t) for t in tables)
    expected_bias = torch.einsum("hqd,qshd->hqs", queries, q_embed) + torch.einsum(
        "hsd,qshd->hqs", keys, k_embed
    )
    expected_value = torch.einsum("hqs,qshd->hqd", attention, v_embed)
    assert torch.allclose(
        relative_attention_bias(queries, keys, bin_index, tables[0], tables[1]), expected_bias, atol=1e-5
    )
    assert torch.allclose(relative_value_bias(attention, bin_index, tables[2]), expected_value, atol=1e-5)


def test_attention_mask_never_blocks_every_key_of_a_query():
    blocked = torch.tensor([[True, True], [True, False]])
    assert allow_at_least_one_key(blocked).tolist() == [[False, False], [True, False]]


# ---------------------------------------------------------------- eq. 1-4
def test_eq1_similarity_is_sigmoid_of_dot_product():
    content = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    features = torch.tensor([[3.0, 1.0]])
    assert torch.allclose(query_similarity(content, features), torch.sigmoid(torch.tensor([[3.0], [2.0]])))


def test_eq2_4_assigns_only_among_containing_boxes():
    # 3 boxes matched to queries 0, 1, 2; 4 points each its own superpoint.
    # point 0: only in box 0 (P^l); point 1: in boxes 0 and 1; point 2: in boxes 1 and 2; point 3: none.
    similarity = torch.tensor(
        [
            [0.9, 0.2, 0.9, 0.9],
            [0.1, 0.6, 0.3, 0.9],
            [0.99, 0.99, 0.4, 0.9],  # query 2 likes point 1 most, but box 2 does not contain it
        ]
    )
    member_points = torch.tensor([0, 1, 1, 2, 2])
    member_boxes = torch.tensor([0, 0, 1, 1, 2])
    labels, margins = assign_points_to_boxes(
        torch.logit(similarity),
        torch.arange(4),
        torch.tensor([0, 1, 2]),
        member_points,
        member_boxes,
        num_points=4,
    )
    assert labels.tolist() == [0, 1, 2, -1]
    gap = torch.logit(torch.tensor([0.6])) - torch.logit(torch.tensor([0.2]))
    assert margins[1].item() == pytest.approx(
        torch.tanh(gap[0] / 2).item(), abs=1e-5
    )  # point 1: box 1 over box 0
    assert margins[2].item() == pytest.approx(
        torch.tanh((torch.logit(torch.tensor(0.4)) - torch.logit(torch.tensor(0.3))) / 2).item(), abs=1e-5
    )
    assert margins[0].item() == 1.0 and margins[3].item() == 1.0


def test_eq2_ranks_confident_queries_by_logit_where_the_sigmoid_saturates():
    # both queries are sure (sigmoid rounds to 1.0 in float32); the second box's query is surer
    logits = torch.tensor([[20.0], [30.0]])
    assert torch.sigmoid(logits[0]) == torch.sigmoid(logits[1])
    labels, margins = assign_points_to_boxes(
        logits, torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0, 0]), torch.tensor([0, 1]), 1
    )
    assert labels.tolist() == [1]
    assert margins.item() == pytest.approx(torch.tanh(torch.tensor(5.0)).item())


def test_eq2_uses_the_matched_query_of_each_box():
    similarity = torch.tensor([[0.9], [0.1]])
    # box 0 is matched to query 1, box 1 to query 0
    labels, _ = assign_points_to_boxes(
        torch.logit(similarity),
        torch.tensor([0]),
        torch.tensor([1, 0]),
        torch.tensor([0, 0]),
        torch.tensor([0, 1]),
        1,
    )
    assert labels.tolist() == [1]


def test_nested_box_prior_gives_shared_points_to_the_box_without_points_of_its_own():
    # box 0 (a shelf) holds point 0 alone; box 1 lies wholly inside it (points 1, 2); box 2 shares
    # point 3 with box 0 only partly (it also holds point 4 alone)
    member_points = torch.tensor([0, 1, 1, 2, 2, 3, 3, 4])
    member_boxes = torch.tensor([0, 0, 1, 0, 1, 0, 2, 2])
    priority = nested_box_priority(member_points, member_boxes, 3)
    assert priority.tolist() == [False, True, False]
    # the shelf's query is the more similar everywhere
    logits = torch.tensor([[5.0] * 5, [-1.0] * 5, [1.0] * 5])
    args = (torch.arange(5), torch.arange(3), member_points, member_boxes, 5)
    plain, _ = assign_points_to_boxes(logits, *args)
    assert plain.tolist() == [0, 0, 0, 0, 2]
    labels, margins = assign_points_to_boxes(logits, *args, priority=priority)
    assert labels.tolist() == [0, 1, 1, 0, 2]  # the nested box keeps its points; eq. 2 decides point 3
    assert margins[1].item() == 1.0 and margins[3].item() == pytest.approx(math.tanh(2.0), abs=1e-5)


def test_volume_normalised_eq2_weighs_the_logits_by_each_box_density():
    # a 1 m^3 box and a 0.125 m^3 box share point 0; the big box's query is surer by a logit gap of 1.5
    sizes = torch.tensor([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    bias = log_volume_bias(sizes)
    assert bias.tolist() == pytest.approx([0.0, math.log(8.0)])
    logits = torch.tensor([[2.0], [0.5]])
    args = (torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0, 0]), torch.tensor([0, 1]), 1)
    assert assign_points_to_boxes(logits, *args)[0].tolist() == [0]
    labels, margins = assign_points_to_boxes(logits, *args, box_bias=bias)
    assert labels.tolist() == [1]  # 0.5 + log 8 = 2.58 > 2.0
    assert margins.item() == pytest.approx(math.tanh((0.5 + math.log(8.0) - 2.0) / 2), abs=1e-5)


def test_boxes_the_teacher_does_not_recognise_are_decided_by_volume_alone():
    # box 0 (small) owns superpoint 0, box 1 (large) owns superpoint 1; both contain superpoint 2
    evidence = torch.tensor([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    logits = torch.tensor([[-2.0, -5.0, -1.0], [-5.0, 4.0, 3.0]])  # query 0 claims none of box 0
    trusted = recognised_boxes(logits, torch.tensor([0, 1]), evidence, 0.25)
    assert trusted.tolist() == [False, True]
    volumes = log_volume_bias(torch.tensor([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]))
    args = (torch.arange(3), torch.tensor([0, 1]), torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 0, 1]), 3)
    assert assign_points_to_boxes(logits, *args)[0].tolist() == [0, 1, 1]  # the logits favour box 1
    labels, margins = assign_points_to_boxes(logits, *args, trusted=trusted, fallback_bias=volumes)
    assert labels.tolist() == [0, 1, 0]  # an unrecognised box in the contest: the smaller box wins
    assert margins[2].item() == pytest.approx(math.tanh(math.log(8.0) / 2), abs=1e-5)


def test_exclusive_labels_mark_points_in_exactly_one_box():
    labels = exclusive_point_labels(torch.tensor([0, 1, 1, 3]), torch.tensor([2, 0, 1, 0]), num_points=4)
    assert labels.tolist() == [2, -1, -1, 0]


def test_pseudo_mask_matching_follows_the_similarity_over_exclusive_points():
    # query q is most similar to superpoint (3 - q): box k's evidence is superpoint k -> query 3 - k
    similarity = torch.eye(4).flip(1) * 0.8 + 0.1
    evidence = torch.eye(4)
    probabilities = torch.full((4, 3), 1 / 3)
    matched = match_queries_to_boxes(similarity, probabilities, torch.zeros(4, dtype=torch.long), evidence)
    assert matched.tolist() == [3, 2, 1, 0]


def test_superpoint_targets_need_more_than_half_of_the_points():
    superpoints = torch.tensor([0, 0, 0, 1, 1])
    labels = torch.tensor([0, 0, -1, 0, -1])
    targets = superpoint_target_masks(labels, superpoints, num_boxes=1, num_superpoints=2)
    assert targets.tolist() == [[1.0, 0.0]]


# ---------------------------------------------------------------- eq. 5-6
def test_eq5_6_outputs_are_convex_combinations_of_the_centres():
    torch.manual_seed(0)
    centers = torch.tensor([[0.1, 0.2, 0.3], [0.8, 0.1, 0.5], [0.5, 0.9, 0.2]])
    queries = torch.rand(50, 3)
    out = attend_to_centers(queries, centers)
    weights = torch.linalg.lstsq(
        torch.cat([centers.T, torch.ones(1, 3)]), torch.cat([out.T, torch.ones(1, 50)])
    ).solution  # (3, 50) barycentric weights
    assert (weights > -1e-5).all()
    assert torch.allclose(weights.sum(dim=0), torch.ones(50), atol=1e-5)
    single = attend_to_centers(queries, centers[:1])
    assert torch.allclose(single, centers[:1].expand(50, 3))


def test_eq5_scale_sharpens_towards_the_dominant_centre():
    centers = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    query = torch.tensor([[1.0, 1.0, 1.0]])
    soft = attend_to_centers(query, centers)
    sharp = attend_to_centers(query, centers, scale=50.0)
    expected = math.exp(3) / (1 + math.exp(3))
    assert soft[0, 0].item() == pytest.approx(expected, rel=1e-5)
    assert sharp[0, 0].item() == pytest.approx(1.0, abs=1e-6)


def test_farthest_point_sampling_spreads_points():
    points = torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [1.0, 0, 0], [0.5, 0, 0]])
    assert farthest_point_sampling(points, 3).tolist() == [0, 2, 3]
    assert farthest_point_sampling(points[:2], 4).tolist() == [0, 1, 0, 1]
    queries = fps_position_queries(points, torch.tensor([[0.2, 0.3, 0.4]]), num_queries=5)
    assert queries.shape == (5, 3) and torch.allclose(queries, torch.tensor([[0.2, 0.3, 0.4]]).expand(5, 3))


# ---------------------------------------------------------------- eq. 7-10
def test_eq7_pairs_queries_by_their_box():
    student = torch.tensor([[1.0, 1.0], [5.0, 5.0], [0.0, 0.0]])
    teacher = torch.tensor([[9.0, 9.0], [1.0, 3.0]])
    # box 0: student query 0, teacher query 1 -> |1-1| + |1-3| = 2 over 2 channels
    # box 1: student query 2, teacher query 0 -> 9 + 9 = 18 over 2 channels
    loss = query_consistency_loss(student, teacher, torch.tensor([0, 2]), torch.tensor([1, 0]))
    assert loss.item() == pytest.approx((2 + 18) / 4)
    unpaired = query_consistency_loss(student, teacher, torch.tensor([-1]), torch.tensor([0]))
    assert unpaired.item() == 0.0


def test_eq8_10_masked_feature_consistency():
    features_teacher = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
    features_student = torch.tensor([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])
    # point counts per superpoint inside each box's mask
    teacher_weights = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    student_weights = torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])  # box 1: empty student mask
    teacher_means, teacher_valid = masked_feature_means(features_teacher, teacher_weights)
    student_means, student_valid = masked_feature_means(features_student, student_weights)
    assert teacher_means.tolist() == [[2.0, 1.0], [5.0, 4.0]]
    assert student_means[0].tolist() == [2.0, 2.0] and student_valid.tolist() == [True, False]
    loss = feature_consistency_loss(teacher_means, student_means, teacher_valid & student_valid)
    assert loss.item() == pytest.approx(1.0)  # (2-2)^2 + (1-2)^2, box 1 left out


# ---------------------------------------------------------------- matching and mask losses
def test_matching_recovers_a_planted_permutation():
    torch.manual_seed(0)
    num_queries, num_targets, num_superpoints = 6, 4, 20
    targets = (torch.rand(num_targets, num_superpoints) > 0.5).float()
    permutation = torch.tensor([4, 0, 5, 2])  # target k is predicted by query permutation[k]
    mask_logits = torch.full((num_queries, num_superpoints), -5.0)
    mask_logits[permutation] = targets * 10 - 5
    classes = torch.tensor([1, 2, 0, 1])
    class_logits = torch.zeros(num_queries, 4)
    class_logits[permutation, classes] = 5.0
    centers = torch.zeros(num_queries, 3)
    target_centers = torch.rand(num_targets, 3)
    centers[permutation] = target_centers
    cost = matching_cost(class_logits, mask_logits, centers, classes, targets, target_centers)
    query_index, target_index = hungarian_match(cost)
    assert target_index.tolist() == [0, 1, 2, 3]
    assert query_index.tolist() == permutation.tolist()


def test_matching_non_finite_costs_says_training_diverged():
    """scipy's "matrix contains invalid numeric entries" said nothing of why: a diverged network."""
    cost = torch.rand(4, 3)
    cost[1, 2] = float("nan")
    with pytest.raises(Beep3dError, match="NaN or infinite.*lower lr"):
        hungarian_match(cost)


def test_dice_is_small_for_a_perfect_mask_and_large_for_the_inverse():
    targets = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    perfect = mask_dice_loss(targets * 20 - 10, targets)
    inverse = mask_dice_loss(10 - targets * 20, targets)
    assert perfect.item() < 0.2 and inverse.item() > 0.6


def test_classification_loss_down_weights_no_object():
    logits = torch.zeros(2, 3)  # 2 classes + no object
    matched = classification_loss(logits, torch.tensor([0]), torch.tensor([1]), no_object_weight=0.1)
    # weighted mean: (1 * ln3 + 0.1 * ln3) / 1.1 = ln 3
    assert matched.item() == pytest.approx(math.log(3))
    confident = torch.tensor([[0.0, 9.0, 0.0], [0.0, 0.0, 9.0]])
    assert classification_loss(confident, torch.tensor([0]), torch.tensor([1]), 0.1).item() < 1e-3


def test_score_loss_uses_pairs_with_iou_above_half():
    targets = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    logits = torch.tensor([[5.0, 5.0, -5.0], [-5.0, 5.0, 5.0]])  # IoU 1 and 0
    scores = torch.tensor([0.5, 0.0])
    assert score_loss(scores, logits, targets).item() == pytest.approx(0.25)


# ---------------------------------------------------------------- eq. A1 and EMA
def test_eqA1_decay_schedule():
    assert ema_decay(0, 0.99) == 0.0
    assert ema_decay(1, 0.99) == 0.5
    assert ema_decay(9, 0.99) == pytest.approx(0.9)
    assert ema_decay(10_000, 0.99) == 0.99


def test_ema_update_moves_parameters_and_float_buffers():
    teacher = torch.nn.BatchNorm1d(2)
    student = torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        student.weight.fill_(3.0)
        student.running_mean.fill_(2.0)
        student.num_batches_tracked.fill_(7)
    ema_update(teacher, student, decay=0.75)
    assert teacher.weight.tolist() == [1.5, 1.5]  # 0.75 * 1 + 0.25 * 3
    assert teacher.running_mean.tolist() == [0.5, 0.5]
    assert teacher.num_batches_tracked.item() == 7


def test_distance_centre_attention_moves_queries_to_their_nearest_centre():
    import torch

    from beep3d.model.teacher_queries import attend_to_centers

    centers = torch.tensor([[0.1, 0.1, 0.5], [0.9, 0.9, 0.5]])
    queries = torch.tensor([[0.0, 0.2, 0.5], [1.0, 0.8, 0.5]])
    near = attend_to_centers(queries, centers, scale=200.0, mode="distance")
    torch.testing.assert_close(near, centers, atol=1e-3, rtol=0)
    # the paper's dot-product logits on [0, 1] coordinates barely separate the centres
    dot = attend_to_centers(queries, centers, scale=1.0, mode="dot")
    assert torch.all((dot - centers.mean(dim=0)).norm(dim=1) < (centers[0] - centers[1]).norm() / 2)


def test_each_contested_point_reports_which_step_decided_it_and_rule_decisions_are_not_certain():
    from beep3d.model.pseudo_masks import contest_deciders
    from beep3d.resolve.resolution import (
        DECIDED_BY_NESTED_RULE,
        DECIDED_BY_NETWORK,
        DECIDED_BY_ONE_BOX,
        DECIDED_BY_VOLUME_RULE,
    )

    # box 0 (1 m^3) holds point 0 alone; box 1 (0.125 m^3) lies wholly inside it (points 1, 2);
    # box 2 (0.5 m^3) shares point 3 with box 0 and holds point 4 alone; box 3 (untrusted, 0.25 m^3)
    # shares point 5 with box 2 and holds point 6 alone; point 7 is background
    member_points = torch.tensor([0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6])
    member_boxes = torch.tensor([0, 0, 1, 0, 1, 0, 2, 2, 2, 3, 3])
    sizes = torch.tensor([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 1.0, 0.5], [1.0, 0.5, 0.5]])
    priority = nested_box_priority(member_points, member_boxes, 4)
    trusted = torch.tensor([True, True, True, False])
    logits = torch.tensor([[5.0] * 8, [-1.0] * 8, [1.0] * 8, [0.0] * 8])
    volumes = log_volume_bias(sizes)
    labels, margins = assign_points_to_boxes(
        logits,
        torch.arange(8),
        torch.arange(4),
        member_points,
        member_boxes,
        8,
        priority,
        trusted=trusted,
        fallback_bias=volumes,
        rule_bias=volumes,
    )
    assert labels.tolist() == [0, 1, 1, 0, 2, 3, 3, -1]  # point 5: the logits favour box 2, volume box 3
    decided = contest_deciders(labels, member_points, member_boxes, 8, priority, trusted)
    assert decided.tolist() == [
        DECIDED_BY_ONE_BOX,
        DECIDED_BY_NESTED_RULE,
        DECIDED_BY_NESTED_RULE,
        DECIDED_BY_NETWORK,
        DECIDED_BY_ONE_BOX,
        DECIDED_BY_VOLUME_RULE,
        DECIDED_BY_ONE_BOX,
        DECIDED_BY_ONE_BOX,
    ]
    # the nested rule is as sure as the volumes say: (V2 - V1) / (V2 + V1) = (1 - 1/8) / (1 + 1/8)
    assert margins[1].item() == pytest.approx(7 / 9, abs=1e-5)
    assert margins[5].item() == pytest.approx(1 / 3, abs=1e-5)  # volume fallback: 0.25 against 0.5 m^3


def test_eq11_mask_loss_and_eq12_total_weigh_their_terms():
    from beep3d.model.losses import beep3d_loss, mask_loss

    bce, dice, cls = torch.tensor(0.2), torch.tensor(0.5), torch.tensor(1.5)
    # the paper's ScanNet weights (1, 1, 0.5) and S3DIS weights (5, 1, 2)
    assert mask_loss(bce, dice, cls, 1.0, 1.0, 0.5).item() == pytest.approx(0.2 + 0.5 + 0.75)
    assert mask_loss(bce, dice, cls, 5.0, 1.0, 2.0).item() == pytest.approx(1.0 + 0.5 + 3.0)
    mask = torch.tensor(1.45)
    q, f = torch.tensor(0.4), torch.tensor(2.0)
    assert beep3d_loss(mask, q, f, 0.5, 0.5).item() == pytest.approx(1.45 + 0.2 + 1.0)
    assert beep3d_loss(mask, 0.0, 0.0, 0.5, 0.5).item() == pytest.approx(1.45)  # consistency ablated
