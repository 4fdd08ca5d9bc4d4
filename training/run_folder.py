"""What ``--out`` may name: a new or empty folder, or a run folder of ``beep3d-train`` (to resume).

A run folder holds only what :class:`~beep3d.training.trainer.Trainer` writes (:data:`RUN_ENTRIES`).
Anything else is refused before any work:

- a file (or a path below a file): the run needs a folder;
- a folder inside an export of ``beep3d-annotate`` (its ``export.json``, in the folder or above it):
  the export owns that folder and replaces it as a whole, so a run there would either be deleted or
  block the next export;
- a folder holding other files (scenes, notes, other runs): a run mixed into them is hard to find and
  to delete, and its files could overwrite theirs.
"""

from __future__ import annotations

import os
from pathlib import Path

from beep3d.errors import Beep3dError

#: Everything a run folder holds (the trainer's module docstring says what each is).
RUN_ENTRIES = frozenset(
    {"config.yaml", "class_set.json", "metrics.jsonl", "training_curves.png", "tensorboard", "checkpoints"}
)
#: The file that marks a folder as an export of beep3d-annotate.
EXPORT_MARKER = "export.json"


def _enclosing_export(folder: Path) -> Path | None:
    """The export folder ``folder`` is, or lies in (an ``export.json`` beside it or above), or None."""
    for place in (folder, *folder.parents):
        if (place / EXPORT_MARKER).is_file():
            return place
    return None


def check_run_folder(run_dir: str | Path, resume: bool) -> None:
    """Refuse a ``--out`` that is no place for a run (see the module docstring).

    Parameters
    ----------
    run_dir
        The run folder asked for; it may not exist yet.
    resume
        Whether the run is resumed (the folder then must be a run folder, which the trainer checks).

    Raises
    ------
    Beep3dError
        ``run_dir`` is a file or lies below one, is or lies in an export, or holds files that are not
        a run's; the message names them and says what to pass instead.
    """
    run_dir = Path(run_dir)
    absolute = run_dir.absolute()
    for place in (absolute, *absolute.parents):
        if place.exists() or place.is_symlink():
            if not place.is_dir():
                what = "is" if place == absolute else f"lies below {place}, which is"
                raise Beep3dError(
                    f"--out {run_dir}: {what} not a folder (a file, or a link to nowhere); give a folder "
                    "for the run: a new one, or the run folder to resume"
                )
            break
    export = _enclosing_export(absolute)
    if export is not None:
        where = "is" if export == absolute else f"lies in {export}, which is"
        raise Beep3dError(
            f"--out {run_dir}: {where} an export of beep3d-annotate ({EXPORT_MARKER}); a later export "
            "there would replace the folder with the run's checkpoints in it. Give --out a folder outside "
            f"the export, e.g. {export.parent / 'runs' / export.name}"
        )
    if not run_dir.is_dir():
        return
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise Beep3dError(f"--out {run_dir}: the folder cannot be written; choose a folder you can write")
    others = sorted(
        p.name for p in run_dir.iterdir() if p.name not in RUN_ENTRIES and not p.name.startswith(".")
    )
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise Beep3dError(
            f"--out {run_dir}: the folder holds files that are not a training run's ({shown}); give --out "
            "a new or empty folder" + (", or the run folder to resume" if resume else "")
        )
