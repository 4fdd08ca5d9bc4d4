"""Training and validation scenes as :class:`~beep3d.model.sample.ModelSample` objects.

Four kinds of data folder (``--data DIR``); :func:`detect_kind` tells them apart in this order:

1. **folders** - scene folders written by the tool's export or by ``beep3d-synth``: ``DIR/scene.npz``
   (one scene) or ``DIR/*/scene.npz``, each with ``boxes.json`` beside it (boxes only; GT instances in
   the scene are used for evaluation when present; without ``boxes.json`` the boxes are derived from the
   GT instances). Optional split files ``DIR/train.txt`` and ``DIR/val.txt`` list folder names.
2. **scannet** - one ScanNetV2 scene folder (``DIR`` holds ``<scene>_vh_clean_2.ply``), or scene
   folders ``DIR/sceneXXXX_XX/`` (or ``DIR/scans/sceneXXXX_XX/``); split files
   ``scannetv2_train.txt`` / ``scannetv2_val.txt`` in DIR when present.
3. **s3dis** - one room (``DIR/Annotations/``), one area (``DIR`` = ``Area_N`` with room folders), or
   ``DIR/Area_N/<room>/`` folders; Area 5 is the validation set, the other areas train.
4. **plys** - labelled scans as single files, ``DIR/*.ply`` with per-point ``instance`` and
   ``nyu40`` (or ``semantic``) properties, as beep3d-annotate's labelled export and the real ScanNet
   scans in ../shared/data/scannet_real write them. A scene is named after its file without a
   ``_labeled`` / ``_labelled`` suffix (``scene0002_00_labeled.ply`` -> ``scene0002_00``); optional
   ``train.txt`` / ``val.txt`` list those names.

Without split files every scene is used for both training and evaluation (the run says so; so does
a single scene or room), unless
the config's ``val_scenes`` names the validation scenes by pattern (``scene0002_*``): then the scenes
of every data folder that match validate and all others train, whatever the split files say. Several data folders
(``--data A B``) are read one after the other into one training and one validation set.
ScanNet and S3DIS boxes come from the GT instances (``boxes_from_instances``, margin 0.005 m, only
instances whose class is in the class set: wall and floor are not ScanNet classes and get no box);
the GT masks serve evaluation only, never the losses.

Superpoints come from the scene, else from ``superpoints.npy`` beside it, else are computed with
:func:`beep3d.geometry.superpoints.compute_superpoints` and cached to ``superpoints.npy`` when the folder is
writable (in memory otherwise). Box membership is point level, or superpoint level when the model
config asks for it (a superpoint belongs to a box when ``membership_share`` of its points are inside).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from beep3d.classes import S3DIS13, SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership, boxes_from_instances
from beep3d.geometry.overlap import membership_for
from beep3d.model.sample import ModelSample, sample_from_scene, with_model_dtypes
from beep3d.scene import Scene
from beep3d.training.augment import augment_scene, crop_scene
from beep3d.training.config import TrainConfig

log = logging.getLogger(__name__)

SCENE_FILE = "scene.npz"
BOXES_FILE = "boxes.json"
SUPERPOINTS_FILE = "superpoints.npy"
#: Fixed training labels beside a scene folder's boxes (written by the export's training folder):
#: (N,) int64 box id where the annotator's corrections fixed the point, -1 where they or the
#: foreground stage made it background, -2 (free) elsewhere.
POINT_LABELS_FILE = "point_labels.npy"
_SCANNET_NAME = re.compile(r"^scene\d{4}_\d{2}$")
_S3DIS_AREA = re.compile(r"^Area_(\d+)$")
_LABELLED_SUFFIX = re.compile(r"_label(?:l)?ed$")
S3DIS_VALIDATION_AREA = 5


@dataclass(frozen=True)
class SceneEntry:
    """One scene on disk: its folder (or file) and, for exported folders, its box file."""

    path: Path
    name: str
    boxes_path: Path | None = None


def _subfolders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def detect_kind(root: str | Path) -> str:
    """The kind of a data folder: "folders", "scannet", "s3dis" or "plys" (rules in the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise Beep3dError(f"{root}: data folder not found; give the folder that holds the scenes")
    if (root / SCENE_FILE).is_file():
        return "folders"
    if _is_scannet_scene(root):
        return "scannet"
    if _is_s3dis_room(root):
        return "s3dis"
    children = _subfolders(root)
    if any((c / SCENE_FILE).is_file() for c in children):
        return "folders"
    if any(_S3DIS_AREA.match(c.name) for c in children):
        return "s3dis"
    if _S3DIS_AREA.match(root.name) and any(_is_s3dis_room(c) for c in children):
        return "s3dis"
    if (
        any(_SCANNET_NAME.match(c.name) for c in children)
        or (root / "scans").is_dir()
        or (root / "scannetv2_train.txt").is_file()
    ):
        return "scannet"
    if _ply_files(root):
        return "plys"
    raise Beep3dError(
        f"{root}: cannot tell what data this is. Expected scene folders with {SCENE_FILE} (+ {BOXES_FILE}), "
        "S3DIS data (a folder of Area_N/<room> folders, one Area_N folder, or one room with "
        "Annotations/), ScanNet data (a folder of sceneXXXX_XX folders, or one scene folder with "
        "<scene>_vh_clean_2.ply), or labelled *.ply scans."
    )


def _is_scannet_scene(folder: Path) -> bool:
    """Whether ``folder`` is one ScanNet scene folder (it holds a ``<scene>_vh_clean_2.ply`` mesh)."""
    from beep3d.io.scannet import find_scannet_mesh

    return find_scannet_mesh(folder) is not None


def _is_s3dis_room(folder: Path) -> bool:
    """Whether ``folder`` is one S3DIS room (``Annotations/`` or ``<room>.txt`` inside)."""
    return (folder / "Annotations").is_dir() or (folder / f"{folder.name}.txt").is_file()


def _ply_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.ply") if p.is_file() and not p.name.startswith("."))


def ply_scene_name(path: Path) -> str:
    """The scene name of a labelled PLY: its stem without a ``_labeled`` / ``_labelled`` suffix."""
    return _LABELLED_SUFFIX.sub("", path.stem)


def default_class_set(kind: str) -> ClassSet:
    """ScanNet's 18 classes, S3DIS's 13 for S3DIS."""
    return S3DIS13 if kind == "s3dis" else SCANNET18


def resolve_class_set(name: str, kind: str) -> ClassSet:
    """The class set named in a config ("auto", "scannet18", "s3dis13" or a JSON path)."""
    if name == "auto":
        return default_class_set(kind)
    if name == "scannet18":
        return SCANNET18
    if name == "s3dis13":
        return S3DIS13
    return ClassSet.load(name)


#: The built-in label spaces: (class set name, its classes, the configs whose class set it is).
KNOWN_LABEL_SPACES = {
    SCANNET18.label_space: (
        "scannet18",
        "ScanNet's 18 classes (NYU40 ids)",
        "--config small (or small_real, scannet)",
    ),
    S3DIS13.label_space: ("s3dis13", "S3DIS's 13 classes", "--config s3dis"),
}
#: The label space of the GT of each kind of data whose boxes always come from its GT.
DATA_LABEL_SPACES = {"s3dis": S3DIS13.label_space, "scannet": SCANNET18.label_space}
_KIND_NAMES = {"s3dis": "S3DIS data is", "scannet": "ScanNet data is"}


def check_label_space(data_space: str | None, class_set: ClassSet, where: str, what: str) -> None:
    """Refuse GT labels of one built-in label space read through the class set of the other.

    Boxes derived from GT take the class of each instance by its id in the class set, so S3DIS ids
    read as NYU40 ids turn chairs into doors. Class sets with a label space of their own (a custom
    JSON file) are not checked: their ids are the user's to choose.

    Parameters
    ----------
    data_space
        The label space of the data's GT ("nyu40", "s3dis"), None when unknown.
    class_set
        The run's class set.
    where
        The data folder or scene, for the message.
    what
        What is labelled, for the message ("S3DIS data is", "the scene's GT is").

    Raises
    ------
    Beep3dError
        Both label spaces are built-in ones and differ; the message names the class set and config to use.
    """
    wanted = class_set.label_space
    if data_space == wanted or data_space not in KNOWN_LABEL_SPACES or wanted not in KNOWN_LABEL_SPACES:
        return
    data_set, data_classes, data_configs = KNOWN_LABEL_SPACES[data_space]
    size = len(S3DIS13 if data_space == S3DIS13.label_space else SCANNET18)
    raise Beep3dError(
        f"{where}: {what} labelled in {data_classes}, but the config's class set is "
        f"{KNOWN_LABEL_SPACES[wanted][0]} ({wanted} ids), so its classes would be misread. Train it with "
        f"{data_configs}, or set class_set: {data_set} and model.num_classes: {size} in your config"
    )


def _read_split(path: Path) -> list[str] | None:
    if not path.is_file():
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _apply_split(entries: list[SceneEntry], names: list[str] | None, split_file: Path) -> list[SceneEntry]:
    if names is None:
        return entries
    wanted = set(names)
    chosen = [e for e in entries if e.name in wanted]
    if not chosen:
        raise Beep3dError(f"{split_file}: none of the {len(wanted)} listed scenes is in the data folder")
    return chosen


def list_scenes(root: str | Path, kind: str) -> tuple[list[SceneEntry], list[SceneEntry], bool]:
    """The (training, validation) scene entries of a data folder, and whether they came from a split.

    When there is no split, both lists hold every scene and the flag is False.
    """
    root = Path(root)
    if kind == "auto":
        kind = detect_kind(root)
    if kind == "folders":
        if (root / SCENE_FILE).is_file():
            folders = [root]
        else:
            folders = [c for c in _subfolders(root) if (c / SCENE_FILE).is_file()]
        entries = [
            SceneEntry(f, f.name, f / BOXES_FILE if (f / BOXES_FILE).is_file() else None) for f in folders
        ]
        train_names, val_names = _read_split(root / "train.txt"), _read_split(root / "val.txt")
        train = _apply_split(entries, train_names, root / "train.txt")
        val = _apply_split(entries, val_names, root / "val.txt")
        return _nonempty(root, train), _nonempty(root, val), train_names is not None or val_names is not None
    if kind == "s3dis":
        if _is_s3dis_room(root):  # one room: it trains and validates
            name = f"{root.parent.name}/{root.name}" if _S3DIS_AREA.match(root.parent.name) else root.name
            return [SceneEntry(root, name)], [SceneEntry(root, name)], False
        areas = _subfolders(root)
        if _S3DIS_AREA.match(root.name) and not any(_S3DIS_AREA.match(a.name) for a in areas):
            areas = [root]  # one area
        train, val = [], []
        for area in areas:
            match = _S3DIS_AREA.match(area.name)
            if not match:
                continue
            for room in _subfolders(area):
                entry = SceneEntry(room, f"{area.name}/{room.name}")
                (val if int(match.group(1)) == S3DIS_VALIDATION_AREA else train).append(entry)
        if train and val:
            return train, val, True
        everything = train + val
        return _nonempty(root, everything), _nonempty(root, everything), False
    if kind == "scannet":
        if _is_scannet_scene(root):  # one scene folder: it trains and validates
            return [SceneEntry(root, root.name)], [SceneEntry(root, root.name)], False
        base = root / "scans" if (root / "scans").is_dir() else root
        entries = [SceneEntry(c, c.name) for c in _subfolders(base) if _SCANNET_NAME.match(c.name)]
        train_names = _read_split(root / "scannetv2_train.txt")
        val_names = _read_split(root / "scannetv2_val.txt")
        train = _apply_split(entries, train_names, root / "scannetv2_train.txt")
        val = _apply_split(entries, val_names, root / "scannetv2_val.txt")
        return _nonempty(root, train), _nonempty(root, val), train_names is not None or val_names is not None
    if kind == "plys":
        entries = [SceneEntry(p, ply_scene_name(p)) for p in _ply_files(root)]
        train_names, val_names = _read_split(root / "train.txt"), _read_split(root / "val.txt")
        train = _apply_split(entries, train_names, root / "train.txt")
        val = _apply_split(entries, val_names, root / "val.txt")
        return _nonempty(root, train), _nonempty(root, val), train_names is not None or val_names is not None
    raise Beep3dError(f"unknown dataset kind {kind!r}; use auto, scannet, s3dis, folders or plys")


def split_by_patterns(
    entries: list[SceneEntry], patterns: list[str], where: str
) -> tuple[list[SceneEntry], list[SceneEntry]]:
    """(training, validation) entries: a scene whose name matches any of ``patterns`` validates.

    Patterns are shell-style (``scene0002_*``), matched against the whole scene name. Naming a room
    (``scene0002_*``) keeps all its scans on one side of the split.

    Raises
    ------
    Beep3dError
        No scene matches (a typo in a pattern), or every scene does (nothing left to train on).
    """
    val = [e for e in entries if any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]
    train = [e for e in entries if e not in val]
    names = ", ".join(patterns)
    if not val:
        raise Beep3dError(
            f"{where}: no scene matches val_scenes ({names}); scene names are e.g. "
            f"{', '.join(e.name for e in entries[:3])}"
        )
    if not train:
        raise Beep3dError(f"{where}: every scene matches val_scenes ({names}); nothing is left to train on")
    return train, val


def _nonempty(root: Path, entries: list[SceneEntry]) -> list[SceneEntry]:
    if not entries:
        raise Beep3dError(f"{root}: no scenes found; check the data folder")
    return entries


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
    """Reduce a scene and its boxes to a :class:`ModelSample` (boxes without member points dropped).

    ``fixed_ids`` (N,) int64 are fixed training labels in box ids (-1 background, -2 free), from a
    training folder's ``point_labels.npy``; they become box positions in the sample.
    """
    where = where or scene.name
    membership = membership_for(
        replace(scene, superpoints=superpoints), boxes, membership_level, membership_share
    )
    classes = box_classes_for(boxes, class_set, where)
    gt = gt_positions(scene, boxes, membership)
    fixed = None if fixed_ids is None else fixed_positions(fixed_ids, boxes, where)
    sample = sample_from_scene(scene, superpoints, boxes, classes, membership, gt, fixed)
    if len(np.unique(sample.member_boxes)) < len(boxes):
        sample = crop_scene(sample, np.arange(len(sample.xyz)))
    return PreparedScene(scene.name, sample)


def fixed_positions(fixed_ids: np.ndarray, boxes: BoxSet, where: str) -> np.ndarray:
    """(N,) int64 fixed labels in box positions; ids of boxes not in ``boxes`` become free (-2)."""
    fixed_ids = np.asarray(fixed_ids, dtype=np.int64).reshape(-1)
    if np.any(fixed_ids < -2):
        raise Beep3dError(
            f"{where}: {POINT_LABELS_FILE} holds values below -2; re-export the training folder"
        )
    positions = np.where(fixed_ids == -1, -1, -2).astype(np.int64)
    for position, box_id in enumerate(boxes.ids):
        positions[fixed_ids == box_id] = position
    return positions


def read_point_labels(folder: Path | None, num_points: int) -> np.ndarray | None:
    """The fixed labels of a scene folder (``point_labels.npy``), None when it has none."""
    if folder is None or not (folder / POINT_LABELS_FILE).is_file():
        return None
    try:
        labels = np.load(folder / POINT_LABELS_FILE, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise Beep3dError(
            f"{folder / POINT_LABELS_FILE}: cannot be read ({exc}); re-export the training folder"
        ) from None
    if labels.shape != (num_points,) or not np.issubdtype(labels.dtype, np.integer):
        raise Beep3dError(
            f"{folder / POINT_LABELS_FILE}: expected {num_points} integer labels (one per point), got "
            f"{labels.dtype} {labels.shape}; re-export the training folder"
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
        if entry.boxes_path is not None:
            from beep3d.io.box_files import load_boxes

            boxes = load_boxes(entry.boxes_path)
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


def check_boxes_to_train_on(train_set: BoxSceneDataset, where: str) -> None:
    """Refuse a training set without a single box before training starts.

    Box files are counted first (cheap); only when none holds a box are the scenes whose boxes come
    from their GT loaded, one after the other until one has a box (loaded scenes stay in the
    dataset's cache).

    Raises
    ------
    Beep3dError
        No training scene has a box: every ``boxes.json`` is empty and no GT instance is of a class
        in the class set.
    """
    from beep3d.io.box_files import load_boxes

    derived = []
    for index, entry in enumerate(train_set.entries):
        if entry.boxes_path is None:
            derived.append(index)
        elif len(load_boxes(entry.boxes_path)) > 0:
            return
    for index in derived:
        if train_set.prepared(index).sample.num_boxes > 0:
            return
    scenes = len(train_set.entries)
    how = []
    if len(derived) < scenes:
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
        if kind in DATA_LABEL_SPACES:
            check_label_space(DATA_LABEL_SPACES[kind], class_set, str(folder), _KIND_NAMES[kind])
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
