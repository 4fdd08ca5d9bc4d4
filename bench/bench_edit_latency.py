"""Latency of one box edit in the live pipeline: incremental against a full recompute.

    .venv/bin/python bench/bench_edit_latency.py --points 2000000 --boxes 500 --resolver smallest-box

A synthetic room of ``--points`` points: a floor and ``--boxes`` cube-shaped objects in a grid, each
with a box 15 % larger than its object, so neighbouring boxes overlap. Each of ``--edits`` edits moves
one box (chosen at random) by 2 cm, and the boxes are resolved as the window resolves them after an
edit: the whole pipeline (:func:`beep3d.resolve.pipeline.annotate`: membership, overlap analysis,
resolver, geometric foreground stage, corrections, diagnostics, display labels), given the previous
result to reuse (the scene remembers its last membership, so only the moved box's points are
found again; :func:`beep3d.geometry.overlap.point_membership`; the foreground stage redoes only the
boxes whose points changed; box-pair diagnostics are remembered per pair). Beside it, the same edits
with a full recompute (nothing remembered but the scene-level work). Scene-level work done once per scan (the point index, the room surfaces, the
teacher's encoding) happens before the timed edits, as in the window after its first resolution.

With ``--colour-mode MODE`` each timed edit also computes the view's colours for that mode
(:func:`beep3d.app.colouring.point_colours`, as the window does with a result: it remembers the last
colours and recolours only the points whose labels changed); a full recompute colours every point.

``--level superpoint`` uses superpoint membership (the Model menu's check box) instead of point
membership. The last line is ``p95 <x> ms`` (incremental).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.overlap import forget_membership
from beep3d.resolve.diagnostics import box_inside, box_iou_3d
from beep3d.resolve.foreground import get_foreground
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene


def grid_room(num_points: int, num_boxes: int, seed: int = 0) -> tuple[Scene, BoxSet]:
    """A floor and ``num_boxes`` 0.6 m cubes 0.65 m apart; boxes 15 % larger than the cubes overlap."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(num_boxes)))
    spacing, cube = 0.65, 0.6
    extent = side * spacing
    floor_n = num_points // 3
    floor = np.column_stack([rng.uniform(0, extent, (floor_n, 2)), rng.normal(0, 0.01, floor_n)])
    per_object = (num_points - floor_n) // num_boxes
    parts, boxes = [floor], []
    for k in range(num_boxes):
        centre = np.array([(k % side + 0.5) * spacing, (k // side + 0.5) * spacing, cube / 2])
        faces = rng.integers(0, 5, per_object)
        local = rng.uniform(-cube / 2, cube / 2, (per_object, 3))
        axis, sign = np.array([0, 0, 1, 1, 2])[faces], np.array([-1, 1, -1, 1, 1])[faces]
        local[np.arange(per_object), axis] = sign * cube / 2
        parts.append(local + centre)
        boxes.append(Box(k + 1, "cabinet", tuple(centre), (cube * 1.15,) * 3, 0.0))
    xyz = np.concatenate(parts).astype(np.float32)
    rgb = rng.integers(0, 255, (len(xyz), 3), dtype=np.uint8)
    return Scene(xyz=xyz, rgb=rgb, name=f"grid_{len(xyz)}_{num_boxes}"), BoxSet(boxes)


def moved(boxes: BoxSet, position: int, step: float) -> BoxSet:
    """``boxes`` with the box at ``position`` moved by ``step`` metres along x."""
    box = boxes[position]
    centre = (box.center[0] + step, box.center[1], box.center[2])
    items = list(boxes)
    items[position] = Box(box.id, box.label, centre, box.size, box.yaw)
    return BoxSet(items)


def timed_edits(
    scene: Scene,
    boxes: BoxSet,
    resolver,
    foreground: str,
    edits: int,
    incremental: bool,
    seed: int,
    colour_mode: str | None = None,
    level: str = "point",
) -> tuple[list[float], object, BoxSet]:
    """Seconds of each edit's resolution (a full recompute: a new foreground stage, nothing remembered).

    With ``colour_mode``, each edit also computes the view's colours for that mode. Also returns the
    last edit's result and boxes.
    """
    colour = None
    if colour_mode is not None:
        from beep3d.app.colouring import colour_all, point_colours

        colour = point_colours if incremental else colour_all
        box_colours = np.random.default_rng(seed).uniform(0, 255, (len(boxes), 3))
    rng = np.random.default_rng(seed)
    stage = get_foreground(foreground)
    previous = annotate(scene, boxes, resolver, level, foreground=stage)
    if colour is not None:
        colour(colour_mode, scene.rgb, previous.labels, box_colours)
    seconds = []
    for i in range(edits):
        boxes = moved(boxes, int(rng.integers(len(boxes))), 0.02 if i % 2 == 0 else -0.02)
        if not incremental:
            forget_membership(scene)  # a full recompute: nothing remembered between edits
            box_inside.cache_clear()
            box_iou_3d.cache_clear()
            stage = get_foreground(foreground)
        started = time.perf_counter()
        previous = annotate(
            scene, boxes, resolver, level, foreground=stage, reuse=previous if incremental else None
        )
        if colour is not None:
            colour(colour_mode, scene.rgb, previous.labels, box_colours)
        seconds.append(time.perf_counter() - started)
    return seconds, previous, boxes


def disagreement(scene: Scene, boxes: BoxSet, result, resolver, foreground: str, level: str = "point") -> str:
    """How the result of the incremental edits differs from a full resolution of the same boxes."""
    full = annotate(scene, boxes, resolver, level, foreground=get_foreground(foreground)).resolution
    ours = result.resolution
    contested = full.overlap_counts >= 2
    differ = ours.instance_ids != full.instance_ids
    gap = np.abs(ours.confidence - full.confidence)[~differ]
    return (
        f"after the edits, against a full resolution: {int(differ.sum())} points in another instance "
        f"({int((differ & contested).sum())} of {int(contested.sum()):,} contested points); confidence "
        f"of the others within {float(gap.max(initial=0.0)):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--boxes", type=int, default=500)
    parser.add_argument(
        "--resolver", default="smallest-box", choices=("smallest-box", "nearest-centre", "teacher")
    )
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--foreground", default="geometric", choices=("off", "geometric"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--level", default="point", choices=("point", "superpoint"), help="box membership (default: point)"
    )
    parser.add_argument(
        "--colour-mode",
        default=None,
        choices=("membership", "overlap", "instances", "confidence"),
        help="also time the view's colours for this mode after each edit (default: not)",
    )
    args = parser.parse_args()
    scene, boxes = grid_room(args.points, args.boxes)
    options = (
        {"checkpoint": DEFAULT_CHECKPOINT, "threads": args.threads} if args.resolver == "teacher" else {}
    )
    resolver = get_resolver(args.resolver, level=args.level, **options)
    stage = get_foreground(args.foreground)
    started = time.perf_counter()
    annotate(scene, boxes, resolver, args.level, foreground=stage)  # scene-level work, once per scan
    print(
        f"{scene.name}: {scene.num_points:,} points, {len(boxes)} boxes, resolver {args.resolver}, "
        f"foreground {args.foreground}, membership {args.level}"
        + (f", colours {args.colour_mode}" if args.colour_mode else "")
        + f"; first resolution {time.perf_counter() - started:.2f} s"
    )
    runs = {
        incremental: timed_edits(
            scene, boxes, resolver, args.foreground, args.edits, incremental, 1, args.colour_mode, args.level
        )
        for incremental in (False, True)
    }
    full = runs[False][0]
    print(
        f"full recompute: median {1000 * np.median(full):.0f} ms, p95 {1000 * np.percentile(full, 95):.0f} ms"
    )
    incremental, last, edited = runs[True]
    print(f"incremental: median {1000 * np.median(incremental):.0f} ms")
    print(disagreement(scene, edited, last, resolver, args.foreground, args.level))
    print(f"p95 {1000 * np.percentile(incremental, 95):.0f} ms")


if __name__ == "__main__":
    main()
