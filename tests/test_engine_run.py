"""Runs, sweeps, resume, failures and the files they leave, with the out-of-tree toy kind."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from engine.plan import resolve_text, run_id
from engine.store import open_result

SWEEP = """\
kind: toy_decay
name: sweep
description: three rates, two paired (y0, floor), two cases
seed: 7
grid: {n_times: 6}
sweep:
  grid:
    decay.rate: [0.5, 1, 2]
  zip:
    decay.y0: [1.0, 3.0]
    decay.floor: [0.0, 0.5]
  cases:
    - {seed: 1}
    - {seed: 2}
"""


def _outputs(tmp_path):
    return tmp_path / "outputs"


def test_sweep_result_has_sweep_dims_and_analytic_values(cli, write_spec, tmp_path):
    result = cli("run", write_spec(SWEEP), "--executor", "serial")
    assert result.code == 0, result.err
    ds = open_result(_outputs(tmp_path) / "sweep" / "result.nc")
    assert dict(ds.sizes) == {"decay_rate": 3, "decay_y0": 2, "case": 2, "t": 6}
    assert ds["y"].dims == ("decay_rate", "decay_y0", "case", "t")
    assert list(ds["decay_floor"].dims) == ["decay_y0"] and list(ds["decay_floor"].values) == [0.0, 0.5]
    assert {k: ds[k].attrs["spec_path"] for k in ("decay_rate", "decay_y0", "decay_floor")} == {
        "decay_rate": "decay.rate", "decay_y0": "decay.y0", "decay_floor": "decay.floor"}
    assert list(ds["seed"].values) == [1, 2]
    t = np.linspace(0, 1, 6)
    np.testing.assert_array_equal(ds["t"].values, t)
    for i, rate in enumerate(ds["decay_rate"].values):
        for j, (y0, floor) in enumerate(zip(ds["decay_y0"].values, ds["decay_floor"].values)):
            np.testing.assert_allclose(ds["y"].values[i, j, 1], floor + (y0 - floor) * np.exp(-rate * t), rtol=1e-14)
    # the kind's whole-sweep summary is in the file
    np.testing.assert_allclose(ds["y_end_mean"], ds["y_end"].mean("decay_rate"))
    assert (ds["run_status"] == "ok").all()
    assert len(set(ds["run_id"].values.ravel())) == 12


def test_fields_on_different_grids_are_padded_when_they_agree_on_overlap(cli, write_spec, tmp_path):
    spec = "kind: toy_decay\nname: grids\nsweep:\n  grid:\n    grid.n_times: [3, 5]\n    grid.t_end: [2.0, 4.0]\n"
    assert cli("run", write_spec(spec), "--executor", "serial").code == 0
    ds = open_result(_outputs(tmp_path) / "grids" / "result.nc")
    # t = (0, 1, 2) is a prefix of (0, 1, 2, 3, 4): padded with NaN; the other grids disagree: kept per run
    assert "y" not in ds and "y" in json.loads(ds.attrs["engine_uncombined"])
    assert ds["y_end"].shape == (2, 2)
    padded = "kind: toy_decay\nname: padded\nsweep:\n  zip:\n    grid.n_times: [3, 5]\n    grid.t_end: [2.0, 4.0]\n"
    assert cli("run", write_spec(padded, "padded"), "--executor", "serial").code == 0
    ds = open_result(_outputs(tmp_path) / "padded" / "result.nc")
    np.testing.assert_array_equal(ds["t"].values, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(ds["y"].values[0], [1, np.exp(-1), np.exp(-2), np.nan, np.nan], rtol=1e-15)


def test_every_variable_has_units_and_long_name_and_provenance(cli, write_spec, tmp_path):
    assert cli("run", write_spec(SWEEP), "--executor", "serial").code == 0
    folder = _outputs(tmp_path) / "sweep"
    for path in [folder / "result.nc", *sorted((folder / "runs").glob("*.nc"))[:2]]:
        ds = open_result(path)
        for name, var in ds.variables.items():
            assert "units" in var.attrs and "long_name" in var.attrs, (path.name, name)
        attrs = ds.attrs
        assert attrs["Conventions"] == "CF-1.8" and attrs["engine_kind"] == "toy_decay"
        assert attrs["history"] == f"{attrs['engine_created'].replace('+00:00', 'Z')} {attrs['engine_command']}"
        packages = json.loads(attrs["engine_packages"])
        assert {"python", "numpy", "numba", "torch", "xarray"} <= set(packages)
        assert attrs["engine_created"].endswith("+00:00") and attrs["engine_version"]
        assert "kind: toy_decay" in attrs["engine_spec"]
    run = open_result(sorted((folder / "runs").glob("*.nc"))[0])
    assert run.attrs["engine_run_id"] == sorted((folder / "runs").glob("*.nc"))[0].stem
    assert run.attrs["engine_wall_time_s"] >= 0 and run.attrs["engine_status"] == "complete"
    assert (folder / "spec.yaml").read_text().startswith("kind: toy_decay")


def test_run_id_depends_on_physics_and_version_only():
    base = resolve_text("kind: toy_decay\nname: a\ndecay: {rate: 2.0}\n").points[0]
    renamed = resolve_text("kind: toy_decay\nname: b\ndescription: other\ndecay: {rate: 2}\n").points[0]
    other = resolve_text("kind: toy_decay\nname: a\ndecay: {rate: 3.0}\n").points[0]
    defaults = resolve_text("kind: toy_decay\nname: a\ndecay: {rate: 2.0, y0: 1.0}\n").points[0]
    assert base.run_id == renamed.run_id == defaults.run_id
    assert base.run_id != other.run_id
    assert run_id(base.spec, "2") != run_id(base.spec, "1") == base.run_id


def test_same_seed_same_numbers_and_seed_changes_them(cli, write_spec, tmp_path):
    spec = "kind: toy_decay\nname: seeds\nsweep:\n  cases:\n    - {seed: 5}\n    - {seed: 5, decay.y0: 1.0}\n    - {seed: 6}\n"
    assert cli("run", write_spec(spec), "--executor", "serial").code == 0
    ds = open_result(_outputs(tmp_path) / "seeds" / "result.nc")
    noise = ds["noise"].values
    assert noise[0] == noise[1] != noise[2]
    assert ds["run_id"].values[0] == ds["run_id"].values[1]  # same physics runs once


def test_resume_skips_finished_runs_and_force_recomputes(cli, write_spec, tmp_path):
    path = write_spec(SWEEP)
    assert cli("run", path, "--executor", "serial").code == 0
    runs = sorted((_outputs(tmp_path) / "sweep" / "runs").glob("*.nc"))
    stamps = {p: p.stat().st_mtime_ns for p in runs}
    again = cli("run", path, "--executor", "serial")
    assert again.code == 0 and "0 run(s) done" in again.out and "12 reused" in again.out
    assert all(p.stat().st_mtime_ns == stamps[p] for p in runs)
    forced = cli("run", path, "--executor", "serial", "--force")
    assert "12 run(s) done" in forced.out
    assert all(p.stat().st_mtime_ns != stamps[p] for p in runs)


FAILING = """\
kind: toy_decay
name: failing
sweep:
  cases:
    - {fail: "no"}
    - {fail: raise}
    - {fail: nan}
    - {fail: diverge}
    - {decay.rate: 3.0}
