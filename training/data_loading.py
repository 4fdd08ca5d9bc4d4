"""The training DataLoader: its worker processes and the errors they raise.

Each batch is a list of :class:`~beep3d.model.sample.ModelSample` (the trainer collates it on its
device); the keys come from an :class:`~beep3d.training.sampling.EpochSampler`, so the data order of an
epoch depends only on (seed, epoch) and a resumed run replays it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

from beep3d.errors import Beep3dError
from beep3d.training.config import TrainConfig


def make_loader(train_set: Any, sampler: Any, config: TrainConfig) -> Any:
    """The DataLoader of a run: batches of ``config.batch_size`` samples in ``sampler``'s order.

    Parameters
    ----------
    train_set
        Dataset whose items are samples (``train_set[(epoch, index)]``).
    sampler
        The run's :class:`~beep3d.training.sampling.EpochSampler` (its batch size is the config's).
    config
        The training config: ``batch_size``, ``num_workers`` (0: load in this process) and ``seed``.
    """
    import torch
    from torch.utils.data import DataLoader

    workers = config.num_workers
    return DataLoader(
        train_set,
        batch_size=config.batch_size,
        sampler=sampler,
        collate_fn=list,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(config.seed),
        drop_last=False,
        worker_init_fn=functools.partial(end_with_parent, os.getpid()),
    )


def user_errors_unwrapped(loader: Any) -> Iterator[Any]:
    """Iterate ``loader``; a :class:`Beep3dError` raised in a worker process loses the worker's traceback.

    DataLoader re-raises a worker's exception with the worker's traceback in its message; the message
    a user should read is the error's own, so it is raised again alone.
    """
    iterator = iter(loader)
    while True:
        try:
            samples = next(iterator)
        except StopIteration:
            return
        except Beep3dError as exc:
            message = str(exc)
            marker = "Beep3dError: "
            if "Original Traceback" in message and marker in message:
                raise Beep3dError(message.rsplit(marker, 1)[1].strip()) from None
            raise
        yield samples


def end_with_parent(parent_pid: int, _worker_id: int) -> None:
    """DataLoader worker start-up: end this worker when the training process dies, even by kill -9.

    On Linux the kernel sends the worker SIGTERM when its parent ends (``PR_SET_PDEATHSIG``); torch's
    own watchdog only notices a dead parent while the worker waits for work. Elsewhere nothing is done.

    Parameters
    ----------
    parent_pid
        The training process's pid, taken when the DataLoader was made.
    """
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the call
        os._exit(0)
