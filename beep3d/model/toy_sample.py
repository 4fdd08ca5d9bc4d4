"""A small hand-built scene (floor plus a row of cuboid objects whose boxes overlap) for tests and benchmarks.

Numpy only. Each object's box is the axis-aligned min/max of its points plus a 5 mm margin, and the
objects are placed so that neighbouring boxes overlap: the points in the shared slabs are P^u points.
Superpoints are cells of ``superpoint_cell`` metres within one object (or the floor), so they are pure.
"""

from __future__ import annotations

import numpy as np

from beep3d.model.sample import ModelSample, normalised_rgb


def make_toy_sample(
    num_points: int = 4000,
    num_objects: int = 4,
    seed: int = 0,
    superpoint_cell: float = 0.25,
    num_classes: int = 18,
    overlap: float = 0.15,
) -> ModelSample:
    """Build a :class:`ModelSample` with ground truth.

    Parameters
    ----------
    num_points
        Total points (about 30 % floor, the rest shared by the objects).
    num_objects
        Objects in a row along x, each 1.0 x 0.8 x 0.8 m.
    seed
        Random seed.
    superpoint_cell
        Superpoint cell edge, metres.
    num_classes
        Classes are assigned round-robin over 0..num_classes-1.
    overlap
        How far (metres) each object pushes into its neighbour's extent along x.
    """
    rng = np.random.default_rng(seed)
    width = 1.0
    step = width - overlap
    floor_count = int(num_points * 0.3)
    object_count = (num_points - floor_count) // num_objects
    floor_count = num_points - object_count * num_objects
    room_x = step * num_objects + overlap + 0.5
    parts_xyz = [
        np.column_stack(
            [rng.uniform(0, room_x, floor_count), rng.uniform(0, 2.0, floor_count), np.zeros(floor_count)]
        )
    ]
    parts_rgb = [np.tile([120, 120, 120], (floor_count, 1)) + rng.normal(0, 8, (floor_count, 3))]
    instance = [np.full(floor_count, -1)]
    palette = rng.uniform(30, 230, (num_objects, 3))
    for k in range(num_objects):
        low = np.array([0.25 + k * step, 0.6, 0.05])
        size = np.array([width, 0.8, 0.8])
        # points on the cuboid's surface: pick a face, then a point on it
        local = rng.uniform(0, 1, (object_count, 3))
        axis = rng.integers(0, 3, object_count)
        side = rng.integers(0, 2, object_count).astype(float)
        local[np.arange(object_count), axis] = side
        parts_xyz.append(low + local * size)
        parts_rgb.append(palette[k] + rng.normal(0, 8, (object_count, 3)))
        instance.append(np.full(object_count, k))
    xyz = np.concatenate(parts_xyz).astype(np.float32)
    rgb = normalised_rgb(np.clip(np.concatenate(parts_rgb), 0, 255))
    instance = np.concatenate(instance).astype(np.int64)

    cells = np.floor(xyz / superpoint_cell).astype(np.int64)
    keys = np.column_stack([instance + 1, cells])
    _, superpoints = np.unique(keys, axis=0, return_inverse=True)

    box_low = np.stack([xyz[instance == k].min(axis=0) for k in range(num_objects)]) - 0.005
    box_high = np.stack([xyz[instance == k].max(axis=0) for k in range(num_objects)]) + 0.005
    inside = np.all((xyz[:, None, :] >= box_low[None]) & (xyz[:, None, :] <= box_high[None]), axis=2)
    member_points, member_boxes = np.nonzero(inside)
    classes = np.arange(num_objects) % num_classes
    semantic = np.where(instance >= 0, classes[np.maximum(instance, 0)], -1)
    return ModelSample(
        name=f"toy-{seed}",
        xyz=xyz,
        rgb=rgb.astype(np.float32),
        superpoints=superpoints.reshape(-1).astype(np.int64),
        box_centers=((box_low + box_high) / 2).astype(np.float32),
        box_sizes=(box_high - box_low).astype(np.float32),
        box_yaws=np.zeros(num_objects, dtype=np.float32),
        box_classes=classes.astype(np.int64),
        box_ids=np.arange(1, num_objects + 1, dtype=np.int64),
        member_points=member_points.astype(np.int64),
        member_boxes=member_boxes.astype(np.int64),
        gt_instance=instance,
        gt_semantic=semantic.astype(np.int64),
    )
