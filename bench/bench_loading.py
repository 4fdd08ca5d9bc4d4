"""Time scene loading: a generated 2M-point binary PLY, the real ScanNet sample, a 1M-vertex mesh.

Usage: ``python bench/bench_loading.py [--points 2000000] [--mesh-vertices 1000000] [--repeats 3]``.
Prints one row per file: size, points, faces and the best load time of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_load_formats import grid_mesh
from shared_data import REAL_SCENE

from beep3d.io import load_scene, write_ply

SHARED_SAMPLE = REAL_SCENE


def best_time(path: Path, repeats: int) -> tuple[float, int, int]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scene = load_scene(path)
        times.append(time.perf_counter() - start)
    return min(times), scene.num_points, 0 if scene.faces is None else len(scene.faces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="points of the generated cloud")
    parser.add_argument("--mesh-vertices", type=int, default=1_000_000, help="vertices of the generated mesh")
    parser.add_argument("--repeats", type=int, default=3, help="loads per file; the best time is shown")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cloud = Path(tmp) / "cloud.ply"
        xyz = rng.uniform(0, 10, (args.points, 3)).astype(np.float32)
        rgb = rng.integers(0, 256, (args.points, 3), dtype=np.uint8)
        write_ply(cloud, xyz, rgb, {"nx": xyz[:, 0], "ny": xyz[:, 1], "nz": xyz[:, 2]})
        rows.append(("binary PLY cloud (generated)", cloud, *best_time(cloud, args.repeats)))
        mesh = Path(tmp) / "mesh.ply"
        mesh_xyz, faces = grid_mesh(args.mesh_vertices)
        write_ply(mesh, mesh_xyz, np.full((len(mesh_xyz), 3), 200, np.uint8), faces=faces)
        rows.append(("binary PLY mesh (generated)", mesh, *best_time(mesh, args.repeats)))
        if SHARED_SAMPLE.exists():
            rows.append(
                ("ScanNet scene0423_00 (real)", SHARED_SAMPLE, *best_time(SHARED_SAMPLE, args.repeats))
            )
        else:
            print(f"(skipped the real ScanNet sample: {SHARED_SAMPLE} not found)")
        print(f"{'file':<30} {'MB':>7} {'points':>10} {'faces':>10} {'load s':>8}")
        for label, path, seconds, points, face_count in rows:
            size = path.stat().st_size / 1e6
            print(f"{label:<30} {size:>7.1f} {points:>10,} {face_count:>10,} {seconds:>8.3f}")


if __name__ == "__main__":
    main()
