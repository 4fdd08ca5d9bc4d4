"""Export resolved instance masks in the formats training code reads.

``export_all`` writes, into one folder (every file atomically)::

    instance_ids.npy        (N,) int32, box id per input point in input order, -1 = background
    semantic_ids.npy        (N,) int32, class id of that box (NYU40 for ScanNet classes), -1 = none
    confidence.npy          (N,) float32 in [0, 1]
    decided_by.npy          (N,) int8: what decided each point (beep3d.resolution.DECIDERS: 0 one box or
                            none, 1 nested-box rule, 2 volume rule, 3 teacher network, 4 nearest centre)
    boxes.json              the boxes (project format, version 1)
    <scene>_labelled.ply    binary PLY coloured by instance; properties instance, semantic, confidence,
                            and the original colours as orig_red / orig_green / orig_blue
    scannet/<scene>.txt     ScanNet benchmark prediction list, one line per instance:
                            ``pred_mask/<scene>_<k>.txt <label id> <confidence>``
    scannet/pred_mask/...   one 0/1 per point per instance
    scannet/<scene>_instance_gt.txt   ScanNet GT-style ids: label_id * 1000 + k (k = 1.. per instance,
                            in box order), 0 for background: the masks as training labels
    training/<scene>/       a training-ready scene folder (scene.npz + boxes.json, no GT) for beep3d-train
    export.json             what was exported: resolver, membership, counts, file list
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from beep3d.atomic import write_json_atomic, write_npy_atomic, write_text_atomic
from beep3d.box_files import save_boxes
from beep3d.boxes import BoxSet
from beep3d.classes import SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.resolution import DECIDERS, Resolution, decider_counts
from beep3d.scene import Scene


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


def scannet_gt_ids(resolution: Resolution, boxes: BoxSet) -> np.ndarray:
    """(N,) int64 ScanNet GT-style ids: semantic id * 1000 + (box position + 1); 0 for background."""
    position = np.full(max(int(boxes.ids.max(initial=-1)) + 2, 1), -1, dtype=np.int64)
    position[boxes.ids] = np.arange(len(boxes))
    inst = np.asarray(resolution.instance_ids, dtype=np.int64)
    out = np.zeros(len(inst), dtype=np.int64)
    assigned = (inst >= 0) & (resolution.semantic_ids >= 0)
    out[assigned] = resolution.semantic_ids[assigned].astype(np.int64) * 1000 + position[inst[assigned]] + 1
    return out


def export_all(
    scene: Scene,
    boxes: BoxSet,
    resolution: Resolution,
    out_dir: str | Path,
    class_set: ClassSet = SCANNET18,
    info: dict[str, Any] | None = None,
) -> list[Path]:
    """Write every export format into ``out_dir`` (see the module docstring).

    Parameters
    ----------
    scene
        The scene the resolution belongs to (N points).
    boxes
        The boxes that were resolved.
    resolution
        Per-point results, (N,) arrays.
    out_dir
        Folder to write into (created if missing; files in it are replaced atomically).
    class_set
        Class set the box labels belong to (for the benchmark ids).
    info
        Extra facts recorded in export.json (resolver name, membership level, ...).

    Returns
    -------
    list[Path]
        The files written.
    """
    from beep3d.io import save_scene_folder, write_ply
    from beep3d.metrics.scannet_ap import write_scannet_predictions

    n = scene.num_points
    for name in ("instance_ids", "semantic_ids", "confidence"):
        if len(getattr(resolution, name)) != n:
            raise Beep3dError(
                f"export: {name} has {len(getattr(resolution, name))} entries but the scene has {n} points"
            )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def record(path: Path) -> Path:
        written.append(path)
        return path

    instance_ids = np.asarray(resolution.instance_ids, dtype=np.int32)
    semantic_ids = np.asarray(resolution.semantic_ids, dtype=np.int32)
    confidence = np.asarray(resolution.confidence, dtype=np.float32)
    write_npy_atomic(record(out / "instance_ids.npy"), instance_ids)
    write_npy_atomic(record(out / "semantic_ids.npy"), semantic_ids)
    write_npy_atomic(record(out / "confidence.npy"), confidence)
    decided_by = resolution.decided_by
    if decided_by is not None:
        decided_by = np.asarray(decided_by, dtype=np.int8)
        write_npy_atomic(record(out / "decided_by.npy"), decided_by)
    save_boxes(record(out / "boxes.json"), boxes, scene_name=scene.name)

    write_ply(
        record(out / f"{scene.name}_labelled.ply"),
        scene.xyz,
        instance_colours(instance_ids),
        {
            "instance": instance_ids,
            "semantic": semantic_ids,
            "confidence": confidence,
            **({} if decided_by is None else {"decided_by": decided_by.astype(np.uint8)}),
            "orig_red": scene.rgb[:, 0],
            "orig_green": scene.rgb[:, 1],
            "orig_blue": scene.rgb[:, 2],
        },
        faces=scene.faces,
    )

    masks, labels, scores = [], [], []
    for box in boxes:
        mask = instance_ids == box.id
        if not mask.any():
            continue
        masks.append(mask)
        labels.append(class_set.id_of(box.label))
        scores.append(float(confidence[mask].mean()))
    scannet_dir = out / "scannet"
    write_scannet_predictions(
        scannet_dir,
        scene.name,
        np.array(masks, dtype=bool).reshape(len(masks), n),
        np.array(labels, dtype=np.int64),
        np.array(scores, dtype=np.float64),
    )
    written.append(scannet_dir / f"{scene.name}.txt")
    gt_ids = scannet_gt_ids(resolution, boxes)
    write_text_atomic(
        record(scannet_dir / f"{scene.name}_instance_gt.txt"), "\n".join(map(str, gt_ids.tolist())) + "\n"
    )

    training_scene = Scene(
        xyz=scene.xyz,
        rgb=scene.rgb,
        normals=scene.normals,
        faces=scene.faces,
        superpoints=scene.superpoints,
        label_space=class_set.label_space,
        name=scene.name,
    )
    training_dir = out / "training" / scene.name
    save_scene_folder(training_scene, training_dir, boxes=boxes)
    written.extend([training_dir / "scene.npz", training_dir / "boxes.json"])

    counts = np.asarray(resolution.overlap_counts)
    summary = {
        "scene": scene.name,
        "source": str(scene.source) if scene.source else None,
        "num_points": n,
        "num_boxes": len(boxes),
        "points_in_one_box": int(np.count_nonzero(counts == 1)),
        "points_in_several_boxes": int(np.count_nonzero(counts >= 2)),
        "background_points": int(np.count_nonzero(counts == 0)),
        "points_in_several_boxes_decided_by": decider_counts(decided_by),
        "decided_by_codes": list(DECIDERS),
        "class_set": class_set.label_space,
        **(info or {}),
        "files": [str(p.relative_to(out)) for p in written],
    }
    write_json_atomic(record(out / "export.json"), summary)
    return written
