"""Timing helpers shared by the benchmarks: best-of-n wall time and the machine's memory bandwidth."""

import time

import numpy as np


def best_of(fn, repeat: int) -> float:
    """Shortest wall time (s) of ``repeat`` calls of ``fn()`` (the least disturbed one on a shared machine)."""
    best = np.inf
    for _ in range(repeat):
        tic = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - tic)
    return best


def memory_bandwidth(mib: int = 256, repeat: int = 5) -> float:
    """GB/s of ``np.copyto`` on a ``mib`` MiB float64 array (bytes read + bytes written)."""
    a = np.ones(mib * 2**20 // 8)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_of(lambda: np.copyto(b, a), repeat) / 1e9
