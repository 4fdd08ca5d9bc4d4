"""Superpoints: over-segment a scan into small, geometrically uniform patches.

The rule is the ScanNet mesh segmentator's (Felzenszwalb graph segmentation on normals):

- the graph: a mesh's face edges, or for a point cloud without faces the k nearest neighbours of
  every point (closer than ``max_edge_length``);
- normals: area-weighted face normals summed at the vertices (meshes), or the smallest-variance
  direction of each point's neighbourhood, turned toward a viewpoint (point clouds);
- the edge weight between points ``p1``, ``p2`` with normals ``n1``, ``n2``::

      w = 1 - n1 . n2                 (0 on a flat surface, 1 at a right angle)
      w = w ** 2   if (p2 - p1) . n2 > 0   (a convex edge, e.g. the rim of a table top: kept together)
      w += colour_weight * |c1 - c2| / (255 * sqrt(3))   (RGB distance scaled to 0..1)

  the colour term is off for meshes by default (as in ScanNet) and on for point clouds, whose
  normals are noisier;
- :func:`beep3d.geometry.graph_segmentation.segment_graph` merges along ascending weights.

Everything per point or per edge runs in numba kernels (``cache=True``); there is no Python loop over
points or edges.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.geometry.graph_segmentation import (
    numba,
    segment_graph,
    validate_edges,
    validate_faces,
    validate_neighbours,
)
from beep3d.geometry.normals import (
    CLOUD_NORMAL_EDGE,
    CLOUD_NORMAL_NEIGHBOURS,
    in_scene_order,
    point_normals,
    scene_normals,
    vertex_normals,
)
from beep3d.scene import Scene

__all__ = [
    "CLOUD_COLOUR_WEIGHT",
    "compute_superpoints",
    "edge_weights",
    "knn_edges",
    "knn_neighbours",
    "mesh_edges",
    "point_normals",
    "segment_graph",
    "spatial_order",
    "superpoint_purity",
    "vertex_normals",
]

CLOUD_COLOUR_WEIGHT = 0.5
"""Default weight of the colour term for point clouds (meshes use 0, as ScanNet does)."""


# ----------------------------------------------------------------------------------------- mesh graph
@numba.njit(cache=True)
def _count_face_edges(faces, num_vertices):
    counts = np.zeros(num_vertices + 1, dtype=np.int64)
    for f in range(faces.shape[0]):
        for c in range(3):
            a = faces[f, c]
            b = faces[f, (c + 1) % 3]
            if a != b:
                counts[min(a, b) + 1] += 1
    return counts


@numba.njit(cache=True)
def _fill_face_edges(faces, offsets):
    cursor = offsets[:-1].copy()
    targets = np.empty(offsets[-1], dtype=np.int64)
    for f in range(faces.shape[0]):
        for c in range(3):
            a = faces[f, c]
            b = faces[f, (c + 1) % 3]
            if a != b:
                low = min(a, b)
                targets[cursor[low]] = max(a, b)
                cursor[low] += 1
    return targets


@numba.njit(cache=True, parallel=True)
def _unique_rows(offsets, targets):
    """Sort each vertex's target list in place; return the number of distinct targets per vertex."""
    n = offsets.shape[0] - 1
    unique_counts = np.zeros(n + 1, dtype=np.int64)
    for v in numba.prange(n):
        start, stop = offsets[v], offsets[v + 1]
        if stop > start:
            targets[start:stop] = np.sort(targets[start:stop])
            distinct = 1
            for i in range(start + 1, stop):
                if targets[i] != targets[i - 1]:
                    distinct += 1
            unique_counts[v + 1] = distinct
    return unique_counts


@numba.njit(cache=True, parallel=True)
def _write_unique_edges(offsets, targets, unique_offsets):
    n = offsets.shape[0] - 1
    edges = np.empty((unique_offsets[-1], 2), dtype=np.int64)
    for v in numba.prange(n):
        start, stop = offsets[v], offsets[v + 1]
        out = unique_offsets[v]
        for i in range(start, stop):
            if i == start or targets[i] != targets[i - 1]:
                edges[out, 0] = v
                edges[out, 1] = targets[i]
                out += 1
    return edges


