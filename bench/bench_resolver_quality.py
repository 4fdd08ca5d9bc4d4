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
from dataclasses import replace
from pathlib import Path

import numpy as np
from shared_data import SHARED_DATA

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.geometry.boxes import BoxSet, boxes_from_instances
from beep3d.geometry.overlap import membership_for
from beep3d.metrics.mask_quality import mean_instance_iou, nested_overlap_points, overlap_accuracy
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
SHARED = SHARED_DATA


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
    real = SHARED / "scannet_scene0423_00" / "scene0423_00_labeled.ply"
    if real.exists():
        scene = load_scene(real)
        tight = gt_boxes(scene)
        scenes.append((scene, tight))
        # its tight GT boxes do not overlap; boxes drawn with some slack (as annotators draw them) do
        loose = replace(scene, name=f"{scene.name}+{int(100 * REAL_SLACK)}cm")
        scenes.append((loose, grown(tight, REAL_SLACK)))
    return scenes


def grown(boxes: BoxSet, margin: float) -> BoxSet:
    """The boxes with ``margin`` metres of slack on every side."""
    return BoxSet([replace(b, size=tuple(s + 2 * margin for s in b.size)) for b in boxes])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synthetic", type=int, default=20, help="number of evaluation rooms")
    parser.add_argument("--data", type=Path, help="scene folders to use instead of generating rooms")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--overlap-score", default=None, help="the teacher's eq. 2 score (default: the resolver's)"
    )
    parser.add_argument(
        "--min-recognition",
        type=float,
        default=None,
        help="the teacher's recognition check (default: the resolver's)",
    )
    args = parser.parse_args()
    scenes = evaluation_scenes(args.synthetic, args.data)
    resolvers = ["smallest-box", "nearest-centre"]
    if args.checkpoint.exists():
        resolvers.insert(0, "teacher")
    else:
        print(f"(no checkpoint at {args.checkpoint}: teacher left out)")
    rows = []
    # per level: scene name -> the teacher's decided_by; then the points each decider settled, and
    # every resolver's accuracy on them (synthetic rooms, pooled)
    deciders: dict[str, dict[str, np.ndarray]] = {}
    split_rows = []
    for level in ("point", "superpoint"):
        deciders[level] = {}
        for name in resolvers:
            options = {"level": level}
            if name == "teacher":
                options.update(checkpoint=args.checkpoint, threads=args.threads)
                if args.overlap_score is not None:
                    options["overlap_score"] = args.overlap_score
                if args.min_recognition is not None:
                    options["min_recognition"] = args.min_recognition
            resolver = get_resolver(name, **options)
            accs, ious, real = [], [], {}
            right = {"all": 0, "nested": 0, "partial": 0}
            total = dict.fromkeys(right, 0)
            split_right, split_total = dict.fromkeys(SPLIT, 0), dict.fromkeys(SPLIT, 0)
            start = time.perf_counter()
            for scene, boxes in scenes:
                result = resolver.resolve(scene, boxes)
                membership = membership_for(scene, boxes, level)
                pairs = (membership.point_index, boxes.ids[membership.box_index])
                acc = overlap_accuracy(result.instance_ids, scene.instance, *pairs)
                iou = mean_instance_iou(result.instance_ids, scene.instance, boxes.ids).value
                if scene.name.startswith("synthetic"):
                    if acc.eligible:
                        accs.append(acc.value)
                    nested = nested_overlap_points(*pairs, scene.num_points)
                    for part, subset in (("all", None), ("nested", nested), ("partial", ~nested)):
                        counted = overlap_accuracy(result.instance_ids, scene.instance, *pairs, subset=subset)
                        right[part] += counted.correct
                        total[part] += counted.eligible
                    ious.append(iou)
                    if name == "teacher":
                        deciders[level][scene.name] = result.decided_by
                    decided = deciders[level].get(scene.name)
                    for part, code in SPLIT.items():
                        if decided is None:
                            continue
                        counted = overlap_accuracy(
                            result.instance_ids, scene.instance, *pairs, subset=decided == code
                        )
                        split_right[part] += counted.correct
                        split_total[part] += counted.eligible
                else:
                    real["loose" if "+" in scene.name else "tight"] = (
                        acc.value if acc.eligible else float("nan"),
                        iou,
                    )
            seconds = time.perf_counter() - start
            nan = float("nan")
            if any(split_total.values()):
                split_rows.append((name, level, split_right, split_total))
            rows.append(
                (
                    name,
                    level,
                    np.mean(accs) if accs else nan,
                    *(right[p] / total[p] if total[p] else nan for p in right),
                    np.mean(ious) if ious else nan,
                    real.get("tight", (nan, nan))[1],
                    *real.get("loose", (nan, nan)),
                    seconds,
                )
            )
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
    if split_rows:
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


if __name__ == "__main__":
    main()
