"""Mask quality of the resolvers: overlap accuracy (mACC) and mean instance IoU, side by side.

For scenes with GT instances and GT-derived boxes (synthetic rooms from evaluation seeds, which
training never uses, and the real scenes in ../shared/data), resolves the boxes with each resolver at
point and at superpoint membership and prints one table:

    .venv/bin/python bench/bench_resolver_quality.py [--synthetic 20] [--checkpoint PATH] [--data DIR]

mACC: among points inside two or more boxes whose GT instance is one of those boxes' instances, the
share assigned to the right instance (mean over scenes, and pooled over points). The pooled figure
is also split into nested overlaps (one of the boxes has no point of its own: an object on a shelf
inside the shelf's box, the paper's failure case) and partial ones (every box has points of its own).
Mean instance IoU: for each GT instance with a box, IoU of its points with its box's resolved mask.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from shared_data import REAL_SCENE
from teacher_options import add_teacher_options, teacher_options

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.geometry.boxes import BoxSet, boxes_from_instances
from beep3d.geometry.overlap import OverlapAnalysis, membership_for
from beep3d.metrics.mask_quality import (
    OverlapAccuracy,
    mean_instance_iou,
    nested_overlap_points,
    overlap_accuracy,
)
from beep3d.resolve.resolution import DECIDED_BY_NESTED_RULE, DECIDED_BY_NETWORK, DECIDED_BY_VOLUME_RULE
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene

#: The teacher's deciders of contested points, as the split is printed.
SPLIT = {
    "nested rule": DECIDED_BY_NESTED_RULE,
    "volume rule": DECIDED_BY_VOLUME_RULE,
    "network": DECIDED_BY_NETWORK,
}
#: Slack (metres per side) of the loose boxes drawn on the real scene.
REAL_SLACK = 0.1
#: The kinds of contested points the pooled mACC is split into (all of them, nested, partial).
OVERLAP_KINDS = ("all", "nested", "partial")


def gt_boxes(scene: Scene) -> BoxSet:
    names = dict(zip(SCANNET18.ids, SCANNET18.names, strict=True))
    return boxes_from_instances(
        scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(NYU40_WALL, NYU40_FLOOR)
    )


def evaluation_scenes(count: int, data: Path | None) -> list[tuple[Scene, BoxSet]]:
    """(scene, GT boxes) pairs: synthetic evaluation rooms (or folders from --data) and the real sample."""
    from beep3d.io import load_scene

    scenes: list[tuple[Scene, BoxSet]] = []
    if data is not None:
        from beep3d.io.box_files import load_boxes

        for folder in sorted(p for p in data.iterdir() if (p / "scene.npz").exists())[:count]:
            scene = load_scene(folder)
            sp = folder / "superpoints.npy"
            if scene.superpoints is None and sp.exists():
                scene.superpoints = np.load(sp)
            scenes.append((scene, load_boxes(folder / "boxes.json")))
    elif count:
        from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

        scenes += [make_room(EVAL_SEED_START + i) for i in range(count)]
    if REAL_SCENE.exists():
        scene = load_scene(REAL_SCENE)
        tight = gt_boxes(scene)
        scenes.append((scene, tight))
        # its tight GT boxes do not overlap; boxes drawn with some slack (as annotators draw them) do
        loose = replace(scene, name=f"{scene.name}+{int(100 * REAL_SLACK)}cm")
        scenes.append((loose, grown(tight, REAL_SLACK)))
    return scenes


def grown(boxes: BoxSet, margin: float) -> BoxSet:
    """The boxes with ``margin`` metres of slack on every side."""
    return BoxSet([replace(b, size=tuple(s + 2 * margin for s in b.size)) for b in boxes])


@dataclass
class Figures:
    """One resolver's figures at one membership level, gathered scene by scene.

    On the synthetic rooms: mACC per room, right and eligible contested points per kind of overlap
    (:data:`OVERLAP_KINDS`) and per part of the teacher's split (:data:`SPLIT`), mean instance IoU
    per room. On the real scene: (mACC, IoU) with its tight and with its loose boxes.
    """

    accs: list[float] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    real: dict[str, tuple[float, float]] = field(default_factory=dict)
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERLAP_KINDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERLAP_KINDS, 0))
    split_right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT, 0))
    split_total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT, 0))

    def add_synthetic(
        self,
        ids: np.ndarray,
        scene: Scene,
        pairs: tuple,
        acc: OverlapAccuracy,
        iou: float,
        decided: np.ndarray | None,
    ) -> None:
        """Count a synthetic room: ``ids`` (N,) resolved instance ids, ``pairs`` the (point, box id)
        membership pairs, ``acc`` its overlap accuracy, ``decided`` (N,) the teacher's deciders or None.
        """
        if acc.eligible:
            self.accs.append(acc.value)
        nested = nested_overlap_points(*pairs, scene.num_points)
        for part, subset in (("all", None), ("nested", nested), ("partial", ~nested)):
            counted = overlap_accuracy(ids, scene.instance, *pairs, subset=subset)
            self.right[part] += counted.correct
            self.total[part] += counted.eligible
        self.ious.append(iou)
        if decided is None:
            return
        for part, code in SPLIT.items():
            counted = overlap_accuracy(ids, scene.instance, *pairs, subset=decided == code)
            self.split_right[part] += counted.correct
            self.split_total[part] += counted.eligible

    def add_real(self, scene: Scene, acc: OverlapAccuracy, iou: float) -> None:
        """Record the real scene's (mACC, IoU), with its tight or (name with ``+``) loose boxes."""
        self.real["loose" if "+" in scene.name else "tight"] = (
            acc.value if acc.eligible else float("nan"),
            iou,
        )

    def row(self, name: str, level: str, seconds: float) -> tuple:
        """The main table's row: name, level, the figures (nan when missing) and the seconds."""
        nan = float("nan")
        return (
            name,
            level,
            np.mean(self.accs) if self.accs else nan,
            *(self.right[p] / self.total[p] if self.total[p] else nan for p in self.right),
            np.mean(self.ious) if self.ious else nan,
            self.real.get("tight", (nan, nan))[1],
            *self.real.get("loose", (nan, nan)),
            seconds,
        )


