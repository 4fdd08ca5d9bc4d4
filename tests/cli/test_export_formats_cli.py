"""The headless export from every scan format, with boxes from every box format, and the masks it
writes as PCD and LAS read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import load_scene
from beep3d.io.box_files import load_boxes
from beep3d.io.box_formats import BOX_FORMATS, save_boxes_as
from beep3d.io.las import write_las
from beep3d.io.pcd import write_pcd
from beep3d.io.text_clouds import write_text_cloud

BOXES = BoxSet(
    [
        Box(1, "table", (1, 0.5, 0.375), (2.02, 1.02, 0.77)),
        Box(2, "chair", (1.9, 0.5, 0.45), (0.62, 0.42, 0.92)),
    ]
)


def room() -> tuple[np.ndarray, np.ndarray]:
    """A table slab, a chair block overlapping its end, and a floor: (6000, 3) xyz and rgb."""
    rng = np.random.default_rng(0)
    table = rng.uniform([0, 0, 0.7], [2, 1, 0.75], size=(2000, 3))
    chair = rng.uniform([1.6, 0.3, 0.0], [2.2, 0.7, 0.9], size=(1500, 3))
    floor = rng.uniform([-1, -1, 0], [3, 2, 0.01], size=(2500, 3))
    return np.concatenate([table, chair, floor]).astype(np.float32), rng.integers(0, 256, (6000, 3)).astype(
        np.uint8
    )


def write_scan(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> None:
    suffix = path.suffix
    if suffix == ".pcd":
        write_pcd(path, xyz, rgb)
    elif suffix in (".las", ".laz"):
        write_las(path, xyz, rgb)
    elif suffix in (".xyzrgb", ".pts"):
        write_text_cloud(path, xyz, rgb)
    elif suffix == ".e57":
        pye57 = pytest.importorskip("pye57")
        e57 = pye57.E57(str(path), mode="w")
        data = {f"cartesian{a}": xyz[:, k].astype(np.float64) for k, a in enumerate("XYZ")}
        data |= {f"color{c}": rgb[:, k] for k, c in enumerate(("Red", "Green", "Blue"))}
        e57.write_scan_raw(data)
        e57.close()
    elif suffix in (".obj", ".glb"):
        trimesh = pytest.importorskip("trimesh")
        faces = np.arange(len(xyz)).reshape(-1, 3)
        mesh = trimesh.Trimesh(xyz, faces, vertex_colors=rgb, process=False)
        exported = mesh.export(file_type=suffix[1:])
        path.write_bytes(exported.encode() if isinstance(exported, str) else exported)
    else:
        raise AssertionError(suffix)


CASES = [
    (".pcd", "labelcloud-centroid"),
    (".laz", "sustechpoints"),
    (".las", "supervisely"),
    (".e57", "labelcloud-vertices"),
    (".xyzrgb", "box-arrays"),
    (".pts", "beep3d"),
    (".obj", "labelcloud-centroid"),
    (".glb", "sustechpoints"),
]


@pytest.mark.parametrize(("scan_suffix", "box_format_name"), CASES)
def test_headless_export_from_every_scan_and_box_format(
    tmp_path: Path, scan_suffix: str, box_format_name: str
) -> None:
    xyz, rgb = room()
    scan = tmp_path / f"room{scan_suffix}"
    write_scan(scan, xyz, rgb)
    fmt = next(f for f in BOX_FORMATS if f.name == box_format_name)
    boxes_path = tmp_path / f"boxes{fmt.suffix}"
    save_boxes_as(boxes_path, BOXES, fmt)
    out = tmp_path / "out"
    # the overlap rule is what is checked here, so boxes keep every point (--foreground off)
    args = [str(scan), "--boxes", str(boxes_path), "--export", str(out), "--resolver", "smallest-box"]
    assert main([*args, "--foreground", "off"]) == 0
    instance_ids = np.load(out / "instance_ids.npy")
    assert len(instance_ids) == 6000
    ids = set(load_boxes(boxes_path).ids.tolist())
    assert set(np.unique(instance_ids)) == {-1} | ids
    # the chair's points inside the table slab go to the smaller box, in every format
    chair_id = next(b.id for b in load_boxes(boxes_path) if b.label == "chair")
    assert np.all(instance_ids[2000:3500] == chair_id)


def test_masks_as_pcd_and_las_read_back_with_their_fields(tmp_path: Path) -> None:
    xyz, rgb = room()
    scan = tmp_path / "room.pcd"
    write_pcd(scan, xyz, rgb)
    save_boxes_as(tmp_path / "room.boxes.json", BOXES, "beep3d")
    out = tmp_path / "out"
    assert main([str(scan), "--export", str(out), "--resolver", "smallest-box", "--foreground", "off"]) == 0
    instance_ids = np.load(out / "instance_ids.npy")
    semantic_ids = np.load(out / "semantic_ids.npy")
    confidence = np.load(out / "confidence.npy")
    for name in ("room_labelled.pcd", "room_labelled.las"):
        labelled = load_scene(out / name)
        np.testing.assert_allclose(labelled.xyz, xyz, atol=1e-3)
        np.testing.assert_array_equal(labelled.instance, instance_ids)
        np.testing.assert_allclose(labelled.extra["confidence"], confidence, atol=1e-6)
        semantic = labelled.semantic if labelled.semantic is not None else labelled.extra["semantic"]
        np.testing.assert_array_equal(semantic, semantic_ids)
    las = load_scene(out / "room_labelled.las")
    np.testing.assert_array_equal(las.extra["classification"], np.maximum(semantic_ids, 0))
    for fmt in BOX_FORMATS:
        if fmt.name == "beep3d":
            continue
        name = "room_bbox.npy" if fmt.suffix == ".npy" else f"room{fmt.suffix}"
        back = load_boxes(out / "boxes" / fmt.name / name)
        assert [b.label for b in back] == [b.label for b in BOXES]
        np.testing.assert_allclose(back.centers, BOXES.centers, atol=1e-6)


def test_headless_export_names_a_broken_scan_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = tmp_path / "room.laz"
    scan.write_bytes(b"LASF" + bytes(50))
    save_boxes_as(tmp_path / "room.boxes.json", BOXES, "beep3d")
    assert main([str(scan), "--export", str(tmp_path / "out"), "--resolver", "smallest-box"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "room.laz" in err[0] and "Traceback" not in err[0]
