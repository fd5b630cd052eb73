"""Run files and checkpoints that cannot be trusted, two engines on one spec, and what cleanup may delete."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from engine.plan import resolve_text
from engine.store import open_result, remove_stale_tmp

RATES = """\
kind: toy_decay
name: rates
seed: 3
sweep:
  grid:
    decay.rate: [0.5, 1, 2, 3, 4, 5]
"""

SLOW = """\
kind: toy_decay
name: slow
sleep: 1.5
sweep:
  grid:
    decay.rate: [1, 2, 3]
"""

DESCENT = """\
kind: deep_linear
name: descent
model: {dim: 4, depth: 2}
optimizer: {max_steps: 300, tol: 1e-300, tol_rule: absolute}
output: {every: 100}
checkpoint: {every_steps: 100, every_seconds: null}
sweep:
  grid:
    seed: [1, 2]
"""

ENGINE = Path(sys.executable).with_name("engine")


def _run_ids(text: str) -> list[str]:
    return [p.run_id for p in resolve_text(text).points]


def _same_data(a, b) -> None:
    for name in b.data_vars:
        if b[name].dtype.kind in "fiub":
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def _tamper(path: Path) -> None:
    """Change one stored value in place (the file still opens; its checksum no longer matches)."""
    with netCDF4.Dataset(path, "a") as nc:
        nc.variables["y"][1] = nc.variables["y"][1] + 1.0


def test_damaged_or_foreign_run_files_are_moved_aside_and_recomputed(write_spec, engine_cmd, tmp_path):
    spec = write_spec(RATES)
    assert engine_cmd("run", spec, "--executor", "serial", "--quiet").code == 0
    folder = tmp_path / "outputs" / "rates"
    first = open_result(folder / "result.nc")
    runs = [folder / "runs" / f"{rid}.nc" for rid in _run_ids(RATES)]
    size = runs[0].stat().st_size
    runs[0].write_bytes(runs[0].read_bytes()[: size // 2])  # truncated
    runs[1].write_bytes(bytes(size))                         # zeroed
    runs[2].write_bytes(b"")                                 # empty
    shutil.copyfile(runs[5], runs[3])                        # another run's valid file under this name
    _tamper(runs[4])                                         # data changed after it was written
    again = engine_cmd("run", spec, "--executor", "serial", "--quiet")
    assert again.code == 0, again.err
    assert "Traceback" not in again.err and "5 run(s) done, 0 failed, 1 reused" in again.out
    assert sorted(p.name for p in (folder / "runs").glob("*.bad")) == sorted(p.name + ".bad" for p in runs[:5])
    log = (folder / "engine.log").read_text()
    assert log.count("is not reused") == 5 and "belongs to run" in log and "do not match its checksum" in log
    _same_data(open_result(folder / "result.nc"), first)
    assert all(open_result(p).attrs["engine_checksum"] for p in runs)


def test_checkpoint_that_does_not_fit_is_discarded_with_a_warning_in_engine_log(write_spec, cli, tmp_path):
    spec = write_spec(DESCENT)
    runs = tmp_path / "outputs" / "descent" / "runs"
    runs.mkdir(parents=True)
    wrong_keys, unreadable = (runs / f"{rid}.ckpt.npz" for rid in _run_ids(DESCENT))
    np.savez(wrong_keys, _step=np.int64(100), _interval=np.int64(1), something_else=np.zeros(3))
    unreadable.write_bytes(b"not a zip file")
    result = cli("run", spec, "--executor", "serial", "--quiet")
    assert result.code == 0, result.err
    log = (tmp_path / "outputs" / "descent" / "engine.log").read_text()
    assert "discarding checkpoint" in log and "ignoring unreadable checkpoint" in log
    assert not list(runs.glob("*.ckpt.npz"))
    clean = cli("run", spec, "--executor", "serial", "--quiet", "--outputs", str(tmp_path / "clean"))
    assert clean.code == 0
    _same_data(open_result(runs.parent / "result.nc"), open_result(tmp_path / "clean" / "descent" / "result.nc"))
    assert all(open_result(p).attrs["engine_resumed_from_step"] == -1 for p in runs.glob("*.nc"))


@pytest.mark.parametrize("first, second", [("serial", "local"), ("dask", "serial")])
def test_two_engines_on_one_spec_compute_every_run_once(write_spec, tmp_path, first, second):
    spec = write_spec(SLOW)
    outputs = str(tmp_path / "outputs")
    procs = [subprocess.Popen([str(ENGINE), "run", spec, "--quiet", "--outputs", outputs, "--executor", executor,
                               "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for executor in (first, second)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    folder = tmp_path / "outputs" / "slow"
    log = (folder / "engine.log").read_text()
    assert log.count("toy run with fail=") == 3, log  # one line per computed run
    assert "computed meanwhile by another engine process" in log  # each took some runs the other computed
    assert open_result(folder / "result.nc").attrs["engine_status"] == "complete"
    # one lock file stays; a lock is held only by a living process, so it never blocks a later run
    assert sorted(p.name for p in (folder / "runs").iterdir() if "lock" in p.name) == [".lock"]
    rerun = subprocess.run([str(ENGINE), "run", spec, "--quiet", "--force", "--executor", "serial",
                            "--outputs", outputs], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_stale_tmp_cleanup_deletes_only_the_engines_own_temporary_files(tmp_path):
    dead = _dead_pid()
    ours_dead = tmp_path / f".r.nc.tmp-{dead}-0123abcd"
    ours_alive = tmp_path / f".r.nc.tmp-{os.getppid()}-0123abcd"
    foreign = [tmp_path / n for n in (".notes.tmp-backup", f".r.nc.tmp-{dead}", f".r.nc.tmp-{dead}-0123abcd.orig",
                                      f".r.nc.tmp-x{dead}-0123abcd", f".r.nc.tmp-{dead}-0123ABCD")]
    for path in [ours_dead, ours_alive, *foreign]:
        path.write_text("x")
    assert remove_stale_tmp(tmp_path) == [ours_dead]
    assert all(p.exists() for p in [ours_alive, *foreign])


def test_cleanup_and_runs_never_go_through_a_link_out_of_the_outputs_folder(write_spec, engine_cmd, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stale = elsewhere / f".keep.nc.tmp-{_dead_pid()}-0123abcd"
    stale.write_text("someone else's file")
    (tmp_path / "outputs" / "rates").mkdir(parents=True)
    (tmp_path / "outputs" / "rates" / "runs").symlink_to(elsewhere)
    assert remove_stale_tmp(tmp_path / "outputs" / "rates" / "runs") == []
    result = engine_cmd("run", write_spec(RATES), "--executor", "serial", "--quiet")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().count("\n") == 0 and "symbolic link" in result.err and "runs" in result.err
    assert stale.exists() and [p.name for p in elsewhere.iterdir()] == [stale.name]
    # a link that stays inside the outputs folder is followed
    (tmp_path / "outputs" / "rates" / "runs").unlink()
    (tmp_path / "outputs" / "shared-runs").mkdir()
    (tmp_path / "outputs" / "rates" / "runs").symlink_to(tmp_path / "outputs" / "shared-runs")
    assert engine_cmd("run", write_spec(RATES), "--executor", "serial", "--quiet").code == 0
    assert len(list((tmp_path / "outputs" / "shared-runs").glob("*.nc"))) == 6
