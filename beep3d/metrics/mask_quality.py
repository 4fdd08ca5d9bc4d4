"""Quality of pseudo-masks made from boxes: accuracy in overlap regions (mACC) and mean instance IoU.

No released code defines the paper's mACC (BEEP3D Table 4); the definitions used here:

- **Overlap accuracy** (mACC): among the points inside two or more boxes (P^u) whose GT instance is one
  of the instances of the boxes that contain the point, the share assigned to that instance. Points in
  P^u whose GT instance is not among their boxes (background or an unboxed object caught by a box) are
  not counted: no box answer is right for them. Reported per scene with its number of eligible points,
  so both a mean over scenes and a pooled value (over all eligible points) can be formed.
- **Mean instance IoU** (GaPro-style): for each GT instance that has a box, the IoU of its points with
  the points assigned to that box (the box's full pseudo-mask); the mean over those instances.

Both work in one id space: box ids. GT instances are given per point as the id of their box (-1 for
points of no boxed instance). When boxes come from GT (``boxes_from_instances``) box ids already are GT
instance ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beep3d.errors import Beep3dError


@dataclass(frozen=True)
class OverlapAccuracy:
    """Overlap accuracy of one scene.

    Attributes
    ----------
    value
        correct / eligible, NaN when no point is eligible.
    correct
        Eligible points assigned to their GT instance.
    eligible
        Points in two or more boxes whose GT instance is one of those boxes.
    """

    value: float
    correct: int
    eligible: int


@dataclass(frozen=True)
class InstanceIoU:
    """Mean instance IoU of one scene.

    Attributes
    ----------
    value
        Mean of ``per_instance`` (NaN when no GT instance has a box).
    per_instance
        GT instance id (= box id) -> IoU of its points with its box's pseudo-mask.
    """

    value: float
    per_instance: dict[int, float]

    @property
    def count(self) -> int:
        """Number of GT instances evaluated."""
        return len(self.per_instance)


def _as_ids(values: np.ndarray, name: str, n: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.int64).reshape(-1)
    if n is not None and len(array) != n:
        raise Beep3dError(f"{name} has {len(array)} values but the scene has {n} points; give one per point")
    return array


def overlap_accuracy(
    pred_instance_ids: np.ndarray,
    gt_instance: np.ndarray,
    member_points: np.ndarray,
    member_box_ids: np.ndarray,
    subset: np.ndarray | None = None,
) -> OverlapAccuracy:
    """Share of eligible overlap points assigned to their GT instance (see the module docstring).

    Parameters
    ----------
    pred_instance_ids
        (N,) int predicted box id per point (-1 = background).
    gt_instance
        (N,) int GT instance per point, as the id of its box (-1 = none).
    member_points, member_box_ids
        (M,) int sparse pairs: point index and the id of a box containing it (one pair per containing box;
        ``Membership.point_index`` and ``boxes.ids[Membership.box_index]``).
    subset
        Optional (N,) bool: count only these points (e.g. :func:`nested_overlap_points`).
    """
    pred_instance_ids = _as_ids(pred_instance_ids, "pred_instance_ids")
    n = len(pred_instance_ids)
    gt_instance = _as_ids(gt_instance, "gt_instance", n)
    member_points = _as_ids(member_points, "member_points")
    member_box_ids = _as_ids(member_box_ids, "member_box_ids", len(member_points))
    if len(member_points) and (member_points.min() < 0 or member_points.max() >= n):
        raise Beep3dError(
            f"member_points refer to points outside 0..{n - 1}; use the membership of this scene"
        )
    counts = np.bincount(member_points, minlength=n)
    own_box_contains = np.zeros(n, dtype=bool)
    is_own = (gt_instance[member_points] == member_box_ids) & (member_box_ids >= 0)
    own_box_contains[member_points[is_own]] = True
    eligible = own_box_contains & (counts >= 2)
    if subset is not None:
        subset = np.asarray(subset, dtype=bool).reshape(-1)
        if len(subset) != n:
            raise Beep3dError(f"subset has {len(subset)} values but the scene has {n} points")
        eligible &= subset
    num_eligible = int(np.count_nonzero(eligible))
    correct = int(np.count_nonzero(pred_instance_ids[eligible] == gt_instance[eligible]))
    value = correct / num_eligible if num_eligible else float("nan")
    return OverlapAccuracy(value, correct, num_eligible)


def nested_overlap_points(member_points: np.ndarray, member_boxes: np.ndarray, num_points: int) -> np.ndarray:
    """(N,) bool: points inside two or more boxes, one of which has no point of its own.

    Such a box lies wholly inside others (an object on a shelf inside the shelf's box): none of its
    points is certain, which is the failure case the paper names (appendix A3). Box-centre guided
    teachers and the smallest-box rule behave very differently there, so the benchmarks report these
    overlaps apart from the partial ones.

    Parameters
    ----------
    member_points, member_boxes
        (M,) int sparse (point, box position or id) membership pairs.
    num_points
        N.
    """
    member_points = _as_ids(member_points, "member_points")
    member_boxes = _as_ids(member_boxes, "member_boxes", len(member_points))
    counts = np.bincount(member_points, minlength=num_points)
    _, box_position = np.unique(member_boxes, return_inverse=True)
    own_points = np.bincount(
        box_position[counts[member_points] == 1], minlength=box_position.max(initial=-1) + 1
    )
    without_own = own_points[box_position] == 0
    nested = np.zeros(num_points, dtype=bool)
    nested[member_points[without_own & (counts[member_points] >= 2)]] = True
    return nested


def pooled_overlap_accuracy(results: Sequence[OverlapAccuracy]) -> tuple[float, float]:
    """(mean over scenes, pooled over points) of per-scene overlap accuracies; scenes without eligible
    points are left out of the mean. NaN when nothing is eligible."""
    values = [r.value for r in results if r.eligible]
    eligible = sum(r.eligible for r in results)
    mean = float(np.mean(values)) if values else float("nan")
    pooled = sum(r.correct for r in results) / eligible if eligible else float("nan")
    return mean, pooled


def mean_instance_iou(
    pred_instance_ids: np.ndarray, gt_instance: np.ndarray, box_ids: Sequence[int] | np.ndarray
) -> InstanceIoU:
    """Mean over boxed GT instances of IoU(GT instance points, points assigned to its box).

    Parameters
    ----------
    pred_instance_ids
        (N,) int predicted box id per point (-1 = background).
    gt_instance
        (N,) int GT instance per point, as the id of its box (-1 = none).
    box_ids
        Ids of the boxes; GT instances whose id is not among them are not evaluated.
    """
    pred_instance_ids = _as_ids(pred_instance_ids, "pred_instance_ids")
    gt_instance = _as_ids(gt_instance, "gt_instance", len(pred_instance_ids))
    boxed = set(int(b) for b in np.asarray(box_ids).reshape(-1).tolist())
    per_instance: dict[int, float] = {}
    for instance in np.unique(gt_instance[gt_instance >= 0]).tolist():
        if instance not in boxed:
            continue
        gt_mask = gt_instance == instance
        pred_mask = pred_instance_ids == instance
        intersection = np.count_nonzero(gt_mask & pred_mask)
        union = np.count_nonzero(gt_mask | pred_mask)
        per_instance[int(instance)] = intersection / union
    value = float(np.mean(list(per_instance.values()))) if per_instance else float("nan")
    return InstanceIoU(value, per_instance)


def gt_instances_as_box_ids(
    gt_instance: np.ndarray,
    member_points: np.ndarray,
    member_box_ids: np.ndarray,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[int, int]]:
    """Express GT instances in box ids: which GT object each box stands for.

    - Boxes drawn around the GT objects themselves (each box's id is a GT instance id, and the box
      holds at least half of that instance's points, as boxes derived from the GT do) stand for
      the instance with their own id.
    - Otherwise boxes and instances are paired one to one so that the pairs hold as many points as
      possible (the Hungarian matching on the counts of each instance's points inside each box).
      A small box whose points are mostly a larger object's still gets its own object when that
      larger object has a box of its own; the former rule (each box takes the instance with most
      points inside it) left such objects without a box, and out of every figure.

    Boxes holding no point of a candidate instance stand for none.

    Parameters
    ----------
    gt_instance
        (N,) int GT instance id per point (-1 = none).
    member_points, member_box_ids
        (M,) sparse (point index, containing box id) pairs.
    candidates
        GT instance ids a box may stand for (the instances of the evaluated classes, so that a door's
        box is not paired with the wall around it); None: every instance.

    Returns
    -------
    gt_box_ids
        (N,) int64: per point, the id of the box of its GT instance, -1 when that instance has no box.
    box_to_instance
        Box id -> GT instance id, for the boxes that stand for an instance.
    """
    gt_instance = _as_ids(gt_instance, "gt_instance")
    member_points = _as_ids(member_points, "member_points")
    member_box_ids = _as_ids(member_box_ids, "member_box_ids", len(member_points))
    inst = gt_instance[member_points]
    usable = inst >= 0
    if candidates is not None:
        usable &= np.isin(inst, np.asarray(candidates, dtype=np.int64))
    boxes, box_rows = np.unique(member_box_ids[usable], return_inverse=True)
    instances, inst_cols = np.unique(inst[usable], return_inverse=True)
    counts = np.zeros((len(boxes), len(instances)), dtype=np.int64)
    np.add.at(counts, (box_rows.reshape(-1), inst_cols.reshape(-1)), 1)
    box_to_instance = _boxes_of_their_own_instances(gt_instance, boxes, instances, counts)
    if box_to_instance is None:
        box_to_instance = {}
        if counts.size:
            from scipy.optimize import linear_sum_assignment  # imported when an evaluation needs it

            rows, cols = linear_sum_assignment(counts, maximize=True)
            box_to_instance = {
                int(boxes[r]): int(instances[c]) for r, c in zip(rows, cols, strict=True) if counts[r, c] > 0
            }
    gt_box_ids = np.full(len(gt_instance), -1, dtype=np.int64)
    for box, instance in box_to_instance.items():
        gt_box_ids[gt_instance == instance] = box
    return gt_box_ids, box_to_instance


def instances_of_classes(semantic: np.ndarray, instance: np.ndarray, class_ids) -> np.ndarray:
    """Ids of the GT instances whose points are mostly of one of ``class_ids`` (the evaluated classes).

    Parameters
    ----------
    semantic, instance
        (N,) int GT class and instance id per point (-1 / negative instance: none).
    class_ids
        The class ids evaluated (for example the 18 ScanNet classes' NYU40 ids).
    """
    semantic = np.asarray(semantic, dtype=np.int64)
    instance = np.asarray(instance, dtype=np.int64)
    labelled = instance >= 0
    pairs, counts = np.unique(np.stack([instance[labelled], semantic[labelled]]), axis=1, return_counts=True)
    if pairs.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-counts, pairs[0]))  # per instance, its most frequent class first
    first = np.ones(len(order), dtype=bool)
    first[1:] = pairs[0, order][1:] != pairs[0, order][:-1]
    ids, classes = pairs[0, order][first], pairs[1, order][first]
    return ids[np.isin(classes, np.asarray(list(class_ids), dtype=np.int64))]


def _boxes_of_their_own_instances(
    gt_instance: np.ndarray, boxes: np.ndarray, instances: np.ndarray, counts: np.ndarray
) -> dict[int, int] | None:
    """Box id -> its own id when every box holds at least half of the GT instance with its id, else None."""
    if len(boxes) == 0 or not np.isin(boxes, instances).all():
        return None
    sizes = np.bincount(gt_instance[gt_instance >= 0])
    column = np.searchsorted(instances, boxes)
    own = counts[np.arange(len(boxes)), column]
    if np.any(2 * own < sizes[boxes]):
        return None
    return {int(b): int(b) for b in boxes}
