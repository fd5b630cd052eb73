"""Across-run analysis of ``function_learning`` results (:class:`FunctionLearningAnalysis`): error rates,
text report, figures.

Rates are least-squares slopes of log(error) vs log(n) (``data.n`` swept) or log(m)
(``model.width`` swept). With ``seed`` swept, a slope is fitted per seed and the result is
their mean with the standard error of the mean; otherwise it is one fit and the standard
error of its slope.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import attrs_label, legend, log_if_wide, result_title, save_figure, subplots, ticks_at, title
from engine.figures import label as label_of
from engine.kind import Analysis
from engine.report import sweep_points

SEED = "seed"
#: (sweep key, short name, symbol) of the axes a rate is fitted along
AXES = (("data.n", "n", "n"), ("model.width", "m", "m"))
#: Axis labels of the rate keys, and the ends of their figures' file names.
AXIS_NAMES = {"data.n": "training points n", "model.width": "width m"}
FILE_NAMES = {"data.n": "n", "model.width": "width"}
NORMS = ("rkhs_norm", "path_norm", "weighted_path_norm")
#: (error variable, prefix of its rate variables)
ERRORS = (("test_mse", "rate"), ("discretization_error", "discretization_rate"))


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, standard error) of log y = a + b log x over the points with finite y > 0
    (standard error NaN with fewer than 3 points)."""
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2 or np.unique(x[ok]).size < 2:
        return np.nan, np.nan
    lx, ly = np.log(x[ok]), np.log(y[ok])
    b, a = np.polyfit(lx, ly, 1)
    if ok.sum() < 3:
        return float(b), np.nan
    resid = ly - (a + b * lx)
    se = np.sqrt(resid @ resid / (ok.sum() - 2) / np.sum((lx - lx.mean()) ** 2))
    return float(b), float(se)


