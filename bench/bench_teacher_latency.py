"""Latency of the teacher resolver: first resolution of a scene, then re-resolution after box edits.

    .venv/bin/python bench/bench_teacher_latency.py [--checkpoint PATH] [--points 100000] [--boxes 40]

The scene is a synthetic evaluation room sub-sampled (or grown by repetition) to --points points with
its GT boxes, topped up with random extra boxes to --boxes. The first resolution includes superpoints,
the backbone and the decoder; an edit moves one box by a few centimetres, and the scene is resolved
again two ways: in full (``resolve``: the decoder and the pseudo-mask step, the scene's encoding
kept) and as the window does after an edit (``resolve_edit``: the queries and points the edit
touches; :mod:`beep3d.resolve.teacher_edits`). Without a checkpoint the `small` network is built
with random weights: latency does not depend on the weights.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from beep3d.defaults import DEFAULT_CHECKPOINT


def random_checkpoint(folder: Path) -> Path:
    """A checkpoint of the `small` config with random weights."""
    from beep3d.classes import SCANNET18
    from beep3d.model.beep3d_model import Beep3DModel
    from beep3d.training.checkpoint import save_checkpoint
    from beep3d.training.config import load_config

    config = load_config("small")
    path = folder / "random_small.safetensors"
    save_checkpoint(path, Beep3DModel(config.model), config, SCANNET18, step=0, epoch=0)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--boxes", type=int, default=40)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.resolve.resolvers import get_resolver
    from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

    scene, boxes = make_room(EVAL_SEED_START + 7)
    rng = np.random.default_rng(0)
    scene = scene.subset(rng.choice(scene.num_points, size=min(args.points, scene.num_points), replace=False))
    lo, hi = scene.xyz.min(axis=0), scene.xyz.max(axis=0)
    extra = [
        Box(
            10_000 + i,
            "otherfurniture",
            rng.uniform(lo, hi),
            rng.uniform(0.3, 1.2, 3),
            rng.uniform(-np.pi, np.pi),
        )
        for i in range(max(0, args.boxes - len(boxes)))
    ]
    boxes = BoxSet([*boxes.boxes[: args.boxes], *extra])
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint if args.checkpoint.exists() else random_checkpoint(Path(tmp))
        started = time.perf_counter()
        resolver = get_resolver("teacher", checkpoint=checkpoint, threads=args.threads)
        resolver.load()  # the network loads lazily; time it apart from the first resolution
        load_time = time.perf_counter() - started
        started = time.perf_counter()
        first = resolver.resolve(scene, boxes)
        first_time = time.perf_counter() - started
        full_times, edit_times = [], []
        membership, previous = boxes.membership(scene.xyz), first
        for i in range(args.edits):
            position = i % len(boxes)
            box = boxes[position]
            moved = box.moved(center=tuple(np.asarray(box.center) + rng.normal(0, 0.03, 3)))
            before, boxes = boxes, boxes.with_box(moved)
            started = time.perf_counter()
            edit = boxes.membership_edit(membership, before, scene.point_index)
            previous, _ = resolver.resolve_edit(scene, boxes, previous, edit)
            edit_times.append(time.perf_counter() - started)
            membership = edit.membership
            started = time.perf_counter()
            previous = resolver.resolve(scene, boxes)  # the next edit starts from the full result
            full_times.append(time.perf_counter() - started)
    full = np.array(full_times) * 1000
    edit = np.array(edit_times) * 1000
    print(f"checkpoint: {checkpoint.name if args.checkpoint.exists() else 'small config, random weights'}")
    print(
        f"scene: {scene.num_points:,} points, {len(boxes)} boxes, {int((first.overlap_counts >= 2).sum()):,} points in several boxes"
    )
    print(f"load resolver (torch, spconv, weights)      {load_time:7.2f} s")
    print(f"first resolution (superpoints, backbone)    {first_time:7.2f} s")
    print(
        f"re-resolution after moving one box, ms      median {np.median(full):6.1f}  p95 {np.percentile(full, 95):6.1f}  max {full.max():6.1f}  ({len(full)} edits)"
    )
    print(
        f"the same edit resolved as an edit, ms       median {np.median(edit):6.1f}  p95 {np.percentile(edit, 95):6.1f}  max {edit.max():6.1f}"
    )


if __name__ == "__main__":
    main()