"""


@pytest.mark.parametrize("executor", ["serial", "local", "dask"])
def test_failures_are_reported_and_the_rest_go_on(cli, write_spec, tmp_path, executor):
    result = cli("run", write_spec(FAILING), "--executor", executor, "--quiet")
    assert result.code == 1
    reported = [line for line in result.err.splitlines() if line.startswith("FAILED run")]
    assert len(reported) == 3
    assert any("ValueError: asked to fail" in line and "fail='raise'" in line for line in reported)
    assert any("variable 'y' is not finite at t=0.5" in line for line in reported)
    assert any("diverged at step 3" in line for line in reported)
    folder = _outputs(tmp_path) / "failing"
    ds = open_result(folder / "result.nc")
    assert list(ds["run_status"].values) == ["ok", "failed", "failed", "failed", "ok"]
    assert np.isnan(ds["y_end"].values[1:4]).all() and np.isfinite(ds["y_end"].values[[0, 4]]).all()
    assert json.loads(ds.attrs["engine_failures"]).keys() == set(ds["run_id"].values[1:4])
    assert ds.attrs["engine_status"] == "partial"
    log = (folder / "engine.log").read_text()
    assert "Traceback" in log
    assert "toy run with fail=raise" in log and "toy run with fail=no" in log  # what runs logged, from any worker
    assert len(list((folder / "runs").glob("*.nc"))) == 2


def test_failed_runs_run_again_on_resume(cli, write_spec, tmp_path):
    path = write_spec(FAILING)
    cli("run", path, "--executor", "serial", "--quiet")
    again = cli("run", path, "--executor", "serial", "--quiet")
    assert "0 run(s) done, 3 failed, 2 reused" in again.out


def test_fail_fast_stops_at_the_first_failure(cli, write_spec, tmp_path):
    result = cli("run", write_spec(FAILING), "--executor", "serial", "--fail-fast", "--quiet")
    assert result.code == 1 and "--fail-fast" in result.err
    ds = open_result(_outputs(tmp_path) / "failing" / "result.nc")
    assert list(ds["run_status"].values) == ["ok", "failed", "not run", "not run", "not run"]


def test_local_executor_gives_bitwise_the_serial_results(cli, write_spec, tmp_path):
    serial = cli("run", write_spec(SWEEP), "--executor", "serial", "--outputs", str(tmp_path / "a"))
    local = cli("run", write_spec(SWEEP), "--executor", "local", "--workers", "2", "--outputs", str(tmp_path / "b"))
    assert serial.code == local.code == 0
    a, b = (open_result(tmp_path / d / "sweep" / "result.nc") for d in "ab")
    for name in ("y", "y_end", "noise", "run_id"):
        assert np.array_equal(a[name].values, b[name].values)


def test_local_workers_fork_from_one_preloaded_server_that_later_sweeps_reuse(tmp_path):
    from engine import sweep
    from engine.executors import cpu_count

    spec = "kind: toy_decay\nname: procs\nprocess_info: true\nsweep:\n  grid:\n    decay.rate: [1, 2, 3, 4]\n"
    resolved = resolve_text(spec)
    parents = []
    for turn in range(2):
        report = sweep.run(resolved, tmp_path / str(turn), executor="local", workers=2, force=True, quiet=True)
        result = open_result(report.result)
        assert (result["preloaded"] == 1).all()
        parents.append(set(result["parent_pid"].values.ravel().tolist()))
    assert len(parents[0]) == 1 and parents[1] == parents[0] and os.getpid() not in parents[0]
    # one worker of several threads is spawned by this process (thread settings from the environment)
    one = resolve_text("kind: toy_decay\nname: one\nprocess_info: true\n")
    result = open_result(sweep.run(one, tmp_path / "one", executor="local", workers=1, quiet=True).result)
    threads = cpu_count()
    assert int(result["preloaded"]) == (threads == 1)
    assert (int(result["parent_pid"]) == os.getpid()) == (threads > 1)


def test_ctrl_c_keeps_finished_runs_and_leaves_no_temporary_files(write_spec, tmp_path):
    spec = write_spec("kind: toy_decay\nname: slow\nsleep: 1.0\nsweep:\n  grid:\n    decay.rate: [1, 2, 3, 4, 5, 6]\n")
    exe = Path(sys.executable).with_name("engine")
    # A child inherits an ignored SIGINT (as in a suite started in the background), but not a handler:
    # with one installed here the engine starts with the default and turns Ctrl-C into KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([str(exe), "run", spec, "--executor", "local", "--workers", "2",
                                 "--outputs", str(tmp_path / "outputs")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    runs = tmp_path / "outputs" / "slow" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("*.nc"))) < 1:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "leaked" not in err  # no semaphore of a stopped worker left to the resource tracker
    finished = list(runs.glob("*.nc"))
    assert 1 <= len(finished) < 6
    assert [p.name for p in runs.parent.rglob("*") if ".tmp-" in p.name] == []
    for path in finished:
        assert open_result(path).attrs["engine_status"] == "complete"
    assert not (runs.parent / "result.nc").exists()


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    from engine import store

    ds = xr.Dataset({"a": ("x", np.arange(3.0))})
    target = tmp_path / "f.nc"
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, path, **kw: (Path(path).write_text("half"), 1 / 0))
    with pytest.raises(ZeroDivisionError):
        store.write_atomic(ds, target)
    assert list(tmp_path.iterdir()) == []


def test_attributes_are_sanitized_for_netcdf(tmp_path):
    from engine.store import write_atomic

    ds = xr.Dataset({"a": ("x", [1.0], {"flag": True, "none": None, "meta": {"k": 1}, "names": ["a", "b"]})},
                    attrs={"ok": False, "list": [1, 2]})
    back = open_result(write_atomic(ds, tmp_path / "s.nc"))
    assert back.attrs["ok"] == 0 and list(back.attrs["list"]) == [1, 2]
    assert back["a"].attrs["flag"] == 1 and "none" not in back["a"].attrs
    assert json.loads(back["a"].attrs["meta"]) == {"k": 1} and json.loads(back["a"].attrs["names"]) == ["a", "b"]


def test_sweeping_a_list_valued_field_gives_json_coordinates(cli, write_spec, tmp_path):
    spec = ("kind: deep_linear\nname: lists\nmodel: {dim: 2, depth: 2}\noptimizer: {max_steps: 50}\n"
            "target: {kind: diagonal, values: [1, 1]}\nsweep:\n  grid:\n    target.values: [[2, -0.5], [1, 1]]\n")
    assert cli("run", write_spec(spec), "--executor", "serial", "--quiet").code == 0
    ds = open_result(tmp_path / "outputs" / "lists" / "result.nc")
    assert [json.loads(v) for v in ds["target_values"].values] == [[2.0, -0.5], [1.0, 1.0]]
    assert ds["final_loss"].shape == (2,)


def test_a_non_finite_scalar_variable_fails_the_run_with_its_name():
    import xarray as xr

    from engine.kind import RunFailed
    from engine.runtime import _check_finite

    ds = xr.Dataset({"ok": ((), 1.0), "rate": ((), np.nan), "y": (("t",), [1.0, np.inf])}, coords={"t": [0.0, 0.5]})
    with pytest.raises(RunFailed, match=r"^variable 'rate' is not finite$"):
        _check_finite(ds, frozenset())
    with pytest.raises(RunFailed, match=r"variable 'y' is not finite at t=0.5"):
        _check_finite(ds, frozenset({"rate"}))
    _check_finite(ds, frozenset({"rate", "y"}))


def test_a_failed_point_reads_as_missing_not_as_zero(cli, write_spec, tmp_path):
    """Integer variables at a failed sweep point are the CF _FillValue on disk and NaN when read."""
    import netCDF4

    spec = "kind: toy_decay\nname: holes\nprocess_info: true\nsweep:\n  cases:\n    - {}\n    - {fail: raise}\n"
    assert cli("run", write_spec(spec), "--executor", "serial", "--quiet").code == 1
    path = _outputs(tmp_path) / "holes" / "result.nc"
    ds = open_result(path)
    assert list(ds["run_status"].values) == ["ok", "failed"]
    assert ds["parent_pid"].values[0] > 0 and np.isnan(ds["parent_pid"].values[1])
    assert np.isnan(ds["preloaded"].values[1]) and np.isnan(ds["y_end"].values[1])
    with netCDF4.Dataset(path) as nc:
        stored = nc.variables["parent_pid"]
        # an int64 in memory, stored as int32 (CF 1.8 has no 64-bit integers) since a process id fits
        assert stored.dtype == np.int32 and stored._FillValue == np.iinfo(np.int32).min
        assert list(np.ma.getmaskarray(stored[:])) == [False, True]


def test_combine_leaves_points_without_a_run_file_missing_for_every_dtype(tmp_path):
    """Points without a run file (failed, not run): NaN floats, masked integers and booleans, empty strings."""
    import netCDF4

    from engine.combine import combine
    from engine.store import write_atomic

    def run_file(i):
        ds = xr.Dataset({"f": ((), 1.5 * i), "n": ((), np.int32(i)), "u": ((), np.uint16(i)),
                         "b": ((), i % 2 == 1), "s": ((), f"s{i}")})
        return write_atomic(ds, tmp_path / f"{i}.nc")

    files = {(0,): run_file(0), (2,): run_file(1)}
    combined, skipped = combine(files, (3,), ["p"])
    back = open_result(write_atomic(combined, tmp_path / "result.nc"))
    assert skipped == []
    np.testing.assert_array_equal(back["f"].values, [0.0, np.nan, 1.5])
    for name in ("n", "u", "b"):
        np.testing.assert_array_equal(back[name].values, [0, np.nan, 1])
    assert list(back["s"].values) == ["s0", "", "s1"]
    with netCDF4.Dataset(tmp_path / "result.nc") as nc:
        fills = {name: (nc.variables[name].dtype, nc.variables[name]._FillValue) for name in ("n", "u", "b")}
    assert fills == {"n": (np.int32, -2**31), "u": (np.uint16, 2**16 - 1), "b": (np.int8, -128)}
    complete, _ = combine({(0,): files[(0,)], (1,): files[(2,)]}, (2,), ["p"])
    assert complete["n"].dtype == np.int32 and complete["b"].dtype == bool  # nothing missing: types kept


def test_result_is_combined_from_the_run_files_one_at_a_time(tmp_path, monkeypatch):
    """No run's dataset is kept in memory: outcomes carry none, and combining opens each run file
    (headers, then data) with no other run file open (counted in /proc/self/fd)."""
    from engine import combine, sweep

    runs = tmp_path / "sweep" / "runs"
    seen = []

    def open_run_files() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # the descriptor of the listing itself is gone
                count += os.readlink(f"/proc/self/fd/{fd}").startswith(str(runs))
        return count

    def counted(read):
        return lambda nc: (seen.append(open_run_files()), read(nc))[1]

    monkeypatch.setattr(combine, "header_of", counted(combine.header_of))
    monkeypatch.setattr(combine, "_decoded", counted(combine._decoded))
    report = sweep.run(resolve_text(SWEEP), tmp_path, executor="serial", quiet=True)
    assert len(report.outcomes) == 12
    assert seen == [1] * 24
    assert open_result(report.result)["y"].shape == (3, 2, 2, 6)
