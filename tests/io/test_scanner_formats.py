"""Scanner formats: LAS / LAZ and E57, each file built in the test, read back through
:func:`beep3d.io.load_scene`, and damaged (the other scan formats: ``test_scan_formats.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from beep3d.io import load_scene, load_scene_with_report
from beep3d.io.las import write_las
from tests.io.scan_helpers import cloud, expect_error

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
