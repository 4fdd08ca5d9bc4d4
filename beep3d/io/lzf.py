"""LZF decompression (the codec of PCD's ``binary_compressed`` data), compiled with numba.

LZF is a byte stream of runs. A control byte below 32 starts a literal run of ``ctrl + 1`` bytes
copied as they are; any other control byte is a back reference: length ``ctrl >> 5`` (7 means
"7 plus the next byte"), plus 2, copied from ``((ctrl & 31) << 8) + next byte + 1`` bytes back in
the output. The kernel checks every read and write against its buffers, so damaged data is refused
instead of read out of bounds.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from beep3d.errors import Beep3dError

__all__ = ["lzf_decompress"]


def _decompress(data: np.ndarray, out: np.ndarray) -> int:  # pragma: no cover - compiled
    """Decode ``data`` into ``out``; the number of bytes written, or -1 when the stream is damaged."""
    ip = 0
    op = 0
    n_in = len(data)
    n_out = len(out)
    while ip < n_in:
        ctrl = np.int64(data[ip])
        ip += 1
        if ctrl < 32:
            run = ctrl + 1
            if ip + run > n_in or op + run > n_out:
                return -1
            for k in range(run):
                out[op + k] = data[ip + k]
            ip += run
            op += run
        else:
            run = ctrl >> 5
            ref = op - ((ctrl & 31) << 8) - 1
            if run == 7:
                if ip >= n_in:
                    return -1
                run += np.int64(data[ip])
                ip += 1
            if ip >= n_in:
                return -1
            ref -= np.int64(data[ip])
            ip += 1
            run += 2
            if ref < 0 or op + run > n_out:
                return -1
            for k in range(run):  # byte by byte: the source may overlap what is being written
                out[op + k] = out[ref + k]
            op += run
    return op


@cache
def _kernel():  # noqa: ANN202 - a numba dispatcher
    """The compiled kernel (numba is imported on first use, after its disk cache is pointed at a
    writable folder by :mod:`beep3d.geometry.graph_segmentation`)."""
    import importlib

    importlib.import_module("beep3d.geometry.graph_segmentation")  # before numba: its cache folder
    import numba

    return numba.njit(cache=True, nogil=True)(_decompress)


def lzf_decompress(data: bytes | np.ndarray, size: int, where: str = "data") -> np.ndarray:
    """Decompress an LZF stream that must expand to exactly ``size`` bytes.

    Parameters
    ----------
    data
        The compressed bytes.
    size
        The uncompressed size the container declares, bytes.
    where
        How the error names the data (e.g. the file).

    Returns
    -------
    (size,) uint8 array.

    Raises
    ------
    Beep3dError
        The stream is damaged or does not expand to ``size`` bytes.
    """
    source = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray) else data
    out = np.empty(size, dtype=np.uint8)
    written = _kernel()(source, out)
    if written != size:
        raise Beep3dError(
            f"{where}: the compressed data is damaged (it expands to "
            f"{'an invalid stream' if written < 0 else f'{written:,} bytes'}, not the {size:,} declared); "
            "the file is truncated or corrupt - save it again"
        )
    return out
