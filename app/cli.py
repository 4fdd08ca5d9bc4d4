"""``beep3d-annotate``: the annotation window, or the headless export with ``--export``.

    beep3d-annotate SCENE                                   # the window
    beep3d-annotate SCENE --boxes B.json --export OUT       # no window: resolve, write every format
    beep3d-annotate SCENE --screenshot PNG [--boxes B.json] # render the window once to a PNG

The options are those of :func:`beep3d.cli.annotate.build_parser`. The headless export runs without importing
Qt. Errors a user can cause are printed as one line (no traceback) and exit with status 2.
"""

from __future__ import annotations

import sys

from beep3d.cli.annotate import build_parser, check_device, run_headless, run_reporting_errors
from beep3d.cli.output_paths import check_output_file
from beep3d.native_threads import limit_native_threads


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``beep3d-annotate``; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.export is not None:  # an empty OUT is refused there, not taken as "no --export"
        return run_headless(args)

    def open_window() -> int:
        from beep3d.app.launch import run_app

        if args.screenshot is not None:
            check_output_file(args.screenshot, "--screenshot", "shot.png")
        limit_native_threads(args.threads)
        if args.device != "cpu":
            check_device(args.device)
        return run_app(
            scene=args.scene,
            boxes=args.boxes,
            screenshot=args.screenshot,
            resolver=args.resolver,
            checkpoint=args.checkpoint,
            class_set=args.class_set,
            foreground=args.foreground,
            device=args.device,
            threads=args.threads,
        )

    return run_reporting_errors(open_window)


if __name__ == "__main__":
    sys.exit(main())
