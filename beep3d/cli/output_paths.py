"""Checks of an output file named on a command line, made before any work (no traceback later).

``beep3d-annotate --screenshot PNG`` and ``beep3d-eval --json REPORT`` use :func:`check_output_file`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from beep3d.errors import Beep3dError


def check_output_file(path: str, option: str, example: str) -> Path:
    """Refuse an output file path that cannot be written, before the work that makes the file.

    Parameters
    ----------
    path
        The path given to ``option``; missing folders above it are created when the file is written.
    option
        The option's name for the messages (``--screenshot``).
    example
        A file name to suggest (``shot.png``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    Beep3dError
        An empty path, a folder, a path below a file, or a folder this user cannot write into.
    """
    if not path.strip():
        raise Beep3dError(
            f"{option} was given an empty file name; name the file to write, e.g. {option} {example}"
        )
    target = Path(path)
    if target.is_dir() or path.endswith(("/", os.sep)):
        raise Beep3dError(f"{target}: a folder; {option} names the file to write (for example {example})")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the missing folders will be created below the nearest existing one
    if not folder.is_dir():
        raise Beep3dError(f"{target}: {folder} is a file, not a folder; choose another {option} path")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise Beep3dError(
            f"{target}: cannot write into {folder} ({exc.strerror or exc}); choose another {option} path"
        ) from None
    return target
