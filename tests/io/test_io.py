"""Scene loading and writing: round trips, every supported layout, and the shared real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plyfile
import pytest

from beep3d.classes import S3DIS13
from beep3d.io import load_scene, load_scene_with_report, save_scene_folder, write_ply
from beep3d.scene import Scene
from tests.conftest import shared_file as shared


def random_cloud(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-3, 3, (n, 3)).astype(np.float32), rng.integers(0, 256, (n, 3), dtype=np.uint8)


def write_ascii_ply(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> None:
    lines = ["ply", "format ascii 1.0", f"element vertex {len(xyz)}"]
    lines += ["property float x", "property float y", "property float z"]
    lines += ["property uchar red", "property uchar green", "property uchar blue", "end_header"]
    lines += [
        f"{x!r} {y!r} {z!r} {r} {g} {b}"
        for (x, y, z), (r, g, b) in zip(xyz.tolist(), rgb.tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def write_plyfile(path: Path, vertex: np.ndarray, byte_order: str = "<", text: bool = False) -> None:
    plyfile.PlyData([plyfile.PlyElement.describe(vertex, "vertex")], text=text, byte_order=byte_order).write(
        str(path)
    )


# --- PLY ------------------------------------------------------------------------------------------


def test_write_ply_round_trip_keeps_xyz_rgb_and_extra_properties(tmp_path: Path) -> None:
    xyz, rgb = random_cloud()
    confidence = np.linspace(0, 1, len(xyz)).astype(np.float32)
    flags = (np.arange(len(xyz)) % 3).astype(np.int16)
    path = tmp_path / "cloud.ply"
    write_ply(path, xyz, rgb, {"confidence": confidence, "flags": flags})
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.xyz, xyz)
    np.testing.assert_array_equal(scene.rgb, rgb)
    np.testing.assert_array_equal(scene.extra["confidence"], confidence)
    np.testing.assert_array_equal(scene.extra["flags"], flags)
    assert scene.extra["flags"].dtype == np.int16
    assert scene.name == "cloud" and scene.source == path
    assert scene.faces is None and scene.instance is None


def test_write_ply_labels_are_read_back_as_instance_and_semantic(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(50)
    instance = np.repeat(np.arange(5), 10) - 1  # -1 survives
    semantic = np.full(50, 5, dtype=np.int64)
    path = tmp_path / "labels.ply"
    write_ply(path, xyz, rgb, {"instance": instance, "nyu40": semantic, "sem20": np.ones(50, np.int16)})
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.instance, instance)
    np.testing.assert_array_equal(scene.semantic, semantic)
    assert scene.label_space == "nyu40"
    assert set(scene.extra) == {"sem20"}


def test_ascii_and_binary_ply_give_the_same_scene(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(100)
    write_ascii_ply(tmp_path / "a.ply", xyz, rgb)
    write_ply(tmp_path / "b.ply", xyz, rgb)
    ascii_scene, binary_scene = load_scene(tmp_path / "a.ply"), load_scene(tmp_path / "b.ply")
    np.testing.assert_array_equal(ascii_scene.xyz, binary_scene.xyz)
    np.testing.assert_array_equal(ascii_scene.rgb, binary_scene.rgb)


def test_big_endian_double_xyz_and_ushort_colours(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(64)
    vertex = np.empty(
        64, dtype=[("x", ">f8"), ("y", ">f8"), ("z", ">f8"), ("r", ">u2"), ("g", ">u2"), ("b", ">u2")]
    )
    for i, axis in enumerate("xyz"):
        vertex[axis] = xyz[:, i].astype(np.float64) + 0.125
    for i, channel in enumerate("rgb"):
        vertex[channel] = rgb[:, i].astype(np.uint16) * 257
    path = tmp_path / "big.ply"
    write_plyfile(path, vertex, byte_order=">")
    scene, report = load_scene_with_report(path)
    assert scene.xyz.dtype == np.float32
    np.testing.assert_allclose(scene.xyz, xyz + 0.125, rtol=1e-6)
    np.testing.assert_array_equal(scene.rgb, rgb)
    assert report.colour_scale == "0..65535"


def test_float_colours_in_0_1_are_scaled_and_normals_read(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(30)
    names = ["x", "y", "z", "red", "green", "blue", "nx", "ny", "nz"]
    vertex = np.zeros(30, dtype=[(name, "<f4") for name in names])
    for i, axis in enumerate("xyz"):
        vertex[axis] = xyz[:, i]
    for i, channel in enumerate(("red", "green", "blue")):
        vertex[channel] = rgb[:, i] / 255.0
    vertex["nz"] = 1.0
    path = tmp_path / "float_rgb.ply"
    write_plyfile(path, vertex)
    scene, report = load_scene_with_report(path)
    assert report.colour_scale == "0..1"
    np.testing.assert_array_equal(scene.rgb, rgb)
    np.testing.assert_array_equal(scene.normals[:, 2], np.ones(30, np.float32))


def test_missing_colours_are_mid_grey(tmp_path: Path) -> None:
    vertex = np.zeros(5, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    path = tmp_path / "grey.ply"
    write_plyfile(path, vertex)
    scene, report = load_scene_with_report(path)
    assert report.colour_scale == "missing"
    assert (scene.rgb == 128).all()


def test_mesh_faces_round_trip(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(10)
    faces = np.array([[0, 1, 2], [2, 3, 4], [7, 8, 9]])
    path = tmp_path / "mesh.ply"
    write_ply(path, xyz, rgb, faces=faces)
    scene = load_scene(path)
    assert scene.faces.dtype == np.int64
    np.testing.assert_array_equal(scene.faces, faces)


def test_mesh_with_quads_is_triangulated(tmp_path: Path) -> None:
    vertex = np.zeros(5, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    vertex["x"] = np.arange(5)
    face = np.empty(2, dtype=[("vertex_indices", "O")])
    face["vertex_indices"][0] = np.array([0, 1, 2, 3], dtype=np.int32)
    face["vertex_indices"][1] = np.array([1, 2, 4], dtype=np.int32)
    path = tmp_path / "quads.ply"
    plyfile.PlyData(
        [plyfile.PlyElement.describe(vertex, "vertex"), plyfile.PlyElement.describe(face, "face")]
    ).write(str(path))
    scene = load_scene(path)
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2], [0, 2, 3], [1, 2, 4]])


def test_non_finite_points_are_dropped_and_counted(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(20)
    xyz[3, 0] = np.nan
    xyz[7, 2] = np.inf
    path = tmp_path / "nan.ply"
    write_ply(path, xyz, rgb, {"tag": np.arange(20, dtype=np.int32)}, faces=np.array([[0, 1, 3], [4, 5, 6]]))
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 18
    assert report.dropped_non_finite == 2
    np.testing.assert_array_equal(scene.extra["tag"], np.delete(np.arange(20), [3, 7]))
    np.testing.assert_array_equal(scene.faces, [[3, 4, 5]])  # the face touching point 3 is gone


# --- arrays ----------------------------------------------------------------------------------------


def test_npy_with_and_without_colours(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(40)
    np.save(tmp_path / "xyz.npy", xyz)
    np.save(tmp_path / "xyzrgb.npy", np.hstack([xyz, rgb.astype(np.float32)]))
    plain, with_colour = load_scene(tmp_path / "xyz.npy"), load_scene(tmp_path / "xyzrgb.npy")
    np.testing.assert_array_equal(plain.xyz, xyz)
    assert (plain.rgb == 128).all()
    np.testing.assert_array_equal(with_colour.rgb, rgb)


def test_npz_with_alternative_keys_and_labels(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(40)
    superpoints = np.repeat([10, 30, 20, 40], 10)
    np.savez(
        tmp_path / "s.npz",
        coord=xyz.astype(np.float64),
        color=rgb / 255.0,
        normals=np.tile([0, 0, 1.0], (40, 1)),
        superpoints=superpoints,
        semantic_ids=np.full(40, 5),
        instance_ids=np.repeat([0, 1], 20),
    )
    scene, report = load_scene_with_report(tmp_path / "s.npz")
    np.testing.assert_array_equal(scene.xyz, xyz)
    np.testing.assert_array_equal(scene.rgb, rgb)
    assert report.colour_scale == "0..1"
    np.testing.assert_array_equal(scene.superpoints, np.repeat([0, 2, 1, 3], 10))  # made dense
    np.testing.assert_array_equal(scene.instance, np.repeat([0, 1], 20))
    assert scene.label_space == "nyu40"


def test_bin_float32_rows(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(33)
    np.hstack([xyz, rgb.astype(np.float32)]).astype("<f4").tofile(tmp_path / "points.bin")
    scene = load_scene(tmp_path / "points.bin")
    np.testing.assert_array_equal(scene.xyz, xyz)
    np.testing.assert_array_equal(scene.rgb, rgb)


# --- folders ---------------------------------------------------------------------------------------


def test_save_scene_folder_round_trip(tmp_path: Path) -> None:
    xyz, rgb = random_cloud(30)
    scene = Scene(
        xyz=xyz,
        rgb=rgb,
        normals=np.tile(np.float32([0, 0, 1]), (30, 1)),
        faces=np.array([[0, 1, 2]]),
        superpoints=np.arange(30) // 10,
        semantic=np.full(30, 7),
        instance=np.arange(30) // 15,
        label_space="s3dis",
        extra={"confidence": np.linspace(0, 1, 30)},
        name="office",
    )
    folder = tmp_path / "saved"
    save_scene_folder(scene, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["scene.npz"]  # no temporary file left
    loaded = load_scene(folder)
    for attr in ("xyz", "rgb", "normals", "faces", "superpoints", "semantic", "instance"):
        np.testing.assert_array_equal(getattr(loaded, attr), getattr(scene, attr))
    np.testing.assert_array_equal(loaded.extra["confidence"], scene.extra["confidence"])
    assert loaded.label_space == "s3dis" and loaded.name == "office" and loaded.source == folder


def test_save_scene_folder_writes_boxes_beside_the_scene(tmp_path: Path) -> None:
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io.box_files import load_boxes

    xyz, rgb = random_cloud(10)
    boxes = BoxSet([Box(4, "chair", (0.0, 0.0, 0.5), (1.0, 1.0, 1.0), 0.3)])
    folder = save_scene_folder(Scene(xyz=xyz, rgb=rgb, name="room"), tmp_path / "room", boxes=boxes)
    assert load_boxes(folder / "boxes.json") == boxes
    assert load_scene(folder).num_points == 10


def make_scannet_folder(root: Path, scene_id: str = "scene0999_00", *, with_map: bool = True) -> Path:
    """A tiny ScanNet scene: 12 vertices, 4 segments (ids 5, 9, 2, 7), 2 objects."""
    folder = root / scene_id
    folder.mkdir(parents=True)
    xyz, rgb = random_cloud(12, seed=3)
    alpha = np.full(12, 255, dtype=np.uint8)
    write_ply(
        folder / f"{scene_id}_vh_clean_2.ply",
        xyz,
        rgb,
        {"alpha": alpha},
        faces=np.array([[0, 1, 2], [3, 4, 5]]),
    )
    seg_indices = [5, 5, 5, 9, 9, 9, 2, 2, 2, 7, 7, 7]
    (folder / f"{scene_id}_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"params": {}, "sceneId": scene_id, "segIndices": seg_indices})
    )
    groups = [
        {"id": 0, "objectId": 0, "segments": [5, 9], "label": "office chair"},
        {"id": 1, "objectId": 1, "segments": [2], "label": "table"},
    ]
    (folder / f"{scene_id}.aggregation.json").write_text(
        json.dumps({"sceneId": scene_id, "segGroups": groups})
    )
    if with_map:
        (root / "scannetv2-labels.combined.tsv").write_text(
            "id\traw_category\tcategory\tcount\tnyu40id\n1\toffice chair\tchair\t10\t5\n2\ttable\ttable\t10\t7\n"
        )
    return folder


def test_scannet_folder_with_label_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEEP3D_SCANNET_LABEL_MAP", raising=False)
    folder = make_scannet_folder(tmp_path)
    scene, report = load_scene_with_report(folder)
    assert scene.name == "scene0999_00" and scene.num_points == 12
    np.testing.assert_array_equal(scene.superpoints, [1, 1, 1, 3, 3, 3, 0, 0, 0, 2, 2, 2])
    np.testing.assert_array_equal(scene.instance, [0] * 6 + [1] * 3 + [-1] * 3)
    np.testing.assert_array_equal(scene.semantic, [5] * 6 + [7] * 3 + [-1] * 3)
    assert scene.label_space == "nyu40"
    np.testing.assert_array_equal(scene.faces, [[0, 1, 2], [3, 4, 5]])
    assert "alpha" in scene.extra
    assert report.notes == []


def test_scannet_folder_without_label_map_matches_class_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BEEP3D_SCANNET_LABEL_MAP", raising=False)
    folder = make_scannet_folder(tmp_path, with_map=False)
    scene, report = load_scene_with_report(folder)
    np.testing.assert_array_equal(scene.semantic, [-1] * 6 + [7] * 3 + [-1] * 3)  # "office chair" is unknown
    assert any("scannetv2-labels.combined.tsv" in note for note in report.notes)
    assert any("office chair" in note for note in report.notes)


def test_scannet_label_map_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_scannet_folder(tmp_path / "scans", with_map=False)
    table = tmp_path / "elsewhere.tsv"
    table.write_text("raw_category\tnyu40id\noffice chair\t5\ntable\t14\n")
    monkeypatch.setenv("BEEP3D_SCANNET_LABEL_MAP", str(table))
    scene = load_scene(folder)
    np.testing.assert_array_equal(scene.semantic, [5] * 6 + [14] * 3 + [-1] * 3)


def write_annotation(folder: Path, name: str, rows: np.ndarray) -> None:
    np.savetxt(folder / f"{name}.txt", rows, fmt="%.3f %.3f %.3f %d %d %d")


def test_s3dis_room(tmp_path: Path) -> None:
    room = tmp_path / "office_1"
    (room / "Annotations").mkdir(parents=True)
    rng = np.random.default_rng(1)

    def rows(n: int) -> np.ndarray:
        return np.hstack([rng.uniform(0, 3, (n, 3)), rng.integers(0, 256, (n, 3))])

    write_annotation(room / "Annotations", "chair_10", rows(4))
    write_annotation(room / "Annotations", "chair_2", rows(3))
    write_annotation(room / "Annotations", "stairs_1", rows(2))
    write_annotation(room / "Annotations", "table_1", rows(5))
    scene, report = load_scene_with_report(room)
    assert scene.num_points == 14 and scene.label_space == "s3dis" and scene.name == "office_1"
    chair, clutter, table = (S3DIS13.names.index(c) for c in ("chair", "clutter", "table"))
    # natural order: chair_2, chair_10, stairs_1, table_1
    np.testing.assert_array_equal(scene.instance, [0] * 3 + [1] * 4 + [2] * 2 + [3] * 5)
    np.testing.assert_array_equal(scene.semantic, [chair] * 7 + [clutter] * 2 + [table] * 5)
    assert any("stairs" in note for note in report.notes)


def test_s3dis_room_file_without_annotations(tmp_path: Path) -> None:
    room = tmp_path / "hallway_2"
    room.mkdir()
    write_annotation(room, "hallway_2", np.array([[0, 0, 0, 1, 2, 3], [1, 1, 1, 4, 5, 6]]))
    scene = load_scene(room)
    assert scene.num_points == 2 and scene.instance is None
    np.testing.assert_array_equal(scene.rgb, [[1, 2, 3], [4, 5, 6]])


# --- the real samples in ../shared/data ----------------------------------------------------------


def test_real_scannet_labeled_ply() -> None:
    scene = load_scene(shared("scannet_scene0423_00/scene0423_00_labeled.ply"))
    assert scene.num_points == 53_074
    assert scene.label_space == "nyu40"
    assert len(np.unique(scene.instance[scene.instance >= 0])) == 6
    assert 2 in scene.semantic and 5 in scene.semantic  # floor, chairs
    assert "sem20" in scene.extra
    assert scene.rgb.std() > 10  # real colours, not the grey fallback


def test_real_labelcloud_double_ply() -> None:
    scene, report = load_scene_with_report(shared("labelcloud_example/exemplary.ply"))
    assert scene.num_points == 86_357 and scene.xyz.dtype == np.float32
    assert report.colour_scale == "0..255"
    assert np.isfinite(scene.xyz).all()


def test_real_mmdet3d_scannet_bin() -> None:
    scene, report = load_scene_with_report(shared("mmdet3d_samples/demo/data/scannet/scene0000_00.bin"))
    assert scene.num_points == 40_684
    assert report.colour_scale == "0..255"


def test_real_sunrgbd_bin_colours_in_0_1_are_detected() -> None:
    scene, report = load_scene_with_report(shared("mmdet3d_samples/demo/data/sunrgbd/000017.bin"))
    assert scene.num_points == 50_000
    assert report.colour_scale == "0..1"
    assert scene.rgb.max() > 200
