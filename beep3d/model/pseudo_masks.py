"""Pseudo-masks for points inside several boxes (BEEP3D eq. 1-4).

Steps for one scene:
1. eq. 1: similarity rho = sigmoid(Q_c,L^T . F^T) between the teacher's final content queries and the
   (superpoint) mask features; a point's similarity is its superpoint's.
2. Hungarian matching of teacher queries to boxes (:func:`match_queries_to_boxes`): cost of giving box
   k to query q = -(mean similarity of q over the box's P^l points) - w_cls * p_q(class of box k).
   P^l points are the ones the box alone contains, so they are certain evidence of the instance;
   a box without such points uses all its points.
3. eq. 2-4: every point goes to the matched query with the highest similarity *among the boxes that
   contain it* (:func:`assign_points_to_boxes`); for a P^l point that is its only box.
"""

from __future__ import annotations

import numpy as np
import torch

from beep3d.model.matching import hungarian_match
from beep3d.resolve.resolution import (
    DECIDED_BY_NESTED_RULE,
    DECIDED_BY_NETWORK,
    DECIDED_BY_ONE_BOX,
    DECIDED_BY_VOLUME_RULE,
)


def query_similarity(content: torch.Tensor, mask_features: torch.Tensor) -> torch.Tensor:
    """Eq. 1: rho = sigmoid(content . features^T).

    Parameters
    ----------
    content
        (Q, d) refined content queries.
    mask_features
        (S, d) per-superpoint (or per-point) features.

    Returns
    -------
    (Q, S) float32 similarities in (0, 1), computed in float32 with autocast off (under fp16 autocast
    the product's rounding made queries tie in the matching).
    """
    with torch.autocast(device_type=content.device.type, enabled=False):
        return torch.sigmoid(content.float() @ mask_features.float().T)


def label_superpoint_counts(
    point_labels: torch.Tensor, superpoints: torch.Tensor, num_labels: int, num_superpoints: int
) -> torch.Tensor:
    """(K, S) float: how many points of each superpoint carry each label (labels < 0 are ignored).

    Parameters
    ----------
    point_labels
        (N,) int64 label per point (box position), -1 = none.
    superpoints
        (N,) int64 superpoint id per point.
    """
    counts = torch.zeros(num_labels * num_superpoints, device=superpoints.device)
    keep = point_labels >= 0
    flat = point_labels[keep] * num_superpoints + superpoints[keep]
    counts.index_add_(0, flat, torch.ones_like(flat, dtype=counts.dtype))
    return counts.reshape(num_labels, num_superpoints)


def box_evidence(
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
    superpoints: torch.Tensor,
    num_points: int,
    num_boxes: int,
    num_superpoints: int,
) -> torch.Tensor:
    """(K, S) each box's exclusive points (P^l) per superpoint; all its points for a box without any.

    What the query matching (eq. 3's cost) and the recognition check weigh a box's superpoints by.

    Parameters
    ----------
    member_points, member_boxes
        (P,) int64 (point, containing box) pairs.
    superpoints
        (N,) int64 superpoint of each point.
    num_points, num_boxes, num_superpoints
        N, K and S.
    """
    exclusive = exclusive_point_labels(member_points, member_boxes, num_points)
    evidence = label_superpoint_counts(exclusive, superpoints, num_boxes, num_superpoints)
    if num_boxes:
        no_exclusive = evidence.sum(dim=1) == 0
        if no_exclusive.any():
            everything = torch.zeros(num_boxes, num_superpoints, device=evidence.device)
            everything.index_put_(
                (member_boxes, superpoints[member_points]),
                torch.ones(member_points.shape[0], device=evidence.device),
                accumulate=True,
            )
            evidence[no_exclusive] = everything[no_exclusive]
    return evidence


def exclusive_point_labels(
    member_points: torch.Tensor, member_boxes: torch.Tensor, num_points: int
) -> torch.Tensor:
    """(N,) int64: the box of every P^l point (inside exactly one box), -1 for P^u and background."""
    overlap = torch.bincount(member_points, minlength=num_points)
    labels = torch.full((num_points,), -1, dtype=torch.long, device=member_points.device)
    single = overlap[member_points] == 1
    labels[member_points[single]] = member_boxes[single]
    return labels


