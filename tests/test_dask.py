"""The dask executor with real processes: LocalCluster, an external cluster, killed workers and clients.

The external cluster is a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1 started by this module; workers run without a nanny so that a
killed worker stays dead.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from engine.store import open_result

BIN = Path(sys.executable).parent

# 12 runs of about half a second each (near_identity does not converge, so every run takes max_steps).
SWEEP = """\
kind: deep_linear
name: dsweep
model: {dim: 24}
init: {scheme: near_identity}
optimizer: {max_steps: 1500}
output: {every: 50}
sweep:
  grid:
    model.depth: [24, 32, 40, 48]
    seed: [0, 1, 2]
"""
SMALL = "kind: deep_linear\nname: dsweep\noptimizer: {max_steps: 200}\nsweep:\n  grid:\n    model.depth: [2, 4, 8, 16]\n    init.scheme: [zas, xavier]\n"


def _same_data(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=a[name].dtype.kind == "f"), name


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def serial_results(tmp_path_factory):
    """The uninterrupted serial results of both sweeps."""
    from engine.cli import main

    out = {}
    for label, text in (("small", SMALL), ("sweep", SWEEP)):
        folder = tmp_path_factory.mktemp(f"serial-{label}")
        (folder / "s.yaml").write_text(text)
        assert main(["run", str(folder / "s.yaml"), "--executor", "serial", "--quiet", "--outputs", str(folder)]) == 0
        out[label] = open_result(folder / "dsweep" / "result.nc")
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers on 127.0.0.1, as separate processes."""
    folder = tmp_path_factory.mktemp("cluster")
    info = folder / "scheduler.json"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    _wait_for(info.exists, 60, "the scheduler")
    address = json.loads(info.read_text())["address"]
    workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--name", f"w{i}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for i in range(2)]
    procs += workers
    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
    yield {"address": address, "workers": workers}
    for proc in reversed(procs):
        proc.kill()
        proc.wait()


def _engine(*args, cwd):
    return subprocess.Popen([str(BIN / "engine"), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_local_cluster_gives_the_serial_results(cli, write_spec, tmp_path, serial_results):
    result = cli("run", write_spec(SMALL), "--executor", "dask", "--workers", "2", "--quiet")
    assert result.code == 0, result.err
    _same_data(open_result(tmp_path / "outputs" / "dsweep" / "result.nc"), serial_results["small"])


def test_local_cluster_workers_run_without_the_statistical_profiler():
    import dask

    from engine.dask_executor import DaskExecutor

    before = dask.config.get("distributed.worker.profile.enabled")
    with DaskExecutor(workers=2, n_tasks=2) as ex:
        enabled = ex._client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert len(enabled) == 2 and not any(enabled.values())
    assert dask.config.get("distributed.worker.profile.enabled") == before  # the client's setting is left alone


def test_wrong_scheduler_address_is_a_quick_clear_error(tmp_path, write_spec):
    start = time.monotonic()
    proc = _engine("run", write_spec(SMALL), "--scheduler", "tcp://127.0.0.1:9", "--outputs", "out", cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert time.monotonic() - start < 20
    assert "--scheduler tcp://127.0.0.1:9: executor: cannot reach the Dask scheduler" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_scheduler_address_from_the_environment(tmp_path, write_spec):
    env = {**os.environ, "ENGINE_DASK_SCHEDULER": "tcp://127.0.0.1:9"}
    proc = subprocess.run([str(BIN / "engine"), "run", write_spec(SMALL), "--outputs", "out"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "--scheduler tcp://127.0.0.1:9: executor: cannot reach" in proc.stderr


def test_external_cluster_through_scheduler_gives_the_serial_results(cluster, tmp_path, write_spec, serial_results):
    proc = _engine("run", write_spec(SWEEP), "--scheduler", cluster["address"], "--outputs", "out", "--quiet",
                   cwd=tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    ds = open_result(tmp_path / "out" / "dsweep" / "result.nc")
    _same_data(ds, serial_results["sweep"])
    hosts = {open_result(p).attrs["engine_worker_host"] for p in (tmp_path / "out" / "dsweep" / "runs").glob("*.nc")}
    assert hosts  # computed on the workers, written by the client


def test_killing_the_engine_mid_sweep_then_rerunning_computes_only_the_missing_runs(
        cluster, tmp_path, write_spec, serial_results):
    spec = write_spec(SWEEP)
    runs = tmp_path / "out" / "dsweep" / "runs"
    proc = _engine("run", spec, "--scheduler", cluster["address"], "--outputs", "out", "--quiet", cwd=tmp_path)
    _wait_for(lambda: len(list(runs.glob("*.nc"))) >= 3, 300, "three finished runs")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = list(runs.glob("*.nc"))
    assert 3 <= len(finished) < 12
    for path in finished:  # every file that exists is a complete run
        assert open_result(path).attrs["engine_status"] == "complete"
    again = _engine("run", spec, "--scheduler", cluster["address"], "--outputs", "out", "--quiet", cwd=tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{12 - len(finished)} run(s) done, 0 failed, {len(finished)} reused" in out
    assert [p.name for p in runs.parent.rglob("*") if ".tmp-" in p.name] == []
    _same_data(open_result(tmp_path / "out" / "dsweep" / "result.nc"), serial_results["sweep"])


def test_a_killed_worker_does_not_lose_or_duplicate_runs(cluster, tmp_path, write_spec, serial_results):
    runs = tmp_path / "out" / "dsweep" / "runs"
    proc = _engine("run", write_spec(SWEEP), "--scheduler", cluster["address"], "--outputs", "out", "--quiet",
                   cwd=tmp_path)
    _wait_for(lambda: len(list(runs.glob("*.nc"))) >= 2, 300, "two finished runs")
    cluster["workers"][0].send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "12 run(s) done, 0 failed, 0 reused" in out
    log = (tmp_path / "out" / "dsweep" / "engine.log").read_text()
    done = [line.split()[4] for line in log.splitlines() if " done in " in line]
    assert len(done) == len(set(done)) == 12
    _same_data(open_result(tmp_path / "out" / "dsweep" / "result.nc"), serial_results["sweep"])


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # the scheduler's HTTP server moves
def test_a_task_that_cannot_run_is_a_failed_run_and_the_others_go_on(cli, write_spec, tmp_path, monkeypatch):
    """An exception outside the run itself (here raised by the task function on the worker) is reported
    as that run's failure, with its message; the other runs are written. (An in-process cluster, so that
    the patched task function is the one the worker calls; the toy kind has no numba kernels.)"""
    from distributed import LocalCluster

    import engine.dask_executor as dask_executor

    def no_luck_at_rate_3(task):
        if "decay.rate=3.0" in task.label:
            raise RuntimeError("worker lost its accelerator")
        return dask_executor.compute(task)

    monkeypatch.setattr(dask_executor, "run_on_worker", no_luck_at_rate_3)
    spec = write_spec("kind: toy_decay\nname: tsweep\nsweep:\n  grid:\n    decay.rate: [1.0, 2.0, 3.0, 4.0]\n")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as local:
        res = cli("run", spec, "--scheduler", local.scheduler_address, "--quiet")
    assert res.code == 1
    assert "RuntimeError: worker lost its accelerator" in res.err
    log = (tmp_path / "outputs" / "tsweep" / "engine.log").read_text()
    done = [line for line in log.splitlines() if " done in " in line]
    assert len(done) == 3 and not any("decay.rate=3.0" in line for line in done)
