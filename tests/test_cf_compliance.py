"""Result files that CF tools accept (issue 20): every kind's files pass the IOOS ``compliance-checker``
for CF 1.8 with no errors and no warnings; sweep dimensions have CF names in the files and their dotted
spec keys inside the engine (:mod:`engine.names`); ``engine show`` and ``engine plot`` still read files
written before the rename (dotted dimension names)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from compliance_checker.runner import CheckSuite
from test_kinds_conformance import all_failed_sweep, smoke, smoke_case  # noqa: F401  (the conformance suite's fixtures)

from engine.names import SPEC_PATH_ATTR, spec_view, to_file_names
from engine.store import open_result
from engine.sweep import run

CF_TEST = "cf:1.8"

# loading the checkers loads the IOOS SOS checker too, which announces its own deprecation
pytestmark = pytest.mark.filterwarnings("ignore:The ioos_sos checker is deprecated:DeprecationWarning")

#: Exceptions raised inside the checker (not findings about the file) that the project cannot remove,
#: by check, with the reason. Its strict-monotonicity check subtracts neighbouring values and raises on a
#: string-valued dimension coordinate (bgk_closure's ``family``, ``model``, ``quantity``; a swept string
#: key). The engine keeps strings there because xarray selects by them (``ds.sel(family="wave")``).
CHECKER_EXCEPTIONS = {
    "check_coordinate_variables_strict_monotonicity": "raises on a string-valued dimension coordinate",
}


def cf_findings(path: Path) -> tuple[list[str], set[str]]:
    """(every finding of ``compliance-checker --test cf:1.8`` on the file at ``path``, as
    ``priority check: message``; the names of the checks that raised inside the checker)."""
    suite = CheckSuite()
    suite.load_all_available_checkers()
    dataset = suite.load_dataset(str(path))
    try:
        groups, errors = suite.run_all(dataset, [CF_TEST], skip_checks=[])[CF_TEST]
        report = suite.build_structure(CF_TEST, groups, str(path), 1)
    finally:
        dataset.close()
    findings = [f"{priority.split('_')[0]} {check.name}: {message}"
                for priority in ("high_priorities", "medium_priorities", "low_priorities")
                for check in report[priority] for message in check.msgs]
    return findings, set(errors)


def _has_string_dimension_coordinate(path: Path) -> bool:
    with xr.open_dataset(path) as ds:
        return any(ds[d].dtype.kind in "OSU" for d in ds.dims if d in ds.coords)


def _assert_cf_clean(path: Path) -> None:
    findings, raised = cf_findings(path)
    assert findings == [], f"{path}: " + "\n".join(findings)
    assert raised <= set(CHECKER_EXCEPTIONS), f"{path}: the checker raised in {sorted(raised)}"
    if raised:
        assert _has_string_dimension_coordinate(path), f"{path}: {sorted(raised)} without a string coordinate"


def test_every_kinds_smoke_result_and_run_file_and_sweep_file_pass_the_cf_checker(smoke, tmp_path):
    kind = smoke.kind
    report = run(smoke, tmp_path / "outputs", executor="serial", quiet=True)
    assert report.result is not None and not report.failures, [o.reason for o in report.failures]
    run_file = report.folder / "runs" / f"{smoke.points[0].run_id}.nc"
    sweep_file, _ = all_failed_sweep(kind, tmp_path)
    for path in (report.result, run_file, sweep_file):
        _assert_cf_clean(path)
    key = kind.template_sweep[0]
    with xr.open_dataset(sweep_file) as ds:
        assert key.replace(".", "_") in ds.dims and ds[key.replace(".", "_")].attrs[SPEC_PATH_ATTR] == key


def _engine_view() -> xr.Dataset:
    """A result as the engine holds it: a grid key, a zip block (second key along the first) and cases that
    set a dotted key, with a variable over all three and a per-run dimension ``t``."""
    y = np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4)
    return xr.Dataset(
        {"y": (("decay.rate", "decay.y0", "case", "t"), y, {"units": "1", "long_name": "y"})},
        coords={"decay.rate": ("decay.rate", [0.5, 1.0], {"units": "1/s", "long_name": "rate"}),
                "decay.y0": ("decay.y0", [1.0, 2.0, 3.0], {"units": "1", "long_name": "y0"}),
                "decay.floor": ("decay.y0", [0.0, 0.1, 0.2], {"units": "1", "long_name": "floor"}),
                "case": ("case", [0, 1], {"units": "1", "long_name": "case"}),
                "grid.n_times": ("case", [4, 4], {"units": "1", "long_name": "times"}),
                "t": ("t", np.linspace(0, 1, 4), {"units": "s", "long_name": "time"})},
        attrs={"engine_kind": "toy_decay"})


def test_file_names_are_cf_names_with_the_spec_path_and_the_spec_view_inverts_them():
    engine_view = _engine_view()
    file_view = to_file_names(engine_view)
    assert file_view["y"].dims == ("decay_rate", "decay_y0", "case", "t")
    assert {n: file_view[n].attrs.get(SPEC_PATH_ATTR) for n in file_view.coords} == {
        "decay_rate": "decay.rate", "decay_y0": "decay.y0", "decay_floor": "decay.floor", "case": None,
        "grid_n_times": "grid.n_times", "t": None}
    assert float(file_view["y"].sel(decay_rate=1.0, decay_y0=2.0, case=1, t=0.0)) == 1 * 24 + 1 * 8 + 4
    xr.testing.assert_identical(spec_view(file_view), engine_view)
    xr.testing.assert_identical(spec_view(engine_view), engine_view)  # a file written before the rename


DEPTH_SWEEP = ("kind: deep_linear\nname: dl\nmodel: {dim: 2}\noptimizer: {max_steps: 300}\n"
               "sweep:\n  grid:\n    model.depth: [2, 4]\n")


def test_show_and_plot_read_new_files_and_files_written_before_the_rename(run_spec, cli, tmp_path):
    """deep_linear's analysis finds the depth sweep by its spec key (iterations_vs_depth.png is drawn only
    then): ``engine plot`` draws it from a new file and from an old one with dotted dimension names."""
    result, ds = run_spec(DEPTH_SWEEP)
    assert result.code == 0, result.err
    new = tmp_path / "outputs" / "dl" / "result.nc"
    old = tmp_path / "old" / "result.nc"
    old.parent.mkdir()
    spec_view(ds).to_netcdf(old, engine="netcdf4")
    with xr.open_dataset(old) as written:
        assert "model.depth" in written.dims and SPEC_PATH_ATTR not in written["model.depth"].attrs
    shown = {path: cli("show", str(path)) for path in (new, old)}
    assert all(s.code == 0 for s in shown.values())
    assert any(line.split()[0] == "model_depth" and line.endswith("(spec path model.depth)")
               for line in shown[new].out.splitlines())
    assert any(line.split()[0] == "model.depth" and "spec path" not in line for line in shown[old].out.splitlines())
    for path in (new, old):
        plots = cli("plot", str(path), "--outdir", str(tmp_path / "fig" / path.parent.name))
        assert plots.code == 0, plots.err
        assert sorted(Path(p).name for p in plots.out.split()) == ["iterations_vs_depth.png", "loss_vs_step.png"]
    assert open_result(new)["model_depth"].dtype == np.int32  # int64 narrowed: CF 1.8 has no 64-bit integers


def test_int64_is_stored_as_int32_where_its_values_fit_and_stays_int64_where_not(tmp_path):
    import netCDF4

    from engine.store import write_atomic

    big = 2**40
    ds = xr.Dataset({"fits": ("p", np.array([0, -5, 2**31 - 1])), "too_big": ("p", np.array([0, 1, big])),
                     "fits_masked": ("p", [1.0, np.nan, 3.0], {}), "too_big_masked": ("p", [1.0, np.nan, big], {})},
                    coords={"p": ("p", np.array([10, 20, 30]))})
    for name in ("fits_masked", "too_big_masked"):
        ds[name].encoding = {"dtype": np.dtype(np.int64), "_FillValue": np.iinfo(np.int64).min}
    path = write_atomic(ds, tmp_path / "ints.nc")
    with netCDF4.Dataset(path) as nc:
        stored = {name: (v.dtype, getattr(v, "_FillValue", None)) for name, v in nc.variables.items()}
    assert stored == {"fits": (np.int32, None), "too_big": (np.int64, None), "p": (np.int32, None),
                      "fits_masked": (np.int32, np.iinfo(np.int32).min),
                      "too_big_masked": (np.int64, np.iinfo(np.int64).min)}
    back = open_result(path)
    np.testing.assert_array_equal(back["too_big_masked"].values, [1.0, np.nan, big])
    np.testing.assert_array_equal(back["fits"].values, [0, -5, 2**31 - 1])
