"""Replace a whole output folder at once: write beside it, then swap it in.

An export is a dozen files. Written one by one into the target folder, a crash (or kill -9) leaves a
mix of new and old files, and two exports into one folder at once leave files of both. Here every file
is written into a staging folder beside the target; only when all are written is the old folder moved
aside and the staging folder renamed onto the target. A crash leaves the old export or the new one.

A lock file beside the target (``.<name>.lock``, empty, left in place) keeps a second writer out; leftovers of crashed writers (staging folders,
an old folder moved aside but not yet removed) are cleaned up by the next writer, which restores the old
folder first if a crash fell between the two renames.

Only what an earlier writer wrote is replaced: a target holding :data:`MARKER_FILE` is replaced only
when everything in it is listed in that file's ``files`` (or, when it lists none, is a name the writer
writes). Anything else (a training run's ``checkpoints/``, notes a user kept there) is named in the
error, and nothing is touched; the check runs again just before the swap.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from beep3d.errors import Beep3dError

#: A folder whose content is replaced as a whole must hold this file (or be empty or new): nothing
#: else a user keeps there is thrown away by mistake.
MARKER_FILE = "export.json"
#: How many of the entries a replacement would delete the error names (the rest are counted).
LISTED_ENTRIES = 5


def _lock(lock_path: Path, target: Path) -> int:
    """Take the writer's lock on ``target`` (non-blocking); returns the open file descriptor.

    POSIX systems use ``flock`` (released by the kernel when a writer dies). Where there is no
    ``fcntl`` (Windows), Python's ``msvcrt.locking`` on the same file does the same.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return _lock_windows(lock_path, target)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise Beep3dError(
            f"{target}: another export is writing into this folder right "
            "now; wait for it to finish, or export into another folder"
        ) from None
    return fd


def _lock_windows(lock_path: Path, target: Path) -> int:
    import msvcrt

    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        os.close(fd)
        raise Beep3dError(
            f"{target}: another export is writing into this folder right now; wait for it to finish, "
            "or export into another folder"
        ) from None
    return fd


