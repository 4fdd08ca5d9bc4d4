"""Refit the teacher on boxed scenes: the ``beep3d-train`` command line and its progress output.

The window runs ``beep3d-train`` as a separate process (``QProcess``): training never blocks the
annotation window, and cancelling kills the process. Its run folder ends with
``checkpoints/best.safetensors`` (or ``last.safetensors``), which the window then loads as the
teacher resolver's checkpoint.

The run folder never lies inside an export folder: the next export of that scene replaces its folder
as a whole (it refuses when a run is inside, see :mod:`beep3d.io.staged_folder`). The window
suggests ``runs/refit-<n>`` beside the export the training scenes come from
(:func:`suggest_run_folder`), as the README's ``beep3d-train ... --out runs/refit`` does, and refuses
a run folder inside an export (:func:`check_run_folder`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from beep3d.defaults import DEFAULT_CHECKPOINT
from beep3d.errors import Beep3dError
from beep3d.io.staged_folder import MARKER_FILE

#: Config used for refits started from the window (small enough for a CPU).
REFIT_CONFIG = "small"
#: The folder, beside the export, that holds the window's refit runs, and the runs' name before their number.
RUNS_FOLDER = "runs"
RUN_PREFIX = "refit-"

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


def refit_arguments(
    data_dirs: list[str],
    out_dir: str,
    checkpoint: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
) -> list[str]:
    """Arguments of ``beep3d-train`` to train on exported scene folders into ``out_dir``.

    ``data_dirs`` holds one folder with scene folders (an export's ``training/`` folder, or a
    folder collecting several exports' scene folders); ``beep3d-train`` reads one ``--data``.
    ``checkpoint``: the teacher to start from (``--init``; it must be a ``small`` network, as the
    shipped one is); None = the shipped teacher when it is installed, else training from scratch.
    ``device``: where it trains (the window's ``--device``). ``threads``: its CPU threads; None
    leaves one core to the window (which keeps resolving while the refit runs: spconv's CPU kernels
    slow down about tenfold when their threads compete for the cores).
    """
    if len(data_dirs) != 1:
        raise ValueError("beep3d-train reads one data folder; collect the scene folders into one folder")
    if threads is None:
        threads = max(1, (os.cpu_count() or 2) - 1)
    args = ["--config", REFIT_CONFIG, "--data", str(data_dirs[0]), "--out", str(out_dir), "--device", device]
    args += ["--threads", str(threads)]
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


def export_folder_of(path: str | Path) -> Path | None:
    """The outermost export folder (one holding ``export.json``) that is ``path`` or holds it, else None.

    Parameters
    ----------
    path
        A file or folder, existing or not; compared with symbolic links resolved.
    """
    resolved = Path(path).resolve()
    exports = [folder for folder in (resolved, *resolved.parents) if (folder / MARKER_FILE).is_file()]
    return exports[-1] if exports else None


def suggest_run_folder(data_dir: str | Path) -> Path:
    """A new run folder for a refit on ``data_dir``: ``<base>/runs/refit-<n>``.

    ``<base>`` is the folder holding the export that ``data_dir`` belongs to (an export's
    ``training/`` folder, or a scene folder in it), else the folder holding ``data_dir``: the run sits
    beside the export, never inside it. ``n`` is the first number whose folder does not exist yet, so
    an earlier run is never reused.

    Parameters
    ----------
    data_dir
        The folder of exported training scenes chosen for the refit.
    """
    export = export_folder_of(data_dir)
    base = export.parent if export is not None else Path(data_dir).resolve().parent
    runs = base / RUNS_FOLDER
    number = 1
    while (runs / f"{RUN_PREFIX}{number}").exists():
        number += 1
    return runs / f"{RUN_PREFIX}{number}"


def check_run_folder(out_dir: str | Path) -> None:
    """Refuse a run folder that is an export folder or lies inside one.

    Raises
    ------
    Beep3dError
        ``out_dir`` is or lies inside an export folder: the next export there would replace the folder
        and with it the run's checkpoints (it refuses instead, which blocks that export). The message
        names the export and suggests a folder beside it.
    """
    export = export_folder_of(out_dir)
    if export is None:
        return
    where = (
        "is the export folder"
        if Path(out_dir).resolve() == export
        else f"lies inside the export folder {export}"
    )
    raise Beep3dError(
        f"{out_dir}: the run folder {where}, which the next export of that scene replaces as a whole (it "
        f"refuses while a run is inside); choose a run folder outside it, e.g. {suggest_run_folder(export)}"
    )
