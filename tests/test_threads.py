"""The thread policy: what ``threads`` and ``ENGINE_THREADS`` give a run, idle cores from /proc/stat, and
results that do not depend on the thread count (which is why ``threads`` is not part of a run's id)."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from engine import threads
from engine.plan import resolve_text
from engine.store import open_result

SOD = """\
kind: bgk
grid: {n_x: 120}
velocity: {dim: 1, v_max: 8.0, n_v: 32}
initial: {kind: sod}
time: {t_final: 0.05}
name: sod_THREADS
threads: THREADS
"""


def sod(threads) -> str:
    return SOD.replace("THREADS", str(threads))


@pytest.fixture(autouse=True)
def fresh_reading(monkeypatch):
    """No reading of idle cores carried between tests, no ENGINE_THREADS from outside."""
    monkeypatch.setattr(threads, "_last_idle", None)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)


def test_a_number_is_used_as_given_and_auto_follows_share_size_and_idle_cores(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda: 1)
    assert threads.choose(3, 1, 10)[0] == 3
    assert threads.choose("auto", 1, 1 << 30) == (1, "the executor's share is one core")
    assert threads.choose("auto", 4, 1000)[0] == 1  # a small run: the barrier costs more than a thread gains
    assert threads.choose("auto", 4, None)[0] == 1  # one idle core
    monkeypatch.setattr(threads, "idle_cores", lambda: 8)
    assert threads.choose("auto", 4, threads.SMALL_RUN_BYTES)[0] == 4  # never beyond the share
    monkeypatch.setattr(threads, "idle_cores", lambda: 0)
    assert threads.choose("auto", 4, None)[0] == 1  # at least one
    monkeypatch.setattr(threads, "idle_cores", lambda: None)
    assert threads.choose("auto", 2, None)[0] == 2  # nothing known: the share


def test_engine_threads_overrides_the_spec_and_a_bad_value_is_refused(monkeypatch, cli, write_spec):
    assert threads.requested("auto") == "auto" and threads.requested(2) == 2
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.requested("auto") == 3
    monkeypatch.setenv(threads.THREADS_ENV, "auto")
    assert threads.requested(2) == "auto"
    monkeypatch.setenv(threads.THREADS_ENV, "0")
    result = cli("validate", write_spec(sod(1)))
    assert result.code == 2
    assert result.err.strip() == ("ENGINE_THREADS: environment: '0' is not a thread count "
                                  "(expected 'auto' or a positive integer)")


def test_idle_cores_counts_the_cores_idle_at_least_half_the_sample(monkeypatch):
    readings = iter([{0: (100, 1000), 1: (500, 1000), 2: (0, 0)},
                     {0: (101, 1010), 1: (509, 1010), 2: (6, 10)}])  # core 0 busy, 1 idle, 2 60 % idle
    monkeypatch.setattr(threads, "_cpu_times", lambda cpus: next(readings))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    assert threads.idle_cores() == 2
    assert threads.idle_cores() == 2  # reused within IDLE_REUSE_S: no third reading


def test_idle_cores_reads_this_machine():
    idle = threads.idle_cores()
    assert idle is not None and 0 <= idle <= len(threads.os.sched_getaffinity(0))


def test_threads_is_not_part_of_the_run_id_and_results_do_not_depend_on_it(run_spec, tmp_path):
    (run_id,) = {resolve_text(sod(t)).points[0].run_id for t in (1, 2, "auto")}
    (first, one), (second, two) = run_spec(sod(1)), run_spec(sod(2))
    assert first.code == second.code == 0, first.err + second.err
    used = [open_result(tmp_path / "outputs" / f"sod_{t}" / "runs" / f"{run_id}.nc").attrs["engine_threads"]
            for t in (1, 2)]
    assert used == [1, min(2, numba.config.NUMBA_NUM_THREADS)]
    for name in one.data_vars:
        assert np.array_equal(one[name].values, two[name].values, equal_nan=one[name].dtype.kind == "f"), name


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="torch's default is one thread on one core")
def test_a_torch_kind_runs_on_the_threads_chosen_for_it(tmp_path):
    """A fresh process (torch not imported) runs a graph_learning spec with ``threads: 1``, serially: torch has
    one thread when the run starts. Its run module imports torch; the engine imports that module before it sets
    the threads, so the setting reaches torch (it used to keep torch's default, one thread per core)."""
    code = f"""
import sys
from pathlib import Path
from engine import runtime, sweep
from engine.plan import resolve_text
assert "torch" not in sys.modules
seen = []
real = runtime._run_kind
def spy(kind, spec, ctx):
    import torch  # the run module's import, where the engine has not made it
    seen.append(torch.get_num_threads())
    return real(kind, spec, ctx)
runtime._run_kind = spy
text = "kind: graph_learning\\nname: t\\nthreads: 1\\ntraining: {{epochs: 2, models: [gcn]}}\\n"
report = sweep.run(resolve_text(text, "<t>"), Path({str(tmp_path)!r}), executor="serial", quiet=True)
assert not report.failures, report.failures
print(seen)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[1]"
