"""Beep3DModel: the BEEP3D student-teacher pair, its training losses (eq. 12) and its inference.

Choices the paper leaves open (documented here and in the function docstrings):
- The teacher runs with BatchNorm in evaluation mode (its EMA-averaged running statistics) and without
  gradients; it is never in the optimizer.
- Deep supervision: every decoder layer's outputs are matched to the targets and get the mask, class,
  centre and score losses (summed over layers). The consistency losses (eq. 7, eq. 8-10) use the final
  layer only: the student query paired with a box is the one the final layer's matching gave it.
- Eq. 7 pairs student and teacher content queries by the box both are matched to (student: MAFT
  matching against m = m^l u m^u-hat; teacher: the pseudo-mask matching of eq. 2).
- Eq. 8-10 features are the superpoint mask features (what eq. 1 multiplies the queries with); means
  are over points (a superpoint counts as many times as it has points in the mask). The student's mask
  is its binary prediction (logit > 0) of the query matched to the box.
- Losses are averaged over the scenes of a batch.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from beep3d.model.batch import Batch
from beep3d.model.config import OVERLAP_SCORES, ModelConfig
from beep3d.model.decoder import SceneContext
from beep3d.model.ema import copy_weights, ema_decay, ema_update
from beep3d.model.inference import InstancePrediction, instances_from_queries
from beep3d.model.losses import (
    auxiliary_losses,
    beep3d_loss,
    mask_loss,
)
from beep3d.model.network import MaftNetwork
from beep3d.model.pinned_decoding import PinnedDecoding, decode_pinned, redecode
from beep3d.model.pseudo_masks import (
    assign_points_to_boxes,
    box_evidence,
    contest_deciders,
    exclusive_point_labels,
    log_volume_bias,
    match_queries_to_boxes,
    nested_box_priority,
    query_similarity,
    recognised_boxes,
    with_fixed_labels,
)
from beep3d.model.scene_encoding import SceneEncoding, box_tensors, given_box_probability
from beep3d.model.student_losses import LOSS_PARTS, scene_losses
from beep3d.model.teacher_queries import fps_position_queries, pin_to_box_centers, refine_position_queries
from beep3d.model.teacher_result import TeacherResult


class Beep3DModel(nn.Module):
    """Student and teacher :class:`MaftNetwork` with BEEP3D's pseudo-masks and losses."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.student = MaftNetwork(config)
        self.teacher = MaftNetwork(config)
        copy_weights(self.teacher, self.student)
        self.teacher.requires_grad_(False)
        self.teacher.eval()

    def student_parameters(self) -> list[nn.Parameter]:
        """The parameters to optimise (the student's only)."""
        return list(self.student.parameters())

    def train(self, mode: bool = True) -> Beep3DModel:
        """Switch the student's mode; the teacher always stays in evaluation mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    # ----------------------------------------------------------------- teacher
    def _teacher_positions(self, scene: SceneContext, box_centers: torch.Tensor):
        """Eq. 5 initial positions and the eq. 6 hook (None, None when centre refinement is off)."""
        if not self.config.use_center_refinement or box_centers.shape[0] == 0:
            return None, None
        centers = scene.normalise(box_centers)
        scale, mode = self.config.center_attention_scale, self.config.center_attention
        if self.config.teacher_query_init == "box_centers":
            # one query per box at its centre, pinned there after every layer
            return centers.clone(), functools.partial(pin_to_box_centers, centers=centers)
        initial = fps_position_queries(
            scene.normalise(scene.superpoint_xyz), centers, self.config.num_queries, scale, mode
        )
        return initial, functools.partial(refine_position_queries, centers=centers, scale=scale, mode=mode)

    @torch.no_grad()
    def _teacher_box_logits(
        self,
        scene: SceneContext,
        num_points: int,
        box_centers: torch.Tensor,
        box_classes: torch.Tensor,
        member_points: torch.Tensor,
        member_boxes: torch.Tensor,
    ):
        """The teacher decoder for boxes: (decoder output, (Q, S) mask logits, (K,) matched query, evidence).

        ``evidence`` (K, S) counts each box's exclusive points per superpoint (all its points for a
        box without exclusive ones); eq. 3 matches queries to boxes with it unless the queries were
        created at the box centres, where the matching is the identity.
        """
        initial, hook = self._teacher_positions(scene, box_centers)
        output = self.teacher.decoder(scene, initial, hook)
        logits = output.content @ output.mask_features.T
        similarity = query_similarity(output.content, output.mask_features)  # eq. 1
        num_boxes = box_centers.shape[0]
        num_superpoints = similarity.shape[1]
        evidence = box_evidence(
            member_points, member_boxes, scene.superpoints, num_points, num_boxes, num_superpoints
        )
        if initial is not None and self.config.teacher_query_init == "box_centers":
            # query k was created at box k's centre: eq. 3's matching is the identity
            matched = torch.arange(num_boxes, device=similarity.device)
        else:
            matched = match_queries_to_boxes(
                similarity,
                torch.softmax(output.final.class_logits, dim=1),
                box_classes,
                evidence,
                class_weight=self.config.w_cls,
            )
        return output, logits, matched, evidence

    @torch.no_grad()
    def _teacher_resolve(
        self,
        scene: SceneContext,
        num_points: int,
        box_centers: torch.Tensor,
        box_classes: torch.Tensor,
        member_points: torch.Tensor,
        member_boxes: torch.Tensor,
        box_sizes: torch.Tensor | None = None,
        overlap_score: str | None = None,
        min_recognition: float = 0.0,
    ) -> TeacherResult:
        """Teacher decoder + pseudo-mask generation (eq. 1-6) for one encoded scene.

        ``overlap_score`` (None = ``config.overlap_score``) chooses what eq. 2 compares; the volume
        variant needs ``box_sizes`` (K, 3) metres. ``min_recognition`` > 0: where a containing box's
        query claims less than that share of the box's own points (:func:`recognised_boxes`), the
        contest is decided by the box volumes alone (the smallest box), which needs ``box_sizes``.
        """
        output, logits, matched, evidence = self._teacher_box_logits(
            scene, num_points, box_centers, box_classes, member_points, member_boxes
        )
        num_boxes = box_centers.shape[0]
        priority = (
            nested_box_priority(member_points, member_boxes, num_boxes)
            if self.config.nested_box_prior
            else None
        )
        labels, margins, decided_by = self.decide_with_logits(
            logits,
            scene.superpoints,
            matched,
            evidence,
            member_points,
            member_boxes,
            num_points,
            priority,
            box_sizes,
            overlap_score,
            min_recognition,
        )
        return TeacherResult(labels, margins, matched, output.content, output.mask_features, decided_by)

    def decide_with_logits(
        self,
        logits: torch.Tensor,
        superpoints: torch.Tensor,
        matched: torch.Tensor,
        evidence: torch.Tensor | None,
        member_points: torch.Tensor,
        member_boxes: torch.Tensor,
        num_points: int,
        priority: torch.Tensor | None,
        box_sizes: torch.Tensor | None = None,
        overlap_score: str | None = None,
        min_recognition: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Eq. 2-3 and the project's steps, given the teacher's mask logits: who wins each point.

        Parameters
        ----------
        logits
            (Q, S) the teacher's final mask logits.
        superpoints
            (N,) int64 superpoint of each point (of the points numbered in ``member_points``; a
            caller deciding a subset of a scene's points passes theirs).
        matched
            (K,) query matched to each box.
        evidence
            (K, S) each box's exclusive points per superpoint (needed when ``min_recognition`` > 0).
        member_points, member_boxes
            (P,) int64 (point, containing box) pairs of the N points.
        num_points
            N.
        priority
            (K,) bool nested boxes (:func:`nested_box_priority` of the whole scene's pairs), or None
            when the nested-box rule is off.
        box_sizes, overlap_score, min_recognition
            As for :meth:`_teacher_resolve`.

        Returns
        -------
        labels, margins, decided_by
            (N,) int64 box position, (N,) float32 margin, (N,) int8 decider of each point.
        """
        overlap_score = overlap_score or self.config.overlap_score
        if overlap_score not in OVERLAP_SCORES:
            raise ValueError(f"unknown overlap score {overlap_score!r}; use one of {OVERLAP_SCORES}")
        if box_sizes is None and (overlap_score == "logit_minus_log_volume" or min_recognition > 0):
            raise ValueError("the volume-weighted score and the recognition fallback need the box sizes")
        volumes = None if box_sizes is None else log_volume_bias(box_sizes)
        trusted = None
        if min_recognition > 0 and matched.shape[0]:
            if evidence is None:
                raise ValueError("the recognition check needs each box's evidence")
            trusted = recognised_boxes(logits, matched, evidence, min_recognition)
        # eq. 2-3 (argmax among the containing boxes) with the project's steps, each a config or
        # resolver option: the nested-box rule first, the volume prior, the recognition check
        labels, margins = assign_points_to_boxes(
            logits,
            superpoints,
            matched,
            member_points,
            member_boxes,
            num_points,
            priority,
            box_bias=volumes if overlap_score == "logit_minus_log_volume" else None,
            trusted=trusted,
            fallback_bias=volumes,
            rule_bias=volumes,
        )
        decided_by = contest_deciders(labels, member_points, member_boxes, num_points, priority, trusted)
        return labels, margins, decided_by

    def _teacher_results(self, batch: Batch, index_cache: dict | None = None) -> list[TeacherResult]:
        # the teacher runs in float32 even under the student's mixed precision: its logits decide the
        # pseudo-masks by comparison (eq. 2-4), and fp16 rounds close logits to ties; no gradients,
        # so the cost is one float32 forward pass
        device_type = batch.xyz[0].device.type if len(batch.xyz) else "cpu"
        with torch.no_grad(), torch.autocast(device_type=device_type, enabled=False):
            scenes = self.teacher.encode(batch, index_cache)
            return [
                self._teacher_resolve(
                    scene,
                    batch.xyz[b].shape[0],
                    batch.box_centers[b],
                    batch.box_classes[b],
                    batch.member_points[b],
                    batch.member_boxes[b],
                    batch.box_sizes[b],
                )
                for b, scene in enumerate(scenes)
            ]

    # ----------------------------------------------------------------- losses
    def training_losses(self, batch: Batch, step: int | None = None) -> dict[str, torch.Tensor]:
        """Eq. 12 total and its parts, averaged over the batch's scenes.

        The teacher (no gradients) makes the pseudo-masks; the student is supervised on
        m = m^l u m^u-hat and pulled towards the teacher by eq. 7 and eq. 8-10. During the first
        ``config.pseudo_mask_warmup_steps`` optimizer steps (``step`` given and smaller), the student
        learns from m^l alone: superpoints mostly inside several boxes are left out of its mask losses,
        the teacher is not run and the consistency terms are 0.

        Returns
        -------
        dict with "total" (differentiable scalar) and detached "bce", "dice", "cls", "center", "score"
        (each summed over decoder layers), "query_consistency", "feature_consistency" (unweighted).
        """
        if step is not None and step < self.config.pseudo_mask_warmup_steps:
            labels = [
                exclusive_point_labels(points, boxes, xyz.shape[0])
                for points, boxes, xyz in zip(batch.member_points, batch.member_boxes, batch.xyz, strict=True)
            ]
            return self._losses(batch, self._fixed(batch, labels), None, ignore_shared=True)
        index_cache: dict = {}
        teachers = self._teacher_results(batch, index_cache)
        return self._losses(batch, self._fixed(batch, [t.labels for t in teachers]), teachers, index_cache)

    @staticmethod
    def _fixed(batch: Batch, labels: list[torch.Tensor]) -> list[torch.Tensor]:
        """The labels with each scene's fixed ones (corrections, foreground) in place."""
        if batch.fixed_labels is None:
            return labels
        return [with_fixed_labels(lab, fixed) for lab, fixed in zip(labels, batch.fixed_labels, strict=True)]

    def supervised_losses(self, batch: Batch, point_labels: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """The student's MAFT losses against given per-point targets, no teacher and no consistency terms.

        Parameters
        ----------
        batch
            The scenes.
        point_labels
            Per scene (N,) int64 box position per point (-1 = no instance), e.g. ground-truth instances
            or box-derived masks with the P^u points left out.

        Returns
        -------
        The same keys as :meth:`training_losses` (consistency parts are 0).
        """
        return self._losses(batch, point_labels, None)

    def _losses(
        self,
        batch: Batch,
        point_labels: list[torch.Tensor],
        teachers: list[TeacherResult] | None,
        index_cache: dict | None = None,
        ignore_shared: bool = False,
    ) -> dict[str, torch.Tensor]:
        config = self.config
        scenes = self.student.encode(batch, index_cache)
        outputs = self.student.decode(scenes)
        totals = []
        parts = {name: [] for name in LOSS_PARTS}
        for b, (scene, output) in enumerate(zip(scenes, outputs, strict=True)):
            teacher = None if teachers is None else teachers[b]
            scene_parts = scene_losses(
                self.student, config, batch, b, scene, output, point_labels[b], teacher, ignore_shared
            )
            for name in LOSS_PARTS:
                parts[name].append(scene_parts[name])
            mask = mask_loss(
                scene_parts["bce"],
                scene_parts["dice"],
                scene_parts["cls"],
                config.w_bce,
                config.w_dice,
                config.w_cls,
            )
            total = beep3d_loss(
                mask,
                scene_parts["query_consistency"] if config.use_query_consistency else 0.0,
                scene_parts["feature_consistency"] if config.use_feature_consistency else 0.0,
                config.w_q,
                config.w_f,
            )
            extras = auxiliary_losses(
                scene_parts["center"],
                scene_parts["score"],
                scene_parts["center_queries"],
                config.w_center,
                config.w_score,
                config.w_center_queries,
            )
            totals.append(total + extras)
        result = {"total": torch.stack(totals).mean()}
        for name in LOSS_PARTS:
            result[name] = torch.stack(parts[name]).mean().detach()
        return result

    # ----------------------------------------------------------------- teacher updates
    @torch.no_grad()
    def update_teacher(self, step: int) -> float:
        """EMA update with the eq. A1 decay after optimizer step ``step`` (no-op in self-training mode).

        Returns the decay used (1.0 in self-training mode).
        """
        if self.config.teacher_mode != "ema":
            return 1.0
        decay = ema_decay(step, self.config.ema_alpha)
        ema_update(self.teacher, self.student, decay)
        return decay

    @torch.no_grad()
    def copy_student_to_teacher(self) -> None:
        """teacher <- student (self-training ablation: call at every epoch boundary)."""
        copy_weights(self.teacher, self.student)

    # ----------------------------------------------------------------- inference
    @torch.no_grad()
    def predict(self, batch: Batch, topk: int = 100, min_points: int = 100) -> list[InstancePrediction]:
        """Student instances per scene (MAFT's inference).

        score = softmax(class)[:-1] * score head over all (query, class) pairs, top-k; mask = logit > 0
        (per superpoint, spread to its points); score *= mean sigmoid inside the mask; masks with fewer
        than ``min_points`` points are dropped.
        """
        scenes = self.student.encode(batch)
        outputs = self.student.decode(scenes)
        return [
            instances_from_queries(output.final, scene.superpoints, topk, min_points)
            for scene, output in zip(scenes, outputs, strict=True)
        ]

    @torch.no_grad()
    def pseudo_masks(self, batch: Batch) -> list[np.ndarray]:
        """Per scene (N,) int64 box position per point: P^l its box, P^u the teacher's eq. 2-4 choice, -1 background."""
        return [result.labels.cpu().numpy() for result in self._teacher_results(batch)]

    @torch.no_grad()
    def pseudo_mask_margins(self, batch: Batch) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per scene (labels (N,) int64, margins (N,) float32): see :class:`TeacherResult`."""
        return [(r.labels.cpu().numpy(), r.margins.cpu().numpy()) for r in self._teacher_results(batch)]

    @torch.no_grad()
    def encode_scene(self, batch: Batch) -> SceneEncoding:
        """Run the teacher's backbone once for a batch of one scene (cache the result while boxes change)."""
        if batch.batch_size != 1:
            raise ValueError(f"encode_scene takes a batch of one scene, got {batch.batch_size}")
        return SceneEncoding(scene=self.teacher.encode(batch)[0], num_points=int(batch.xyz[0].shape[0]))

    @torch.no_grad()
    def resolve_with_teacher(
        self,
        encoding: SceneEncoding,
        box_centers: np.ndarray,
        box_classes: np.ndarray,
        member_points: np.ndarray,
        member_boxes: np.ndarray,
        box_sizes: np.ndarray | None = None,
        overlap_score: str | None = None,
        min_recognition: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Teacher decoder + eq. 1-6 for (possibly edited) boxes, reusing a cached :class:`SceneEncoding`.

        Parameters
        ----------
        encoding
            From :meth:`encode_scene`.
        box_centers
            (K, 3) metres, same frame as the encoded scene.
        box_classes
            (K,) int64 class index.
        member_points, member_boxes
            (P,) int64 sparse (point, box position) membership pairs.
        box_sizes
            (K, 3) full extents, metres (needed by ``overlap_score="logit_minus_log_volume"``).
        overlap_score
            What eq. 2 compares (:attr:`ModelConfig.overlap_score`); None = the config's.
        min_recognition
            Contests involving a box whose query claims less than this share of the box's own points
            are decided by volume alone (0 = never; see :meth:`_teacher_resolve`).

        Returns
        -------
        assignment
            (N,) int64 box position per point (-1 background).
        margins
            (N,) float32 teacher margin for points in several boxes, 1 elsewhere.
        decided_by
            (N,) int8 which step decided each point (:data:`beep3d.resolve.resolution.DECIDERS`).
        """
        result = self._teacher_resolve(
            encoding.scene,
            encoding.num_points,
            *box_tensors(encoding, box_centers, box_classes, member_points, member_boxes),
            None if box_sizes is None else box_tensors(encoding, box_sizes)[0],
            overlap_score,
            min_recognition,
        )
        return result.labels.cpu().numpy(), result.margins.cpu().numpy(), result.decided_by.cpu().numpy()

    @property
    def pins_teacher_queries(self) -> bool:
        """Whether the teacher keeps one query on each box centre in every layer (``teacher_query_init:
        box_centers`` with centre refinement on): then an edit can re-decode a few queries
        (:mod:`beep3d.model.pinned_decoding`)."""
        return self.config.use_center_refinement and self.config.teacher_query_init == "box_centers"

    @torch.no_grad()
    def teacher_pinned_decoding(self, encoding: SceneEncoding, box_centers: np.ndarray) -> PinnedDecoding:
        """The teacher decoder with query k on box k's centre (:func:`decode_pinned`), kept for edits.

        Parameters
        ----------
        encoding
            From :meth:`encode_scene`.
        box_centers
            (K, 3) metres, K >= 1.
        """
        if not self.pins_teacher_queries:
            raise ValueError("this teacher's queries are not pinned to the box centres")
        centers = encoding.scene.normalise(box_tensors(encoding, box_centers)[0])
        return decode_pinned(self.teacher.decoder, encoding.scene, centers)

    @torch.no_grad()
    def teacher_redecode(
        self,
        encoding: SceneEncoding,
        decoding: PinnedDecoding,
        box_centers: np.ndarray,
        moved: np.ndarray,
        rows: np.ndarray,
    ) -> None:
        """Update ``decoding`` in place after an edit moved the boxes ``moved`` (:func:`redecode`).

        Parameters
        ----------
        encoding
            From :meth:`encode_scene`.
        decoding
            :meth:`teacher_pinned_decoding` of the same K boxes before the edit.
        box_centers
            (K, 3) metres, after the edit.
        moved, rows
            (M,) and (R,) int64 box positions: the boxes whose centre moved, and the boxes whose
            queries to bring up to date.
        """
        device = encoding.scene.superpoints.device
        centers = encoding.scene.normalise(box_tensors(encoding, box_centers)[0])
        redecode(
            self.teacher.decoder,
            encoding.scene,
            decoding,
            centers,
            torch.as_tensor(np.asarray(moved), dtype=torch.long, device=device),
            torch.as_tensor(np.asarray(rows), dtype=torch.long, device=device),
        )

    @torch.no_grad()
    def object_probability(
        self,
        encoding: SceneEncoding,
        box_centers: np.ndarray,
        box_classes: np.ndarray,
        member_points: np.ndarray,
        member_boxes: np.ndarray,
        positions: np.ndarray,
    ) -> np.ndarray:
        """The teacher's mask probability (eq. 1's sigmoid) of each point for the box it was given to.

        Parameters
        ----------
        encoding
            From :meth:`encode_scene`.
        box_centers, box_classes, member_points, member_boxes
            As for :meth:`resolve_with_teacher`.
        positions
            (N,) int64 box position each point was given to, -1 for none.

        Returns
        -------
        (N,) float32 probability in [0, 1]; 1 for points given to no box.
        """
        _output, logits, matched, _evidence = self._teacher_box_logits(
            encoding.scene,
            encoding.num_points,
            *box_tensors(encoding, box_centers, box_classes, member_points, member_boxes),
        )
        return given_box_probability(encoding, logits, matched, positions)
