"""The scan formats beyond PLY: each file is built in the test, read back, and damaged.

PCD (ascii, binary, binary_compressed) and XYZ / XYZRGB / XYZN / PTS text clouds, each through
:func:`beep3d.io.load_scene`, the entry point the window and the headless export use. LAS / LAZ and E57
are in ``test_scanner_formats.py``, OBJ / OFF / GLB meshes in ``test_mesh_formats.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.io import SUPPORTED_EXTENSIONS, load_scene, load_scene_with_report
from beep3d.io.pcd import write_pcd
from beep3d.io.text_clouds import write_text_cloud
from tests.io.scan_helpers import cloud, expect_error


def test_every_new_suffix_is_dispatched() -> None:
    for suffix in (
        ".pcd",
        ".xyz",
        ".xyzrgb",
        ".xyzn",
        ".pts",
        ".las",
        ".laz",
        ".e57",
        ".obj",
        ".off",
        ".glb",
    ):
        assert suffix in SUPPORTED_EXTENSIONS


# --- PCD ---------------------------------------------------------------------------------------------


def pcd_header(fields: str, sizes: str, types: str, n: int, data: str, counts: str | None = None) -> bytes:
    counts = counts or " ".join("1" for _ in fields.split())
    lines = [
        "# .PCD v0.7",
        "VERSION 0.7",
        f"FIELDS {fields}",
        f"SIZE {sizes}",
        f"TYPE {types}",
        f"COUNT {counts}",
        f"WIDTH {n}",
        "HEIGHT 1",
        "VIEWPOINT 0 0 0 1 0 0 0",
        f"POINTS {n}",
        f"DATA {data}",
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("ascii_data", [False, True])
def test_pcd_round_trip_keeps_points_colours_and_fields(tmp_path: Path, ascii_data: bool) -> None:
    xyz, rgb = cloud()
    intensity = np.linspace(0, 1, len(xyz)).astype(np.float32)
    label = np.arange(len(xyz), dtype=np.uint32) % 5
    path = tmp_path / "scan.pcd"
    write_pcd(path, xyz, rgb, {"intensity": intensity, "label": label}, ascii=ascii_data)
    scene, report = load_scene_with_report(path)
    np.testing.assert_allclose(scene.xyz, xyz, atol=1e-6)
    np.testing.assert_array_equal(scene.rgb, rgb)
    assert report.colour_scale == "0..255"
    np.testing.assert_allclose(scene.extra["intensity"], intensity, atol=1e-6)
    np.testing.assert_array_equal(scene.semantic, label)


def test_pcd_binary_compressed_written_by_open3d(tmp_path: Path) -> None:
    """Open3D's own LZF compressor (with back references) writes the file; every field survives."""
    o3d = pytest.importorskip("open3d")
    n = 3000
    xyz, rgb = cloud(n)
    xyz[:1000] = xyz[:10].repeat(100, axis=0)  # repeated rows: long back references
    cloud_t = o3d.t.geometry.PointCloud()
    cloud_t.point.positions = o3d.core.Tensor(xyz)
    cloud_t.point.colors = o3d.core.Tensor(rgb.astype(np.float32) / 255.0)
    cloud_t.point.intensity = o3d.core.Tensor(np.arange(n, dtype=np.float32).reshape(-1, 1))
    cloud_t.point.label = o3d.core.Tensor((np.arange(n, dtype=np.int32) % 7).reshape(-1, 1))
    path = tmp_path / "compressed.pcd"
    o3d.t.io.write_point_cloud(str(path), cloud_t, write_ascii=False, compressed=True)
    assert b"DATA binary_compressed" in path.read_bytes()[:400]
    scene = load_scene(path)
    np.testing.assert_allclose(scene.xyz, xyz, atol=1e-6)
    assert np.abs(scene.rgb.astype(int) - rgb).max() <= 1  # Open3D stores colours as floats 0..1
    np.testing.assert_array_equal(scene.extra["intensity"], np.arange(n))
    np.testing.assert_array_equal(scene.semantic, np.arange(n) % 7)


