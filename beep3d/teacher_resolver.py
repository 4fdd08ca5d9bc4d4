"""The BEEP3D teacher as a resolver: overlaps decided by the trained network (paper eq. 1-6).

The teacher's backbone features of a scene do not depend on the boxes, so they are computed once per
scene and cached; when boxes change only the decoder (with the box-centre guided position queries,
eq. 5-6) and the pseudo-mask step (eq. 1-4) run again. That is what makes live resolution possible
while an annotator edits boxes. Points in one box and background never need the network: a box set
without overlaps resolves without running it at all.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from beep3d.boxes import BoxSet
from beep3d.classes import ClassSet
from beep3d.overlap import MembershipLevel, membership_for
from beep3d.resolution import Resolution
from beep3d.resolvers import semantic_ids_of_positions, uniform_resolution
from beep3d.scene import Scene

if TYPE_CHECKING:
    from beep3d.model.beep3d_model import SceneEncoding


class TeacherResolver:
    """Resolve overlapping boxes with a trained BEEP3D teacher.

    Parameters
    ----------
    checkpoint
        A checkpoint file written by ``beep3d-train`` (or its run folder).
    device
        Torch device for the network ("cpu", "cuda", ...).
    level
        Box membership rule ("point" or "superpoint"); None takes the one the checkpoint was trained with.
    share
        Superpoint membership threshold (share of a superpoint's points inside a box).
    class_set
        Class set of the box labels, for the semantic ids written to exports; None = the checkpoint's.
    threads
        CPU threads for torch (None leaves torch's default).

    Notes
    -----
    Box labels the checkpoint's class set does not know are given its "otherfurniture" class (or its
    first class) for the teacher's matching cost; their semantic id comes from ``class_set`` as usual.
    Confidence of a point in several boxes is the teacher's margin between the best and the
    second-best containing box (eq. 1 similarities), clipped to [0, 1].
    """

    name = "teacher"

    def __init__(
        self,
        checkpoint: str | Path,
        device: str = "cpu",
        level: MembershipLevel | None = None,
        share: float = 0.5,
        class_set: ClassSet | None = None,
        threads: int | None = None,
    ) -> None:
        import torch

        from beep3d.model.weights import load_inference_model

        if threads is not None:
            torch.set_num_threads(int(threads))
        self.model, self.model_class_set, self.config = load_inference_model(checkpoint, device)
        self.device = torch.device(device)
        self.checkpoint = Path(checkpoint)
        self.level: MembershipLevel = level or self.config.membership_level  # type: ignore[assignment]
        self.share = share
        self.class_set = class_set or self.model_class_set
        self._lock = threading.Lock()
        self._scene_ref: weakref.ref[Scene] | None = None
        self._encoding: SceneEncoding | None = None

    def encoding_for(self, scene: Scene) -> SceneEncoding:
        """The teacher's cached backbone output for ``scene`` (computed on first use per scene)."""
        with self._lock:
            if self._scene_ref is not None and self._scene_ref() is scene and self._encoding is not None:
                return self._encoding
        from beep3d.model.batch import collate
        from beep3d.model.sample import ModelSample

        if scene.superpoints is None:
            from beep3d.superpoints import compute_superpoints

            scene.superpoints = compute_superpoints(scene)
        empty3 = np.zeros((0, 3), dtype=np.float32)
        sample = ModelSample(
            name=scene.name,
            xyz=scene.xyz,
            rgb=scene.rgb.astype(np.float32) / 127.5 - 1.0,
            superpoints=scene.superpoints,
            box_centers=empty3,
            box_sizes=empty3,
            box_yaws=np.zeros(0, dtype=np.float32),
            box_classes=np.zeros(0, dtype=np.int64),
            box_ids=np.zeros(0, dtype=np.int64),
            member_points=np.zeros(0, dtype=np.int64),
            member_boxes=np.zeros(0, dtype=np.int64),
        )
        batch = collate([sample], self.device, self.config.voxel_size)
        encoding = self.model.encode_scene(batch)
        with self._lock:
            self._scene_ref, self._encoding = weakref.ref(scene), encoding
        return encoding

    def model_classes(self, boxes: BoxSet) -> np.ndarray:
        """(K,) class index of each box in the checkpoint's class set (unknown labels: see the class notes)."""
        names = self.model_class_set.names
        fallback = names.index("otherfurniture") if "otherfurniture" in names else 0
        return np.array([names.index(b) if b in names else fallback for b in boxes.labels], dtype=np.int64)

    def resolve(self, scene: Scene, boxes: BoxSet) -> Resolution:
        """Resolve every point of ``scene`` to one of ``boxes`` or background (see the class docs)."""
        membership = membership_for(scene, boxes, self.level, self.share)
        counts = membership.counts()
        if not np.any(counts >= 2):
            return uniform_resolution(membership, boxes, self.class_set)
        encoding = self.encoding_for(scene)
        positions, margins = self.model.resolve_with_teacher(
            encoding, boxes.centers, self.model_classes(boxes), membership.point_index, membership.box_index
        )
        positions = np.asarray(positions, dtype=np.int64)
        instance_ids = np.where(positions >= 0, boxes.ids[np.maximum(positions, 0)], -1).astype(np.int32)
        confidence = np.where(counts >= 2, np.clip(margins, 0.0, 1.0), 1.0).astype(np.float32)
        return Resolution(
            instance_ids=instance_ids,
            semantic_ids=semantic_ids_of_positions(positions, boxes, self.class_set),
            confidence=confidence,
            overlap_counts=counts,
        )
