"""A checkpoint asked for by name must exist: ``--checkpoint runs/NOPE/last.safetensors`` (a typo) is
refused with one line naming the path (exit 2), instead of a silent export by the smallest-box rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from beep3d.defaults import choose_resolver_name
from beep3d.errors import Beep3dError
from tests.cli.test_export_inputs_cli import run_refused, write_scan


@pytest.mark.parametrize("resolver", ["auto", "smallest-box", "teacher"])
def test_a_missing_checkpoint_is_refused_before_any_export(tmp_path, capsys, resolver) -> None:
    scan, boxes = write_scan(tmp_path / "source")
    missing = tmp_path / "runs" / "NOPE" / "last.safetensors"
    out = tmp_path / "out"
    err = run_refused(
        [
            str(scan),
            "--boxes",
            str(boxes),
            "--export",
            str(out),
            "--checkpoint",
            str(missing),
            "--resolver",
            resolver,
            "--foreground",
            "off",
        ],  # fmt: skip
        capsys,
    )
    assert str(missing) in err and "--checkpoint" in err
    assert not out.exists()


def test_choose_resolver_name_never_falls_back_from_a_checkpoint_given(tmp_path: Path) -> None:
    with pytest.raises(Beep3dError, match="NOPE"):
        choose_resolver_name("auto", tmp_path / "NOPE")
    run = tmp_path / "run"
    run.mkdir()
    assert choose_resolver_name("auto", run) == "teacher"  # a run folder is a checkpoint given
    assert choose_resolver_name("nearest-centre", None) == "nearest-centre"
