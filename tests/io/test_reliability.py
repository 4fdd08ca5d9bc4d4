"""Hostile input and interrupted runs: a clean error or a correct result, and no export left half-made."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beep3d.app.cli import main
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io import load_scene, load_scene_with_report, write_ply
from beep3d.io.box_files import load_boxes, save_boxes


def ascii_ply(path: Path, rows: list[str], declared: int | None = None, colour: bool = False) -> Path:
    props = ["property float x", "property float y", "property float z"]
    if colour:
        props += ["property uchar red", "property uchar green", "property uchar blue"]
    count = len(rows) if declared is None else declared
    header = ["ply", "format ascii 1.0", f"element vertex {count}", *props, "end_header"]
    path.write_text("\n".join(header + rows) + "\n")
    return path


def room(n: int = 3000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform([0, 0, 0], [4, 4, 2.5], (n, 3)).astype(np.float32)


def error_of(path: Path) -> str:
    with pytest.raises(Beep3dError) as caught:
        load_scene(path)
    return str(caught.value)


# ----------------------------------------------------------------------------------- PLY files
def test_an_ascii_colour_that_does_not_fit_its_type_is_a_clean_error(tmp_path: Path) -> None:
    path = ascii_ply(tmp_path / "c.ply", ["0 0 0 999 0 0", "1 1 1 0 0 0"], colour=True)
    assert "does not fit its declared type" in error_of(path)


def test_a_header_that_declares_more_rows_than_the_file_holds_is_refused_before_reading(
    tmp_path: Path,
) -> None:
    path = ascii_ply(tmp_path / "huge.ply", ["0 0 0", "1 1 1"], declared=10**12)
    assert "more than the file's" in error_of(path)
    binary = tmp_path / "huge_binary.ply"
    write_ply(binary, room(10), None)
    data = binary.read_bytes().replace(b"element vertex 10\n", b"element vertex 1000000000000\n")
    binary.write_bytes(data)
    assert "more than the file's" in error_of(binary)


def test_a_body_longer_than_the_header_says_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "long.ply"
    write_ply(binary, room(3000), None)
    binary.write_bytes(binary.read_bytes().replace(b"element vertex 3000\n", b"element vertex 2500\n"))
    assert "more data than its header declares" in error_of(binary)
    text = ascii_ply(tmp_path / "long.ply", ["0 0 0"] * 30, declared=25)
    assert "declares 25 rows of data but the file holds 30" in error_of(text)


def test_a_header_without_end_header_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "noend.ply"
    path.write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\n" + b"\xff" * 64
    )
    assert "no 'end_header'" in error_of(path)


def test_a_ply_that_claims_the_wrong_byte_order_is_refused_by_its_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "endian.ply"
    write_ply(path, room(3000) + 0.123, None)
    path.write_bytes(path.read_bytes().replace(b"binary_little_endian", b"binary_big_endian   "[:20]))
    assert "byte order is wrong" in error_of(path)


def test_a_stray_point_far_away_is_dropped_and_counted_like_a_nan_point(tmp_path: Path) -> None:
    xyz = room()
    xyz[17] = [100_000.0, 5.0, 1.0]
    xyz[18] = [np.nan, 0, 0]
    path = tmp_path / "stray.ply"
    write_ply(path, xyz, None)
    scene, report = load_scene_with_report(path)
    assert scene.num_points == 2998 and report.dropped_far == 1 and report.dropped_non_finite == 1
    assert (
        report.kept is not None and not report.kept[17] and not report.kept[18] and report.kept.sum() == 2998
    )
    assert any("stray" in note for note in report.notes)
    xyz[18] = [1, 1, 1]
    write_ply(path, xyz, None)
    with pytest.raises(Beep3dError, match="10 km"):
        load_scene(path, nan_policy="refuse")


# ----------------------------------------------------------------------------------- box files
@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"id": 2**31, "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1]}, "32-bit"),
        ({"id": 10**30, "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1]}, "32-bit"),
        ({"id": 1, "label": "chair", "center": [0, 0, 0], "size": [1e30, 1, 1]}, "beyond any scan"),
        ({"id": 1, "label": "chair", "center": [0, 0, 0], "size": [1e300, 1, 1]}, "beyond any scan"),
    ],
)
def test_box_values_out_of_range_are_refused(tmp_path: Path, entry: dict, words: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "boxes": [entry]}))
    with pytest.raises(Beep3dError, match=words):
        load_boxes(path)


def test_a_deeply_nested_box_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    path.write_text("[" * 100_000)
    with pytest.raises(Beep3dError, match="nested too deeply"):
        load_boxes(path)


# ----------------------------------------------------------------------------------- the export
@pytest.fixture
def scan(tmp_path: Path) -> tuple[Path, Path]:
    xyz = room()
    xyz[5] = [np.nan, 1, 1]
    xyz[6] = [50_000.0, 1.0, 1.0]
    scene_path = tmp_path / "room.ply"
    write_ply(scene_path, xyz, None)
    boxes = BoxSet([Box(1, "chair", (1, 1, 0.5), (1, 1, 1)), Box(2, "table", (1.4, 1, 0.5), (1, 1, 1))])
    save_boxes(tmp_path / "room.boxes.json", boxes)
    return scene_path, tmp_path / "room.boxes.json"


def export(scene_path: Path, boxes_path: Path, out: Path) -> int:
    return main(
        [str(scene_path), "--boxes", str(boxes_path), "--export", str(out), "--resolver", "smallest-box"]
    )


def test_the_export_keeps_one_row_per_input_point_and_says_what_it_dropped(scan, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert export(*scan, out) == 0
    err = capsys.readouterr().err
    assert "dropped 1 points with NaN" in err and "dropped 1 stray points" in err
    ids = np.load(out / "instance_ids.npy")
    assert ids.shape == (3000,) and ids[5] == -1 and ids[6] == -1
    assert np.load(out / "confidence.npy")[5] == 0.0
    assert len((out / "scannet" / "room_instance_gt.txt").read_text().split()) == 3000
    summary = json.loads((out / "export.json").read_text())
    assert summary["num_points"] == 3000 and summary["num_points_loaded"] == 2998
    assert Path(summary["source"]).is_absolute()


def test_degenerate_and_empty_boxes_are_named_by_the_export(scan, tmp_path, capsys) -> None:
    boxes = BoxSet(
        [
            Box(1, "chair", (1, 1, 0.5), (1, 1, 0.0)),
            Box(2, "table", (30, 30, 0.5), (1, 1, 1)),
            Box(3, "desk", (2, 2, 1), (1e-300, 1, 1)),
        ]
    )
    save_boxes(scan[1], boxes)
    assert export(*scan, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert err.count("warning:") >= 3, err
    assert "Box 2 (table) contains no points" in err


def test_export_targets_that_are_files_or_foreign_folders_are_refused(scan, tmp_path, capsys) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    assert export(*scan, a_file) == 2
    assert export(*scan, a_file / "below") == 2
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"jpeg")
    assert export(*scan, foreign) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "not an earlier export" in err and "Traceback" not in err
    assert a_file.read_text() == "keep me" and (foreign / "holiday.jpg").exists()


def test_a_failing_export_leaves_the_earlier_one_whole(scan, tmp_path, monkeypatch) -> None:
    import beep3d.io.export as export_module

    out = tmp_path / "out"
    assert export(*scan, out) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    save_boxes(scan[1], BoxSet([Box(7, "sofa", (2, 2, 0.5), (1, 1, 1))]))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_training_folder", crash)
    with pytest.raises(OSError):
        export_module.export_all(load_scene(scan[0]), load_boxes(scan[1]), _resolution(scan), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def _resolution(scan):
    from beep3d.resolve.resolvers import get_resolver

    return get_resolver("smallest-box").resolve(load_scene(scan[0]), load_boxes(scan[1]))


def test_leftovers_of_a_killed_export_are_cleaned_and_the_old_export_restored(scan, tmp_path) -> None:
    out = tmp_path / "out"
    assert export(*scan, out) == 0
    # killed between moving the old export aside and renaming the new one in
    (tmp_path / ".out.staging-99999").mkdir()
    (tmp_path / ".out.staging-99999" / "instance_ids.npy").write_bytes(b"half")
    out.rename(tmp_path / ".out.old-99999")
    assert export(*scan, out) == 0
    assert (out / "export.json").is_file() and np.load(out / "instance_ids.npy").shape == (3000,)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [".out.lock"]


def test_a_second_export_into_a_folder_in_use_is_refused(scan, tmp_path, capsys) -> None:
    import fcntl
    import os

    out = tmp_path / "out"
    fd = os.open(tmp_path / ".out.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as an export in another process holds it
    try:
        assert export(*scan, out) == 2
    finally:
        os.close(fd)
    assert "another export is writing into this folder" in capsys.readouterr().err
    assert export(*scan, out) == 0


# ----------------------------------------------------------------------------------- other readers
def test_random_bytes_in_an_npy_are_called_damage_and_a_real_pickle_a_pickle(tmp_path: Path) -> None:
    import pickle

    junk = tmp_path / "junk.npy"
    junk.write_bytes(np.random.default_rng(0).bytes(256))
    message = error_of(junk)
    assert "not a .npy file" in message and "pickle" not in message
    pickled = tmp_path / "pickled.npy"
    pickled.write_bytes(pickle.dumps({"points": [1, 2, 3]}))
    assert "pickle" in error_of(pickled)


def test_a_damaged_npz_member_is_named_without_numpy_s_advice(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "scene.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xyz.npy", np.random.default_rng(1).bytes(200))
    message = error_of(path)
    assert "'xyz'" in message and "damaged" in message and "allow_pickle" not in message


def test_a_symlink_loop_is_named_as_such(tmp_path: Path) -> None:
    loop = tmp_path / "loop.ply"
    loop.symlink_to(tmp_path / "loop.ply")
    assert "symbolic link that leads nowhere" in error_of(loop)


def _scannet_folder(root: Path, groups: list[dict]) -> Path:
    folder = root / "scene0001_00"
    folder.mkdir(parents=True)
    write_ply(folder / "scene0001_00_vh_clean_2.ply", room(40), None)
    (folder / "scene0001_00_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"segIndices": (np.arange(40) // 10).tolist()})
    )
    (folder / "scene0001_00.aggregation.json").write_text(json.dumps({"segGroups": groups}))
    return folder


def test_a_scannet_aggregation_naming_a_missing_segment_or_an_object_twice_is_refused(tmp_path: Path) -> None:
    missing = _scannet_folder(tmp_path / "a", [{"objectId": 0, "label": "chair", "segments": [0, 77]}])
    assert "names segment 77" in error_of(missing)
    twice = _scannet_folder(
        tmp_path / "b",
        [
            {"objectId": 4, "label": "chair", "segments": [0]},
            {"objectId": 4, "label": "table", "segments": [1]},
        ],
    )
    assert "object id 4 appears twice" in error_of(twice)


def test_an_s3dis_room_of_empty_files_is_one_clean_error_without_warnings(tmp_path: Path) -> None:
    import warnings

    annotations = tmp_path / "office_1" / "Annotations"
    annotations.mkdir(parents=True)
    for name in ("chair_1.txt", "table_1.txt", "wall_1.txt"):
        (annotations / name).write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "empty" in error_of(tmp_path / "office_1")


@pytest.mark.slow
def test_data_loader_workers_end_when_the_trainer_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.training_fakes import write_rooms, write_tiny_config

    write_rooms(tmp_path / "data", 2, num_objects=3, points_per_object=200, floor_points=200)
    config = write_tiny_config(tmp_path / "tiny.yaml", epochs=1000, batch_size=1, num_workers=1)
    command = [sys.executable, "-m", "beep3d.training.cli", "--config", str(config), "--data",
               str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--quiet", "--threads", "1"]  # fmt: skip
    trainer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children(pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            found += [int(c) for c in (task / "children").read_text().split()]
        return found

    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            time.sleep(0.5)
            workers = children(trainer.pid) if trainer.poll() is None else []
        assert workers, "the trainer started no DataLoader worker"
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait(30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            for worker in workers:  # reap, in case this test process became their parent
                try:
                    os.waitpid(worker, os.WNOHANG)
                except ChildProcessError:
                    pass
            time.sleep(0.2)
        alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
        assert not alive, f"workers {alive} outlived the killed trainer"
    finally:
        if trainer.poll() is None:
            trainer.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "Z"
