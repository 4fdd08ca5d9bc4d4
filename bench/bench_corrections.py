"""A simulated annotator correcting box masks with clicks: IoU after k clicks per object, and NoC.

    .venv/bin/python bench/bench_corrections.py SCENE.ply --boxes BOXES.json --clicks K
    .venv/bin/python bench/bench_corrections.py ../shared/data/scannet_real/scene0002_00_labeled.ply \\
        ../shared/data/scannet_real/scene0004_00_labeled.ply --clicks 20   # boxes from the GT instances

SCENE.ply carries per-point ``instance`` labels (as the scans in ../shared/data/scannet_real) and the
box ids equal instance ids; without ``--boxes`` the boxes are derived from the instances the way
``beep3d-train`` boxes ScanNet (18 benchmark classes, 5 mm margin). The masks are resolved once, as
the window and the headless export resolve them (resolver, foreground stage), then the simulated
annotator clicks, one point per click, by the usual protocol: the object with the lowest IoU gets
the next click, placed farthest inside its largest error region (points within 5 cm of each other
form a region; the point farthest from the region's edge); a missed part gets a positive click, a
wrong part a negative one. The GT is used only to place clicks. After each click the corrections
stage (:mod:`beep3d.resolve.corrections`) updates the masks.

Figures: mean instance IoU over the boxed objects after k clicks per object (k x objects clicks in
all); NoC@q, the clicks an object received until its IoU first reached q (20 when it never did),
averaged over the objects. With several scenes, objects are pooled. The last line is::

    IoU@0 <x> IoU@1 <x> IoU@3 <x> IoU@5 <x> NoC@85 <x> NoC@90 <x>
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from beep3d.classes import SCANNET18
from beep3d.corrections import Correction, Corrections
from beep3d.defaults import DEFAULT_CHECKPOINT, DEFAULT_FOREGROUND
from beep3d.geometry.boxes import BoxSet
from beep3d.io import load_scene
from beep3d.io.box_files import load_boxes
from beep3d.resolve.corrections import (
    CLICK_BOX_SHARE,
    CLICK_RADIUS,
    CLICK_SPREADS,
    DEFAULT_CLICK_SPREAD,
    SURFACE_ANGLE,
    SURFACE_COLOUR,
    apply_corrections,
)
from beep3d.resolve.foreground import FOREGROUND_MODES, ForegroundStage, get_foreground
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolution import Resolver
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene
from beep3d.training.datasets import gt_boxes

#: Clicks per object the simulated annotator may give (NoC's cap).
MAX_CLICKS = 20
#: Error points closer than this form one region, metres.
REGION_RADIUS = 0.05
REPORTED = (0, 1, 3, 5)
QUALITY = (0.85, 0.90)


def next_click(xyz: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[int, bool] | None:
    """(point, positive) of the next click for one object, or None when its mask is right."""
    found = largest_error_region(xyz, truth, mask)
    if found is None:
        return None
    region, positive = found
    # farthest inside: the region point farthest from every nearby point outside the region
    lo, hi = xyz[region].min(axis=0) - 0.5, xyz[region].max(axis=0) + 0.5
    near = np.flatnonzero(np.all((xyz >= lo) & (xyz <= hi), axis=1))
    outside = np.setdiff1d(near, region, assume_unique=True)
    if len(outside) == 0:
        return int(region[0]), positive
    distance, _ = cKDTree(xyz[outside]).query(xyz[region])
    return int(region[np.argmax(distance)]), positive


def largest_error_region(
    xyz: np.ndarray, truth: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, bool] | None:
    """(points, positive) of an object's largest error region (missed: positive), or None."""
    best: tuple[np.ndarray, bool] | None = None
    for positive, error in ((True, truth & ~mask), (False, mask & ~truth)):
        points = np.flatnonzero(error)
        if len(points) == 0:
            continue
        tree = cKDTree(xyz[points])
        pairs = tree.query_pairs(REGION_RADIUS, output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
        count, label = connected_components(graph, directed=False)
        largest = np.argmax(np.bincount(label, minlength=count))
        region = points[label == largest]
        if best is None or len(region) > len(best[0]):
            best = (region, positive)
    return best


def simulate(
    scene: Scene,
    boxes: BoxSet,
    resolver,
    foreground,
    spread: str,
    max_clicks: int,
    radius: float = CLICK_RADIUS,
    max_angle: float = SURFACE_ANGLE,
    max_colour: float = SURFACE_COLOUR,
    oracle: bool = False,
    box_share: float = CLICK_BOX_SHARE,
) -> dict:
    """Run the simulated annotator on one scene: IoU after k clicks per object and NoC per object.

    With ``oracle`` a click fixes its whole error region, each point going to its true object (a
    ceiling for any click that fixes one error region, from these starting masks).
    """
    result = annotate(scene, boxes, resolver, foreground=foreground)
    resolution = result.resolution
    objects = [int(i) for i in boxes.ids if np.any(scene.instance == i)]
    truths = {o: scene.instance == o for o in objects}
    membership = boxes.membership(scene.xyz, index=scene.point_index)
    clicks = dict.fromkeys(objects, 0)
    reached = {q: dict.fromkeys(objects) for q in QUALITY}
    snapshots: dict[int, float] = {}
    corrections = Corrections(num_points=scene.num_points)
    seconds = []
    applied = Corrections(num_points=scene.num_points)  # what ``resolution`` already holds
    total = max_clicks * len(objects)
    for step in range(total + 1):
        labels = resolution.instance_ids
        ious = {o: iou(labels == o, truths[o]) for o in objects}
        for q in QUALITY:
            for o in objects:
                if reached[q][o] is None and ious[o] >= q:
                    reached[q][o] = clicks[o]
        for k in REPORTED:
            if k <= max_clicks and step == k * len(objects):
                snapshots[k] = float(np.mean(list(ious.values())))
        open_objects = [o for o in objects if clicks[o] < max_clicks and ious[o] < 1.0]
        if step == total or not open_objects:
            break
        target = min(open_objects, key=lambda o: ious[o])
        if oracle:
            clicks[target] += 1
            resolution = fixed_region(scene, resolution, truths[target], target, objects)
            continue
        click = next_click(scene.xyz, truths[target], labels == target)
        clicks[target] += 1
        if click is None:
            continue
        point, positive = click
        correction = Correction("click", target, positive, np.array([point]))
        corrections = corrections.added(correction)
        started = time.perf_counter()
        resolution, _ = apply_corrections(
            scene,
            boxes,
            resolution,
            Corrections((correction,), scene.num_points),
            membership,
            spread,
            radius=radius,
            max_angle=max_angle,
            max_colour=max_colour,
            earlier=applied,
            box_share=box_share,
        )
        applied = corrections
        seconds.append(time.perf_counter() - started)
    final = float(np.mean([iou(resolution.instance_ids == o, truths[o]) for o in objects]))
    for k in REPORTED:
        snapshots.setdefault(k, final)  # every object was right before k clicks each were needed
    noc = {q: [MAX_CLICKS if reached[q][o] is None else reached[q][o] for o in objects] for q in QUALITY}
    per_object = {k: snapshots[k] for k in REPORTED}
    return {"objects": len(objects), "iou": per_object, "noc": noc, "seconds": seconds}


def fixed_region(scene: Scene, resolution, truth: np.ndarray, target: int, objects: list[int]):
    """The resolution with the target's largest error region given to its true owners (the oracle)."""
    from dataclasses import replace

    labels = resolution.instance_ids.copy()
    found = largest_error_region(scene.xyz, truth, labels == target)
    if found is not None:
        region, _ = found
        owner = scene.instance[region]
        labels[region] = np.where(np.isin(owner, objects), owner, -1)
    return replace(resolution, instance_ids=labels)


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    union = np.sum(mask | truth)
    return float(np.sum(mask & truth) / union) if union else 1.0


def parse_arguments() -> argparse.Namespace:
    """The command line; ``--clicks`` capped at :data:`MAX_CLICKS`; exits on ``--boxes`` with several scenes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenes", nargs="+", type=Path, help="labelled scans (PLY with per-point instance)")
    parser.add_argument(
        "--boxes", type=Path, help="box file (one scene only); default: boxes from the GT instances"
    )
    parser.add_argument("--clicks", type=int, default=MAX_CLICKS, help="clicks per object at most (<= 20)")
    parser.add_argument(
        "--resolver", default="teacher", choices=("teacher", "smallest-box", "nearest-centre")
    )
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--foreground", default=DEFAULT_FOREGROUND, choices=FOREGROUND_MODES)
    parser.add_argument("--spread", default=DEFAULT_CLICK_SPREAD, choices=CLICK_SPREADS)
    parser.add_argument("--radius", type=float, default=CLICK_RADIUS, help="click ball radius, metres")
    parser.add_argument(
        "--box-share",
        type=float,
        default=CLICK_BOX_SHARE,
        help="a click reaches at most this share of its box's median side (0: the radius always)",
    )
    parser.add_argument(
        "--angle", type=float, default=SURFACE_ANGLE, help="surface spread: normal angle, degrees"
    )
    parser.add_argument(
        "--colour", type=float, default=SURFACE_COLOUR, help="surface spread: colour step (RGB 0..1)"
    )
    parser.add_argument(
        "--oracle",
        action="store_true",
        help="each click fixes its whole error region from the GT: the ceiling of one-region clicks",
    )
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.boxes is not None and len(args.scenes) != 1:
        raise SystemExit("--boxes goes with one scene; without it each scene's boxes come from its instances")
    args.clicks = min(args.clicks, MAX_CLICKS)
    return args


def resolver_and_stage(args: argparse.Namespace) -> tuple[Resolver, ForegroundStage]:
    """The resolver that gives the starting masks and the foreground stage run after it."""
    options = {"checkpoint": args.checkpoint, "threads": args.threads} if args.resolver == "teacher" else {}
    resolver = get_resolver(args.resolver, **options)
    stage = get_foreground(args.foreground, teacher=resolver if args.resolver == "teacher" else None)
    return resolver, stage


def simulate_scan(
    path: Path, args: argparse.Namespace, resolver: Resolver, stage: ForegroundStage
) -> tuple[Scene, dict]:
    """Load one labelled scan, box it (``--boxes`` or its GT instances) and run :func:`simulate`."""
    scene = load_scene(path)
    if scene.instance is None:
        raise SystemExit(f"{path}: no per-point instance labels to place clicks with")
    boxes = load_boxes(args.boxes) if args.boxes else gt_boxes(scene, SCANNET18, str(path))
    found = simulate(
        scene,
        boxes,
        resolver,
        stage,
        args.spread,
        args.clicks,
        args.radius,
        args.angle,
        args.colour,
        args.oracle,
        args.box_share,
    )
    return scene, found


@dataclass
class Pooled:
    """The figures of every scan so far: IoU@k per object, NoC@q per object, seconds per click."""

    iou: dict[int, list[float]] = field(default_factory=lambda: {k: [] for k in REPORTED})
    noc: dict[float, list[int]] = field(default_factory=lambda: {q: [] for q in QUALITY})
    seconds: list[float] = field(default_factory=list)

    def add(self, found: dict) -> None:
        """Pool one scan's :func:`simulate` result."""
        for k in REPORTED:
            self.iou[k] += [found["iou"][k]] * found["objects"]  # weight by objects: a mean over objects
        for q in QUALITY:
            self.noc[q] += found["noc"][q]
        self.seconds += found["seconds"]


def print_header(args: argparse.Namespace) -> None:
    """The settings line and the head of the per-scan table."""
    spread = "oracle (whole error region, GT owners)" if args.oracle else args.spread
    print(
        f"resolver {args.resolver}, foreground {args.foreground}, click spread {spread}, <= {args.clicks} clicks per object"
    )
    print("| scan | objects | " + " | ".join(f"IoU@{k}" for k in REPORTED) + " | NoC@85 | NoC@90 |")
    print("|---|---|" + "---|" * (len(REPORTED) + 2))


def print_scan_row(name: str, found: dict) -> None:
    """One scan's row: objects, IoU@k and NoC@q."""
    cells = " | ".join(f"{found['iou'][k]:.3f}" for k in REPORTED)
    nocs = " | ".join(f"{np.mean(found['noc'][q]):.2f}" for q in QUALITY)
    print(f"| {name} | {found['objects']} | {cells} | {nocs} |")


def print_summary(pooled: Pooled) -> None:
    """The corrections stage's time per click (when any click ran it) and the pooled last line."""
    seconds = pooled.seconds
    if seconds:
        print(
            f"corrections stage per click: median {1000 * np.median(seconds):.1f} ms, p95 {1000 * np.percentile(seconds, 95):.1f} ms"
        )
    print(
        " ".join(f"IoU@{k} {np.mean(pooled.iou[k]):.3f}" for k in REPORTED)
        + " "
        + " ".join(f"NoC@{round(q * 100)} {np.mean(pooled.noc[q]):.2f}" for q in QUALITY)
    )


def main() -> None:
    """Simulate the annotator on every scene given; print a row per scene and the pooled figures."""
    args = parse_arguments()
    resolver, stage = resolver_and_stage(args)
    pooled = Pooled()
    print_header(args)
    for path in args.scenes:
        scene, found = simulate_scan(path, args, resolver, stage)
        pooled.add(found)
        print_scan_row(scene.name, found)
    print_summary(pooled)


if __name__ == "__main__":
    main()
