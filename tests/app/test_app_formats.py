"""The window opens every scan format and saves boxes in every box format (pytest-qt, under Xvfb)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_boxes
from beep3d.io.box_formats import BOX_FORMATS, format_of_file, save_boxes_as
from tests.cli.test_export_formats_cli import room, write_scan

pytestmark = pytest.mark.gui

BOXES = BoxSet(
    [
        Box(0, "table", (1, 0.5, 0.375), (2.02, 1.02, 0.77), 0.2),
        Box(5, "chair", (1.9, 0.5, 0.45), (0.6, 0.4, 0.9)),
    ]
)


@pytest.mark.parametrize("suffix", [".pcd", ".laz", ".e57", ".xyzrgb", ".pts", ".obj", ".glb"])
def test_window_opens_every_scan_format_with_its_boxes(window, tmp_path: Path, suffix: str) -> None:
    from beep3d.app.files_controller import SCENE_FILTER

    assert f"*{suffix}" in SCENE_FILTER, "the Open dialog lists the format"
    xyz, rgb = room()
    scan = tmp_path / f"room{suffix}"
    write_scan(scan, xyz, rgb)
    save_boxes_as(tmp_path / "room.boxes.json", BOXES, "beep3d")
    assert window.files.open_scene(scan), window.errors_shown
    assert window.doc.scene.num_points == len(xyz)
    np.testing.assert_allclose(window.doc.scene.xyz, xyz, atol=1e-3)
    assert window.doc.boxes == BOXES


def test_a_broken_scan_is_named_in_the_error_and_the_window_stays(window, tmp_path: Path) -> None:
    scan = tmp_path / "broken.pcd"
    scan.write_bytes(b"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 5\nDATA binary\n" + bytes(7))
    assert not window.files.open_scene(scan)
    assert len(window.errors_shown) == 1 and "broken.pcd" in window.errors_shown[0]
    assert "truncated" in window.errors_shown[0]


@pytest.mark.parametrize("fmt", BOX_FORMATS, ids=[fmt.name for fmt in BOX_FORMATS])
def test_save_boxes_as_every_format_and_save_again_in_it(window, tmp_path: Path, monkeypatch, fmt) -> None:
    from PySide6.QtWidgets import QFileDialog

    from beep3d.app.files_controller import SAVE_BOX_FILTERS

    xyz, rgb = room()
    scan = tmp_path / "room.pcd"
    write_scan(scan, xyz, rgb)
    assert window.files.open_scene(scan)
    window.doc.set_boxes(BOXES, dirty=True)
    title = next(name for name, candidate in SAVE_BOX_FILTERS.items() if candidate is fmt)
    target = tmp_path / "saved" / "labels"  # no suffix: the format's is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), title))
    window.files.save_as_dialog()
    written = target.with_name("labels" + fmt.suffix)
    assert written.exists(), window.errors_shown
    # box arrays hold no yaw: the table's turn is not in the file, so the boxes stay unsaved
    assert window.doc.dirty == (fmt.name == "box-arrays")
    assert format_of_file(written) is fmt
    back = load_boxes(written)
    np.testing.assert_allclose(back.centers, BOXES.centers, atol=1e-6)
    # the next plain Save writes the same format to the same file
    window.doc.set_boxes(BOXES.without(5), dirty=True)
    assert window.files.save()
    assert format_of_file(written) is fmt and len(load_boxes(written)) == 1


def test_a_georeferenced_scan_opens_with_its_boxes_and_saves_them_where_the_scan_is(
    window, tmp_path: Path
) -> None:
    """A LAS file in UTM: the window works near a local origin (millimetres kept) and says so; the
    boxes file, the saved boxes and the autosave hold UTM coordinates, like the scan file."""
    from tests.io.test_georeferenced_scans import UTM, write_utm_las

    xyz = np.random.default_rng(1).uniform([0, 0, 0], [4, 4, 2.5], (3000, 3)).round(3)
    scan = write_utm_las(tmp_path / "site.las", xyz)
    save_boxes_as(tmp_path / "site.boxes.json", BOXES.translated(UTM), "beep3d")
    assert window.files.open_scene(scan), window.errors_shown
    scene = window.doc.scene
    assert scene.origin == (512_000.0, 5_403_000.0, 0.0)
    np.testing.assert_allclose(
        window.doc.boxes.centers, BOXES.translated(UTM - scene.origin).centers, atol=1e-6
    )
    assert "georeferenced" in window.statusBar().currentMessage()
    window.doc.select(0)  # the panel shows and takes the file's coordinates, as box files hold them
    spin = window.box_editor.center[0]
    assert spin.value() == pytest.approx(UTM[0] + 1.0)
    spin.setValue(UTM[0] + 1.25)
    assert window.doc.box(0).center[0] == pytest.approx(UTM[0] + 1.25 - scene.origin[0])
    window.undo_stack.undo()
    panel = window.clipping_panel  # the clipping numbers too: a crop typed in UTM crops there
    assert panel.crop_lo[0].value() == pytest.approx(float(scene.xyz[:, 0].min()) + scene.origin[0], abs=0.01)
    panel.crop_check.setChecked(True)
    panel.crop_hi[0].setValue(UTM[0] + 2.0)
    lo, hi = window.side.clipping.region()
    assert hi[0] == pytest.approx(UTM[0] + 2.0 - scene.origin[0])
    panel.clear()
    window.doc.set_boxes(window.doc.boxes.without(5), dirty=True)
    assert window.files.autosave()
    np.testing.assert_allclose(
        load_boxes(window.files.recovery_file).centers, BOXES.translated(UTM).centers[:1]
    )
    assert window.files.save()
    np.testing.assert_allclose(
        load_boxes(tmp_path / "site.boxes.json").centers, BOXES.translated(UTM).centers[:1]
    )


def test_a_project_scene_folder_opens_with_its_own_boxes_and_saves_them_there(window, tmp_path: Path) -> None:
    from beep3d.app.cli import main
    from tests.cli.test_export_boxes_file_cli import OPTIONS, write_scan_with_corrections

    scan, boxes = write_scan_with_corrections(tmp_path)
    assert main([str(scan), "--boxes", str(boxes), "--export", str(tmp_path / "out"), *OPTIONS]) == 0
    folder = tmp_path / "out" / "training" / "scan"
    assert window.files.open_scene(folder), window.errors_shown
    assert len(window.doc.boxes) == 2
    assert window.doc.boxes_path == folder / "boxes.json"
    window.doc.set_boxes(window.doc.boxes.without(2), dirty=True)
    assert window.files.save()
    assert len(load_boxes(folder / "boxes.json")) == 1
    assert not (tmp_path / "out" / "training" / "scan.boxes.json").exists()
