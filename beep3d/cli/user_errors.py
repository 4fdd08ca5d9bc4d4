"""How the command-line tools end on an error a user can cause: one line on stderr, an exit status.

A :class:`~beep3d.errors.Beep3dError` prints ``PROGRAM: error: MESSAGE`` (no traceback) and gives
status 2; Ctrl-C gives status 130, after a line saying what the interruption left behind when the
tool has one to say.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from beep3d.errors import Beep3dError


def report_user_errors(command: Callable[[], int], program: str, interrupted: str | None = None) -> int:
    """Run ``command`` and turn the errors a user can cause into an exit status.

    Parameters
    ----------
    command
        The work to do, called with no arguments; returns the exit status.
    program
        The tool's name, which starts each printed line (``beep3d-train``).
    interrupted
        What Ctrl-C leaves behind, printed as ``PROGRAM: interrupted; INTERRUPTED``; None prints nothing.

    Returns
    -------
    int
        The status ``command`` returned; 2 after a :class:`~beep3d.errors.Beep3dError`, whose message
        is printed to stderr as one line; 130 after Ctrl-C.
    """
    try:
        return command()
    except Beep3dError as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if interrupted is not None:
            print(f"{program}: interrupted; {interrupted}", file=sys.stderr)
        return 130
