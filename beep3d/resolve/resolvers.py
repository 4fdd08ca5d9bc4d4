"""Resolvers: turn (scene, boxes) into per-point instance ids.

Points inside exactly one box belong to it, points inside none are background; resolvers differ only
in how they decide points inside several boxes (P^u). The rule-based baselines here are the ones the
BEEP3D teacher must beat; the teacher itself lives in :mod:`beep3d.resolve.teacher_resolver`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from beep3d.classes import SCANNET18, ClassSet
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import BoxSet, Membership, MembershipEdit
from beep3d.geometry.overlap import MembershipLevel, membership_for
from beep3d.resolve.resolution import (
    DECIDED_BY_CENTRE_RULE,
    DECIDED_BY_ONE_BOX,
    DECIDED_BY_VOLUME_RULE,
    Resolution,
    Resolver,
    resolution_from_scores,
    semantic_ids_of_positions,
    uniform_resolution,
)

__all__ = [
    "RESOLVER_NAMES",
    "NearestCentreResolver",
    "SmallestBoxResolver",
    "get_resolver",
    "resolution_from_scores",
    "semantic_ids_of_positions",
    "uniform_resolution",
]
from beep3d.scene import Scene


class _RuleResolver:
    """Shared set-up of the rule-based resolvers: membership level and class set."""

    name = "rule"
    rule = DECIDED_BY_ONE_BOX

    def __init__(
        self, level: MembershipLevel = "point", share: float = 0.5, class_set: ClassSet = SCANNET18
    ) -> None:
        self.level = level
        self.share = share
        self.class_set = class_set

    def resolve(self, scene: Scene, boxes: BoxSet) -> Resolution:
        membership = membership_for(scene, boxes, self.level, self.share)
        return resolution_from_scores(
            membership, boxes, self.pair_scores(scene, boxes, membership), self.class_set, self.rule
        )

    def resolve_edit(
        self, scene: Scene, boxes: BoxSet, previous: Resolution, edit: MembershipEdit
    ) -> tuple[Resolution, np.ndarray]:
        """The resolution after an in-place edit of a few boxes, from the one before it (``previous``).

        A point's box, confidence and decider depend only on the boxes containing it, so only the
        edit's points (``edit.points``: inside a changed box before or after, or at superpoint level
        in a superpoint holding such a point) are resolved again; the result equals :meth:`resolve`.

        Parameters
        ----------
        scene
            The scan (N points).
        boxes
            The boxes after the edit (K).
        previous
            :meth:`resolve` of the boxes before the edit.
        edit
            The membership edit (:meth:`beep3d.geometry.boxes.BoxSet.membership_edit`).

        Returns
        -------
        (Resolution, np.ndarray)
            The resolution and the sorted points resolved again (``edit.points``).
        """
        points = edit.points
        local = Membership(np.searchsorted(points, edit.new_point), edit.new_box, len(points), len(boxes))
        part = resolution_from_scores(
            local, boxes, self.pair_scores(scene, boxes, local, points), self.class_set, self.rule
        )
        arrays = []
        for name in ("instance_ids", "semantic_ids", "confidence", "overlap_counts", "decided_by"):
            array = getattr(previous, name).copy()
            array[points] = getattr(part, name)
            arrays.append(array)
        return Resolution(*arrays), points

    def pair_scores(
        self, scene: Scene, boxes: BoxSet, membership: Membership, points: np.ndarray | None = None
    ) -> np.ndarray:
        """(P,) score of each (point, box) pair of ``membership`` (higher wins).

        ``points`` maps ``membership``'s point numbers to the scene's (None: they are the scene's).
        """
        raise NotImplementedError


class SmallestBoxResolver(_RuleResolver):
    """Box2Mask's rule: a point in several boxes goes to the smallest of them (by volume).

    Confidence of a P^u point: 1 - V1 / V2 for the two smallest containing volumes V1 <= V2 (0 when
    the boxes are equally large).
    """

    name = "smallest-box"
    rule = DECIDED_BY_VOLUME_RULE

    def pair_scores(
        self, scene: Scene, boxes: BoxSet, membership: Membership, points: np.ndarray | None = None
    ) -> np.ndarray:
        volumes = np.maximum(boxes.volumes, 1e-12)
        # score = smallest volume / own volume: the best box scores 1, margin = 1 - V1/V2
        pair_volume = volumes[membership.box_index]
        smallest = np.full(membership.num_points, np.inf)
        np.minimum.at(smallest, membership.point_index, pair_volume)
        return smallest[membership.point_index] / pair_volume


class NearestCentreResolver(_RuleResolver):
    """A point in several boxes goes to the box whose centre is nearest (Euclidean, metres).

    Confidence of a P^u point: 1 - d1 / d2 for the two smallest centre distances d1 <= d2.
    """

    name = "nearest-centre"
    rule = DECIDED_BY_CENTRE_RULE

    def pair_scores(
        self, scene: Scene, boxes: BoxSet, membership: Membership, points: np.ndarray | None = None
    ) -> np.ndarray:
        pair_points = membership.point_index if points is None else points[membership.point_index]
        offsets = scene.xyz[pair_points].astype(np.float64) - boxes.centers[membership.box_index]
        distance = np.maximum(np.linalg.norm(offsets, axis=1), 1e-9)
        nearest = np.full(membership.num_points, np.inf)
        np.minimum.at(nearest, membership.point_index, distance)
        return nearest[membership.point_index] / distance


RESOLVER_NAMES = ("teacher", "smallest-box", "nearest-centre")


def get_resolver(name: str, **options: Any) -> Resolver:
    """A resolver by name: "smallest-box", "nearest-centre" or "teacher".

    Options are passed to its constructor (``level``, ``share``, ``class_set``; for the teacher also
    ``checkpoint`` and ``device``).
    """
    if name == "smallest-box":
        return SmallestBoxResolver(**options)
    if name == "nearest-centre":
        return NearestCentreResolver(**options)
    if name == "teacher":
        try:
            from beep3d.resolve.teacher_resolver import TeacherResolver
        except ImportError as exc:
            raise Beep3dError(
                f"the teacher resolver is not available ({exc}); use --resolver smallest-box or nearest-centre"
            ) from None
        return TeacherResolver(**options)
    raise Beep3dError(f"unknown resolver {name!r}; choose one of: {', '.join(RESOLVER_NAMES)}")
