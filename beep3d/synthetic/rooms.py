"""Procedural indoor rooms with ground-truth instances and boxes, to train and test without ScanNet.

A room is a rectangle (3-8 m a side) with a floor, two to four walls (maybe a door), wall decor
(windows, pictures, curtains) and furniture groups built in :mod:`beep3d.synthetic.furniture`. Every
solid is sampled on its visible surfaces at ScanNet-like density: points of a surface that lies inside
another solid (the floor under a cabinet, a desk top under a monitor) are removed, as a scanner would
not see them. Points get position noise (a few millimetres), colour noise and normals.

The furniture groups hold the overlaps that make box supervision ambiguous: chairs tucked under
tables, objects on desks and shelves (boxes nested in the furniture box), pillows on beds, cabinets
against sofas. With ``clutter=1.0`` about 5-15% of the points lie in two or more ground-truth boxes,
as in real ScanNet scenes.

Seeds: a room is a pure function of its seed and parameters. Training uses seeds in
``TRAIN_SEEDS`` (0..9999); evaluation uses seeds from ``EVAL_SEED_START`` (100000) upward, so a
training room never reappears in an evaluation.
"""

from __future__ import annotations

import math

import numpy as np

from beep3d.classes import NYU40_FLOOR, NYU40_WALL, SCANNET18
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet, boxes_from_instances
from beep3d.scene import Scene
from beep3d.synthetic.furniture import ROOM_TYPES
from beep3d.synthetic.pieces import (
    CURTAIN,
    DOOR,
    FLOOR,
    PICTURE,
    WALL,
    WINDOW,
    Group,
    Part,
    Piece,
    box,
    colour,
)

#: First seed of evaluation rooms; training rooms use seeds below it (0..9999 by convention).
EVAL_SEED_START = 100_000
#: Seeds training uses.
TRAIN_SEEDS = range(0, 10_000)

#: How often each room type is drawn.
ROOM_TYPE_WEIGHTS: dict[str, float] = {
    "office": 0.25,
    "bedroom": 0.2,
    "living": 0.2,
    "kitchen": 0.15,
    "bathroom": 0.1,
    "conference": 0.1,
}

#: Instances with fewer points than this (after hidden-surface removal) are dropped from the room.
MIN_INSTANCE_POINTS = 40

#: Walls and floor are sampled this much coarser than furniture, as ScanNet's decimated meshes keep
#: fewer vertices on large flat surfaces.
STRUCTURE_SPACING_FACTOR = 1.5
#: The furniture density that ``clutter=1.0`` stands for (calibrated to ScanNet-like overlap).
_DENSITY_AT_CLUTTER_ONE = 1.5

_CULL_EPS = 0.002
_CULL_CELL = 0.25  # metres  # metres: a point this close to the inside of another solid is hidden
_BOX_FACE_AXES = ((0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1))


# --- public API -----------------------------------------------------------------------------------


