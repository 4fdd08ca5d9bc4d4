"""Furniture for synthetic rooms: pieces (one instance each) built from boxes and upright cylinders.

Every builder works in a local frame: origin at the centre of the group's footprint on the floor,
z up, +y pointing into the room (the back of a wall group touches the wall at ``y = -half_depth``).
Dimensions are metres. Builders draw every random number from the ``rng`` they are given, so a room
is a pure function of its seed.

The groups deliberately contain the overlaps annotators meet in real scans: chairs tucked under
tables and desks, objects standing on desks, tables and shelves (boxes nested in a larger box),
pillows on beds and sofas, cabinets standing against sofas and beds, sinks set into counters.
"""

from __future__ import annotations

import math

import numpy as np

from beep3d.synthetic.pieces import (
    BATHTUB,
    BED,
    BOOKSHELF,
    CHAIR,
    COUNTER,
    DESK,
    OTHERFURNITURE,
    REFRIGERATOR,
    SHOWER_CURTAIN,
    SINK,
    SOFA,
    TABLE,
    TOILET,
    Group,
    Piece,
    _any_colour,
    _tuck_offset,
    box,
    cabinet_piece,
    chair,
    colour,
    cylinder,
    monitor,
    scatter_on,
    table_piece,
)


def dining_group(rng: np.random.Generator, clutter: float, big: bool = False) -> Group:
    """A table with chairs around it (some tucked under the top) and objects on it."""
    round_top = not big and rng.random() < 0.2
    if big:
        w, d = rng.uniform(2.0, 3.6), rng.uniform(1.0, 1.4)
    elif round_top:
        w = d = rng.uniform(0.8, 1.2)
    else:
        w, d = rng.uniform(0.8, 2.0), rng.uniform(0.7, 1.1)
    h = rng.uniform(0.72, 0.78)
    table = table_piece(rng, w, d, h, TABLE, round_top)
    pieces = [table]
    tuck = min(0.95, 0.6 * clutter + 0.2)
    occupancy = min(0.95, 0.55 + 0.25 * clutter)
    reach_x, reach_y = w / 2, d / 2
    sides = [
        (0.0, d / 2, w),
        (math.pi, d / 2, w),
    ]  # (yaw of the chair facing the table, edge distance, edge length)
    if rng.random() < 0.6:
        sides += [(math.pi / 2, w / 2, d), (-math.pi / 2, w / 2, d)]
    for side_yaw, edge, length in sides:
        slots = max(1, int((length - 0.2) // 0.62))
        for k in range(slots):
            if rng.random() > occupancy:
                continue
            ch, _cw, cd, _sh = chair(rng)
            along = (k + 0.5) * (length - 0.2) / slots - (length - 0.2) / 2
            dist = edge + cd / 2 + _tuck_offset(rng, cd, tuck)
            # the chair faces the table: its +y points from the chair to the table centre
            jitter = rng.normal(0, 0.12)
            out = (math.sin(side_yaw), -math.cos(side_yaw))  # outward direction from the table centre
            ox = -out[1] * along + out[0] * dist
            oy = out[0] * along + out[1] * dist
            pieces.append(ch.moved((ox, oy, 0.0), side_yaw + jitter))
            reach_x, reach_y = max(reach_x, abs(ox) + cd / 2 + 0.1), max(reach_y, abs(oy) + cd / 2 + 0.1)
    n_objects = rng.poisson(2.0 * clutter * (w * d))
    pieces += scatter_on(rng, int(n_objects), (w / 2 - 0.05, d / 2 - 0.05), (0.0, 0.0), h, 0.4)
    return Group(pieces, (reach_x, reach_y), against_wall=False)


def desk_group(rng: np.random.Generator, clutter: float) -> Group:
    """A desk against a wall with a monitor, objects, maybe a drawer unit under it and a chair in front."""
    w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.55, 0.8), rng.uniform(0.72, 0.77)
    desk = table_piece(rng, w, d, h, DESK)
    pieces = [desk]
    taken: list[tuple[float, float, float]] = []
    for k in range(1 if w < 1.4 or rng.random() < 0.6 else 2):
        mon, radius = monitor(rng)
        x = (0.0 if k == 0 else rng.uniform(0.3, w / 2 - 0.3)) + rng.normal(0, 0.08)
        x = float(np.clip(x, -w / 2 + radius, w / 2 - radius))
        y = -d / 2 + rng.uniform(0.12, 0.2)
        pieces.append(mon.moved((x, y, h), rng.normal(0, 0.15)))
        taken.append((x, y, radius))
    if rng.random() < 0.6:  # keyboard
        kw = rng.uniform(0.35, 0.45)
        pieces.append(Piece(OTHERFURNITURE, [box(0, 0, 0, kw, 0.14, 0.025)], colour(rng, "neutral")).moved(
            (rng.normal(0, 0.05), d / 2 - 0.15, h), rng.normal(0, 0.1)
        ))  # fmt: skip
        taken.append((0.0, d / 2 - 0.15, kw / 2))
    pieces += scatter_on(
        rng, int(rng.poisson(2.0 * clutter)), (w / 2 - 0.04, d / 2 - 0.04), (0, 0), h, 0.45, taken
    )
    if rng.random() < 0.35 * clutter + 0.1:  # drawer unit under the desk: a box nested in the desk's box
        cw, cd = rng.uniform(0.35, 0.45), min(d - 0.08, rng.uniform(0.45, 0.6))
        ch = min(h - 0.1, rng.uniform(0.5, 0.62))
        x = rng.choice([-1, 1]) * (w / 2 - cw / 2 - 0.06)
        pieces.append(cabinet_piece(rng, cw, cd, ch).moved((x, -d / 2 + cd / 2 + 0.03, 0), 0.0))
    if rng.random() < 0.3 * clutter:  # a trash can under the desk
        r = rng.uniform(0.1, 0.15)
        can = Piece(
            OTHERFURNITURE,
            [cylinder(0, 0, 0, r, rng.uniform(0.25, 0.4), faces=(True, False, True))],
            _any_colour(rng),
        )
        pieces.append(
            can.moved((rng.uniform(-w / 2 + r + 0.05, w / 2 - r - 0.05), -d / 2 + r + 0.05, 0), 0.0)
        )
    reach_y = d
    if rng.random() < 0.85:
        ch_piece, _cw, cd, _sh = chair(rng)
        dist = d / 2 + cd / 2 + _tuck_offset(rng, cd, min(0.95, 0.55 * clutter + 0.2))
        pieces.append(ch_piece.moved((rng.normal(0, 0.15), dist, 0), math.pi + rng.normal(0, 0.25)))
        reach_y = dist + cd
    half_y = (reach_y + d / 2) / 2
    shift = half_y - d / 2  # recentre the footprint so the back stays on the wall
    pieces = [p.moved((0, -shift, 0), 0.0) for p in pieces]
    return Group(pieces, (w / 2 + 0.05, half_y), against_wall=True)


def bed_group(rng: np.random.Generator, clutter: float) -> Group:
    """A bed with its headboard on the wall, pillows on it and nightstands beside it."""
    w, length = (
        (rng.uniform(0.9, 1.1) if rng.random() < 0.4 else rng.uniform(1.3, 1.9)),
        rng.uniform(1.95, 2.15),
    )
    frame_h, mattress_h = rng.uniform(0.2, 0.35), rng.uniform(0.15, 0.25)
    c = colour(rng, "wood")
    top = frame_h + mattress_h
    parts = [
        box(0, 0, 0, w, length, frame_h),
        box(0, 0.02, frame_h, w - 0.04, length - 0.06, mattress_h, shade=1.4),
        box(0, -length / 2 + 0.03, 0, w + 0.04, 0.06, top + rng.uniform(0.3, 0.6), shade=0.9),
    ]
    if rng.random() < 0.6:  # blanket over the lower part of the mattress
        parts.append(box(0, length * 0.12, top, w - 0.02, length * 0.7, 0.04, shade=1.2))
    pieces = [Piece(BED, parts, c)]
    n_pillows = 1 if w < 1.2 else int(rng.integers(1, 3)) + (rng.random() < 0.3 * clutter)
    pw = min(0.6, (w - 0.1) / max(1, min(n_pillows, 2)))
    fabric = colour(rng, ("fabric", "neutral")[rng.integers(2)])
    for k in range(n_pillows):
        x = (
            (k + 0.5) * (w - 0.1) / max(1, min(n_pillows, 2)) - (w - 0.1) / 2
            if k < 2
            else rng.uniform(-0.2, 0.2)
        )
        y = -length / 2 + 0.3 + (0.15 if k >= 2 else 0.0)
        pillow = Piece(OTHERFURNITURE, [box(0, 0, 0, pw - 0.04, 0.38, rng.uniform(0.1, 0.16))], fabric)
        pieces.append(pillow.moved((x, y, top), rng.normal(0, 0.08)))
    half_w = w / 2
    for sx in (-1, 1):
        if rng.random() < 0.45 + 0.25 * clutter:
            nw, nd, nh = rng.uniform(0.4, 0.55), rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.65)
            gap = rng.uniform(0.0, 0.04)
            x = sx * (w / 2 + 0.02 + gap + nw / 2)
            stand = cabinet_piece(rng, nw, nd, nh).moved((x, -length / 2 + nd / 2, 0), 0.0)
            pieces.append(stand)
            pieces += scatter_on(
                rng,
                int(rng.poisson(clutter)),
                (nw / 2 - 0.03, nd / 2 - 0.03),
                (x, -length / 2 + nd / 2),
                nh,
                0.5,
            )
            half_w = max(half_w, abs(x) + nw / 2)
    return Group(pieces, (half_w, length / 2), against_wall=True)


