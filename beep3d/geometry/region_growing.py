"""Region growing on a scan's neighbour graph: from one point, the smooth, similarly coloured surface
it lies on.

A point joins the region when it is one of the ``k`` nearest neighbours (within ``max_edge_length``)
of a point already in it, the caller allows it (same mask, same boxes, not fixed by an earlier
correction, ...), the two normals differ by at most ``max_angle`` degrees (either orientation: scans
seldom orient normals consistently) and the two colours by at most ``max_colour`` (Euclidean distance
of RGB in 0..1). Growing stops at creases (a chair seat meets its back, a wall meets the floor) and at
colour edges (a door in its wall), so a click settles the surface it lies on rather than a ball.

The neighbour graph and the normals are built once per scene (:func:`scene_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.scene import Scene
from beep3d.scene_cache import SceneCache

#: Neighbours per point in the graph, and how far a neighbour may be, metres.
GRAPH_NEIGHBOURS = 10
GRAPH_EDGE_LENGTH = 0.1


@dataclass(frozen=True)
class SceneGraph:
    """A scan's neighbour graph with what region growing compares along its edges.

    Attributes
    ----------
    neighbours
        (N, k) int64 indices of each point's nearest neighbours, -1 where there is none.
    normals
        (N, 3) float32 unit normals (zero where unknown).
    colours
        (N, 3) float32 RGB in 0..1.
    """

    neighbours: np.ndarray
    normals: np.ndarray
    colours: np.ndarray


_GRAPHS: SceneCache[SceneGraph] = SceneCache()


def scene_graph(scene: Scene) -> SceneGraph:
    """The scene's neighbour graph, normals and colours (built on first use, then remembered)."""
    from beep3d.geometry.normals import scene_normals
    from beep3d.geometry.superpoints import knn_neighbours

    return _GRAPHS.get(
        scene,
        lambda: SceneGraph(
            neighbours=knn_neighbours(scene.xyz, GRAPH_NEIGHBOURS, GRAPH_EDGE_LENGTH),
            normals=np.asarray(scene_normals(scene), dtype=np.float32),
            colours=np.asarray(scene.rgb, dtype=np.float32) / 255.0,
        ),
    )


def grow_region(
    graph: SceneGraph,
    xyz: np.ndarray,
    seed: int,
    allowed: np.ndarray,
    max_angle: float = 30.0,
    max_colour: float = 0.2,
    max_distance: float = np.inf,
) -> np.ndarray:
    """The points reached from ``seed`` over smooth, similarly coloured edges of the graph.

    Parameters
    ----------
    graph
        From :func:`scene_graph` (N points).
    xyz
        (N, 3) positions, metres.
    seed
        Index of the starting point; it is always in the region.
    allowed
        (N,) bool: the points the region may take.
    max_angle
        Largest angle between the normals of two neighbours, degrees (in [0, 90]).
    max_colour
        Largest RGB distance between two neighbours (colours in 0..1; >= sqrt(3) ignores colour).
    max_distance
        Points farther than this from the seed are not taken, metres.

    Returns
    -------
    np.ndarray
        (R,) int64 sorted indices of the region, ``seed`` included.
    """
    if not 0.0 <= max_angle <= 90.0:
        raise Beep3dError(f"region growing: max_angle must be in [0, 90] degrees, got {max_angle}")
    neighbours = graph.neighbours
    n, k = neighbours.shape
    if not 0 <= seed < n:
        raise Beep3dError(f"region growing: seed {seed} is not a point of this {n}-point scan")
    min_cosine = np.cos(np.radians(max_angle))
    seed_xyz = np.asarray(xyz[seed], dtype=np.float64)
    taken = np.zeros(n, dtype=bool)
    taken[seed] = True
    frontier = np.array([seed], dtype=np.int64)
    while len(frontier):
        source = np.repeat(frontier, k)
        target = neighbours[frontier].ravel()
        keep = target >= 0
        source, target = source[keep], target[keep]
        keep = allowed[target] & ~taken[target]
        source, target = source[keep], target[keep]
        cosine = np.abs(np.einsum("ij,ij->i", graph.normals[source], graph.normals[target]))
        colour = np.linalg.norm(graph.colours[source] - graph.colours[target], axis=1)
        keep = (cosine >= min_cosine) & (colour <= max_colour)
        if np.isfinite(max_distance):
            keep &= np.linalg.norm(xyz[target] - seed_xyz, axis=1) <= max_distance
        frontier = np.unique(target[keep])
        taken[frontier] = True
    return np.flatnonzero(taken)
