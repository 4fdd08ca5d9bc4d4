"""The window's refit never puts its run inside an export, and the window's export never deletes a run.

Model > Refit suggested the parent of the chosen ``training/`` folder as run folder, which is the
export folder itself: the refit wrote ``<export>/checkpoints/``, the window switched to it, and the
next export of the scene replaced the folder and deleted the checkpoint the window was using. The
dialog now suggests a new ``runs/refit-<n>`` beside the export; a run folder inside an export is
refused; File > Export refuses to replace an export holding files it did not write.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.app.test_app_window import _open, _two_cube_scene

pytestmark = pytest.mark.gui


def _export_folder(root: Path) -> Path:
    """An export folder as File > Export leaves it: export.json and training/<scene>/."""
    export = root / "exports" / "scene0001_00"
    (export / "training" / "scene0001_00").mkdir(parents=True)
    (export / "training" / "scene0001_00" / "boxes.json").write_text("{}")
    (export / "export.json").write_text('{"files": ["training/scene0001_00/boxes.json", "export.json"]}')
    return export


def _run_dialog(window, monkeypatch, answers: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Model > Refit with the folder dialogs answered by ``answers`` (None: accept the suggestion)."""
    asked: list[tuple[str, str]] = []
    replies = iter(answers)

    def folder_dialog(parent, caption, start, *args, **kwargs):
        asked.append((caption, start))
        reply = next(replies)
        return start if reply is None else reply

    started: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder_dialog)
    monkeypatch.setattr(window.refit, "start", lambda dirs, out, program=None: started.append(out) or True)
    window.refit.dialog()
    return asked, started


def test_the_suggested_run_folder_is_a_new_folder_beside_the_export(window, tmp_path, monkeypatch):
    export = _export_folder(tmp_path)
    asked, started = _run_dialog(window, monkeypatch, [str(export / "training"), None])
    suggested = Path(asked[1][1])
    assert suggested == (tmp_path / "exports" / "runs" / "refit-1").resolve()
    assert not suggested.is_relative_to(export.resolve())  # the next export cannot touch it
    assert suggested.is_dir()  # the dialog opens in it: accepting it is enough
    assert started == [str(suggested)]
    # a second refit gets a folder of its own
    asked, started = _run_dialog(window, monkeypatch, [str(export / "training"), None])
    assert Path(asked[1][1]).name == "refit-2"


def test_a_cancelled_or_changed_run_folder_leaves_no_empty_folder_behind(window, tmp_path, monkeypatch):
    export = _export_folder(tmp_path)
    _, started = _run_dialog(window, monkeypatch, [str(export / "training"), ""])
    assert started == [] and not (tmp_path / "exports" / "runs").exists()
    elsewhere = tmp_path / "my_runs"
    elsewhere.mkdir()
    _, started = _run_dialog(window, monkeypatch, [str(export / "training"), str(elsewhere)])
    assert started == [str(elsewhere)] and not (tmp_path / "exports" / "runs").exists()


def test_a_run_folder_in_an_export_is_refused(window, tmp_path):
    export = _export_folder(tmp_path)
    for out in (export, export / "run"):
        assert not window.refit.start([str(export / "training")], str(out), program=["true"])
        assert not window.refit.running
        message = window.errors_shown[-1]
        assert str(out) in message and "outside" in message and str(export.resolve()) in message
    assert not (export / "run").exists()


def test_file_export_keeps_a_run_inside_an_earlier_export(window, qtbot, tmp_path):
    scene = _two_cube_scene(tmp_path / "room.ply")
    _open(window, qtbot, scene)
    out = tmp_path / "export"
    assert window.files.export_to(out)
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "last.safetensors").write_bytes(b"weights")
    assert window.files.export_to(out) == []
    assert "checkpoints/" in window.errors_shown[-1]
    assert (out / "checkpoints" / "last.safetensors").read_bytes() == b"weights"
    assert (out / "export.json").is_file()