def lzf_literals(data: bytes) -> bytes:
    """The simplest valid LZF stream: literal runs of at most 32 bytes."""
    out = bytearray()
    for start in range(0, len(data), 32):
        chunk = data[start : start + 32]
        out += bytes([len(chunk) - 1]) + chunk
    return bytes(out)


def compressed_pcd(xyz: np.ndarray, extra: tuple[str, np.ndarray] | None = None) -> bytes:
    """A binary_compressed PCD: columns one after the other, LZF literal runs."""
    columns = [xyz[:, k].astype("<f4").tobytes() for k in range(3)]
    fields, sizes, types = "x y z", "4 4 4", "F F F"
    if extra is not None:
        columns.append(extra[1].tobytes())
        fields, sizes, types = f"{fields} {extra[0]}", f"{sizes} {extra[1].itemsize}", f"{types} U"
    raw = b"".join(columns)
    packed = lzf_literals(raw)
    head = pcd_header(fields, sizes, types, len(xyz), "binary_compressed")
    return head + np.array([len(packed), len(raw)], dtype="<u4").tobytes() + packed


def test_pcd_binary_compressed_columns_and_nan_points(tmp_path: Path) -> None:
    xyz, _ = cloud(40)
    xyz[5] = np.nan  # an organised cloud marks missing returns with NaN
    ring = np.arange(40, dtype="<u2")
    path = tmp_path / "c.pcd"
    path.write_bytes(compressed_pcd(xyz, ("ring", ring)))
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 39 and report.dropped_non_finite == 1
    np.testing.assert_array_equal(scene.extra["ring"], np.delete(ring, 5))
    assert report.colour_scale == "missing"
    with pytest.raises(Beep3dError, match="NaN"):
        load_scene(path, nan_policy="refuse")


def test_pcd_separate_colour_fields_counts_and_padding(tmp_path: Path) -> None:
    n = 4
    dtype = np.dtype(
        [
            ("x", "<f4"),
            ("y", "<f4"),
            ("z", "<f4"),
            ("r", "u1"),
            ("g", "u1"),
            ("b", "u1"),
            ("_", "u1"),
            ("h", "<f4", (2,)),
        ]
    )
    rows = np.zeros(n, dtype=dtype)
    rows["x"] = np.arange(n)
    rows["r"], rows["g"], rows["b"] = 10, 20, 30
    rows["h"] = [[1, 2]] * n
    path = tmp_path / "sep.pcd"
    head = pcd_header("x y z r g b _ h", "4 4 4 1 1 1 1 4", "F F F U U U U F", n, "binary", "1 1 1 1 1 1 1 2")
    path.write_bytes(head + rows.tobytes())
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.rgb, [[10, 20, 30]] * n)
    np.testing.assert_array_equal(scene.extra["h_1"], [2] * n)
    assert "_" not in scene.extra


