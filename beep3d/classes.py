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
        """Read a class set from JSON: ``{"label_space": "...", "classes": [{"name", "id", "color"}]}``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            classes = data["classes"]
            names = tuple(str(c["name"]) for c in classes)
            ids = tuple(int(c["id"]) for c in classes)
            colours = tuple(tuple(int(v) for v in c.get("color", (160, 160, 160))) for c in classes)
        except FileNotFoundError:
            raise Beep3dError(f"{path}: class set file not found") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise Beep3dError(
                f"{path}: not a valid class set ({exc}); expected "
                '{"classes": [{"name": "chair", "id": 5, "color": [r, g, b]}, ...]}'
            ) from None
        return ClassSet(names, ids, colours, str(data.get("label_space", path.stem)))  # type: ignore[arg-type]


SCANNET18 = ClassSet(SCANNET18_NAMES, SCANNET18_NYU40, SCANNET18_COLOURS, "nyu40")
S3DIS13 = ClassSet(
    S3DIS13_NAMES,
    tuple(range(13)),
    tuple(SCANNET18_COLOURS[i % len(SCANNET18_COLOURS)] for i in range(13)),
    "s3dis",
)
