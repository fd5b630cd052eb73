"""The thread policy (``threads: auto``, :mod:`engine.threads`) against 1 and 2 fixed threads, on a quiet
machine and with a busy loop pinned to one core, taking turns in the same run.

Each case is one run of a kind, computed as the serial executor computes it (``engine.runtime.compute``:
the thread choice, the kind's run and its checks; no file written), with the spec's ``threads`` set to 1,
2 or ``auto``. The busy loop is a separate Python process spinning on the first core this process may
use. The goal: auto within 10 % of the better of 1 and 2 threads in both conditions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.checkpoint import checkpoint_path
from engine.plan import resolve_text
from engine.runtime import RunTask, compute

SETTINGS = (1, 2, "auto")
#: (label, spec, --set overrides): single runs of a fraction of a second to a few seconds.
CASES = (
    ("bgk Sod 1D1V, 200 x 64, Kn = 1e-2", Path("specs/bgk/sod.yaml"), ("collision.kn=1.0e-2", "sweep=null")),
    ("bgk Sod 1D1V, 4000 x 64", Path("specs/bgk/sod.yaml"),
     ("collision.kn=1.0e-2", "sweep=null", "grid.n_x=4000", "time.t_final=0.02", "time.save_every=0.01")),
    ("deep_linear d = 32, L = 64, 3000 steps", None,
     "kind: deep_linear\nmodel: {dim: 32, depth: 64}\ninit: {scheme: near_identity}\noptimizer: {max_steps: 3000}\n"),
)
ROOT = Path(__file__).resolve().parent.parent
BUSY = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True:\n    pass\n"


def _task(case, threads, folder: Path) -> RunTask:
    label, path, extra = case
    if path is None:
        resolved = resolve_text(extra, label)
    else:
        resolved = resolve_text((ROOT / path).read_text(), str(path), list(extra))
    point = resolved.points[0]
    spec = {**point.spec.model_dump(mode="json"), "threads": threads}
    return RunTask(resolved.kind.kind, spec, point.run_id, str(folder / f"{point.run_id}.nc"), label)


def _wall(task: RunTask) -> tuple[float, int]:
    tic = time.perf_counter()
    outcome, ds = compute(task)
    wall = time.perf_counter() - tic
    checkpoint_path(task.path).unlink(missing_ok=True)  # the next turn starts from the beginning too
    if not outcome.ok:
        raise RuntimeError(f"{task.label}: {outcome.reason}")
    return wall, int(ds.attrs["engine_threads"])


def measure(turns: int = 3) -> dict:
    """Best wall time [s] of each case x setting x condition over ``turns`` interleaved turns, the threads
    auto chose, and the load average before and after."""
    os.environ.pop("ENGINE_THREADS", None)
    busy_core = min(os.sched_getaffinity(0))
    results: dict = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tasks = {(case[0], s): _task(case, s, Path(tmp)) for case in CASES for s in SETTINGS}
        for task in tasks.values():  # compile or load every kernel first
            _wall(task)
        for _ in range(turns):
            for condition in ("quiet", "one core busy"):
                busy = None
                if condition != "quiet":
                    busy = subprocess.Popen([sys.executable, "-c", BUSY, str(busy_core)])
                    time.sleep(1.0)  # the busy loop shows in /proc/stat
                try:
                    for (label, setting), task in tasks.items():
                        wall, used = _wall(task)
                        entry = results.setdefault(condition, {}).setdefault(label, {}).setdefault(
                            str(setting), {"wall_s": float("inf"), "threads": []})
                        entry["wall_s"] = min(entry["wall_s"], wall)
                        entry["threads"].append(used)
                finally:
                    if busy is not None:
                        busy.kill()
                        busy.wait()
                time.sleep(1.0)
    return {"results": results, "turns": turns, "cores": len(os.sched_getaffinity(0)),
            "load_before": load_before, "load_after": os.getloadavg()}


def section(result: dict) -> list[str]:
    rows, worst = [], 0.0
    for condition, cases in result["results"].items():
        for label, by_setting in cases.items():
            best = min(by_setting["1"]["wall_s"], by_setting["2"]["wall_s"])
            auto = by_setting["auto"]
            ratio = auto["wall_s"] / best
            worst = max(worst, ratio)
            chosen = "/".join(str(t) for t in auto["threads"])
            rows.append(f"| {label} | {condition} | {by_setting['1']['wall_s']:.3f} | {by_setting['2']['wall_s']:.3f} | "
                        f"{auto['wall_s']:.3f} ({chosen}) | {ratio:.2f}x |")
    load = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(result["load_before"], result["load_after"]))
    return [
        "## Threads per run: the `auto` policy against 1 and 2 threads",
        "",
        "One run of each case, computed as the serial executor computes it (thread choice, the kind's run, its "
        "checks; no file), with `threads` 1, 2 or `auto` (the default; `engine/threads.py`: one thread for a run "
        "whose estimated memory is under 1 MiB, else the idle cores when the run starts, read from /proc/stat "
        "over 20 ms). 'one core busy': a Python busy loop pinned to one core, started a second before. Best "
        f"wall time of {result['turns']} interleaved turns; the threads auto chose in each turn in brackets. "
        f"Cores: {result['cores']}; load average (1, 5, 15 min) before/after: {load}.",
        "",
        "| case | condition | 1 thread (s) | 2 threads (s) | auto (s) | auto over the better |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Goal: auto within 10 % of the better of 1 and 2 threads in both conditions; worst measured "
        f"{worst:.2f}x ({'met' if worst <= 1.10 else 'not met'} in this run).",
        "",
    ]


if __name__ == "__main__":  # pragma: no cover
    print("\n".join(section(measure(turns=1))))
