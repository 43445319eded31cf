"""Undo the malloc setting that TensorFlow's ``from_generator`` makes, which costs toy training page faults.

TensorFlow's GeneratorDataset kernel calls ``mallopt(M_TRIM_THRESHOLD, 128 KB)`` once per
process (its log line: "Memory patch applied: M_TRIM_THRESHOLD=128 kb was set"). In glibc,
setting any of the trim or mmap thresholds by hand also freezes the mmap threshold at its
default of 128 KB, so from then on every tensor of 128 KB or more is a fresh ``mmap`` and
its pages fault in on first touch. The toy MLP's activations are 256 x 512 floats (512 KB;
256 KB in bfloat16): a 25gaussians run of 8,000 iterations took 28.8 million page faults
and 118 s of system time.

``raise_thresholds`` sets both thresholds to the ceiling glibc's own adaptive rule reaches
on 64-bit systems (mmap 32 MB, trim twice that), so freed blocks are reused instead.
Measured on the 2-core EPYC (``python benchmarks/bench_malloc.py``: 600 iterations of the
25gaussians file, whole process, median of 3 paired runs): 52.1 s against 53.7 s wall, 4.0
against 8.9 s of system time, 0.17 against 2.3 million page faults. A whole 8,000-iteration
run took 10 min 7 s with 41 s of system time and 0.25 million page faults (before: 11 min
11 s, 118 s and 28.8 million, on another idle EPYC the same day).

Elsewhere than glibc (macOS, musl) it does nothing, and with the environment variable
``WGAN_TF_MALLOC=1`` it leaves TensorFlow's setting (the benchmark's baseline).
"""

import ctypes
import ctypes.util
import os

KEEP_VARIABLE = "WGAN_TF_MALLOC"

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit glibc
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc's adaptive rule pairs with it


def _libc():
    """The C library if it is glibc (has ``mallopt`` and ``gnu_get_libc_version``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version")):
        return None
    return libc


def raise_thresholds():
    """Raise glibc's mmap and trim thresholds (call after the first ``from_generator`` batch); True when set."""
    libc = None if os.environ.get(KEEP_VARIABLE) == "1" else _libc()
    if libc is None:
        return False
    # mallopt returns 1 on success and 0 on error.
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
