"""Every kind draws referee-grade figures for every shape of result it can produce.

For each registered kind, its smoke configuration (the ``engine new`` template with the kind's
``smoke_overrides``) is run through ``engine run`` as a single run, as a 1-D sweep over the kind's
template sweep key, as a 2-D sweep (that key x sweep.cases with one empty case: dimensions 2 x 1, no new
run), and as that 1-D sweep with its first point failed; each of its ``smoke_variants`` (its other tasks) as a
single run and as the 1-D sweep.
``kind.analysis.plot`` is called on each result while every matplotlib Figure it saves is captured; each
figure is then checked through matplotlib's objects (the rules of :mod:`engine.figures`).
"""

from __future__ import annotations

import itertools
import json
import re

import matplotlib
import numpy as np
import pytest

from engine.cli import main
from engine.names import spec_view
from engine.registry import get_kind, known_kinds
from engine.spec.introspect import template
from engine.store import open_result
from test_kinds_conformance import variants

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

UNIT = re.compile(r"\[[^\]]+\]")
KINDS = [name for name in known_kinds() if name != "toy_decay"]
SHAPES = ("single", "sweep_1d", "sweep_2d", "some_failed")


def _run(kind, folder, name: str, extra: str, sets: list[str]):
    """``engine run`` of the kind's template (+ ``extra`` YAML) with its smoke overrides; the result, loaded
    as the engine hands it to the kind's analysis (sweep dimensions named by their spec keys)."""
    key, values = kind.template_sweep
    spec = folder / f"{name}.yaml"
    spec.write_text(template(kind.Spec, kind.kind, key, values) + extra)
    args = ["run", str(spec), "--outputs", str(folder), "--executor", "serial", "--quiet", "--set", "name=smoke"]
    for override in [*kind.smoke_overrides, *sets]:
        args += ["--set", override]
    assert main(args) == 0, f"{kind.kind} {name} failed"
    return spec_view(open_result(folder / "smoke" / "result.nc"))


def _fail_first_point(result, dim: str):
    """The result as the store writes it when the run at index 0 of ``dim`` failed: NaN in every float
    variable along ``dim``, run_status 'failed'."""
    failed = result.copy(deep=True)
    for name, var in failed.data_vars.items():
        if dim in var.dims and var.dtype.kind == "f":
            failed[name][{dim: 0}] = np.nan
    failed["run_status"][{dim: 0}] = "failed"
    return failed


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """``results(kind_name, shape, variant='') -> dataset``, each computed once (a kind's sweeps reuse its runs);
    ``variant`` one of the kind's ``smoke_variants``."""
    cache, folders = {}, {}

    def get(name: str, shape: str, variant: str = ""):
        if (name, shape, variant) not in cache:
            kind = get_kind(name)
            key, values = kind.template_sweep
            folder = folders.setdefault(name, tmp_path_factory.mktemp(name))
            one_d = f"sweep:\n  grid:\n    {key}: {json.dumps(values[:2])}\n"
            sets, label = list(kind.smoke_variants.get(variant, ())), f"{shape}_{variant}"
            if shape == "single":
                cache[name, shape, variant] = _run(kind, folder, label, "", [f"{key}={json.dumps(values[0])}", *sets])
            elif shape == "some_failed":
                cache[name, shape, variant] = _fail_first_point(get(name, "sweep_1d", variant), key)
            else:                                   # the 2-D sweep: the same runs x one empty case
                cases = "  cases:\n    - {}\n" if shape == "sweep_2d" else ""
                cache[name, shape, variant] = _run(kind, folder, label, one_d + cases, sets)
        return cache[name, shape, variant]

    return get


def _plot(kind, result, outdir, monkeypatch) -> list[Figure]:
    """Figures that ``kind.analysis.plot`` saves, captured at ``savefig``."""
    figures = []
    savefig = Figure.savefig

    def capture(fig, *args, **kwargs):
        figures.append(fig)
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", capture)
    paths = kind.analysis.plot(result, outdir)
    assert len(paths) == len(figures) and all(p.exists() for p in paths)
    return figures


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _shows_data(ax) -> bool:
    return ax.get_visible() and bool(ax.lines or ax.collections or ax.images or ax.patches)


