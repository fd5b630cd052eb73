"""Kind ``hyperelastic_device``: report and standard figures (snapshots with the outline, metric bars)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

METRICS = ("reflection_peak", "reflected_energy", "output_error")
LENS = (("virtual_source_shift", "virtual_source_shift_predicted"), ("focal_distance", "focal_distance_thin_lens"))


def _single(result: xr.Dataset) -> xr.Dataset:
    """The first sweep point (figures show one run)."""
    extra = [d for d in result["w"].dims if d not in ("t", "x", "y")]
    return result.isel({d: 0 for d in extra}) if extra else result


def report(result: xr.Dataset) -> str:
    ds = _single(result)
    lines = [f"h = {float(ds['h']):.4g} m, dt = {float(ds['dt']):.4g} s, "
             f"{float(ds['points_per_wavelength']):.3g} points per shortest wavelength"]
    for m in METRICS:
        if m in ds:
            bare = f", bare {float(ds[m + '_bare']):.4g}" if m + "_bare" in ds else ""
            lines.append(f"{m}: device {float(ds[m]):.4g}{bare}")
    if "scattered_norm_ratio" in ds:
        lines.append(f"scattered-field norm device / bare: {float(ds['scattered_norm_ratio']):.4g}")
    for got, want in LENS:
        if got in ds:
            lines.append(f"{got}: {float(ds[got]):.4g} m (predicted {float(ds[want]):.4g} m)")
    return "\n".join(lines)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """snapshots.png: w at the final time, device / bare / homogeneous, with the device outline;
    metrics.png: the metrics of the device next to the bare run."""
    import matplotlib.pyplot as plt

    ds = _single(result)
    panels = [("w", "device", "x", "y"), ("w_bare", "bare", "x", "y"), ("w_homogeneous", "homogeneous", "x_ref", "y_ref")]
    panels = [p for p in panels if p[0] in ds]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    scale = float(np.abs(ds["w"].isel(t=-1)).max()) or 1.0
    for ax, (name, title, xn, yn) in zip(axes[0], panels):
        w = ds[name].isel(t=-1)
        ax.pcolormesh(ds[xn], ds[yn], w.T, cmap="RdBu_r", vmin=-scale, vmax=scale, shading="auto")
        if name != "w_homogeneous":
            ax.plot(ds["outline_x"], ds["outline_y"], "k-", lw=0.8)
        ax.set_xlim(float(ds[xn][0]), float(ds[xn][-1]))
        ax.set_ylim(float(ds[yn][0]), float(ds[yn][-1]))
        ax.set_aspect("equal")
        ax.set_title(f"{title}, t = {float(ds['t'][-1]):.3g} s", fontsize=9)
        ax.set_xlabel("x [m]")
    axes[0][0].set_ylabel("y [m]")
    fig.tight_layout()
    paths = [outdir / "snapshots.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    names = [m for m in METRICS if m in ds]
    if names:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, [float(ds[m]) for m in names], 0.4, label="device")
        if all(m + "_bare" in ds for m in names):
            ax.bar(pos + 0.2, [float(ds[m + "_bare"]) for m in names], 0.4, label="bare")
        ax.set_xticks(pos, names)
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("device metrics (lower is better)", fontsize=9)
        fig.tight_layout()
        paths.append(outdir / "metrics.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
