"""Kind ``hyperelastic_device``: report and standard figures (snapshots with the outline, metric bars).

A sweep whose runs have different grids keeps the fields in the per-run files (runs/<run_id>.nc
beside result.nc); the figures read them from there.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import save_figure
from engine.kind import Analysis
from engine.report import sweep_points

METRICS = ("reflection_peak", "reflected_energy", "output_error")
LENS = (("virtual_source_shift", "virtual_source_shift_predicted"), ("focal_distance", "focal_distance_thin_lens"))
PANELS = (("w", "device", "x", "y"), ("w_bare", "bare", "x", "y"), ("w_homogeneous", "homogeneous", "x_ref", "y_ref"))


def _points(result: xr.Dataset):
    """(selection, label) of every sweep point."""
    return sweep_points(result, result["dt"])


def _fields(result: xr.Dataset, sel: dict) -> xr.Dataset | None:
    """The point's dataset with its fields: from result.nc, or from its per-run file."""
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
    import matplotlib.pyplot as plt

    ncol = max(sum(p[0] in ds for p in PANELS) for ds, _ in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(4.6 * ncol, 4.2 * len(rows)), squeeze=False)
    for row, (ds, label) in zip(axes, rows):
        scale = float(np.abs(ds["w"].isel(t=-1)).max()) or 1.0
        for ax, (name, title, xn, yn) in zip(row, [p for p in PANELS if p[0] in ds]):
            ax.pcolormesh(ds[xn], ds[yn], ds[name].isel(t=-1).T, cmap="RdBu_r", vmin=-scale, vmax=scale,
                          shading="auto")
            if name != "w_homogeneous":
                ax.plot(ds["outline_x"], ds["outline_y"], "k-", lw=0.8)
            ax.set_xlim(float(ds[xn][0]), float(ds[xn][-1]))
            ax.set_ylim(float(ds[yn][0]), float(ds[yn][-1]))
            ax.set_aspect("equal")
            ax.set_title(f"{title}, t = {float(ds['t'][-1]):.3g} s", fontsize=9)
            ax.set_xlabel("x [m]")
        row[0].set_ylabel("\n".join(textwrap.wrap(label, 40)) + "\ny [m]", fontsize=8)
    return save_figure(fig, outdir / "snapshots.png", 100)


def _metric_bars(result: xr.Dataset, outdir: Path) -> Path | None:
    import matplotlib.pyplot as plt

    names = [m for m in METRICS if m in result]
    if not names:
        return None
    points = list(_points(result))
    fig, axes = plt.subplots(1, len(points), figsize=(5 * len(points), 3.5), squeeze=False)
    for ax, (sel, label) in zip(axes[0], points):
        ds = result.isel(sel)
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, [float(ds[m]) for m in names], 0.4, label="device")
        if all(m + "_bare" in ds for m in names):
            ax.bar(pos + 0.2, [float(ds[m + "_bare"]) for m in names], 0.4, label="bare")
        ax.set_xticks(pos, names, fontsize=8)
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title(f"{label}: device vs bare (lower is better)", fontsize=8)
    return save_figure(fig, outdir / "metrics.png", 100)


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
        rows = [(ds, label) for sel, label in _points(result) if (ds := _fields(result, sel)) is not None]
        paths = [_snapshots(rows, outdir)] if rows else []
        bars = _metric_bars(result, outdir)
        return paths + ([bars] if bars is not None else [])
