"""The scan formats beyond PLY: each file is built in the test, read back, and damaged.

PCD (ascii, binary, binary_compressed), XYZ / XYZRGB / XYZN / PTS text clouds, LAS / LAZ, E57 and
OBJ / OFF / GLB meshes, each through :func:`beep3d.io.load_scene`, the entry point the window and the
headless export use.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.io import SUPPORTED_EXTENSIONS, load_scene, load_scene_with_report
from beep3d.io.las import write_las
from beep3d.io.pcd import write_pcd
from beep3d.io.text_clouds import write_text_cloud


def cloud(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) float32 points in a 4 x 3 x 2.5 m room and (n, 3) uint8 colours."""
    rng = np.random.default_rng(seed)
    xyz = (rng.random((n, 3)) * [4.0, 3.0, 2.5]).astype(np.float32)
    return xyz, rng.integers(0, 256, (n, 3)).astype(np.uint8)


def expect_error(path: Path, *words: str) -> str:
    with pytest.raises(Beep3dError) as caught:
        load_scene(path)
    message = str(caught.value)
    assert str(path) in message, message
    for word in words:
        assert word.lower() in message.lower(), message
    return message


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


# --- LAS / LAZ ---------------------------------------------------------------------------------------


def laspy_file(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """A LAS 1.4 file written by laspy itself: 16-bit colours, classification, two extra dimensions."""
    import laspy

    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = [0.001] * 3
    header.offsets = [100.0, 200.0, 0.0]
    header.add_extra_dims(
        [
            laspy.ExtraBytesParams(name="reflectance", type=np.float32),
            laspy.ExtraBytesParams(name="normal", type="3f4"),
        ]
    )
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0] + 100, xyz[:, 1] + 200, xyz[:, 2]
    las.red, las.green, las.blue = (rgb.astype(np.uint16) * 257).T
    classes = np.arange(len(xyz)) % 3 + 1
    las.classification = classes
    las.reflectance = np.linspace(0, 1, len(xyz))
    las.normal = np.tile([0.0, 0.0, 1.0], (len(xyz), 1))
    las.write(str(path))
    return classes


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_las_keeps_colours_classification_and_extra_dimensions(tmp_path: Path, suffix: str) -> None:
    xyz, rgb = cloud()
    path = tmp_path / f"scan{suffix}"
    classes = laspy_file(path, xyz, rgb)
    scene, report = load_scene_with_report(path)
    np.testing.assert_allclose(scene.xyz, xyz + [100, 200, 0], atol=1.5e-3)
    np.testing.assert_array_equal(scene.rgb, rgb)
    assert report.colour_scale == "0..65535"
    np.testing.assert_array_equal(scene.extra["classification"], classes)
    np.testing.assert_allclose(scene.extra["reflectance"], np.linspace(0, 1, len(xyz)), atol=1e-6)
    np.testing.assert_array_equal(scene.extra["normal_2"], np.ones(len(xyz)))
    assert "intensity" in scene.extra and "gps_time" in scene.extra


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_las_written_by_the_tool_reads_back_its_labels(tmp_path: Path, suffix: str) -> None:
    xyz, rgb = cloud()
    instance = np.arange(len(xyz), dtype=np.int32) % 4 - 1
    path = tmp_path / f"masks{suffix}"
    write_las(path, xyz, rgb, {"instance": instance, "confidence": np.full(len(xyz), 0.5, np.float32)})
    compressed = path.read_bytes()[104] & 0x80  # the point format byte's top bit marks LAZ
    assert bool(compressed) == (suffix == ".laz")
    scene = load_scene(path)
    np.testing.assert_allclose(scene.xyz, xyz, atol=1e-3)
    np.testing.assert_array_equal(scene.rgb, rgb)
    np.testing.assert_array_equal(scene.instance, instance)
    np.testing.assert_array_equal(scene.extra["confidence"], 0.5)


