"""E57 scans (terrestrial laser scanners), through pye57 (libE57Format).

An E57 file holds one or more scans, each in its own frame with a pose (rotation and translation).
Every scan is read, its points moved into the file's common frame by its pose (spherical scans are
converted to cartesian first), and the scans are joined in file order into one Scene. Points the
scanner marked invalid are left out (libE57's ``cartesianInvalidState``). Kept per point:
colours (``colorRed/Green/Blue``, scale detected per scan; grey for scans without colours),
``intensity`` (NaN for scans without it) and ``scan`` (the scan's index in the file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.colours import normalise_colours
from beep3d.io.local_origin import refuse_lost_precision
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

__all__ = ["read_e57_scene"]

#: The first bytes of every E57 file.
E57_SIGNATURE = b"ASTM-E57"
_COLOURS = ("colorRed", "colorGreen", "colorBlue")


def _open(path: Path):  # noqa: ANN202 - pye57.E57
    with open(path, "rb") as handle:
        if handle.read(len(E57_SIGNATURE)) != E57_SIGNATURE:
            raise Beep3dError(
                f"{path}: not an E57 file (it does not start with 'ASTM-E57'); choose an .e57 scan"
            )
    import pye57

    try:
        return pye57.E57(str(path))
    except Exception as exc:  # libE57 raises its own exception type for every damage  # noqa: BLE001
        raise Beep3dError(
            f"{path}: the E57 file could not be read ({type(exc).__name__}: {exc}); it is truncated or "
            "corrupt - export it again"
        ) from None


def _single_precision(e57, index: int) -> bool:  # noqa: ANN001 - pye57.E57
    """True when scan ``index`` stores its cartesian coordinates as 32-bit floats."""
    from pye57 import libe57

    prototype = libe57.StructureNode(e57.get_header(index).points.prototype())
    if not prototype.isDefined("cartesianX"):
        return False
    node = prototype.get("cartesianX")
    return node.type() == libe57.E57_FLOAT and libe57.FloatNode(node).precision() == libe57.E57_SINGLE


def read_e57_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read every scan of an E57 file, posed into one frame (see the module docstring).

    Raises
    ------
    Beep3dError
        Not an E57 file, damaged data, or no points in any scan.
    """
    e57 = _open(path)
    xyz_parts, rgb_parts, intensity_parts, scan_parts = [], [], [], []
    scales = set()
    try:
        for index in range(e57.scan_count):
            data = e57.read_scan(
                index, intensity=True, colors=True, transform=True, ignore_missing_fields=True
            )
            n = len(data["cartesianX"])
            xyz_parts.append(np.stack([data["cartesianX"], data["cartesianY"], data["cartesianZ"]], axis=1))
            if n and _single_precision(e57, index):  # pye57 hands 32-bit fields over as 64-bit
                header = e57.get_header(index)
                stored = (xyz_parts[-1] - np.asarray(header.translation)) @ np.asarray(header.rotation_matrix)
                refuse_lost_precision(
                    float(np.abs(stored[np.isfinite(stored).all(axis=1)]).max(initial=0.0)), path
                )
            colours = (
                np.stack([data[c] for c in _COLOURS], axis=1) if all(c in data for c in _COLOURS) else None
            )
            rgb, scale, _ = normalise_colours(colours, n)
            scales.add(scale)
            rgb_parts.append(rgb)
            intensity = data.get("intensity")
            intensity_parts.append(
                np.full(n, np.nan, dtype=np.float32)
                if intensity is None
                else np.asarray(intensity, np.float32)
            )
            scan_parts.append(np.full(n, index, dtype=np.int32))
    except Beep3dError:
        raise
    except MemoryError:
        raise Beep3dError(f"{path}: the file is too large to read into memory") from None
    except Exception as exc:  # noqa: BLE001 - libE57 and pye57 raise several types for damaged data
        raise Beep3dError(
            f"{path}: the E57 point data could not be read ({type(exc).__name__}: {exc}); the file is "
            "truncated or corrupt - export it again"
        ) from None
    finally:
        e57.close()
    if not xyz_parts or sum(len(p) for p in xyz_parts) == 0:
        raise Beep3dError(f"{path}: the file has no points (no scan holds a valid point)")
    if len(xyz_parts) > 1:
        report.notes.append(f"merged {len(xyz_parts)} scans with their poses")
    extra = {"intensity": np.concatenate(intensity_parts), "scan": np.concatenate(scan_parts)}
    if np.isnan(extra["intensity"]).all():
        del extra["intensity"]
    scene = assemble_scene(
        path, report, nan_policy, np.concatenate(xyz_parts), np.concatenate(rgb_parts), extra=extra
    )
    coloured = sorted(scales - {"missing"})
    # colours were converted per scan: report the scale the file used, not the uint8 handed on
    report.colour_scale = coloured[0] if len(coloured) == 1 else ("missing" if not coloured else "0..255")
    return scene