def make_room(
    seed: int,
    *,
    spacing: float = 0.02,
    clutter: float = 1.0,
    oriented_boxes: bool = False,
    position_noise: float = 0.003,
    colour_noise: float = 6.0,
) -> tuple[Scene, BoxSet]:
    """Generate one synthetic room and its ground-truth boxes.

    Parameters
    ----------
    seed
        Any non-negative integer; the same seed and parameters give identical arrays.
        Training uses 0..9999, evaluation ``EVAL_SEED_START`` and up.
    spacing
        Surface sampling distance, metres (0.02 gives about 60k-250k points per room).
    clutter
        Scales how many groups and small objects a room holds and how often chairs are tucked in;
        1.0 gives ScanNet-like overlap (about 5-15% of the points in two or more boxes).
    oriented_boxes
        False (default): axis-aligned boxes from each instance's min/max plus 5 mm, as Box2Mask and
        GaPro derive them from ScanNet. True: boxes turned by each object's yaw.
    position_noise
        Standard deviation of the Gaussian noise added to every coordinate, metres.
    colour_noise
        Standard deviation of the per-point colour noise, 0..255 units.

    Returns
    -------
    scene
        ``xyz`` (N, 3) float32 metres z up, ``rgb``, ``normals``, ``semantic`` (NYU40 ids: wall 1,
        floor 2 and the 18 ScanNet classes), ``instance`` (0..K-1, every point has one; wall and
        floor are instances too), ``label_space="nyu40"``, ``name=f"synthetic_{seed:05d}"``.
    boxes
        One box per instance except walls and floor; box ids are instance ids, labels class names.
    """
    if seed < 0:
        raise Beep3dError(f"synthetic room seed must be >= 0, got {seed}")
    check_room_parameters(spacing, clutter)
    rng = np.random.default_rng(seed)
    pieces = _layout_room(rng, clutter * _DENSITY_AT_CLUTTER_ONE)
    xyz, normals, rgb, piece_of = _sample_pieces(pieces, spacing, rng, position_noise, colour_noise)
    semantic_of_piece = np.array([p.semantic for p in pieces], dtype=np.int64)

    counts = np.bincount(piece_of, minlength=len(pieces))
    kept_pieces = np.flatnonzero(counts >= MIN_INSTANCE_POINTS)
    instance_of_piece = np.full(len(pieces), -1, dtype=np.int64)
    instance_of_piece[kept_pieces] = np.arange(len(kept_pieces))
    keep = instance_of_piece[piece_of] >= 0
    xyz, normals, rgb, piece_of = xyz[keep], normals[keep], rgb[keep], piece_of[keep]
    instance = instance_of_piece[piece_of]
    semantic = semantic_of_piece[piece_of]

    scene = Scene(
        xyz=xyz.astype(np.float32),
        rgb=rgb,
        normals=normals.astype(np.float32),
        semantic=semantic,
        instance=instance,
        label_space="nyu40",
        name=f"synthetic_{seed:05d}",
    )
    yaws = np.array([pieces[i].yaw for i in kept_pieces], dtype=np.float64)
    boxes = gt_boxes(scene, yaws if oriented_boxes else None)
    return scene, boxes


def check_room_parameters(spacing: float, clutter: float) -> None:
    """Refuse a sampling ``spacing`` (metres) or ``clutter`` :func:`make_room` cannot use, saying the range."""
    if not 0.005 <= spacing <= 0.2:
        raise Beep3dError(f"spacing {spacing} m is out of range; use 0.005 to 0.2 (0.02 is ScanNet-like)")
    if not 0.0 <= clutter <= 5.0:
        raise Beep3dError(f"clutter {clutter} is out of range; use 0 to 5 (1.0 is ScanNet-like)")