def parse_arguments() -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synthetic", type=int, default=20, help="number of evaluation rooms")
    parser.add_argument("--data", type=Path, help="scene folders to use instead of generating rooms")
    add_teacher_options(
        parser, min_recognition_help="the teacher's recognition check (default: the resolver's)"
    )
    return parser.parse_args()


def available_resolvers(checkpoint: Path) -> list[str]:
    """The resolvers to compare: the teacher first when its checkpoint exists (else a note says so)."""
    resolvers = ["smallest-box", "nearest-centre"]
    if checkpoint.exists():
        resolvers.insert(0, "teacher")
    else:
        print(f"(no checkpoint at {checkpoint}: teacher left out)")
    return resolvers


def measure(
    name: str,
    level: str,
    scenes: list[tuple[Scene, BoxSet]],
    args: argparse.Namespace,
    deciders: dict[str, np.ndarray],
) -> tuple[Figures, float]:
    """Resolve every scene with one resolver at one membership level: its figures, and the seconds
    the scenes took (resolving and scoring; the resolver's construction left out).

    ``deciders`` maps a synthetic room's name to the teacher's ``decided_by`` at this level: the
    teacher (measured first) fills it, every resolver is then scored on each part of its split.
    """
    options = teacher_options(args) if name == "teacher" else {}
    resolver = get_resolver(name, level=level, **options)
    figures = Figures()
    start = time.perf_counter()
    for scene, boxes in scenes:
        result = resolver.resolve(scene, boxes)
        membership = membership_for(scene, boxes, level)
        pairs = (membership.point_index, boxes.ids[membership.box_index])
        acc = overlap_accuracy(result.instance_ids, scene.instance, *pairs)
        iou = mean_instance_iou(result.instance_ids, scene.instance, boxes.ids).value
        if scene.name.startswith("synthetic"):
            if name == "teacher":
                deciders[scene.name] = result.decided_by
            decided = deciders.get(scene.name)
            figures.add_synthetic(result.instance_ids, scene, pairs, acc, iou, decided)
        else:
            figures.add_real(scene, acc, iou)
    return figures, time.perf_counter() - start