def sofa_group(rng: np.random.Generator, clutter: float) -> Group:
    """A sofa with arms against a wall, cushions, an end cabinet against an arm, a coffee table in front."""
    w, d = rng.uniform(1.5, 2.4), rng.uniform(0.8, 1.0)
    seat_h, back_t, arm_w = rng.uniform(0.38, 0.46), rng.uniform(0.15, 0.25), rng.uniform(0.1, 0.22)
    back_h, arm_h = rng.uniform(0.7, 0.9), rng.uniform(0.55, 0.68)
    c = colour(rng, "fabric")
    parts = [
        box(0, back_t / 2, 0.08, w - 2 * arm_w, d - back_t, seat_h - 0.08),
        box(0, -d / 2 + back_t / 2, 0.08, w, back_t, back_h - 0.08, shade=0.92),
        box(-w / 2 + arm_w / 2, back_t / 2, 0.08, arm_w, d - back_t, arm_h - 0.08, shade=0.95),
        box(w / 2 - arm_w / 2, back_t / 2, 0.08, arm_w, d - back_t, arm_h - 0.08, shade=0.95),
    ]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(cylinder(sx * (w / 2 - 0.05), sy * (d / 2 - 0.05), 0, 0.025, 0.08, shade=0.5))
    pieces = [Piece(SOFA, parts, c)]
    for _ in range(int(rng.poisson(0.8 * clutter))):  # throw pillows leaning on the back
        pw = rng.uniform(0.35, 0.5)
        x = rng.uniform(-w / 2 + arm_w + pw / 2, w / 2 - arm_w - pw / 2)
        pillow = Piece(
            OTHERFURNITURE, [box(0, 0, 0, pw, 0.14, pw)], colour(rng, ("bright", "fabric")[rng.integers(2)])
        )
        pieces.append(pillow.moved((x, -d / 2 + back_t + 0.08, seat_h), rng.normal(0, 0.15)))
    half_w = w / 2
    for sx in (-1, 1):
        if rng.random() < 0.3 + 0.3 * clutter:  # end cabinet touching an arm
            nw, nd, nh = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.7)
            x = sx * (w / 2 + nw / 2 + rng.uniform(-0.02, 0.03))
            pieces.append(cabinet_piece(rng, nw, nd, nh).moved((x, -d / 2 + nd / 2, 0), 0.0))
            pieces += scatter_on(
                rng,
                int(rng.poisson(0.8 * clutter)),
                (nw / 2 - 0.03, nd / 2 - 0.03),
                (x, -d / 2 + nd / 2),
                nh,
                0.5,
            )
            half_w = max(half_w, abs(x) + nw / 2)
    reach_y = d / 2
    if rng.random() < 0.65:  # coffee table in front
        tw, td, th = rng.uniform(0.8, 1.3), rng.uniform(0.45, 0.7), rng.uniform(0.35, 0.48)
        y = d / 2 + rng.uniform(0.25, 0.45) + td / 2
        pieces.append(table_piece(rng, tw, td, th).moved((rng.normal(0, 0.1), y, 0), rng.normal(0, 0.06)))
        pieces += scatter_on(
            rng, int(rng.poisson(1.2 * clutter)), (tw / 2 - 0.05, td / 2 - 0.05), (0, y), th, 0.35
        )
        reach_y = y + td / 2
    half_y = (reach_y + d / 2) / 2
    pieces = [p.moved((0, -(half_y - d / 2), 0), 0.0) for p in pieces]
    return Group(pieces, (half_w, half_y), against_wall=True)


