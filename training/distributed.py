"""Process-group setup for multi-process training (torchrun / DistributedDataParallel).

``torchrun --nproc_per_node=G -m beep3d.training.cli ...`` (or the ``beep3d-train`` script under
torchrun) sets RANK, WORLD_SIZE and LOCAL_RANK; each process then trains on its share of every epoch's
scenes, gradients are averaged by DDP, and rank 0 alone logs, evaluates and writes checkpoints.
The backend is NCCL on CUDA and gloo on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

#: How long a collective (a barrier, DDP's gradient all-reduce) may wait for the other processes.
#: Rank 0 evaluates alone while the other ranks wait at a barrier; evaluating every ScanNet
#: validation scene (312 scenes, a few seconds each on a GPU, more with large scenes or a busy
#: disk) can take longer than NCCL's default of 10 minutes, which would abort a healthy run. Two
#: hours leaves room for that. A process that crashes does not make the others wait this long:
#: torchrun ends the remaining processes, and gloo / NCCL notice a closed connection.
PROCESS_GROUP_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def dist_info_from_env() -> DistInfo:
    """Rank and world size from torchrun's environment variables (a single process without them)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def init_distributed(device_type: str, timeout: timedelta = PROCESS_GROUP_TIMEOUT) -> DistInfo:
    """Join the process group when WORLD_SIZE > 1 (NCCL on CUDA, gloo on the CPU).

    On CUDA this process's GPU (cuda:LOCAL_RANK) is made the current device before the group is
    made, so that NCCL's communicators and barriers use it rather than GPU 0.

    Parameters
    ----------
    device_type
        "cuda" or "cpu".
    timeout
        How long a collective waits for the other processes (see ``PROCESS_GROUP_TIMEOUT``).
    """
    info = dist_info_from_env()
    if not info.enabled:
        return info
    import torch
    import torch.distributed as dist

    if device_type == "cuda":
        torch.cuda.set_device(info.local_rank)
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size, timeout=timeout)
    return info


def loss_module_for(model: Any, info: DistInfo, device: Any) -> Any:
    """A module whose forward is ``model.training_losses(batch, step=step)``; wrapped in DDP when the
    run has several processes (DDP averages the gradients of what its forward computed).

    Parameters
    ----------
    model
        The student-teacher model (``training_losses(batch, step)`` returns a dict of loss tensors).
    info
        This process's place in the run.
    device
        The process's ``torch.device`` (its GPU index is DDP's device id; none on the CPU).
    """
    import torch

    class LossForward(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, batch: Any, step: int | None = None) -> dict[str, Any]:
            return self.inner.training_losses(batch, step=step)

    module: Any = LossForward(model)
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel

        module = DistributedDataParallel(
            module,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=True,
        )
    return module


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op in a single process).

    With NCCL the barrier runs on this process's GPU (``device_ids``), not on a guessed one.
    """
    if info.enabled:
        import torch.distributed as dist

        if dist.get_backend() == "nccl":
            import torch

            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()


def average_across_processes(values: dict[str, Any], info: DistInfo, device: Any) -> dict[str, float]:
    """The mean of each (scalar) value over all processes, as floats; every process gets the same.

    In a single process the values are only turned into floats (``float(v)``), unchanged.

    Parameters
    ----------
    values
        Scalars (Python numbers or one-element tensors), the same keys in the same order on every
        process.
    info
        This process's place in the run.
    device
        Where the reduction runs (the process's GPU for NCCL, the CPU for gloo).
    """
    import torch

    def as_float(value: Any) -> float:
        return float(value.detach().float().item()) if hasattr(value, "detach") else float(value)

    if not info.enabled:
        return {key: as_float(value) for key, value in values.items()}
    import torch.distributed as dist

    stacked = torch.tensor([as_float(value) for value in values.values()], dtype=torch.float64, device=device)
    dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
    stacked /= info.world_size
    return {key: float(v) for key, v in zip(values, stacked.tolist(), strict=True)}


def shutdown(info: DistInfo) -> None:
    """Leave the process group if this module joined one."""
    if info.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
