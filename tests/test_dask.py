"""The dask executor with real processes: LocalCluster, an external cluster, killed workers and clients.

The external cluster is a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1 started by this module; workers run without a nanny so that a
killed worker stays dead.  While a cluster is up, every TCP socket that this
test process or its children listen on must be on a loopback address.
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys
import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from engine.store import open_result

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
# every server of the hand-started cluster on 127.0.0.1: `--no-dashboard` alone still opens the
# HTTP server (health, metrics) on 0.0.0.0 (the scheduler's on port 8787)
SERVE_ON_LOOPBACK = ["--host", LOOPBACK, "--dashboard-address", f"{LOOPBACK}:0"]
PROC_NET_TCP = {"/proc/net/tcp": socket.AF_INET, "/proc/net/tcp6": socket.AF_INET6}
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp*
HAVE_PROC_NET = Path("/proc/net/tcp").exists()  # Linux
needs_proc_net = pytest.mark.skipif(not HAVE_PROC_NET, reason="needs Linux's /proc/net/tcp")

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


def _process_tree(root: int) -> set[int]:
    """The pid ``root`` and the pids of all its living descendants (from each /proc/<pid>/stat's ppid)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, frontier = {root}, [root]
    while frontier:
        for child in children.get(frontier.pop(), []):
            tree.add(child)
            frontier.append(child)
    return tree


def _fd_targets(pid: int) -> list[str]:
    """What the open file descriptors of process ``pid`` point at (``socket:[<inode>]`` for a socket)."""
    targets = []
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process ended meanwhile
        return targets
    for fd in fds:
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed meanwhile (such as the one that listed the folder)
            continue
    return targets


def _socket_inodes(pids: set[int]) -> set[int]:
    """The inodes of the sockets that the processes ``pids`` hold open."""
    prefix = "socket:["
    return {int(target[len(prefix):-1]) for pid in pids for target in _fd_targets(pid) if target.startswith(prefix)}


def _hex_address(text: str, family: int) -> str:
    """A /proc/net/tcp* address (32-bit words in the machine's byte order, in hex) as an IP address."""
    raw = bytes.fromhex(text)
    words = struct.unpack(f"={len(raw) // 4}I", raw)
    return socket.inet_ntop(family, struct.pack(f">{len(words)}I", *words))


def _listening_sockets() -> dict[int, tuple[str, int]]:
    """Every listening TCP socket of the machine: inode -> (IP address, port)."""
    found = {}
    for table, family in PROC_NET_TCP.items():
        if not Path(table).exists():  # tcp6 without IPv6
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == TCP_LISTEN:
                address, port = fields[1].split(":")
                found[int(fields[9])] = (_hex_address(address, family), int(port, 16))
    return found


def _is_loopback(address: str) -> bool:
    """Whether ``address`` (IPv4 or IPv6, possibly IPv4-mapped) is a loopback address."""
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or bool(getattr(ip, "ipv4_mapped", None) and ip.ipv4_mapped.is_loopback)


def _our_public_listeners() -> list[tuple[str, int]]:
    """The (address, port) of every socket that this test process or a descendant of it listens on at a
    non-loopback address; other services of the machine do not count."""
    ours = _socket_inodes(_process_tree(os.getpid()))
    return sorted(where for inode, where in _listening_sockets().items()
                  if inode in ours and not _is_loopback(where[0]))


def _assert_listens_on_loopback_only():
    """Fail if a socket of this test's processes listens beyond loopback (checked on Linux only)."""
    if HAVE_PROC_NET:
        assert _our_public_listeners() == [], "sockets of this test's processes listen beyond 127.0.0.1"


@needs_proc_net
def test_the_socket_check_sees_a_socket_on_every_address():
    with socket.socket() as public, socket.socket() as private:
        public.bind(("0.0.0.0", 0))
        private.bind((LOOPBACK, 0))
        public.listen()
        private.listen()
        assert ("0.0.0.0", public.getsockname()[1]) in _our_public_listeners()
        assert (LOOPBACK, private.getsockname()[1]) not in _our_public_listeners()


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
    procs = []
    try:  # the processes end even when the cluster fails to start or to pass the socket check
        procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", *SERVE_ON_LOOPBACK, "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(info)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        _wait_for(info.exists, 60, "the scheduler")
        address = json.loads(info.read_text())["address"]
        workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, *SERVE_ON_LOOPBACK, "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for i in range(2)]
        procs += workers
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        _assert_listens_on_loopback_only()
        yield {"address": address, "workers": workers}
    finally:
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
        _assert_listens_on_loopback_only()
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


def test_a_tls_scheduler_without_the_clients_certificate_is_a_clear_error(tmp_path, write_spec):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_DISTRIBUTED__COMM__TLS")}
    proc = subprocess.run([str(BIN / "engine"), "run", write_spec(SMALL), "--scheduler", "tls://127.0.0.1:9",
                           "--outputs", "out"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "--scheduler tls://127.0.0.1:9: executor: a tls:// scheduler needs the client's certificate" in proc.stderr
    assert "distributed.comm.tls.client.cert" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


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
    # an in-process cluster's HTTP servers take 0.0.0.0 unless told otherwise (inproc:// has no host)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=f"{LOOPBACK}:0",
                      worker_dashboard_address=f"{LOOPBACK}:0") as local:
        _assert_listens_on_loopback_only()
        res = cli("run", spec, "--scheduler", local.scheduler_address, "--quiet")
    assert res.code == 1
    assert "RuntimeError: worker lost its accelerator" in res.err
    log = (tmp_path / "outputs" / "tsweep" / "engine.log").read_text()
    done = [line for line in log.splitlines() if " done in " in line]
    assert len(done) == 3 and not any("decay.rate=3.0" in line for line in done)