def cabinet_group(rng: np.random.Generator, clutter: float) -> Group:
    """One to three cabinets side by side against a wall, objects (maybe a TV) on top when low."""
    d = rng.uniform(0.4, 0.6)
    tall = rng.random() < 0.35
    h = rng.uniform(1.5, 2.1) if tall else rng.uniform(0.6, 1.0)
    widths = [rng.uniform(0.4, 1.0) for _ in range(int(rng.integers(1, 4)))]
    total = sum(widths)
    pieces: list[Piece] = []
    x = -total / 2
    for cw in widths:
        pieces.append(cabinet_piece(rng, cw, d, h * rng.uniform(0.97, 1.03)).moved((x + cw / 2, 0, 0), 0.0))
        x += cw
    if not tall:
        taken: list[tuple[float, float, float]] = []
        if rng.random() < 0.4:  # a television
            tw = min(total - 0.1, rng.uniform(0.8, 1.3))
            tv = Piece(OTHERFURNITURE, [
                box(0, 0, 0, 0.3, 0.2, 0.02, shade=0.8), box(0, -0.04, 0.02, 0.06, 0.03, 0.1, shade=0.8),
                box(0, -0.02, 0.08, tw, 0.05, tw * 0.58)], colour(rng, "neutral"))  # fmt: skip
            pieces.append(tv.moved((0, -0.05, h), 0.0))
            taken.append((0.0, -0.05, tw / 2))
        pieces += scatter_on(
            rng, int(rng.poisson(1.5 * clutter)), (total / 2 - 0.03, d / 2 - 0.03), (0, 0), h, 0.45, taken
        )
    return Group(pieces, (total / 2, d / 2 + 0.02), against_wall=True)