def _categorical(axis) -> bool:
    """Whether the axis names categories (string data, or text tick labels) rather than a quantity."""
    texts = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    return bool(texts) and not any(re.fullmatch(r"[-\u2212+0-9.eE$^{}\\mathdefault×]+", t) for t in texts)


def _label(ax, which: str) -> str:
    """The label of the x or y axis of ``ax``, or of an axis it shares (shown once on a grid of panels)."""
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    texts = [getattr(a, f"get_{which}label")() for a in [ax, *shared.get_siblings(ax)]]
    return next((t for t in texts if t.strip()), "")


def _overlap(boxes) -> list:
    return [(a, b) for a, b in itertools.combinations(boxes, 2) if a[1].overlaps(b[1])]


def _check(fig: Figure, where: str) -> None:
    """Assert the rules of :mod:`engine.figures` on one drawn figure."""
    canvas = FigureCanvasAgg(fig)          # plot() closed the figure, which left it a bare canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    axes = [ax for ax in fig.axes if not _is_colorbar(ax) and _shows_data(ax)]
    assert axes, f"{where}: draws no data"
    colorbars = [ax for ax in fig.axes if _is_colorbar(ax)]
    for ax in colorbars:
        assert UNIT.search(ax._colorbar.ax.get_ylabel() or ax._colorbar.ax.get_xlabel()), f"{where}: colorbar label"
    shared_norms = [ax._colorbar.mappable.norm for ax in colorbars]     # panels that share one colorbar
    legends = any(ax.get_legend() for ax in fig.axes) or fig.legends or colorbars
    for ax in axes:
        for axis, text in ((ax.xaxis, _label(ax, "x")), (ax.yaxis, _label(ax, "y"))):
            assert text.strip(), f"{where}: an axis without a label (title {ax.get_title()!r})"
            assert _categorical(axis) or UNIT.search(text), f"{where}: no [unit] in the label {text!r}"
        for artist in [*ax.images, *ax.collections]:
            if isinstance(artist, ScalarMappable) and artist.get_array() is not None \
                    and not isinstance(artist, LineCollection):
                assert artist.colorbar is not None or artist.norm in shared_norms, \
                    f"{where}: a colour-mapped {type(artist).__name__} without colorbar"
        curves = [line for line in ax.lines if line.get_label() and not line.get_label().startswith("_")]
        if len(ax.lines) + len(ax.collections) > 1:
            assert legends or len(curves) == 0 and len(ax.lines) <= 1, \
                f"{where}: several curves and neither legend nor colorbar (title {ax.get_title()!r})"
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels(minor=False) + axis.get_ticklabels(minor=True)
                      if t.get_visible() and t.get_text()]
            boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
            assert not _overlap(boxes), f"{where}: tick labels overlap: {[(a[0], b[0]) for a, b in _overlap(boxes)]}"
    titles = [t for t in [fig._suptitle, *(ax.title for ax in fig.axes if ax.get_visible())] if t and t.get_text()]
    assert titles, f"{where}: no title"
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in titles]
    assert not _overlap(boxes), f"{where}: titles overlap: {[(a[0], b[0]) for a, b in _overlap(boxes)]}"
    for text, box in boxes:
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 + 1, f"{where}: title {text!r} cut at the figure's edge"
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_visible() and text.get_text():
            assert text.get_fontsize() >= 6, f"{where}: text {text.get_text()!r} at {text.get_fontsize()} pt"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", KINDS)
def test_every_result_shape_gets_figures_with_labels_units_colorbars_and_titles(name, shape, results, tmp_path,
                                                                                monkeypatch):
    kind = get_kind(name)
    figures = _plot(kind, results(name, shape), tmp_path, monkeypatch)
    assert figures, f"{name}: no figure for a {shape} result"
    for fig in figures:
        _check(fig, f"{name} {shape} {fig.get_suptitle() or fig.axes[0].get_title()!r}")


