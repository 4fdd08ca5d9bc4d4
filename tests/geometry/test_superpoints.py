"""Superpoints: graph segmentation rule, mesh and cloud graphs, purity, and the real ScanNet scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from beep3d.errors import Beep3dError
from beep3d.geometry.graph_segmentation import segment_graph, sort_edges_by_weight
from beep3d.geometry.superpoints import (
    compute_superpoints,
    edge_weights,
    knn_edges,
    knn_neighbours,
    mesh_edges,
    point_normals,
    superpoint_purity,
    vertex_normals,
)
from beep3d.scene import Scene
from tests.conftest import SHARED_DATA

REAL_SCENE = SHARED_DATA / "scannet_scene0423_00" / "scene0423_00_labeled.ply"


def grid_plane(n: int, spacing: float = 0.02) -> np.ndarray:
    """(n*n, 3) points of a flat square in the z = 0 plane."""
    u, v = np.meshgrid(np.arange(n) * spacing, np.arange(n) * spacing, indexing="ij")
    return np.stack([u.ravel(), v.ravel(), np.zeros(n * n)], axis=1)


def grid_edges(n: int, offset: int = 0) -> np.ndarray:
    """4-neighbour edges of an n x n grid whose vertex (i, j) is offset + i * n + j."""
    index = np.arange(n * n).reshape(n, n) + offset
    right = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    down = np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1)
    return np.concatenate([right, down])


# ------------------------------------------------------------------------------------- segment_graph
def test_flat_plane_is_one_segment() -> None:
    n = 10
    xyz = grid_plane(n)
    normals = np.tile([0.0, 0.0, 1.0], (n * n, 1))
    edges = grid_edges(n)
    labels = segment_graph(n * n, edges, edge_weights(xyz, normals, edges), min_size=1)
    assert labels.tolist() == [0] * (n * n)


def test_two_planes_at_a_right_angle_become_two_segments() -> None:
    # floor (z = 0, normal +z) meeting a wall (x = 0.2, normal -x, facing the floor): a concave edge
    n = 11
    floor = grid_plane(n)
    wall = np.stack([np.full(n * n, 0.2), grid_plane(n)[:, 1], grid_plane(n)[:, 0] + 0.02], axis=1)
    xyz = np.concatenate([floor, wall])
    normals = np.concatenate([np.tile([0.0, 0.0, 1.0], (n * n, 1)), np.tile([-1.0, 0.0, 0.0], (n * n, 1))])
    seam = np.stack(
        [np.arange(n) * n + (n - 1), n * n + np.arange(n)], axis=1
    )  # floor's x = 0.2 row to wall's bottom
    edges = np.concatenate([grid_edges(n), grid_edges(n, offset=n * n), seam])
    labels = segment_graph(2 * n * n, edges, edge_weights(xyz, normals, edges), min_size=5)
    assert len(np.unique(labels[: n * n])) == 1
    assert len(np.unique(labels[n * n :])) == 1
    assert labels[0] != labels[-1]


def test_weight_rule_squares_convex_edges_only() -> None:
    # p1 and p2 both 1 m along +x from p0; n1 leans away from p0 (convex, like the rim of a table top),
    # n2 leans back toward p0 (concave, like a floor meeting a wall); both at the same angle to n0
    xyz = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    normals = np.array([[0.0, 0.6, 0.8], [1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]) / np.array(
        [[1.0], [np.sqrt(2)], [np.sqrt(2)]]
    )
    weights = edge_weights(xyz, normals, np.array([[0, 1], [0, 2]]))
    one_minus_cosine = 1 - 0.8 / np.sqrt(2)
    np.testing.assert_allclose(weights, [one_minus_cosine**2, one_minus_cosine], rtol=1e-5)


def test_colour_term_adds_scaled_rgb_distance() -> None:
    xyz = np.zeros((2, 3))
    normals = np.tile([0.0, 0.0, 1.0], (2, 1))
    rgb = np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)
    weights = edge_weights(xyz, normals, np.array([[0, 1]]), rgb, colour_weight=0.5)
    np.testing.assert_allclose(weights, [0.5], rtol=1e-6)


def test_small_segments_merge_into_a_neighbour() -> None:
    # a chain 0-1-2-3-4-5 with one strong edge 2-3: two segments of 3; with min_size 4 they merge
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    weights = np.array([0.0, 0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    assert segment_graph(6, edges, weights, k_thresh=0.01, min_size=1).tolist() == [0, 0, 0, 1, 1, 1]
    assert segment_graph(6, edges, weights, k_thresh=0.01, min_size=4).tolist() == [0] * 6
    # an isolated vertex has no edge to merge along and stays alone
    assert segment_graph(7, edges, weights, min_size=4).tolist() == [0] * 6 + [1]


def test_larger_k_thresh_gives_fewer_segments() -> None:
    rng = np.random.default_rng(0)
    edges = grid_edges(30)
    weights = rng.uniform(0, 0.05, len(edges)).astype(np.float32)
    fine = segment_graph(900, edges, weights, k_thresh=0.01, min_size=1)
    coarse = segment_graph(900, edges, weights, k_thresh=1.0, min_size=1)
    assert coarse.max() < fine.max()


def test_segmentation_is_deterministic_and_dense() -> None:
    rng = np.random.default_rng(1)
    edges = grid_edges(40)
    weights = rng.choice([0.0, 0.001, 0.3], len(edges)).astype(np.float32)  # many ties
    first = segment_graph(1600, edges, weights, min_size=3)
    for _ in range(3):
        np.testing.assert_array_equal(segment_graph(1600, edges, weights, min_size=3), first)
    assert first.dtype == np.int64
    assert set(np.unique(first)) == set(range(int(first.max()) + 1))
    np.testing.assert_array_equal(
        segment_graph(1600, edges, weights, min_size=3, order=sort_edges_by_weight(weights)), first
    )


def test_sort_is_ascending_and_stable() -> None:
    weights = np.array([0.5, 0.0, 0.5, 1e-5, 2.0, 0.0], dtype=np.float32)
    assert sort_edges_by_weight(weights).tolist() == [1, 5, 3, 0, 2, 4]


@pytest.mark.parametrize(
    ("edges", "weights"),
    [
        (np.array([[0, 5]]), np.array([0.1])),
        (np.array([[-1, 2]]), np.array([0.1])),
        (np.array([[0, 1, 2]]), np.array([0.1])),
        (np.array([[0, 1]]), np.array([0.1, 0.2])),
        (np.array([[0, 1]]), np.array([np.nan])),
        (np.array([[0, 1]]), np.array([-0.5])),
    ],
)
def test_invalid_graph_raises(edges: np.ndarray, weights: np.ndarray) -> None:
    with pytest.raises(Beep3dError):
        segment_graph(3, edges, weights)


def test_invalid_faces_and_neighbours_raise() -> None:
    with pytest.raises(Beep3dError, match="vertex 7"):
        mesh_edges(np.array([[0, 1, 7]]), 3)
    with pytest.raises(Beep3dError):
        vertex_normals(np.zeros((3, 3)), np.array([[0, 1, -2]]))
    with pytest.raises(Beep3dError):
        knn_edges(np.array([[1], [9]]))
    with pytest.raises(Beep3dError):
        point_normals(np.zeros((2, 3)), np.array([[1], [2]]))
    with pytest.raises(Beep3dError):
        edge_weights(np.zeros((2, 3)), np.zeros((2, 3)), np.array([[0, 2]]))


# -------------------------------------------------------------------------------------------- meshes
def test_mesh_edges_are_unique_and_ordered() -> None:
    faces = np.array([[0, 1, 2], [2, 1, 3], [3, 1, 2]])  # shared and repeated edges
    assert mesh_edges(faces, 4).tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]]
    box = trimesh.creation.box()
    np.testing.assert_array_equal(
        mesh_edges(box.faces, 8),
        np.sort(box.edges_unique, axis=1)[np.lexsort(np.sort(box.edges_unique, axis=1).T[::-1])],
    )


def test_vertex_normals_match_a_sphere() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    normals = vertex_normals(sphere.vertices, sphere.faces)
    radial = sphere.vertices / np.linalg.norm(sphere.vertices, axis=1, keepdims=True)
    assert (np.einsum("ij,ij->i", normals, radial) > 0.99).all()


def test_box_mesh_sides_become_separate_superpoints() -> None:
    box = trimesh.creation.box((1.0, 1.0, 1.0)).subdivide().subdivide().subdivide()
    scene = Scene(xyz=box.vertices, rgb=np.zeros((len(box.vertices), 3)), faces=box.faces)
    labels = compute_superpoints(scene, min_size=10)
    # vertices strictly inside one side, keyed by the side's outward axis
    xyz = box.vertices
    on_side = np.isclose(np.abs(xyz), 0.5)
    interior = on_side.sum(axis=1) == 1
    side = np.argmax(on_side, axis=1) * 2 + (xyz[np.arange(len(xyz)), np.argmax(on_side, axis=1)] > 0)
    side_labels = {}
    for s in range(6):
        values = np.unique(labels[interior & (side == s)])
        assert len(values) == 1, f"side {s} split into {len(values)} superpoints"
        side_labels[s] = int(values[0])
    assert len(set(side_labels.values())) == 6


# ------------------------------------------------------------------------------------- point clouds
def two_touching_boxes(points_per_m2: int = 20000, seed: int = 0) -> Scene:
    """Two boxes pushed together (A: 1 x 1 x 0.5, B: 0.6 x 1 x 0.8 on its +x side), in different
    colours, sampled only on the faces a scanner sees (no bottoms, no faces in contact)."""
    rng = np.random.default_rng(seed)

    def face(origin, u, v, count):
        a, b = rng.random((2, count, 1))
        return np.asarray(origin) + a * np.asarray(u) + b * np.asarray(v)

    def sample(origin, u, v):
        area = np.linalg.norm(np.cross(u, v))
        return face(origin, u, v, int(area * points_per_m2))

    box_a = [
        sample((0, 0, 0.5), (1, 0, 0), (0, 1, 0)),  # top
        sample((0, 0, 0), (1, 0, 0), (0, 0, 0.5)),  # front
        sample((0, 1, 0), (1, 0, 0), (0, 0, 0.5)),  # back
        sample((0, 0, 0), (0, 1, 0), (0, 0, 0.5)),  # -x side
    ]
    box_b = [
        sample((1, 0, 0.8), (0.6, 0, 0), (0, 1, 0)),
        sample((1, 0, 0), (0.6, 0, 0), (0, 0, 0.8)),
        sample((1, 1, 0), (0.6, 0, 0), (0, 0, 0.8)),
        sample((1.6, 0, 0), (0, 1, 0), (0, 0, 0.8)),
        sample((1, 0, 0.5), (0, 1, 0), (0, 0, 0.3)),  # B's -x side above A's top
    ]
    a, b = np.concatenate(box_a), np.concatenate(box_b)
    xyz = np.concatenate([a, b]) + rng.normal(0, 0.001, (len(a) + len(b), 3))
    rgb = np.concatenate([np.tile([200, 60, 40], (len(a), 1)), np.tile([40, 80, 200], (len(b), 1))])
    instance = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    return Scene(xyz=xyz, rgb=rgb, instance=instance)


def test_two_touching_boxes_do_not_share_superpoints() -> None:
    scene = two_touching_boxes()
    labels = compute_superpoints(scene)
    assert superpoint_purity(labels, scene.instance) > 0.99
    assert labels.shape == (scene.num_points,) and labels.dtype == np.int64
    np.testing.assert_array_equal(compute_superpoints(scene), labels)


def test_point_normals_are_oriented_toward_the_viewpoint() -> None:
    xyz = grid_plane(20) + np.random.default_rng(0).normal(0, 0.0005, (400, 3))
    neighbours = knn_neighbours(xyz, 10)
    up = point_normals(xyz, neighbours, viewpoint=np.array([0.2, 0.2, 1.0]))
    down = point_normals(xyz, neighbours, viewpoint=np.array([0.2, 0.2, -1.0]))
    assert (up[:, 2] > 0.95).all() and (down[:, 2] < -0.95).all()


def test_knn_edges_are_undirected_and_respect_max_length() -> None:
    xyz = np.array([[0.0, 0, 0], [0.01, 0, 0], [0.02, 0, 0], [5.0, 0, 0]])
    neighbours = knn_neighbours(xyz, 2, max_edge_length=0.1)
    assert (neighbours[3] == -1).all()
    edges = knn_edges(neighbours)
    assert sorted(map(tuple, edges.tolist())) == [(0, 1), (0, 2), (1, 2)]


def test_empty_and_tiny_scenes() -> None:
    assert compute_superpoints(Scene(xyz=np.zeros((0, 3)), rgb=np.zeros((0, 3)))).shape == (0,)
    assert compute_superpoints(Scene(xyz=np.zeros((1, 3)), rgb=np.zeros((1, 3)))).tolist() == [0]


# ------------------------------------------------------------------------------------------- purity
def test_purity_counts_majority_instance_and_none() -> None:
    superpoints = np.array([0, 0, 0, 1, 1, 2])
    instance = np.array([5, 5, -1, -1, -1, 7])
    assert superpoint_purity(superpoints, instance) == pytest.approx(5 / 6)
    assert superpoint_purity(np.arange(6), instance) == 1.0
    with pytest.raises(Beep3dError):
        superpoint_purity(superpoints, instance[:3])


# ---------------------------------------------------------------------------------------- real data
def read_labeled_ply(path: Path) -> Scene:
    raw = path.read_bytes()
    header_end = raw.index(b"end_header\n") + len(b"end_header\n")
    header = raw[:header_end].decode("ascii")
    count = int(header.split("element vertex ")[1].split()[0])
    dtype = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1"),
                      ("sem20", "<i2"), ("nyu40", "<i2"), ("instance", "<i4")])  # fmt: skip
    vertex = np.frombuffer(raw, dtype=dtype, offset=header_end, count=count)
    return Scene(
        xyz=np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1),
        rgb=np.stack([vertex["r"], vertex["g"], vertex["b"]], axis=1),
        instance=vertex["instance"],
    )


def test_real_scannet_scene_superpoints_are_pure() -> None:
    if not REAL_SCENE.exists():
        pytest.skip(f"real ScanNet scene not found at {REAL_SCENE} (shared data beside the checkout)")
    scene = read_labeled_ply(REAL_SCENE)
    labels = compute_superpoints(scene)
    assert 50 < labels.max() + 1 < scene.num_points // 20
    assert superpoint_purity(labels, scene.instance) >= 0.95