def bookshelf_group(rng: np.random.Generator, clutter: float) -> Group:
    """A bookshelf against a wall with objects standing on its shelves (boxes nested in its box)."""
    w, d, h = rng.uniform(0.6, 1.2), rng.uniform(0.28, 0.4), rng.uniform(1.0, 2.1)
    t = rng.uniform(0.018, 0.03)
    n_shelves = max(2, int(h / rng.uniform(0.3, 0.42)))
    c = colour(rng, ("wood", "neutral")[rng.integers(2)])
    parts = [
        box(-w / 2 + t / 2, 0, 0, t, d, h),
        box(w / 2 - t / 2, 0, 0, t, d, h),
        box(0, -d / 2 + 0.005, 0, w - 2 * t, 0.01, h, shade=0.85),
    ]
    pitch = (h - t) / n_shelves
    for k in range(n_shelves + 1):
        parts.append(box(0, 0.005, k * pitch, w - 2 * t, d - 0.01, t))
    pieces = [Piece(BOOKSHELF, parts, c)]
    inner = (w / 2 - t - 0.01, d / 2 - 0.03)
    for k in range(n_shelves):
        z = k * pitch + t
        if rng.random() < 0.25:  # a row of books, one instance
            books, x = [], -inner[0]
            limit = rng.uniform(0.3, 1.0) * 2 * inner[0] - inner[0]
            while x < limit:
                bt = rng.uniform(0.02, 0.05)
                bh = min(pitch - t - 0.02, rng.uniform(0.18, 0.3))
                books.append(
                    box(
                        x + bt / 2, 0, 0, bt, rng.uniform(0.15, 2 * inner[1]), bh, shade=rng.uniform(0.6, 1.3)
                    )
                )
                x += bt + 0.002
            if books:
                pieces.append(Piece(OTHERFURNITURE, books, _any_colour(rng)).moved((0, 0, z), 0.0))
        else:
            pieces += scatter_on(rng, int(rng.poisson(1.6 * clutter)), inner, (0, 0), z, pitch - t - 0.02)
    return Group(pieces, (w / 2, d / 2 + 0.01), against_wall=True)


