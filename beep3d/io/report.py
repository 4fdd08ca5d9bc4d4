"""What a loader noticed while reading a scene (dropped points, colour scale, notes), and the common
last step of every loader: turning raw arrays into a checked :class:`~beep3d.scene.Scene`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.colours import ColourScale, normalise_colours
from beep3d.io.local_origin import FLOAT32_LIMIT_M, NO_SHIFT, Origin, describe_shift, local_origin, shifted
from beep3d.scene import Scene

NanPolicy = Literal["drop", "refuse"]


@dataclass
class LoadReport:
    """What happened while loading one scene.

    Attributes
    ----------
    dropped_non_finite
        Number of points dropped because a coordinate was NaN or infinite (``nan_policy="drop"``).
    colour_scale
        How the file stored colours: ``"0..255"``, ``"0..1"`` (floats, scaled up), ``"0..65535"``
        (16-bit, scaled down) or ``"missing"`` (no colours; every point is mid grey, 128).
    notes
        Plain-language remarks for the user (e.g. "no label map found; matched class names by text").
    """

    dropped_non_finite: int = 0
    dropped_far: int = 0
    colour_scale: ColourScale = "missing"
    notes: list[str] = field(default_factory=list)
    kept: np.ndarray | None = None

    @property
    def num_input_points(self) -> int | None:
        """Points in the file, dropped ones included (None: the loader kept every point)."""
        return None if self.kept is None else len(self.kept)

    def to_input_order(self, values: np.ndarray, fill: float | int) -> np.ndarray:
        """Per-point ``values`` of the loaded scene spread back to one row per point of the file.

        Parameters
        ----------
        values
            (N_loaded, ...) per loaded point.
        fill
            What dropped points get (-1 for ids, 0 for confidence).

        Returns
        -------
        (N_file, ...) array of the same dtype; ``values`` itself when no point was dropped.
        """
        if self.kept is None:
            return values
        values = np.asarray(values)
        out = np.full((len(self.kept), *values.shape[1:]), fill, dtype=values.dtype)
        out[self.kept] = values
        return out


def assemble_scene(
    path: Path,
    report: LoadReport,
    nan_policy: NanPolicy | Literal["keep"],
    xyz: np.ndarray,
    colours: np.ndarray | None,
    *,
    normals: np.ndarray | None = None,
    faces: np.ndarray | None = None,
    superpoints: np.ndarray | None = None,
    semantic: np.ndarray | None = None,
    instance: np.ndarray | None = None,
    label_space: str | None = None,
    extra: dict[str, np.ndarray] | None = None,
    name: str | None = None,
    origin: Origin | None = None,
) -> Scene:
    """Check raw arrays read from ``path`` and build the Scene.

    Parameters
    ----------
    xyz
        (N, 3) coordinates of any float or integer dtype, metres.
    colours
        (N, 3) colours in any of the scales :func:`normalise_colours` detects, or None (mid grey).
    faces
        (M, 3) vertex indices, or None.
    origin
        The local origin ``xyz`` is already relative to (a saved scene folder's), or None: the file's
        own coordinates, shifted here when they lie far from the origin (:mod:`beep3d.io.local_origin`).

    Raises
    ------
    Beep3dError
        No points, out-of-range face indices, or non-finite coordinates with ``nan_policy="refuse"``.
    """
    if nan_policy not in ("drop", "refuse", "keep"):
        raise ValueError(f"nan_policy must be 'drop' or 'refuse', got {nan_policy!r}")
    xyz = _checked_coordinates(path, xyz)
    n = len(xyz)
    xyz32, origin = _local_coordinates(path, report, xyz, origin)
    rgb = _scene_colours(path, report, colours, n)
    faces = _checked_faces(path, faces, n)
    scene = Scene(
        xyz=xyz32,
        rgb=rgb,
        normals=normals,
        faces=faces,
        superpoints=superpoints,
        semantic=semantic,
        instance=instance,
        label_space=label_space,
        extra={} if extra is None else extra,
        name=name if name is not None else path.stem,
        source=path,
        origin=origin,
    )
    placeholders = None
    if origin != NO_SHIFT and nan_policy != "keep":
        placeholders = (xyz == 0).all(axis=1)
    return apply_nan_policy(scene, report, nan_policy, placeholders)


def _checked_coordinates(path: Path, xyz: np.ndarray) -> np.ndarray:
    """``xyz`` as an (N, 3) numeric array of at least one point, or an error naming ``path``."""
    xyz = np.asarray(xyz)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise Beep3dError(
            f"{path}: coordinates must have shape (N, 3), got {xyz.shape}; the file is malformed"
        )
    if not (np.issubdtype(xyz.dtype, np.floating) or np.issubdtype(xyz.dtype, np.integer)):
        raise Beep3dError(
            f"{path}: coordinates must be numbers, got dtype {xyz.dtype}; the file is malformed"
        )
    if len(xyz) == 0:
        raise Beep3dError(f"{path}: the file has no points (0 vertices); choose a scan that has points")
    return xyz


def _local_coordinates(
    path: Path, report: LoadReport, xyz: np.ndarray, origin: Origin | None
) -> tuple[np.ndarray, Origin]:
    """(N, 3) float32 coordinates relative to the local origin, and that origin (metres).

    With ``origin`` None the file's own coordinates are shifted when they lie far from (0, 0, 0)
    (:mod:`beep3d.io.local_origin`); a shift is noted in ``report``.
    """
    if origin is None:
        origin = local_origin(xyz, path)
        xyz32 = shifted(xyz, origin)
    else:
        xyz32 = np.ascontiguousarray(xyz, dtype=np.float32)
    if origin != NO_SHIFT:
        report.notes.append(describe_shift(origin))
    return xyz32, origin


def _scene_colours(path: Path, report: LoadReport, colours: np.ndarray | None, n: int) -> np.ndarray:
    """(N, 3) uint8 colours from any scale (mid grey when None); the scale and notes go to ``report``."""
    try:
        rgb, scale, colour_notes = normalise_colours(colours, n)
    except Beep3dError as exc:
        raise Beep3dError(f"{path}: {exc}; the file is malformed") from None
    report.colour_scale = scale
    report.notes.extend(colour_notes)
    return rgb


def _checked_faces(path: Path, faces: np.ndarray | None, n: int) -> np.ndarray | None:
    """(M, 3) int64 faces whose every index names one of the ``n`` vertices, or None."""
    if faces is None:
        return None
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) and (faces.min() < 0 or faces.max() >= n):
        bad = int(faces.max()) if faces.max() >= n else int(faces.min())
        raise Beep3dError(
            f"{path}: a mesh face refers to vertex {bad} but the file has {n} vertices; "
            "the file is corrupt or truncated - re-export the mesh"
        )
    return faces


def apply_nan_policy(
    scene: Scene,
    report: LoadReport,
    nan_policy: NanPolicy | Literal["keep"],
    placeholders: np.ndarray | None = None,
) -> Scene:
    """Drop (or refuse) points with NaN or infinite coordinates, and stray points far from the scan.

    "keep" leaves them for a later call: loaders that attach per-vertex labels after reading the
    points (ScanNet) read with "keep" and call this at the end, so the labels still line up with the
    file's vertices.

    A point more than :data:`FAR_LIMIT_M` from the scan's median point is a stray (a scanner glitch):
    it is dropped and counted like a NaN point. When more than :data:`FAR_SHARE_LIMIT` of the points
    are that far, the coordinates themselves are wrong (not metres, or the wrong byte order) and the
    file is refused. ``report.kept`` records which of the file's points were kept.

    ``placeholders`` (N,) bool marks the points of a georeferenced scan that lie exactly at the file's
    (0, 0, 0): scanners write that for a missing return. They are strays, said as such, and do not
    count towards the share that refuses a file.
    """
    if nan_policy == "keep":
        return scene
    where = scene.source if scene.source is not None else scene.name
    n = scene.num_points
    finite = np.isfinite(scene.xyz).all(axis=1)
    bad_count = int(n - np.count_nonzero(finite))
    if bad_count and nan_policy == "refuse":
        raise Beep3dError(
            f"{where}: {bad_count} of {n} points have NaN or infinite coordinates; "
            "clean the file or load it with nan_policy='drop' to drop those points"
        )
    if bad_count == n:
        raise Beep3dError(
            f"{where}: all {n} points have NaN or infinite coordinates; the file has no usable points"
        )
    far = _far_points(scene.xyz, finite)
    at_zero = np.zeros(n, dtype=bool) if placeholders is None else placeholders & far
    far &= ~at_zero
    zero_count = int(np.count_nonzero(at_zero))
    if zero_count and nan_policy == "refuse":
        raise Beep3dError(
            f"{where}: {zero_count} of {n} points lie at (0, 0, 0), far from the rest of the georeferenced "
            "scan (placeholders for missing returns); remove them or load with nan_policy='drop'"
        )
    far_count = int(np.count_nonzero(far))
    if far_count > FAR_SHARE_LIMIT * n:
        raise Beep3dError(
            f"{where}: {far_count} of {n} points lie more than {FAR_LIMIT_M / 1000:g} km from the scan's "
            "median point; the coordinates are not in metres, or the file's byte order is wrong - "
            "re-export the scan in metres"
        )
    if far_count and nan_policy == "refuse":
        raise Beep3dError(
            f"{where}: {far_count} of {n} points lie more than {FAR_LIMIT_M / 1000:g} km from the rest of "
            "the scan; remove them or load with nan_policy='drop' to drop them"
        )
    keep = finite & ~far & ~at_zero
    _refuse_coordinates_beyond_float32(scene.xyz[keep], where)
    if keep.all():
        return scene
    if bad_count:
        report.dropped_non_finite += bad_count
        report.notes.append(f"dropped {bad_count} points with NaN or infinite coordinates")
    if zero_count:
        report.dropped_far += zero_count
        report.notes.append(
            f"dropped {zero_count} points at (0, 0, 0), far from the georeferenced scan (scanners write "
            "that for a missing return)"
        )
    if far_count:
        report.dropped_far += far_count
        report.notes.append(
            f"dropped {far_count} stray points more than {FAR_LIMIT_M / 1000:g} km from the rest of the scan"
        )
    report.kept = keep if report.kept is None else _compose(report.kept, keep)
    return scene.subset(keep)


#: Points further than this from a scan's median point are strays (metres).
FAR_LIMIT_M = 10_000.0
#: Above this share of stray points a file's coordinates are taken to be wrong, and it is refused.
FAR_SHARE_LIMIT = 0.01


def _refuse_coordinates_beyond_float32(xyz: np.ndarray, where: object) -> None:
    """Refuse a scan reaching so far from the origin that its 32-bit coordinates cannot tell nearby
    points apart (georeferenced files are shifted when read, :mod:`beep3d.io.local_origin`; this
    catches scenes given as 32-bit arrays, and scans spread over more than 16 km)."""
    if not len(xyz):
        return
    reach = float(np.abs(xyz).max())
    if reach <= FLOAT32_LIMIT_M:
        return
    step = float(np.spacing(np.float32(reach)))
    raise Beep3dError(
        f"{where}: the scan lies {reach:,.0f} m from the origin (georeferenced coordinates?); this tool "
        f"keeps coordinates as 32-bit floats, whose step there is {step * 100:.0f} cm, so nearby points "
        "would merge; move the scan near the origin first (for example CloudCompare's global shift, or "
        "PDAL's filters.transformation) and open it again"
    )


def _far_points(xyz: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """(N,) bool: finite points more than :data:`FAR_LIMIT_M` from the median of the finite points.

    A scan whose extent stays within the limit on every axis has no such point; that is checked first
    (a min and a max), so ordinary scans never pay for the median.
    """
    far = np.zeros(len(xyz), dtype=bool)
    if finite.all() and len(xyz) and np.all(xyz.max(axis=0) - xyz.min(axis=0) <= FAR_LIMIT_M):
        return far
    points = np.asarray(xyz[finite], dtype=np.float64)
    centre = np.median(points, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        far[finite] = np.abs(points - centre).max(axis=1) > FAR_LIMIT_M
    return far


def _compose(kept_before: np.ndarray, keep_now: np.ndarray) -> np.ndarray:
    """The file-level kept mask after a second drop among the points kept by the first."""
    kept = kept_before.copy()
    kept[np.flatnonzero(kept_before)[~keep_now]] = False
    return kept
