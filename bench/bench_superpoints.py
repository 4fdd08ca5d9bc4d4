"""Benchmark superpoints: speed per stage for 1M points (cloud and mesh) and purity.

Run:  .venv/bin/python bench/bench_superpoints.py [--points 1000000] [--skip-mesh]

Prints the numba warm-up (compile or cache load) separately from the timed runs, the time per
stage for a synthetic cluttered room sampled to 1M points and for a 1M-vertex mesh, and purity
(share of points whose superpoint's majority instance is their own) on the shared real ScanNet
scene and on a harder synthetic cluttered scene for a few settings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import trimesh
from shared_data import REAL_SCENE

from beep3d.geometry.superpoints import compute_superpoints, superpoint_purity
from beep3d.io import load_scene
from beep3d.scene import Scene


def _box(extents, transform) -> tuple[trimesh.Trimesh, np.ndarray, np.ndarray]:
    transform = np.asarray(transform, dtype=float)
    return trimesh.creation.box(extents, transform), transform, np.asarray(extents, dtype=float) / 2


def cluttered_room(num_points: int, seed: int = 0, noise: float = 0.002) -> Scene:
    """A 6 x 5 m room (floor, two walls) with rows of boxes and cylinders pushed together, some with
    a box stacked on top. Surfaces hidden by contact (faces touching the floor, a wall or another
    object) are removed, as a scanner would not see them. Objects share a small palette, so colour
    alone cannot separate them. Floor and walls have instance -1.
    """
    rng = np.random.default_rng(seed)
    translate = trimesh.transformations.translation_matrix
    parts = [
        (*_box((6.0, 5.0, 0.02), translate((3.0, 2.5, -0.01))), np.array([150, 140, 120])),
        (*_box((6.0, 0.02, 2.8), translate((3.0, -0.01, 1.4))), np.array([200, 200, 195])),
        (*_box((0.02, 5.0, 2.8), translate((-0.01, 2.5, 1.4))), np.array([200, 200, 195])),
    ]
    palette = rng.integers(40, 230, size=(6, 3))
    for y0 in (0.0, 1.3, 2.6, 3.9):  # rows of objects side by side; the first row against the wall
        x = 0.0
        while x < 5.4:
            width, depth, height = rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8), rng.uniform(0.3, 1.2)
            transform = trimesh.transformations.rotation_matrix(rng.uniform(-0.1, 0.1), (0, 0, 1))
            transform[:3, 3] = (x + width / 2, y0 + depth / 2, height / 2)
            mesh, transform, half = _box((width, depth, height), transform)
            if rng.random() < 0.25:
                mesh = trimesh.creation.cylinder(
                    radius=min(width, depth) / 2, height=height, transform=transform
                )
            parts.append((mesh, transform, half, palette[rng.integers(len(palette))]))
            if rng.random() < 0.4:  # something stacked on top
                top = _box(
                    (width * 0.7, depth * 0.7, 0.2), translate((x + width / 2, y0 + depth / 2, height + 0.1))
                )
                parts.append((*top, palette[rng.integers(len(palette))]))
            x += width + (0.0 if rng.random() < 0.6 else rng.uniform(0.05, 0.3))
    areas = np.array([part[0].area for part in parts])
    counts = np.maximum(1, np.round(areas / areas.sum() * num_points * 1.3).astype(int))
    xyz, rgb, instance = [], [], []
    for index, ((mesh, _, _, colour), count) in enumerate(zip(parts, counts, strict=True)):
        points, _ = trimesh.sample.sample_surface(mesh, int(count), seed=int(rng.integers(1 << 31)))
        xyz.append(points + rng.normal(0, noise, points.shape))
        rgb.append(np.clip(colour + rng.normal(0, 12, (int(count), 3)), 0, 255))
        instance.append(np.full(int(count), index - 3 if index >= 3 else -1))
    xyz_all, rgb_all, instance_all = np.concatenate(xyz), np.concatenate(rgb), np.concatenate(instance)
    owner = np.repeat(np.arange(len(parts)), counts)
    hidden = np.zeros(len(xyz_all), dtype=bool)
    for index, (_, transform, half, _) in enumerate(parts):  # points inside another part's box are hidden
        local = (xyz_all - transform[:3, 3]) @ transform[:3, :3]
        inside = (np.abs(local) <= half + 0.01).all(axis=1) & (owner != index)
        hidden |= inside
    keep = np.flatnonzero(~hidden)
    keep = keep[rng.permutation(len(keep))[:num_points]]
    return Scene(
        xyz=xyz_all[keep].astype(np.float32),
        rgb=rgb_all[keep].astype(np.uint8),
        instance=instance_all[keep],
        name="cluttered",
    )


def read_real_scene() -> Scene | None:
    """The shared real ScanNet scene (53k points with GT instances), or None when it is absent."""
    if not REAL_SCENE.exists():
        return None
    scene = load_scene(REAL_SCENE)
    scene.name = "scene0423_00"
    return scene


def timed(scene: Scene, repeats: int = 2, **kwargs) -> tuple[np.ndarray, dict[str, float], float]:
    best: tuple[np.ndarray, dict[str, float], float] | None = None
    for _ in range(repeats):
        timings: dict[str, float] = {}
        start = time.perf_counter()
        labels = compute_superpoints(scene, timings=timings, **kwargs)
        total = time.perf_counter() - start
        if best is None or total < best[2]:
            best = (labels, timings, total)
    assert best is not None
    return best


def stage_line(timings: dict[str, float]) -> str:
    return "  ".join(f"{stage} {seconds:.3f}" for stage, seconds in timings.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--skip-mesh", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    small = cluttered_room(5000, seed=1)
    compute_superpoints(small)
    mesh = trimesh.creation.icosphere(subdivisions=2)
    compute_superpoints(Scene(xyz=mesh.vertices, rgb=np.zeros((len(mesh.vertices), 3)), faces=mesh.faces))
    print(f"numba warm-up (compile or load from cache): {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    cloud = cluttered_room(args.points, seed=0)
    print(f"synthetic cluttered cloud: {cloud.num_points:,} points, {int(cloud.instance.max()) + 1} objects "
          f"(built in {time.perf_counter() - start:.1f} s)")  # fmt: skip
    labels, timings, total = timed(cloud)
    print(f"cloud  {cloud.num_points:,} pts: total {total:.3f} s | {stage_line(timings)} | "
          f"{labels.max() + 1:,} superpoints, purity {superpoint_purity(labels, cloud.instance):.4f}")  # fmt: skip

    if not args.skip_mesh:
        sphere = trimesh.creation.icosphere(subdivisions=8)  # 655k vertices
        grid = trimesh.creation.box((4, 4, 1)).subdivide_to_size(0.012)
        mesh = trimesh.util.concatenate([sphere, grid])
        mesh_scene = Scene(xyz=mesh.vertices, rgb=np.zeros((len(mesh.vertices), 3)), faces=mesh.faces)
        labels, timings, total = timed(mesh_scene)
        print(f"mesh   {mesh_scene.num_points:,} vertices, {len(mesh.faces):,} faces: total {total:.3f} s | "
              f"{stage_line(timings)} | {labels.max() + 1:,} superpoints")  # fmt: skip

    settings = [
        {"k_thresh": 0.01, "colour_weight": 0.0},
        {"k_thresh": 0.01, "colour_weight": 0.5},
        {"k_thresh": 0.01, "colour_weight": 1.0},
        {"k_thresh": 0.05, "colour_weight": 0.5},
        {"k_thresh": 0.01, "colour_weight": 0.5, "knn": 16},
        {"k_thresh": 0.01, "colour_weight": 0.5, "max_edge_length": None},
    ]
    real = read_real_scene()
    hard = cluttered_room(200_000, seed=3)
    for name, scene in (("real scene0423_00", real), ("synthetic cluttered 200k", hard)):
        if scene is None:
            print(f"{name}: not found at {REAL_SCENE}, skipped")
            continue
        for setting in settings:
            labels, _, total = timed(scene, repeats=1, **setting)
            print(f"{name:26s} {str(setting):70s} superpoints {labels.max() + 1:6,d}  "
                  f"purity {superpoint_purity(labels, scene.instance):.4f}  ({total:.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
