"""Training and validation scenes as :class:`~beep3d.model.sample.ModelSample` objects.

Which scenes a data folder holds, and which of them validate, is :mod:`beep3d.training.data_folders`;
this module loads them, derives their boxes and superpoints, and prepares the samples.

Superpoints come from the scene, else from ``superpoints.npy`` beside it, else are computed with
:func:`beep3d.geometry.superpoints.compute_superpoints` and cached to ``superpoints.npy`` when the folder is
writable (in memory otherwise). Box membership is point level, or superpoint level when the model
config asks for it (a superpoint belongs to a box when ``membership_share`` of its points are inside).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from beep3d.classes import ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership, boxes_from_instances
from beep3d.geometry.overlap import membership_for
from beep3d.io.arrays import read_npy_array
from beep3d.model.config import ModelConfig
from beep3d.model.sample import ModelSample, sample_from_scene, with_model_dtypes
from beep3d.scene import Scene
from beep3d.training.augment import augment_scene, crop_scene
from beep3d.training.config import TrainConfig
from beep3d.training.data_folders import (
    SceneEntry,
    check_data_label_space,
    check_label_space,
    detect_kind,
    list_scenes,
    resolve_class_set,
    split_by_patterns,
)

log = logging.getLogger(__name__)

SUPERPOINTS_FILE = "superpoints.npy"  # beep3d.io.export_layout.TRAINING_CACHE_FILES: an export may replace it
#: Fixed training labels beside a scene folder's boxes (written by the export's training folder):
#: (N,) int64 box id where the annotator's corrections fixed the point, -1 where they or the
#: foreground stage made it background, -2 (free) elsewhere.
POINT_LABELS_FILE = "point_labels.npy"


@dataclass
class PreparedScene:
    """A loaded scene reduced to what training needs, before augmentation (cached per worker)."""

    name: str
    sample: ModelSample


def prepared_bytes(prepared: PreparedScene) -> int:
    """Memory a prepared scene's arrays take, bytes."""
    sample = prepared.sample
    total = 0
    for name in getattr(type(sample), "__dataclass_fields__", {}):
        value = getattr(sample, name)
        if isinstance(value, np.ndarray):
            total += value.nbytes
    return total


def load_superpoints(scene: Scene, folder: Path | None) -> np.ndarray:
    """The scene's superpoints: its own, the cached ``superpoints.npy``, or computed (and cached)."""
    n = scene.num_points
    if scene.superpoints is not None:
        return scene.superpoints
    cache = folder / SUPERPOINTS_FILE if folder is not None else None
    if cache is not None and cache.is_file():
        try:
            cached = np.load(cache, allow_pickle=False)
            if cached.shape == (n,) and np.issubdtype(cached.dtype, np.integer):
                return np.unique(cached.astype(np.int64), return_inverse=True)[1].reshape(-1)
            log.warning("%s: cached superpoints do not fit the scene (%s points); recomputing", cache, n)
        except (OSError, ValueError):
            log.warning("%s: unreadable superpoint cache; recomputing", cache)
    from beep3d.geometry.superpoints import compute_superpoints

    superpoints = np.asarray(compute_superpoints(scene), dtype=np.int64)
    if cache is not None:
        from beep3d.io.atomic import write_npy_atomic

        try:
            write_npy_atomic(cache, superpoints)
        except OSError:
            log.info("%s: folder not writable; superpoints kept in memory", cache.parent)
    return superpoints


def box_classes_for(boxes: BoxSet, class_set: ClassSet, where: str) -> np.ndarray:
    """(K,) int64 class index of each box; an unknown label raises naming it, the box and the class set."""
    classes = np.zeros(len(boxes), dtype=np.int64)
    for position, box in enumerate(boxes):
        if box.label not in class_set.names:
            raise Beep3dError(
                f"{where}: box {box.id} has label {box.label!r}, which is not in the class set "
                f"({class_set.label_space}: {', '.join(class_set.names)}). Relabel the box or train with a "
                "class set that has it (class_set: path/to/classes.json in the config)."
            )
        classes[position] = class_set.names.index(box.label)
    return classes


def gt_boxes(scene: Scene, class_set: ClassSet, where: str) -> BoxSet:
    """Boxes around the scene's GT instances whose class is in ``class_set`` (margin 0.005 m)."""
    if scene.instance is None or scene.semantic is None:
        raise Beep3dError(f"{where}: the scene has no GT instance and semantic labels to derive boxes from")
    check_label_space(scene.label_space, class_set, where, "the scene's GT is")
    names = dict(zip(class_set.ids, class_set.names, strict=True))
    present = np.unique(scene.semantic)
    skip = [int(s) for s in present if int(s) not in names]
    return boxes_from_instances(
        scene.xyz, scene.instance, scene.semantic, names, margin=0.005, skip_semantic=skip
    )


