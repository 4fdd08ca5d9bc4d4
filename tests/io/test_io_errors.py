"""Bad input to load_scene: every case raises Beep3dError naming the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.io import load_scene, write_ply


def expect_error(path: Path, *problem_words: str, **kwargs: object) -> str:
    """Load ``path``; assert a Beep3dError whose message names the path and the problem."""
    with pytest.raises(Beep3dError) as caught:
        load_scene(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message, message
    for word in problem_words:
        assert word.lower() in message.lower(), message
    return message


def ply_header(*lines: str, fmt: str = "binary_little_endian") -> bytes:
    return ("\n".join(["ply", f"format {fmt} 1.0", *lines, "end_header"]) + "\n").encode()


XYZ_HEADER = ("element vertex 4", "property float x", "property float y", "property float z")


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nowhere.ply", "no such file")


def test_folder_of_no_known_layout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    expect_error(tmp_path, "no known scene layout")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "scan.dxf"
    path.write_text("0\nSECTION\n")
    expect_error(path, "unknown scene file type", ".dxf")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ply"
    path.write_bytes(b"")
    expect_error(path, "empty")


def test_not_a_ply(tmp_path: Path) -> None:
    path = tmp_path / "fake.ply"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    expect_error(path, "not a PLY file")


def test_broken_ply_header(tmp_path: Path) -> None:
    path = tmp_path / "header.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex many\nend_header\n")
    expect_error(path, "header is invalid")


def test_ply_without_vertex_element(tmp_path: Path) -> None:
    path = tmp_path / "novertex.ply"
    path.write_bytes(ply_header("element camera 1", "property float fx") + np.float32(1).tobytes())
    expect_error(path, "no 'vertex' element")


def test_ply_with_zero_vertices(tmp_path: Path) -> None:
    path = tmp_path / "zero.ply"
    path.write_bytes(
        ply_header("element vertex 0", "property float x", "property float y", "property float z")
    )
    expect_error(path, "no points")


def test_ply_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "noxyz.ply"
    path.write_bytes(ply_header("element vertex 2", "property float a", "property float b") + bytes(16))
    expect_error(path, "no x/y/z coordinate")


def test_truncated_binary_body(tmp_path: Path) -> None:
    path = tmp_path / "truncated.ply"
    path.write_bytes(ply_header(*XYZ_HEADER) + bytes(4 * 12 - 5))
    expect_error(path, "truncated")


def test_list_property_where_coordinates_should_be(tmp_path: Path) -> None:
    path = tmp_path / "listx.ply"
    body = b"".join(
        np.uint8(1).tobytes() + np.float32(i).tobytes() + np.float32(0).tobytes() * 2 for i in range(4)
    )
    header = ply_header(
        "element vertex 4", "property list uchar float x", "property float y", "property float z"
    )
    path.write_bytes(header + body)
    expect_error(path, "'x' is a list")


def test_string_typed_property(tmp_path: Path) -> None:
    path = tmp_path / "string.ply"
    path.write_bytes(
        ply_header("element vertex 1", "property string x", "property float y", "property float z")
    )
    expect_error(path, "header is invalid")


def test_face_index_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "faces.ply"
    write_ply(path, np.zeros((3, 3), np.float32), None, faces=np.array([[0, 1, 2]]))
    data = bytearray(path.read_bytes())
    data[-4:] = np.int32(7).tobytes()  # last corner of the only face -> vertex 7 of 3
    path.write_bytes(bytes(data))
    expect_error(path, "vertex 7", "3 vertices")


def test_non_finite_coordinates_refused(tmp_path: Path) -> None:
    xyz = np.zeros((5, 3), np.float32)
    xyz[1, 1] = np.nan
    xyz[4, 0] = -np.inf
    path = tmp_path / "nan.ply"
    write_ply(path, xyz, None)
    message = expect_error(path, "2 of 5 points", "NaN", nan_policy="refuse")
    assert "nan_policy='drop'" in message


def test_all_points_non_finite(tmp_path: Path) -> None:
    path = tmp_path / "allnan.npy"
    np.save(path, np.full((3, 3), np.nan, np.float32))
    expect_error(path, "all 3 points")


def test_npz_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "nocoords.npz"
    np.savez(path, colors=np.zeros((3, 3), np.uint8))
    expect_error(path, "no coordinates", "xyz")


def test_npz_per_point_array_of_wrong_length(tmp_path: Path) -> None:
    path = tmp_path / "badlabels.npz"
    np.savez(path, xyz=np.zeros((4, 3), np.float32), instance=np.zeros(3, np.int64))
    expect_error(path, "'instance'", "4 points")


def test_npy_of_wrong_shape(tmp_path: Path) -> None:
    path = tmp_path / "flat.npy"
    np.save(path, np.zeros(12, np.float32))
    expect_error(path, "shape (12,)")


def test_pickled_npy_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npy"
    np.save(path, np.array([{"xyz": [0, 0, 0]}], dtype=object), allow_pickle=True)
    expect_error(path, "pickle", "never loads")


def test_pickled_npz_member_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, xyz=np.array([None, {"a": 1}], dtype=object))
    expect_error(path, "pickle")


def test_truncated_npz(tmp_path: Path) -> None:
    path = tmp_path / "cut.npz"
    np.savez(path, xyz=np.zeros((100, 3), np.float32))
    path.write_bytes(path.read_bytes()[:60])
    expect_error(path, "could not be read")


def test_bin_of_wrong_size(tmp_path: Path) -> None:
    path = tmp_path / "points.bin"
    np.zeros(10, np.float32).tofile(path)
    expect_error(path, "not a multiple of 24")


def make_scannet(root: Path, seg_indices: list[int], aggregation: str) -> Path:
    folder = root / "scene0001_00"
    folder.mkdir()
    write_ply(
        folder / "scene0001_00_vh_clean_2.ply", np.zeros((4, 3), np.float32), np.zeros((4, 3), np.uint8)
    )
    (folder / "scene0001_00_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"segIndices": seg_indices})
    )
    (folder / "scene0001_00.aggregation.json").write_text(aggregation)
    return folder


def test_scannet_segments_do_not_match_vertex_count(tmp_path: Path) -> None:
    folder = make_scannet(tmp_path, [0, 0, 1], json.dumps({"segGroups": []}))
    with pytest.raises(Beep3dError) as caught:
        load_scene(folder)
    message = str(caught.value)
    assert "segs.json" in message and "3 entries" in message and "4 vertices" in message


def test_scannet_malformed_aggregation_json(tmp_path: Path) -> None:
    folder = make_scannet(tmp_path, [0, 0, 1, 1], '{"segGroups": [ {"objectId": 0, ')
    with pytest.raises(Beep3dError) as caught:
        load_scene(folder)
    message = str(caught.value)
    assert "aggregation.json" in message and "not valid JSON" in message


def test_scannet_aggregation_group_without_segments(tmp_path: Path) -> None:
    folder = make_scannet(
        tmp_path, [0, 0, 1, 1], json.dumps({"segGroups": [{"objectId": 0, "label": "chair"}]})
    )
    with pytest.raises(Beep3dError) as caught:
        load_scene(folder)
    message = str(caught.value)
    assert "aggregation.json" in message and "segGroups[0]" in message


def test_s3dis_annotation_with_a_bad_line(tmp_path: Path) -> None:
    annotations = tmp_path / "office_1" / "Annotations"
    annotations.mkdir(parents=True)
    (annotations / "chair_1.txt").write_text("0 0 0 1 2 3\n1 1 1 4 5 6\n")
    bad = annotations / "table_1.txt"
    bad.write_text("0 0 0 1 2 3\n1.0 2.0 3.0\x10 10 10 10\n")
    with pytest.raises(Beep3dError) as caught:
        load_scene(tmp_path / "office_1")
    message = str(caught.value)
    assert str(bad) in message and "line 2 is not 'x y z r g b'" in message
