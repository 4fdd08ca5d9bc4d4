"""How many CPU threads the native kernels use: one setting for the command lines.

numba's kernels (the superpoints) and spconv's CPU convolutions run on OpenMP, whose pool torch's
``set_num_threads`` does not reach; OpenMP and numba read their thread counts once, when they start.
With two jobs on two cores, each job's extra OpenMP thread spun: a training step took 6 s instead of
0.9 s. The command lines' ``--threads`` therefore set them here before anything starts a pool.
"""

from __future__ import annotations

import os
import sys

from beep3d.errors import Beep3dError


def limit_native_threads(threads: int | None) -> None:
    """Hold OpenMP and numba to ``threads`` threads that sleep when idle (None: leave the defaults).

    Call before numba, torch or spconv start a kernel; torch's own pool is set separately
    (``torch.set_num_threads``, or the teacher's ``threads``).

    Raises
    ------
    Beep3dError
        ``threads`` below 1 or above :func:`max_threads` (each thread reserves memory: 10**11 of
        them exhausted the machine's memory).
    """
    if threads is None:
        return
    if threads < 1:
        raise Beep3dError(f"--threads must be at least 1, got {threads}")
    if threads > max_threads():
        raise Beep3dError(
            f"--threads {threads} is more than this machine can use ({os.cpu_count() or 1} cores; at most "
            f"{max_threads()}); leave --threads out to use every core"
        )
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if numba_pool_started():
        # numba's pool has its size; were the variable to change now, numba would refuse to compile
        # any kernel from then on ("Cannot set NUMBA_NUM_THREADS ..."): use fewer of its threads
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)


def max_threads() -> int:
    """The most ``--threads`` accepts: four per core, at most 1024."""
    return min(1024, 4 * (os.cpu_count() or 1))


def numba_pool_started() -> bool:
    """Whether numba has started its thread pool in this process (its size is fixed from then on)."""
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return bool(getattr(parallel, "_is_initialized", False))