def test_las_colour_fields_left_at_zero_mean_no_colours(tmp_path: Path) -> None:
    xyz, _ = cloud()
    path = tmp_path / "no_camera.las"
    write_las(path, xyz, np.zeros_like(xyz, dtype=np.uint8))
    scene, report = load_scene_with_report(path)
    assert report.colour_scale == "missing" and (scene.rgb == 128).all()
    assert any("all 0" in note for note in report.notes)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_broken_las_files_get_one_clean_error(tmp_path: Path, suffix: str) -> None:
    xyz, rgb = cloud(2000)
    good = tmp_path / f"good{suffix}"
    laspy_file(good, xyz, rgb)
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expect_error(truncated, "truncated")
    other = tmp_path / f"other{suffix}"
    other.write_bytes(b"PK\x03\x04" + bytes(400))
    expect_error(other, "not a LAS/LAZ file")


def with_point_count(good: Path, path: Path, count: int) -> Path:
    """A copy of the LAS/LAZ ``good`` whose header declares ``count`` points: LAS 1.4's 64-bit count,
    and the legacy 32-bit one where the file uses it."""
    data = bytearray(good.read_bytes())
    if int.from_bytes(data[107:111], "little"):
        data[107:111] = min(count, 2**32 - 1).to_bytes(4, "little")
    if data[25] >= 4:
        data[247:255] = count.to_bytes(8, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("suffix", "version", "point_format"),
    [(".las", "1.2", 3), (".las", "1.4", 3), (".las", "1.4", 7), (".laz", "1.4", 7), (".laz", "1.2", 3)],
)
def test_a_point_count_the_file_cannot_hold_is_refused_before_reading(
    tmp_path: Path, suffix: str, version: str, point_format: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged count must not make the reader allocate the memory it declares: it is refused from the
    header and the file's size, and laspy is never asked to read."""
    laspy = pytest.importorskip("laspy")
    xyz, _ = cloud(2000)
    good = tmp_path / f"good{suffix}"
    las = laspy.LasData(laspy.LasHeader(point_format=point_format, version=version))
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.write(str(good))
    assert load_scene(good).num_points == 2000

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("laspy.read was called for a header that must be refused")

    monkeypatch.setattr(laspy, "read", no_read)
    # 200M points: 7 GB, less than this machine's memory, so only the file's size tells it is wrong
    huge = with_point_count(good, tmp_path / f"huge{suffix}", 200_000_000)
    expect_error(huge, "declares 200,000,000 points", "damaged" if suffix == ".laz" else "truncated")
    if version == "1.4" and point_format < 6:
        # the legacy count right (as LAStools writes it for these formats), the 64-bit one damaged:
        # laspy reads the 64-bit one
        data = bytearray(with_point_count(good, tmp_path / "only_64.las", 200_000_000).read_bytes())
        data[107:111] = (2000).to_bytes(4, "little")
        (tmp_path / "only_64.las").write_bytes(bytes(data))
        expect_error(tmp_path / "only_64.las", "declares 200,000,000 points")
    if suffix == ".laz":
        # within 1000 points a byte, but more than the file's one chunk of 50,000 points holds
        more = with_point_count(good, tmp_path / f"more{suffix}", 60_000)
        assert 60_000 < 1000 * more.stat().st_size
        expect_error(more, "declares 60,000 points", "1 compressed chunks of 50,000 points")
    else:
        one_more = with_point_count(good, tmp_path / f"one_more{suffix}", 2001)
        expect_error(one_more, "declares 2,001 points", "truncated")


# --- E57 ---------------------------------------------------------------------------------------------


def e57_file(path: Path, scans: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Scans of (xyz, rgb, rotation quaternion w x y z, translation), written by pye57."""
    pye57 = pytest.importorskip("pye57")
    e57 = pye57.E57(str(path), mode="w")
    for xyz, rgb, rotation, translation in scans:
        data = {
            "cartesianX": xyz[:, 0].astype(np.float64),
            "cartesianY": xyz[:, 1].astype(np.float64),
            "cartesianZ": xyz[:, 2].astype(np.float64),
            "colorRed": rgb[:, 0],
            "colorGreen": rgb[:, 1],
            "colorBlue": rgb[:, 2],
            "intensity": np.linspace(0, 1, len(xyz)),
        }
        e57.write_scan_raw(data, rotation=rotation, translation=translation)
    e57.close()


def test_e57_scans_are_merged_with_their_poses(tmp_path: Path) -> None:
    xyz, rgb = cloud(30)
    quarter_turn = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])  # 90 degrees about z
    path = tmp_path / "site.e57"
    e57_file(
        path,
        [(xyz, rgb, np.array([1.0, 0, 0, 0]), np.zeros(3)), (xyz, rgb, quarter_turn, np.array([10.0, 0, 0]))],
    )
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 60
    np.testing.assert_allclose(scene.xyz[:30], xyz, atol=1e-5)
    turned = np.stack([10.0 - xyz[:, 1], xyz[:, 0], xyz[:, 2]], axis=1)
    np.testing.assert_allclose(scene.xyz[30:], turned, atol=1e-5)
    np.testing.assert_array_equal(scene.rgb, np.vstack([rgb, rgb]))
    np.testing.assert_array_equal(scene.extra["scan"], [0] * 30 + [1] * 30)
    assert "intensity" in scene.extra and any("merged 2 scans" in note for note in report.notes)


def test_broken_e57_files_get_one_clean_error(tmp_path: Path) -> None:
    xyz, rgb = cloud(500)
    good = tmp_path / "good.e57"
    e57_file(good, [(xyz, rgb, np.array([1.0, 0, 0, 0]), np.zeros(3))])
    truncated = tmp_path / "truncated.e57"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expect_error(truncated, "could not be read")
    other = tmp_path / "other.e57"
    other.write_bytes(b"not a scan at all" * 20)
    expect_error(other, "not an E57 file")


# --- meshes ------------------------------------------------------------------------------------------


def test_obj_mesh_with_vertex_colours_and_a_quad(tmp_path: Path) -> None:
    path = tmp_path / "room.obj"
    path.write_text(
        "# a quad and a triangle\n"
        "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0 1 1 1\nv 0 0 1 1 1 1\n"
        "f 1 2 3 4\nf 1 2 5\n"
    )
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 5 and len(scene.faces) == 3  # the quad is split into two triangles
    np.testing.assert_array_equal(scene.rgb[:3], [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    np.testing.assert_allclose(scene.xyz[4], [0, 0, 1])
    assert report.colour_scale != "missing"


def test_obj_keeps_the_file_vertex_order_with_texture_coordinates(tmp_path: Path) -> None:
    """Faces that give a vertex different texture coordinates must not copy it: exports are per vertex."""
    path = tmp_path / "uv.obj"
    path.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0.5 0.5\nvn 0 0 1\n"
        "f 1/1/1 2/2/1 3/3/1\nf 3/4/1 4/1/1 1/2/1\n"
    )
    scene = load_scene(path)
    np.testing.assert_allclose(scene.xyz, [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2], [2, 3, 0]])


def test_obj_faces_in_every_corner_form_with_relative_indices_and_polygons(tmp_path: Path) -> None:
    path = tmp_path / "forms.obj"
    path.write_bytes(
        b"# exported\r\nmtllib room.mtl\r\no part\r\n"
        b"v 0 0 0\r\nv 1 0 0   # inline comment\r\nvt 0 1\r\nvn 0 0 1\r\n  v 1 1 0\r\n"
        b"v 0 1 \\\r\n 0\r\n"  # a statement continued on the next line
        b"g one\r\nusemtl wood\r\ns off\r\n"
        b"f 1/1/1 2//1 3/1 -1\r\n"  # a quad: two fan triangles; -1 is the fourth vertex
        b"l 1 2\r\n"
        b"v 0 0 1\r\nv 1 0 1\r\nv 1 1 1\r\nv 0 1 1\r\nv 0.5 0.5 1.5\r\n"
        b"f -5/1 -4/1 -3/1 -2/1 -1/1\r\n"  # a pentagon after more vertices: counted back from them
        b"f\t5\t6\t9\r\n"
    )
    scene = load_scene(path)
    assert scene.num_points == 9
    np.testing.assert_allclose(scene.xyz[3], [0, 1, 0])
    np.testing.assert_array_equal(
        scene.faces, [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7], [4, 7, 8], [4, 5, 8]]
    )


def test_obj_numbers_read_as_python_reads_them(tmp_path: Path) -> None:
    """Up to 15 significant digits exactly as float(); 17-digit reprs within one float64 unit (and
    equal once float32, as the scene keeps them)."""
    rng = np.random.default_rng(3)
    values = np.concatenate(
        [rng.normal(0, 10, 300), rng.normal(0, 1e-4, 60), rng.normal(0, 1e5, 60), [0.0, -0.0, 1.0, 255.0]]
    ).tolist()
    short = ["{:.8f}", "{:e}", "{:+.3E}", "{:.0f}.", "{:.15g}"]
    long = ["{!r}", "{:.17g}"]
    path = tmp_path / "numbers.obj"
    from beep3d.io.obj import read_obj

    for forms, rtol in ((short, 0.0), (long, 2.3e-16)):
        words = [form.format(value) for value in values for form in forms]
        words = words[: len(words) // 3 * 3]
        path.write_text("".join(f"v {a} {b} {c}\n" for a, b, c in zip(*[iter(words)] * 3, strict=True)))
        vertices, faces, colours, _ = read_obj(path)
        expected = np.array([float(word) for word in words])
        np.testing.assert_allclose(vertices.ravel(), expected, rtol=rtol, atol=0)
        np.testing.assert_array_equal(vertices.ravel().astype(np.float32), expected.astype(np.float32))
        assert len(faces) == 0 and colours is None
    path.write_text("v 1e300 -2.5e-300 123456789012345678901234567\nv 1e400 1e-400 .5\n")
    vertices, _, _, _ = read_obj(path)
    np.testing.assert_allclose(vertices[0], [1e300, -2.5e-300, 1.2345678901234568e26], rtol=1e-15)
    np.testing.assert_array_equal(vertices[1], [np.inf, 0.0, 0.5])


def test_obj_non_finite_vertices_are_dropped_or_refused_as_in_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "nan.obj"
    path.write_text("v 0 0 0\nv NaN 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 -inf\nf 1 3 4\n")
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 3 and report.dropped_non_finite == 2
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2]])
    with pytest.raises(Beep3dError, match="2 of 5 points have NaN"):
        load_scene(path, nan_policy="refuse")


def test_obj_colours_as_floats_or_bytes_and_partial_colours(tmp_path: Path) -> None:
    floats = tmp_path / "floats.obj"
    floats.write_text("v 0 0 0 1 0.5 0\nv 1 0 0 0 0 1 1\nv 0 1 0 0.2 0.2 0.2\nf 1 2 3\n")
    scene, report = load_scene_with_report(floats)
    assert report.colour_scale == "0..1"
    np.testing.assert_array_equal(scene.rgb[:2], [[255, 128, 0], [0, 0, 255]])
    bytes_ = tmp_path / "bytes.obj"
    bytes_.write_text("v 0 0 0 255 128 0\nv 1 0 0 0 0 255\nv 0 1 0 9 9 9\nf 1 2 3\n")
    scene, report = load_scene_with_report(bytes_)
    assert report.colour_scale == "0..255"
    np.testing.assert_array_equal(scene.rgb[:2], [[255, 128, 0], [0, 0, 255]])
    partial = tmp_path / "partial.obj"
    partial.write_text("v 0 0 0 1 0 0\nv 1 0 0\nv 0 1 0 1.0\nf 1 2 3\n")
    scene, report = load_scene_with_report(partial)
    assert report.colour_scale == "missing" and scene.num_points == 3
    assert any("only some" in note for note in report.notes)


def test_obj_reads_what_trimesh_reads(tmp_path: Path) -> None:
    """An independent reader: trimesh's, on a mesh with colours, quads exported as triangles."""
    trimesh = pytest.importorskip("trimesh")
    rng = np.random.default_rng(5)
    xyz = rng.normal(0, 3, (300, 3))
    faces = rng.integers(0, 300, (500, 3))
    rgb = rng.integers(0, 256, (300, 4)).astype(np.uint8)
    mesh = trimesh.Trimesh(xyz, faces, vertex_colors=rgb, process=False)
    path = tmp_path / "exported.obj"
    path.write_text(mesh.export(file_type="obj"))
    theirs = trimesh.load(str(path), force="mesh", process=False, maintain_order=True)
    scene = load_scene(path)
    np.testing.assert_allclose(scene.xyz, np.asarray(theirs.vertices, dtype=np.float32))
    np.testing.assert_array_equal(scene.faces, theirs.faces)
    np.testing.assert_array_equal(scene.rgb, np.asarray(theirs.visual.vertex_colors)[:, :3])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"v 0 0 0\nv 1 0 0\nv 1,5 0 0\n", ("line 3", "not a number", "1,5")),
        (b"v 0 0 0\n# note\nv 1 0\n", ("line 3", "2 values")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1 1 1\n", ("line 3", "5 values")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1e\n", ("line 3", "not a number")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1\n\nf 1 2\n", ("line 5", "2 corners")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1\nf 1 2 0\n", ("line 4", "index 0")),
        (b"v 0 0 0\nv 1 0 0\nf 1 2 -3\nv 1 1 1\n", ("line 3", "vertex -3", "only 2 vertices")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1\nf 1 2 3.0\n", ("line 4", "not a vertex index")),
        (b"v 0 0 0\nv 1 0 0\nv 1 1 1\nf 1 2 three\n", ("line 4", "not a vertex index")),
    ],
)
def test_a_malformed_obj_line_is_refused_with_its_line_number(
    tmp_path: Path, content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / "bad.obj"
    path.write_bytes(content)
    expect_error(path, *words)


def test_off_mesh(tmp_path: Path) -> None:
    path = tmp_path / "box.off"
    path.write_text("OFF\n4 2 0\n0 0 0\n2 0 0\n2 1 0\n0 1 0\n3 0 1 2\n3 0 2 3\n")
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_allclose(scene.xyz[1], [2, 0, 0])


def test_coff_with_colours_comments_and_a_quad(tmp_path: Path) -> None:
    path = tmp_path / "room.off"
    path.write_text(
        "COFF # coloured\n5 2 0\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n1 1 0 0 0 255 255\n"
        "0 1 0 9 9 9 255\n0 0 1 1 1 1 255\n4 0 1 2 3\n3 0 1 4 200 200 200\n"
    )
    scene, report = load_scene_with_report(path)
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2], [0, 2, 3], [0, 1, 4]])
    np.testing.assert_array_equal(scene.rgb[:3], [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    assert report.colour_scale == "0..255"


def test_glb_mesh_gets_its_node_transform(tmp_path: Path) -> None:
    trimesh = pytest.importorskip("trimesh")
    mesh = trimesh.Trimesh(
        vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0]],
        faces=[[0, 1, 2]],
        vertex_colors=[[255, 0, 0, 255]] * 3,
        process=False,
    )
    shifted = trimesh.Scene()
    shifted.add_geometry(mesh, transform=trimesh.transformations.translation_matrix([5.0, 0.0, 0.0]))
    path = tmp_path / "scan.glb"
    path.write_bytes(shifted.export(file_type="glb"))
    scene = load_scene(path)
    np.testing.assert_allclose(scene.xyz, [[5, 0, 0], [6, 0, 0], [5, 1, 0]], atol=1e-6)
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2]])
    np.testing.assert_array_equal(scene.rgb, [[255, 0, 0]] * 3)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("faces.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", ("line 4", "vertex 9", "3 vertices")),
        ("nothing.obj", b"# no vertices\nusemtl x\n", ("no vertices",)),
        ("junk.off", b"COFF?\n" + bytes(range(256)), ("not an OFF mesh",)),
        ("counts.off", b"OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", ("declares 4", "truncated")),
        ("face.off", b"OFF 3 1 0\n0 0 0\n1 0 0\n0 1 0\n2 0 1\n", ("line 5", "k >= 3")),
        ("vertex.off", b"OFF\n3 1 0\n0 0 0\n1 0\n0 1 0\n3 0 1 2\n", ("vertices", "line 4")),
        ("index.off", b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", ("vertex 7",)),
        ("not.off", b"ply\nformat ascii 1.0\n", ("not an OFF file",)),
        ("truncated.glb", b"glTF\x02\x00\x00\x00" + bytes(30), ("could not be read",)),
        ("not.glb", b"PK\x03\x04" + bytes(40), ("not a GLB file",)),
    ],
)
def test_broken_meshes_get_one_clean_error(
    tmp_path: Path, name: str, content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    expect_error(path, *words)