def kitchen_group(rng: np.random.Generator, clutter: float) -> Group:
    """A counter along a wall with a sink set into it, objects on it and a refrigerator at one end."""
    w, d, h = rng.uniform(1.2, 3.0), rng.uniform(0.55, 0.65), rng.uniform(0.86, 0.94)
    c = colour(rng, ("wood", "neutral")[rng.integers(2)])
    counter = Piece(
        COUNTER, [box(0, -0.02, 0, w, d - 0.04, h - 0.04, shade=0.9), box(0, 0, h - 0.04, w, d, 0.04)], c
    )
    pieces = [counter]
    sw, sd = rng.uniform(0.45, 0.7), rng.uniform(0.38, 0.45)
    sx = rng.uniform(-w / 2 + sw / 2 + 0.05, w / 2 - sw / 2 - 0.05)
    sink = Piece(SINK, [
        box(0, 0, 0, sw, sd, 0.015),  # rim resting on the counter top
        box(0, 0.1, 0.015, 0.05, 0.05, 0.03, shade=0.8),
        cylinder(0, -sd / 2 + 0.05, 0.015, 0.015, rng.uniform(0.2, 0.3), shade=0.8),
    ], colour(rng, "neutral"))  # fmt: skip
    pieces.append(sink.moved((sx, 0, h), 0.0))
    taken = [(sx, 0.0, 0.5 * math.hypot(sw, sd))]
    pieces += scatter_on(
        rng, int(rng.poisson(1.5 * clutter)), (w / 2 - 0.04, d / 2 - 0.04), (0, 0), h, 0.45, taken
    )
    half_w = w / 2
    if rng.random() < 0.7:
        fw, fd, fh = rng.uniform(0.6, 0.85), rng.uniform(0.6, 0.75), rng.uniform(1.5, 1.95)
        side = rng.choice([-1, 1])
        fx = side * (w / 2 + fw / 2 + rng.uniform(0.0, 0.03))
        fridge = Piece(REFRIGERATOR, [
            box(0, 0, 0, fw, fd, fh),
            box(0, fd / 2 + 0.01, 0.05, fw - 0.02, 0.02, fh * 0.6, shade=1.05),
            box(0, fd / 2 + 0.01, fh * 0.62, fw - 0.02, 0.02, fh * 0.36, shade=1.05),
            box(fw / 2 - 0.08, fd / 2 + 0.04, fh * 0.3, 0.02, 0.03, 0.3, shade=0.6),
        ], colour(rng, "neutral"))  # fmt: skip
        pieces.append(fridge.moved((fx, -d / 2 + fd / 2, 0), 0.0))
        reach = abs(fx) + fw / 2
        x_shift = -side * (reach - w / 2) / 2
        depth = max(d, fd)
        pieces = [p.moved((x_shift, -(depth - d) / 2, 0), 0.0) for p in pieces]
        half_w, d = (reach + w / 2) / 2, depth
    return Group(pieces, (half_w, d / 2 + 0.02), against_wall=True)


def toilet_group(rng: np.random.Generator, clutter: float) -> Group:
    """A toilet (tank, bowl, seat) against a wall."""
    tw, td, th = rng.uniform(0.38, 0.5), rng.uniform(0.15, 0.22), rng.uniform(0.35, 0.45)
    bowl_r, bowl_h = rng.uniform(0.17, 0.21), rng.uniform(0.36, 0.42)
    c = colour(rng, "neutral")
    bowl_y = -0.35 + td + bowl_r * 0.9
    parts = [
        box(0, -0.35 + td / 2, bowl_h, tw, td, th),
        box(0, -0.35 + td / 2 + 0.02, 0, tw * 0.6, td, bowl_h, shade=0.95),
        cylinder(0, bowl_y, 0, bowl_r * 0.7, bowl_h - 0.03, shade=0.95),
        cylinder(0, bowl_y, bowl_h - 0.03, bowl_r, 0.03, shade=1.05),
    ]
    pieces = [Piece(TOILET, parts, c).moved((0, 0, 0), 0.0)]
    depth = td + 2 * bowl_r
    return Group([p.moved((0, 0.35 - depth / 2, 0), 0.0) for p in pieces], (tw / 2 + 0.05, depth / 2), True)


