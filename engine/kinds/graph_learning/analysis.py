"""Report and figures of ``graph_learning`` results (:class:`GraphLearningAnalysis`); those of the
``batched_regression`` and ``learned_springs`` tasks in :mod:`.task_analysis`.

The score of a method is its ``accuracy`` on the karate club and its ``overlap`` on an sbm; with ``seed``
swept, the report and the figures show the mean over seeds (and its standard error in the figures).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import attrs_label, legend, result_title, save_figure, subplots, sweep_key_label, title
from engine.kind import Analysis
from engine.report import point_label, sweep_points

from . import task_analysis

SEED = "seed"
DIFFERENCE = "graph.c_difference"


def score_name(result: xr.Dataset) -> str:
    """``overlap`` for an sbm result (c_in - c_out finite), else ``accuracy``."""
    finite = np.isfinite(result["c_difference"].values) if "c_difference" in result else np.array([False])
    return "overlap" if finite.any() else "accuracy"


def _mean_over_seeds(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray | None]:
    """(mean, standard error of the mean) over the ``seed`` dim (None without one)."""
    if SEED not in da.dims:
        return da, None
    count = da.notnull().sum(SEED)
    return da.mean(SEED), da.std(SEED, ddof=1) / np.sqrt(count.where(count > 1))


class GraphLearningAnalysis(Analysis):
    def report(self, result: xr.Dataset) -> str | None:
        if "r_squared" in result:
            return task_analysis.regression_report(result)
        if "position_error" in result:
            return task_analysis.springs_report(result)
        if "accuracy" not in result or "method" not in result.dims:
            return None
        name = score_name(result)
        mean, _ = _mean_over_seeds(result[name])
        others = [d for d in mean.dims if d != "method"]
        seeds = f" (mean over {result.sizes[SEED]} seeds)" if SEED in result.dims else ""
        lines = [f"{name} on the unlabelled nodes{seeds}:"]
        for idx in np.ndindex(*(mean.sizes[d] for d in others)):
            point = mean.isel(dict(zip(others, idx)))
            where = point_label(result, dict(zip(others, idx)))
            values = "  ".join(f"{m}={v:.3f}" for m, v in zip(point["method"].values, point.values))
            lines.append(f"  {where + ': ' if where else ''}{values}")
        return "\n".join(lines)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        if "r_squared" in result:
            return [task_analysis.regression_figure(result, outdir)]
        if "position_error" in result:
            return [task_analysis.springs_figure(result, outdir)]
        if "overlap" not in result or "method" not in result.dims:
            return []
        if DIFFERENCE in result.dims and result.sizes[DIFFERENCE] > 1:
            return [self._transition(result, outdir)]
        return [self._scores(result, outdir)]

    def _transition(self, result: xr.Dataset, outdir: Path) -> Path:
        """Overlap vs c_in - c_out, a curve per method, the Kesten-Stigum threshold 2 sqrt(c) marked; a panel
        per value of the other sweep keys (features, ...)."""
        mean, error = _mean_over_seeds(result["overlap"])
        panels = list(sweep_points(result, mean, exclude=("method", DIFFERENCE), label=point_label))
        fig, axes = subplots(1, len(panels), sharey=True)
        x = result[DIFFERENCE].values
        threshold = np.nanmean(result["ks_threshold"].values)
        for ax, (selection, where) in zip(axes[0], panels):
            for method in mean["method"].values:
                y = mean.isel(selection).sel({"method": method}).values
                e = None if error is None else np.nan_to_num(error.isel(selection).sel({"method": method}).values)
                ax.errorbar(x, y, yerr=e, marker="o", ms=3, capsize=2, label=str(method))
            if np.isfinite(threshold):
                ax.axvline(threshold, color="k", ls="--", lw=1, label=f"2 sqrt(c) = {threshold:.3g}")
            ax.axhline(0.5, color="0.6", ls=":", lw=1, label="chance")
            ax.set_xlabel(sweep_key_label(DIFFERENCE, "1"))
            ax.set_title(where if len(panels) > 1 else "", fontsize=9)
        axes[0, 0].set_ylabel(attrs_label(result["overlap"], "overlap"))
        legend(axes[0, 0], loc="upper left")
        seeds = f", mean and standard error of {result.sizes[SEED]} seeds" if SEED in result.dims else ""
        title(fig, result_title(result, f"detectability transition{seeds}"))
        return save_figure(fig, outdir / "overlap_transition.png")

    def _scores(self, result: xr.Dataset, outdir: Path) -> Path:
        """A horizontal bar per method: its mean score over the whole result."""
        name = score_name(result)
        da = result[name]
        mean = da.mean([d for d in da.dims if d != "method"])
        fig, axes = subplots()
        ax = axes[0, 0]
        rows = np.arange(mean.sizes["method"])
        ax.barh(rows, mean.values, color="C0")
        ax.set_yticks(rows, [str(m) for m in mean["method"].values])
        ax.invert_yaxis()
        ax.axvline(0.5, color="0.6", ls=":", lw=1, label="chance (two equal blocks)")
        ax.set_xlim(0, 1)
        ax.set_xlabel(attrs_label(da, name))
        ax.set_ylabel("method")
        legend(ax, loc="lower left")
        title(fig, result_title(result, f"{name} per method"))
        return save_figure(fig, outdir / f"{name}_per_method.png")
