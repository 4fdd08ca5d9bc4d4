"""Point- vs superpoint-level box membership: how often a single-box point really belongs to its box.

For scenes with GT instances and boxes derived from them (wall and floor get no box), prints the share
of P^l points (inside exactly one box) whose GT instance is that box's instance, and the share of P^u
points, at point level and at superpoint level (several ``share`` thresholds).

    .venv/bin/python bench/report_membership.py [--synthetic 5]
"""

from __future__ import annotations

import argparse
import time

from shared_data import SHARED_DATA

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.geometry.boxes import boxes_from_instances
from beep3d.geometry.overlap import OverlapAnalysis, membership_for
from beep3d.scene import Scene

SHARED = SHARED_DATA


def single_box_purity(scene: Scene, level: str, share: float) -> tuple[float, float, int]:
    """(share of P^l points in their box's instance, share of points in P^u, |P^l|)."""
    names = dict(zip(SCANNET18.ids, SCANNET18.names, strict=True))
    boxes = boxes_from_instances(
        scene.xyz, scene.instance, scene.semantic, names, skip_semantic=(NYU40_WALL, NYU40_FLOOR)
    )
    membership = membership_for(scene, boxes, level, share)  # type: ignore[arg-type]
    analysis = OverlapAnalysis.from_membership(membership)
    single = analysis.counts[membership.point_index] == 1
    points, positions = membership.point_index[single], membership.box_index[single]
    correct = scene.instance[points] == boxes.ids[positions]
    return (
        float(correct.mean()) if len(correct) else float("nan"),
        analysis.num_multi / scene.num_points,
        len(points),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, default=5, help="also report on this many synthetic rooms")
    args = parser.parse_args()
    from beep3d.geometry.superpoints import compute_superpoints
    from beep3d.io import load_scene

    scenes: list[Scene] = []
    real = SHARED / "scannet_scene0423_00" / "scene0423_00_labeled.ply"
    if real.exists():
        scenes.append(load_scene(real))
    else:
        print(f"(real scene not found at {real}: skipped)")
    if args.synthetic:
        from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

        scenes += [make_room(EVAL_SEED_START + i)[0] for i in range(args.synthetic)]
    print(f"{'scene':24s} {'level':18s} {'P^l in own instance':>20s} {'P^u share':>10s} {'|P^l|':>8s}")
    for scene in scenes:
        start = time.perf_counter()
        scene.superpoints = compute_superpoints(scene)
        sp_time = time.perf_counter() - start
        for level, share in (("point", 0.5), ("superpoint", 0.5), ("superpoint", 0.7)):
            purity, multi, n_single = single_box_purity(scene, level, share)
            label = level if level == "point" else f"superpoint>={share}"
            print(f"{scene.name:24s} {label:18s} {purity:20.4f} {multi:10.4f} {n_single:8d}")
        print(f"{'':24s} (superpoints: {scene.superpoints.max() + 1} in {sp_time:.2f} s)")


if __name__ == "__main__":
    main()
