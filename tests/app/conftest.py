"""Window tests keep the recent-scans list in their own folder, never the user's; the ``window`` fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A shown main window: errors are recorded (``errors_shown``), questions recorded (``questions``)
    and answered with their default."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from beep3d.app.main_window import MainWindow

    win = MainWindow()
    win.errors_shown = []
    win.questions = []
    monkeypatch.setattr(win, "error", lambda text, title="": win.errors_shown.append(text))
    monkeypatch.setattr(
        win, "ask", lambda title, text, buttons, default: win.questions.append(text) or default
    )
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    win.doc.dirty = False  # no save question while closing
    win.close()
