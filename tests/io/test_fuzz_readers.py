"""Property-based fuzzing of the readers: any bytes give a valid scene or a clean Beep3dError.

Each test starts from a valid file of one format, damages it the way files get damaged (bytes flipped,
cut short, spliced, numbers in headers changed) and loads it. Whatever hypothesis finds, the reader
must either return a scene whose coordinates are finite and whose arrays line up, or raise
:class:`Beep3dError`: never another exception, never a hang, never a huge allocation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from beep3d.errors import Beep3dError  # noqa: E402
from beep3d.io import load_scene, write_ply  # noqa: E402
from beep3d.io.box_files import load_boxes  # noqa: E402

#: Examples per test; BEEP3D_FUZZ_EXAMPLES=5000 (and a random order) for a deeper search by hand.
EXAMPLES = int(os.environ.get("BEEP3D_FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=EXAMPLES <= 80,
)


def points(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 3, (n, 3)).astype(np.float32), rng.integers(0, 255, (n, 3), dtype=np.uint8)


def valid_ply(path: Path) -> bytes:
    xyz, rgb = points()
    write_ply(path, xyz, rgb, {"instance": np.arange(40, dtype=np.int32) % 3})
    return path.read_bytes()


def valid_ascii_ply() -> bytes:
    xyz, rgb = points(12)
    header = (
        "ply\nformat ascii 1.0\nelement vertex 12\nproperty float x\nproperty float y\nproperty float z\n"
    )
    header += "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    rows = "".join(
        f"{x:.3f} {y:.3f} {z:.3f} {r} {g} {b}\n" for (x, y, z), (r, g, b) in zip(xyz, rgb, strict=True)
    )
    return (header + rows).encode()


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few of the damages files suffer."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "digits", "insert"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"\n", b" ", b"nan", b"-1", b"1e30", b"end_header\n", b"list "])
            )
        else:  # a number in the text changed: counts, sizes
            digits = [i for i, c in enumerate(data[:400]) if chr(c).isdigit()]
            if digits:
                data[draw(st.sampled_from(digits))] = ord(draw(st.sampled_from("0123456789")))
                if draw(st.booleans()):
                    position = draw(st.sampled_from(digits))
                    data[position:position] = b"0000"
    return bytes(data)


def check_loads_or_refuses(path: Path) -> None:
    try:
        scene = load_scene(path)
    except Beep3dError as exc:
        assert str(exc), "an error message says something"
        return
    assert scene.num_points > 0 and np.isfinite(scene.xyz).all()
    assert scene.rgb.shape == (scene.num_points, 3)
    for labels in (scene.instance, scene.semantic):
        assert labels is None or labels.shape == (scene.num_points,)


@FUZZ
@given(data=st.data())
def test_damaged_binary_ply(tmp_path: Path, data: st.DataObject) -> None:
    original = valid_ply(tmp_path / "valid.ply")
    path = tmp_path / "fuzz.ply"
    path.write_bytes(data.draw(damaged(original)))
    check_loads_or_refuses(path)


@FUZZ
@given(data=st.data())
def test_damaged_ascii_ply(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "fuzz.ply"
    path.write_bytes(data.draw(damaged(valid_ascii_ply())))
    check_loads_or_refuses(path)


@FUZZ
@given(data=st.data())
def test_damaged_npy_and_npz(tmp_path: Path, data: st.DataObject) -> None:
    xyz, rgb = points()
    np.save(tmp_path / "valid.npy", np.concatenate([xyz, rgb.astype(np.float32)], axis=1))
    np.savez(tmp_path / "valid.npz", xyz=xyz, rgb=rgb, instance=np.arange(40) % 3)
    for suffix in (".npy", ".npz"):
        path = tmp_path / f"fuzz{suffix}"
        path.write_bytes(data.draw(damaged((tmp_path / f"valid{suffix}").read_bytes())))
        check_loads_or_refuses(path)


@FUZZ
@given(data=st.data())
def test_damaged_scannet_folder(tmp_path: Path, data: st.DataObject) -> None:
    folder = tmp_path / "scene0001_00"
    folder.mkdir(exist_ok=True)
    xyz, rgb = points()
    write_ply(folder / "scene0001_00_vh_clean_2.ply", xyz, rgb)
    segs = {"segIndices": (np.arange(40) // 10).tolist()}
    agg = {
        "segGroups": [
            {"objectId": 0, "label": "chair", "segments": [0, 1]},
            {"objectId": 1, "label": "table", "segments": [2]},
        ]
    }
    which = data.draw(st.sampled_from(["segs", "agg"]))
    texts = {"segs": json.dumps(segs).encode(), "agg": json.dumps(agg).encode()}
    texts[which] = data.draw(damaged(texts[which]))
    (folder / "scene0001_00_vh_clean_2.0.010000.segs.json").write_bytes(texts["segs"])
    (folder / "scene0001_00.aggregation.json").write_bytes(texts["agg"])
    check_loads_or_refuses(folder)


@FUZZ
@given(data=st.data())
def test_damaged_box_file(tmp_path: Path, data: st.DataObject) -> None:
    boxes = {
        "version": 1,
        "boxes": [
            {"id": 3, "label": "chair", "center": [1.2, 3.4, 0.45], "size": [0.6, 0.55, 0.9], "yaw": 0.1}
        ],
    }
    path = tmp_path / "fuzz.boxes.json"
    path.write_bytes(data.draw(damaged(json.dumps(boxes).encode())))
    try:
        loaded = load_boxes(path)
    except Beep3dError:
        return
    for box in loaded:
        assert np.isfinite(box.center).all() and min(box.size) >= 0
