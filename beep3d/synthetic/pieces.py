"""Pieces of synthetic furniture: parts (boxes and upright cylinders), one instance each, and their colours.

Every builder works in a local frame: origin at the centre of the piece's footprint on the floor, z up.
Dimensions are metres. Builders draw every random number from the ``rng`` they are given.
:mod:`beep3d.synthetic.furniture` arranges these pieces into the groups a room is made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

# NYU40 ids of the classes the synthetic rooms use (the 18 ScanNet classes plus wall and floor).
WALL, FLOOR, CABINET, BED, CHAIR, SOFA, TABLE, DOOR, WINDOW, BOOKSHELF, PICTURE, COUNTER = range(1, 13)
DESK, CURTAIN, REFRIGERATOR, SHOWER_CURTAIN = 14, 16, 24, 28
TOILET, SINK, BATHTUB, OTHERFURNITURE = 33, 34, 36, 39

#: Box faces in the order (-x, +x, -y, +y, -z, +z); cylinder faces in the order (side, bottom, top).
ALL_FACES: tuple[bool, ...] = (True, True, True, True, True, True)


@dataclass(frozen=True)
class Part:
    """One solid primitive of a piece.

    Attributes
    ----------
    kind
        "box" or "cylinder" (a cylinder's axis is z).
    center
        (3,) centre of the solid, metres, in the frame of whatever holds the part.
    size
        (3,) full extents; for a cylinder (2 r, 2 r, height).
    yaw
        Rotation about +z, radians.
    faces
        Which surfaces are sampled: 6 flags for a box (-x, +x, -y, +y, -z, +z), 3 for a cylinder
        (side, bottom, top). A wall is a slab whose inner face alone is seen.
    shade
        Colour multiplier of this part relative to its piece (legs darker, cushions lighter).
    """

    kind: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0
    faces: tuple[bool, ...] = ALL_FACES
    shade: float = 1.0

    def moved(self, origin: tuple[float, float, float], yaw: float) -> Part:
        """The part after rotating the frame by ``yaw`` about z and moving it to ``origin``."""
        c, s = math.cos(yaw), math.sin(yaw)
        x, y, z = self.center
        center = (c * x - s * y + origin[0], s * x + c * y + origin[1], z + origin[2])
        return replace(self, center=center, yaw=self.yaw + yaw)


@dataclass
class Piece:
    """One instance: a semantic class (NYU40 id), its parts, a base colour and its yaw."""

    semantic: int
    parts: list[Part]
    colour: np.ndarray
    yaw: float = 0.0

    def moved(self, origin: tuple[float, float, float], yaw: float) -> Piece:
        """The piece after rotating the frame by ``yaw`` about z and moving it to ``origin``."""
        return Piece(self.semantic, [p.moved(origin, yaw) for p in self.parts], self.colour, self.yaw + yaw)


@dataclass
class Group:
    """Pieces placed together, with the footprint they need on the floor.

    ``half_extents`` is the half width (x) and half depth (y) of the footprint rectangle centred on
    the local origin; ``against_wall`` groups are placed with their back (-y side) on a wall.
    """

    pieces: list[Piece]
    half_extents: tuple[float, float]
    against_wall: bool


def box(x: float, y: float, z0: float, sx: float, sy: float, sz: float, **kw: object) -> Part:
    """A box part whose bottom is at height ``z0`` (metres)."""
    return Part("box", (x, y, z0 + sz / 2), (sx, sy, sz), **kw)  # type: ignore[arg-type]


def cylinder(x: float, y: float, z0: float, radius: float, height: float, **kw: object) -> Part:
    """An upright cylinder part whose bottom is at height ``z0`` (metres)."""
    return Part("cylinder", (x, y, z0 + height / 2), (2 * radius, 2 * radius, height), **kw)  # type: ignore[arg-type]


# --- colours --------------------------------------------------------------------------------------

_WOODS = ((150, 111, 70), (182, 141, 96), (110, 78, 50), (205, 170, 125), (90, 62, 40))
_FABRICS = ((70, 90, 130), (120, 60, 60), (90, 110, 80), (150, 140, 125), (60, 60, 65), (170, 120, 70))
_NEUTRALS = ((225, 225, 220), (200, 200, 195), (60, 60, 60), (35, 35, 38), (160, 165, 170), (240, 238, 230))
_BRIGHTS = ((200, 60, 50), (50, 120, 190), (230, 190, 60), (70, 160, 90), (180, 90, 160), (240, 140, 50))


def colour(rng: np.random.Generator, palette: str) -> np.ndarray:
    """A base colour (3,) float 0..255 from a named palette, with per-object variation."""
    choices = {"wood": _WOODS, "fabric": _FABRICS, "neutral": _NEUTRALS, "bright": _BRIGHTS}[palette]
    base = np.asarray(choices[rng.integers(len(choices))], dtype=np.float64)
    return np.clip(base * rng.uniform(0.85, 1.15) + rng.normal(0, 8, 3), 0, 255)


def _any_colour(rng: np.random.Generator) -> np.ndarray:
    return colour(rng, ("wood", "neutral", "bright", "fabric")[rng.integers(4)])


# --- small objects --------------------------------------------------------------------------------


def small_object(rng: np.random.Generator, max_width: float, max_height: float) -> tuple[Piece, float]:
    """A small object standing on z = 0 (box, book stack, cup, bottle, lamp, laptop).

    Returns the piece (class otherfurniture) and the radius of its footprint, metres.
    """
    kind = rng.integers(6)
    c = _any_colour(rng)
    max_width = max(max_width, 0.32)
    if kind == 0:  # a box
        sx, sy = rng.uniform(0.08, min(0.4, max_width), 2)
        sz = rng.uniform(0.05, max(0.06, min(0.35, max_height)))
        return Piece(OTHERFURNITURE, [box(0, 0, 0, sx, sy, sz)], c, 0.0), 0.5 * math.hypot(sx, sy)
    if kind == 1:  # a stack of books
        parts, z = [], 0.0
        w0, d0 = rng.uniform(0.15, min(0.3, max_width)), rng.uniform(0.12, min(0.24, max_width))
        for _ in range(rng.integers(1, 5)):
            t = rng.uniform(0.02, 0.05)
            if z + t > max_height:
                break
            parts.append(
                box(rng.normal(0, 0.01), rng.normal(0, 0.01), z, w0, d0, t, shade=rng.uniform(0.7, 1.2))
            )
            z += t
        if not parts:
            parts = [box(0, 0, 0, w0, d0, 0.02)]
        return Piece(OTHERFURNITURE, parts, c, 0.0), 0.5 * math.hypot(w0, d0) + 0.02
    if kind in (2, 3):  # a cup or bottle
        r = rng.uniform(0.03, 0.07) if kind == 2 else rng.uniform(0.035, 0.05)
        h = rng.uniform(0.08, 0.14) if kind == 2 else rng.uniform(0.2, 0.34)
        h = min(h, max(0.06, max_height))
        return Piece(OTHERFURNITURE, [cylinder(0, 0, 0, r, h)], c, 0.0), r
    if kind == 4 and max_height > 0.35:  # a table lamp
        base_r, shade_r = rng.uniform(0.06, 0.1), rng.uniform(0.1, 0.16)
        pole_h = rng.uniform(0.2, 0.35)
        parts = [
            cylinder(0, 0, 0, base_r, 0.03, shade=0.7),
            cylinder(0, 0, 0.03, 0.012, pole_h, shade=0.6),
            cylinder(0, 0, 0.03 + pole_h, shade_r, rng.uniform(0.15, 0.22), shade=1.2),
        ]
        return Piece(OTHERFURNITURE, parts, colour(rng, "neutral"), 0.0), shade_r
    # a laptop: base and an upright screen
    w, d = rng.uniform(0.3, 0.38), rng.uniform(0.22, 0.26)
    parts = [
        box(0, 0, 0, w, d, 0.02),
        box(0, -d / 2 + 0.01, 0.02, w, 0.012, rng.uniform(0.2, 0.24), shade=0.8),
    ]
    return Piece(OTHERFURNITURE, parts, colour(rng, "neutral"), 0.0), 0.5 * math.hypot(w, d)


def scatter_on(
    rng: np.random.Generator,
    count: int,
    half_extents: tuple[float, float],
    center: tuple[float, float],
    z: float,
    max_height: float,
    taken: list[tuple[float, float, float]] | None = None,
) -> list[Piece]:
    """Place up to ``count`` small objects on a rectangular surface at height ``z`` without collisions.

    ``taken`` lists (x, y, radius) discs already used on that surface (for example a monitor).
    """
    taken = list(taken or [])
    pieces: list[Piece] = []
    hx, hy = half_extents
    for _ in range(count):
        piece, radius = small_object(rng, max_width=min(hx, hy) * 1.6, max_height=max_height)
        for _attempt in range(8):
            if hx - radius <= 0 or hy - radius <= 0:
                break
            x = center[0] + rng.uniform(-hx + radius, hx - radius)
            y = center[1] + rng.uniform(-hy + radius, hy - radius)
            if all(math.hypot(x - tx, y - ty) > radius + tr + 0.01 for tx, ty, tr in taken):
                yaw = rng.uniform(-math.pi, math.pi)
                pieces.append(piece.moved((x, y, z), yaw))
                taken.append((x, y, radius))
                break
    return pieces


# --- furniture pieces -----------------------------------------------------------------------------


def _legs(
    rng: np.random.Generator, w: float, d: float, height: float, inset: float, thick: float
) -> list[Part]:
    round_legs = rng.random() < 0.4
    parts = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (w / 2 - inset - thick / 2), sy * (d / 2 - inset - thick / 2)
            if round_legs:
                parts.append(cylinder(x, y, 0, thick / 2, height, shade=0.75))
            else:
                parts.append(box(x, y, 0, thick, thick, height, shade=0.75))
    return parts


def chair(rng: np.random.Generator) -> tuple[Piece, float, float, float]:
    """A chair facing +y; returns (piece, width, depth, seat height)."""
    w, d = rng.uniform(0.42, 0.55), rng.uniform(0.42, 0.52)
    seat_h, seat_t = rng.uniform(0.42, 0.48), rng.uniform(0.03, 0.07)
    back_h, back_t = rng.uniform(0.3, 0.5), rng.uniform(0.025, 0.06)
    c = colour(rng, ("wood", "fabric", "neutral")[rng.integers(3)])
    parts = [box(0, 0, seat_h - seat_t, w, d, seat_t)]
    if rng.random() < 0.35:  # office chair: column and star base
        parts.append(cylinder(0, 0, 0.06, 0.025, seat_h - seat_t - 0.06, shade=0.5))
        spoke = 0.28
        for k in range(5):
            a = 2 * math.pi * k / 5 + 0.3
            parts.append(
                Part(
                    "box",
                    (math.cos(a) * spoke / 2, math.sin(a) * spoke / 2, 0.045),
                    (spoke, 0.04, 0.03),
                    a,
                    shade=0.5,
                )
            )
    else:
        parts += _legs(rng, w, d, seat_h - seat_t, 0.01, rng.uniform(0.025, 0.045))
    parts.append(box(0, -d / 2 + back_t / 2, seat_h, w * rng.uniform(0.85, 1.0), back_t, back_h, shade=0.95))
    if rng.random() < 0.3:  # armrests
        for sx in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.02), 0, seat_h + 0.18, 0.04, d * 0.8, 0.03, shade=0.8))
    return Piece(CHAIR, parts, c), w, d, seat_h


def table_piece(
    rng: np.random.Generator, w: float, d: float, h: float, semantic: int = TABLE, round_top: bool = False
) -> Piece:
    """A table (or desk) top of w x d at height h with legs."""
    top_t = rng.uniform(0.025, 0.05)
    c = colour(rng, ("wood", "neutral")[rng.integers(2)])
    if round_top:
        r = w / 2
        parts = [
            cylinder(0, 0, h - top_t, r, top_t),
            cylinder(0, 0, 0.03, rng.uniform(0.03, 0.06), h - top_t - 0.03, shade=0.7),
            cylinder(0, 0, 0, r * 0.5, 0.03, shade=0.7),
        ]
        return Piece(semantic, parts, c)
    parts = [box(0, 0, h - top_t, w, d, top_t)]
    if semantic == DESK and rng.random() < 0.5:  # side panels and a modesty panel
        panel_t = rng.uniform(0.02, 0.04)
        for sx in (-1, 1):
            parts.append(
                box(sx * (w / 2 - panel_t / 2 - 0.01), 0, 0, panel_t, d * 0.95, h - top_t, shade=0.9)
            )
        parts.append(box(0, -d / 2 + 0.05, h - top_t - 0.3, w - 0.1, 0.02, 0.3, shade=0.9))
    else:
        parts += _legs(rng, w, d, h - top_t, rng.uniform(0.02, 0.08), rng.uniform(0.035, 0.06))
    return Piece(semantic, parts, c)


def cabinet_piece(rng: np.random.Generator, w: float, d: float, h: float) -> Piece:
    """A cabinet w x d x h standing on the floor, doors or drawers on its +y face."""
    c = colour(rng, ("wood", "neutral")[rng.integers(2)])
    parts = [box(0, 0, 0, w, d, h)]
    n_fronts = int(rng.integers(1, 4))
    gap = 0.01
    if rng.random() < 0.5:  # drawers stacked
        fh = (h - 0.05) / n_fronts
        for k in range(n_fronts):
            parts.append(
                box(0, d / 2 + 0.008, 0.04 + k * fh + gap, w - 0.02, 0.016, fh - 2 * gap, shade=1.08)
            )
    else:  # doors side by side
        fw = (w - 0.02) / n_fronts
        for k in range(n_fronts):
            x = -w / 2 + 0.01 + fw * (k + 0.5)
            parts.append(box(x, d / 2 + 0.008, 0.05, fw - 2 * gap, 0.016, h - 0.08, shade=1.08))
    return Piece(CABINET, parts, c)


def monitor(rng: np.random.Generator) -> tuple[Piece, float]:
    """A monitor standing on z = 0 facing +y; returns the piece and its footprint radius."""
    w, h = rng.uniform(0.45, 0.7), rng.uniform(0.28, 0.42)
    stand = rng.uniform(0.08, 0.15)
    parts = [
        box(0, 0, 0, 0.2, 0.16, 0.015, shade=0.8),
        box(0, -0.03, 0.015, 0.04, 0.02, stand + 0.05, shade=0.8),
        box(0, -0.01, stand, w, rng.uniform(0.02, 0.05), h),
    ]
    return Piece(OTHERFURNITURE, parts, colour(rng, "neutral")), w / 2


# --- groups ---------------------------------------------------------------------------------------


def _tuck_offset(rng: np.random.Generator, chair_d: float, tuck_probability: float) -> float:
    """How far (metres) a chair's centre sits from a table edge: negative = under the table."""
    if rng.random() < tuck_probability:
        return -rng.uniform(0.05, chair_d * 0.55)
    return rng.uniform(0.0, 0.35)