def match_queries_to_boxes(
    similarity: torch.Tensor,
    class_probabilities: torch.Tensor,
    box_classes: torch.Tensor,
    box_superpoint_counts: torch.Tensor,
    class_weight: float = 0.5,
) -> torch.Tensor:
    """Hungarian matching of queries to boxes for pseudo-mask generation.

    Parameters
    ----------
    similarity
        (Q, S) eq. 1 similarities per superpoint.
    class_probabilities
        (Q, C + 1) softmax of the class logits.
    box_classes
        (K,) int64.
    box_superpoint_counts
        (K, S) evidence points of each box per superpoint (its P^l points, or all its points when it
        has no P^l points).
    class_weight
        Weight of -p(class) in the cost.

    Returns
    -------
    (K,) int64 matched query per box (-1 if there are more boxes than queries and the box got none).

    The cost is computed in float32 with autocast off, whatever the inputs' dtype: in fp16 close
    costs round to ties and the matching can change.
    """
    num_boxes = box_classes.shape[0]
    matched = torch.full((num_boxes,), -1, dtype=torch.long)
    if num_boxes == 0:
        return matched.to(similarity.device)
    with torch.autocast(device_type=similarity.device.type, enabled=False):
        counts = box_superpoint_counts.float()
        weights = counts / counts.sum(dim=1, keepdim=True).clamp(min=1e-6)
        mean_similarity = similarity.float() @ weights.T  # (Q, K)
        cost = -mean_similarity - class_weight * class_probabilities.float()[:, box_classes]
    query_index, box_index = hungarian_match(cost)
    matched = matched.to(similarity.device)
    matched[box_index] = query_index
    return matched