def mesh_edges(faces: np.ndarray, num_vertices: int) -> np.ndarray:
    """The distinct undirected edges of a triangle mesh.

    Parameters
    ----------
    faces
        (M, 3) integer vertex indices.
    num_vertices
        N, the number of mesh vertices.

    Returns
    -------
    np.ndarray
        (E, 2) int64 edges ``(a, b)`` with ``a < b``, sorted by ``a`` then ``b``, each once.

    Raises
    ------
    Beep3dError
        When a face refers to a vertex outside 0..N-1.
    """
    faces = validate_faces(faces, int(num_vertices))
    counts = _count_face_edges(faces, int(num_vertices))
    offsets = np.cumsum(counts)
    targets = _fill_face_edges(faces, offsets)
    unique_offsets = np.cumsum(_unique_rows(offsets, targets))
    return _write_unique_edges(offsets, targets, unique_offsets)


@numba.njit(cache=True, parallel=True)
def _morton_keys(cells):
    keys = np.empty(cells.shape[0], dtype=np.int64)
    for i in numba.prange(cells.shape[0]):
        key = np.int64(0)
        for bit in range(20):
            for axis in range(3):
                key |= ((cells[i, axis] >> bit) & np.int64(1)) << np.int64(3 * bit + axis)
        keys[i] = key
    return keys


