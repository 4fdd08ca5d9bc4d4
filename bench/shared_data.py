"""Where the benchmarks find the real data: ../shared/data beside the checkout (never copied in).

Also how the benchmarks on the real ScanNet scans choose and read them: the ``--data`` and
``--scans`` options, the scans whose names match the patterns, and each scan with its boxes derived
from the GT instances the way ``beep3d-train`` boxes ScanNet.
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path

from beep3d.classes import SCANNET18
from beep3d.geometry.boxes import BoxSet
from beep3d.geometry.superpoints import compute_superpoints
from beep3d.io import load_scene
from beep3d.scene import Scene
from beep3d.training.data_folders import ply_scene_name
from beep3d.training.datasets import gt_boxes

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_SCENE = SHARED_DATA / "scannet_scene0423_00" / "scene0423_00_labeled.ply"
REAL_SCANS = SHARED_DATA / "scannet_real"
#: Scene-name patterns of the validation rooms (0002 and 0004), never trained on.
VALIDATION = ("scene0002_*", "scene0004_*")


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` (the folder of labelled real scans) and ``--scans`` (scene-name patterns)."""
    parser.add_argument("--data", type=Path, default=REAL_SCANS)
    parser.add_argument("--scans", nargs="+", default=list(VALIDATION), help="scene-name patterns")


def scans(data: Path, patterns: list[str]) -> list[Path]:
    """The labelled scans (``*.ply``) in ``data`` whose scene names match one of ``patterns``, sorted.

    Raises
    ------
    SystemExit
        When no scan matches.
    """
    chosen = [
        p
        for p in sorted(data.glob("*.ply"))
        if any(fnmatch.fnmatchcase(ply_scene_name(p), q) for q in patterns)
    ]
    if not chosen:
        raise SystemExit(f"no scan in {data} matches {patterns}")
    return chosen


def real_scenes(
    data: Path, patterns: list[str], with_superpoints: bool = False
) -> list[tuple[Scene, BoxSet]]:
    """(scene, GT-derived boxes) of the real scans whose names match ``patterns``.

    Each scene is named by its scan (``scene0002_00``); its boxes are axis-aligned boxes around the
    instances of the 18 ScanNet benchmark classes (5 mm margin), as ``beep3d-train`` draws them.
    With ``with_superpoints`` each scene also gets its superpoints (for superpoint membership).
    """
    loaded = []
    for path in scans(data, patterns):
        scene = load_scene(path)
        scene.name = ply_scene_name(path)
        if with_superpoints:
            scene.superpoints = compute_superpoints(scene)
        loaded.append((scene, gt_boxes(scene, SCANNET18, str(path))))
    return loaded
