"""Window tests keep the recent-scans list in their own folder, never the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