def print_quality_table(rows: list[tuple], scenes: list[tuple[Scene, BoxSet]]) -> None:
    """The main table: one row per resolver and membership level."""
    n_syn = sum(s.name.startswith("synthetic") for s, _ in scenes)
    has_real = any(not s.name.startswith("synthetic") for s, _ in scenes)
    print(f"\n{n_syn} synthetic evaluation rooms" + (" + real scene0423_00" if has_real else ""))
    slack = f"+{int(100 * REAL_SLACK)} cm"
    print(
        "| resolver | membership | mACC (synthetic) | pooled | nested | partial | mean inst. IoU (synthetic) "
        f"| IoU (real, tight boxes) | mACC (real, boxes {slack}) | IoU (real, boxes {slack}) | time |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, level, *figures, seconds in rows:
        cells = " | ".join("n/a" if np.isnan(v) else f"{v:.3f}" for v in figures)
        print(f"| {name} | {level} | {cells} | {seconds:.1f} s |")


def print_split_table(split_rows: list[tuple[str, str, dict[str, int], dict[str, int]]]) -> None:
    """The teacher's contested points by what decided them, and each resolver's accuracy on each part."""
    print("\nSynthetic rooms, pooled: the teacher's contested points by what decided them (share of the")
    print("eligible points), and each resolver's accuracy on each part")
    print("| resolver | membership | " + " | ".join(f"{p} (share) | {p} (mACC)" for p in SPLIT) + " |")
    print("|---|---|" + "---|---|" * len(SPLIT))
    for name, level, right, total in split_rows:
        everything = sum(total.values())
        cells = " | ".join(
            f"{total[p] / everything:.3f} | " + (f"{right[p] / total[p]:.3f}" if total[p] else "n/a")
            for p in SPLIT
        )
        print(f"| {name} | {level} | {cells} |")


def print_real_overlap(scenes: list[tuple[Scene, BoxSet]], level: str) -> None:
    """The loose real scene's overlap at one membership level: its points in two or more boxes (P^u),
    and how many of them the mACC counts (eligible: their GT instance is one of their boxes)."""
    for scene, boxes in scenes:
        if "+" not in scene.name:
            continue
        membership = membership_for(scene, boxes, level)
        pairs = (membership.point_index, boxes.ids[membership.box_index])
        contested = OverlapAnalysis.from_membership(membership).num_multi
        eligible = overlap_accuracy(scene.instance, scene.instance, *pairs).eligible
        print(
            f"real scene0423_00 (+{int(100 * REAL_SLACK)} cm), {level} membership: "
            f"{contested} points in two or more boxes, {eligible} eligible"
        )


def main() -> None:
    """Measure every resolver at point and superpoint membership and print the tables."""
    args = parse_arguments()
    scenes = evaluation_scenes(args.synthetic, args.data)
    resolvers = available_resolvers(args.checkpoint)
    rows = []
    split_rows = []  # (name, level, right, total) per part of the teacher's split, synthetic rooms pooled
    for level in ("point", "superpoint"):
        deciders: dict[str, np.ndarray] = {}  # synthetic room -> the teacher's decided_by at this level
        for name in resolvers:
            figures, seconds = measure(name, level, scenes, args, deciders)
            if any(figures.split_total.values()):
                split_rows.append((name, level, figures.split_right, figures.split_total))
            rows.append(figures.row(name, level, seconds))
    print_quality_table(rows, scenes)
    if split_rows:
        print_split_table(split_rows)
    for level in ("point", "superpoint"):
        print_real_overlap(scenes, level)


if __name__ == "__main__":
    main()
