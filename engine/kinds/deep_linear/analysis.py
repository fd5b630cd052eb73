"""Across-run analysis of ``deep_linear`` results: depth exponent (the sweep summary), text report, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

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


def _line_groups(result: xr.Dataset, da: xr.DataArray, exclude: set[str]):
    """(label, 1-D slice) for every combination of the sweep dims of ``da`` not in ``exclude``."""
    for sel, label in sweep_points(result, da, exclude):
        yield label, da.isel(sel)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """loss_vs_step.png (log y, a panel per depth, a line per other sweep point) and
    iterations_vs_depth.png (log-log, when depth is swept)."""
    import matplotlib.pyplot as plt

    paths = []
    depths = list(result[DEPTH].values) if DEPTH in result.dims else [None]
    cols = min(len(depths), 3)
    rows = -(-len(depths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, depth in zip(axes.flat, depths):
        loss = result["loss"] if depth is None else result["loss"].sel({DEPTH: depth})
        for label, line in _line_groups(result, loss, {"step"}):
            ax.plot(result["step"], line, label=label)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_title(f"L = {depth}" if depth is not None else "loss")
        ax.set_xlabel("GD step")
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes.flat[len(depths):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("training loss R")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{result.attrs.get('title', 'deep_linear')}: loss vs step")
    fig.tight_layout()
    paths.append(outdir / "loss_vs_step.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    if DEPTH in result.dims and result.sizes[DEPTH] > 1:
        fig, ax = plt.subplots(figsize=(5, 3.8))
        iters = result[ITERS].astype(float).where(lambda x: x > 0)
        exponent = result.get("depth_exponent")
        for label, line in _line_groups(result, iters, {DEPTH}):
            sel = {d: line[d].values for d in line.coords if d in (exponent.dims if exponent is not None else ())}
            b = float(exponent.sel(sel)) if exponent is not None else np.nan
            ax.loglog(result[DEPTH], line, "o-", label=f"{label} (b = {b:.2f})" if np.isfinite(b) else label)
        ax.set_xlabel("depth L")
        ax.set_ylabel("GD steps to tol")
        ax.set_title("iterations to tol vs depth (missing: not converged)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(outdir / "iterations_vs_depth.png")
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


class DeepLinearAnalysis(Analysis):
    """Depth exponent over a depth sweep, steps-to-tol report, loss and iteration figures."""

    def sweep_summary(self, result: xr.Dataset) -> xr.Dataset | None:
        return depth_exponent(result)

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
