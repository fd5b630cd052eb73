"""How many threads a run's kernels get (numba, torch): the thread policy.

A multi-threaded kernel waits at every step's barrier for its slowest thread, so a thread that has
to share its core with another process slows the whole run: on 2 cores with one of them busy, a
2-thread Sod run of the bgk kind took 1.2x the time of 1 thread, and up to 7x under heavier load.
The policy (``threads: auto``, the default) therefore gives a run

- 1 thread when the run is small (its estimated memory, a proxy of the work per step, is under
  :data:`SMALL_RUN_BYTES`: the barrier would cost more than the second thread gains), and
- otherwise as many threads as there are idle cores when it starts, measured from ``/proc/stat``
  over :data:`IDLE_SAMPLE_S` (busy counted at the kernel's own tick resolution; the reading is
  reused for :data:`IDLE_REUSE_S`), within the executor's share of the cores (a local worker's
  ``cores // workers``, 1 on a Dask worker, every core for the serial executor).

A number (``threads: 2`` in the spec, or the environment variable ``ENGINE_THREADS``, which
overrides the spec) is used as given, up to numba's pool size. Results do not depend on the thread
count (the kernels reduce in a fixed order), so ``threads`` is not part of a run's id.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: The environment variable that overrides every spec's ``threads`` (a number, or ``auto``).
THREADS_ENV = "ENGINE_THREADS"
AUTO = "auto"
#: Below this estimated peak memory [bytes] a run gets one thread under ``auto``.
SMALL_RUN_BYTES = 1 << 20
#: How long ``/proc/stat`` is watched to count idle cores [s].
IDLE_SAMPLE_S = 0.02
#: How long a count of idle cores is reused before it is measured again [s].
IDLE_REUSE_S = 1.0
#: A core counts as idle when at least this fraction of it was idle during the sample.
IDLE_FRACTION = 0.5

_last_idle: tuple[float, int] | None = None  # (time.monotonic() of the reading, idle cores)


def requested(spec_threads: int | str) -> int | str:
    """The thread setting that applies: ``ENGINE_THREADS`` if set, else the spec's (a number or ``auto``).
    Raises ValueError for an ``ENGINE_THREADS`` that is neither ``auto`` nor a positive integer."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return spec_threads
    if value == AUTO:
        return AUTO
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise ValueError(f"{value!r} is not a thread count (expected 'auto' or a positive integer)")


def _cpu_times(cpus: set[int]) -> dict[int, tuple[int, int]]:
    """(idle + iowait, total) clock ticks of each of ``cpus`` from ``/proc/stat``."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
        times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    return times


def idle_cores() -> int | None:
    """How many of the cores this process may run on were idle over the last :data:`IDLE_SAMPLE_S`
    (a reading at most :data:`IDLE_REUSE_S` old is reused); None where ``/proc/stat`` cannot be read."""
    global _last_idle
    now = time.monotonic()
    if _last_idle is not None and now - _last_idle[0] < IDLE_REUSE_S:
        return _last_idle[1]
    try:
        cpus = os.sched_getaffinity(0)
        before = _cpu_times(cpus)
        time.sleep(IDLE_SAMPLE_S)
        after = _cpu_times(cpus)
    except (OSError, AttributeError, ValueError):
        return None
    idle = 0
    for cpu, (idle_after, total_after) in after.items():
        idle_before, total_before = before.get(cpu, (idle_after, total_after))
        total = total_after - total_before
        idle += total > 0 and (idle_after - idle_before) / total >= IDLE_FRACTION
    _last_idle = (time.monotonic(), idle)
    return idle


def choose(setting: int | str, share: int, peak_bytes: int | None) -> tuple[int, str]:
    """The threads of a run and why: ``setting`` (a number, or ``auto``: see the module docstring),
    ``share`` the cores the executor gives the run, ``peak_bytes`` its estimated peak memory (None:
    unknown, taken as not small)."""
    if setting != AUTO:
        return int(setting), "as set"
    if share <= 1:
        return 1, "the executor's share is one core"
    if peak_bytes is not None and peak_bytes < SMALL_RUN_BYTES:
        return 1, f"a small run (about {peak_bytes / 1024:.0f} KiB)"
    idle = idle_cores()
    if idle is None:
        return share, f"the executor's share of {share} cores"
    threads = max(1, min(share, idle))
    return threads, f"{idle} idle core(s) of {len(os.sched_getaffinity(0))}, a share of {share}"
