"""``python -m beep3d.training.export_checkpoint RUN_DIR OUT.safetensors``: an inference-only checkpoint.

Writes the student and teacher weights with the run's config and class set, without the optimizer
state, so the file is about half the size of a training checkpoint (this is how the checkpoint in
``assets/checkpoints`` was made). RUN_DIR may also be a checkpoint file.

``--overlap-score`` and ``--min-recognition`` store the teacher resolver's settings chosen for this
checkpoint on its validation scenes; the resolver then uses them unless told otherwise
(:func:`beep3d.resolve.teacher_resolver.resolver_settings`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from beep3d.errors import Beep3dError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for errors a user can fix)."""
    parser = argparse.ArgumentParser(prog="python -m beep3d.training.export_checkpoint", description=__doc__)
    parser.add_argument(
        "source", type=Path, help="run folder (its best checkpoint, else last) or checkpoint file"
    )
    parser.add_argument("destination", type=Path, help="the .safetensors file to write")
    parser.add_argument(
        "--overlap-score",
        choices=("logit", "logit_minus_log_volume"),
        default=None,
        help="the teacher resolver's eq. 2 score for this checkpoint (chosen on validation scenes)",
    )
    parser.add_argument(
        "--min-recognition",
        type=float,
        default=None,
        help="the teacher resolver's recognition check for this checkpoint, a share in [0, 1] (0 = off)",
    )
    args = parser.parse_args(argv)
    from beep3d.training.checkpoint import write_inference_checkpoint

    resolver = {}
    if args.overlap_score is not None:
        resolver["overlap_score"] = args.overlap_score
    if args.min_recognition is not None:
        if not 0.0 <= args.min_recognition <= 1.0:
            print("export_checkpoint: --min-recognition is a share in [0, 1]", file=sys.stderr)
            return 2
        resolver["min_recognition"] = args.min_recognition
    try:
        path = write_inference_checkpoint(args.source, args.destination, resolver or None)
    except Beep3dError as exc:
        print(f"export_checkpoint: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
