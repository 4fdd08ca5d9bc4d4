"""Mesh formats: OBJ (the project's compiled parser), OFF and GLB, each file built in the test, read
back through :func:`beep3d.io.load_scene`, and damaged (the other scan formats: ``test_scan_formats.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.io import load_scene, load_scene_with_report
from tests.io.scan_helpers import expect_error

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
