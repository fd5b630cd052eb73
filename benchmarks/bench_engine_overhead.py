"""Executors compared: engine overhead per run on tiny runs, and speed-up on runs of about a second.

overhead per run = (sweep wall time - kind compute time / workers) / runs, where
the kind compute time is ``Kind.run`` called directly on the same resolved
specs in this process. It includes validation, starting workers (processes or
a Dask LocalCluster), sending tasks, writing one netCDF file per run and
combining result.nc.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import concurrent_wall, throughput_ratio
from engine import sweep
from engine.executors import cpu_count
from engine.kind import RunContext
from engine.plan import resolve_text

TINY = """\
kind: deep_linear
name: overhead
model: {{dim: 2, depth: 2}}
optimizer: {{max_steps: 20}}
sweep:
  grid:
    seed: {seeds}
"""

# d = 12, L = 24 stays on one numba thread (below the solver's threading threshold), so serial and
# parallel executors do the same work per run; the tolerance is never reached, every run takes max_steps.
SECOND = """\
kind: deep_linear
name: seconds
model: {{dim: 12, depth: 24}}
optimizer: {{max_steps: {steps}, tol: 1e-300, tol_rule: absolute}}
output: {{every: 100}}
sweep:
  grid:
    seed: {seeds}
"""


def _compute_time(resolved) -> float:
    resolved.kind.warmup()
    start = time.perf_counter()
    for point in resolved.points:
        resolved.kind.run(point.spec, RunContext(seed=point.spec.seed))
    return time.perf_counter() - start


def _sweep_wall(resolved, executor: str, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = sweep.run(resolved, Path(tmp), executor=executor, workers=workers, force=True, quiet=True)
        wall = time.perf_counter() - start
    assert not report.failures, report.failures
    return wall


def overhead(n_runs: int, executors=("serial", "local", "dask")) -> dict:
    """Seconds of engine overhead per tiny run for each executor."""
    start = time.perf_counter()
    resolved = resolve_text(TINY.format(seeds=list(range(n_runs))))
    out = {"runs": n_runs, "validate_s": time.perf_counter() - start, "compute_s": _compute_time(resolved)}
    for executor in executors:
        workers = 1 if executor == "serial" else min(cpu_count(), n_runs)
        wall = _sweep_wall(resolved, executor, workers)
        out[executor] = {"workers": workers, "wall_s": wall,
                         "overhead_per_run_s": (wall - out["compute_s"] / workers) / n_runs}
    return out


def cli_wall(spec_text: str, executor: str, workers: int) -> float:
    """Seconds of ``engine run`` on ``spec_text`` in a fresh process: interpreter start-up, imports, workers
    and all, what a user of the command waits for."""
    exe = Path(sys.executable).with_name("engine")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_text(spec_text)
        start = time.perf_counter()
        subprocess.run([str(exe), "run", str(spec), "--executor", executor, "--workers", str(workers),
                        "--outputs", str(Path(tmp) / "outputs"), "--quiet"], check=True, capture_output=True)
        return time.perf_counter() - start


def speedup(n_runs: int = 32, seconds_per_run: float = 1.0, executors=("serial", "local", "dask"),
            repeat: int = 3) -> dict:
    """Wall time of ``n_runs`` runs of about ``seconds_per_run`` each, speed-up over serial, and the machine's
    limit for that speed-up (:func:`kernel_wall`); in this process (``sweep.run``, the later sweeps of a
    process, whose local and Dask workers fork from the warm forkserver) and through ``engine run`` in a
    fresh process (:func:`cli_wall`, the first and only sweep of its process).

    The executors and the limit's two measurements take turns ``repeat`` times in this process, and twice
    through the command, and the shortest wall time of each counts, so that a slow phase of a shared machine
    does not fall on one of them only.
    """
    probe = resolve_text(SECOND.format(steps=2000, seeds=[0]))
    per_step = min(_compute_time(probe) for _ in range(3)) / 2000
    steps = max(100, int(seconds_per_run / per_step))
    text = SECOND.format(steps=steps, seeds=list(range(n_runs)))
    resolved = resolve_text(text)
    out = {"runs": n_runs, "steps_per_run": steps, "seconds_per_run": steps * per_step}
    workers = {e: 1 if e == "serial" else min(cpu_count(), n_runs) for e in executors}
    walls = {e: [] for e in executors}
    cores = cpu_count()
    alone, together = [], []
    for _ in range(repeat):
        for executor in executors:
            walls[executor].append(_sweep_wall(resolved, executor, workers[executor]))
        alone.append(kernel_wall(1))
        together.append(kernel_wall(cores))
    cli = {e: [] for e in executors}
    for _ in range(2):
        for executor in executors:
            cli[executor].append(cli_wall(text, executor, workers[executor]))
    cli = {e: min(times) for e, times in cli.items()}
    for executor in executors:
        out[executor] = {"workers": workers[executor], "wall_s": min(walls[executor]),
                         "speedup": min(walls["serial"]) / min(walls[executor]),
                         "cli_wall_s": cli[executor], "cli_speedup": cli["serial"] / cli[executor]}
    out["capacity"] = throughput_ratio(alone, together, cores)
    return out


KERNEL = """
import time, numba, numpy as np
from solvers import deep_linear as dl
numba.set_num_threads(1)
w, v = dl.initial_weights("zas", 24, 12, 12, 0.0, None)
rec = np.zeros({steps} // 100 + 2)
dl.warmup()
start = time.perf_counter()
dl.gradient_descent(w, v, -np.eye(12), np.eye(12), 0.01, {steps}, 1e-300, 100, rec, rec.copy())
print(time.perf_counter() - start)
"""


def kernel_wall(n: int, steps: int = 30000) -> float:
    """Seconds until the last of ``n`` concurrent processes finished the runs' kernel (one thread each,
    start-up excluded). ``cores`` such processes over one give the machine's limit for the speed-up: the
    throughput of ``cores`` cores on this kernel over that of one."""
    return concurrent_wall(KERNEL.format(steps=steps), n)


def measure() -> dict:
    """Everything docs/performance.md reports about the engine and its executors."""
    return {"overhead_100_local": overhead(100, ("local",)), "overhead_200": overhead(200), "speedup": speedup()}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
