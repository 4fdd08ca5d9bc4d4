"""Data order: a deterministic shuffle per (seed, epoch), sharded across processes, resumable mid-epoch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def epoch_order(num_scenes: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """(num_scenes,) scene indices of one epoch; the same for every process and every resume."""
    if not shuffle:
        return np.arange(num_scenes)
    return np.random.default_rng([int(seed), int(epoch), 0x5A3D]).permutation(num_scenes)


class EpochSampler:
    """Yields ``(epoch, scene index)`` keys for one process of a (possibly distributed) run.

    Each epoch's order comes from :func:`epoch_order`; with ``world_size`` processes, the order is
    padded by repetition to a multiple of ``world_size * batch_size`` (every process runs the same
    number of full batches) and process ``rank`` takes every ``world_size``-th batch. A batch is
    ``batch_size`` consecutive keys, so the DataLoader must use the same ``batch_size``.

    Parameters
    ----------
    num_scenes
        Dataset length.
    batch_size
        Scenes per batch per process.
    seed
        Run seed.
    rank, world_size
        This process and the number of processes.
    shuffle
        Shuffle each epoch (training) or keep the order (evaluation).
    """

    def __init__(
        self,
        num_scenes: int,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
    ) -> None:
        self.num_scenes = int(num_scenes)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.shuffle = shuffle
        self.epoch = 0
        self.start_batch = 0

    @property
    def batches_per_epoch(self) -> int:
        """Batches this process runs per epoch (the same on every process)."""
        per_round = self.batch_size * self.world_size
        return max(1, -(-self.num_scenes // per_round))

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Choose the epoch to iterate, skipping its first ``start_batch`` batches (resume)."""
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def keys(self) -> list[tuple[int, int]]:
        """This process's keys for the current epoch, from ``start_batch`` on."""
        order = epoch_order(self.num_scenes, self.seed, self.epoch, self.shuffle)
        total = self.batches_per_epoch * self.batch_size * self.world_size
        padded = np.resize(order, total)
        batches = padded.reshape(-1, self.batch_size)[self.rank :: self.world_size]
        mine = batches[self.start_batch :].reshape(-1)
        return [(self.epoch, int(i)) for i in mine]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())
