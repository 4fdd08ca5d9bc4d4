"""The colour scale of text clouds: integers are 0..255, decimals up to 1 are 0..1. A very dark scan
(every channel 0 or 1 on the 0..255 scale) written by write_text_cloud used to read back 255 times
too bright, because its values alone look like the 0..1 scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.io import load_scene
from beep3d.io.text_clouds import write_text_cloud

RNG = np.random.default_rng(0)
XYZ = RNG.uniform(0, 3, (500, 3)).astype(np.float32)


@pytest.mark.parametrize("suffix", [".xyzrgb", ".pts", ".xyz"])
@pytest.mark.parametrize("top", [1, 2, 255])
def test_the_writers_colours_read_back_exactly(tmp_path: Path, suffix: str, top: int) -> None:
    rgb = RNG.integers(0, top + 1, (500, 3)).astype(np.uint8)
    path = tmp_path / f"dark{suffix}"
    write_text_cloud(path, XYZ, rgb)
    np.testing.assert_array_equal(load_scene(path).rgb, rgb)


def test_all_black_reads_back_black(tmp_path: Path) -> None:
    path = tmp_path / "black.xyzrgb"
    write_text_cloud(path, XYZ, np.zeros((500, 3), np.uint8))
    assert load_scene(path).rgb.max() == 0


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("1.0 0.5 0.0", [255, 128, 0]),  # 0..1 decimals
        ("1.000000 0.000000 1.000000", [255, 0, 255]),  # 0..1, pure colours, written with decimals
        ("1e0 0 0", [255, 0, 0]),  # an exponent is a decimal
        ("1 0 1", [1, 0, 1]),  # integers: 0..255, a very dark point
        ("200 0 1", [200, 0, 1]),
        ("200.0 0.0 1.0", [200, 0, 1]),  # decimals above 1: 0..255
    ],
)
def test_real_files_keep_their_scale(tmp_path: Path, row: str, expected: list[int]) -> None:
    path = tmp_path / "cloud.xyzrgb"
    path.write_text(f"# x y z r g b\n0 0 0 {row}\n1 0 0 {row}\n0,1,0,{row.replace(' ', ',')}\n")
    assert load_scene(path).rgb.tolist() == [expected] * 3


def test_a_pts_file_with_intensity_reads_integer_colours_as_0_to_255(tmp_path: Path) -> None:
    path = tmp_path / "scan.pts"
    path.write_text("2\n0.5 0.5 0.5 -1200 1 0 1\n1.5 0.5 0.5 300 0 1 0\n")
    assert load_scene(path).rgb.tolist() == [[1, 0, 1], [0, 1, 0]]
