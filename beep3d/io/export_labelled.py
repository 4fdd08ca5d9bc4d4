"""The labelled point files of an export (:func:`beep3d.io.export.export_all`): the loaded points
coloured by instance, with the mask fields (instance, semantic, confidence, decided_by) beside them,
as PLY, PCD and LAS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.resolve.resolution import Resolution
from beep3d.scene import Scene

__all__ = [
    "instance_colours",
    "las_classification_notes",
    "mask_fields",
    "write_labelled_las",
    "write_labelled_pcd",
    "write_labelled_ply",
]


def instance_colours(instance_ids: np.ndarray, background: tuple[int, int, int] = (90, 90, 90)) -> np.ndarray:
    """(N, 3) uint8 colour per point from its instance id: a fixed, well-spread hue per id.

    The same id always gets the same colour (golden-ratio hue steps), so exports and the app agree.
    """
    ids = np.asarray(instance_ids, dtype=np.int64)
    hue = (np.maximum(ids, 0) * 0.618033988749895 + 0.13) % 1.0
    sat, val = 0.75, 0.95
    h6 = hue * 6.0
    sector = np.floor(h6).astype(np.int64) % 6
    frac = h6 - np.floor(h6)
    p, q, t = val * (1 - sat), val * (1 - sat * frac), val * (1 - sat * (1 - frac))
    table = np.stack(
        [
            np.choose(sector, [val, q, p, p, t, val]),
            np.choose(sector, [t, val, val, q, p, p]),
            np.choose(sector, [p, p, t, val, val, q]),
        ],
        axis=1,
    )
    colours = np.round(table * 255).astype(np.uint8)
    colours[ids < 0] = background
    return colours


def mask_fields(resolution: Resolution) -> dict[str, np.ndarray]:
    """The per-point fields of the labelled point files: instance, semantic, confidence, decided_by.

    Returns
    -------
    dict
        name -> (N,) array: ``instance`` and ``semantic`` int32 (-1 none), ``confidence`` float32 in
        [0, 1], ``decided_by`` uint8 (when the resolution has it).
    """
    fields = {
        "instance": np.asarray(resolution.instance_ids, dtype=np.int32),
        "semantic": np.asarray(resolution.semantic_ids, dtype=np.int32),
        "confidence": np.asarray(resolution.confidence, dtype=np.float32),
    }
    if resolution.decided_by is not None:
        fields["decided_by"] = np.asarray(resolution.decided_by, dtype=np.uint8)
    return fields


def write_labelled_ply(out: Path, scene: Scene, resolution: Resolution) -> Path:
    """``<scene>_labelled.ply``: the loaded points coloured by instance, labels as properties."""
    from beep3d.io import write_ply

    properties = mask_fields(resolution)
    properties |= {f"orig_{c}": scene.rgb[:, i] for i, c in enumerate(("red", "green", "blue"))}
    path = out / f"{scene.name}_labelled.ply"
    write_ply(path, scene.file_xyz(), instance_colours(properties["instance"]), properties, faces=scene.faces)
    return path


def write_labelled_pcd(out: Path, scene: Scene, resolution: Resolution) -> Path:
    """``<scene>_labelled.pcd``: the labelled PLY's points and fields as a binary PCD (no faces)."""
    from beep3d.io.pcd import write_pcd

    fields = mask_fields(resolution)
    fields |= {f"orig_{c}": scene.rgb[:, i] for i, c in enumerate(("red", "green", "blue"))}
    path = out / f"{scene.name}_labelled.pcd"
    write_pcd(path, scene.file_xyz(), instance_colours(fields["instance"]), fields)
    return path


def write_labelled_las(out: Path, scene: Scene, resolution: Resolution) -> Path:
    """``<scene>_labelled.las``: LAS 1.4 coloured by instance, the semantic id as classification and
    the mask fields as extra-bytes dimensions."""
    from beep3d.io.las import write_las

    fields = mask_fields(resolution)
    path = out / f"{scene.name}_labelled.las"
    classification = np.where(fields["semantic"] < 0, 0, fields["semantic"])
    write_las(
        path, scene.file_xyz(), instance_colours(fields["instance"]), fields, classification=classification
    )
    return path


def las_classification_notes(semantic_ids: np.ndarray) -> list[str]:
    """What the labelled LAS's 8-bit classification cannot tell (for export.json's ``file_notes``).

    Classification holds the semantic id with -1 (none) as 0 and ids above 255 as 255; the
    extra-bytes field ``semantic`` always holds the true id.
    """
    semantic = np.asarray(semantic_ids, dtype=np.int64)
    notes = []
    if (semantic > 255).any():
        above = ", ".join(str(int(i)) for i in np.unique(semantic[semantic > 255])[:10])
        notes.append(
            f"class ids above 255 ({above}) do not fit LAS's 8-bit classification and are written as "
            "255; the extra-bytes field 'semantic' holds the true ids"
        )
    if (semantic == 0).any() and (semantic < 0).any():
        notes.append(
            "class id 0 and points of no class both have classification 0; the extra-bytes field "
            "'semantic' tells them apart (-1: no class)"
        )
    return notes