def vanity_group(rng: np.random.Generator, clutter: float) -> Group:
    """A bathroom sink: a basin on a vanity cabinet (the sink's box sits on the cabinet's) or on a pedestal."""
    w, d = rng.uniform(0.5, 1.0), rng.uniform(0.4, 0.55)
    pieces: list[Piece] = []
    if rng.random() < 0.6:
        h = rng.uniform(0.75, 0.85)
        pieces.append(cabinet_piece(rng, w, d, h))
        basin = Piece(SINK, [
            box(0, 0, 0, w * 0.8, d * 0.8, rng.uniform(0.04, 0.12)),
            cylinder(0, -d * 0.3, 0.0, 0.015, 0.22, shade=0.8),
        ], colour(rng, "neutral")).moved((0, 0, h - 0.03), 0.0)  # fmt: skip
        pieces.append(basin)
        pieces += scatter_on(
            rng, int(rng.poisson(0.6 * clutter)), (w / 2 - 0.03, 0.06), (0, d / 2 - 0.07), h, 0.25
        )
    else:
        h = rng.uniform(0.78, 0.88)
        basin = Piece(SINK, [
            cylinder(0, 0, 0, 0.08, h - 0.15, shade=0.95),
            box(0, 0, h - 0.15, w * 0.8, d, 0.15),
            cylinder(0, -d / 2 + 0.05, h, 0.015, 0.2, shade=0.8),
        ], colour(rng, "neutral"))  # fmt: skip
        pieces.append(basin)
    return Group(pieces, (w / 2, d / 2 + 0.02), against_wall=True)


def bathtub_group(rng: np.random.Generator, clutter: float) -> Group:
    """A bathtub (walls and bottom) along a wall with a shower curtain hanging along its edge."""
    w, d, h = rng.uniform(1.4, 1.8), rng.uniform(0.7, 0.85), rng.uniform(0.5, 0.6)
    t = 0.06
    c = colour(rng, "neutral")
    parts = [
        box(0, 0, 0, w, d, 0.08),
        box(-w / 2 + t / 2, 0, 0.08, t, d, h - 0.08),
        box(w / 2 - t / 2, 0, 0.08, t, d, h - 0.08),
        box(0, -d / 2 + t / 2, 0.08, w - 2 * t, t, h - 0.08),
        box(0, d / 2 - t / 2, 0.08, w - 2 * t, t, h - 0.08),
    ]
    pieces = [Piece(BATHTUB, parts, c)]
    if rng.random() < 0.7:
        cw = w * rng.uniform(0.4, 1.0)
        curtain_h = rng.uniform(1.4, 1.7)
        x = rng.uniform(-w / 2 + cw / 2, w / 2 - cw / 2)
        curtain = Piece(
            SHOWER_CURTAIN,
            [box(0, 0, 0, cw, 0.02, curtain_h)],
            colour(rng, ("bright", "neutral")[rng.integers(2)]),
        )
        pieces.append(curtain.moved((x, d / 2 - 0.08, h + rng.uniform(-0.25, 0.1)), 0.0))
    if rng.random() < 0.5 * clutter:
        pieces += scatter_on(
            rng, 1 + int(rng.poisson(0.5)), (w / 2 - t - 0.1, d / 2 - t - 0.1), (0, 0), 0.08, 0.3
        )
    return Group(pieces, (w / 2, d / 2), against_wall=True)


def armchair_group(rng: np.random.Generator, clutter: float) -> Group:
    """A single-seat armchair (class chair) with maybe a pillow on it."""
    w, d = rng.uniform(0.7, 0.95), rng.uniform(0.7, 0.9)
    seat_h, arm_w, back_t = rng.uniform(0.38, 0.45), rng.uniform(0.1, 0.18), rng.uniform(0.12, 0.2)
    parts = [
        box(0, back_t / 2, 0.05, w - 2 * arm_w, d - back_t, seat_h - 0.05),
        box(0, -d / 2 + back_t / 2, 0.05, w, back_t, rng.uniform(0.65, 0.85)),
        box(-w / 2 + arm_w / 2, back_t / 2, 0.05, arm_w, d - back_t, rng.uniform(0.5, 0.62)),
        box(w / 2 - arm_w / 2, back_t / 2, 0.05, arm_w, d - back_t, rng.uniform(0.5, 0.62)),
    ]
    pieces = [Piece(CHAIR, parts, colour(rng, "fabric"))]
    if rng.random() < 0.4 * clutter:
        pillow = Piece(OTHERFURNITURE, [box(0, 0, 0, 0.4, 0.13, 0.38)], colour(rng, "bright"))
        pieces.append(pillow.moved((0, -d / 2 + back_t + 0.07, seat_h), rng.normal(0, 0.2)))
    return Group(pieces, (w / 2, d / 2), against_wall=rng.random() < 0.5)


