"""Helpers for the training tests: tiny scene folders on disk and a tiny stand-in model.

The stand-in model implements the model contract (``student``/``teacher``, ``student_parameters``,
``training_losses``, ``update_teacher``, ``copy_student_to_teacher``, ``predict``, ``pseudo_masks``)
with a per-point MLP, so loop, checkpoint, resume and DDP tests run in a fraction of a second per step.
It draws random numbers in every step (feature noise) so that resume tests also check RNG handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from beep3d.classes import SCANNET18
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.model.config import ModelConfig
from beep3d.model.sample import ModelSample
from beep3d.scene import Scene

OBJECT_LABELS = ("chair", "table", "cabinet", "sofa", "bed", "desk")


def make_room(
    seed: int = 0, num_objects: int = 4, points_per_object: int = 500, floor_points: int = 600
) -> tuple[Scene, BoxSet]:
    """A small room: a floor and a row of cuboid objects whose boxes overlap their neighbours.

    Returns the scene (GT semantic in NYU40 ids, instance ids 1..K, one superpoint per 0.2 m cell
    of each object) and the boxes (ids = instance ids, a margin that makes neighbouring boxes overlap).
    """
    rng = np.random.default_rng(seed)
    parts_xyz, parts_rgb, parts_sem, parts_inst = [], [], [], []
    floor = np.column_stack(
        [
            rng.uniform(-0.5, num_objects * 0.8 + 0.5, floor_points),
            rng.uniform(-1, 1, floor_points),
            np.zeros(floor_points),
        ]
    )
    parts_xyz.append(floor)
    parts_rgb.append(np.tile([120, 120, 120], (floor_points, 1)))
    parts_sem.append(np.full(floor_points, 2))
    parts_inst.append(np.full(floor_points, -1))
    boxes = []
    for k in range(num_objects):
        label = OBJECT_LABELS[(k + seed) % len(OBJECT_LABELS)]
        centre = np.array([k * 0.8 + 0.4, rng.uniform(-0.2, 0.2), 0.4])
        size = np.array([0.8, 0.7, 0.8]) * rng.uniform(0.85, 1.1)
        pts = centre + rng.uniform(-0.5, 0.5, (points_per_object, 3)) * size
        parts_xyz.append(pts)
        colour = np.array(SCANNET18.colour_of(label))
        parts_rgb.append(np.clip(colour + rng.normal(0, 10, (points_per_object, 3)), 0, 255))
        parts_sem.append(np.full(points_per_object, SCANNET18.id_of(label)))
        parts_inst.append(np.full(points_per_object, k + 1))
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        grow = np.array([0.12, 0.02, 0.02])  # along x the boxes reach into the neighbours
        boxes.append(Box(k + 1, label, tuple((lo + hi) / 2), tuple(hi - lo + 2 * grow), 0.0))
    xyz = np.concatenate(parts_xyz).astype(np.float32)
    instance = np.concatenate(parts_inst).astype(np.int64)
    cells = np.floor(xyz / 0.2).astype(np.int64)
    keys = np.column_stack([instance + 1, cells])
    superpoints = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
    scene = Scene(
        xyz=xyz,
        rgb=np.concatenate(parts_rgb).astype(np.uint8),
        superpoints=superpoints,
        semantic=np.concatenate(parts_sem).astype(np.int64),
        instance=instance,
        label_space="nyu40",
        name=f"room{seed}",
    )
    return scene, BoxSet(boxes)


def write_rooms(root: Path, count: int = 2, with_gt: bool = True, **room_kwargs: int) -> list[Path]:
    """Write ``count`` scene folders (``scene.npz`` + ``boxes.json``) under ``root``."""
    from beep3d.io.scene_folder import save_scene_folder

    folders = []
    for seed in range(count):
        scene, boxes = make_room(seed, **room_kwargs)
        if not with_gt:
            scene.instance = None
            scene.semantic = None
        folders.append(save_scene_folder(scene, root / f"room{seed:02d}", boxes))
    return folders


# ---------------------------------------------------------------------- stand-in model


@dataclass
class FakeBatch:
    xyz: list[torch.Tensor]
    features: list[torch.Tensor]
    member_points: list[torch.Tensor]
    member_boxes: list[torch.Tensor]
    box_classes: list[torch.Tensor]
    box_centers: list[torch.Tensor]


def fake_collate(
    samples: list[ModelSample], device: torch.device | str = "cpu", voxel_size: float = 0.02
) -> FakeBatch:
    def t(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    xyz = [t(s.xyz, torch.float32) for s in samples]
    return FakeBatch(
        xyz=xyz,
        features=[
            torch.cat([t(s.rgb, torch.float32), p - p.mean(0)], dim=1)
            for s, p in zip(samples, xyz, strict=True)
        ],
        member_points=[t(s.member_points, torch.long) for s in samples],
        member_boxes=[t(s.member_boxes, torch.long) for s in samples],
        box_classes=[t(s.box_classes, torch.long) for s in samples],
        box_centers=[t(s.box_centers, torch.float32).reshape(-1, 3) for s in samples],
    )


class FakeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features).squeeze(1)


@dataclass
class FakePrediction:
    masks: np.ndarray
    classes: np.ndarray
    scores: np.ndarray


class FakeBeep3DModel(nn.Module):
    """Per-point foreground MLP; the contract's methods with the simplest meaning."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.student = FakeNet()
        self.teacher = FakeNet()
        self.teacher.load_state_dict(self.student.state_dict())
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def student_parameters(self) -> list[nn.Parameter]:
        return list(self.student.parameters())

    def training_losses(self, batch: FakeBatch, step: int | None = None) -> dict[str, torch.Tensor]:
        features = torch.cat(batch.features)
        features = features + 0.01 * torch.randn_like(features)  # uses the torch RNG
        logits = self.student(features)
        target = torch.zeros_like(logits)
        offset = 0
        for xyz, points in zip(batch.xyz, batch.member_points, strict=True):
            target[offset + points] = 1.0
            offset += len(xyz)
        bce = nn.functional.binary_cross_entropy_with_logits(logits, target)
        return {"total": bce, "bce": bce.detach()}

    @torch.no_grad()
    def update_teacher(self, step: int) -> float:
        alpha = min(1.0 - 1.0 / (step + 1), self.config.ema_alpha)
        for t, s in zip(self.teacher.parameters(), self.student.parameters(), strict=True):
            t.mul_(alpha).add_(s, alpha=1 - alpha)
        for t, s in zip(self.teacher.buffers(), self.student.buffers(), strict=True):
            t.copy_(s)
        return alpha

    @torch.no_grad()
    def copy_student_to_teacher(self) -> None:
        self.teacher.load_state_dict(self.student.state_dict())

    @torch.no_grad()
    def predict(self, batch: FakeBatch, topk: int = 100) -> list[FakePrediction]:
        out = []
        for features, points, boxes, classes in zip(
            batch.features, batch.member_points, batch.member_boxes, batch.box_classes, strict=True
        ):
            prob = torch.sigmoid(self.student(features)).cpu().numpy()
            k, n = len(classes), len(features)
            masks = np.zeros((k, n), dtype=bool)
            masks[boxes.cpu().numpy(), points.cpu().numpy()] = True
            masks &= prob[None, :] > 0.5
            scores = np.array([prob[m].mean() if m.any() else 0.0 for m in masks], dtype=np.float32)
            out.append(FakePrediction(masks, classes.cpu().numpy(), scores))
        return out

    @torch.no_grad()
    def pseudo_masks(self, batch: FakeBatch) -> list[np.ndarray]:
        out = []
        for xyz, points, boxes in zip(batch.xyz, batch.member_points, batch.member_boxes, strict=True):
            assignment = np.full(len(xyz), -1, dtype=np.int64)
            assignment[points.cpu().numpy()[::-1]] = boxes.cpu().numpy()[::-1]  # first containing box wins
            out.append(assignment)
        return out


