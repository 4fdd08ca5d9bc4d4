"""The BEEP3D teacher as a resolver: overlaps decided by the trained network (paper eq. 1-6).

The teacher's backbone features of a scene do not depend on the boxes, so they are computed once per
scene and cached; when boxes change only the decoder (with the box-centre guided position queries,
eq. 5-6) and the pseudo-mask step (eq. 1-4) run again. That is what makes live resolution possible
while an annotator edits boxes. Points in one box and background never need the network: a box set
without overlaps resolves without running it at all.

Constructing a :class:`TeacherResolver` is cheap: it checks the checkpoint's safetensors header (format,
version, model config, class set) without importing torch, so a wrong file is reported at once. The
network itself (torch, spconv and the weights: seconds) is loaded by :meth:`TeacherResolver.load`, which
the first :meth:`TeacherResolver.resolve` calls; the desktop app lets its resolution worker do that.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership, MembershipEdit
from beep3d.geometry.overlap import MembershipLevel, membership_for
from beep3d.model.config import OVERLAP_SCORES, ModelConfig
from beep3d.model.weights import CheckpointInfo, load_inference_model, read_checkpoint_info
from beep3d.resolve.progress import Progress
from beep3d.resolve.resolution import Resolution, semantic_ids_of_positions, uniform_resolution
from beep3d.resolve.teacher_edits import (
    EXACT_PAIRS,
    TeacherEditMemory,
    decide_points,
    edited_teacher_resolution,
    nested_priority,
)
from beep3d.scene import Scene

if TYPE_CHECKING:
    from beep3d.model.beep3d_model import Beep3DModel, SceneEncoding
    from beep3d.model.pinned_decoding import PinnedDecoding


#: Eq. 2's score when a checkpoint stores no choice: chosen for the synthetic-trained teacher on 12
#: validation rooms (seeds 164-175): partial overlaps right 0.75 of the time against 0.63 for the
#: bare logit (README, "How the teacher got past the rules").
DEFAULT_OVERLAP_SCORE = "logit_minus_log_volume"
#: The recognition check when a checkpoint stores no choice: off (0). Chosen on validation scenes only:
#: on the 12 synthetic validation rooms the shipped teacher scored mACC 0.837 without it against 0.817
#: at 0.05, and on the real validation room 0002 (ScanNet, point membership) 0.614 against 0.547
#: (smallest-box: 0.461); at 0.05 the volume rule decided three quarters of the real contests.
DEFAULT_MIN_RECOGNITION = 0.0


def resolver_settings(info: CheckpointInfo) -> dict[str, Any]:
    """The resolver settings to use with a checkpoint: ``overlap_score`` and ``min_recognition``.

    A checkpoint may store the values chosen for it on its validation scenes, under
    ``extra.resolver`` in its metadata (``python -m beep3d.training.export_checkpoint ...
    --overlap-score S --min-recognition R`` writes them); otherwise the module defaults apply.

    Raises
    ------
    Beep3dError
        The stored values are not valid.
    """
    stored = (info.metadata.get("extra") or {}).get("resolver") or {}
    if not isinstance(stored, dict):
        raise Beep3dError(f"{info.path}: damaged resolver settings in the checkpoint; export it again")
    score = stored.get("overlap_score", DEFAULT_OVERLAP_SCORE)
    recognition = stored.get("min_recognition", DEFAULT_MIN_RECOGNITION)
    if score not in OVERLAP_SCORES or not isinstance(recognition, int | float) or not 0 <= recognition <= 1:
        raise Beep3dError(
            f"{info.path}: the checkpoint stores resolver settings that are not valid "
            f"(overlap_score {score!r}, min_recognition {recognition!r}); export it again"
        )
    return {"overlap_score": score, "min_recognition": float(recognition)}


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
        CPU threads for torch, set whenever the network runs (None leaves torch's default).
    overlap_score
        What eq. 2 compares among the boxes containing a point (``ModelConfig.overlap_score``):
        "logit" or "logit_minus_log_volume" (the teacher's logit weighed by each box's point density
        1 / volume). None = the value chosen for this checkpoint on its validation scenes and stored
        in it (:func:`resolver_settings`), else :data:`DEFAULT_OVERLAP_SCORE`.
    min_recognition
        A contest that involves a box whose teacher query claims (logit > 0) less than this share of
        the box's own points is decided by box volume alone, as the smallest-box rule does: the
        teacher does not recognise that object, so its logits there are noise (0 = never). None =
        the checkpoint's stored choice, else :data:`DEFAULT_MIN_RECOGNITION`.

    Raises
    ------
    Beep3dError
        The checkpoint is missing or wrong (see :func:`read_checkpoint_info`). Construction reads only
        the checkpoint's header; errors found while loading the network come from :meth:`load`.

    Notes
    -----
    The network is loaded by :meth:`load`, which the first :meth:`resolve` (or the first use of
    :attr:`model`) calls; loading is thread-safe, so a worker thread can do it.

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
        overlap_score: str | None = None,
        min_recognition: float | None = None,
    ) -> None:
        info = read_checkpoint_info(checkpoint)
        stored = resolver_settings(info)
        overlap_score = overlap_score or stored["overlap_score"]
        min_recognition = stored["min_recognition"] if min_recognition is None else min_recognition
        self.checkpoint: Path = info.path
        self.config: ModelConfig = info.config
        self.model_class_set: ClassSet = info.class_set
        self.device = str(device)
        self.threads = threads
        self.level: MembershipLevel = level or self.config.membership_level  # type: ignore[assignment]
        self.share = share
        self.class_set = class_set or self.model_class_set
        self.overlap_score = overlap_score
        if self.overlap_score not in OVERLAP_SCORES:
            raise Beep3dError(f"unknown overlap score {self.overlap_score!r}; use one of {OVERLAP_SCORES}")
        if not 0.0 <= min_recognition <= 1.0:
            raise Beep3dError(f"min_recognition is a share of points in [0, 1], got {min_recognition}")
        self.min_recognition = float(min_recognition)
        self._lock = threading.Lock()  # the per-scene backbone cache
        self._load_lock = threading.Lock()  # loading the network (held for seconds)
        self._model: Beep3DModel | None = None
        self._load_error: str | None = None
        self._warm_lock = threading.Lock()
        self._warmed = False
        self._scene_ref: weakref.ref[Scene] | None = None
        self._encoding: SceneEncoding | None = None
        self._edits: TeacherEditMemory | None = None
        self._from_edits: weakref.WeakValueDictionary[int, Resolution] = weakref.WeakValueDictionary()
        #: Boxes x superpoints up to which an edit decodes every query again (exact); see
        #: :data:`beep3d.resolve.teacher_edits.EXACT_PAIRS`.
        self.exact_pairs = EXACT_PAIRS

    @property
    def loaded(self) -> bool:
        """Whether the network is loaded (a :meth:`resolve` will not spend seconds loading it)."""
        return self._model is not None

    @property
    def load_error(self) -> str | None:
        """Why loading the network failed (None: it did not fail, or was not tried yet)."""
        return self._load_error

    @property
    def model(self) -> Beep3DModel:
        """The student-teacher network in eval mode (loaded on first use: see :meth:`load`)."""
        self.load()
        assert self._model is not None
        return self._model

    def load(self) -> None:
        """Load the network now: torch, spconv and the weights (seconds); later calls return at once.

        Thread-safe: a second caller waits for the first one's load.

        Raises
        ------
        Beep3dError
            The tensors do not fit the network, torch or spconv cannot be imported, or the device is not
            usable. The failure is kept (see :attr:`load_error`): later calls raise it again at once.
        """
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            if self._load_error is not None:
                raise Beep3dError(self._load_error)
            try:
                self._model = self._load_model()
            except Beep3dError as exc:
                self._load_error = str(exc)
                raise

    def warm_up(self) -> None:
        """Load the network (:meth:`load`), then run it once on a tiny made-up scene; once per resolver.

        The network's first run costs more than later ones (for a 100k-point scan the decoder's first
        run took 0.19 s against 0.03-0.1 s later, more on a busy machine). The window calls this in a
        background thread when the teacher is chosen, so that cost and the imports are paid while the
        annotator opens a scan, not in the first resolution.
        The scene cache (:meth:`encoding_for`) is not touched and results do not depend on it. No
        numba kernel runs here (the made-up scene's superpoints are grid cells): numba's workqueue
        threading layer must not be entered from two threads at once.

        Raises
        ------
        Beep3dError
            As :meth:`load`.
        """
        self.load()
        with self._warm_lock:
            if self._warmed:
                return
            self._warmed = True
        import torch

        from beep3d.model.batch import collate
        from beep3d.model.sample import sample_from_scene

        scene, boxes = _tiny_scene()
        membership = membership_for(scene, boxes, self.level, self.share)
        model = self.model
        self._use_threads()
        with torch.no_grad():
            batch = collate(
                [sample_from_scene(scene, scene.superpoints)], self.device, self.config.voxel_size
            )
            self._decide(model.encode_scene(batch), boxes, membership)  # nothing kept for edits

    def _decide(
        self, encoding: SceneEncoding, boxes: BoxSet, membership: Membership
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, PinnedDecoding | None, np.ndarray | None]:
        """(box position, margin, decider) of each point, by the network, and what an edit can reuse.

        With the queries pinned on the box centres and no recognition check, the decoder's state is
        kept (:class:`beep3d.resolve.teacher_edits.TeacherEditMemory`); otherwise
        :meth:`Beep3DModel.resolve_with_teacher` decides and nothing is kept (the last two are None).
        """
        model = self.model
        if model.pins_teacher_queries and self.min_recognition == 0 and len(boxes):
            decoding = model.teacher_pinned_decoding(encoding, boxes.centers)
            counts = membership.counts()
            priority = nested_priority(membership, counts) if model.config.nested_box_prior else None
            points = np.arange(membership.num_points, dtype=np.int64)
            positions, margins, decided_by = decide_points(
                model, encoding, boxes, membership, decoding, priority, points, self.overlap_score
            )
            return positions, margins, decided_by, decoding, priority
        positions, margins, decided_by = model.resolve_with_teacher(
            encoding,
            boxes.centers,
            self.model_classes(boxes),
            membership.point_index,
            membership.box_index,
            boxes.sizes,
            self.overlap_score,
            self.min_recognition,
        )
        return positions, margins, decided_by, None, None

    def _use_threads(self) -> None:
        """Give torch this resolver's ``threads`` in the calling thread, before the network runs.

        Setting them once at load time is not enough: OpenMP keeps the thread count per calling
        thread (the window loads the network in another thread than the one resolving), and numba's
        OpenMP kernels (the superpoints') set it back to every core in the thread that runs them.
        """
        if self.threads is None:
            return
        import torch

        if torch.get_num_threads() != int(self.threads):
            torch.set_num_threads(int(self.threads))

    def _load_model(self) -> Beep3DModel:
        try:
            import torch

            if self.threads is not None:
                torch.set_num_threads(int(self.threads))
            model, _class_set, _config = load_inference_model(self.checkpoint, self.device)
        except ImportError as exc:
            raise Beep3dError(
                f"the teacher needs torch and spconv, which could not be imported ({exc}); install the "
                "package's dependencies, or resolve overlaps with smallest-box or nearest-centre"
            ) from None
        except (RuntimeError, OSError, ValueError, MemoryError) as exc:
            raise Beep3dError(
                f"{self.checkpoint}: the teacher could not be loaded on device {self.device!r} ({exc}); "
                "check the device, or use another checkpoint"
            ) from None
        return model

    def encoding_for(self, scene: Scene, progress: Progress | None = None) -> SceneEncoding:
        """The teacher's cached backbone output for ``scene`` (computed on first use per scene).

        ``progress`` hears of the superpoints and the backbone (stages "superpoints", "teacher
        backbone") and can cancel them between their steps and layers
        (:class:`beep3d.resolve.progress.Cancelled`; nothing is cached then).
        """
        with self._lock:
            if self._scene_ref is not None and self._scene_ref() is scene and self._encoding is not None:
                return self._encoding
        from beep3d.model.batch import collate
        from beep3d.model.sample import sample_from_scene

        plan = (progress or Progress()).stages(_encoding_weights(scene))
        if scene.superpoints is None:
            from beep3d.geometry.superpoints import compute_superpoints

            plan.begin("superpoints")
            timings = plan.within("superpoints").step_timings(SUPERPOINT_STEPS, "superpoints")
            scene.superpoints = compute_superpoints(scene, timings=timings)
        plan.begin("teacher backbone")
        self._use_threads()
        sample = sample_from_scene(scene, scene.superpoints)
        batch = collate([sample], self.device, self.config.voxel_size)
        backbone = self.model.teacher.backbone
        layers = [m for m in backbone.modules() if not any(True for _ in m.children())]
        with plan.within("teacher backbone").watching(layers, "teacher backbone"):
            encoding = self.model.encode_scene(batch)
        with self._lock:
            self._scene_ref, self._encoding = weakref.ref(scene), encoding
        return encoding

    def model_classes(self, boxes: BoxSet) -> np.ndarray:
        """(K,) class index of each box in the checkpoint's class set (unknown labels: see the class notes)."""
        names = self.model_class_set.names
        fallback = names.index("otherfurniture") if "otherfurniture" in names else 0
        return np.array([names.index(b) if b in names else fallback for b in boxes.labels], dtype=np.int64)

    def resolve(self, scene: Scene, boxes: BoxSet, progress: Progress | None = None) -> Resolution:
        """Resolve every point of ``scene`` to one of ``boxes`` or background (see the class docs).

        The first call loads the network (:meth:`load`), even when these boxes do not overlap, so a
        checkpoint that cannot be loaded is reported on the first resolution.

        ``progress`` hears of each stage ("teacher model", "superpoints", "teacher backbone",
        "teacher decoder") and can cancel between them and between the network's layers
        (:class:`beep3d.resolve.progress.Cancelled`); loading the network is not interrupted.
        """
        plan = (progress or Progress()).stages(
            {
                "teacher model": 0.0 if self.loaded else MODEL_LOAD_SECONDS,
                "encoding": 0.0 if self._has_encoding(scene) else sum(_encoding_weights(scene).values()),
                "teacher decoder": DECODER_SECONDS_PER_POINT * scene.num_points,
            }
        )
        if not self.loaded:
            plan.begin("teacher model")
        self.load()
        membership = membership_for(scene, boxes, self.level, self.share)
        counts = membership.counts()
        if not np.any(counts >= 2):
            self._edits = None
            return uniform_resolution(membership, boxes, self.class_set)
        encoding = self.encoding_for(scene, plan.within("encoding"))
        plan.begin("teacher decoder")
        self._use_threads()
        self._edits = None
        with plan.within("teacher decoder").watching(self.model.teacher.decoder.layers, "teacher decoder"):
            positions, margins, decided_by, decoding, priority = self._decide(encoding, boxes, membership)
        positions = np.asarray(positions, dtype=np.int64)
        instance_ids = np.where(positions >= 0, boxes.ids[np.maximum(positions, 0)], -1).astype(np.int32)
        confidence = np.where(counts >= 2, np.clip(margins, 0.0, 1.0), 1.0).astype(np.float32)
        resolution = Resolution(
            instance_ids=instance_ids,
            semantic_ids=semantic_ids_of_positions(positions, boxes, self.class_set),
            confidence=confidence,
            overlap_counts=counts,
            decided_by=np.asarray(decided_by, dtype=np.int8),
        )
        if decoding is not None:
            self._edits = TeacherEditMemory(weakref.ref(scene), boxes, decoding, priority, resolution)
        return resolution

    def resolve_edit(
        self, scene: Scene, boxes: BoxSet, previous: Resolution, edit: MembershipEdit
    ) -> tuple[Resolution, np.ndarray]:
        """The resolution after an in-place edit of a few boxes, from the one before it (``previous``).

        When ``previous`` is this resolver's last resolution of ``scene`` and its decoder state was
        kept, only the edited boxes' queries and their neighbours' are decoded again and only their
        points decided again (:mod:`beep3d.resolve.teacher_edits`, which says how the result can
        differ from :meth:`resolve`'s; with at most :attr:`exact_pairs` boxes x superpoints every
        query is, and the result is :meth:`resolve`'s); otherwise this is :meth:`resolve`.

        Parameters
        ----------
        scene
            The scan (N points).
        boxes
            The boxes after the edit (K).
        previous
            The resolution of the boxes before the edit.
        edit
            The membership edit (:meth:`beep3d.geometry.boxes.BoxSet.membership_edit`).

        Returns
        -------
        (Resolution, np.ndarray)
            The resolution and the sorted points resolved again (every other point's values are
            ``previous``'s).
        """
        memory = self._edits
        if memory is None or not memory.fits(scene, previous, boxes) or not self._has_encoding(scene):
            return self.resolve(scene, boxes), np.arange(scene.num_points, dtype=np.int64)
        self._use_threads()
        try:
            resolution, redone, exact = edited_teacher_resolution(
                self.model,
                self.encoding_for(scene),
                scene,
                boxes,
                memory,
                edit,
                self.overlap_score,
                self.class_set,
                self.config.nested_box_prior,
                self.exact_pairs,
            )
        except BaseException:
            self._edits = None  # the decoder state may be half updated
            raise
        if not exact:
            self._from_edits[id(resolution)] = resolution  # (resolutions hold arrays: not hashable)
        return resolution, redone

    def is_exact(self, resolution: Resolution) -> bool:
        """Whether ``resolution`` is what :meth:`resolve` gives (False: it came from :meth:`resolve_edit`,
        whose untouched points keep earlier decisions; an export resolves such boxes again)."""
        return self._from_edits.get(id(resolution)) is not resolution

    def object_probability(self, scene: Scene, boxes: BoxSet, positions: np.ndarray) -> np.ndarray:
        """(N,) float32 the network's mask probability of each point for the box it was given to.

        Parameters
        ----------
        scene, boxes
            The scan and its boxes (K).
        positions
            (N,) int64 position in ``boxes`` of each point's box, -1 for none (probability 1).

        Used by the foreground stage's model mode (:class:`beep3d.resolve.foreground.ModelForeground`).
        When these boxes are the ones this resolver last resolved and it kept their decoder state
        (:mod:`beep3d.resolve.teacher_edits`), the kept mask logits are used: the decoder does not
        run again.
        """
        self.load()
        memory = self._edits
        if (
            memory is not None
            and memory.scene() is scene
            and memory.boxes == boxes
            and self._has_encoding(scene)
        ):
            import torch

            from beep3d.model.beep3d_model import given_box_probability

            encoding = self.encoding_for(scene)
            identity = torch.arange(len(boxes), device=encoding.scene.superpoints.device)
            return given_box_probability(encoding, memory.decoding.logits, identity, positions)
        membership = membership_for(scene, boxes, self.level, self.share)
        encoding = self.encoding_for(scene)
        self._use_threads()
        return self.model.object_probability(
            encoding,
            boxes.centers,
            self.model_classes(boxes),
            membership.point_index,
            membership.box_index,
            np.asarray(positions, dtype=np.int64),
        )

    def _has_encoding(self, scene: Scene) -> bool:
        with self._lock:
            return self._scene_ref is not None and self._scene_ref() is scene and self._encoding is not None


# Progress of a first resolution: rough seconds of each stage on 2 CPU cores (bench figures at 1M
# points: loading 5 s, superpoints 2.3 s, backbone 0.75 s, decoder 0.9 s), so the share shown moves
# with the time taken.
MODEL_LOAD_SECONDS = 5.0
SUPERPOINT_SECONDS_PER_POINT = 2.3e-6
BACKBONE_SECONDS_PER_POINT = 0.75e-6
DECODER_SECONDS_PER_POINT = 0.9e-6
#: Share of :func:`beep3d.geometry.superpoints.compute_superpoints` done after each of its steps.
SUPERPOINT_STEPS = {
    "order": 0.2,
    "knn": 0.65,
    "normals": 0.71,
    "edges": 0.78,
    "weights": 0.8,
    "sort": 0.84,
    "merge": 0.93,
    "relabel": 1.0,
}


def _tiny_scene() -> tuple[Scene, BoxSet]:
    """A 2,000-point made-up room for :meth:`TeacherResolver.warm_up`: a floor and two cubes whose
    boxes overlap; its superpoints are 20 cm grid cells."""
    from beep3d.geometry.boxes import Box

    rng = np.random.default_rng(0)
    floor = np.column_stack([rng.uniform(0, 2, (800, 2)), np.zeros(800)])
    parts, boxes = [floor], []
    for k, x in enumerate((0.6, 1.3)):
        local = rng.uniform(-0.3, 0.3, (600, 3))
        face = rng.integers(0, 3, 600)
        local[np.arange(600), face] = np.sign(local[np.arange(600), face]) * 0.3
        parts.append(local + (x, 1.0, 0.3))
        boxes.append(Box(k + 1, "cabinet", (x, 1.0, 0.3), (0.9, 0.9, 0.7), 0.0))
    xyz = np.concatenate(parts).astype(np.float32)
    rgb = rng.integers(0, 255, (len(xyz), 3), dtype=np.uint8)
    _, cells = np.unique(np.floor(xyz / 0.2).astype(np.int64), axis=0, return_inverse=True)
    scene = Scene(xyz=xyz, rgb=rgb, superpoints=cells.reshape(-1).astype(np.int64), name="warm-up")
    return scene, BoxSet(boxes)


def _encoding_weights(scene: Scene) -> dict[str, float]:
    superpoints = 0.0 if scene.superpoints is not None else SUPERPOINT_SECONDS_PER_POINT * scene.num_points
    return {"superpoints": superpoints, "teacher backbone": BACKBONE_SECONDS_PER_POINT * scene.num_points}