def chair_row_group(rng: np.random.Generator, clutter: float) -> Group:
    """Two to five chairs side by side, close enough for their boxes to touch or overlap."""
    pieces: list[Piece] = []
    x, depth = 0.0, 0.0
    first, _w0, _d0, _ = chair(rng)
    for k in range(int(rng.integers(2, 6))):
        piece = first if k == 0 or rng.random() < 0.7 else chair(rng)[0]
        w = max(abs(p.center[0]) + p.size[0] / 2 for p in piece.parts) * 2
        d = max(abs(p.center[1]) + p.size[1] / 2 for p in piece.parts) * 2
        pieces.append(piece.moved((x + w / 2, rng.normal(0, 0.05), 0), rng.normal(0, 0.2)))
        x += w + rng.uniform(-0.02, 0.12)
        depth = max(depth, d)
    pieces = [p.moved((-x / 2, 0, 0), 0.0) for p in pieces]
    return Group(pieces, (x / 2 + 0.05, depth / 2 + 0.08), against_wall=rng.random() < 0.3)


def loose_object_group(rng: np.random.Generator, clutter: float) -> Group:
    """A trash can, a floor lamp or a loose chair standing on its own."""
    kind = rng.integers(3)
    if kind == 0:
        r, h = rng.uniform(0.12, 0.2), rng.uniform(0.3, 0.6)
        parts = [
            cylinder(0, 0, 0, r, h, faces=(True, False, True))
            if rng.random() < 0.5
            else box(0, 0, 0, 2 * r, 1.6 * r, h)
        ]
        return Group(
            [Piece(OTHERFURNITURE, parts, _any_colour(rng))], (r, r), against_wall=rng.random() < 0.6
        )
    if kind == 1:
        pole = rng.uniform(1.2, 1.6)
        parts = [
            cylinder(0, 0, 0, 0.14, 0.03, shade=0.7),
            cylinder(0, 0, 0.03, 0.015, pole, shade=0.6),
            cylinder(0, 0, 0.03 + pole, rng.uniform(0.15, 0.22), 0.25, shade=1.2),
        ]
        return Group([Piece(OTHERFURNITURE, parts, colour(rng, "neutral"))], (0.22, 0.22), against_wall=False)
    piece, w, d, _ = chair(rng)
    return Group([piece], (w / 2, d / 2), against_wall=False)


#: Group builders per room type with their relative weights.
ROOM_TYPES: dict[str, list[tuple[object, float]]] = {
    "office": [(desk_group, 4.0), (cabinet_group, 1.2), (bookshelf_group, 0.8), (dining_group, 1.0),
               (loose_object_group, 1.2), (armchair_group, 0.3),
               (chair_row_group, 0.8)],
    "bedroom": [(bed_group, 0.0), (desk_group, 1.5), (cabinet_group, 1.5), (bookshelf_group, 0.6),
                (armchair_group, 0.5), (loose_object_group, 0.8)],
    "living": [(sofa_group, 0.0), (cabinet_group, 1.5), (bookshelf_group, 0.6), (armchair_group, 1.0),
               (dining_group, 1.2), (loose_object_group, 0.8), (sofa_group, 0.4), (chair_row_group, 0.3)],
    "kitchen": [(kitchen_group, 0.0), (dining_group, 2.0), (cabinet_group, 1.5), (loose_object_group, 1.0)],
    "bathroom": [(toilet_group, 0.0), (vanity_group, 1.5), (bathtub_group, 0.8), (cabinet_group, 0.7),
                 (loose_object_group, 0.6)],
    "conference": [(lambda rng, clutter: dining_group(rng, clutter, big=True), 0.0), (cabinet_group, 1.0),
                   (loose_object_group, 1.0), (bookshelf_group, 0.4), (desk_group, 0.5), (dining_group, 0.5), (chair_row_group, 1.5)],
}  # fmt: skip
"""The first builder of each room type is always placed first (weight 0 = only that once)."""
