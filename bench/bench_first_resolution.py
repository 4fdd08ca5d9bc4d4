"""The first teacher resolution of a scan, in a fresh process: its time, and where it goes.

    .venv/bin/python bench/bench_first_resolution.py --points 100000 --boxes 50 --threads 1

The scene is the edit-latency bench's grid room (:func:`bench_edit_latency.grid_room`: a floor and
cube-shaped objects whose boxes overlap their neighbours), resolved with the shipped teacher and the
geometric foreground stage. Run in a fresh process: the imports are part of the first resolution.

By default the bench runs the pipeline as the headless export does
(:func:`beep3d.resolve.pipeline.annotate`, which loads the network while a child process finds the
scan's superpoints, normals and room surfaces: :mod:`beep3d.geometry.child_geometry`); the last
line is ``first resolution <x> s``, the wall time from before the first import of the network to the
result. ``--no-child`` finds the geometry in this process instead (as before the child).

``--stages`` times each stage on its own instead, one after the other in this process (no child):

- torch import; spconv import (without CUDA, its CUDA kernel tables are skipped: see
  :mod:`beep3d.model.backbone`); reading the checkpoint into the network;
- superpoints; the room's surfaces (floor, walls, ceiling) and the points on them;
- the network's input: the sample and its voxelisation (``collate``); the backbone (``encode_scene``);
- the decoder and the pseudo-mask step (the teacher's ``resolve``, the scene encoding cached);
- the rest of the pipeline (membership, overlap analysis, foreground, diagnostics, display arrays;
  the scene-level work and the teacher's resolution done).

and the last line is then the sum of the stages.

``--background`` runs the first resolution as the window does: the teacher is loaded and warmed up
(:meth:`beep3d.resolve.teacher_resolver.TeacherResolver.warm_up`), then Open3D's compiled module
imported, in a background thread started when the teacher is chosen, while the pipeline runs in
the main thread; the last line is the wall time from the scan's start to the resolution.
``--lead S`` starts the background thread S seconds before the scan's work (the time an annotator
takes to open a scan after the window starts; default 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_edit_latency import grid_room  # noqa: E402


class Resolved:
    """A resolver that answers with a resolution already computed (the rest of the pipeline, timed alone)."""

    name = "teacher"

    def __init__(self, resolver, resolution) -> None:  # noqa: ANN001
        self.resolver, self.resolution = resolver, resolution
        self.class_set, self.level = resolver.class_set, resolver.level

    def resolve(self, scene, boxes):  # noqa: ANN001, ANN201
        return self.resolution


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--boxes", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--background", action="store_true", help="load the teacher in a background thread (the window)"
    )
    parser.add_argument("--lead", type=float, default=0.0, help="with --background: seconds of head start")
    parser.add_argument("--stages", action="store_true", help="time each stage alone, one after the other")
    parser.add_argument(
        "--no-child",
        action="store_true",
        help="find the scan's geometry in this process (as before the child)",
    )
    args = parser.parse_args()
    scene, boxes = grid_room(args.points, args.boxes)
    if args.no_child:
        from beep3d.geometry import child_geometry

        child_geometry.MIN_POINTS = sys.maxsize
    if args.background:
        background(scene, boxes, args.threads, args.lead)
    elif args.stages:
        stage_by_stage(scene, boxes, args.threads)
    else:
        pipeline(scene, boxes, args.threads)


def pipeline(scene, boxes, threads: int | None) -> None:  # noqa: ANN001
    """The first resolution as the headless export runs it: one call of the pipeline."""
    from beep3d.native_threads import limit_native_threads

    limit_native_threads(threads)
    started = time.perf_counter()
    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.resolve.foreground import get_foreground
    from beep3d.resolve.pipeline import annotate
    from beep3d.resolve.resolvers import get_resolver

    resolver = get_resolver("teacher", checkpoint=DEFAULT_CHECKPOINT, threads=threads)
    annotate(scene, boxes, resolver, foreground=get_foreground("geometric"))
    done = time.perf_counter()
    print(f"{scene.name}: {scene.num_points:,} points, {len(boxes)} boxes, threads {threads}")
    print(f"first resolution {done - started:.2f} s")


def stage_by_stage(scene, boxes, threads: int | None) -> None:  # noqa: ANN001
    """Each stage of the first resolution timed alone, in this process, one after the other."""
    from beep3d.native_threads import limit_native_threads

    limit_native_threads(threads)
    stages: list[tuple[str, float]] = []

    def timed(name: str, work):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        value = work()
        stages.append((name, time.perf_counter() - started))
        return value

    torch = timed("import torch", lambda: __import__("torch"))
    if threads is not None:
        torch.set_num_threads(threads)
    timed("import spconv (and the network's modules)", lambda: __import__("beep3d.model.beep3d_model"))
    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.geometry.superpoints import compute_superpoints
    from beep3d.model.batch import collate
    from beep3d.model.sample import sample_from_scene
    from beep3d.resolve.foreground import get_foreground
    from beep3d.resolve.pipeline import annotate
    from beep3d.resolve.resolvers import get_resolver

    resolver = get_resolver("teacher", checkpoint=DEFAULT_CHECKPOINT, threads=threads)
    timed("load the checkpoint", resolver.load)
    scene.superpoints = timed("superpoints", lambda: compute_superpoints(scene))
    stage = get_foreground("geometric")
    timed("room surfaces and the points on them", lambda: stage.surfaces_of(scene))
    batch = timed(
        "network input: sample and voxelisation",
        lambda: collate(
            [sample_from_scene(scene, scene.superpoints)], resolver.device, resolver.config.voxel_size
        ),
    )
    if threads is not None:  # numba's kernels (the superpoints') reset it; the resolver sets it again
        torch.set_num_threads(threads)
    with torch.no_grad():
        encoding = timed("backbone (encode_scene)", lambda: resolver.model.encode_scene(batch))
    resolver._scene_ref, resolver._encoding = (
        __import__("weakref").ref(scene),
        encoding,
    )  # as encoding_for keeps it
    resolution = timed("decoder and pseudo-masks (resolve)", lambda: resolver.resolve(scene, boxes))
    done = Resolved(resolver, resolution)
    timed("rest of the pipeline", lambda: annotate(scene, boxes, done, foreground=stage))
    print(f"{scene.name}: {scene.num_points:,} points, {len(boxes)} boxes, threads {threads}")
    for name, seconds in stages:
        print(f"  {name:45s} {seconds:6.2f} s")
    print(f"first resolution {sum(seconds for _, seconds in stages):.2f} s")


def background(scene, boxes, threads: int | None, lead: float) -> None:  # noqa: ANN001
    """The window's first resolution: the teacher loads and warms up in a thread meanwhile."""
    import threading

    from beep3d.native_threads import limit_native_threads

    limit_native_threads(threads)
    started = time.perf_counter()
    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.resolve.resolvers import get_resolver

    resolver = get_resolver("teacher", checkpoint=DEFAULT_CHECKPOINT, threads=threads)

    def warm_up() -> None:  # as app/resolver_controller.py does
        resolver.warm_up()
        from beep3d.geometry.room_surfaces import open3d_core

        open3d_core()

    loader = threading.Thread(target=warm_up, daemon=True)
    loader.start()
    time.sleep(lead)
    scan = time.perf_counter()
    from beep3d.resolve.foreground import get_foreground
    from beep3d.resolve.pipeline import annotate

    annotate(scene, boxes, resolver, foreground=get_foreground("geometric"))
    done = time.perf_counter()
    print(f"{scene.name}: {scene.num_points:,} points, {len(boxes)} boxes, threads {threads}")
    print(f"  teacher loaded in the background from {lead:.1f} s before the scan's work")
    print(f"first resolution {done - scan:.2f} s (from the start: {done - started:.2f} s)")


if __name__ == "__main__":
    main()