def spatial_order(xyz: np.ndarray) -> np.ndarray:
    """A permutation that lists nearby points together (Morton / Z-order on a 2^20 grid).

    Parameters
    ----------
    xyz
        (N, 3) float point positions.

    Returns
    -------
    np.ndarray
        (N,) int64 permutation of 0..N-1.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if len(xyz) == 0:
        return np.zeros(0, dtype=np.int64)
    low = xyz.min(axis=0)
    extent = float((xyz.max(axis=0) - low).max())
    scale = (2**20 - 1) / extent if extent > 0 else 0.0
    cells = np.ascontiguousarray(((xyz - low) * scale).astype(np.int64))
    return np.argsort(_morton_keys(cells), kind="stable").astype(np.int64, copy=False)


def knn_neighbours(xyz: np.ndarray, k: int = 10, max_edge_length: float | None = None) -> np.ndarray:
    """The ``k`` nearest neighbours of every point (itself excluded).

    Sort the points with :func:`spatial_order` first: the KD-tree query is 2-3x faster on
    spatially ordered points.

    Parameters
    ----------
    xyz
        (N, 3) float point positions, metres.
    k
        Neighbours per point.
    max_edge_length
        Neighbours farther than this (metres) are left out; None keeps all ``k``.

    Returns
    -------
    np.ndarray
        (N, k) int64 neighbour indices, -1 where there is no neighbour (fewer than ``k + 1``
        points, or farther than ``max_edge_length``).
    """
    from scipy.spatial import cKDTree

    xyz = np.ascontiguousarray(xyz, dtype=np.float64)
    n = len(xyz)
    k = int(k)
    if k < 1:
        raise Beep3dError(f"knn: the number of neighbours must be >= 1, got {k}")
    if n < 2:
        return np.full((n, k), -1, dtype=np.int64)
    query_k = min(k + 1, n)
    bound = np.inf if max_edge_length is None else float(max_edge_length)
    # sliding-midpoint tree: builds 2-3x faster than the balanced one, queries as fast
    tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
    _, found = tree.query(xyz, k=query_k, distance_upper_bound=bound, workers=-1)
    found = np.asarray(found, dtype=np.int64).reshape(n, query_k)
    return _drop_self(found, n, k)


@numba.njit(cache=True, parallel=True)
def _drop_self(found, n, k):
    neighbours = np.full((found.shape[0], k), -1, dtype=np.int64)
    for i in numba.prange(found.shape[0]):
        out = 0
        for c in range(found.shape[1]):
            j = found[i, c]
            if j != i and j < n and out < k:  # scipy reports a missing neighbour as index n
                neighbours[i, out] = j
                out += 1
    return neighbours


@numba.njit(cache=True, parallel=True)
def _count_knn_edges(neighbours):
    n, k = neighbours.shape
    counts = np.zeros(n + 1, dtype=np.int64)
    for i in numba.prange(n):
        kept = 0
        for c in range(k):
            j = neighbours[i, c]
            if j < 0:
                continue
            if i < j:
                kept += 1
            else:  # keep i -> j (j < i) only when j -> i is not already an edge
                mutual = False
                for d in range(k):
                    if neighbours[j, d] == i:
                        mutual = True
                        break
                if not mutual:
                    kept += 1
        counts[i + 1] = kept
    return counts


@numba.njit(cache=True, parallel=True)
def _write_knn_edges(neighbours, offsets):
    n, k = neighbours.shape
    edges = np.empty((offsets[-1], 2), dtype=np.int64)
    for i in numba.prange(n):
        out = offsets[i]
        for c in range(k):
            j = neighbours[i, c]
            if j < 0:
                continue
            keep = i < j
            if not keep:
                keep = True
                for d in range(k):
                    if neighbours[j, d] == i:
                        keep = False
                        break
            if keep:
                edges[out, 0] = min(i, j)
                edges[out, 1] = max(i, j)
                out += 1
    return edges


def knn_edges(neighbours: np.ndarray) -> np.ndarray:
    """The undirected edges of a k-nearest-neighbour graph, each once.

    Parameters
    ----------
    neighbours
        (N, k) int neighbour indices from :func:`knn_neighbours`, -1 = none.

    Returns
    -------
    np.ndarray
        (E, 2) int64 edges ``(a, b)`` with ``a < b``.
    """
    neighbours = validate_neighbours(neighbours, len(neighbours))
    offsets = np.cumsum(_count_knn_edges(neighbours))
    return _write_knn_edges(neighbours, offsets)


# -------------------------------------------------------------------------------------------- weights
@numba.njit(cache=True, parallel=True)
def _edge_weights(xyz, normals, edges, rgb, colour_scale):
    weights = np.empty(edges.shape[0], dtype=np.float32)
    use_colour = colour_scale > 0.0
    for e in numba.prange(edges.shape[0]):
        a, b = edges[e, 0], edges[e, 1]
        dot = normals[a, 0] * normals[b, 0] + normals[a, 1] * normals[b, 1] + normals[a, 2] * normals[b, 2]
        w = min(max(1.0 - dot, 0.0), 2.0)
        along = (
            (xyz[b, 0] - xyz[a, 0]) * normals[b, 0]
            + (xyz[b, 1] - xyz[a, 1]) * normals[b, 1]
            + (xyz[b, 2] - xyz[a, 2]) * normals[b, 2]
        )
        if along > 0.0:  # convex edge
            w = w * w
        if use_colour:
            dr = np.float64(rgb[a, 0]) - np.float64(rgb[b, 0])
            dg = np.float64(rgb[a, 1]) - np.float64(rgb[b, 1])
            db = np.float64(rgb[a, 2]) - np.float64(rgb[b, 2])
            w += colour_scale * np.sqrt(dr * dr + dg * dg + db * db)
        weights[e] = w
    return weights


def edge_weights(
    xyz: np.ndarray,
    normals: np.ndarray,
    edges: np.ndarray,
    rgb: np.ndarray | None = None,
    colour_weight: float = 0.0,
) -> np.ndarray:
    """Edge weights of the superpoint graph (see the module docstring for the formula).

    Parameters
    ----------
    xyz
        (N, 3) float positions, metres.
    normals
        (N, 3) float unit normals, consistently oriented.
    edges
        (E, 2) int vertex indices.
    rgb
        (N, 3) uint8 colours; needed when ``colour_weight > 0``.
    colour_weight
        Weight of the colour distance (0..1 after scaling by ``255 * sqrt(3)``).

    Returns
    -------
    np.ndarray
        (E,) float32 weights >= 0.
    """
    xyz = np.ascontiguousarray(xyz, dtype=np.float32)
    normals = np.ascontiguousarray(normals, dtype=np.float32)
    if normals.shape != xyz.shape:
        raise Beep3dError(f"edge weights: normals have shape {normals.shape} but points {xyz.shape}")
    if not np.isfinite(normals).all():
        raise Beep3dError("edge weights: the normals contain NaN or infinity; recompute them")
    edges = validate_edges(edges, len(xyz))
    colour_scale = 0.0
    if colour_weight and colour_weight > 0:
        if rgb is None:
            raise Beep3dError("edge weights: colour_weight > 0 needs the point colours")
        colour_scale = float(colour_weight) / (255.0 * np.sqrt(3.0))
    if rgb is None:
        rgb = np.zeros((len(xyz), 3), dtype=np.uint8)
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.shape != xyz.shape:
        raise Beep3dError(f"edge weights: colours have shape {rgb.shape} but points {xyz.shape}")
    return _edge_weights(xyz, normals, edges, rgb, colour_scale)


# ---------------------------------------------------------------------------------------- entry point
def compute_superpoints(
    scene: Scene,
    *,
    k_thresh: float = 0.01,
    min_size: int = 20,
    knn: int = 10,
    colour_weight: float | None = None,
    max_edge_length: float | None = 0.1,
    timings: dict[str, float] | None = None,
) -> np.ndarray:
    """Superpoint id per point of a scene.

    Meshes (``scene.faces`` present) use their face edges and face-based vertex normals, exactly
    the ScanNet segmentator's graph. Point clouds use a kNN graph and covariance normals (or the
    scene's own normals when it has them).

    Parameters
    ----------
    scene
        The scan.
    k_thresh
        Felzenszwalb's ``k``: larger gives larger superpoints (ScanNet: 0.01).
    min_size
        Superpoints below this many points are merged into a neighbour (ScanNet: 20).
    knn
        Neighbours per point for point clouds.
    colour_weight
        Weight of the colour term; None: 0 for meshes, :data:`CLOUD_COLOUR_WEIGHT` for clouds.
    max_edge_length
        Point clouds only: neighbours farther apart than this (metres) are not connected, so
        separate objects do not join across gaps; None connects all ``knn`` neighbours.
    timings
        If given, filled with seconds per stage ("order", "knn", "normals", "edges", "weights",
        "sort", "merge", "relabel").

    Returns
    -------
    np.ndarray
        (N,) int64 superpoint ids, dense 0..S-1.
    """

    def tick(stage: str, start: float) -> float:
        now = time.perf_counter()
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + now - start
        return now

    n = scene.num_points
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if scene.faces is not None and len(scene.faces):
        weight = 0.0 if colour_weight is None else float(colour_weight)
        edges, weights = _mesh_graph(scene, weight, tick)
        return segment_graph(n, edges, weights, k_thresh=k_thresh, min_size=min_size, timings=timings)

    weight = CLOUD_COLOUR_WEIGHT if colour_weight is None else float(colour_weight)
    start = time.perf_counter()
    order = spatial_order(scene.xyz)  # work in spatial order: neighbours sit close in memory
    xyz = np.ascontiguousarray(scene.xyz[order])
    tick("order", start)
    edges, weights = _cloud_graph(scene, order, xyz, knn, max_edge_length, weight, tick)
    sorted_labels = segment_graph(n, edges, weights, k_thresh=k_thresh, min_size=min_size, timings=timings)
    start = time.perf_counter()
    labels = np.empty(n, dtype=np.int64)
    labels[order] = sorted_labels
    labels = numbered_by_first_appearance(labels)
    tick("relabel", start)
    return labels


def _mesh_graph(
    scene: Scene, colour_weight: float, tick: Callable[[str, float], float]
) -> tuple[np.ndarray, np.ndarray]:
    """A mesh's face edges and their weights (no kNN: the faces are the graph).

    ``tick(stage, start)`` adds the seconds since ``start`` to the stage's time and returns the time now.
    """
    start = time.perf_counter()
    edges = mesh_edges(scene.faces, scene.num_points)
    start = tick("edges", start)
    normals = vertex_normals(scene.xyz, scene.faces)
    start = tick("normals", start)
    weights = edge_weights(scene.xyz, normals, edges, scene.rgb, colour_weight)
    tick("weights", start)
    return edges, weights


def _cloud_graph(
    scene: Scene,
    order: np.ndarray,
    xyz: np.ndarray,
    knn: int,
    max_edge_length: float | None,
    colour_weight: float,
    tick: Callable[[str, float], float],
) -> tuple[np.ndarray, np.ndarray]:
    """A point cloud's kNN edges and their weights, between positions in ``order`` ((N,) permutation
    of the points, :func:`spatial_order`; ``xyz``: (N, 3) their positions in that order, metres).

    ``tick`` as for :func:`_mesh_graph`.
    """
    start = time.perf_counter()
    neighbours = knn_neighbours(xyz, knn, max_edge_length)
    start = tick("knn", start)
    normals = _cloud_normals(scene, order, xyz, neighbours, knn, max_edge_length)
    start = tick("normals", start)
    edges = knn_edges(neighbours)
    start = tick("edges", start)
    weights = edge_weights(xyz, normals, edges, scene.rgb[order], colour_weight)
    tick("weights", start)
    return edges, weights


def _cloud_normals(
    scene: Scene,
    order: np.ndarray,
    xyz: np.ndarray,
    neighbours: np.ndarray,
    knn: int,
    max_edge_length: float | None,
) -> np.ndarray:
    """(N, 3) unit normals of the points in ``order`` (``xyz``, ``neighbours``: theirs): the scene's own,
    else the scan's shared normals when the graph is theirs, else from the neighbourhoods."""
    if scene.normals is not None:
        return np.ascontiguousarray(scene.normals[order])
    if knn == CLOUD_NORMAL_NEIGHBOURS and max_edge_length == CLOUD_NORMAL_EDGE:
        # the scan's shared normals (room surfaces, region growing): built from this graph, or already known
        shared = scene_normals(scene, lambda: in_scene_order(point_normals(xyz, neighbours), order))
        return np.ascontiguousarray(shared[order])
    return point_normals(xyz, neighbours)


