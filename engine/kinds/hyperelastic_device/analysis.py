"""Kind ``hyperelastic_device``: report and standard figures (snapshots with the outline, metric bars).

A sweep whose runs have different grids keeps the fields in the per-run files (runs/<run_id>.nc
beside result.nc); the figures read them from there.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import (attrs_label, hide_unused, image_colorbar, legend, log_if_wide, result_title,
                            save_figure, subplots, title, value_text)
from engine.figures import label as label_of
from engine.kind import Analysis
from engine.report import sweep_points

METRICS = ("reflection_peak", "reflected_energy", "output_error")
LENS = (("virtual_source_shift", "virtual_source_shift_predicted"), ("focal_distance", "focal_distance_thin_lens"))
PANELS = (("w", "device", "x", "y"), ("w_bare", "bare", "x", "y"), ("w_homogeneous", "homogeneous", "x_ref", "y_ref"))


def _points(result: xr.Dataset):
    """(selection, label) of every sweep point."""
    return sweep_points(result, result["dt"])


def _fields(result: xr.Dataset, sel: dict) -> xr.Dataset | None:
    """The point's dataset with its fields: from result.nc, or from its per-run file; None for a point whose
    run failed or did not run."""
    if "run_status" in result and str(result["run_status"].isel(sel).values) != "ok":
        return None
    if "w" in result:
        return result.isel(sel)
    source = result.encoding.get("source")
    if not source or "run_id" not in result:
        return None
    path = Path(source).parent / "runs" / f"{str(result['run_id'].isel(sel).values)}.nc"
    return xr.open_dataset(path) if path.exists() else None


def _finite(ds: xr.Dataset, name: str) -> bool:
    return name in ds and bool(np.isfinite(float(ds[name])))


def _snapshots(rows: list, outdir: Path) -> Path:
    """snapshots.png: w at the final time, a row per sweep point (device / bare / homogeneous), one symmetric
    colour scale and colorbar per row, the device outline in black."""
    from matplotlib.colors import Normalize

    ncol = max(sum(p[0] in ds for p in PANELS) for ds, _ in rows)
    fig, axes = subplots(len(rows), ncol, panel=(4.0, 3.8))
    for row, (ds, label) in zip(axes, rows):
        scale = float(np.abs(ds["w"].isel(t=-1)).max()) or 1.0
        panels = [p for p in PANELS if p[0] in ds]
        mesh, norm = None, Normalize(-scale, scale)      # one norm: the row's colorbar holds for every panel
        for ax, (name, what, xn, yn) in zip(row, panels):
            mesh = ax.pcolormesh(ds[xn], ds[yn], ds[name].isel(t=-1).T, cmap="RdBu_r", norm=norm, shading="auto")
            if name != "w_homogeneous":
                ax.plot(ds["outline_x"], ds["outline_y"], "k-", lw=0.8)
            ax.set_xlim(float(ds[xn][0]), float(ds[xn][-1]))
            ax.set_ylim(float(ds[yn][0]), float(ds[yn][-1]))
            ax.set_aspect("equal")
            head = "" if label == "run" else "\n".join(textwrap.wrap(label, 36)) + "\n"
            ax.set_title(f"{head}{what} run", fontsize=9)
            ax.set_xlabel(label_of("x", ds[xn].attrs.get("units", "m")))
            ax.set_ylabel(label_of("y", ds[yn].attrs.get("units", "m")))
        hide_unused(row, len(panels))
        image_colorbar(fig, mesh, list(row[: len(panels)]),
                       label_of("antiplane displacement w", ds["w"].attrs.get("units", "m")))
    t_end = float(rows[0][0]["t"][-1])
    title(fig, result_title(rows[0][0], f"displacement w at t = {value_text(t_end, 's')} (black: device outline)"))
    return save_figure(fig, outdir / "snapshots.png")


def _metric_lines(result: xr.Dataset, names: list[str], key: str, outdir: Path) -> Path:
    """metrics.png of a sweep over one number: each metric against it, device (solid) and bare (dashed)."""
    fig, axes = subplots(1, len(names), panel=(3.8, 3.3))
    x = result[key].values
    for ax, m in zip(axes[0], names):
        ax.plot(x, result[m].values, "o-", label="device")
        if m + "_bare" in result:
            ax.plot(x, result[m + "_bare"].values, "s--", color="0.4", label="bare")
        log_if_wide(ax, np.concatenate([result[n].values for n in (m, m + "_bare") if n in result]))
        ax.set_xlabel(attrs_label(result[key], key.rpartition(".")[2]))
        ax.set_ylabel(attrs_label(result[m], m.replace("_", " ")))
        ax.set_title(m.replace("_", " "), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    legend(axes[0, 0])
    title(fig, result_title(result, "device against the bare body (lower is better)"))
    return save_figure(fig, outdir / "metrics.png")


def _metric_bars(result: xr.Dataset, names: list[str], outdir: Path) -> Path:
    """metrics.png: the metrics of the device next to the bare run as bars, a panel per sweep point."""
    points = list(_points(result))
    fig, axes = subplots(1, len(points), panel=(4.6, 3.6), sharey=True)
    for ax, (sel, label) in zip(axes[0], points):
        ds = result.isel(sel)
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, [float(ds[m]) for m in names], 0.4, label="device")
        if all(m + "_bare" in ds for m in names):
            ax.bar(pos + 0.2, [float(ds[m + "_bare"]) for m in names], 0.4, label="bare", color="0.6")
        ax.set_xticks(pos, [m.replace("_", "\n") for m in names], fontsize=8)
        ax.set_xlabel("metric")
        ax.set_title("\n".join(textwrap.wrap(label, 40)) if label != "run" else "the run", fontsize=8)
        if not np.isfinite([float(ds[m]) for m in names]).any():
            ax.text(0.5, 0.5, "run failed", ha="center", va="center", transform=ax.transAxes)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    log_if_wide(axes[0, 0], [result[m].values for m in names])
    axes[0, 0].set_ylabel(label_of("metric value", "1"))
    legend(axes[0, 0])
    title(fig, result_title(result, "device against the bare body (lower is better)"))
    return save_figure(fig, outdir / "metrics.png")


def _metrics(result: xr.Dataset, outdir: Path) -> Path | None:
    """metrics.png: lines against the swept number when one number is swept, bars per point otherwise."""
    names = [m for m in METRICS if m in result]
    if not names:
        return None
    dims = list(result["dt"].dims)
    if len(dims) == 1 and result.sizes[dims[0]] > 1 and dims[0] in result.coords and \
            result[dims[0]].dtype.kind in "iuf":
        return _metric_lines(result, names, dims[0], outdir)
    return _metric_bars(result, names, outdir)


class HyperelasticDeviceAnalysis(Analysis):
    """Report and standard figures of ``hyperelastic_device`` results."""

    def report(self, result: xr.Dataset) -> str:
        """Per sweep point: h [m], dt [s], points per wavelength, each metric of the device next to the bare
        run, the scattered-norm ratio, and the lens's measured and predicted distances [m]."""
        if "dt" not in result:
            return "no successful run"
        lines = []
        for sel, label in _points(result):
            ds = result.isel(sel)
            lines.append(f"{label}: h = {float(ds['h']):.4g} m, dt = {float(ds['dt']):.4g} s, "
                         f"{float(ds['points_per_wavelength']):.3g} points per shortest wavelength")
            for m in METRICS:
                if _finite(ds, m):
                    bare = f", bare {float(ds[m + '_bare']):.4g}" if _finite(ds, m + "_bare") else ""
                    lines.append(f"  {m}: device {float(ds[m]):.4g}{bare}")
            if _finite(ds, "scattered_norm_ratio"):
                lines.append(f"  scattered-field norm device / bare: {float(ds['scattered_norm_ratio']):.4g}")
            for got, want in LENS:
                if _finite(ds, got):
                    lines.append(f"  {got}: {float(ds[got]):.4g} m (predicted {float(ds[want]):.4g} m)")
        return "\n".join(lines)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        """snapshots.png: w at the final time, device / bare / homogeneous (one row per sweep point), with the
        device outline; metrics.png: the metrics of the device next to the bare run."""
        if "dt" not in result:
            return []
        rows = [(ds, label) for sel, label in _points(result) if (ds := _fields(result, sel)) is not None]
        paths = [_snapshots(rows, outdir)] if rows else []
        metrics = _metrics(result, outdir)
        return paths + ([metrics] if metrics is not None else [])
