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
import time
from dataclasses import dataclass, field

import numpy as np
from shared_data import add_scan_options, real_scenes
from teacher_options import add_teacher_options, teacher_options

from beep3d.geometry.boxes import BoxSet
from beep3d.geometry.overlap import membership_for
from beep3d.metrics.mask_quality import mean_instance_iou, overlap_accuracy
from beep3d.resolve.resolution import (
    DECIDED_BY_NESTED_RULE,
    DECIDED_BY_NETWORK,
    DECIDED_BY_VOLUME_RULE,
    Resolution,
    Resolver,
)
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene

PARTS = {"nested": DECIDED_BY_NESTED_RULE, "volume": DECIDED_BY_VOLUME_RULE, "network": DECIDED_BY_NETWORK}
#: The resolvers compared, in the tables' order.
NAMES = ("teacher", "smallest-box", "nearest-centre")


@dataclass
class Tally:
    """Right and eligible contested points, in all and per part of the teacher's split."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(["all", *PARTS], 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(["all", *PARTS], 0))
    ious: list[float] = field(default_factory=list)

    def share(self, part: str) -> float:
        return self.right[part] / self.total[part] if self.total[part] else float("nan")


def parse_arguments() -> argparse.Namespace:
    """The command line; exits when ``--data`` is not a folder."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_scan_options(parser)
    add_teacher_options(parser, min_recognition_help="default: the resolver's")
    parser.add_argument("--membership", nargs="+", default=["point", "superpoint"])
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"{args.data}: no real scans here (see ../shared/data/README.md)")
    return args


def resolve_timed(
    resolvers: dict[str, Resolver], scene: Scene, boxes: BoxSet, seconds: dict[str, float]
) -> dict[str, Resolution]:
    """Each resolver's resolution of the scene; adds the seconds each took to ``seconds``."""
    results = {}
    for name, resolver in resolvers.items():
        start = time.perf_counter()
        results[name] = resolver.resolve(scene, boxes)
        seconds[name] += time.perf_counter() - start
    return results


def tally_scan(
    tally: Tally, ids: np.ndarray, scene: Scene, boxes: BoxSet, pairs: tuple, decided: np.ndarray
) -> str:
    """Add one resolver's figures on a scan to its tally; return the scan's ``mACC / IoU`` cell.

    ``ids`` (N,) are the resolved instance ids, ``pairs`` the (point, box id) membership pairs and
    ``decided`` (N,) what decided each of the teacher's points.
    """
    acc = overlap_accuracy(ids, scene.instance, *pairs)
    tally.right["all"] += acc.correct
    tally.total["all"] += acc.eligible
    for part, code in PARTS.items():
        counted = overlap_accuracy(ids, scene.instance, *pairs, subset=decided == code)
        tally.right[part] += counted.correct
        tally.total[part] += counted.eligible
    iou = mean_instance_iou(ids, scene.instance, boxes.ids).value
    tally.ious.append(iou)
    return f"{acc.value:.3f} / {iou:.3f}" if acc.eligible else f"n/a / {iou:.3f}"


def scan_row(
    scene: Scene, boxes: BoxSet, pairs: tuple, results: dict[str, Resolution], pooled: dict[str, Tally]
) -> str:
    """One scan's table row (tallying every resolver's figures in ``pooled``)."""
    teacher = results["teacher"]
    decided = teacher.decided_by
    cells = [tally_scan(pooled[n], results[n].instance_ids, scene, boxes, pairs, decided) for n in NAMES]
    eligible = overlap_accuracy(teacher.instance_ids, scene.instance, *pairs).eligible
    contested = int(np.sum(teacher.overlap_counts >= 2))
    split = [
        overlap_accuracy(teacher.instance_ids, scene.instance, *pairs, subset=decided == code).eligible
        for code in PARTS.values()
    ]
    shares = " / ".join(f"{s / eligible:.2f}" if eligible else "n/a" for s in split)
    return f"| {scene.name} | {contested} ({eligible}) | " + " | ".join(cells) + f" | {shares} |"


def print_pooled(pooled: dict[str, Tally], num_scans: int) -> None:
    """The pooled row of a level's table, then the accuracy per part of the teacher's split."""
    teacher = pooled["teacher"]
    shares = " / ".join(
        f"{teacher.total[p] / teacher.total['all']:.2f}" if teacher.total["all"] else "n/a" for p in PARTS
    )
    cells = [f"**{pooled[n].share('all'):.3f}** / {np.mean(pooled[n].ious):.3f}" for n in NAMES]
    print(
        f"| pooled ({num_scans} scans) | ({teacher.total['all']}) | " + " | ".join(cells) + f" | {shares} |"
    )
    print("\nAccuracy on the points each part of the teacher decided (points):")
    print("| resolver | all | nested rule | volume rule | network |")
    print("|---|---|---|---|---|")
    for name in NAMES:
        tally = pooled[name]
        figures = " | ".join(f"{tally.share(p):.3f} ({tally.total[p]})" for p in ["all", *PARTS])
        print(f"| {name} | {figures} |")


def measure_level(level: str, loaded: list[tuple[Scene, BoxSet]], options: dict) -> dict[str, Tally]:
    """Resolve every scan at one membership level, print the level's tables; return the tallies.

    ``options`` are the teacher's resolver options (:func:`teacher_options`).
    """
    resolvers = {n: get_resolver(n, level=level, **(options if n == "teacher" else {})) for n in NAMES}
    pooled = {n: Tally() for n in NAMES}
    print(f"\n### {level} membership\n")
    print(
        "| scan | points in 2+ boxes (eligible) | "
        + " | ".join(f"{n} mACC / IoU" for n in NAMES)
        + " | teacher: nested / volume / network share |"
    )
    print("|---|---|" + "---|" * len(NAMES) + "---|")
    seconds = dict.fromkeys(NAMES, 0.0)
    for scene, boxes in loaded:
        membership = membership_for(scene, boxes, level)
        pairs = (membership.point_index, boxes.ids[membership.box_index])
        results = resolve_timed(resolvers, scene, boxes, seconds)
        print(scan_row(scene, boxes, pairs, results, pooled))
    print_pooled(pooled, len(loaded))
    print("time: " + ", ".join(f"{n} {seconds[n]:.1f} s" for n in NAMES))
    return pooled


def main() -> None:
    """Resolve the chosen scans at each membership level and print the tables and the pooled line."""
    args = parse_arguments()
    loaded = real_scenes(args.data, args.scans, with_superpoints=True)
    options = teacher_options(args)
    print(f"checkpoint: {args.checkpoint}")
    for level in args.membership:
        pooled = measure_level(level, loaded, options)
    t = pooled["teacher"]
    s = pooled["smallest-box"]
    print(
        f"\npooled mACC ({args.membership[-1]}): teacher {t.share('all'):.3f} smallest-box {s.share('all'):.3f} "
        f"gain {t.share('all') - s.share('all'):+.3f} network-decided {t.total['network'] / max(t.total['all'], 1):.2f}"
    )


if __name__ == "__main__":
    main()
