"""Mask quality on real ScanNet scans: the teacher against the rules, per scan and pooled.

    .venv/bin/python bench/bench_real_quality.py [--scans 'scene0002_*' 'scene0004_*'] [--checkpoint PATH]

Reads the labelled real scans in ../shared/data/scannet_real (or ``--data``), boxes each the way
``beep3d-train`` does for ScanNet (axis-aligned boxes around the instances of the 18 benchmark classes,
5 mm margin), and resolves them with the teacher, smallest-box and nearest-centre, at point and at
superpoint membership. The GT instances are used for the figures only. By default only the validation
rooms (0002 and 0004) are read: no choice may be made on the scans a figure is reported for.

Figures, per scan and pooled over the chosen scans:
- mACC: among points in two or more boxes whose GT instance is one of those boxes' instances, the share
  that went to the right box (pooled: over all such points of all scans);
- IoU: mean instance IoU of the boxed GT instances with their box's mask;
- who decided the teacher's contested points: the nested-box rule, the volume rule (the recognition
  fallback) or the network, as shares of the eligible points, and each resolver's accuracy on each
  of those three sets of points (so the rules are compared on the network's points too).
"""

from __future__ import annotations

import argparse
import fnmatch
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from shared_data import REAL_SCANS

from beep3d.classes import SCANNET18
from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.geometry.overlap import membership_for
from beep3d.geometry.superpoints import compute_superpoints
from beep3d.io import load_scene
from beep3d.metrics.mask_quality import mean_instance_iou, overlap_accuracy
from beep3d.resolve.resolution import (
    DECIDED_BY_NESTED_RULE,
    DECIDED_BY_NETWORK,
    DECIDED_BY_VOLUME_RULE,
)
from beep3d.resolve.resolvers import get_resolver
from beep3d.training.data_folders import ply_scene_name
from beep3d.training.datasets import gt_boxes

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = REAL_SCANS
VALIDATION = ("scene0002_*", "scene0004_*")
PARTS = {"nested": DECIDED_BY_NESTED_RULE, "volume": DECIDED_BY_VOLUME_RULE, "network": DECIDED_BY_NETWORK}


@dataclass
class Tally:
    """Right and eligible contested points, in all and per part of the teacher's split."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(["all", *PARTS], 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(["all", *PARTS], 0))
    ious: list[float] = field(default_factory=list)

    def share(self, part: str) -> float:
        return self.right[part] / self.total[part] if self.total[part] else float("nan")


def scans(data: Path, patterns: list[str]) -> list[Path]:
    chosen = [
        p
        for p in sorted(data.glob("*.ply"))
        if any(fnmatch.fnmatchcase(ply_scene_name(p), q) for q in patterns)
    ]
    if not chosen:
        raise SystemExit(f"no scan in {data} matches {patterns}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED_REAL)
    parser.add_argument("--scans", nargs="+", default=list(VALIDATION), help="scene-name patterns")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--overlap-score", default=None, help="the teacher's eq. 2 score (default: the resolver's)"
    )
    parser.add_argument("--min-recognition", type=float, default=None, help="default: the resolver's")
    parser.add_argument("--membership", nargs="+", default=["point", "superpoint"])
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"{args.data}: no real scans here (see ../shared/data/README.md)")

    loaded = []
    for path in scans(args.data, args.scans):
        scene = load_scene(path)
        scene.name = ply_scene_name(path)
        scene.superpoints = compute_superpoints(scene)
        loaded.append((scene, gt_boxes(scene, SCANNET18, str(path))))

    teacher_options = {"checkpoint": args.checkpoint, "threads": args.threads}
    if args.overlap_score is not None:
        teacher_options["overlap_score"] = args.overlap_score
    if args.min_recognition is not None:
        teacher_options["min_recognition"] = args.min_recognition
    names = ["teacher", "smallest-box", "nearest-centre"]
    print(f"checkpoint: {args.checkpoint}")
    for level in args.membership:
        resolvers = {
            n: get_resolver(n, level=level, **(teacher_options if n == "teacher" else {})) for n in names
        }
        pooled = {n: Tally() for n in names}
        print(f"\n### {level} membership\n")
        print(
            "| scan | points in 2+ boxes (eligible) | "
            + " | ".join(f"{n} mACC / IoU" for n in names)
            + " | teacher: nested / volume / network share |"
        )
        print("|---|---|" + "---|" * len(names) + "---|")
        seconds = dict.fromkeys(names, 0.0)
        for scene, boxes in loaded:
            membership = membership_for(scene, boxes, level)
            pairs = (membership.point_index, boxes.ids[membership.box_index])
            results = {}
            for name, resolver in resolvers.items():
                start = time.perf_counter()
                results[name] = resolver.resolve(scene, boxes)
                seconds[name] += time.perf_counter() - start
            decided = results["teacher"].decided_by
            cells = []
            for name in names:
                ids = results[name].instance_ids
                tally = pooled[name]
                acc = overlap_accuracy(ids, scene.instance, *pairs)
                tally.right["all"] += acc.correct
                tally.total["all"] += acc.eligible
                for part, code in PARTS.items():
                    counted = overlap_accuracy(ids, scene.instance, *pairs, subset=decided == code)
                    tally.right[part] += counted.correct
                    tally.total[part] += counted.eligible
                iou = mean_instance_iou(ids, scene.instance, boxes.ids).value
                tally.ious.append(iou)
                cells.append(f"{acc.value:.3f} / {iou:.3f}" if acc.eligible else f"n/a / {iou:.3f}")
            eligible = overlap_accuracy(results["teacher"].instance_ids, scene.instance, *pairs).eligible
            contested = int(np.sum(results["teacher"].overlap_counts >= 2))
            split = []
            for code in PARTS.values():
                mask = decided == code
                split.append(
                    overlap_accuracy(
                        results["teacher"].instance_ids, scene.instance, *pairs, subset=mask
                    ).eligible
                )
            shares = " / ".join(f"{s / eligible:.2f}" if eligible else "n/a" for s in split)
            print(f"| {scene.name} | {contested} ({eligible}) | " + " | ".join(cells) + f" | {shares} |")
        teacher = pooled["teacher"]
        shares = " / ".join(
            f"{teacher.total[p] / teacher.total['all']:.2f}" if teacher.total["all"] else "n/a" for p in PARTS
        )
        cells = [f"**{pooled[n].share('all'):.3f}** / {np.mean(pooled[n].ious):.3f}" for n in names]
        print(
            f"| pooled ({len(loaded)} scans) | ({teacher.total['all']}) | "
            + " | ".join(cells)
            + f" | {shares} |"
        )
        print("\nAccuracy on the points each part of the teacher decided (points):")
        print("| resolver | all | nested rule | volume rule | network |")
        print("|---|---|---|---|---|")
        for name in names:
            tally = pooled[name]
            figures = " | ".join(f"{tally.share(p):.3f} ({tally.total[p]})" for p in ["all", *PARTS])
            print(f"| {name} | {figures} |")
        print("time: " + ", ".join(f"{n} {seconds[n]:.1f} s" for n in names))
    t = pooled["teacher"]
    s = pooled["smallest-box"]
    print(
        f"\npooled mACC ({args.membership[-1]}): teacher {t.share('all'):.3f} smallest-box {s.share('all'):.3f} "
        f"gain {t.share('all') - s.share('all'):+.3f} network-decided {t.total['network'] / max(t.total['all'], 1):.2f}"
    )


if __name__ == "__main__":
    main()