def numbered_by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """(N,) int64 labels renumbered 0.. in the order they first appear, so that ids do not depend on
    the order points were processed in (for superpoints: the spatial sort)."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[labels]


def superpoint_purity(superpoints: np.ndarray, instance: np.ndarray) -> float:
    """Share of points whose superpoint's majority instance is their own instance.

    Points with instance -1 count as one more instance, "none". 1.0 means no superpoint straddles
    two instances (or an instance and the background).

    Parameters
    ----------
    superpoints
        (N,) int superpoint ids.
    instance
        (N,) int instance ids, -1 = none.

    Returns
    -------
    float
        Purity in 0..1 (1.0 for an empty scene).
    """
    superpoints = np.asarray(superpoints).reshape(-1)
    instance = np.asarray(instance).reshape(-1)
    if superpoints.shape != instance.shape:
        raise Beep3dError(
            f"superpoint purity: {superpoints.shape[0]} superpoint ids but {instance.shape[0]} instance ids"
        )
    if superpoints.size == 0:
        return 1.0
    _, sp = np.unique(superpoints, return_inverse=True)
    instance_values, inst = np.unique(instance, return_inverse=True)
    key = sp.astype(np.int64) * len(instance_values) + inst
    pair_keys, pair_counts = np.unique(key, return_counts=True)
    pair_sp = pair_keys // len(instance_values)  # sorted ascending
    starts = np.flatnonzero(np.r_[True, pair_sp[1:] != pair_sp[:-1]])
    majority = np.maximum.reduceat(pair_counts, starts)
    return float(majority.sum() / superpoints.size)