def gt_positions(scene: Scene, boxes: BoxSet, membership: Membership) -> np.ndarray | None:
    """(N,) int64 GT box position per point (-1 none), or None without GT instances.

    Boxes drawn around the GT objects (each holding most of the instance with its id, as boxes derived
    from the GT do) stand for those; other boxes are paired with instances one to one by the points
    they hold (:func:`beep3d.metrics.mask_quality.gt_instances_as_box_ids`). Box ids that merely
    occur among the instance ids (an annotator's boxes numbered 0, 1, ...) are not taken for them.
    """
    if scene.instance is None or len(boxes) == 0:
        return None
    from beep3d.metrics.mask_quality import gt_instances_as_box_ids

    instance = scene.instance
    ids = boxes.ids
    as_box_ids, _ = gt_instances_as_box_ids(instance, membership.point_index, ids[membership.box_index])
    order = np.argsort(ids)
    positions = np.full(len(instance), -1, dtype=np.int64)
    has = as_box_ids >= 0
    positions[has] = order[np.searchsorted(ids[order], as_box_ids[has])]
    return positions


def prepare_scene(
    scene: Scene,
    boxes: BoxSet,
    class_set: ClassSet,
    superpoints: np.ndarray,
    membership_level: str = "point",
    membership_share: float = 0.5,
    where: str | None = None,
    fixed_ids: np.ndarray | None = None,
) -> PreparedScene:
    """Reduce a scene and its boxes to a :class:`ModelSample` (boxes without member points dropped,
    unless ``fixed_ids`` give them points).

    ``fixed_ids`` (N,) int64 are fixed training labels in box ids (-1 background, -2 free), from a
    training folder's ``point_labels.npy``; they become box positions in the sample.
    """
    where = where or scene.name
    membership = membership_for(
        replace(scene, superpoints=superpoints), boxes, membership_level, membership_share
    )
    classes = box_classes_for(boxes, class_set, where)
    gt = gt_positions(scene, boxes, membership)
    fixed = None if fixed_ids is None else fixed_positions(fixed_ids, boxes)
    sample = sample_from_scene(scene, superpoints, boxes, classes, membership, gt, fixed)
    given = sample.fixed_labels[sample.fixed_labels >= 0] if sample.fixed_labels is not None else []
    if len(np.union1d(sample.member_boxes, given)) < len(boxes):
        sample = crop_scene(sample, np.arange(len(sample.xyz)))
    return PreparedScene(scene.name, sample)


def fixed_positions(fixed_ids: np.ndarray, boxes: BoxSet) -> np.ndarray:
    """(N,) int64 fixed labels in box positions; ids of boxes not in ``boxes`` become free (-2)."""
    fixed_ids = np.asarray(fixed_ids, dtype=np.int64).reshape(-1)
    positions = np.where(fixed_ids == -1, -1, -2).astype(np.int64)
    for position, box_id in enumerate(boxes.ids):
        positions[fixed_ids == box_id] = position
    return positions


def read_point_labels(folder: Path | None, num_points: int) -> np.ndarray | None:
    """The fixed labels of a scene folder (``point_labels.npy``), None when it has none."""
    if folder is None or not (folder / POINT_LABELS_FILE).is_file():
        return None
    labels = read_npy_array(folder / POINT_LABELS_FILE, "re-export the training folder")
    if labels.shape != (num_points,) or not np.issubdtype(labels.dtype, np.integer):
        raise Beep3dError(
            f"{folder / POINT_LABELS_FILE}: expected {num_points} integer labels (one per point), got "
            f"{labels.dtype} {labels.shape}; re-export the training folder"
        )
    path = folder / POINT_LABELS_FILE
    if len(labels) and (int(labels.min()) < -2 or int(labels.max()) > np.iinfo(np.int64).max):
        bad = int(labels.min()) if int(labels.min()) < -2 else int(labels.max())
        raise Beep3dError(
            f"{path}: holds {bad}, but labels are box ids, -1 (background) or -2 (free); re-export the "
            "training folder"
        )
    return labels.astype(np.int64)


def geometric_background_ids(scene: Scene, boxes: BoxSet) -> np.ndarray:
    """(N,) int64 fixed labels: -1 where the geometric foreground stage takes a point out of its box, else -2.

    Points in several boxes are given to the smallest (the stage only needs a box per point).
    """
    from beep3d.resolve.foreground import GeometricForeground
    from beep3d.resolve.resolvers import SmallestBoxResolver

    resolution = SmallestBoxResolver().resolve(scene, boxes)
    background = GeometricForeground().separate(scene, boxes, resolution).background
    return np.where(background, -1, -2).astype(np.int64)


_notes_shown: set[tuple[str, str]] = set()


