"""Which scenes a training data folder holds, and which of them validate.

Four kinds of data folder (``--data DIR``); :func:`detect_kind` tells them apart in this order:

1. **folders** - scene folders written by the tool's export or by ``beep3d-synth``: ``DIR/scene.npz``
   (one scene) or ``DIR/*/scene.npz``, each with ``boxes.json`` beside it (boxes only; GT instances in
   the scene are used for evaluation when present; without ``boxes.json`` the boxes are derived from the
   GT instances). Optional split files ``DIR/train.txt`` and ``DIR/val.txt`` list folder names (with
   only one of them, the other set is the scenes it does not list; listed scenes that are missing
   are named in a warning).
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

"""

from __future__ import annotations

import fnmatch
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from beep3d.classes import S3DIS13, SCANNET18, ClassSet
from beep3d.errors import Beep3dError

log = logging.getLogger(__name__)

SCENE_FILE = "scene.npz"
BOXES_FILE = "boxes.json"
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
    S3DIS13.label_space: ("s3dis13", "S3DIS's 13 classes", "--config small_s3dis (or s3dis)"),
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
    missing = sorted(wanted - {e.name for e in chosen})
    if missing:  # a subset of ScanNet against its full split files is common: say it, do not refuse
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        log.warning("%s: %d listed scene(s) are not in the data folder: %s", split_file, len(missing), shown)
    return chosen


def _split(
    entries: list[SceneEntry], root: Path, train_file: str, val_file: str
) -> tuple[list[SceneEntry], list[SceneEntry], bool]:
    """(training, validation, whether split files decided) of ``entries`` by the split files in ``root``.

    With only one of the two files, the other set is the scenes it does not list: a folder with only
    ``val.txt`` trains on the rest, never on its validation scenes.
    """
    train_names, val_names = _read_split(root / train_file), _read_split(root / val_file)
    train = _apply_split(entries, train_names, root / train_file)
    val = _apply_split(entries, val_names, root / val_file)
    if train_names is None and val_names is not None:
        train = [e for e in entries if e.name not in set(val_names)]
    if val_names is None and train_names is not None:
        val = [e for e in entries if e.name not in set(train_names)] or train
    return _nonempty(root, train), _nonempty(root, val), train_names is not None or val_names is not None


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
        return _split(entries, root, "train.txt", "val.txt")
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
        return _split(entries, root, "scannetv2_train.txt", "scannetv2_val.txt")
    if kind == "plys":
        entries = [SceneEntry(p, ply_scene_name(p)) for p in _ply_files(root)]
        return _split(entries, root, "train.txt", "val.txt")
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


def check_data_label_space(folder: Path, kind: str, class_set: ClassSet) -> None:
    """Refuse a ScanNet or S3DIS data folder whose labels are not in ``class_set``'s label space."""
    if kind in DATA_LABEL_SPACES:
        check_label_space(DATA_LABEL_SPACES[kind], class_set, str(folder), _KIND_NAMES[kind])
