"""Across-run analysis of ``deep_linear`` results: depth exponent (the sweep summary), text report, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import hide_unused, legend, result_title, save_figure, subplots, ticks_at, title
from engine.figures import label as label_of
from engine.kind import Analysis
from engine.report import pivot_table, point_label, sweep_points

DEPTH = "model.depth"
ITERS = "iterations_to_tol"


def _sweep_dims(result: xr.Dataset) -> list[str]:
    return [d for d in result[ITERS].dims]


def _fit_exponent(iters: np.ndarray, depth: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(iters) & (iters > 0)
    if ok.sum() < 2 or len(np.unique(depth[ok])) < 2:
        return np.nan, int(ok.sum())
    slope = np.polyfit(np.log(depth[ok]), np.log(iters[ok]), 1)[0]
    return float(slope), int(ok.sum())


def depth_exponent(result: xr.Dataset) -> xr.Dataset | None:
    """``depth_exponent`` b of iterations_to_tol ~ a depth^b per value of the other sweep keys."""
    if DEPTH not in result.dims or result.sizes[DEPTH] < 2 or ITERS not in result:
        return None
    iters = result[ITERS].astype(float)
    slope, count = xr.apply_ufunc(
        _fit_exponent, iters, result[DEPTH].astype(float),
        input_core_dims=[[DEPTH], [DEPTH]], output_core_dims=[[], []], vectorize=True,
    )
    return xr.Dataset({
        "depth_exponent": slope.assign_attrs(units="1", long_name="fitted b in iterations_to_tol ~ a depth^b "
                                             "(converged runs only)"),
        "depth_exponent_runs": count.astype(np.int64).assign_attrs(units="1", long_name="converged runs in the fit"),
    })


def _iters_cell(iters: float, loss: float) -> str:
    if not np.isfinite(iters):
        return "failed"
    return f"{int(iters)}" if iters >= 0 else f">max (loss {loss:.2g})"


def report(result: xr.Dataset) -> str:
    """Steps to tol as a table (depth x other key when there are two sweep keys), and the exponents."""
    if ITERS not in result:
        return "no successful run"
    dims = _sweep_dims(result)
    iters, loss = result[ITERS].astype(float), result["final_loss"]
    lines = ["steps to reach tol (max_steps from the spec; '>max' = not reached):"]
    if len(dims) == 2 and DEPTH in dims:
        other = next(d for d in dims if d != DEPTH)
        lines.append(pivot_table(iters, loss, DEPTH, other, _iters_cell))
    else:
        for idx in np.ndindex(*iters.shape):
            label = point_label(result, dict(zip(dims, idx))) or "run"
            lines.append(f"  {label}: {_iters_cell(iters.values[idx], loss.values[idx])}")
    if "depth_exponent" in result:
        exp = result["depth_exponent"]
        if exp.dims:
            for idx in np.ndindex(*exp.shape):
                label = point_label(result, dict(zip(exp.dims, idx)))
                lines.append(f"depth exponent ({label}): {exp.values[idx]:.3g}")
        else:
            lines.append(f"depth exponent: {float(exp):.3g}")
    return "\n".join(lines)


def _final_step(result: xr.Dataset, sel: dict) -> float:
    """The step of ``final_loss`` at a sweep point: ``steps_done`` (or, in results written before it existed,
    iterations_to_tol of a converged run); NaN when unknown."""
    if "steps_done" in result:
        return float(result["steps_done"].isel(sel))
    iters = float(result[ITERS].isel(sel))
    return iters if np.isfinite(iters) and iters >= 0 else np.nan


def _loss_curve(result: xr.Dataset, sel: dict) -> tuple[np.ndarray, np.ndarray]:
    """(steps, loss) of one sweep point: the recorded loss every output.every steps, then the final loss at
    the step where the run stopped (converged or max_steps), which the record misses when that step is not
    a multiple of output.every."""
    step, loss = result["step"].values.astype(float), result["loss"].isel(sel).values
    keep = np.isfinite(loss)
    step, loss = step[keep], loss[keep]
    last, final = _final_step(result, sel), float(result["final_loss"].isel(sel))
    if np.isfinite(last) and np.isfinite(final) and (step.size == 0 or last > step[-1]):
        step, loss = np.append(step, last), np.append(loss, final)
    return step, loss


def _loss_figure(result: xr.Dataset, outdir: Path) -> Path:
    """loss_vs_step.png: a panel per depth, a line per other sweep point, the threshold R* + tol dotted."""
    depths = list(result[DEPTH].values) if DEPTH in result.dims else [None]
    cols = min(len(depths), 3)
    rows = -(-len(depths) // cols)
    fig, axes = subplots(rows, cols, panel=(4.2, 3.3), sharey=True)
    others = [d for d in result[ITERS].dims if d != DEPTH]
    for ax, (k, depth) in zip(axes.flat, enumerate(depths)):
        here = {DEPTH: k} if depth is not None else {}
        points = list(sweep_points(result, result[ITERS].isel(here), {DEPTH}))
        for n, (sel, label) in enumerate(points):
            step, loss = _loss_curve(result, {**here, **sel})
            status = "" if step.size else " (failed)"
            ax.plot(step, loss, color=f"C{n % 10}", label=(label if others else "training loss") + status)
        threshold = (result["loss_floor"] + result["tol_effective"]).isel(here).values
        if np.isfinite(threshold).any():
            ax.axhline(float(np.nanmax(threshold)), color="k", ls=":", lw=1, label="R* + tol (stop)")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
        ax.set_yscale("log")
        ax.set_title(f"depth L = {depth}" if depth is not None else "training loss", fontsize=9)
        ax.set_xlabel(label_of("GD step", "1"))
        ax.grid(True, which="both", alpha=0.3)
    hide_unused(axes.flat, len(depths))
    for row in axes:
        row[0].set_ylabel(label_of("training loss R", result["loss"].attrs.get("units", "1")))
    legend(axes.flat[0], title=", ".join(o.rpartition(".")[2] for o in others) or None)
    title(fig, result_title(result, "loss vs gradient-descent step (last point: where the run stopped)"))
    return save_figure(fig, outdir / "loss_vs_step.png")


def _iterations_figure(result: xr.Dataset, outdir: Path) -> Path:
    """iterations_vs_depth.png: steps to tol against depth (log-log), a line per other sweep point, with the
    fitted exponent b of steps ~ a L^b in its label."""
    fig, axes = subplots(1, 1, panel=(5.2, 3.9))
    ax = axes[0, 0]
    iters = result[ITERS].astype(float).where(lambda x: x > 0)
    exponent = result.get("depth_exponent")
    for sel, label in sweep_points(result, iters, {DEPTH}):
        b = float(exponent.isel({d: i for d, i in sel.items() if d in exponent.dims})) if exponent is not None \
            else np.nan
        name = label if label != "run" else "steps to tol"
        ax.plot(result[DEPTH].values, iters.isel(sel).values, "o-",
                label=f"{name}: b = {b:.2f}" if np.isfinite(b) else f"{name}: no fit")
    ax.set_xscale("log")
    ticks_at(ax.xaxis, result[DEPTH].values)
    if np.isfinite(iters.values).any():
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no run reached tol", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(label_of("depth L", "1"))
    ax.set_ylabel(label_of("GD steps to reach tol", "1"))
    ax.set_title("missing point: not converged within max_steps", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    legend(ax, title="b: fitted exponent in steps ~ a L^b")
    title(fig, result_title(result, "steps to tolerance vs depth"))
    return save_figure(fig, outdir / "iterations_vs_depth.png")


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """loss_vs_step.png (log y, a panel per depth, a line per other sweep point) and
    iterations_vs_depth.png (log-log, when depth is swept)."""
    if "loss" not in result:
        return []
    paths = [_loss_figure(result, outdir)]
    if DEPTH in result.dims and result.sizes[DEPTH] > 1:
        paths.append(_iterations_figure(result, outdir))
    return paths


class DeepLinearAnalysis(Analysis):
    """Depth exponent over a depth sweep, steps-to-tol report, loss and iteration figures."""

    def sweep_summary(self, result: xr.Dataset) -> xr.Dataset | None:
        return depth_exponent(result)

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
