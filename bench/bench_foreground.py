"""Masks tighter than boxes: mean instance IoU with the foreground stage off / geometric / model.

    .venv/bin/python bench/bench_foreground.py [--scans 'scene0002_*' 'scene0004_*'] [--synthetic 10]
                                               [--checkpoint PATH] [--threads 1]

Real ScanNet scans (../shared/data/scannet_real, by default only the validation rooms 0002 and 0004)
are boxed the way ``beep3d-train`` boxes ScanNet (axis-aligned boxes around the instances of the 18
benchmark classes, 5 mm margin) and resolved by the teacher and by smallest-box; each resolution then
goes through the foreground stage in each mode, at point membership, as the window and the headless
export run it (:func:`beep3d.resolve.pipeline.annotate`). Synthetic evaluation rooms (seeds training
never uses) are measured the same way. GT instances are used for the figures only.

Printed: per scan and pooled (mean over scans) mean instance IoU for every resolver x mode, the share
of in-box points each mode took out and the share of those that really are not their box's GT
object (precision), and the stage's own time on a re-resolution (scene surfaces already found). The last
line is the pooled real-scan IoU of the teacher per mode.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from shared_data import add_scan_options, real_scenes

from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.metrics.mask_quality import mean_instance_iou
from beep3d.resolve.foreground import FOREGROUND_MODES, get_foreground
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene


def added_seconds(scene: Scene, boxes, resolver, stage, repeats: int = 5) -> float:
    """Median seconds the stage adds to a whole re-resolution (:func:`annotate`, surfaces found)."""
    with_stage, without = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        annotate(scene, boxes, resolver)
        without.append(time.perf_counter() - started)
        started = time.perf_counter()
        annotate(scene, boxes, resolver, foreground=stage)
        with_stage.append(time.perf_counter() - started)
    return float(np.median(with_stage) - np.median(without))


def foreground_table(loaded: list, resolvers: dict, stages: dict, title: str) -> dict[tuple[str, str], float]:
    """Print the IoU table for ``loaded`` scenes; return the pooled IoU per (resolver, mode)."""
    print(f"\n### {title}: mean instance IoU, foreground {' / '.join(stages)}\n")
    print("| scan | " + " | ".join(f"{r}: {' / '.join(stages)}" for r in resolvers) + " |")
    print("|---|" + "---|" * len(resolvers))
    ious: dict[tuple[str, str], list[float]] = {}
    taken: dict[str, list[float]] = {m: [] for m in stages}
    right: dict[str, list[float]] = {m: [] for m in stages}
    stage_seconds: dict[str, list[float]] = {m: [] for m in stages}
    for scene, boxes in loaded:
        cells = []
        for rname, resolver in resolvers.items():
            figures = []
            for mode, stage in stages.items():
                annotate(scene, boxes, resolver, foreground=stage)  # first call: scene surfaces, encodings
                result = annotate(scene, boxes, resolver, foreground=stage)
                if rname == "smallest-box":  # the stage's cost on a re-resolution, as the window runs it
                    stage_seconds[mode].append(added_seconds(scene, boxes, resolver, stage))
                iou = mean_instance_iou(result.resolution.instance_ids, scene.instance, boxes.ids).value
                ious.setdefault((rname, mode), []).append(iou)
                figures.append(f"{iou:.3f}")
                if rname == next(iter(resolvers)):
                    left = result.foreground.background
                    inside = int(np.sum(result.analysis.counts > 0))
                    taken[mode].append(left.sum() / max(inside, 1))
                    if left.any():
                        given = resolver.resolve(scene, boxes).instance_ids  # before the stage
                        right[mode].append(float(np.mean(scene.instance[left] != given[left])))
            cells.append(" / ".join(figures))
        print(f"| {scene.name} | " + " | ".join(cells) + " |")
    pooled = {key: float(np.mean(values)) for key, values in ious.items()}
    cells = [" / ".join(f"**{pooled[(r, m)]:.3f}**" for m in stages) for r in resolvers]
    print(f"| mean over {len(loaded)} scans | " + " | ".join(cells) + " |")
    first = next(iter(resolvers))
    print(
        f"\nIn-box points taken out ({first}), mean over scans, and the share of them that are not their box's GT object:"
    )
    for mode in stages:
        share = np.mean(taken[mode]) if taken[mode] else 0.0
        precision = f"{np.mean(right[mode]):.2f}" if right[mode] else "n/a"
        print(f"- {mode}: {share:.3f} of in-box points, {precision} of them not their box's object")
    sizes = ", ".join(f"{scene.num_points:,}" for scene, _ in loaded)
    print(
        f"time the stage adds to a re-resolution with smallest-box (median over scans of {sizes} points): "
        + ", ".join(f"{m} {1000 * np.median(s):.1f} ms" for m, s in stage_seconds.items() if s)
    )
    return pooled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_scan_options(parser)
    parser.add_argument("--synthetic", type=int, default=10, help="synthetic evaluation rooms (0: none)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=list(FOREGROUND_MODES), choices=FOREGROUND_MODES)
    parser.add_argument(
        "--model-threshold",
        type=float,
        default=None,
        help="model mode's probability threshold (default: its own)",
    )
    args = parser.parse_args()

    teacher = get_resolver("teacher", checkpoint=args.checkpoint, threads=args.threads)
    resolvers = {"teacher": teacher, "smallest-box": get_resolver("smallest-box")}
    model_options = {} if args.model_threshold is None else {"threshold": args.model_threshold}
    stages = {
        m: get_foreground(m, teacher=teacher, **(model_options if m == "model" else {})) for m in args.modes
    }
    print(f"checkpoint: {args.checkpoint}")
    pooled = {}
    if args.data.is_dir():
        loaded = real_scenes(args.data, args.scans)
        if loaded:
            pooled = foreground_table(
                loaded, resolvers, stages, f"Real ScanNet scans ({', '.join(args.scans)})"
            )
    else:
        print(f"{args.data}: no real scans here (see ../shared/data/README.md); real table skipped")
    if args.synthetic:
        from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

        rooms = [make_room(EVAL_SEED_START + i) for i in range(args.synthetic)]
        foreground_table(rooms, resolvers, stages, f"{args.synthetic} synthetic evaluation rooms")
    if pooled:
        print("\nreal pooled IoU (teacher): " + " ".join(f"{m} {pooled[('teacher', m)]:.3f}" for m in stages))


if __name__ == "__main__":
    main()
