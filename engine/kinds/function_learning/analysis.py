"""Across-run analysis of ``function_learning`` results (:class:`FunctionLearningAnalysis`): error rates,
text report, figures.

Rates are least-squares slopes of log(error) vs log(n) (``data.n`` swept) or log(m)
(``model.width`` swept). With ``seed`` swept, a slope is fitted per seed and the result is
their mean with the standard error of the mean; otherwise it is one fit and the standard
error of its slope.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import save_figure
from engine.kind import Analysis
from engine.report import sweep_points

SEED = "seed"
#: (sweep key, short name, symbol) of the axes a rate is fitted along
AXES = (("data.n", "n", "n"), ("model.width", "m", "m"))
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
    lines = [f"test_mse (mean +- std{seeds}) and the model's norm:"]
    for label, value, sel in _groups(result, mse, set()):
        text = f"  {label}: {float(value):.3e} +- {float(spread.isel(sel)):.1e}"
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


def _error_figure(result: xr.Dataset, key: str, symbol: str, outdir: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.4, 4.0))
    x = result[key].values.astype(float)
    first = None
    for error, style in (("test_mse", "o-"), ("discretization_error", "s--")):
        if error not in result:
            continue
        mean, (low, high) = _seed_stats(result[error])[0], _seed_range(result[error])
        rate = result.get(f"{'rate' if error == 'test_mse' else 'discretization_rate'}_{symbol}")
        for label, line, sel in _groups(result, mean, {key}):
            b = float(rate.isel({d: i for d, i in sel.items() if d in rate.dims})) if rate is not None else np.nan
            name = f"{label}" + (f" (slope {b:.2f})" if np.isfinite(b) else "")
            if error != "test_mse":
                name = f"discretization, {name}"
            yerr = np.abs(np.stack([line.values - low.isel(sel).values, high.isel(sel).values - line.values]))
            ax.errorbar(x, line.values, yerr=yerr, fmt=style, ms=3, capsize=2, label=name)
            if first is None and np.isfinite(line.values[0]):
                first = float(line.values[0])
    if first is not None:
        ax.loglog(x, first * (x / x[0]) ** -0.5, "k:", label=f"{symbol}^(-1/2)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{symbol} ({key})")
    ax.set_ylabel("test MSE")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    ax.set_title(f"{result.attrs.get('title', 'function_learning')}", fontsize=8)
    return save_figure(fig, outdir / f"test_error_vs_{'n' if symbol == 'n' else 'width'}.png", dpi=120)


def _curves_figure(result: xr.Dataset, outdir: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    train, test = result["train_loss"], result["test_loss"]
    if SEED in train.dims:
        train, test = train.isel({SEED: 0}), test.isel({SEED: 0})
    groups = list(_groups(result, train, {"step"}))
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for k, (label, line, sel) in enumerate(groups):
        color = colors(k % colors.N)
        ax.plot(result["step"], line, color=color, label=label)
        ax.plot(result["step"], test.isel(sel), color=color, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss R (solid: train, dashed: test)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    return save_figure(fig, outdir / "loss_curves.png", dpi=120)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """test_error_vs_n.png / test_error_vs_width.png (log-log, mean and range over seeds, the
    n^(-1/2) line) when n / width is swept; loss_curves.png for iterative methods."""
    paths = []
    for key, short, symbol in AXES:
        if key in result.dims and result.sizes[key] > 1 and "test_mse" in result:
            paths.append(_error_figure(result, key, short, outdir))
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
