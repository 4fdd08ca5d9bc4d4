"""The BEEP3D network end to end on tiny synthetic scenes (CPU, spconv Native)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from beep3d.errors import Beep3dError
from beep3d.model.batch import collate
from beep3d.model.config import ModelConfig
from beep3d.model.toy_sample import make_toy_sample

pytest.importorskip("spconv")

from spconv.core import ConvAlgo  # noqa: E402

from beep3d.model.backbone import SparseUNet  # noqa: E402
from beep3d.model.beep3d_model import Beep3DModel  # noqa: E402
from tests.training_fakes import tiny_model_config  # noqa: E402

VOXEL = 0.05


def tiny_config(**changes) -> ModelConfig:
    """The shared tiny network with 16 queries and the toy samples' 4 classes."""
    return tiny_model_config(**{"num_queries": 16, "num_classes": 4, "voxel_size": VOXEL, **changes})


@pytest.fixture(autouse=True)
def one_thread():
    """spconv's CPU kernels are far faster single-threaded on a shared machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def samples():
    return [
        make_toy_sample(2500, num_objects=4, seed=0, num_classes=4),
        make_toy_sample(2000, num_objects=3, seed=1, num_classes=4),
    ]


def test_backbone_runs_with_native_algorithm_on_cpu(samples):
    batch = collate(samples, "cpu", voxel_size=VOXEL)
    backbone = SparseUNet(6, (8, 16, 24), 1)
    features = backbone(batch.voxel_features, batch.voxel_coords, batch.spatial_shape, batch.batch_size)
    assert features.shape == (len(batch.voxel_features), 8)
    assert all(conv.algo == ConvAlgo.Native for conv in backbone.modules() if hasattr(conv, "algo"))
    features.square().mean().backward()
    assert torch.isfinite(backbone.stem[0].weight.grad).all()


def test_training_step_gives_finite_losses_and_gradients_for_the_student_only(samples):
    model = Beep3DModel(tiny_config())
    model.train()
    losses = model.training_losses(collate(samples, "cpu", voxel_size=VOXEL))
    expected = {"total", "bce", "dice", "cls", "center", "score", "query_consistency", "feature_consistency"}
    assert expected <= set(losses)
    assert all(torch.isfinite(value).all() for value in losses.values())
    losses["total"].backward()
    student_grads = [p.grad for p in model.student_parameters() if p.grad is not None]
    assert student_grads and all(torch.isfinite(g).all() for g in student_grads)
    assert all(p.grad is None and not p.requires_grad for p in model.teacher.parameters())
    assert not model.teacher.training
    student_ids = {id(p) for p in model.student_parameters()}
    assert not student_ids & {id(p) for p in model.teacher.parameters()}


def test_a_few_optimizer_steps_lower_the_loss_and_the_teacher_follows(samples):
    model = Beep3DModel(tiny_config())
    model.train()
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    optimizer = torch.optim.AdamW(model.student_parameters(), lr=2e-3)
    teacher_before = model.teacher.decoder.class_head.weight.clone()
    totals = []
    for step in range(12):
        losses = model.training_losses(batch)
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
        decay = model.update_teacher(step)
        totals.append(losses["total"].item())
    assert decay == pytest.approx(min(1 - 1 / 12, 0.99))
    assert np.mean(totals[-3:]) < np.mean(totals[:3])
    student = model.student.decoder.class_head.weight
    teacher = model.teacher.decoder.class_head.weight
    assert not torch.equal(teacher, teacher_before)
    # EMA lags behind the student but is closer to it than where it started
    assert (teacher - student).abs().sum() < (teacher_before - student).abs().sum()


def test_pseudo_masks_resolve_only_among_containing_boxes(samples):
    model = Beep3DModel(tiny_config())
    batch = collate(samples, "cpu", voxel_size=VOXEL)
    results = model.pseudo_mask_margins(batch)
    for sample, (labels, margins) in zip(samples, results, strict=True):
        assert labels.shape == (sample.num_points,) and labels.dtype == np.int64
        counts = sample.overlap_counts()
        assert (labels[counts == 0] == -1).all()
        single = np.bincount(sample.member_points, minlength=sample.num_points) == 1
        exclusive_box = np.full(sample.num_points, -1)
        pairs_single = single[sample.member_points]
        exclusive_box[sample.member_points[pairs_single]] = sample.member_boxes[pairs_single]
        assert (labels[single] == exclusive_box[single]).all()
        contained = set(zip(sample.member_points.tolist(), sample.member_boxes.tolist(), strict=True))
        overlap_points = np.nonzero(counts >= 2)[0]
        assert len(overlap_points) > 0
        assert all((int(p), int(labels[p])) in contained for p in overlap_points)
        assert (margins[overlap_points] >= 0).all() and (margins[counts < 2] == 1).all()


def test_cached_scene_encoding_gives_the_same_pseudo_masks(samples):
    model = Beep3DModel(tiny_config())
    sample = samples[0]
    batch = collate([sample], "cpu", voxel_size=VOXEL)
    expected = model.pseudo_masks(batch)[0]
    encoding = model.encode_scene(batch)
    labels, margins, _ = model.resolve_with_teacher(
        encoding, sample.box_centers, sample.box_classes, sample.member_points, sample.member_boxes
    )
    assert np.array_equal(labels, expected)
    # dropping box 0 re-runs only the decoder: its exclusive points become background
    keep = sample.member_boxes != 0
    labels_without, *_ = model.resolve_with_teacher(
        encoding,
        sample.box_centers[1:],
        sample.box_classes[1:],
        sample.member_points[keep],
        sample.member_boxes[keep] - 1,
    )
    assert (labels_without[sample.overlap_counts() == 0] == -1).all()
    assert labels_without.max() == sample.num_boxes - 2


def test_teacher_position_hook_projects_every_layer_onto_box_centres(samples):
    model = Beep3DModel(tiny_config())
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    scene = model.teacher.encode(batch)[0]
    centers = batch.box_centers[0]
    initial, hook = model._teacher_positions(scene, centers)
    calls = []

    def recording_hook(positions):
        calls.append(positions)
        return hook(positions)

    output = model.teacher.decoder(scene, initial, recording_hook)
    assert len(calls) == model.config.num_layers
    normalised = scene.normalise(centers)
    low, high = normalised.min(dim=0).values, normalised.max(dim=0).values
    for layer in output.layers:  # every layer's positions lie inside the centres' bounding box
        assert (layer.positions >= low - 1e-5).all() and (layer.positions <= high + 1e-5).all()


def test_box_centre_queries_give_every_box_its_own_query_at_its_centre(samples):
    model = Beep3DModel(tiny_config(teacher_query_init="box_centers"))
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    scene = model.teacher.encode(batch)[0]
    centers = batch.box_centers[0]
    initial, hook = model._teacher_positions(scene, centers)
    normalised = scene.normalise(centers)
    assert torch.allclose(initial, normalised)
    output = model.teacher.decoder(scene, initial, hook)
    for layer in output.layers:  # eq. 6 keeps each query on its own box's centre
        assert torch.allclose(layer.positions, normalised)
    # the query created for box k is box k's: eq. 3's matching is the identity
    result = model._teacher_results(batch)[0]
    assert result.matched_query.tolist() == list(range(samples[0].num_boxes))


def test_a_box_without_target_points_is_not_supervised(samples):
    """A box whose target mask is empty (a nested box before the teacher gives it points) must not
    teach a query that its object does not exist: adding such a box leaves the loss unchanged."""
    sample = samples[0]
    model = Beep3DModel(tiny_config())
    batch = collate([sample], "cpu", voxel_size=VOXEL)
    labels = [torch.as_tensor(sample.gt_instance)]
    expected = model.supervised_losses(batch, labels)
    extra = dataclasses.replace(
        sample,
        box_centers=np.vstack([sample.box_centers, sample.box_centers[:1]]),
        box_sizes=np.vstack([sample.box_sizes, sample.box_sizes[:1] * 0.5]),
        box_yaws=np.append(sample.box_yaws, 0.0).astype(np.float32),
        box_classes=np.append(sample.box_classes, 1),
        box_ids=np.append(sample.box_ids, 99),
    )
    with_empty = model.supervised_losses(collate([extra], "cpu", voxel_size=VOXEL), labels)
    for name in ("total", "bce", "dice", "cls"):
        assert torch.allclose(with_empty[name], expected[name]), name


@pytest.mark.parametrize(
    "changes",
    [
        dict(teacher_query_init="box_centers"),
        dict(teacher_query_init="box_centers", w_center_queries=1.0),
        dict(use_center_refinement=False),
        dict(use_query_consistency=False, use_feature_consistency=False),
        dict(teacher_mode="self_training"),
    ],
)
def test_ablations_train(samples, changes):
    model = Beep3DModel(tiny_config(**changes))
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    losses = model.training_losses(batch)
    losses["total"].backward()
    assert torch.isfinite(losses["total"])
    torch.optim.SGD(model.student_parameters(), lr=0.1).step()
    before = model.teacher.decoder.class_head.weight.clone()
    model.update_teacher(5)
    moved = not torch.equal(before, model.teacher.decoder.class_head.weight)
    assert moved == (model.config.teacher_mode == "ema")
    model.copy_student_to_teacher()
    assert torch.equal(model.teacher.decoder.class_head.weight, model.student.decoder.class_head.weight)


def test_predict_returns_point_masks_per_scene(samples):
    model = Beep3DModel(tiny_config())
    predictions = model.predict(collate(samples, "cpu", voxel_size=VOXEL), topk=10, min_points=0)
    assert len(predictions) == 2
    for sample, prediction in zip(samples, predictions, strict=True):
        assert prediction.masks.shape == (len(prediction.scores), sample.num_points)
        assert prediction.masks.dtype == bool
        assert len(prediction.classes) == len(prediction.scores) <= 10
        assert ((prediction.classes >= 0) & (prediction.classes < 4)).all()


def test_state_dict_holds_student_and_teacher():
    model = Beep3DModel(tiny_config())
    keys = model.state_dict().keys()
    assert any(k.startswith("student.") for k in keys) and any(k.startswith("teacher.") for k in keys)
    assert all(k.startswith(("student.", "teacher.")) for k in keys)


def test_batch_voxelised_at_another_size_is_rejected(samples):
    from beep3d.errors import Beep3dError

    model = Beep3DModel(tiny_config())
    with pytest.raises(Beep3dError, match="voxel_size"):
        model.predict(collate(samples[:1], "cpu", voxel_size=0.02))


def test_supervised_losses_use_given_targets_without_consistency(samples):
    model = Beep3DModel(tiny_config())
    batch = collate(samples, "cpu", voxel_size=VOXEL)
    labels = [torch.as_tensor(sample.gt_instance) for sample in samples]
    losses = model.supervised_losses(batch, labels)
    losses["total"].backward()
    assert torch.isfinite(losses["total"])
    assert losses["query_consistency"].item() == 0 and losses["feature_consistency"].item() == 0
    assert all(p.grad is None for p in model.teacher.parameters())


def test_shared_full_resolution_indices_give_identical_features(samples):
    batch = collate(samples, "cpu", voxel_size=VOXEL)
    backbone = SparseUNet(6, (8, 16, 24), 1).eval()
    inputs = (batch.voxel_features, batch.voxel_coords, batch.spatial_shape, batch.batch_size)
    cache: dict = {}
    with torch.no_grad():
        first = backbone(*inputs, cache)
        assert set(cache) == {"stem", "subm0"}
        reused = backbone(*inputs, cache)
        plain = backbone(*inputs)
    assert torch.equal(first, plain) and torch.allclose(reused, plain)


def test_center_query_loss_trains_the_decoder_on_queries_at_the_box_centres(samples):
    model = Beep3DModel(tiny_config(teacher_query_init="box_centers", w_center_queries=1.0))
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    labels = [torch.as_tensor(samples[0].gt_instance)]
    losses = model.supervised_losses(batch, labels)
    assert losses["center_queries"].item() > 0
    without = Beep3DModel(tiny_config(teacher_query_init="box_centers"))
    without.load_state_dict(model.state_dict())
    plain = without.supervised_losses(batch, labels)
    assert plain["center_queries"].item() == 0
    assert torch.allclose(losses["total"], plain["total"] + losses["center_queries"])


def test_colour_only_input_ignores_the_point_coordinates(samples):
    """in_channels 3: the backbone reads colour only; the coordinates enter through the voxel grid."""
    batch = collate(samples[:1], "cpu", voxel_size=VOXEL)
    shifted = dataclasses.replace(batch, voxel_features=batch.voxel_features.clone())
    shifted.voxel_features[:, 3:] += torch.randn_like(shifted.voxel_features[:, 3:])

    def features(config: ModelConfig, b) -> torch.Tensor:
        torch.manual_seed(0)
        network = Beep3DModel(config).student.eval()
        with torch.no_grad():
            return network.encode(b)[0].superpoint_features

    colour_only = tiny_config(in_channels=3)
    assert torch.equal(features(colour_only, batch), features(colour_only, shifted))
    with_xyz = tiny_config(in_channels=6)
    assert not torch.allclose(features(with_xyz, batch), features(with_xyz, shifted))


def test_input_channels_other_than_rgb_or_rgb_xyz_are_refused():
    with pytest.raises(Beep3dError, match="in_channels"):
        tiny_config(in_channels=4)


def test_eq12_is_what_training_minimises_when_the_extras_are_off(samples):
    """The model's total loss is eq. 12 of its parts (centre and score weights 0, no centre queries)."""
    torch.manual_seed(0)
    model = Beep3DModel(tiny_config(w_center=0.0, w_score=0.0, w_center_queries=0.0))
    losses = model.training_losses(collate(samples, "cpu", voxel_size=VOXEL))
    config = model.config
    expected = (
        config.w_bce * losses["bce"]
        + config.w_dice * losses["dice"]
        + config.w_cls * losses["cls"]
        + config.w_q * losses["query_consistency"]
        + config.w_f * losses["feature_consistency"]
    )
    assert losses["feature_consistency"].item() > 0 or losses["query_consistency"].item() > 0
    assert losses["total"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_submanifold_conv_on_cpu_equals_a_dense_reference():
    """spconv imported without its CUDA kernel tables (no CUDA here) still convolves exactly on CPU."""
    import spconv.pytorch as spconv_torch

    from beep3d.model.backbone import select_conv_algorithm

    rng = np.random.default_rng(0)
    coords = np.unique(rng.integers(0, 6, (60, 3)), axis=0)
    features = torch.tensor(rng.normal(size=(len(coords), 4)), dtype=torch.float32)
    conv = spconv_torch.SubMConv3d(4, 5, 3, padding=1, bias=False, indice_key="t")
    select_conv_algorithm(conv, torch.device("cpu"))
    indices = torch.tensor(np.column_stack([np.zeros(len(coords)), coords]), dtype=torch.int32)
    with torch.no_grad():
        out = conv(spconv_torch.SparseConvTensor(features, indices, [6, 6, 6], 1)).features.numpy()
    weight = conv.weight.detach().numpy()  # (out, kx, ky, kz, in)
    where = {tuple(c): i for i, c in enumerate(coords.tolist())}
    expected = np.zeros((len(coords), 5))
    for i, c in enumerate(coords):
        for offset in np.ndindex(3, 3, 3):
            j = where.get(tuple(c + np.asarray(offset) - 1))
            if j is not None:
                expected[i] += weight[:, offset[0], offset[1], offset[2], :] @ features[j].numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