def gt_boxes(scene: Scene, yaws: np.ndarray | None = None, margin: float = 0.005) -> BoxSet:
    """Ground-truth boxes of a labelled scene (walls and floor get none).

    Parameters
    ----------
    scene
        A scene with ``instance`` and ``semantic`` (NYU40 ids).
    yaws
        (K,) yaw per instance id 0..K-1 for oriented boxes, radians; None for axis-aligned boxes.
    margin
        Added on every side, metres.
    """
    if scene.instance is None or scene.semantic is None:
        raise Beep3dError(f"scene {scene.name!r} has no ground-truth instances to derive boxes from")
    names = dict(zip(SCANNET18.ids, SCANNET18.names, strict=True))
    skip = (NYU40_WALL, NYU40_FLOOR)
    if yaws is None:
        return boxes_from_instances(scene.xyz, scene.instance, scene.semantic, names, margin, skip)
    xyz = scene.xyz.astype(np.float64)
    order = np.argsort(scene.instance, kind="stable")
    ids, starts = np.unique(scene.instance[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    out: list[Box] = []
    for inst, start, end in zip(ids, starts, ends, strict=True):
        if inst < 0:
            continue
        members = order[start:end]
        sem = int(np.bincount(scene.semantic[members]).argmax())
        if sem in skip:
            continue
        yaw = float(np.mod(yaws[inst] + math.pi / 4, math.pi / 2) - math.pi / 4)  # same box, smallest angle
        c, s = math.cos(yaw), math.sin(yaw)
        pts = xyz[members]
        local = np.stack([c * pts[:, 0] + s * pts[:, 1], -s * pts[:, 0] + c * pts[:, 1], pts[:, 2]], axis=1)
        lo, hi = local.min(axis=0) - margin, local.max(axis=0) + margin
        mid = (lo + hi) / 2
        center = (c * mid[0] - s * mid[1], s * mid[0] + c * mid[1], mid[2])
        out.append(Box(int(inst), names.get(sem, f"id:{sem}"), center, tuple(hi - lo), yaw))
    return BoxSet(out)


def overlap_share(points: Scene | np.ndarray, boxes: BoxSet) -> float:
    """Share of the points (0..1) that lie in two or more boxes.

    ``points`` is a scene or its (N, 3) coordinates, metres.
    """
    xyz = points.xyz if isinstance(points, Scene) else np.asarray(points)
    if len(xyz) == 0:
        return 0.0
    return float(np.mean(boxes.membership(xyz).counts() >= 2))


# --- room layout ----------------------------------------------------------------------------------


def _wall_frame(side: int, width: float, depth: float) -> tuple[tuple[float, float, float], float, float]:
    """Start corner, yaw and length of room side 0..3 (south, east, north, west).

    In the wall frame x runs along the wall from the start corner and +y points into the room.
    """
    frames = (((0.0, 0.0, 0.0), 0.0, width), ((width, 0.0, 0.0), math.pi / 2, depth),
              ((width, depth, 0.0), math.pi, width), ((0.0, depth, 0.0), -math.pi / 2, depth))  # fmt: skip
    return frames[side]


def _to_room(origin: tuple[float, float, float], yaw: float, x: float, y: float) -> tuple[float, float]:
    c, s = math.cos(yaw), math.sin(yaw)
    return origin[0] + c * x - s * y, origin[1] + s * x + c * y


def _rect_corners(cx: float, cy: float, hx: float, hy: float, yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    return local @ np.array([[c, s], [-s, c]]) + np.array([cx, cy])


def _rects_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex quadrilaterals given as (4, 2) corners."""
    for poly in (a, b):
        for k in range(4):
            edge = poly[(k + 1) % 4] - poly[k]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


def _layout_room(rng: np.random.Generator, clutter: float) -> list[Piece]:
    """All pieces of one room: floor, walls, door, decor and furniture groups, in room coordinates."""
    types = list(ROOM_TYPE_WEIGHTS)
    weights = np.array([ROOM_TYPE_WEIGHTS[t] for t in types])
    room_type = types[rng.choice(len(types), p=weights / weights.sum())]
    if room_type == "bathroom":
        width, depth = rng.uniform(3.0, 4.5, 2)
    elif room_type == "conference":
        width, depth = rng.uniform(4.5, 7.5), rng.uniform(4.0, 6.0)
    else:
        width, depth = 3.0 + 5.0 * rng.beta(1.2, 3.6, 2)
    wall_height = rng.uniform(2.0, 2.6)

    floor_colour = colour(rng, ("wood", "neutral")[rng.integers(2)])
    pieces = [Piece(FLOOR, [box(width / 2, depth / 2, -0.05, width + 0.2, depth + 0.2, 0.05,
                                faces=(False, False, False, False, False, True))], floor_colour)]  # fmt: skip
    n_walls = int(rng.choice([4, 3, 2], p=[0.5, 0.3, 0.2]))
    if n_walls == 4:
        sides = [0, 1, 2, 3]
    elif n_walls == 3:
        missing = int(rng.integers(4))
        sides = [s for s in range(4) if s != missing]
    else:
        first = int(rng.integers(4))
        sides = sorted({first, (first + (1 if rng.random() < 0.7 else 2)) % 4})

    obstacles: list[np.ndarray] = []
    wall_spans: dict[int, list[tuple[float, float]]] = {s: [] for s in range(4)}
    door_side = int(rng.choice(sides)) if rng.random() < 0.75 else -1
    wall_colour = colour(rng, "neutral")
    inner_face = (False, False, False, True, False, False)
    for side in sides:
        origin, yaw, length = _wall_frame(side, width, depth)
        segments = [(-0.1, length + 0.1, 0.0, wall_height)]  # (start, end, bottom, top) along the wall
        if side == door_side and length > 1.6:
            door_w, door_h = rng.uniform(0.8, 1.0), rng.uniform(1.95, 2.1)
            start = rng.uniform(0.15, length - door_w - 0.15)
            segments = [(-0.1, start, 0.0, wall_height), (start + door_w, length + 0.1, 0.0, wall_height)]
            if wall_height > door_h + 0.05:
                segments.append((start, start + door_w, door_h, wall_height))
            wall_spans[side].append((start - 0.1, start + door_w + 0.1))
            obstacles.append(
                _rect_corners(
                    *_to_room(origin, yaw, start + door_w / 2, door_w / 2), door_w / 2 + 0.1, door_w / 2, yaw
                )
            )
            if rng.random() < 0.6:  # the door leaf, opened into the room
                angle = rng.uniform(0.3, 1.9)
                hinge_left = rng.random() < 0.5
                hx = start if hinge_left else start + door_w
                direction = angle if hinge_left else math.pi - angle
                leaf = Piece(
                    DOOR,
                    [box(0, 0, 0.0, door_w - 0.02, 0.04, door_h - 0.01)],
                    colour(rng, ("wood", "neutral")[rng.integers(2)]),
                )
                lx, ly = hx + math.cos(direction) * door_w / 2, math.sin(direction) * door_w / 2
                pieces.append(
                    leaf.moved((lx, ly + 0.02 * math.cos(direction), 0.0), direction).moved(origin, yaw)
                )
        parts = [
            box((a + b) / 2, -0.05, z0, b - a, 0.1, z1 - z0, faces=inner_face) for a, b, z0, z1 in segments
        ]
        pieces.append(Piece(WALL, parts, wall_colour * rng.uniform(0.95, 1.05)).moved(origin, yaw))

    pieces += _place_groups(rng, room_type, width, depth, sides, obstacles, clutter)
    pieces += _wall_decor(rng, width, depth, sides, wall_spans, wall_height)
    return pieces


def _place_groups(
    rng: np.random.Generator,
    room_type: str,
    width: float,
    depth: float,
    wall_sides: list[int],
    obstacles: list[np.ndarray],
    clutter: float,
) -> list[Piece]:
    builders = ROOM_TYPES[room_type]
    target = max(2, int(round(width * depth / 2.2 * clutter**0.7 + rng.normal(0, 0.7))))
    later = [(b, w) for b, w in builders if w > 0]
    weights = np.array([w for _, w in later])
    placed: list[Piece] = []
    footprints = list(obstacles)
    n_placed, attempts = 0, 0
    squeeze = min(0.15, 0.06 * clutter)  # neighbouring footprints may overlap this much (metres)
    while n_placed < target and attempts < 3 * target + 6:
        builder = (
            builders[0][0]
            if n_placed == 0 and attempts < 4
            else later[rng.choice(len(later), p=weights / weights.sum())][0]
        )
        attempts += 1
        group: Group = builder(rng, clutter)  # type: ignore[operator]
        hx, hy = group.half_extents
        for _try in range(12):
            if group.against_wall:
                side = int(rng.choice(4, p=_side_weights(wall_sides)))
                origin, yaw, length = _wall_frame(side, width, depth)
                if length < 2 * hx + 0.02:
                    continue
                corner = rng.random() < 0.3
                along = (
                    (hx + 0.01 if rng.random() < 0.5 else length - hx - 0.01)
                    if corner
                    else rng.uniform(hx + 0.01, length - hx - 0.01)
                )
                gap = 0.0 if rng.random() < 0.6 else rng.uniform(0.0, 0.04)
                cx, cy = _to_room(origin, yaw, along, hy + gap)
                yaw += rng.normal(0, 0.015)
            else:
                yaw = (
                    rng.uniform(-math.pi, math.pi)
                    if rng.random() < 0.35
                    else rng.integers(4) * math.pi / 2 + rng.normal(0, 0.06)
                )
                cx, cy = rng.uniform(0.2, width - 0.2), rng.uniform(0.2, depth - 0.2)
            corners = _rect_corners(cx, cy, hx, hy, yaw)
            core = _rect_corners(cx, cy, max(hx - squeeze, hx * 0.7), max(hy - squeeze, hy * 0.7), yaw)
            if corners[:, 0].min() < -0.005 or corners[:, 1].min() < -0.005:
                continue
            if corners[:, 0].max() > width + 0.005 or corners[:, 1].max() > depth + 0.005:
                continue
            if any(_rects_overlap(core, other) for other in footprints):
                continue
            footprints.append(core)
            placed += [p.moved((cx, cy, 0.0), yaw) for p in group.pieces]
            n_placed += 1
            break
    return placed


def _side_weights(wall_sides: list[int]) -> np.ndarray:
    weights = np.array([1.0 if s in wall_sides else 0.35 for s in range(4)])
    return weights / weights.sum()


def _wall_decor(
    rng: np.random.Generator,
    width: float,
    depth: float,
    wall_sides: list[int],
    wall_spans: dict[int, list[tuple[float, float]]],
    wall_height: float,
) -> list[Piece]:
    """Windows (maybe with curtains) and pictures hanging on the walls."""
    pieces: list[Piece] = []

    def free_span(side: int, length: float, span: float) -> float | None:
        for _ in range(10):
            start = rng.uniform(0.1, length - span - 0.1) if length > span + 0.2 else None
            if start is None:
                return None
            if all(start + span < a or start > b for a, b in wall_spans[side]):
                wall_spans[side].append((start, start + span))
                return start
        return None

    for _ in range(int(rng.poisson(1.2))):
        side = int(rng.choice(wall_sides))
        origin, yaw, length = _wall_frame(side, width, depth)
        ww, wh, sill = rng.uniform(0.8, 2.0), rng.uniform(1.0, 1.5), rng.uniform(0.7, 1.0)
        wh = min(wh, wall_height - sill - 0.1)
        curtain = rng.random() < 0.45
        span = ww + (0.7 if curtain else 0.0)
        start = free_span(side, length, span)
        if start is None or wh < 0.4:
            continue
        x0 = start + (0.35 if curtain else 0.0)
        frame_colour = colour(rng, "neutral")
        window = Piece(WINDOW, [box(x0 + ww / 2, 0.02, sill, ww, 0.04, wh),
                                box(x0 + ww / 2, 0.08, sill - 0.03, ww + 0.06, 0.16, 0.03, shade=0.9)], frame_colour)  # fmt: skip
        pieces.append(window.moved(origin, yaw))
        if curtain:
            cloth = colour(rng, ("fabric", "bright")[rng.integers(2)])
            top = min(wall_height - 0.05, sill + wh + 0.2)
            bottom = rng.uniform(0.0, sill - 0.1) if rng.random() < 0.6 else sill - 0.1
            for edge in (x0 - 0.35, x0 + ww - 0.15) if rng.random() < 0.6 else (x0 - 0.35,):
                drape = Piece(
                    CURTAIN, [box(edge + 0.25, 0.1, bottom, 0.5, rng.uniform(0.04, 0.1), top - bottom)], cloth
                )
                pieces.append(drape.moved(origin, yaw))
    for _ in range(int(rng.poisson(1.0))):
        side = int(rng.choice(wall_sides))
        origin, yaw, length = _wall_frame(side, width, depth)
        pw, ph = rng.uniform(0.3, 1.2), rng.uniform(0.3, 0.9)
        start = free_span(side, length, pw)
        bottom = rng.uniform(1.1, max(1.15, wall_height - ph - 0.15))
        if start is None or bottom + ph > wall_height:
            continue
        picture = Piece(
            PICTURE,
            [box(start + pw / 2, 0.015, bottom, pw, 0.03, ph)],
            colour(rng, ("bright", "wood")[rng.integers(2)]),
        )
        pieces.append(picture.moved(origin, yaw))
    return pieces


# --- surface sampling -----------------------------------------------------------------------------


def _jittered_grid(
    u_len: float, v_len: float, spacing: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points on a u_len x v_len rectangle centred on 0: one per grid cell, jittered inside it."""
    nu, nv = max(1, int(round(u_len / spacing))), max(1, int(round(v_len / spacing)))
    iu, iv = np.divmod(np.arange(nu * nv), nv)
    u = (iu + 0.5 + rng.uniform(-0.35, 0.35, nu * nv)) / nu * u_len - u_len / 2
    v = (iv + 0.5 + rng.uniform(-0.35, 0.35, nu * nv)) / nv * v_len - v_len / 2
    return u, v


def _sample_part(part: Part, spacing: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Surface points and unit normals of one part in its own frame (centred, unrotated)."""
    sx, sy, sz = part.size
    pts, nrm = [], []
    if part.kind == "box":
        half = np.array([sx, sy, sz]) / 2
        for (axis, sign), visible in zip(_BOX_FACE_AXES, part.faces, strict=True):
            if not visible:
                continue
            others = [a for a in range(3) if a != axis]
            u, v = _jittered_grid(2 * half[others[0]], 2 * half[others[1]], spacing, rng)
            p = np.empty((len(u), 3))
            p[:, axis] = sign * half[axis]
            p[:, others[0]], p[:, others[1]] = u, v
            n = np.zeros_like(p)
            n[:, axis] = sign
            pts.append(p)
            nrm.append(n)
    else:
        r, h = sx / 2, sz
        side, bottom, top = part.faces[:3]
        if side:
            n_around = max(6, int(round(2 * math.pi * r / spacing)))
            n_z = max(1, int(round(h / spacing)))
            k_around, k_z = np.divmod(np.arange(n_around * n_z), n_z)
            t = (k_around + 0.5 + rng.uniform(-0.35, 0.35, len(k_z))) / n_around * 2 * math.pi
            z = (k_z + 0.5 + rng.uniform(-0.35, 0.35, len(k_z))) / n_z * h - h / 2
            ct, st = np.cos(t), np.sin(t)
            pts.append(np.stack([r * ct, r * st, z], axis=1))
            nrm.append(np.stack([ct, st, np.zeros_like(t)], axis=1))
        for visible, sign in ((bottom, -1.0), (top, 1.0)):
            if not visible:
                continue
            u, v = _jittered_grid(2 * r, 2 * r, spacing, rng)
            inside = u * u + v * v <= r * r
            u, v = (u[inside], v[inside]) if inside.any() else (np.zeros(1), np.zeros(1))
            pts.append(np.stack([u, v, np.full(len(u), sign * h / 2)], axis=1))
            nrm.append(np.tile([0.0, 0.0, sign], (len(u), 1)))
    if not pts:
        return np.zeros((0, 3)), np.zeros((0, 3))
    return np.concatenate(pts), np.concatenate(nrm)


def _sample_pieces(
    pieces: list[Piece],
    spacing: float,
    rng: np.random.Generator,
    position_noise: float,
    colour_noise: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample every part, remove hidden points, add noise; returns xyz, normals, rgb (uint8), piece index."""
    parts: list[Part] = []
    piece_of_part: list[int] = []
    for index, piece in enumerate(pieces):
        parts += piece.parts
        piece_of_part += [index] * len(piece.parts)
    xyz_parts, normal_parts, part_ids = [], [], []
    coarse = {WALL, FLOOR}
    for part_index, part in enumerate(parts):
        structure = pieces[piece_of_part[part_index]].semantic in coarse
        local, local_normals = _sample_part(
            part, spacing * (STRUCTURE_SPACING_FACTOR if structure else 1.0), rng
        )
        c, s = math.cos(part.yaw), math.sin(part.yaw)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        xyz_parts.append(local @ rot.T + np.asarray(part.center))
        normal_parts.append(local_normals @ rot.T)
        part_ids.append(np.full(len(local), part_index, dtype=np.int64))
    xyz = np.concatenate(xyz_parts)
    normals = np.concatenate(normal_parts)
    part_of = np.concatenate(part_ids)

    visible = ~_hidden_points(xyz, part_of, parts)
    xyz, normals, part_of = xyz[visible], normals[visible], part_of[visible]

    piece_of = np.asarray(piece_of_part, dtype=np.int64)[part_of]
    base = np.stack([pieces[i].colour for i in range(len(pieces))])[piece_of]
    shade = np.array([p.shade for p in parts])[part_of]
    light = 0.8 + 0.2 * (0.5 + 0.5 * normals[:, 2]) - 0.04 * np.abs(normals[:, 0])
    rgb = base * (shade * light)[:, None] + rng.normal(0.0, colour_noise, (len(xyz), 3))
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    xyz = xyz + rng.normal(0.0, position_noise, xyz.shape)
    return xyz, normals, rgb, piece_of


def _hidden_points(xyz: np.ndarray, part_of: np.ndarray, parts: list[Part]) -> np.ndarray:
    """(M,) bool: points lying inside (or on the surface of) a solid other than their own part.

    Points are bucketed in a 2D grid of ``_CULL_CELL`` cells, so each solid tests only the points in
    the cells under it.
    """
    hidden = np.zeros(len(xyz), dtype=bool)
    origin = xyz[:, :2].min(axis=0)
    cells = np.floor((xyz[:, :2] - origin) / _CULL_CELL).astype(np.int64)
    n_y = int(cells[:, 1].max()) + 1
    n_x = int(cells[:, 0].max()) + 1
    keys = cells[:, 0] * n_y + cells[:, 1]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    for part_index, part in enumerate(parts):
        c, s = math.cos(part.yaw), math.sin(part.yaw)
        half = np.asarray(part.size) / 2 + _CULL_EPS
        if part.kind == "box":
            ext_x = abs(c) * half[0] + abs(s) * half[1]
            ext_y = abs(s) * half[0] + abs(c) * half[1]
        else:
            ext_x = ext_y = half[0]
        cx, cy, cz = part.center
        ix0 = max(0, int(math.floor((cx - ext_x - origin[0]) / _CULL_CELL)))
        ix1 = min(n_x - 1, int(math.floor((cx + ext_x - origin[0]) / _CULL_CELL)))
        iy0 = max(0, int(math.floor((cy - ext_y - origin[1]) / _CULL_CELL)))
        iy1 = min(n_y - 1, int(math.floor((cy + ext_y - origin[1]) / _CULL_CELL)))
        if ix0 > ix1 or iy0 > iy1:
            continue
        rows = np.arange(ix0, ix1 + 1) * n_y
        starts = np.searchsorted(sorted_keys, rows + iy0, side="left")
        stops = np.searchsorted(sorted_keys, rows + iy1, side="right")
        candidates = np.concatenate([order[a:b] for a, b in zip(starts, stops, strict=True)])
        if len(candidates) == 0:
            continue
        pts = xyz[candidates]
        near = np.abs(pts[:, 2] - cz) <= half[2]
        near &= part_of[candidates] != part_index
        candidates, pts = candidates[near], pts[near]
        if len(candidates) == 0:
            continue
        dx, dy = pts[:, 0] - cx, pts[:, 1] - cy
        if part.kind == "box":
            inside = (np.abs(c * dx + s * dy) <= half[0]) & (np.abs(-s * dx + c * dy) <= half[1])
        else:
            inside = dx * dx + dy * dy <= half[0] * half[0]
        hidden[candidates[inside]] = True
    return hidden
