"""The one exception type for errors a user can cause (bad file, bad box, wrong checkpoint)."""

from __future__ import annotations


class Beep3dError(Exception):
    """An error the user can fix: the message says what was wrong and what to do.

    The command-line tools print the message without a traceback and exit with status 2;
    the desktop app shows it in a dialog.
    """
