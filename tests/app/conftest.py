"""What the tests of the window share: when they are skipped, their own configuration folder, the
``scene_path`` and ``window`` fixtures.

Skips, decided here once for every module of this folder:

- every test here when PySide6 cannot be imported (the window is a Qt application);
- without a display (no ``DISPLAY`` or ``WAYLAND_DISPLAY``), the tests that show widgets: those of
  modules marked ``gui`` (``pytestmark = pytest.mark.gui``) and any test using pytest-qt's ``qtbot``
  or ``qapp`` (Qt ends the process when it cannot open a display, so they must not start).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    import PySide6.QtCore  # noqa: F401 (only whether it imports)
except ImportError as exc:
    #: Why every test here is skipped (None: PySide6 imports).
    NO_QT: str | None = f"the window tests need PySide6, a dependency of beep3d-annotate ({exc})"
else:
    NO_QT = None
#: Why a test that shows widgets is skipped without a display.
NO_DISPLAY = "GUI tests need a display: run them under xvfb-run -a (OpenGL does not render offscreen)"
_HERE = Path(__file__).resolve().parent


class _SkippedModule(pytest.Module):
    """A test module of this folder that is not imported: PySide6 is missing (:data:`NO_QT`)."""

    def collect(self):
        pytest.skip(NO_QT, allow_module_level=True)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Without PySide6, the modules here are reported skipped instead of failing at their imports."""
    if NO_QT is None:
        return None
    return _SkippedModule.from_parent(parent, path=module_path)


def needs_display(item: pytest.Item) -> bool:
    """Whether test ``item`` shows widgets: marked ``gui``, or using ``qtbot`` / ``qapp``."""
    fixtures = getattr(item, "fixturenames", ())
    return item.get_closest_marker("gui") is not None or "qtbot" in fixtures or "qapp" in fixtures


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's tests that show widgets when there is no display."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    for item in items:
        if item.path.resolve().is_relative_to(_HERE) and needs_display(item):
            item.add_marker(pytest.mark.skip(reason=NO_DISPLAY))


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def scene_path(tmp_path):
    """A scan of a small room with a cube and a block (:func:`tests.app.test_app_window._two_cube_scene`)."""
    from tests.app.test_app_window import _two_cube_scene

    return _two_cube_scene(tmp_path / "room.ply")


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
