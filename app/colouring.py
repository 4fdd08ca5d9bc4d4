"""Point colours for the view's colour modes (numpy only).

Every mode tints the scan's own colours instead of replacing them, so the annotator still sees
the surface: points a mode has something to say about are blended with a tint, the other points
are dimmed.
"""

from __future__ import annotations

import functools
from dataclasses import fields

import numpy as np

from beep3d.resolve.pipeline import PointLabels
from beep3d.resolve.resolution import DECIDED_BY_CENTRE_RULE, DECIDED_BY_NESTED_RULE, DECIDED_BY_VOLUME_RULE

__all__ = [
    "COLOUR_MODES",
    "RESERVED_COLOURS",
    "PointLabels",
    "colour_all",
    "colour_distance",
    "instance_palette",
    "point_colours",
]

#: Colour modes in menu order: (key, menu text).
COLOUR_MODES: tuple[tuple[str, str], ...] = (
    ("original", "Original colours"),
    ("membership", "Box membership"),
    ("overlap", "Overlap regions (P^u)"),
    ("instances", "Resolved instances"),
    ("confidence", "Resolution confidence"),
)

#: How much of the tint shows in a tinted point (0 = original colour, 1 = tint only).
TINT = 0.55
#: Brightness kept by points a mode does not highlight.
DIM = 0.55

SINGLE_BOX_TINT = np.array([60, 200, 90], dtype=np.float32)
OVERLAP_TINT = np.array([235, 30, 200], dtype=np.float32)
#: Confidence mode: unsure points turn red; sure ones green, or blue where a rule (not the teacher
#: network, and not a single box) decided them.
UNSURE_TINT = np.array([230, 40, 40], dtype=np.float32)
SURE_TINT = np.array([40, 200, 80], dtype=np.float32)
SURE_BY_RULE_TINT = np.array([50, 110, 235], dtype=np.float32)
#: Overlap and instance modes: points inside a box that the foreground stage found are not its object
#: (floor, wall, ceiling, or the network's call).
NOT_OBJECT_TINT = np.array([250, 160, 20], dtype=np.float32)
#: Overlap and instance modes: points the annotator's clicks and strokes decided are lightened towards this.
CORRECTED_TINT = np.array([255, 255, 255], dtype=np.float32)
#: How far a corrected point moves towards :data:`CORRECTED_TINT`.
CORRECTED_AMOUNT = 0.45
RULE_DECIDERS = (DECIDED_BY_NESTED_RULE, DECIDED_BY_VOLUME_RULE, DECIDED_BY_CENTRE_RULE)


#: Wireframe of the selected box (the box editor shows it): pure yellow, at least 30 (delta E) from
#: every colour of the shipped class sets (a paler yellow was 25 from NYU40's olive chair).
SELECTED_COLOUR = (255, 255, 0)
#: Wireframes of the other selected boxes.
ALSO_SELECTED_COLOUR = (255, 170, 40)
#: The box being drawn: magenta, far from every class colour (a cyan was 15 from ScanNet's counter).
GHOST_COLOUR = (255, 80, 255)
#: Legend swatch of dimmed points (in no box).
DIMMED_SWATCH = (70, 70, 70)
#: Legend swatch of corrected points: a mid-grey lightened as they are.
CORRECTED_SWATCH = tuple(
    int(v)
    for v in np.array([120.0, 120.0, 120.0]) * (1 - CORRECTED_AMOUNT) + CORRECTED_TINT * CORRECTED_AMOUNT
)
#: Colours with a meaning of their own where box colours are shown: no box gets one of them (see
#: :func:`instance_palette`).
RESERVED_COLOURS: dict[str, tuple[int, int, int]] = {
    "left out (not the object)": tuple(int(v) for v in NOT_OBJECT_TINT),
    "corrected": CORRECTED_SWATCH,
    "dimmed": DIMMED_SWATCH,
    "selected box": SELECTED_COLOUR,
    "also selected": ALSO_SELECTED_COLOUR,
    "box being drawn": GHOST_COLOUR,
}
#: Box colours keep at least this colour distance (:func:`colour_distance`) from every reserved colour.
MIN_RESERVED_DISTANCE = 25.0
_GOLDEN = 0.618033988749895
_HUE_STEPS = 3600


def colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CIE76 colour difference (delta E in CIELAB, D65) of sRGB colours 0..255 (broadcast over rows).

    About 2 is just noticeable; beyond 20 two colours are told apart at a glance.
    """
    return np.linalg.norm(_lab(a) - _lab(b), axis=-1)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB colours 0..255."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _hue_colours(hue: np.ndarray, sat: float = 0.75, val: float = 0.95) -> np.ndarray:
    """(M, 3) float32 colours (0..255) of hues in [0, 1) at one saturation and value."""
    i = np.floor(hue * 6).astype(np.int64) % 6
    f = hue * 6 - np.floor(hue * 6)
    p = np.full_like(hue, val * (1 - sat))
    q, t = val * (1 - f * sat), val * (1 - (1 - f) * sat)
    v = np.full_like(hue, val)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    rgb = np.zeros((len(hue), 3))
    for k, (r, g, b) in enumerate(table):
        sel = i == k
        rgb[sel] = np.stack([r[sel], g[sel], b[sel]], axis=1)
    return (rgb * 255).astype(np.float32)


@functools.cache
def _box_hues() -> np.ndarray:
    """The hues a box may get: those whose colour is far enough from every reserved colour."""
    hues = (np.arange(_HUE_STEPS) + 0.5) / _HUE_STEPS
    colours = _hue_colours(hues)
    far = np.ones(len(hues), dtype=bool)
    for colour in RESERVED_COLOURS.values():
        far &= colour_distance(colours, np.asarray(colour, dtype=np.float64)) >= MIN_RESERVED_DISTANCE
    return hues[far]


def instance_palette(ids: np.ndarray) -> np.ndarray:
    """(M, 3) float32 distinct colours (0..255) for integer ids.

    A golden-ratio walk over the hues a box may get (:func:`_box_hues`): ids one apart get hues far
    apart, and no id gets a colour within :data:`MIN_RESERVED_DISTANCE` of a reserved colour
    (:data:`RESERVED_COLOURS`).
    """
    ids = np.asarray(ids, dtype=np.int64)
    hues = _box_hues()
    walk = (ids * _GOLDEN) % 1.0
    return _hue_colours(hues[np.minimum((walk * len(hues)).astype(np.int64), len(hues) - 1)])


def _blend(rgb: np.ndarray, tint: np.ndarray, mask: np.ndarray, amount: float = TINT) -> np.ndarray:
    out = rgb.astype(np.float32) * DIM
    if np.any(mask):
        out[mask] = rgb[mask].astype(np.float32) * (1 - amount) + tint * amount
    return out


def _mark_not_object(out: np.ndarray, rgb: np.ndarray, labels: PointLabels) -> None:
    """Tint, in place, the points a box holds that the foreground stage took out of its mask."""
    if labels.background_reason is None:
        return
    left = labels.background_reason > 0
    if np.any(left):
        out[left] = rgb[left].astype(np.float32) * (1 - TINT) + NOT_OBJECT_TINT * TINT


def _mark_corrected(out: np.ndarray, labels: PointLabels) -> None:
    """Lighten, in place, the points a hand correction decided (``labels.corrected``)."""
    if labels.corrected is None or not np.any(labels.corrected):
        return
    fixed = labels.corrected
    out[fixed] = out[fixed] * (1 - CORRECTED_AMOUNT) + CORRECTED_TINT * CORRECTED_AMOUNT


#: The arrays of :class:`PointLabels` each colour mode reads.
MODE_FIELDS = {
    "membership": ("first_box",),
    "overlap": ("overlap_counts", "background_reason", "corrected"),
    "instances": ("instance_ids", "background_reason", "corrected"),
    "confidence": ("overlap_counts", "confidence", "decided_by"),
}
#: Above this share of changed points, colours are computed for every point again.
RECOLOUR_ALL_SHARE = 0.25

_last: dict = {}  # mode, rgb, box colours, the labels' arrays and the colours of the last call


def point_colours(
    mode: str,
    rgb: np.ndarray,
    labels: PointLabels | None,
    box_colours: np.ndarray | None = None,
) -> np.ndarray:
    """(N, 3) uint8 colours to draw for ``mode``.

    Colours depend on each point's own labels only, so after an edit only the points whose labels
    changed since the last call (same mode, scan colours and box colours) are coloured again; the
    result equals colouring every point (:func:`colour_all`).

    Parameters
    ----------
    mode
        One of the keys of :data:`COLOUR_MODES`.
    rgb
        (N, 3) uint8 original colours.
    labels
        Per-point results of the last resolution; None shows the original colours.
    box_colours
        (K, 3) colours (0..255) of the boxes by position, for the membership mode.
    """
    if mode == "original" or labels is None or mode not in MODE_FIELDS:
        return colour_all(mode, rgb, labels, box_colours)
    arrays = tuple(getattr(labels, name) for name in MODE_FIELDS[mode])
    colours = None if box_colours is None else np.array(box_colours, dtype=np.float64)
    last = _last.get("call")
    changed = None
    if last is not None and last[0] == mode and last[1] is rgb and _same(last[2], colours):
        changed = _changed_points(last[3], arrays)
    if changed is None or len(changed) > RECOLOUR_ALL_SHARE * len(rgb):
        out = colour_all(mode, rgb, labels, box_colours)
    else:
        out = last[4].copy()
        if len(changed):
            part = PointLabels(
                *(
                    None if a is None else a[changed]
                    for a in (getattr(labels, f.name) for f in fields(PointLabels))
                )
            )
            out[changed] = colour_all(mode, rgb[changed], part, box_colours)
    _last["call"] = (mode, rgb, colours, arrays, out)
    return out


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _changed_points(before: tuple, after: tuple) -> np.ndarray | None:
    """Sorted points where any of the arrays ``after`` differs from ``before`` (None: not comparable)."""
    changed = None
    for a, b in zip(before, after, strict=True):
        if a is None and b is None:
            continue
        if a is None or b is None or a.shape != b.shape:
            return None
        if a is b:
            continue
        differs = a != b
        changed = differs if changed is None else changed | differs
    return np.zeros(0, np.int64) if changed is None else np.flatnonzero(changed)


def colour_all(
    mode: str,
    rgb: np.ndarray,
    labels: PointLabels | None,
    box_colours: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`point_colours` computed for every point (nothing remembered)."""
    if mode == "original" or labels is None:
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    if mode == "membership":
        inside = labels.first_box >= 0
        tint = np.zeros((len(rgb), 3), dtype=np.float32)
        if box_colours is not None and len(box_colours):
            tint[inside] = np.asarray(box_colours, dtype=np.float32)[labels.first_box[inside]]
        else:
            tint[inside] = SINGLE_BOX_TINT
        out = _blend(rgb, tint[inside], inside)
    elif mode == "overlap":
        out = _blend(rgb, SINGLE_BOX_TINT, labels.overlap_counts == 1, amount=0.3)
        shared = labels.overlap_counts >= 2
        out[shared] = rgb[shared].astype(np.float32) * (1 - 0.7) + OVERLAP_TINT * 0.7
        _mark_not_object(out, rgb, labels)
        _mark_corrected(out, labels)
    elif mode == "instances":
        assigned = labels.instance_ids >= 0
        ids = labels.instance_ids[assigned]
        unique, inverse = np.unique(ids, return_inverse=True)
        tint = instance_palette(unique)[inverse] if len(unique) else np.zeros((0, 3), np.float32)
        out = _blend(rgb, tint, assigned)
        _mark_not_object(out, rgb, labels)
        _mark_corrected(out, labels)
    elif mode == "confidence":
        inside = labels.overlap_counts >= 1
        c = np.clip(labels.confidence[inside], 0.0, 1.0)[:, None].astype(np.float32)
        high = np.tile(SURE_TINT, (len(c), 1))
        if labels.decided_by is not None:
            by_rule = np.isin(labels.decided_by[inside], RULE_DECIDERS)
            high[by_rule] = SURE_BY_RULE_TINT
        out = _blend(rgb, UNSURE_TINT * (1 - c) + high * c, inside)
    else:
        raise ValueError(f"unknown colour mode {mode!r}")
    return np.clip(out, 0, 255).astype(np.uint8)
