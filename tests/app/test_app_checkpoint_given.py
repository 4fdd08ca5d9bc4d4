"""``beep3d-annotate SCENE --checkpoint PATH`` (the window) with a PATH that does not exist says so and
stops (exit 2), as the headless export does, instead of opening with the smallest-box rule without a
word."""

from __future__ import annotations

import pytest

from tests.app.test_app_window import _two_cube_scene

pytestmark = pytest.mark.gui


def test_the_window_refuses_a_missing_checkpoint(qtbot, tmp_path, monkeypatch, capsys):
    from beep3d.app.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    scene = _two_cube_scene(tmp_path / "room.ply")
    missing = tmp_path / "runs" / "NOPE" / "last.safetensors"
    png = tmp_path / "shot.png"
    status = main([str(scene), "--checkpoint", str(missing), "--screenshot", str(png), "--threads", "1"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert str(missing) in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not png.exists()  # no window was shown with another resolver


def test_the_window_refuses_a_given_checkpoint_it_cannot_read(qtbot, tmp_path, monkeypatch, capsys):
    from beep3d.app.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    scene = _two_cube_scene(tmp_path / "room.ply")
    broken = tmp_path / "model.safetensors"
    broken.write_bytes(b"\x80\x04 not a checkpoint")  # e.g. a pickle renamed
    png = tmp_path / "shot.png"
    status = main([str(scene), "--checkpoint", str(broken), "--screenshot", str(png), "--threads", "1"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert str(broken) in err and "--checkpoint" in err and "Traceback" not in err
    assert not png.exists()