def assign_points_to_boxes(
    logits: torch.Tensor,
    superpoints: torch.Tensor,
    matched_query: torch.Tensor,
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
    num_points: int,
    priority: torch.Tensor | None = None,
    box_bias: torch.Tensor | None = None,
    trusted: torch.Tensor | None = None,
    fallback_bias: torch.Tensor | None = None,
    rule_bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 2-4: each point takes the containing box whose matched query is most similar to it.

    Parameters
    ----------
    logits
        (Q, S) query-feature dot products per superpoint (eq. 1 before the sigmoid). Points are ranked
        by these: the sigmoid is monotone, so the argmax of eq. 2 is the same, but in float32 it
        saturates to exactly 1.0 for logits above about 17, and a trained teacher's confident queries
        would then tie and the first box would win every contest.
    superpoints
        (N,) int64 superpoint id per point.
    matched_query
        (K,) matched query per box (-1 = none: such a box scores -1 and loses every contest).
    member_points, member_boxes
        (P,) int64 sparse (point, containing box) pairs.
    num_points
        N.
    priority
        Optional (K,) bool: boxes that win every contest against boxes without priority; eq. 2 then
        decides only among the prioritised boxes containing a point (see :func:`nested_box_priority`).
    box_bias
        Optional (K,) float added to every logit of a box's query before eq. 2 compares them (e.g. minus
        the log of the box's volume: :func:`log_volume_bias`).
    trusted
        Optional (K,) bool: boxes the teacher's logits may speak for (see :func:`recognised_boxes`). At
        a point where any containing box is not trusted, ``fallback_bias`` alone decides (e.g.
        :func:`log_volume_bias`: the smallest box); without it such contests are ties.
    fallback_bias
        Optional (K,) float, the scores of contests that involve an untrusted box.
    rule_bias
        Optional (K,) float (e.g. :func:`log_volume_bias`): the confidence of a point decided by
        ``priority`` is tanh of half the gap between the winner's and the runner-up's ``rule_bias``
        (for volumes: (V2 - V1) / (V2 + V1), as sure as the smallest-box rule would be there).
        Without it such a point gets 1.

    Returns
    -------
    labels
        (N,) int64 box position per point: P^l points their box, P^u points the argmax of eq. 2 among
        the boxes containing them, background -1.
    margins
        (N,) float32 in [0, 1): for P^u points, how sure the teacher is: tanh((l1 - l2) / 2) for the
        best and second-best scores among the containing boxes (logits plus ``box_bias``, or
        ``fallback_bias`` in contests with an untrusted box; 0 = a tie, a gap of 4 gives 0.96); 1 for
        P^l and background points. A point decided by ``priority`` alone (its best box has
        priority, the second has not) gets the ``rule_bias`` margin (1 without it).

    See :func:`contest_deciders` for which of the three steps (priority, fallback, eq. 2) decided
    each point.
    """
    scores = contest_scores(logits, superpoints, matched_query, member_points, member_boxes)
    if box_bias is not None:
        scores = with_volume_prior(scores, member_boxes, box_bias)
    if trusted is not None:
        scores = with_recognition_check(
            scores, member_points, member_boxes, num_points, trusted, fallback_bias
        )
    return decide_contests(scores, member_points, member_boxes, num_points, priority, rule_bias)


def contest_scores(
    logits: torch.Tensor,
    superpoints: torch.Tensor,
    matched_query: torch.Tensor,
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
) -> torch.Tensor:
    """Eq. 2's rho'_lj for every (point, containing box) pair: the box's matched query's logit there.

    Parameters
    ----------
    logits
        (Q, S) query-superpoint logits (eq. 1 before the sigmoid).
    superpoints
        (N,) int64 superpoint id per point.
    matched_query
        (K,) query matched to each box (-1: none; such a box scores -inf).
    member_points, member_boxes
        (P,) int64 sparse (point, containing box) pairs.

    Returns
    -------
    (P,) float32 score per pair.
    """
    query = matched_query[member_boxes]
    return torch.where(
        query >= 0,
        logits[query.clamp(min=0), superpoints[member_points]].float(),
        torch.full_like(query, -torch.inf, dtype=torch.float32),
    )


def with_volume_prior(
    scores: torch.Tensor, member_boxes: torch.Tensor, box_bias: torch.Tensor
) -> torch.Tensor:
    """The project's eq. 2 prior (``overlap_score: logit_minus_log_volume``): each pair's score plus
    its box's bias (:func:`log_volume_bias`: log(1 / V), a box's point density)."""
    return scores + box_bias.to(device=scores.device, dtype=torch.float32)[member_boxes]


def with_recognition_check(
    scores: torch.Tensor,
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
    num_points: int,
    trusted: torch.Tensor,
    fallback_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """The project's recognition check (``min_recognition``): at a point where any containing box is
    not ``trusted`` (:func:`recognised_boxes`), every pair scores ``fallback_bias`` of its box instead
    (e.g. :func:`log_volume_bias`: the smallest box wins; None: a tie)."""
    device = scores.device
    distrusted = (~trusted.to(device))[member_boxes].to(torch.long)
    any_distrusted = torch.zeros(num_points, dtype=torch.long, device=device)
    any_distrusted.index_add_(0, member_points, distrusted)
    fallback = (
        torch.zeros_like(scores)
        if fallback_bias is None
        else fallback_bias.to(device=device, dtype=torch.float32)[member_boxes]
    )
    return torch.where(any_distrusted[member_points] > 0, fallback, scores)


def decide_contests(
    scores: torch.Tensor,
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
    num_points: int,
    priority: torch.Tensor | None = None,
    rule_bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 2-3: each point goes to its best-scoring containing box; with the nested-box rule first.

    ``priority`` (K,) bool (:func:`nested_box_priority`): a prioritised box wins against boxes without
    priority whatever the scores; the scores decide among boxes of the same priority. Returns labels
    and margins as :func:`assign_points_to_boxes` documents them.
    """
    device = member_points.device
    labels = torch.full((num_points,), -1, dtype=torch.long, device=device)
    margins = torch.ones(num_points, dtype=torch.float32, device=device)
    if member_points.numel() == 0:
        return labels, margins
    # a point in one box takes it; only the pairs of points in several boxes are sorted (a few % of
    # the pairs in a typical scene); the subset keeps the pairs' order, so ties break as over all pairs
    shared = torch.bincount(member_points, minlength=num_points)[member_points] >= 2
    single = ~shared
    labels[member_points[single]] = member_boxes[single]
    if not bool(shared.any()):
        return labels, margins
    scores, member_points, member_boxes = scores[shared], member_points[shared], member_boxes[shared]
    rank = None if priority is None else priority.to(device)[member_boxes].to(torch.float32)
    order = contest_order(scores, member_points, rank)
    sorted_points = member_points[order]
    starts = torch.ones_like(sorted_points, dtype=torch.bool)
    starts[1:] = sorted_points[1:] != sorted_points[:-1]
    first = order[starts]
    second = order[torch.nonzero(starts).squeeze(1) + 1]  # every point here has a second pair
    several = sorted_points[starts]
    labels[several] = member_boxes[first]
    margins[several] = contest_margins(scores, member_boxes, first, second, rank, rule_bias)
    return labels, margins


