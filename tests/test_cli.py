"""The other commands: list, new, schema, show, plot, reference; and a kind registered from outside."""

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from engine.registry import known_kinds
from engine.plan import resolve_text

ROOT = Path(__file__).resolve().parent.parent


def test_list_names_every_kind_with_a_summary(cli):
    result = cli("list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert any(line.startswith("deep_linear ") and "arXiv:1911.00645" in line for line in lines)
    assert any(line.startswith("toy_decay ") and "exponential decay" in line for line in lines)


def test_new_template_sweep_example_works_when_uncommented(cli):
    text = cli("new", "deep_linear").out
    text = text.replace("# sweep:", "sweep:").replace("#   grid:", "  grid:").replace("#     model.depth", "    model.depth")
    assert len(resolve_text(text).points) == 3


def test_unknown_kind_on_the_command_line(cli):
    result = cli("new", "deep_lineer")
    assert result.code == 2 and "unknown kind 'deep_lineer'; did you mean 'deep_linear'?" in result.err


def test_spec_reference_is_up_to_date(cli):
    generated = cli("reference").out
    kinds = [k for k in known_kinds() if k != "toy_decay"]  # the test kind is not part of the docs
    on_disk = (ROOT / "docs" / "spec-reference.md").read_text()
    for kind in kinds:
        section = generated.split(f"## `{kind}`")[1].split("\n## ")[0]
        assert section in on_disk, f"docs/spec-reference.md is stale for {kind}: run `make docs`"
    assert "## `toy_decay`" not in on_disk


SWEEP = "kind: toy_decay\nname: shown\nsweep:\n  cases:\n    - {decay.rate: 1.0}\n    - {fail: raise}\n"


def test_show_prints_dimensions_units_provenance_and_failures(cli, write_spec, tmp_path):
    cli("run", write_spec(SWEEP), "--executor", "serial", "--quiet")
    result = cli("show", str(tmp_path / "outputs" / "shown" / "result.nc"))
    assert result.code == 0
    out = result.out
    assert "kind: toy_decay (version 1), status partial" in out
    assert "dimensions: case (2), t (5)" in out
    assert "[1/s]  rate  (spec path decay.rate)" in out  # the sweep coordinate decay_rate: units, name, key
    assert "failed or not run: 1 point(s)" in out   # each listed with its sweep coordinates and reason
    assert "\n  decay.rate=1.0, fail=raise: ValueError: asked to fail (run " in out
    assert "numba" in out and "git" in out


def test_show_missing_file(cli, tmp_path):
    result = cli("show", str(tmp_path / "none.nc"))
    assert result.code == 2 and "no such result file" in result.err


def test_plot_writes_the_standard_figures(cli, write_spec, tmp_path):
    spec = ("kind: deep_linear\nname: fig\noptimizer: {max_steps: 300}\nsweep:\n  grid:\n"
            "    model.depth: [2, 4]\n    init.scheme: [zas, xavier]\n")
    assert cli("run", write_spec(spec), "--executor", "serial", "--quiet").code == 0
    result = cli("plot", str(tmp_path / "outputs" / "fig" / "result.nc"))
    paths = [Path(p) for p in result.out.split()]
    assert [p.name for p in paths] == ["loss_vs_step.png", "iterations_vs_depth.png"]
    for path in paths:
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300
        assert image[..., :3].std() > 0.05  # something was drawn


def test_kind_from_another_package_runs_through_the_real_cli(engine_cmd, tmp_path):
    (tmp_path / "toy.yaml").write_text("kind: toy_decay\ndecay: {rate: 2.0}\n")
    listed = engine_cmd("list")
    assert "toy_decay" in listed.out
    result = engine_cmd("run", "toy.yaml")
    assert result.code == 0, result.err
    assert "results in outputs/toy/" in result.out
    import xarray as xr

    with xr.open_dataset(tmp_path / "outputs" / "toy" / "result.nc", engine="netcdf4") as ds:
        np.testing.assert_allclose(ds["y"].values, np.exp(-2.0 * np.linspace(0, 1, 5)), rtol=1e-14)


@pytest.mark.parametrize("kind", [k for k in known_kinds() if k != "toy_decay"])
def test_schema_files_referenced_by_the_example_specs_are_up_to_date(cli, kind):
    on_disk = json.loads((ROOT / "docs" / "schema" / f"{kind}.schema.json").read_text())
    assert on_disk == json.loads(cli("schema", kind).out), "run `make docs`"


def test_engine_run_starts_the_workers_forkserver_only_when_local_workers_are_likely(monkeypatch):
    import argparse

    from engine import cli as engine_cli
    from engine import forkserver

    started = []
    monkeypatch.setattr(forkserver, "available", lambda: True)
    # the server's preload, which looks the kind's module up
    monkeypatch.setattr(forkserver, "start", lambda kind=None: started.append(forkserver.kind_module(kind)))
    sweep = resolve_text("kind: toy_decay\nname: s\nsweep:\n  grid:\n    decay.rate: [1, 2]\n")
    single = resolve_text("kind: toy_decay\nname: one\n")
    one_point = resolve_text("kind: toy_decay\nname: t\nsweep:\n  grid:\n    decay.rate: [2]\n")
    cases = [  # (spec, executor, scheduler, module preloaded)
        (sweep, None, None, "toykind"), (sweep, "local", None, "toykind"), (sweep, "dask", None, "toykind"),
        (single, "local", None, "toykind"), (single, None, None, None), (one_point, None, None, None),
        (sweep, "serial", None, None), (sweep, "dask", "tcp://127.0.0.1:1", None),
    ]
    for resolved, executor, scheduler, module in cases:
        started.clear()
        engine_cli._start_forkserver(argparse.Namespace(executor=executor, scheduler=scheduler), resolved)
        assert started == ([module] if module else []), (resolved.spec.name, executor, scheduler)


def test_run_with_plot_writes_the_figures_engine_plot_writes(cli, write_spec, tmp_path):
    spec = write_spec("kind: deep_linear\noptimizer: {max_steps: 300}\n", name="drawn")
    folder = tmp_path / "outputs" / "drawn"
    assert cli("run", spec, "--executor", "serial", "--quiet").code == 0
    assert not (folder / "figures").exists(), "no figures without --plot"
    result = cli("run", spec, "--executor", "serial", "--quiet", "--plot")
    paths = [Path(line) for line in result.out.splitlines() if line.endswith(".png")]
    assert result.code == 0 and paths == [folder / "figures" / "loss_vs_step.png"], result.out
    image = matplotlib.image.imread(paths[0])
    assert image.shape[0] > 200 and image.shape[1] > 300 and image[..., :3].std() > 0.05
    drawn = paths[0].read_bytes()
    assert [Path(p) for p in cli("plot", str(folder / "result.nc")).out.split()] == paths
    assert paths[0].read_bytes() == drawn, "engine run --plot draws what engine plot draws"