def log_load_notes(path: Path, notes: list[str]) -> None:
    """Log what the reader noticed while loading a scene (a missing label map, unmapped labels, ...).

    Each note is logged once per process as a warning (``beep3d-train`` prints them on stderr): the
    notes say when labels, and so the boxes derived from them, may not be what the user expects.
    """
    for note in notes:
        if (str(path), note) not in _notes_shown:
            _notes_shown.add((str(path), note))
            log.warning("%s: %s", path, note)


def sample_seed(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The augmentation generator of one scene in one epoch: the same whatever the worker or resume."""
    return np.random.default_rng([int(seed), int(epoch), int(index), 0xBEE3])


class BoxSceneDataset:
    """Scenes with boxes for training or evaluation; items are :class:`ModelSample` objects.

    Index it with ``dataset[(epoch, index)]`` (what :class:`~beep3d.training.sampling.EpochSampler`
    yields) so that the augmentation of a scene depends only on (seed, epoch, index); a plain integer
    index means epoch 0.

    Parameters
    ----------
    entries
        The scenes.
    kind
        "folders", "s3dis" or "scannet".
    class_set
        Classes of the box labels (ScanNet: NYU40 ids; S3DIS: 0..12).
    config
        The training config (membership level and share, crop size, augmentation switches, seed).
    train
        Apply augmentations (training) or not (evaluation).
    """

    def __init__(
        self, entries: list[SceneEntry], kind: str, class_set: ClassSet, config: TrainConfig, train: bool
    ) -> None:
        self.entries = list(entries)
        self.kind = kind
        self.class_set = class_set
        self.config = config
        self.train = train
        self._cache: dict[int, PreparedScene] = {}
        self._cached_bytes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def prepared(self, index: int) -> PreparedScene:
        """The scene before augmentation (loaded once per process when ``cache_scenes``)."""
        if index in self._cache:
            return self._cache[index]
        prepared = self._load(self.entries[index])
        if self.config.cache_scenes:
            size = prepared_bytes(prepared)
            if self._cached_bytes + size <= self.cache_budget():
                self._cache[index] = prepared
                self._cached_bytes += size
        return prepared

    def cache_budget(self) -> int:
        """Bytes this process may keep: ``cache_megabytes`` shared among the rank's loader workers."""
        return int(self.config.cache_megabytes * 2**20) // max(1, int(self.config.num_workers))

    def _load(self, entry: SceneEntry) -> PreparedScene:
        from beep3d.io import load_scene_with_report

        scene, report = load_scene_with_report(entry.path)
        log_load_notes(entry.path, report.notes)
        scene.name = entry.name
        where = str(entry.path)
        check_scene_spread(scene.xyz, self.config.model, where)
        if entry.boxes_path is not None:
            from beep3d.io.box_files import load_boxes

            boxes = load_boxes(entry.boxes_path, origin=scene.origin)
            where = str(entry.boxes_path)
        else:
            boxes = gt_boxes(scene, self.class_set, where)
        folder = entry.path if entry.path.is_dir() else None
        superpoints = load_superpoints(scene, folder)
        return prepare_scene(
            scene,
            boxes,
            self.class_set,
            superpoints,
            self.config.model.membership_level,
            self.config.membership_share,
            where,
            self._fixed_ids(replace(scene, superpoints=superpoints), boxes, folder),
        )

    def _fixed_ids(self, scene: Scene, boxes: BoxSet, folder: Path | None) -> np.ndarray | None:
        """A folder's fixed labels, else (``foreground_targets: geometric``) the foreground stage's background."""
        fixed = read_point_labels(folder, scene.num_points)
        if fixed is not None or self.config.foreground_targets == "off" or len(boxes) == 0:
            return fixed
        return geometric_background_ids(scene, boxes)

    def __getitem__(self, key: int | tuple[int, int]) -> ModelSample:
        epoch, index = (0, key) if isinstance(key, int | np.integer) else key
        prepared = self.prepared(int(index))
        sample = replace(prepared.sample, name=prepared.name)
        if self.train and self.config.augment:
            rng = sample_seed(self.config.seed, epoch, index)
            sample = augment_scene(sample, rng, self.config.crop_points, elastic=self.config.elastic)
        return with_model_dtypes(sample)


def check_box_labels(entries: list[SceneEntry], class_set: ClassSet) -> None:
    """Read every box file once before training, so a bad label stops the run at its start."""
    from beep3d.io.box_files import load_boxes

    for entry in {e.path: e for e in entries}.values():
        if entry.boxes_path is not None:
            box_classes_for(load_boxes(entry.boxes_path), class_set, str(entry.boxes_path))


def check_scene_spread(xyz: np.ndarray, model: ModelConfig, where: str) -> None:
    """Refuse a scene whose points fill fewer than two cells of the network's coarsest level.

    The backbone halves its resolution at every level and normalises each level's features over the
    batch (BatchNorm): a scene of one point, or of points within one coarse cell, cannot be trained
    on alone and ended a run mid-way with a BatchNorm error.

    Parameters
    ----------
    xyz
        (N, 3) the scene's points, metres.
    model
        The network's settings (voxel size, number of levels).
    where
        The scene, for the message.
    """
    cell = model.voxel_size * 2 ** (len(model.backbone_channels) - 1)
    if len(xyz):
        cells = np.floor(np.asarray(xyz, dtype=np.float64) / cell).astype(np.int64)
        if (cells != cells[0]).any():  # two cells at least, without sorting
            return
    raise Beep3dError(
        f"{where}: its {len(xyz)} point(s) lie within one {cell:g} m cell, the network's coarsest; a "
        "scene to train on must spread wider - leave it out of the data folder"
    )


def check_boxes_to_train_on(train_set: BoxSceneDataset, where: str) -> None:
    """Refuse a training set without a single box holding a point before training starts.

    Box files are read first (cheap); then scenes are loaded, those with boxes first, until one has
    a box holding a point (usually the first; loaded scenes stay in the dataset's cache). Boxes that
    hold no point train nothing: a run on them ended after its last step having learnt nothing.

    Raises
    ------
    Beep3dError
        No training scene has a box holding a point: every ``boxes.json`` is empty or its boxes lie
        beside the scan, and no GT instance is of a class in the class set.
    """
    from beep3d.io.box_files import load_boxes

    derived, boxed = [], []
    for index, entry in enumerate(train_set.entries):
        if entry.boxes_path is None:
            derived.append(index)
        elif len(load_boxes(entry.boxes_path)) > 0:
            boxed.append(index)
    for index in boxed + derived:  # usually the first scene answers
        if len(train_set.prepared(index).sample.member_points) > 0:
            return
    scenes = len(train_set.entries)
    how = []
    if boxed:
        how.append(
            "no box of any boxes.json holds a point of its scene: check that the boxes belong to these scans"
        )
    elif len(derived) < scenes:
        how.append("every boxes.json is empty: draw boxes and export again")
    if derived:
        how.append(f"no GT instance is of a class in the class set ({train_set.class_set.label_space})")
    raise Beep3dError(
        f"no boxes to train on in {where} ({scenes} training scene{'s' if scenes != 1 else ''}): "
        f"{'; '.join(how)}"
    )


def build_datasets(
    roots: str | Path | Sequence[str | Path], config: TrainConfig
) -> tuple[BoxSceneDataset, BoxSceneDataset, ClassSet, str, bool]:
    """Training and validation datasets of one data folder or several.

    Parameters
    ----------
    roots
        A data folder, or several (their scenes are pooled: for example real scans and synthetic
        rooms). With ``config.dataset`` other than "auto" every folder must be of that kind.
    config
        The run's config; its ``val_scenes`` patterns, when given, choose the validation scenes.

    Returns
    -------
    train, val, class_set, kind, has_split
        ``kind`` names each folder's kind ("plys+folders" for two folders); ``has_split`` is False
        when no split was found and both sets hold every scene.
    """
    folders = [Path(roots)] if isinstance(roots, str | Path) else [Path(r) for r in roots]
    if not folders:
        raise Beep3dError("no data folder given; pass --data DIR (or several)")
    kinds = [config.dataset if config.dataset != "auto" else detect_kind(f) for f in folders]
    class_set = resolve_class_set(config.class_set, kinds[0])
    if len(class_set) != config.model.num_classes:
        raise Beep3dError(
            f"the class set has {len(class_set)} classes but model.num_classes is {config.model.num_classes}; "
            "set model.num_classes in the config to the size of the class set"
        )
    for folder, kind in zip(folders, kinds, strict=True):
        check_data_label_space(folder, kind, class_set)
    train_entries: list[SceneEntry] = []
    val_entries: list[SceneEntry] = []
    has_split = True
    for folder, kind in zip(folders, kinds, strict=True):
        train, val, split = list_scenes(folder, kind)
        train_entries += train
        val_entries += val
        has_split = has_split and split
    if config.val_scenes:
        everything = list({e.path: e for e in [*train_entries, *val_entries]}.values())
        where = ", ".join(str(f) for f in folders)
        train_entries, val_entries = split_by_patterns(everything, list(config.val_scenes), where)
        has_split = True
    check_box_labels([*train_entries, *val_entries], class_set)
    kind = "+".join(kinds)
    train_set = BoxSceneDataset(train_entries, kind, class_set, config, train=True)
    val_set = BoxSceneDataset(val_entries, kind, class_set, config, train=False)
    check_boxes_to_train_on(train_set, ", ".join(str(f) for f in folders))
    return train_set, val_set, class_set, kind, has_split
