"""Colour scales: turn 0..1 floats, 0..255 values or 16-bit 0..65535 values into uint8 RGB."""

from __future__ import annotations

from typing import Literal

import numpy as np

from beep3d.errors import Beep3dError

ColourScale = Literal["0..255", "0..1", "0..65535", "missing"]

#: Colour given to every point of a scan that has no colours.
MISSING_COLOUR_GREY = 128


def normalise_colours(colours: np.ndarray | None, n: int) -> tuple[np.ndarray, ColourScale, list[str]]:
    """Convert colours of any numeric scale to (N, 3) uint8.

    Rules: floats whose maximum is at most 1.0 are 0..1 and scaled by 255; other values up to 255 are
    taken as 0..255; values above 255 (or any 16-bit unsigned array whose maximum exceeds 255) are
    0..65535 and divided by 257. Values are rounded and clipped; NaN becomes 0. Missing colours
    (``None``) give mid grey (128) for every point.

    Parameters
    ----------
    colours
        (N, 3) array of any numeric dtype, or None.
    n
        Number of points N.

    Returns
    -------
    rgb
        (N, 3) uint8.
    scale
        The detected scale.
    notes
        Remarks for the load report (clipping, NaN).
    """
    notes: list[str] = []
    if colours is None:
        return np.full((n, 3), MISSING_COLOUR_GREY, dtype=np.uint8), "missing", notes
    colours = np.asarray(colours)
    if colours.shape != (n, 3):
        raise Beep3dError(f"colours must have shape ({n}, 3), got {colours.shape}")
    if colours.dtype == np.uint8:
        return np.ascontiguousarray(colours), "0..255", notes
    if colours.dtype == np.bool_ or not np.issubdtype(colours.dtype, np.number):
        raise Beep3dError(f"colours must be numbers, got dtype {colours.dtype}")
    values = colours.astype(np.float64)
    if np.issubdtype(colours.dtype, np.floating) and not np.isfinite(values).all():
        notes.append("some colours were NaN or infinite and were set to black")
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    top = float(values.max()) if values.size else 0.0
    scale: ColourScale
    if np.issubdtype(colours.dtype, np.floating) and top <= 1.0:
        values = values * 255.0
        scale = "0..1"
    elif top <= 255.0:
        scale = "0..255"
    else:
        values = values / 257.0
        scale = "0..65535"
        if top > 65535.0:
            notes.append(f"colour values up to {top:g} exceed 0..65535 and were clipped")
    if values.size and values.min() < 0:
        notes.append("negative colour values were clipped to 0")
    rgb = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return rgb, scale, notes
