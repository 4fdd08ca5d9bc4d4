"""The skips of the window tests (tests/app/conftest.py): without a display, the tests that show
widgets are skipped with the reason, not started (Qt would end the process); the others run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_display_the_window_tests_are_skipped_with_the_reason_and_the_others_run():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/app/test_app_corrections.py",  # a module of window tests
            "tests/app/test_app_geometry.py::test_top_view_has_x_right_and_y_up_and_zoom_keeps_the_anchor_still",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "GUI tests need a display: run them under xvfb-run -a" in done.stdout
    assert "1 passed" in done.stdout and " skipped" in done.stdout
