"""Report lines and figures of the ``batched_regression`` and ``learned_springs`` results of ``graph_learning``.

With sweep keys (seed, ...), the report gives a line per sweep point, and the figures draw every point: a bar per
point, every point's held-out graphs in the scatter, a curve per point of the rollout errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import attrs_label, legend, result_title, save_figure, subplots, title
from engine.report import point_label, sweep_points


def _points(result: xr.Dataset, da: xr.DataArray, exclude=()) -> list[tuple[dict, str]]:
    """(selection, label) of every sweep point of ``da`` (dims not in ``exclude``)."""
    return list(sweep_points(result, da, exclude=exclude, label=point_label))


def regression_report(result: xr.Dataset) -> str:
    """Held-out R^2 and MSE of the readout and of the mean predictor, a line per sweep point."""
    lines = ["held-out graphs: readout R^2 and MSE against the training mean's"]
    for selection, where in _points(result, result["r_squared"]):
        point = result.isel(selection)
        lines.append(f"  {where}: R^2={float(point['r_squared']):.4f} MSE={float(point['mse']):.4g}  "
                     f"(mean: R^2={float(point['baseline_r_squared']):.4f} MSE={float(point['baseline_mse']):.4g})")
    return "\n".join(lines)


def springs_report(result: xr.Dataset) -> str:
    """One-step error and the last-horizon rollout errors, a line per sweep point."""
    horizon = float(result["rollout_time"].values[-1])
    lines = [f"learned simulator: one-step relative acceleration error; rms position error at t = {horizon:g}"]
    for selection, where in _points(result, result["one_step_error"]):
        point = result.isel(selection)
        lines.append(f"  {where}: one-step={float(point['one_step_error']):.3g} "
                     f"rollout={float(point['position_error'][-1]):.3g} "
                     f"constant-velocity={float(point['baseline_error'][-1]):.3g} "
                     f"energy drift={float(point['energy_drift'][-1]):.2g} "
                     f"(truth {float(point['truth_energy_drift'][-1]):.2g})")
    return "\n".join(lines)


def regression_figure(result: xr.Dataset, outdir: Path) -> Path:
    """Left: held-out R^2 of the readout and of the mean predictor, a bar pair per sweep point. Right: predicted
    against exact targets of the held-out graphs, the diagonal drawn."""
    fig, axes = subplots(1, 2)
    bars, scatter = axes[0]
    points = _points(result, result["r_squared"])
    rows = np.arange(len(points))
    for offset, (name, label) in enumerate((("r_squared", "GIN readout"), ("baseline_r_squared", "training mean"))):
        values = [float(result[name].isel(selection)) for selection, _ in points]
        bars.barh(rows + 0.4 * offset, values, height=0.4, color=f"C{offset}", label=label)
    bars.set_yticks(rows + 0.2, [where for _, where in points])
    bars.invert_yaxis()
    bars.set_ylabel("sweep point")
    bars.set_xlabel(attrs_label(result["r_squared"], "R^2"))
    legend(bars, loc="lower right")
    for selection, where in _points(result, result["predicted"], exclude=("graph",)):
        point = result.isel(selection)
        scatter.scatter(point["target"], point["predicted"], s=6, alpha=0.6, label=where)
    low, high = float(result["target"].min()), float(result["target"].max())
    scatter.plot([low, high], [low, high], color="k", lw=1, ls="--", label="exact")
    scatter.set_xlabel(attrs_label(result["target"], "exact"))
    scatter.set_ylabel(attrs_label(result["predicted"], "predicted"))
    legend(scatter, loc="upper left")
    title(fig, result_title(result, "graph-level regression on held-out graphs"))
    return save_figure(fig, outdir / "regression.png")


def springs_figure(result: xr.Dataset, outdir: Path) -> Path:
    """Left: rms position error vs rollout time (log y), learned (solid) and constant velocity (dashed), a colour
    per sweep point. Right: relative energy drift of the learned rollout and of the numba truth."""
    fig, axes = subplots(1, 2)
    errors, drift = axes[0]
    t = result["rollout_time"].values
    for color, (selection, where) in enumerate(_points(result, result["position_error"], exclude=("rollout_time",))):
        point = result.isel(selection)
        suffix = "" if where == "run" else f" ({where})"
        errors.plot(t[1:], point["position_error"].values[1:], color=f"C{color}", label="learned" + suffix)
        errors.plot(t[1:], point["baseline_error"].values[1:], color=f"C{color}", ls="--",
                    label="constant velocity" + suffix)
        drift.plot(t, point["energy_drift"].values, color=f"C{color}", label="learned" + suffix)
        drift.plot(t, point["truth_energy_drift"].values, color=f"C{color}", ls=":", label="numba truth" + suffix)
    errors.set_yscale("log")
    errors.set_xlabel(attrs_label(result["rollout_time"], "time"))
    errors.set_ylabel(attrs_label(result["position_error"], "position error"))
    legend(errors, loc="lower right")
    drift.set_xlabel(attrs_label(result["rollout_time"], "time"))
    drift.set_ylabel(attrs_label(result["energy_drift"], "energy drift"))
    legend(drift, loc="best")
    title(fig, result_title(result, "learned spring-mass simulator: rollout error and energy drift"))
    return save_figure(fig, outdir / "rollout_error.png")