def as_process_of(rank: int, world_size: int, port: int) -> None:
    """Make this process rank ``rank`` of a ``world_size``-process run on this machine (torchrun's
    variables), on one thread."""
    import os

    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)


def ddp_worker(rank: int, world_size: int, port: int, data: str, out: str, max_steps: int) -> None:
    """One process of a 2-process gloo run with the stand-in model; saves its final weights."""
    import os
    from dataclasses import replace

    from safetensors.torch import save_file

    from beep3d.training.config import TrainConfig
    from beep3d.training.datasets import build_datasets
    from beep3d.training.distributed import shutdown
    from beep3d.training.trainer import Trainer

    as_process_of(rank, world_size, port)
    config = replace(
        TrainConfig(num_workers=0, crop_points=1500, eval_every=0), batch_size=1, epochs=2, lr=1e-2
    )
    train, val, class_set, *_ = build_datasets(data, config)
    trainer = Trainer(
        config,
        train,
        val,
        class_set,
        out,
        max_steps=max_steps,
        model_factory=FakeBeep3DModel,
        collate_fn=fake_collate,
        show_progress=False,
    )
    result = trainer.run()
    params = {f"student.{k}": v.detach().clone() for k, v in trainer.model.student.named_parameters()}
    params.update({f"teacher.{k}": v.detach().clone() for k, v in trainer.model.teacher.named_parameters()})
    os.makedirs(out, exist_ok=True)
    save_file(params, os.path.join(out, f"rank{rank}_step{result.step}.safetensors"))
    shutdown(trainer.dist)