def _slope_over_seeds(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """y (..., k points) or (seeds, k points): the slope and its standard error (see module doc)."""
    if y.ndim == 1:
        return loglog_slope(x, y)
    slopes = np.array([loglog_slope(x, row)[0] for row in y])
    slopes = slopes[np.isfinite(slopes)]
    if slopes.size == 0:
        return np.nan, np.nan
    se = slopes.std(ddof=1) / np.sqrt(slopes.size) if slopes.size > 1 else np.nan
    return float(slopes.mean()), float(se)


def rates(result: xr.Dataset) -> xr.Dataset | None:
    """``rate_n``, ``rate_m`` (test_mse ~ n^rate, m^rate) and ``discretization_rate_m``, each with
    ``*_stderr``, for every value of the other sweep keys."""
    out = {}
    for key, short, symbol in AXES:
        if key not in result.dims or result.sizes[key] < 2:
            continue
        for error, prefix in ERRORS:
            if error not in result:
                continue
            core = [SEED, key] if SEED in result[error].dims else [key]
            slope, se = xr.apply_ufunc(
                _slope_over_seeds, result[error].astype(float), result[key].astype(float),
                input_core_dims=[core, [key]], output_core_dims=[[], []], vectorize=True)
            name = f"{prefix}_{short}"
            out[name] = slope.assign_attrs(units="1", long_name=f"fitted b in {error} ~ a {symbol}^b")
            out[f"{name}_stderr"] = se.assign_attrs(units="1", long_name=f"standard error of {name}"
                                                    + (" over seeds" if SEED in core else " (regression)"))
    return xr.Dataset(out) if out else None


def _groups(result: xr.Dataset, da: xr.DataArray, exclude: set[str]):
    """(label, slice) for every combination of the dims of ``da`` not in ``exclude``."""
    for sel, label in sweep_points(result, da, exclude):
        yield label, da.isel(sel), sel


def _seed_stats(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    if SEED in da.dims:
        return da.mean(SEED), da.std(SEED)
    return da, xr.zeros_like(da)


def _seed_range(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """(min, max) over seeds (the values themselves without a seed sweep)."""
    return (da.min(SEED), da.max(SEED)) if SEED in da.dims else (da, da)


def report(result: xr.Dataset) -> str:
    """test_mse (mean and spread over seeds) and the model's norm per sweep point, then the rates."""
    if "test_mse" not in result:
        return "no successful run"
    norms = [n for n in NORMS if n in result]
    mse, spread = _seed_stats(result["test_mse"])
    means = {n: _seed_stats(result[n])[0] for n in norms}
    seeds = f" over {result.sizes[SEED]} seeds" if SEED in result.dims else ""
    lines = [f"test_mse (mean +- std{seeds}) and the model's norm:" if seeds else "test_mse and the model's norm:"]
    for label, value, sel in _groups(result, mse, set()):
        text = f"  {label}: {float(value):.3e}" + (f" +- {float(spread.isel(sel)):.1e}" if seeds else "")
        for name in norms:
            norm = float(means[name].isel(sel))
            if np.isfinite(norm):
                text += f", {name} {norm:.4g}"
        lines.append(text)
    for name in result.data_vars:
        if (name.startswith("rate_") or name.startswith("discretization_rate_")) and not name.endswith("_stderr"):
            se = result[f"{name}_stderr"]
            for label, value, sel in _groups(result, result[name], set()):
                lines.append(f"{name} ({label}): {float(value):.3f} +- {float(se.isel(sel)):.3f}")
    return "\n".join(lines)


def _swept_numbers(result: xr.Dataset) -> list[str]:
    """The numeric sweep keys with more than one value, other than the seed and the index of sweep.cases:
    data.n and model.width first."""
    if "test_mse" not in result:
        return []
    dims = [d for d in result["test_mse"].dims if d not in (SEED, "case") and result.sizes[d] > 1 and d in result.coords
            and result[d].dtype.kind in "iuf"]
    return sorted(dims, key=lambda d: [a[0] for a in AXES].index(d) if d in [a[0] for a in AXES] else len(AXES))


def _error_figure(result: xr.Dataset, key: str, outdir: Path) -> Path:
    """test_error_vs_<key>.png: test MSE (and the discretization error) against ``key``, mean and range over
    seeds, a line per other sweep point, the fitted slope in the label and a key^(-1/2) guide."""
    symbol = next((short for k, short, _ in AXES if k == key), None)
    fig, axes = subplots(1, 1, panel=(5.6, 4.2))
    ax = axes[0, 0]
    x = result[key].values.astype(float)
    first = None
    for error, style in (("test_mse", "o-"), ("discretization_error", "s--")):
        if error not in result:
            continue
        mean, (low, high) = _seed_stats(result[error])[0], _seed_range(result[error])
        rate = result.get(f"{'rate' if error == 'test_mse' else 'discretization_rate'}_{symbol}")
        for label, line, sel in _groups(result, mean, {key}):
            b = float(rate.isel({d: i for d, i in sel.items() if d in rate.dims})) if rate is not None else np.nan
            name = ("test MSE" if label == "run" else label) + (f" (slope {b:.2f})" if np.isfinite(b) else "")
            if error != "test_mse":
                name = f"discretization error, {name}"
            yerr = np.abs(np.stack([line.values - low.isel(sel).values, high.isel(sel).values - line.values]))
            ax.errorbar(x, line.values, yerr=yerr, fmt=style, ms=3, capsize=2, label=name)
            finite = np.isfinite(line.values)
            if first is None and symbol is not None and finite.any():
                first = (x[finite][0], float(line.values[finite][0]))
    if first is not None:
        ax.plot(x, first[1] * (x / first[0]) ** -0.5, "k:", label=f"{symbol}^(-1/2) guide")
    if symbol is not None:
        ax.set_xscale("log")                 # a rate is a slope on log-log axes
    else:
        log_if_wide(ax, x, "x")
    if ax.get_xscale() == "log":
        ticks_at(ax.xaxis, x)
    ax.set_yscale("log")
    ax.set_xlabel(attrs_label(result[key], AXIS_NAMES.get(key, key.rpartition(".")[2])))
    ax.set_ylabel(label_of("mean squared error", "1"))
    ax.grid(True, which="both", alpha=0.3)
    spread = f"mean and range over {result.sizes[SEED]} seeds" if SEED in result["test_mse"].dims else "one seed"
    legend(ax, title=spread)
    title(fig, result_title(result, f"test error vs {key}"))
    return save_figure(fig, outdir / f"test_error_vs_{FILE_NAMES.get(key, key.rpartition('.')[2])}.png")


def _errors_by_point(result: xr.Dataset, outdir: Path) -> Path:
    """errors.png: train and test MSE of each sweep point (of the one run) as horizontal bars, mean and range
    over seeds."""
    errors = [e for e in ("train_mse", "test_mse") if e in result]
    points = list(_groups(result, _seed_stats(result["test_mse"])[0], set()))
    names = ["\n".join(textwrap.wrap(label, 40)) for label, _, _ in points]
    lines = max(name.count("\n") + 1 for name in names)
    fig, axes = subplots(1, 1, panel=(8.0, 1.2 + 0.28 * lines * len(points)))
    ax = axes[0, 0]
    pos = np.arange(len(points))
    height = 0.8 / len(errors)
    for k, error in enumerate(errors):
        mean, (low, high) = _seed_stats(result[error])[0], _seed_range(result[error])
        values = np.array([float(mean.isel(sel)) for _, _, sel in points])
        bounds = np.array([[float(low.isel(sel)), float(high.isel(sel))] for _, _, sel in points]).T
        xerr = np.abs(bounds - values) if SEED in result[error].dims else None
        ax.barh(pos + (k - (len(errors) - 1) / 2) * height, values, height, xerr=xerr, capsize=2,
                label=result[error].attrs.get("long_name", error).split(" (")[0].split(" E(")[0])
    ax.set_yticks(pos, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_ylabel("sweep point" if len(points) > 1 else "the run")
    values = np.concatenate([result[e].values.ravel() for e in errors])
    if log_if_wide(ax, values, "x"):             # an interpolant's training error is rounding: 12 decades at most
        ax.set_xlim(left=max(float(np.nanmin(values[values > 0])), float(np.nanmax(values)) * 1e-12) / 2)
    ax.set_xlabel(label_of("mean squared error", "1"))
    ax.grid(True, axis="x", which="both", alpha=0.3)
    legend(ax, title=f"mean and range over {result.sizes[SEED]} seeds" if SEED in result.dims else None,
           loc="upper left", bbox_to_anchor=(1.01, 1.0))
    title(fig, result_title(result, "training and test error"))
    return save_figure(fig, outdir / "errors.png")


def _curves_figure(result: xr.Dataset, outdir: Path) -> Path:
    """loss_curves.png: training (solid) and test (dashed) loss against the step, a colour per sweep point
    (the first seed)."""
    import matplotlib
    from matplotlib.lines import Line2D

    fig, axes = subplots(1, 1, panel=(6.0, 4.2))
    ax = axes[0, 0]
    train, test = result["train_loss"], result["test_loss"]
    if SEED in train.dims:
        train, test = train.isel({SEED: 0}), test.isel({SEED: 0})
    groups = list(_groups(result, train, {"step"}))
    colors = matplotlib.colormaps["tab10" if len(groups) <= 10 else "tab20"]
    for k, (label, line, sel) in enumerate(groups):
        color = colors(k % colors.N)
        ax.plot(result["step"], line, color=color, label=label if len(groups) > 1 else None)
        ax.plot(result["step"], test.isel(sel), color=color, ls="--")
    handles = [Line2D([], [], color="k", label="train"), Line2D([], [], color="k", ls="--", label="test")]
    style_legend = ax.legend(handles=handles, loc="upper right", fontsize=8)
    if len(groups) > 1:
        ax.add_artist(style_legend)
        legend(ax, loc="lower left", ncol=2 if len(groups) > 6 else 1)
    ax.set_yscale("log")
    ax.set_xlabel(label_of("training step", "1"))
    ax.set_ylabel(label_of("loss R", "1"))
    ax.grid(True, which="both", alpha=0.3)
    seed = " (seed 0)" if SEED in result["train_loss"].dims else ""
    title(fig, result_title(result, f"training and test loss{seed}"))
    return save_figure(fig, outdir / "loss_curves.png")


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """test_error_vs_n.png / test_error_vs_width.png (log-log, mean and range over seeds, the n^(-1/2) line)
    when n / width is swept (else against the first other numeric sweep key); errors.png (train and test
    error per point) when no number is swept; loss_curves.png for iterative methods."""
    if "test_mse" not in result:
        return []
    keys = _swept_numbers(result)
    rate_keys = [k for k in keys if k in [a[0] for a in AXES]] or keys[:1]
    paths = [_error_figure(result, key, outdir) for key in rate_keys]
    if not paths:
        paths.append(_errors_by_point(result, outdir))
    if "train_loss" in result and "step" in result.dims:
        paths.append(_curves_figure(result, outdir))
    return paths


class FunctionLearningAnalysis(Analysis):
    """Rates of the test error along the swept n / width, the text report and the figures."""

    def sweep_summary(self, result: xr.Dataset) -> xr.Dataset | None:
        """:func:`rates` along the swept data.n / model.width."""
        return rates(result)

    def report(self, result: xr.Dataset) -> str | None:
        """:func:`report`: test_mse and norms per sweep point, then the rates."""
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        """:func:`plot`: error vs n / width and the loss curves."""
        return plot(result, outdir)
