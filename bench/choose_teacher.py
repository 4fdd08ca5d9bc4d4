"""Choose a teacher checkpoint and its resolver settings on real validation scans.

    .venv/bin/python bench/choose_teacher.py RUN_OR_CHECKPOINT [...] [--scans 'scene0002_*'] [--membership point]

For every checkpoint given (a file, or a run folder: all its ``checkpoints/*.safetensors``) and every
combination of the resolver's ``overlap_score`` and ``min_recognition``, resolves the chosen real scans
(boxes derived from their instances as ``beep3d-train`` derives them) and prints the pooled overlap
accuracy (mACC) against smallest-box on the same points, and the share of contests the network
decided. The last line names the best combination. Choose on scans you do not report: the README's
real-scan figures choose on room 0002 and report room 0004 (bench/bench_real_quality.py).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from shared_data import REAL_SCANS, real_scenes

from beep3d.geometry.overlap import membership_for
from beep3d.metrics.mask_quality import overlap_accuracy
from beep3d.resolve.resolution import DECIDED_BY_NETWORK
from beep3d.resolve.resolvers import get_resolver
from beep3d.resolve.teacher_resolver import TeacherResolver

SHARED_REAL = REAL_SCANS


def checkpoints_of(sources: list[Path]) -> list[Path]:
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted((source / "checkpoints").glob("*.safetensors"))
        else:
            found.append(source)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", nargs="+", type=Path, help="checkpoint files or run folders")
    parser.add_argument("--data", type=Path, default=SHARED_REAL)
    parser.add_argument(
        "--scans", nargs="+", default=["scene0002_*"], help="scene-name patterns to choose on"
    )
    parser.add_argument("--membership", default="point")
    parser.add_argument("--scores", nargs="+", default=["logit", "logit_minus_log_volume"])
    parser.add_argument("--recognition", nargs="+", type=float, default=[0.0, 0.05])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    scenes = real_scenes(args.data, args.scans, with_superpoints=True)
    print(f"choosing on {', '.join(s.name for s, _ in scenes)} at {args.membership} membership")

    def pooled(resolve) -> tuple[float, float, int]:  # noqa: ANN001
        right = total = network = 0
        for scene, boxes in scenes:
            result = resolve(scene, boxes)
            membership = membership_for(scene, boxes, args.membership)
            pairs = (membership.point_index, boxes.ids[membership.box_index])
            acc = overlap_accuracy(result.instance_ids, scene.instance, *pairs)
            right, total = right + acc.correct, total + acc.eligible
            if result.decided_by is not None:
                decided = result.decided_by == DECIDED_BY_NETWORK
                network += overlap_accuracy(
                    result.instance_ids, scene.instance, *pairs, subset=decided
                ).eligible
        return right / max(total, 1), network / max(total, 1), total

    rule = get_resolver("smallest-box", level=args.membership)
    rule_acc, _, total = pooled(rule.resolve)
    print(f"smallest-box: mACC {rule_acc:.3f} on {total} points")
    print(
        "| checkpoint | overlap_score | min_recognition | mACC | gain over smallest-box | network decides |"
    )
    print("|---|---|---|---|---|---|")
    best = None
    for checkpoint in checkpoints_of(args.sources):
        for score, recognition in itertools.product(args.scores, args.recognition):
            teacher = TeacherResolver(
                checkpoint,
                level=args.membership,
                threads=args.threads,
                overlap_score=score,
                min_recognition=recognition,
            )
            acc, network, _ = pooled(teacher.resolve)
            name = f"{checkpoint.parent.parent.name}/{checkpoint.name}"
            print(
                f"| {name} | {score} | {recognition:g} | {acc:.3f} | {acc - rule_acc:+.3f} | {network:.2f} |"
            )
            if best is None or acc > best[0]:
                best = (acc, checkpoint, score, recognition)
    assert best is not None
    acc, checkpoint, score, recognition = best
    print(
        f"best: {checkpoint} overlap_score {score} min_recognition {recognition:g} "
        f"mACC {acc:.3f} (smallest-box {rule_acc:.3f}, gain {acc - rule_acc:+.3f})"
    )


if __name__ == "__main__":
    main()
