"""How far box-derived masks can get on labelled scans: the cost of the points no annotator labelled.

    .venv/bin/python bench/bench_mask_bounds.py ../shared/data/scannet_real/scene0002_00_labeled.ply \\
        ../shared/data/scannet_real/scene0002_01_labeled.ply ../shared/data/scannet_real/scene0004_00_labeled.ply

ScanNet's instance masks leave part of every room unlabelled (semantic 0, instance -1: about 17 % of the
points of the validation rooms). Inside a box such points are scored as not its object, yet most lie
right beside it (their distance to the object's nearest point is printed). No method that sees only
boxes and geometry can tell them apart from the object, so they bound mean instance IoU. For each scan,
with boxes from the instances as ``beep3d-train`` derives them, two ceilings are printed:

- ``keeps-alone``: masks exact everywhere (overlaps, floor, walls, clutter) except that the unlabelled
  points lying in one box only stay in it;
- ``keeps-all``: exact, except that every unlabelled point inside a box stays in it.

The last line is ``keeps-alone <x> keeps-all <x>`` pooled over objects.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from beep3d.classes import SCANNET18
from beep3d.io import load_scene
from beep3d.training.datasets import gt_boxes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "scenes", nargs="+", type=Path, help="labelled scans (PLY with semantic and instance)"
    )
    args = parser.parse_args()
    pooled: dict[str, list[float]] = {"keeps-alone": [], "keeps-all": []}
    distances = []
    print("| scan | objects | unlabelled share | keeps-alone | keeps-all |")
    print("|---|---|---|---|---|")
    for path in args.scenes:
        scene = load_scene(path)
        if scene.instance is None or scene.semantic is None:
            raise SystemExit(f"{path}: needs per-point semantic and instance labels")
        boxes = gt_boxes(scene, SCANNET18, str(path))
        membership = boxes.membership(scene.xyz, index=scene.point_index)
        boxes_holding = np.bincount(membership.point_index, minlength=scene.num_points)
        unlabelled = np.asarray(scene.semantic) == 0
        found: dict[str, list[float]] = {"keeps-alone": [], "keeps-all": []}
        for position, box_id in enumerate(boxes.ids):
            truth = scene.instance == box_id
            if not truth.any():
                continue
            inside = np.zeros(scene.num_points, dtype=bool)
            inside[membership.point_index[membership.box_index == position]] = True
            kept = inside & unlabelled & ~truth
            alone = kept & (boxes_holding == 1)
            found["keeps-alone"].append(truth.sum() / (truth | alone).sum())
            found["keeps-all"].append(truth.sum() / (truth | kept).sum())
            if kept.any():
                distances.append(cKDTree(scene.xyz[truth]).query(scene.xyz[kept])[0])
        for key in pooled:
            pooled[key] += found[key]
        print(
            f"| {scene.name} | {len(found['keeps-all'])} | {unlabelled.mean():.3f} | "
            f"{np.mean(found['keeps-alone']):.3f} | {np.mean(found['keeps-all']):.3f} |"
        )
    if distances:
        near = np.concatenate(distances)
        quartiles = ", ".join(f"{q:.3f}" for q in np.quantile(near, [0.25, 0.5, 0.75]))
        print(
            f"unlabelled points inside boxes: {len(near)}; distance to the object's nearest point, quartiles "
            f"{quartiles} m; farther than 0.1 m: {np.mean(near > 0.1):.2f}"
        )
    print(" ".join(f"{key} {np.mean(values):.3f}" for key, values in pooled.items()))


if __name__ == "__main__":
    main()
