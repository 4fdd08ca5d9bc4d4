"""Georeferenced scans (a LAS file in UTM): held relative to a local origin, written back in the
file's own coordinates, so millimetres survive and other programs see the boxes where the scan is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.cli.annotate import main as headless_main
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import load_scene, load_scene_with_report, write_ply
from beep3d.io.box_files import load_boxes, save_boxes
from beep3d.io.box_formats import BOX_FORMATS, save_boxes_as

#: A room 512 km east and 5,403 km north (UTM), 250 m above the datum.
UTM = np.array([512_345.0, 5_403_210.0, 250.0])


def room(n: int = 3000, seed: int = 0) -> np.ndarray:
    xyz = np.random.default_rng(seed).uniform([0, 0, 0], [4, 4, 2.5], (n, 3))
    xyz[:2] = [[1.0, 1.0, 1.0], [1.001, 1.0, 1.0]]  # two points a millimetre apart
    return np.round(xyz, 3)


def write_utm_las(path: Path, xyz: np.ndarray, offset: np.ndarray = UTM) -> Path:
    import laspy

    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales, header.offsets = [0.001] * 3, list(np.floor(offset))
    las = laspy.LasData(header)
    las.x, las.y, las.z = (xyz + offset).T
    las.write(str(path))
    return path


def test_a_utm_scan_opens_relative_to_a_round_origin_keeping_millimetres(tmp_path: Path) -> None:
    xyz = room()
    scene, report = load_scene_with_report(write_utm_las(tmp_path / "scan.las", xyz))
    assert scene.origin == (512_000.0, 5_403_000.0, 0.0)  # whole kilometres; z of 250 m stays
    assert scene.shifted
    assert np.abs(scene.xyz - (xyz + UTM - scene.origin)).max() < 1e-4
    assert len(np.unique(scene.xyz, axis=0)) == len(np.unique(xyz, axis=0))  # 1 mm apart stays apart
    assert np.abs(scene.file_xyz() - (xyz + UTM)).max() < 1e-3
    assert any("georeferenced" in note and "512,000" in note for note in report.notes)


def test_a_scan_near_the_origin_is_not_shifted(tmp_path: Path) -> None:
    path = tmp_path / "room.ply"
    write_ply(path, room().astype(np.float32), np.zeros((3000, 3), np.uint8))
    scene = load_scene(path)
    assert scene.origin == (0.0, 0.0, 0.0) and not scene.shifted
    assert scene.file_xyz() is scene.xyz


def test_a_utm_scan_with_a_stray_point_is_shifted_and_drops_the_stray(tmp_path: Path) -> None:
    """A scanner glitch far from the scan does not move the origin: the median point decides it."""
    xyz = room()
    path = tmp_path / "scan.las"
    write_utm_las(path, np.vstack([xyz, [[-400_000.0, -300_000.0, 0.0]]]))
    scene, report = load_scene_with_report(path)
    assert scene.origin == (512_000.0, 5_403_000.0, 0.0)
    assert scene.num_points == len(xyz) and report.dropped_far == 1


def test_32_bit_coordinates_far_out_are_refused_as_lost_in_the_file(tmp_path: Path) -> None:
    """A float PLY 512 km out stores 6 cm steps: shifting cannot restore them; saying so is honest.
    The same room 20 km out (2 mm steps in the file) opens, shifted."""
    far = tmp_path / "far.ply"
    write_ply(far, (room() + UTM).astype(np.float32), np.zeros((3000, 3), np.uint8))
    with pytest.raises(Beep3dError, match=r"32-bit floats.*merged in the file itself.*64-bit"):
        load_scene(far)
    near = tmp_path / "near.ply"
    write_ply(near, (room() + [20_000.0, 0.0, 0.0]).astype(np.float32), np.zeros((3000, 3), np.uint8))
    scene = load_scene(near)
    assert scene.origin == (20_000.0, 0.0, 0.0)
    assert len(np.unique(scene.xyz, axis=0)) == 3000


def test_double_precision_ply_far_out_is_shifted(tmp_path: Path) -> None:
    path = tmp_path / "scan.ply"
    write_ply(path, room() + UTM, np.zeros((3000, 3), np.uint8))
    assert load_scene(path).origin == (512_000.0, 5_403_000.0, 0.0)


def test_box_files_of_every_format_hold_the_scans_own_coordinates(tmp_path: Path) -> None:
    scene = load_scene(write_utm_las(tmp_path / "scan.las", room()))
    local = BoxSet([Box(3, "chair", (346.5, 211.5, 250.6), (0.5, 0.4, 0.9))])  # box arrays hold no yaw
    for fmt in BOX_FORMATS:
        path = tmp_path / f"boxes_{fmt.name}{fmt.suffix}"
        save_boxes_as(path, local, fmt, scene_name="scan", origin=scene.origin)
        if fmt.name == "beep3d":
            stored = json.loads(path.read_text())["boxes"][0]["center"]
            assert stored == pytest.approx([512_346.5, 5_403_211.5, 250.6])
        back = load_boxes(path, origin=scene.origin)
        assert back[0].center == pytest.approx(local[0].center, abs=1e-6), fmt.name
        assert back[0].size == pytest.approx(local[0].size, abs=1e-6), fmt.name


def test_the_headless_export_reads_global_boxes_and_writes_the_files_coordinates(tmp_path: Path) -> None:
    """Boxes drawn by another tool on the UTM scan select the right points; the exported LAS, PLY
    and boxes.json are in UTM again; the training folder reopens with the same local points."""
    import laspy

    xyz = room()
    scan = write_utm_las(tmp_path / "scan.las", xyz)
    corner = UTM + [0.0, 0.0, 0.0]
    boxes = BoxSet([Box(1, "table", tuple(corner + [1.0, 1.0, 1.25]), (2.0, 2.0, 2.5))])
    save_boxes(tmp_path / "scan.boxes.json", boxes)  # the other tool's file: UTM, no origin
    out = tmp_path / "out"
    code = headless_main(
        [
            str(scan),
            "--boxes",
            str(tmp_path / "scan.boxes.json"),
            "--export",
            str(out),
            "--resolver",
            "smallest-box",
        ]
    )
    assert code == 0
    inside = (xyz[:, :2] <= 2.0).all(axis=1)  # boxes include their faces
    instance = np.load(out / "instance_ids.npy")
    assert np.array_equal(instance == 1, inside)
    written = laspy.read(str(out / "scan_labelled.las"))
    assert np.abs(np.c_[written.x, written.y, written.z] - (xyz + UTM)).max() < 1e-3
    assert np.array_equal(np.asarray(written["instance"]) == 1, inside)
    ply = load_scene(out / "scan_labelled.ply")
    assert np.abs(ply.file_xyz() - (xyz + UTM)).max() < 1e-3
    assert json.loads((out / "boxes.json").read_text())["boxes"][0]["center"] == pytest.approx(
        list(corner + [1.0, 1.0, 1.25])
    )
    training = load_scene(out / "training" / "scan")
    assert training.origin == (512_000.0, 5_403_000.0, 0.0)
    reread = load_boxes(out / "training" / "scan" / "boxes.json", origin=training.origin)
    assert reread[0].center == pytest.approx(tuple(corner + [1.0, 1.0, 1.25] - training.origin))


def test_32_bit_e57_and_glb_far_out_are_refused_but_an_e57_placed_by_its_pose_opens(tmp_path: Path) -> None:
    """pye57 and trimesh hand 32-bit coordinates over as 64-bit arrays: the readers know the file's
    precision. An E57 whose scan holds small single-precision coordinates and a UTM pose keeps them."""
    import pye57
    import trimesh

    xyz = room(500)
    far = pye57.E57(str(tmp_path / "far.e57"), mode="w")
    far.write_scan_raw({f"cartesian{a}": (xyz + UTM)[:, i].copy() for i, a in enumerate("XYZ")})
    far.close()
    trimesh.Trimesh(vertices=xyz + UTM, faces=[[0, 1, 2]], process=False).export(tmp_path / "far.glb")
    for name in ("far.e57", "far.glb"):
        with pytest.raises(Beep3dError, match=r"32-bit floats.*merged in the file itself"):
            load_scene(tmp_path / name)
    posed = pye57.E57(str(tmp_path / "posed.e57"), mode="w")
    posed.write_scan_raw(
        {f"cartesian{a}": xyz[:, i].copy() for i, a in enumerate("XYZ")},
        rotation=np.array([1.0, 0.0, 0.0, 0.0]),
        translation=UTM,
    )
    posed.close()
    scene = load_scene(tmp_path / "posed.e57")
    assert scene.origin == (512_000.0, 5_403_000.0, 0.0)
    assert np.abs(scene.file_xyz() - (xyz + UTM)).max() < 1e-3


def test_a_32_bit_box_array_far_out_is_refused_and_a_64_bit_one_reads(tmp_path: Path) -> None:
    rows = np.array([[*(UTM + [1.0, 1.0, 1.0]), 0.5, 0.4, 0.9, 5]])  # cx cy cz dx dy dz class (chair)
    np.save(tmp_path / "f32_bbox.npy", rows.astype(np.float32))
    with pytest.raises(Beep3dError, match=r"the boxes lie .* 32-bit floats"):
        load_boxes(tmp_path / "f32_bbox.npy")
    np.save(tmp_path / "f64_bbox.npy", rows)
    origin = (512_000.0, 5_403_000.0, 0.0)
    assert load_boxes(tmp_path / "f64_bbox.npy", origin=origin)[0].center == pytest.approx(
        (346.0, 211.0, 251.0)
    )


def test_rows_at_zero_in_a_utm_scan_are_dropped_as_missing_returns_not_blamed_on_units(
    tmp_path: Path,
) -> None:
    """Some scanner exports write (0, 0, 0) for a missing return: 2 % of such rows made a UTM scan
    "not in metres, or the wrong byte order"."""
    xyz = room() + UTM
    xyz[:60] = 0.0  # 2 %
    path = tmp_path / "scan.ply"
    write_ply(path, xyz, np.zeros((len(xyz), 3), np.uint8))
    scene, report = load_scene_with_report(path)
    assert scene.num_points == len(xyz) - 60 and report.dropped_far == 60
    assert any("60 points at (0, 0, 0)" in note and "missing return" in note for note in report.notes)
    assert not report.kept[:60].any() and report.kept[60:].all()
