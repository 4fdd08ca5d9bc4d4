"""Shared by the scan format tests: a small room-like cloud, and the one-line error every damaged file
must give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.errors import Beep3dError
from beep3d.io import load_scene


def cloud(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) float32 points in a 4 x 3 x 2.5 m room and (n, 3) uint8 colours."""
    rng = np.random.default_rng(seed)
    xyz = (rng.random((n, 3)) * [4.0, 3.0, 2.5]).astype(np.float32)
    return xyz, rng.integers(0, 256, (n, 3)).astype(np.uint8)


def expect_error(path: Path, *words: str) -> str:
    with pytest.raises(Beep3dError) as caught:
        load_scene(path)
    message = str(caught.value)
    assert str(path) in message, message
    for word in words:
        assert word.lower() in message.lower(), message
    return message