def test_pcd_packed_rgb_printed_as_float_bits(tmp_path: Path) -> None:
    """Some writers print a packed colour as the (tiny) float of its bits instead of an integer."""
    colour = np.array([(200 << 16) | (100 << 8) | 50], dtype=np.uint32).view(np.float32)[0]
    path = tmp_path / "f.pcd"
    path.write_bytes(
        pcd_header("x y z rgb", "4 4 4 4", "F F F F", 1, "ascii") + f"1 2 3 {colour:.10g}\n".encode()
    )
    np.testing.assert_array_equal(load_scene(path).rgb, [[200, 100, 50]])


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("truncated", ("truncated",)),
        ("longer", ("more data",)),
        ("fields", ("FIELDS", "must match")),
        ("size", ("SIZE 3",)),
        ("points", ("WIDTH", "POINTS")),
        ("data kind", ("unknown PCD data kind",)),
        ("no data line", ("no DATA line",)),
        ("no xyz", ("no x/y/z",)),
        ("ascii rows", ("values",)),
        ("ascii word", ("not a number",)),
        ("compressed stream", ("damaged",)),
        ("compressed size", ("expands",)),
        ("not pcd", ("not a PCD",)),
    ],
)
def test_broken_pcd_files_get_one_clean_error(tmp_path: Path, damage: str, words: tuple[str, ...]) -> None:
    xyz, _ = cloud(10)
    body = xyz.astype("<f4").tobytes()
    good = pcd_header("x y z", "4 4 4", "F F F", 10, "binary")
    content = {
        "truncated": good + body[:-7],
        "longer": good + body + b"\x01" * 12,
        "fields": pcd_header("x y z", "4 4", "F F F", 10, "binary") + body,
        "size": pcd_header("x y z", "4 4 3", "F F F", 10, "binary") + body,
        "points": good.replace(b"POINTS 10", b"POINTS 11") + body,
        "data kind": pcd_header("x y z", "4 4 4", "F F F", 10, "binary_lz4") + body,
        "no data line": good.replace(b"DATA binary\n", b"") + body,
        "no xyz": pcd_header("a b c", "4 4 4", "F F F", 10, "binary") + body,
        "ascii rows": pcd_header("x y z", "4 4 4", "F F F", 2, "ascii") + b"1 2 3\n4 5\n",
        "ascii word": pcd_header("x y z", "4 4 4", "F F F", 1, "ascii") + b"1 2 zz\n",
        "compressed stream": compressed_pcd(xyz)[:-40] + b"\xe0" * 40,
        "compressed size": compressed_pcd(xyz)
        .replace(b"POINTS 10", b"POINTS 9")
        .replace(b"WIDTH 10", b"WIDTH 9"),
        "not pcd": b"hello world\n" + body,
    }[damage]
    path = tmp_path / "bad.pcd"
    path.write_bytes(content)
    expect_error(path, *words)


# --- text clouds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xyz", ".xyzrgb", ".pts"])
def test_text_cloud_round_trip(tmp_path: Path, suffix: str) -> None:
    xyz, rgb = cloud()
    path = tmp_path / f"scan{suffix}"
    write_text_cloud(path, xyz, rgb)
    scene, report = load_scene_with_report(path)
    np.testing.assert_allclose(scene.xyz, xyz, atol=1e-5)
    np.testing.assert_array_equal(scene.rgb, rgb)
    assert report.colour_scale == "0..255"


def test_xyzn_and_xyz_with_unit_vectors_give_normals(tmp_path: Path) -> None:
    xyz, _ = cloud()
    normals = np.tile([[0.0, 0.6, 0.8]], (len(xyz), 1))
    for suffix in (".xyzn", ".xyz"):
        path = tmp_path / f"n{suffix}"
        write_text_cloud(path, xyz, normals=normals) if suffix == ".xyzn" else np.savetxt(
            path, np.hstack([xyz, normals])
        )
        scene, report = load_scene_with_report(path)
        np.testing.assert_allclose(scene.normals, normals, atol=1e-6)
        assert report.colour_scale == "missing"


def test_pts_with_intensity_colour_several_scans_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "leica.pts"
    path.write_text("2\n0,0,0,-1200,255,0,0\n1,0,0,300,0,255,0\n1\n// a comment\n2;0;0;5;0;0;255\n")
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.xyz[:, 0], [0, 1, 2])
    np.testing.assert_array_equal(scene.rgb, [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    np.testing.assert_array_equal(scene.extra["intensity"], [-1200, 300, 5])


def test_xyzrgb_in_zero_to_one_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "o3d.xyzrgb"
    path.write_text("0 0 0 1.0 0.5 0\n1 1 1 0 0 1\n")
    scene, report = load_scene_with_report(path)
    assert report.colour_scale == "0..1"
    np.testing.assert_array_equal(scene.rgb[0], [255, 128, 0])


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("rows.xyz", "0 0 0\n1 1\n", ("line 2", "same columns")),
        ("word.xyz", "0 0 0\n1 1 x\n", ("line 2", "not a row of numbers")),
        ("count.pts", "5\n0 0 0\n1 1 1\n", ("5", "2 rows")),
        ("few.xyzrgb", "0 0 0\n", ("at least 6",)),
        ("empty.xyz", "# only a comment\n", ("no points",)),
    ],
)
def test_broken_text_clouds_get_one_clean_error(
    tmp_path: Path, name: str, text: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    expect_error(path, *words)
