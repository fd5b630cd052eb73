"""Local workers that die, and an engine that dies under its workers: real processes, real SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.executors import blame, death_reason
from engine.store import open_result

SLOW_SWEEP = "kind: toy_decay\nname: slow\nsleep: {sleep}\nsweep:\n  grid:\n    decay.rate: [1, 2, 3, 4, 5, 6]\n"

ONE_KILLS_ITS_WORKER = """\
kind: toy_decay
name: killer
sweep:
  cases:
    - {decay.rate: 1.0}
    - {decay.rate: 2.0}
    - {fail: kill}
    - {decay.rate: 3.0}
    - {decay.rate: 4.0}
"""


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state letter, start time in clock ticks) of process ``pid``; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), fields[0], int(fields[19])


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and (_stat(int(p.name)) or (0,))[0] == pid]


def _descendants(pid: int) -> dict[int, int]:
    """Every living descendant of ``pid``: pid -> start time (so that a reused pid is not taken for it)."""
    found: dict[int, int] = {}
    todo = _children(pid)
    while todo:
        child = todo.pop()
        stat = _stat(child)
        if stat is not None:
            found[child] = stat[2]
            todo += _children(child)
    return found


def _alive(pid: int, start: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == start and stat[1] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def _wait_until(condition, timeout: float = 120.0) -> bool:
    """Poll ``condition`` every 0.1 s until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _local_workers(engine: int) -> list[int]:
    """The local workers of the engine process ``engine``: the children of its forkserver."""
    servers = [pid for pid in _children(engine) if "multiprocessing.forkserver" in _cmdline(pid)]
    return [worker for server in servers for worker in _children(server)]


def _engine_run(spec: str, tmp_path: Path, workers: int = 2) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("engine")
    return subprocess.Popen([str(exe), "run", spec, "--executor", "local", "--workers", str(workers),
                             "--outputs", str(tmp_path / "outputs")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_all(processes: dict[int, int]) -> None:
    """Clean up after a failed test: SIGKILL those of ``processes`` (pid -> start time) still alive."""
    for pid, start in processes.items():
        if _alive(pid, start):
            os.kill(pid, signal.SIGKILL)


def test_a_sweep_completes_when_a_local_worker_is_killed(write_spec, tmp_path):
    spec = write_spec(SLOW_SWEEP.format(sleep=1.0))
    proc = _engine_run(spec, tmp_path)
    runs = tmp_path / "outputs" / "slow" / "runs"
    try:
        assert _wait_until(lambda: len(_local_workers(proc.pid)) == 2 and any(runs.glob("*.nc")))
        os.kill(_local_workers(proc.pid)[0], signal.SIGKILL)  # mid-sweep: both workers are in a run
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "FAILED" not in err
    result = open_result(tmp_path / "outputs" / "slow" / "result.nc")
    assert (result["run_status"] == "ok").all()
    assert len(list(runs.glob("*.nc"))) == 6
    log = (runs.parent / "engine.log").read_text()  # the death and the retry are on record, and shown
    assert re.search(r"WARNING worker died: signal 9 \(Killed\) under run [0-9a-f]{16} \(death 1;", log), log
    assert re.search(r"WARNING \d run\(s\) that were in flight or queued go to a fresh pool", log), log
    assert "worker died: signal 9" in err


def test_a_run_that_kills_its_worker_every_time_fails_alone_with_the_reason(write_spec, tmp_path):
    proc = _engine_run(write_spec(ONE_KILLS_ITS_WORKER), tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    reported = [line for line in err.splitlines() if line.startswith("FAILED run")]
    assert len(reported) == 1 and "(fail='kill'): worker died: signal 9" in reported[0], err
    assert "Traceback" not in err
    result = open_result(tmp_path / "outputs" / "killer" / "result.nc")
    assert list(result["run_status"].values) == ["ok", "ok", "failed", "ok", "ok"]
    log = (tmp_path / "outputs" / "killer" / "engine.log").read_text()
    killer = result["run_id"].values[2]
    assert [int(n) for n in re.findall(rf"under run {killer} \(death (\d)", log)] == [1, 2, 3, 4], log


@pytest.mark.parametrize("settle", [0.0, 3.0], ids=["as-workers-start", "while-workers-compute"])
def test_killing_the_engine_ends_its_workers_forkserver_and_resource_tracker(write_spec, tmp_path, settle):
    spec = write_spec(SLOW_SWEEP.format(sleep=30.0))
    proc = _engine_run(spec, tmp_path)
    family: dict[int, int] = {}
    try:
        assert _wait_until(lambda: len(_local_workers(proc.pid)) == 2)
        time.sleep(settle)  # the workers may still be starting, or already in their first run
        family = _descendants(proc.pid)  # the forkserver, the resource tracker, the workers
        assert len(family) >= 4, {pid: _cmdline(pid) for pid in family}
        proc.kill()
        proc.wait(timeout=60)
        assert _wait_until(lambda: not any(_alive(pid, start) for pid, start in family.items()), timeout=20), \
            {pid: _cmdline(pid) for pid, start in family.items() if _alive(pid, start)}
    finally:
        proc.kill()
        _kill_all(family)
    assert not list((tmp_path / "outputs" / "slow" / "runs").glob("*.nc"))  # no orphan went on computing


def test_the_runs_on_the_worker_that_died_count_the_death():
    # workers 11 and 12 took runs a and b; 11 was killed, and the pool terminated 12
    assert blame(["a", "b", "c"], {"a": 11, "b": 12}, {11: -9, 12: -15}, False) == {"a": "worker died: signal 9 (Killed)"}
    # a worker killed between runs: every run that had started counts it
    assert blame(["a", "c"], {"a": 12}, {11: -9, 12: -15}, False) == {"a": "worker died: signal 9 (Killed)"}
    # workers that die before any run starts: every lost run counts, so retries end
    assert blame(["a", "c"], {}, {11: 1, 12: -15}, False) == dict.fromkeys("ac", "worker died: exit status 1")
    assert death_reason(-9, True) == "worker died: out of memory (signal 9 from the kernel's OOM killer)"
