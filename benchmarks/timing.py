"""Timing helpers shared by the benchmarks: best-of-n wall time, the machine's memory bandwidth, and its
throughput with several busy cores over one."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, repeat: int, clock=time.perf_counter) -> float:
    """Shortest time (s) by ``clock`` (default: wall time) of ``repeat`` calls of ``fn()`` (the least disturbed one
    on a shared machine)."""
    best = np.inf
    for _ in range(repeat):
        tic = clock()
        fn()
        best = min(best, clock() - tic)
    return best


def best_cpu_of(fn, repeat: int) -> float:
    """Shortest CPU time (s, of every thread of this process) of ``repeat`` calls of ``fn()``: with one thread, the
    work of the call, little moved by other jobs on the machine."""
    return best_of(fn, repeat, time.process_time)


def auto_threads() -> int:
    """Set numba's threads as ``threads: auto`` (the default) sets them for a large run of the serial
    executor started now (:func:`engine.threads.choose`: the idle cores, within all of this process's
    cores); return the count, for the benchmarks' "project, default" columns."""
    import numba

    from engine import threads

    n, _ = threads.choose(threads.AUTO, len(os.sched_getaffinity(0)), None)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()


def memory_bandwidth(mib: int = 256, repeat: int = 5) -> float:
    """GB/s of ``np.copyto`` on a ``mib`` MiB float64 array (bytes read + bytes written)."""
    a = np.ones(mib * 2**20 // 8)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_of(lambda: np.copyto(b, a), repeat) / 1e9


def concurrent_wall(code: str, processes: int) -> float:
    """Seconds until the last of ``processes`` concurrent ``python -c code`` finished, each timing itself
    and printing its seconds (start-up excluded); run in the repository root."""
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    return max(float(p.communicate()[0]) for p in procs)


MULTIPLY_ADD = """
import time, numpy as np
from numba import njit
@njit(fastmath=True)
def poly(a, reps):
    s = 0.0
    for r in range(reps):
        for j in range(a.shape[0]):
            x = a[j]
            s += (((((((x * 1.1 + 0.9) * x + 0.8) * x + 0.7) * x + 0.6) * x + 0.5) * x + 0.4) * x + 0.3) * x
    return s
a = np.linspace(-1.0, 1.0, 512)
poly(a, 1)
start = time.perf_counter()
poly(a, {reps})
print(time.perf_counter() - start)
"""


def multiply_add_throughput(processes: int, reps: int = 4_000_000, repeat: int = 2) -> dict:
    """Throughput of ``processes`` processes at once over one alone on a vectorized multiply-add loop
    (numba, in L1 cache, about 1 s alone): the limit of a compute-bound kernel's speed-up on that many
    cores, below ``processes`` where a lone core runs at a higher clock than several busy ones. The two
    measurements take turns ``repeat`` times and the shortest of each counts."""
    code = MULTIPLY_ADD.format(reps=reps)
    alone, together = [], []
    for _ in range(repeat):
        alone.append(concurrent_wall(code, 1))
        together.append(concurrent_wall(code, processes))
    return throughput_ratio(alone, together, processes)


def throughput_ratio(alone: list[float], together: list[float], processes: int) -> dict:
    """Throughput of ``processes`` processes at once over one, from wall times (s) of one process alone
    and of ``processes`` together; the shortest of each counts."""
    return {"processes": processes, "one_s": min(alone), "together_s": min(together),
            "ratio": processes * min(alone) / min(together)}