def write_tiny_config(path: Path, **settings: object) -> Path:
    """A training config YAML for a network small enough to train in seconds on a CPU.

    ``settings`` override or add top-level keys (``epochs=2``, ``num_workers=1``, ...).
    """
    import yaml

    config: dict[str, object] = {
        "epochs": 2,
        "batch_size": 2,
        "num_workers": 0,
        "augment": False,
        "log_every": 1,
        "eval_every": 0,
        "checkpoint_every_epochs": 0,
        "lr": 0.002,
        "model": {
            "backbone_channels": [8, 16],
            "blocks_per_level": 1,
            "voxel_size": 0.05,
            "num_queries": 8,
            "num_layers": 1,
            "d_model": 16,
            "num_heads": 2,
            "ffn_dim": 32,
        },
    }
    config.update(settings)
    path.write_text(yaml.safe_dump(config))
    return path


def tiny_model_config(**changes: object):  # noqa: ANN201 - ModelConfig, imported lazily
    """A network small enough for unit tests on a CPU (``changes`` override fields)."""
    from beep3d.model.config import ModelConfig

    values: dict[str, object] = {
        "backbone_channels": (8, 16, 24),
        "blocks_per_level": 1,
        "voxel_size": 0.05,
        "num_queries": 12,
        "num_layers": 2,
        "d_model": 32,
        "num_heads": 4,
        "ffn_dim": 64,
    }
    values.update(changes)
    return ModelConfig(**values)


def save_untrained_checkpoint(path: Path, config) -> Path:  # noqa: ANN001 - ModelConfig, imported lazily
    """Write an untrained network of ``config`` as a checkpoint (ScanNet's 18 classes) at ``path``."""
    from beep3d.classes import SCANNET18
    from beep3d.model.beep3d_model import Beep3DModel
    from beep3d.training.checkpoint import save_checkpoint
    from beep3d.training.config import TrainConfig

    save_checkpoint(path, Beep3DModel(config), TrainConfig(model=config), SCANNET18, step=0, epoch=0)
    return path


def write_s3dis_room(room: Path, seed: int = 0) -> None:
    """An S3DIS room (``Annotations/<class>_<n>.txt``) with two chairs, a table and the floor."""
    scene, _ = make_room(seed, num_objects=3, points_per_object=200, floor_points=200)
    annotations = room / "Annotations"
    annotations.mkdir(parents=True)
    names = {1: "chair_1", 2: "table_1", 3: "chair_2", -1: "floor_1"}
    for instance, name in names.items():
        rows = np.hstack([scene.xyz[scene.instance == instance], scene.rgb[scene.instance == instance]])
        np.savetxt(annotations / f"{name}.txt", rows, fmt="%.4f %.4f %.4f %d %d %d")
