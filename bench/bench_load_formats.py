"""Time opening every scan format through ``beep3d.io.load_scene``, and Open3D's readers beside it.

Usage: ``python bench/bench_load_formats.py [--points 2000000] [--text-points 500000]
[--mesh-vertices 1000000] [--repeats 3] [--laz FILE] [--formats obj,laz,...]``.

A room-like cloud is generated (floor, walls and furniture surfaces sampled in scan order, colours
varying smoothly, millimetre coordinates), so LAZ compresses it as it does a real scan. It is written
as binary PLY (the reference), PCD binary / ascii / binary_compressed, LAS, LAZ and E57; a smaller
copy as XYZRGB and PTS text; a grid mesh as OBJ, OFF and GLB. Each row prints the file size and the
best of ``--repeats`` loads after a first one (also shown: in a new process it includes importing
and loading compiled kernels, e.g. numba's for PCD binary_compressed and OBJ), and where Open3D reads
the same file, Open3D's time (it keeps fewer fields and reports damaged files as an empty cloud).
``--laz FILE`` also times a LAZ of your own; ``--formats obj`` (file suffixes, comma-separated) writes
and times only those files, e.g. ``--formats obj`` for the 1M-vertex OBJ alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from beep3d.io import load_scene, write_ply
from beep3d.io.las import write_las
from beep3d.io.pcd import write_pcd
from beep3d.io.text_clouds import write_text_cloud


def room_cloud(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) float32 points on a 8 x 6 x 3 m room's surfaces in scan order, and (n, 3) uint8 colours."""
    rng = np.random.default_rng(seed)
    parts = []
    planes = [  # (origin, u, v): floor, four walls, ceiling, then table and cabinet tops
        ((0, 0, 0), (8, 0, 0), (0, 6, 0)),
        ((0, 0, 0), (8, 0, 0), (0, 0, 3)),
        ((0, 6, 0), (8, 0, 0), (0, 0, 3)),
        ((0, 0, 0), (0, 6, 0), (0, 0, 3)),
        ((8, 0, 0), (0, 6, 0), (0, 0, 3)),
        ((0, 0, 3), (8, 0, 0), (0, 6, 0)),
        ((2, 2, 0.75), (1.6, 0, 0), (0, 0.9, 0)),
        ((6, 4, 1.2), (1.0, 0, 0), (0, 0.5, 0)),
    ]
    share = np.array([0.3, 0.12, 0.12, 0.1, 0.1, 0.16, 0.06, 0.04])
    counts = np.floor(share / share.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    for (origin, u, v), count in zip(planes, counts, strict=True):
        s = np.sort(rng.random(count))  # scan lines: ordered along one direction
        t = rng.random(count)
        parts.append(np.asarray(origin) + s[:, None] * np.asarray(u) + t[:, None] * np.asarray(v))
    xyz = np.concatenate(parts) + rng.normal(0, 0.003, (n, 3))
    xyz = np.round(xyz, 3).astype(np.float32)
    shade = (np.sin(xyz[:, 0] * 1.3) + np.cos(xyz[:, 1] * 0.7) + 2) / 4
    rgb = np.clip(np.stack([shade * 200 + 30, shade * 180 + 40, shade * 150 + 50], axis=1), 0, 255)
    return xyz, rgb.astype(np.uint8)


def grid_mesh(vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """A square grid of about ``vertices`` vertices (1 cm apart) and its triangles."""
    side = int(np.sqrt(vertices))
    u, v = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xyz = np.stack([u.ravel() * 0.01, v.ravel() * 0.01, np.sin(u.ravel() * 0.05) * 0.1], axis=1)
    index = np.arange(side * side).reshape(side, side)
    a, b, c, d = (
        index[:-1, :-1].ravel(),
        index[1:, :-1].ravel(),
        index[:-1, 1:].ravel(),
        index[1:, 1:].ravel(),
    )
    return xyz.astype(np.float32), np.concatenate([np.stack([a, b, c], axis=1), np.stack([b, d, c], axis=1)])


def best(load: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load()
        times.append(time.perf_counter() - start)
    return min(times)


def open3d_reader(path: Path) -> Callable[[], object] | None:
    """Open3D's reader for the same file, where it has one, or None."""
    try:
        import open3d as o3d
    except ImportError:
        return None
    suffix = path.suffix
    if suffix == ".pcd":
        return lambda: o3d.t.io.read_point_cloud(str(path))
    if suffix in (".obj", ".off"):
        return lambda: o3d.io.read_triangle_mesh(str(path))
    if suffix in (".ply", ".xyzrgb", ".pts"):
        return lambda: o3d.t.io.read_point_cloud(str(path))
    return None


def write_e57(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> None:
    import pye57

    e57 = pye57.E57(str(path), mode="w")
    data = {f"cartesian{a}": xyz[:, k].astype(np.float64) for k, a in enumerate("XYZ")}
    data |= {f"color{c}": rgb[:, k] for k, c in enumerate(("Red", "Green", "Blue"))}
    e57.write_scan_raw(data)
    e57.close()


def write_files(folder: Path, args: argparse.Namespace) -> list[tuple[str, Path]]:
    import open3d as o3d
    import trimesh

    wanted = (
        {f".{suffix.strip().lstrip('.')}" for suffix in args.formats.split(",")} if args.formats else None
    )
    point_formats = {".ply", ".pcd", ".las", ".laz", ".e57", ".xyzrgb", ".pts"}
    xyz, rgb = room_cloud(args.points if wanted is None or wanted & point_formats else 10)
    intensity = (np.arange(len(xyz)) % 4096).astype(np.uint16)
    files: list[tuple[str, Path]] = []

    def add(label: str, name: str, writer: Callable[[Path], None]) -> None:
        path = folder / name
        if wanted is not None and path.suffix not in wanted:
            return
        writer(path)
        files.append((label, path))

    add("binary PLY (reference)", "cloud.ply", lambda p: write_ply(p, xyz, rgb))
    add("PCD binary", "cloud.pcd", lambda p: write_pcd(p, xyz, rgb, {"intensity": intensity}))
    cloud = o3d.t.geometry.PointCloud()
    cloud.point.positions = o3d.core.Tensor(xyz)
    cloud.point.colors = o3d.core.Tensor(rgb.astype(np.float32) / 255)
    add(
        "PCD binary_compressed",
        "compressed.pcd",
        lambda p: o3d.t.io.write_point_cloud(str(p), cloud, write_ascii=False, compressed=True),
    )
    add(
        "LAS 1.4",
        "cloud.las",
        lambda p: write_las(p, xyz, rgb, {"intensity_raw": intensity}, classification=intensity % 32),
    )
    add(
        "LAZ 1.4",
        "cloud.laz",
        lambda p: write_las(p, xyz, rgb, {"intensity_raw": intensity}, classification=intensity % 32),
    )
    add("E57", "cloud.e57", lambda p: write_e57(p, xyz, rgb))
    small, small_rgb = (
        xyz[:: max(1, len(xyz) // args.text_points)],
        rgb[:: max(1, len(xyz) // args.text_points)],
    )
    add(
        f"PCD ascii ({len(small) // 1000}k)",
        "small_ascii.pcd",
        lambda p: write_pcd(p, small, small_rgb, ascii=True),
    )
    add(
        f"XYZRGB text ({len(small) // 1000}k)",
        "small.xyzrgb",
        lambda p: write_text_cloud(p, small, small_rgb),
    )
    add(f"PTS text ({len(small) // 1000}k)", "small.pts", lambda p: write_text_cloud(p, small, small_rgb))
    mesh_xyz, faces = grid_mesh(args.mesh_vertices)
    mesh = trimesh.Trimesh(
        mesh_xyz, faces, vertex_colors=np.full((len(mesh_xyz), 4), 200, np.uint8), process=False
    )
    for suffix in ("obj", "off", "glb"):

        def export(p: Path, s: str = suffix) -> None:
            data = mesh.export(file_type=s)
            p.write_bytes(data.encode() if isinstance(data, str) else data)

        add(f"{suffix.upper()} mesh ({len(mesh_xyz) // 1000}k vertices)", f"mesh.{suffix}", export)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="points of the generated cloud")
    parser.add_argument("--text-points", type=int, default=500_000, help="points of the text clouds")
    parser.add_argument("--mesh-vertices", type=int, default=1_000_000, help="vertices of the mesh")
    parser.add_argument("--repeats", type=int, default=3, help="loads per file; the best time is shown")
    parser.add_argument("--laz", type=Path, help="also time this LAZ (or any scan) of your own")
    parser.add_argument("--formats", default="", help="only these file suffixes, e.g. 'obj' or 'laz,obj'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), args)
        if args.laz is not None:
            files.append((f"your file {args.laz.name}", args.laz))
        header = f"{'file':<36} {'MB':>7} {'points':>10} {'faces':>10} {'first s':>8} {'load s':>8} {'Open3D s':>9}"
        print(header)
        for label, path in files:
            start = time.perf_counter()
            scene = load_scene(path)
            first = time.perf_counter() - start
            ours = best(lambda p=path: load_scene(p), args.repeats)
            theirs = open3d_reader(path)
            other = f"{best(theirs, args.repeats):>9.3f}" if theirs is not None else f"{'-':>9}"
            faces = 0 if scene.faces is None else len(scene.faces)
            size = path.stat().st_size / 1e6
            print(
                f"{label:<36} {size:>7.1f} {scene.num_points:>10,} {faces:>10,} {first:>8.3f} {ours:>8.3f} {other}"
            )


if __name__ == "__main__":
    main()