@pytest.mark.parametrize("shape", ("single", "sweep_1d"))
@pytest.mark.parametrize("name,variant", [pytest.param(name, variant, id=f"{name}-{variant}") for name in KINDS
                                          for variant in variants(name)])
def test_the_other_smoke_configurations_of_a_kind_get_checked_figures_too(name, variant, shape, results, tmp_path,
                                                                          monkeypatch):
    kind = get_kind(name)
    figures = _plot(kind, results(name, shape, variant), tmp_path, monkeypatch)
    assert figures, f"{name} {variant}: no figure for a {shape} result"
    for fig in figures:
        _check(fig, f"{name} {variant} {shape} {fig.get_suptitle() or fig.axes[0].get_title()!r}")


def test_a_converged_deep_linear_curve_ends_at_its_final_step_below_the_tolerance(tmp_path, monkeypatch):
    """ZAS at L = 2 on Phi = -I converges at step 27, between two records of output.every = 10: the run
    records its final step, and the loss curve ends there, on or below the R* + tol line."""
    from engine.kind import RunContext
    from engine.plan import resolve_text

    text = ("kind: deep_linear\nmodel: {dim: 5, depth: 2}\ntarget: {kind: negative_identity}\n"
            "optimizer: {lr: 0.2, lr_rule: scaled, max_steps: 2000, tol: 1e-8}\noutput: {every: 10}\n")
    point = resolve_text(text, "<zas>").points[0]
    kind = get_kind("deep_linear")
    ds = kind.run(point.spec, RunContext(seed=0))
    steps = int(ds["iterations_to_tol"])
    assert int(ds["converged"]) == 1 and steps % 10 != 0, "the case this test is about"
    assert int(ds["steps_done"]) == steps
    figures = _plot(kind, ds, tmp_path, monkeypatch)
    curve = next(line for line in figures[0].axes[0].lines if line.get_label() == "training loss")
    threshold = float(ds["loss_floor"] + ds["tol_effective"])
    assert curve.get_xdata()[-1] == steps and curve.get_ydata()[-1] <= threshold < curve.get_ydata()[-2]


@pytest.mark.parametrize("name", KINDS)
def test_a_sweep_whose_every_run_failed_plots_without_raising(name, tmp_path, monkeypatch):
    """result.nc written by the engine when every point failed holds no fields: plot draws nothing or notes."""
    from engine.plan import resolve_text
    from engine.runtime import RunOutcome
    from engine.sweep import SweepReport, unique_tasks, write_result

    kind = get_kind(name)
    key, values = kind.template_sweep
    text = template(kind.Spec, kind.kind, key, values) + f"sweep:\n  grid:\n    {key}: {json.dumps(values[:2])}\n"
    resolved = resolve_text(text, "<template>", list(kind.smoke_overrides))
    failed = [RunOutcome(t.run_id, False, t.path, 0.0, "ValueError: asked to fail", label=t.label)
              for t in unique_tasks(resolved, tmp_path)]
    result = spec_view(open_result(write_result(resolved, tmp_path, SweepReport(tmp_path, failed))))
    for fig in _plot(kind, result, tmp_path, monkeypatch):
        _check(fig, f"{name} all failed")


def test_function_learning_report_shows_a_spread_only_over_a_swept_seed():
    import xarray as xr

    from engine.kinds.function_learning.analysis import report

    mse = xr.DataArray([[1e-3, 3e-3], [2e-3, 4e-3]], dims=("data.n", "seed"),
                       coords={"data.n": [50, 100], "seed": [0, 1]})
    with_seeds = report(xr.Dataset({"test_mse": mse}))
    assert "n=50: 2.000e-03 +- 1.0e-03" in with_seeds             # population std of 1e-3 and 3e-3
    one_seed = report(xr.Dataset({"test_mse": mse.isel(seed=0, drop=True)}))
    assert "+-" not in one_seed and "n=50: 1.000e-03\n" in one_seed