def contest_order(
    scores: torch.Tensor, member_points: torch.Tensor, rank: torch.Tensor | None
) -> torch.Tensor:
    """The (point, box) pairs in the order that decides each point's contest: its winner first.

    Parameters
    ----------
    scores
        (P,) float score of each pair (eq. 2, after the project's steps).
    member_points
        (P,) int64 point of each pair.
    rank
        (P,) float32 priority of each pair's box (1: a nested box, 0: not), or None (no nested-box rule).

    Returns
    -------
    (P,) int64 pair indices grouped by point (ascending), within a point by priority, then by score
    (both descending); the sorts are stable, so ties keep the pairs' given order.
    """
    order = torch.argsort(scores, descending=True, stable=True)
    if rank is not None:
        # ties on the priority are broken by the score: sort by score, then stably by priority
        order = order[torch.argsort(rank[order], descending=True, stable=True)]
    return order[torch.argsort(member_points[order], stable=True)]


def contest_margins(
    scores: torch.Tensor,
    member_boxes: torch.Tensor,
    first: torch.Tensor,
    second: torch.Tensor,
    rank: torch.Tensor | None,
    rule_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """The margin of each contested point: how clearly its winning pair beat the runner-up.

    Parameters
    ----------
    scores
        (P,) float score of each pair.
    member_boxes
        (P,) int64 box of each pair.
    first, second
        (M,) int64 the winning and the second pair of each of M contested points (:func:`contest_order`).
    rank
        (P,) float32 priority of each pair's box, or None (no nested-box rule).
    rule_bias
        (K,) per-box bias that measures a win by the nested-box rule, or None (such a win is certain).

    Returns
    -------
    (M,) float32 tanh of half the score gap; a win by priority: tanh of half the ``rule_bias`` gap (1
    without one).
    """
    gap = torch.tanh((scores[first] - scores[second]) / 2).float()
    if rank is not None:
        if rule_bias is None:
            rule_gap = torch.ones_like(gap)
        else:
            rule = rule_bias.to(device=member_boxes.device, dtype=torch.float32)[member_boxes]
            rule_gap = torch.tanh((rule[first] - rule[second]).abs() / 2).float()
        gap = torch.where(rank[first] > rank[second], rule_gap, gap)
    return gap


def contest_deciders(
    labels: torch.Tensor,
    member_points: torch.Tensor,
    member_boxes: torch.Tensor,
    num_points: int,
    priority: torch.Tensor | None = None,
    trusted: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N,) int8: which step of :func:`assign_points_to_boxes` decided each point.

    Codes are :data:`beep3d.resolve.resolution.DECIDERS`.

    The steps run in this order, so the first that applies decided:
    1. ``DECIDED_BY_NESTED_RULE``: the winner has ``priority`` (a nested box) and no other containing
       box has;
    2. ``DECIDED_BY_VOLUME_RULE``: a containing box is not ``trusted`` (the recognition check), so
       the fallback scores (box volume) decided;
    3. ``DECIDED_BY_NETWORK``: eq. 2 on the teacher's scores.
    Points in one box and background are ``DECIDED_BY_ONE_BOX``.

    Parameters
    ----------
    labels
        (N,) int64 winning box position per point (from :func:`assign_points_to_boxes`).
    member_points, member_boxes
        (P,) int64 sparse (point, containing box) pairs.
    num_points
        N.
    priority, trusted
        The (K,) bool arguments given to :func:`assign_points_to_boxes`.
    """
    device = member_points.device
    counts = torch.bincount(member_points, minlength=num_points)
    decided = torch.full((num_points,), DECIDED_BY_ONE_BOX, dtype=torch.int8, device=device)
    several = counts >= 2
    decided[several] = DECIDED_BY_NETWORK
    if trusted is not None:
        distrusted = torch.zeros(num_points, dtype=torch.long, device=device)
        distrusted.index_add_(0, member_points, (~trusted.to(device))[member_boxes].to(torch.long))
        decided[several & (distrusted > 0)] = DECIDED_BY_VOLUME_RULE
    if priority is not None:
        prioritised = torch.zeros(num_points, dtype=torch.long, device=device)
        prioritised.index_add_(0, member_points, priority.to(device)[member_boxes].to(torch.long))
        winner_first = priority.to(device)[labels.clamp(min=0)] & (labels >= 0)
        decided[several & winner_first & (prioritised == 1)] = DECIDED_BY_NESTED_RULE
    return decided


def recognised_boxes(
    logits: torch.Tensor, matched_query: torch.Tensor, evidence: torch.Tensor, min_share: float
) -> torch.Tensor:
    """(K,) bool: boxes whose matched query claims at least ``min_share`` of the box's own points.

    A teacher that segments an object claims (logit > 0) most of the points only its box contains.
    When it claims few of them (a scan unlike its training data, an object class it never learned),
    its logits say little about the shared points either, and eq. 2 would be a coin toss.

    Parameters
    ----------
    logits
        (Q, S) query-superpoint logits.
    matched_query
        (K,) query of each box (-1 = none: never recognised).
    evidence
        (K, S) the box's evidence points per superpoint: its single-box points, or all its points
        when it has none (as for :func:`match_queries_to_boxes`).
    min_share
        Share of the evidence points that must be claimed.
    """
    claimed = (logits[matched_query.clamp(min=0)] > 0).to(evidence.dtype)
    share = (claimed * evidence).sum(dim=1) / evidence.sum(dim=1).clamp(min=1e-6)
    return (share >= min_share) & (matched_query >= 0)


def log_volume_bias(box_sizes: torch.Tensor) -> torch.Tensor:
    """(K,) -log(volume) of boxes, the eq. 2 bias of ``overlap_score: logit_minus_log_volume``.

    If each object's points are spread uniformly over its box, a point's likelihood under box k is
    1 / V_k; adding log(1 / V_k) to the query's logit weighs the teacher's evidence by that prior.

    Parameters
    ----------
    box_sizes
        (K, 3) full extents, metres (clamped at 1 cm, as degenerate boxes are elsewhere refused).
    """
    return -torch.log(box_sizes.clamp(min=0.01)).sum(dim=1)


def nested_box_priority(
    member_points: torch.Tensor, member_boxes: torch.Tensor, num_boxes: int
) -> torch.Tensor:
    """(K,) bool: boxes with no point of their own, wholly inside other boxes (nested boxes).

    The paper's teacher fails on such boxes (appendix A3): none of their points is certain, so nothing
    tells the network that the object exists, and eq. 2 tends to give its points to the enclosing box.
    An annotator does not draw an empty box, and a box drawn inside another marks the object inside:
    with ``ModelConfig.nested_box_prior`` these boxes take the points they share with boxes that have
    points of their own, and eq. 2 decides among nested boxes and among the others.

    Parameters
    ----------
    member_points, member_boxes
        (P,) int64 sparse (point, box position) membership pairs.
    num_boxes
        K.
    """
    counts = torch.bincount(member_points)
    own = torch.bincount(member_boxes[counts[member_points] == 1], minlength=num_boxes)
    present = torch.bincount(member_boxes, minlength=num_boxes) > 0
    return (own == 0) & present


def superpoint_target_masks(
    point_labels: torch.Tensor, superpoints: torch.Tensor, num_boxes: int, num_superpoints: int
) -> torch.Tensor:
    """(K, S) float 0/1 target masks: a superpoint is positive when more than half its points carry the label."""
    counts = label_superpoint_counts(point_labels, superpoints, num_boxes, num_superpoints)
    sizes = torch.bincount(superpoints, minlength=num_superpoints).clamp(min=1).to(counts.dtype)
    return (counts / sizes > 0.5).float()


def labels_to_point_masks(point_labels: np.ndarray, num_boxes: int) -> np.ndarray:
    """(N,) labels -> (K, N) bool point masks (mask k = points labelled k)."""
    return point_labels[None, :] == np.arange(num_boxes)[:, None]


def with_fixed_labels(labels: torch.Tensor, fixed: torch.Tensor | None) -> torch.Tensor:
    """Per-point training labels with the fixed ones in place (the project's addition, not the paper's).

    Parameters
    ----------
    labels
        (N,) int64 box position per point from the boxes and the teacher (-1 background).
    fixed
        (N,) int64 labels the annotator's corrections or the foreground stage fixed (box position,
        -1 background, -2 free), or None.

    Returns
    -------
    (N,) int64: ``fixed`` where it is a box or background, ``labels`` elsewhere.
    """
    if fixed is None:
        return labels
    fixed = fixed.to(labels.device)
    return torch.where(fixed >= -1, fixed, labels)
