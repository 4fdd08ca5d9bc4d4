"""Overfitting one synthetic room: the teacher resolves the room's overlaps better than the rules.

A network that has fitted a room's single-box points has been told nothing about the points inside
several boxes (P^u). How it splits them follows from what its features encode. With colour-only input
(``in_channels: 3``) its features come from local shape and colour, which P^u points share with the
labelled parts of their own objects, and the teacher resolves the room's overlaps clearly better than
the smallest-box and nearest-centre rules (README, "How the teacher got past the rules"; with
``in_channels: 6`` the same run stays at the smallest-box rule's level).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from beep3d.classes import SCANNET18
from beep3d.geometry.overlap import membership_for
from beep3d.geometry.superpoints import compute_superpoints
from beep3d.metrics.mask_quality import overlap_accuracy
from beep3d.model.batch import collate
from beep3d.resolve.resolvers import get_resolver
from beep3d.synthetic.rooms import make_room

pytest.importorskip("spconv")

from beep3d.model.beep3d_model import Beep3DModel  # noqa: E402
from beep3d.model.sample import with_model_dtypes
from beep3d.training.config import load_config  # noqa: E402
from beep3d.training.datasets import prepare_scene  # noqa: E402

ROOM_SEED = 7  # 51.5k points, 35 boxes, 5.7k points in two or more boxes
STEPS = 500


def test_overfitting_one_room_resolves_its_overlaps_better_than_the_rules():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    scene, boxes = make_room(ROOM_SEED, spacing=0.04)
    scene.superpoints = compute_superpoints(scene)
    membership = membership_for(scene, boxes, "point")
    member_ids = boxes.ids[membership.box_index]

    def accuracy(instance_ids: np.ndarray) -> float:
        return overlap_accuracy(instance_ids, scene.instance, membership.point_index, member_ids).value

    rules = {
        name: accuracy(get_resolver(name, level="point").resolve(scene, boxes).instance_ids)
        for name in ("smallest-box", "nearest-centre")
    }

    sample = with_model_dtypes(prepare_scene(scene, boxes, SCANNET18, scene.superpoints).sample)
    assert len(sample.box_ids) == len(boxes), "every box keeps its points, so positions are box order"
    # the shipped `small` network on a 3-level backbone and 5 cm voxels, single-box points only (on one
    # scene the pseudo-masks only feed the teacher's own decisions back to it: README, "How the
    # teacher got past the rules"), a fast EMA and the resolver's eq. 2 score
    config = replace(
        load_config("small").model,
        in_channels=3,
        backbone_channels=(16, 32, 48),
        voxel_size=0.05,
        pseudo_mask_warmup_steps=STEPS + 1,
        ema_alpha=0.9,
        overlap_score="logit_minus_log_volume",
    )
    model = Beep3DModel(config)
    batch = collate([sample], "cpu", voxel_size=config.voxel_size)
    optimizer = torch.optim.AdamW(model.student_parameters(), lr=2e-3)
    for step in range(1, STEPS + 1):
        loss = model.training_losses(batch, step=step)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.update_teacher(step)
    model.eval()
    with torch.no_grad():
        positions = model.pseudo_masks(batch)[0]
    teacher = accuracy(np.where(positions >= 0, sample.box_ids[np.maximum(positions, 0)], -1))

    best_rule = max(rules.values())
    # measured with torch seeds 0, 1, 2: 0.876, 0.867, 0.845; smallest-box 0.782, nearest-centre 0.725
    assert teacher >= 0.83, f"teacher {teacher:.3f} after {STEPS} steps; rules {rules}"
    assert teacher >= best_rule + 0.04, f"teacher {teacher:.3f}; rules {rules}"
