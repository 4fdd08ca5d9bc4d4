"""Where the benchmarks find the real data: ../shared/data beside the checkout (never copied in)."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_SCENE = SHARED_DATA / "scannet_scene0423_00" / "scene0423_00_labeled.ply"
REAL_SCANS = SHARED_DATA / "scannet_real"
