"""The teacher decoder with queries pinned on the box centres, and re-decoding a few of them."""

from __future__ import annotations

import functools

import pytest
import torch

from beep3d.model.decoder import MaftDecoder, SceneContext
from beep3d.model.pinned_decoding import decode_pinned, redecode
from beep3d.model.teacher_queries import pin_to_box_centers
from tests.training_fakes import tiny_model_config


@pytest.fixture
def decoder_and_scene():
    torch.manual_seed(0)
    config = tiny_model_config(teacher_query_init="box_centers", mask_threshold=0.5)
    decoder = MaftDecoder(config, feature_channels=8).eval()
    count = 300
    xyz = torch.rand(count, 3) * torch.tensor([4.0, 3.0, 2.5])
    scene = SceneContext(
        superpoint_features=torch.randn(count, 8),
        superpoint_xyz=xyz,
        superpoint_sizes=torch.ones(count),
        superpoints=torch.arange(count),
        scene_min=xyz.min(dim=0).values,
        scene_max=xyz.max(dim=0).values,
    )
    centres = scene.normalise(torch.rand(9, 3) * torch.tensor([4.0, 3.0, 2.5]))
    return decoder, scene, centres


@torch.no_grad()
def test_a_pinned_decode_equals_the_decoder_with_each_query_pinned_on_its_box_centre(decoder_and_scene):
    decoder, scene, centres = decoder_and_scene
    output = decoder(scene, centres.clone(), functools.partial(pin_to_box_centers, centers=centres))
    decoding = decode_pinned(decoder, scene, centres)
    torch.testing.assert_close(decoding.contents[-1], output.content)
    torch.testing.assert_close(decoding.logits, output.content @ output.mask_features.T)
    torch.testing.assert_close(decoding.logits, output.final.mask_logits)


@torch.no_grad()
def test_redecoding_gives_the_moved_and_asked_queries_what_a_full_decode_gives(decoder_and_scene):
    decoder, scene, centres = decoder_and_scene
    decoding = decode_pinned(decoder, scene, centres)
    before = decoding.logits.clone()
    edited = centres.clone()
    edited[4] = edited[4] + torch.tensor([0.2, -0.1, 0.05])
    full = decode_pinned(decoder, scene, edited)
    rows = torch.tensor([3, 4, 5])
    redecode(decoder, scene, decoding, edited, torch.tensor([4]), rows)
    torch.testing.assert_close(decoding.logits[rows], full.logits[rows], atol=1e-4, rtol=1e-4)
    for layer in range(len(decoding.contents)):
        torch.testing.assert_close(
            decoding.contents[layer][rows], full.contents[layer][rows], atol=1e-5, rtol=1e-5
        )
    assert not torch.allclose(before[4], full.logits[4], atol=1e-3), "the move must change the moved query"
    others = torch.tensor([0, 1, 2, 6, 7, 8])
    assert torch.equal(decoding.logits[others], before[others]), "queries not asked keep their rows"
    # the first layer of a query depends on its own centre only: unmoved rows are a full decode's
    torch.testing.assert_close(decoding.contents[0], full.contents[0], atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_redecoding_without_a_moved_box_brings_the_asked_rows_up_to_date(decoder_and_scene):
    decoder, scene, centres = decoder_and_scene
    decoding = decode_pinned(decoder, scene, centres)
    edited = centres.clone()
    edited[0] = edited[0] + 0.1
    full = decode_pinned(decoder, scene, edited)
    redecode(decoder, scene, decoding, edited, torch.tensor([0]), torch.tensor([0]))
    assert not torch.allclose(decoding.logits[7], full.logits[7], atol=1e-6), "row 7 is stale"
    redecode(decoder, scene, decoding, edited, torch.zeros(0, dtype=torch.long), torch.tensor([7]))
    torch.testing.assert_close(decoding.logits[[0, 7]], full.logits[[0, 7]], atol=1e-4, rtol=1e-4)
    redecode(decoder, scene, decoding, edited, torch.zeros(0, dtype=torch.long), torch.arange(9))
    torch.testing.assert_close(decoding.logits, full.logits, atol=1e-4, rtol=1e-4)
