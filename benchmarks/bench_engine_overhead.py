"""Engine overhead per run: a sweep of 100 tiny deep_linear runs, serial and with local processes.

overhead per run = (sweep wall time - kind compute time / workers) / runs, where
the kind compute time is ``Problem.run`` called directly on the same 100
resolved specs in this process. It includes validation, spawning workers,
pickling tasks, writing one netCDF file per run and combining result.nc.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from engine import sweep
from engine.executors import cpu_count
from engine.problem import RunContext
from engine.spec import resolve_text

SPEC = """\
kind: deep_linear
name: overhead
model: {dim: 2, depth: 2}
optimizer: {max_steps: 20}
sweep:
  grid:
    seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    init.noise: [0.0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009]
"""


def measure() -> dict:
    """Seconds per run of engine overhead for the serial and local executors."""
    start = time.perf_counter()
    resolved = resolve_text(SPEC)
    t_validate = time.perf_counter() - start
    n = len(resolved.points)
    problem = resolved.problem
    problem.warmup()
    start = time.perf_counter()
    for point in resolved.points:
        problem.run(point.spec, RunContext(seed=point.spec.seed))
    t_compute = time.perf_counter() - start
    out = {"runs": n, "validate_s": t_validate, "compute_s": t_compute}
    workers = min(cpu_count(), n)
    for executor, w in (("serial", 1), ("local", workers)):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            sweep.run(resolved, Path(tmp), executor=executor, workers=w, force=True, quiet=True)
            wall = time.perf_counter() - start
        out[executor] = {"workers": w, "wall_s": wall, "overhead_per_run_s": (wall - t_compute / w) / n}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
