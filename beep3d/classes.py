"""Class sets: the names annotators pick from, their benchmark ids and display colours."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from beep3d.errors import Beep3dError

#: The 18 ScanNet benchmark classes in ScanNet-20 order (after wall, floor), with their NYU40 ids.
SCANNET18_NAMES: tuple[str, ...] = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink", "bathtub",
    "otherfurniture",
)  # fmt: skip
SCANNET18_NYU40: tuple[int, ...] = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
#: NYU40 ids of wall and floor (not evaluated, not boxed).
NYU40_WALL, NYU40_FLOOR = 1, 2

#: ScanNet's usual colours for the 18 classes (RGB 0..255), same order as the names.
SCANNET18_COLOURS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 187, 120), (188, 189, 34), (140, 86, 75), (255, 152, 150), (214, 39, 40),
    (197, 176, 213), (148, 103, 189), (196, 156, 148), (23, 190, 207), (247, 182, 210), (219, 219, 141),
    (255, 127, 14), (158, 218, 229), (44, 160, 44), (112, 128, 144), (227, 119, 194), (82, 84, 163),
)  # fmt: skip

#: S3DIS's 13 classes, ids 0..12.
S3DIS13_NAMES: tuple[str, ...] = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)  # fmt: skip


@dataclass(frozen=True)
class ClassSet:
    """An ordered set of classes.

    Attributes
    ----------
    names
        Class names, in hotkey order (1-9 select the first nine).
    ids
        The benchmark id of each class (NYU40 ids for ScanNet, 0..12 for S3DIS); written to exports.
    colours
        (r, g, b) 0..255 per class.
    label_space
        What ``ids`` count in ("nyu40", "s3dis" or a user name).
    """

    names: tuple[str, ...]
    ids: tuple[int, ...]
    colours: tuple[tuple[int, int, int], ...]
    label_space: str = "nyu40"

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.ids) == len(self.colours)):
            raise Beep3dError("class set: names, ids and colours must have the same length")
        if len(set(self.names)) != len(self.names):
            raise Beep3dError("class set: class names must be unique")

    def __len__(self) -> int:
        return len(self.names)

    def index_of(self, name: str) -> int:
        """Index of a class by name; raises :class:`Beep3dError` for an unknown name."""
        try:
            return self.names.index(name)
        except ValueError:
            raise Beep3dError(
                f"unknown class {name!r}; known classes: {', '.join(self.names)}. "
                "Use one of them or load a class set that has it."
            ) from None

    def id_of(self, name: str) -> int:
        """Benchmark id of a class by name (-1 for an unknown name)."""
        return self.ids[self.names.index(name)] if name in self.names else -1

    def name_of_id(self, class_id: int) -> str | None:
        """Name of the class with benchmark id ``class_id``, or None."""
        return self.names[self.ids.index(class_id)] if class_id in self.ids else None

    def colour_of(self, name: str) -> tuple[int, int, int]:
        """Display colour of a class (grey for an unknown name)."""
        return self.colours[self.names.index(name)] if name in self.names else (160, 160, 160)

    @staticmethod
    def load(path: str | Path) -> ClassSet:
        """Read a class set from JSON: ``{"label_space": "...", "classes": [{"name", "id", "color"}]}``.

        Each id must be a JSON integer in 0..2**31-1 (the exports hold semantic ids as int32), unique;
        each name a non-empty string, unique; each colour three integers 0..255.

        Raises
        ------
        Beep3dError
            The file cannot be read, is no JSON, or a class breaks one of those rules.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            classes = data["classes"]
            checked = [_checked_class(path, number, c) for number, c in enumerate(classes, 1)]
        except FileNotFoundError:
            raise Beep3dError(f"{path}: class set file not found") from None
        except IsADirectoryError:
            raise Beep3dError(f"{path}: a folder; --class-set names a class set JSON file") from None
        except OSError as exc:
            raise Beep3dError(f"{path}: cannot read the class set ({exc.strerror or exc})") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise Beep3dError(f"{path}: not a valid class set ({exc}); expected {_EXPECTED}") from None
        names = tuple(c[0] for c in checked)
        ids = tuple(c[1] for c in checked)
        _refuse_repeats(path, names, ids)
        return ClassSet(names, ids, tuple(c[2] for c in checked), str(data.get("label_space", path.stem)))


#: What a class set file looks like, for the messages.
_EXPECTED = '{"classes": [{"name": "chair", "id": 5, "color": [r, g, b]}, ...]}'
#: Largest class id: the exports write semantic ids as int32.
MAX_CLASS_ID = 2**31 - 1


def _refuse_repeats(path: Path, names: tuple[str, ...], ids: tuple[int, ...]) -> None:
    """Refuse a class set file with no class, or two classes of one name or one id."""
    if not names:
        raise Beep3dError(f"{path}: the class set has no class; list at least one, {_EXPECTED}")
    for name in names:
        if names.count(name) > 1:
            raise Beep3dError(f"{path}: two classes are named {name!r}; give each class its own name")
    for class_id in ids:
        if ids.count(class_id) > 1:
            sharing = [n for n, i in zip(names, ids, strict=True) if i == class_id]
            raise Beep3dError(
                f"{path}: classes {', '.join(map(repr, sharing))} share id {class_id}; give each class its "
                "own id (they would all be written with the same semantic id)"
            )


def _checked_class(path: Path, number: int, entry: object) -> tuple[str, int, tuple[int, int, int]]:
    """(name, id, colour) of class ``number`` (1-based) of a class set file, checked.

    Raises
    ------
    Beep3dError
        No object, a name that is no non-empty string, an id that is no JSON integer in
        0..:data:`MAX_CLASS_ID`, or a colour that is not three integers 0..255.
    """
    if not isinstance(entry, dict):
        raise Beep3dError(f"{path}: class {number} is {entry!r}, not an object; expected {_EXPECTED}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Beep3dError(
            f"{path}: class {number} has name {name!r}; give every class a non-empty name string"
        )
    class_id = entry.get("id")
    if isinstance(class_id, bool) or not isinstance(class_id, int) or not 0 <= class_id <= MAX_CLASS_ID:
        raise Beep3dError(
            f"{path}: class {name!r} has id {class_id!r}; ids are whole numbers 0..{MAX_CLASS_ID} "
            '(written as a JSON integer, e.g. "id": 5)'
        )
    colour = entry.get("color", (160, 160, 160))
    if (
        not isinstance(colour, list | tuple)
        or len(colour) != 3
        or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255 for v in colour)
    ):
        raise Beep3dError(
            f"{path}: class {name!r} has color {colour!r}; give three integers 0..255, e.g. [31, 119, 180]"
        )
    return name, class_id, (colour[0], colour[1], colour[2])


SCANNET18 = ClassSet(SCANNET18_NAMES, SCANNET18_NYU40, SCANNET18_COLOURS, "nyu40")
S3DIS13 = ClassSet(
    S3DIS13_NAMES,
    tuple(range(13)),
    tuple(SCANNET18_COLOURS[i % len(SCANNET18_COLOURS)] for i in range(13)),
    "s3dis",
)