def _leftovers(target: Path, kind: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{kind}-*"))


def _recover(target: Path) -> None:
    """Clean what crashed writers left; put the old folder back if the crash fell between the renames."""
    old = _leftovers(target, "old")
    if old and not target.exists():
        os.rename(old[-1], target)
        old = old[:-1]
    for leftover in [*old, *_leftovers(target, "staging")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _recorded_files(target: Path) -> set[str] | None:
    """The relative paths the earlier writer listed in ``target``'s marker (``files``); None if none."""
    try:
        summary = json.loads((target / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    files = summary.get("files") if isinstance(summary, dict) else None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return None
    return {*files, MARKER_FILE}


def foreign_entries(
    target: str | os.PathLike[str],
    owned: Callable[[str], bool] | None = None,
    disposable: Callable[[str], bool] | None = None,
) -> list[str]:
    """What in an earlier output folder its writer did not write (and replacing it would delete).

    Parameters
    ----------
    target
        A folder holding :data:`MARKER_FILE`.
    owned
        For a marker that lists no ``files`` (unreadable, or written by an older version): whether a
        path relative to ``target`` (``/``-separated) is one the writer writes. None: only the marker.
    disposable
        Whether a relative path is a cache another tool derived from the writer's files (a training
        run's superpoints beside an exported scene): not the writer's, but replacing the folder may
        delete it, since it is recomputed when missing. None: nothing is.

    Returns
    -------
    list[str]
        Relative ``/``-separated paths, sorted; a folder none of whose content was written ends in
        ``/`` and stands for everything in it. Symbolic links are entries of their own (never
        followed). Empty when everything in ``target`` was written by the earlier writer.
    """
    root = Path(target)
    recorded = _recorded_files(root)

    def is_own(name: str) -> bool:
        if disposable is not None and disposable(name):
            return True
        if recorded is not None:
            return name in recorded
        return name == MARKER_FILE or (owned is not None and owned(name))

    def walk(folder: Path, prefix: str) -> tuple[bool, list[str]]:
        """(whether the folder holds anything written, what in it was not written)."""
        holds_own, foreign = False, []
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = f"{prefix}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    sub_own, sub_foreign = walk(Path(entry.path), f"{name}/")
                    holds_own = holds_own or sub_own
                    foreign += sub_foreign if sub_own else [f"{name}/"]  # nothing written: all of it
                elif is_own(name):
                    holds_own = True
                else:
                    foreign.append(name)
        return holds_own, foreign

    return sorted(walk(root, "")[1])


def _refuse_foreign(
    target: Path, owned: Callable[[str], bool] | None, disposable: Callable[[str], bool] | None
) -> None:
    foreign = foreign_entries(target, owned, disposable)
    if not foreign:
        return
    named = ", ".join(foreign[:LISTED_ENTRIES])
    if len(foreign) > LISTED_ENTRIES:
        named += f" and {len(foreign) - LISTED_ENTRIES} more"
    raise Beep3dError(
        f"{target}: this earlier export also holds {named}, which the export did not write; an export "
        "replaces its folder as a whole and would delete them. Move them out of the folder, or export "
        "into another folder"
    )


def _check_target(
    target: Path,
    owned: Callable[[str], bool] | None = None,
    disposable: Callable[[str], bool] | None = None,
) -> None:
    if target.is_symlink() and not target.is_dir():
        raise Beep3dError(
            f"{target}: this is a symbolic link to no folder (a broken link or a link loop); export into a "
            "new or empty folder"
        )
    if target.exists() and not target.is_dir():
        raise Beep3dError(f"{target}: this is a file, not a folder; export into a new or empty folder")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise Beep3dError(f"{target}: {parent} is a file, not a folder; choose another export folder")
            break
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER_FILE).is_file():
        raise Beep3dError(
            f"{target}: the folder holds files that are not an earlier export (no {MARKER_FILE}); an export "
            "replaces its folder as a whole, so choose a new or empty folder"
        )
    if target.is_dir() and (target / MARKER_FILE).is_file():
        _refuse_foreign(target, owned, disposable)


def _resolved(path: str | os.PathLike[str]) -> Path:
    """``path`` absolute with symbolic links resolved (a link loop is left as it is: it names no file)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return Path(path).absolute()


def check_inputs_outside(
    target: str | os.PathLike[str], inputs: Iterable[tuple[str, str | os.PathLike[str] | None]]
) -> None:
    """Refuse an output folder that holds (or is) one of the files the output is made from.

    The folder is replaced as a whole, so an input inside it would be deleted, or overwritten before
    it is read again. Paths are compared with symbolic links resolved, so a link to the folder or to
    the input is seen through.

    Parameters
    ----------
    target
        The output folder.
    inputs
        ``(what, path)`` pairs, e.g. ``("scan", "r01/scan.ply")``; ``what`` names the input in the
        message. A None path is skipped.

    Raises
    ------
    Beep3dError
        An input is ``target`` itself or lies inside it; the message names the input and says to
        export into another folder.
    """
    folder = _resolved(target)
    for what, path in inputs:
        if path is None or str(path) == "":
            continue
        resolved = _resolved(path)
        if resolved == folder or resolved.is_relative_to(folder):
            where = (
                "is the export folder" if resolved == folder else f"lies inside the export folder {target}"
            )
            raise Beep3dError(
                f"{path}: the {what} {where}, which the export replaces as a whole (the {what} would be "
                "lost); export into another folder"
            )


@contextlib.contextmanager
def staged_folder(
    target: str | os.PathLike[str],
    inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
    owned: Callable[[str], bool] | None = None,
    disposable: Callable[[str], bool] | None = None,
) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``target`` as a whole.

    Parameters
    ----------
    target
        The output folder. It must be new, empty, or an earlier export (holding :data:`MARKER_FILE`)
        holding only what that export wrote (:func:`foreign_entries`).
    inputs
        ``(what, path)`` of the files the output is made from (the scan, the box file, ...): none may
        be ``target`` or lie inside it (:func:`check_inputs_outside`).
    owned
        For an earlier export whose marker lists no ``files``: whether a relative path is one this
        writer writes (see :func:`foreign_entries`).
    disposable
        Whether a relative path is a derived cache that replacing ``target`` may delete (see
        :func:`foreign_entries`).

    Raises
    ------
    Beep3dError
        ``target`` is a file or lies below one, holds files that are not an earlier export, holds
        anything the earlier export did not write (named in the message), holds one of ``inputs``,
        or another writer holds its lock. Nothing is written before these checks; if something
        appears in ``target`` while the body runs, the staging folder is removed and ``target`` is
        left as it is.

    Notes
    -----
    If the body raises, the staging folder is removed and ``target`` is left as it was.
    """
    check_inputs_outside(target, inputs)
    target = Path(target).absolute()
    _check_target(target, owned, disposable)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent / f".{target.name}.lock"
    fd = _lock(lock_path, target)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    try:
        _recover(target)
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        try:  # again: something (a training run, a user) may have written into it meanwhile
            _check_target(target, owned, disposable)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if target.exists():
            os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        os.close(fd)  # the empty lock file stays: removing it would let two writers lock two files
