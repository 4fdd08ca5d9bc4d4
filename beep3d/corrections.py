"""Hand corrections of the masks: clicks and brush strokes, in the order the annotator made them.

A box gives a first mask; where it is wrong, the annotator corrects it:

- a **positive click** on a point of an object: that point (and what belongs with it, see
  :mod:`beep3d.resolve.corrections`) is the selected box's object;
- a **negative click**: that point is not the selected box's object;
- a **stroke** (brush or lasso): exactly these points belong to a box, or to background.

Hidden and locked boxes take no corrections: each correction keeps the ids of the boxes that were
hidden or locked when it was made (``protected``), and never changes their masks, whatever the boxes'
flags are later (:mod:`beep3d.resolve.corrections`). So hiding, showing, locking or unlocking a box
changes no mask, and a box file gives the same masks again.

Corrections refer to points by their index in the scan, so they belong to one scan: the box file
stores the scan's point count with them and refuses them for a scan of another size. Later
corrections win over earlier ones where they touch the same points.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from beep3d.errors import Beep3dError

CorrectionKind = Literal["click", "stroke"]
#: Target of a stroke that gives points to background.
BACKGROUND = -1


@dataclass(frozen=True)
class Correction:
    """One click or stroke.

    Attributes
    ----------
    kind
        "click" (one point; it spreads to what belongs with it) or "stroke" (exactly these points).
    box_id
        The box it is about; :data:`BACKGROUND` (-1) for a stroke that gives points to background.
    positive
        True: the points are the box's object; False (clicks only): they are not.
    points
        (M,) int64 indices of the points in the scan (one for a click).
    protected
        Sorted ids of the boxes whose masks it leaves alone (those hidden or locked when it was made):
        it takes no point from them and gives them none.
    """

    kind: CorrectionKind
    box_id: int
    positive: bool
    points: np.ndarray
    protected: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        points = np.unique(np.asarray(self.points, dtype=np.int64).reshape(-1))
        object.__setattr__(self, "points", points)
        protected = tuple(sorted({int(i) for i in self.protected}))
        object.__setattr__(self, "protected", protected)
        if any(i < 0 for i in protected):
            raise Beep3dError(f"protected box ids must be >= 0, got {list(protected)}")
        if self.box_id in protected:
            raise Beep3dError(f"a correction about box {self.box_id} cannot leave that box's mask alone")
        if self.kind not in ("click", "stroke"):
            raise Beep3dError(f"unknown correction kind {self.kind!r}; use 'click' or 'stroke'")
        if len(points) == 0:
            raise Beep3dError("a correction needs at least one point")
        if self.kind == "click" and len(points) != 1:
            raise Beep3dError(f"a click is one point, got {len(points)}")
        if np.any(points < 0):
            raise Beep3dError("correction point indices must be >= 0")
        if self.kind == "stroke" and not self.positive:
            raise Beep3dError(
                "a stroke sets its points to its box, so it is always positive; to take points out of a "
                "box, give them to background with a stroke for box -1, or use a negative click"
            )
        if self.box_id == BACKGROUND and self.kind != "stroke":
            raise Beep3dError(
                "only a stroke can give points to background (box id -1); a click is about a box"
            )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Correction)
            and (self.kind, self.box_id, self.positive, self.protected)
            == (other.kind, other.box_id, other.positive, other.protected)
            and np.array_equal(self.points, other.points)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.box_id, self.positive, self.protected, self.points.tobytes()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form stored in box files (version 2); ``protected`` only when there are some."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "box": int(self.box_id),
            "positive": bool(self.positive),
            "points": [int(p) for p in self.points],
        }
        if self.protected:
            data["protected"] = list(self.protected)
        return data

    def without_protected(self, box_ids: Iterable[int]) -> Correction:
        """This correction no longer leaving the boxes ``box_ids`` alone (they are gone)."""
        gone = {int(i) for i in box_ids}
        if not gone & set(self.protected):
            return self
        kept = tuple(i for i in self.protected if i not in gone)
        return Correction(self.kind, self.box_id, self.positive, self.points, kept)

    @classmethod
    def from_dict(cls, data: Any, where: str = "correction") -> Correction:
        """Read :meth:`to_dict`'s form strictly; a clear error naming ``where`` for anything else.

        ``kind`` is "click" or "stroke"; ``box`` an integer (a box id, or -1: background);
        ``positive`` a JSON boolean (absent: true); ``points`` a non-empty list of integers;
        ``protected`` (absent: none) a list of box ids. A number
        with a fraction, a string such as "1" or "false", or a boolean where a number belongs is
        refused rather than converted: ``bool("false")`` is True, and a point 1.5 names no point.
        """
        if not isinstance(data, dict):
            raise Beep3dError(f"{where}: expected an object with kind, box, positive and points")
        missing = [key for key in ("kind", "box", "points") if key not in data]
        if missing:
            raise Beep3dError(f"{where}: missing key {missing[0]!r}")
        kind = data["kind"]
        if kind not in ("click", "stroke"):
            raise Beep3dError(f'{where}: kind must be "click" or "stroke", got {_shown(kind)}')
        box_id = _integer(data["box"], where, "box")
        positive = data.get("positive", True)
        if not isinstance(positive, bool):
            raise Beep3dError(
                f"{where}: positive must be true or false (a JSON boolean, not a string), got {_shown(positive)}"
            )
        points = data["points"]
        if not isinstance(points, list):
            raise Beep3dError(f"{where}: points must be a list of point indices, got {_shown(points)}")
        if not all(type(p) is int for p in points):  # the fast path: a stroke can hold 100k points
            points = [_integer(p, where, f"points[{k}]") for k, p in enumerate(points)]
        too_big = next((p for p in points if not -(2**63) <= p < 2**63), None)
        if too_big is not None:
            raise Beep3dError(f"{where}: point index {_shown(too_big)} is beyond any scan")
        protected = data.get("protected", [])
        if not isinstance(protected, list):
            raise Beep3dError(f"{where}: protected must be a list of box ids, got {_shown(protected)}")
        protected = [_integer(i, where, f"protected[{k}]") for k, i in enumerate(protected)]
        try:
            return cls(kind, box_id, positive, np.asarray(points, dtype=np.int64), tuple(protected))
        except Beep3dError as exc:
            raise Beep3dError(f"{where}: {exc}") from None


def _integer(value: Any, where: str, name: str) -> int:
    """A JSON integer (or a float without a fraction, as some writers write them) as an int; an error
    naming ``where`` and ``name`` for strings, booleans, fractions and non-finite numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise Beep3dError(f"{where}: {name} must be an integer, got {_shown(value)}")


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters for a one-line message."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's int -> str digit limit
        text = "<a very long integer>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Corrections:
    """The corrections of one scan, in order (immutable; edits return a new value).

    Attributes
    ----------
    items
        The clicks and strokes, oldest first.
    num_points
        Number of points of the scan they index (None while no scan is known).
    """

    items: tuple[Correction, ...] = ()
    num_points: int | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Correction]:
        return iter(self.items)

    def added(self, correction: Correction) -> Corrections:
        """These corrections and ``correction`` after them."""
        if self.num_points is not None and correction.points.max() >= self.num_points:
            raise Beep3dError(
                f"correction point {int(correction.points.max())} is outside the scan ({self.num_points} points)"
            )
        return Corrections((*self.items, correction), self.num_points)

    def without(self, index: int) -> Corrections:
        """These corrections without the one at ``index``."""
        return Corrections(self.items[:index] + self.items[index + 1 :], self.num_points)

    def without_boxes(self, box_ids: Iterable[int]) -> Corrections:
        """These corrections without those about the boxes ``box_ids`` (a deleted box takes its own),
        and no longer leaving those boxes alone (a later box may get a freed id)."""
        gone = set(int(i) for i in box_ids)
        kept = tuple(c.without_protected(gone) for c in self.items if c.box_id not in gone)
        return Corrections(kept, self.num_points)

    def for_scan(self, num_points: int, where: str = "") -> Corrections:
        """These corrections checked against a scan of ``num_points`` points (a clear error if they do not fit).

        ``where`` (the box file) starts the error message when given.
        """
        prefix = f"{where}: " if where else ""
        if self.num_points is not None and self.num_points != num_points:
            raise Beep3dError(
                f"{prefix}the corrections were made on a scan of {self.num_points} points but this scan has "
                f"{num_points}; they refer to points by index, so they only fit the scan they were made on"
            )
        for position, item in enumerate(self.items):
            biggest = int(item.points.max())
            if biggest >= num_points:
                about = "background" if item.box_id == BACKGROUND else f"box {item.box_id}"
                raise Beep3dError(
                    f"{prefix}corrections item {position} ({item.kind} for {about}) refers to point {biggest}, "
                    f"but the scan has {num_points} points; the corrections belong to another scan"
                )
        return Corrections(self.items, num_points)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form stored in box files (version 2)."""
        return {"num_points": self.num_points, "items": [c.to_dict() for c in self.items]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "corrections") -> Corrections:
        """Read :meth:`to_dict`'s form."""
        if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
            raise Beep3dError(f"{where}: expected an object with 'num_points' and a list 'items'")
        items = tuple(
            Correction.from_dict(item, f"{where} item {i}") for i, item in enumerate(data.get("items", []))
        )
        num_points = data.get("num_points")
        if num_points is not None:
            num_points = _integer(num_points, where, "num_points")
            if num_points < 0:
                raise Beep3dError(f"{where}: num_points must be >= 0, got {num_points}")
        return cls(items, num_points)

    def about_boxes(self, box_ids: Iterable[int]) -> tuple[Corrections, list[int]]:
        """These corrections without those about a box not among ``box_ids`` (-1, background, is kept).

        A correction about a box that is gone changes no mask (the corrections stage skips it); a box
        file written before deleting a box took its corrections with it can hold such ones. Left in,
        they would pass to a new box that gets the freed id. For the same reason, the kept ones no
        longer leave such boxes alone (:attr:`Correction.protected`).

        Returns
        -------
        (Corrections, list[int])
            The corrections kept, and the indices of those left out.
        """
        known = {int(i) for i in box_ids} | {BACKGROUND}
        dropped = [i for i, c in enumerate(self.items) if c.box_id not in known]
        kept = tuple(c for c in self.items if c.box_id in known)
        unknown = {i for c in kept for i in c.protected} - known  # boxes gone: nothing left to protect
        kept = tuple(c.without_protected(unknown) for c in kept)
        return Corrections(kept, self.num_points), dropped
