"""CPU time of one training step: the supervised student alone vs the full BEEP3D step.

Supervised student: student forward + MAFT losses on box-derived masks with the P^u points left out,
backward, optimizer step. Full BEEP3D: teacher forward, pseudo-masks (eq. 1-6), student forward, all
losses including eq. 7 and eq. 8-10, backward, optimizer step, EMA update (eq. A1).

Usage: .venv/bin/python bench/bench_train_step.py [--points 50000] [--steps 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from beep3d.model.batch import collate
from beep3d.model.beep3d_model import Beep3DModel
from beep3d.model.config import ModelConfig
from beep3d.model.pseudo_masks import exclusive_point_labels
from beep3d.model.toy_sample import make_toy_sample


def small_config() -> ModelConfig:
    return ModelConfig(
        backbone_channels=(16, 32, 48, 64, 80),
        blocks_per_level=1,
        num_queries=100,
        num_layers=3,
        d_model=64,
        num_heads=4,
        ffn_dim=256,
        voxel_size=0.02,
    )


def interleaved_medians(first, second, steps: int) -> tuple[float, float]:
    """Median seconds per call of two step functions run alternately (the machine is shared, so
    alternating keeps both exposed to the same load); one warm-up call each."""
    first(0)
    second(0)
    times_first, times_second = [], []
    for i in range(steps):
        for step, times in ((first, times_first), (second, times_second)):
            start = time.perf_counter()
            step(i + 1)
            times.append(time.perf_counter() - start)
    return statistics.median(times_first), statistics.median(times_second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--objects", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = small_config()
    sample = make_toy_sample(args.points, num_objects=args.objects, seed=0, superpoint_cell=0.2)
    batch = collate([sample], "cpu", voxel_size=config.voxel_size)
    model = Beep3DModel(config)
    model.train()
    optimizer = torch.optim.AdamW(model.student_parameters(), lr=1e-4, weight_decay=0.05)
    box_labels = [exclusive_point_labels(batch.member_points[0], batch.member_boxes[0], sample.num_points)]

    def supervised_step(step: int) -> None:
        losses = model.supervised_losses(batch, box_labels)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()

    def beep3d_step(step: int) -> None:
        losses = model.training_losses(batch)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()
        model.update_teacher(step)

    supervised, full = interleaved_medians(supervised_step, beep3d_step, args.steps)
    print("config:", json.dumps(config.to_dict()))
    print(
        f"scene: {sample.num_points} points, {len(batch.voxel_features)} voxels, "
        f"{batch.num_superpoints[0]} superpoints, {sample.num_boxes} boxes, "
        f"{int((sample.overlap_counts() >= 2).sum())} P^u points; torch threads: {args.threads}"
    )
    print(f"median of {args.steps} steps each, run alternately")
    print(f"supervised student step: {supervised * 1000:.0f} ms")
    print(f"full BEEP3D step:        {full * 1000:.0f} ms")
    print(f"ratio full / supervised: {full / supervised:.2f}x")


if __name__ == "__main__":
    main()
