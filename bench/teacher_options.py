"""The teacher's settings a benchmark takes from its command line, and the resolver options they make."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from beep3d.defaults import DEFAULT_CHECKPOINT


def add_teacher_options(parser: argparse.ArgumentParser, min_recognition_help: str) -> None:
    """Add ``--checkpoint``, ``--threads``, ``--overlap-score`` and ``--min-recognition``.

    The last two default to None: the resolver's own setting. ``min_recognition_help`` is the help
    text of ``--min-recognition`` (each benchmark words it its own way).
    """
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--overlap-score", default=None, help="the teacher's eq. 2 score (default: the resolver's)"
    )
    parser.add_argument("--min-recognition", type=float, default=None, help=min_recognition_help)


def teacher_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``get_resolver("teacher", ...)`` from :func:`add_teacher_options`' options.

    ``overlap_score`` and ``min_recognition`` are passed only when given, so the resolver keeps its
    own defaults otherwise.
    """
    options: dict[str, Any] = {"checkpoint": args.checkpoint, "threads": args.threads}
    if args.overlap_score is not None:
        options["overlap_score"] = args.overlap_score
    if args.min_recognition is not None:
        options["min_recognition"] = args.min_recognition
    return options
