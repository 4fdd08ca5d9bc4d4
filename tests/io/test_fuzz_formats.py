"""Property-based fuzzing of the other scan and box formats: damaged files give a valid scene or a
clean Beep3dError (see tests/io/test_fuzz_readers.py for the damages and the check)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from beep3d.errors import Beep3dError  # noqa: E402
from beep3d.geometry.boxes import Box, BoxSet  # noqa: E402
from beep3d.io.box_files import load_boxes  # noqa: E402
from beep3d.io.box_formats import BOX_FORMATS, save_boxes_as  # noqa: E402
from beep3d.io.las import write_las  # noqa: E402
from beep3d.io.pcd import write_pcd  # noqa: E402
from beep3d.io.text_clouds import write_text_cloud  # noqa: E402
from tests.io.test_fuzz_readers import FUZZ, check_loads_or_refuses, damaged, points  # noqa: E402
from tests.io.test_scan_formats import compressed_pcd  # noqa: E402


def valid_file(folder: Path, name: str) -> bytes:
    """A valid small file of the format ``name`` names, written once per folder."""
    path = folder / f"valid_{name}"
    if not path.exists():
        xyz, rgb = points()
        fields = {"intensity": np.arange(40, dtype=np.float32), "label": np.arange(40, dtype=np.int32) % 3}
        if name == "binary.pcd":
            write_pcd(path, xyz, rgb, fields)
        elif name == "ascii.pcd":
            write_pcd(path, xyz, rgb, fields, ascii=True)
        elif name == "compressed.pcd":
            path.write_bytes(compressed_pcd(xyz, ("ring", np.arange(40, dtype="<u2"))))
        elif name in ("cloud.xyzrgb", "cloud.pts"):
            write_text_cloud(path, xyz, rgb)
        elif name in ("cloud.las", "cloud.laz"):
            write_las(path, xyz, rgb, fields)
        elif name == "mesh.off":
            path.write_text("OFF\n4 2 0\n0 0 0\n2 0 0\n2 1 0\n0 1 0\n3 0 1 2\n4 0 1 2 3\n")
        elif name == "cloud.e57":
            pye57 = pytest.importorskip("pye57")
            e57 = pye57.E57(str(path), mode="w")
            e57.write_scan_raw({f"cartesian{a}": xyz[:, k].astype(np.float64) for k, a in enumerate("XYZ")})
            e57.close()
        elif name == "mesh.glb":
            trimesh = pytest.importorskip("trimesh")
            mesh = trimesh.Trimesh(
                xyz[:39], np.arange(39).reshape(-1, 3), vertex_colors=rgb[:39], process=False
            )
            path.write_bytes(mesh.export(file_type="glb"))
        elif name == "mesh.obj":
            path.write_text("v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0\nf 1 2 3 4\nf 1 2 3\n")
        else:
            raise AssertionError(name)
    return path.read_bytes()


SCAN_FILES = [
    "binary.pcd",
    "ascii.pcd",
    "compressed.pcd",
    "cloud.xyzrgb",
    "cloud.pts",
    "cloud.las",
    "cloud.laz",
    "mesh.off",
    "mesh.obj",
    "cloud.e57",
    "mesh.glb",
]


@pytest.mark.parametrize("name", SCAN_FILES)
@FUZZ
@given(data=st.data())
def test_damaged_scan_files(tmp_path: Path, name: str, data: st.DataObject) -> None:
    original = valid_file(tmp_path, name)
    path = tmp_path / f"fuzz{Path(name).suffix}"
    path.write_bytes(data.draw(damaged(original)))
    check_loads_or_refuses(path)


BOXES = BoxSet(
    [Box(3, "chair", (1.2, 3.4, 0.45), (0.6, 0.55, 0.9), 0.1), Box(5, "table", (0, 0, 0.4), (1, 2, 0.8))]
)


@pytest.mark.parametrize("fmt", BOX_FORMATS[1:], ids=[fmt.name for fmt in BOX_FORMATS[1:]])
@FUZZ
@given(data=st.data())
def test_damaged_box_files_of_every_format(tmp_path: Path, fmt, data: st.DataObject) -> None:  # noqa: ANN001
    valid = tmp_path / f"valid{fmt.suffix}"
    if not valid.exists():
        save_boxes_as(valid, BOXES, fmt)
    path = tmp_path / f"fuzz{fmt.suffix}"
    path.write_bytes(data.draw(damaged(valid.read_bytes())))
    try:
        loaded = load_boxes(path)
    except Beep3dError as exc:
        assert str(exc)
        return
    for box in loaded:
        assert np.isfinite(box.center).all() and min(box.size) >= 0


def test_the_valid_files_themselves_load(tmp_path: Path) -> None:
    """The fuzzers start from files that load: otherwise they test only the error path."""
    from beep3d.io import load_scene

    for name in SCAN_FILES:
        valid_file(tmp_path, name)
        assert load_scene(tmp_path / f"valid_{name}").num_points >= 4, name
    for fmt in BOX_FORMATS[1:]:
        save_boxes_as(tmp_path / f"b{fmt.suffix}", BOXES, fmt)
        assert len(load_boxes(tmp_path / f"b{fmt.suffix}")) == 2
