"""Refit the teacher on boxed scenes: the ``beep3d-train`` command line and its progress output.

The window runs ``beep3d-train`` as a separate process (``QProcess``): training never blocks the
annotation window, and cancelling kills the process. Its run folder ends with
``checkpoints/best.safetensors`` (or ``last.safetensors``), which the window then loads as the
teacher resolver's checkpoint.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.errors import Beep3dError

#: Config used for refits started from the window (small enough for a CPU).
REFIT_CONFIG = "small"

_PROGRESS = re.compile(r"(\d+)\s*/\s*(\d+)")
_PERCENT = re.compile(r"(\d{1,3})%\|")


def train_program() -> list[str]:
    """How to start ``beep3d-train``: the installed script beside this Python, else ``python -m``."""
    script = Path(sys.executable).with_name("beep3d-train")
    if script.exists():
        return [str(script)]
    found = shutil.which("beep3d-train")
    if found:
        return [found]
    return [sys.executable, "-m", "beep3d.training.cli"]


def refit_arguments(data_dirs: list[str], out_dir: str, checkpoint: str | None = None) -> list[str]:
    """Arguments of ``beep3d-train`` to train on exported scene folders into ``out_dir``.

    ``data_dirs`` holds one folder with scene folders (an export's ``training/`` folder, or a
    folder collecting several exports' scene folders); ``beep3d-train`` reads one ``--data``.
    ``checkpoint``: the teacher to start from (``--init``; it must be a ``small`` network, as the
    shipped one is); None = the shipped teacher when it is installed, else training from scratch.
    """
    if len(data_dirs) != 1:
        raise ValueError("beep3d-train reads one data folder; collect the scene folders into one folder")
    args = ["--config", REFIT_CONFIG, "--data", str(data_dirs[0]), "--out", str(out_dir), "--device", "cpu"]
    if checkpoint is None and DEFAULT_CHECKPOINT.is_file():
        checkpoint = str(DEFAULT_CHECKPOINT)
    if checkpoint is not None:
        args += ["--init", str(checkpoint)]
    return args


def parse_progress(line: str) -> float | None:
    """Fraction done from a progress line (tqdm's ``42%|…| 21/50`` or ``step 21/50``), else None."""
    percent = _PERCENT.search(line)
    if percent:
        return min(int(percent.group(1)), 100) / 100
    match = _PROGRESS.search(line)
    if match:
        done, total = int(match.group(1)), int(match.group(2))
        if total > 0 and done <= total:
            return done / total
    return None


def find_checkpoint(run_dir: str | Path) -> Path | None:
    """The checkpoint a finished run produced: best, else last, else None."""
    from beep3d.model.weights import find_checkpoint as find

    if not Path(run_dir).is_dir():
        return None
    try:
        return find(run_dir)
    except Beep3dError:
        return None
