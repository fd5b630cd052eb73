"""Kind ``moire_exciton``: the one-screen report and the standard figures (no whole-sweep summary).

Figures: ``msd.png`` (msd(t), a panel per twist, a line per other sweep point), ``msd_by_density.png``
(a panel per peak density, a line per twist), ``diffusion_length.png``
(L_msd against the peak density, a line per twist), ``populations.png`` (populations over time),
``linecuts.png`` (line cuts of the first successful point, coloured by time), ``d_eff.png``
(points of method cell: D_eff/D against the first sweep key).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import (attrs_label, has_data, legend, log_if_wide, result_title, save_figure, sequential_colors,
                            subplots, title)
from engine.figures import label as label_of
from engine.kind import Analysis
from engine.report import sweep_points

TWIST, DENSITY = "twist_deg", "initial.peak_density_cm2"


def report(result: xr.Dataset) -> str:
    """Per sweep point: D_eff (cell) or the exponent, diffusion lengths and the final population."""
    if "moire_period" not in result:
        return "no successful run"
    lines = [f"moire period {float(result['moire_period'].min()):.3g}-{float(result['moire_period'].max()):.3g} nm"]
    if "D_eff" in result:
        lines.append("D_eff / D per species (cell problem):")
        for sel, label in sweep_points(result, result["D_eff_ratio"], {"species"}):
            vals = result["D_eff_ratio"].isel(sel).values
            if np.all(np.isnan(vals)):
                continue
            lines.append(f"  {label}: " + ", ".join(f"{s}: {float(v):.5g}" for s, v in
                                                     zip(result["species"].values, vals)))
    if "D_late" in result:
        lines.append("resolved run: D_late [cm^2/s] (cell problem on the same grid):")
        for sel, label in sweep_points(result, result["D_late"], set()):
            if np.isfinite(float(result["D_late"].isel(sel))):
                lines.append(f"  {label}: {float(result['D_late'].isel(sel)):.5g} "
                             f"({float(result['D_cell_grid'].isel(sel)):.5g})")
    if "alpha" not in result:
        return "\n".join(lines)
    unit = result["L_msd"].attrs.get("units", "")
    lines.append(f"point: alpha, L_msd [{unit}], L_Dtau [{unit}], final/initial population")
    for sel, label in sweep_points(result, result["alpha"], set()):
        sub = result.isel(sel)
        if not np.isfinite(float(sub["alpha"])) and "D_late" in result:
            continue
        pop = sub["population_total"].values
        frac = pop[-1] / pop[0] if pop[0] > 0 else np.nan
        lines.append(f"  {label}: {float(sub['alpha']):.3f}, {float(sub['L_msd']):.4g}, "
                     f"{float(sub['L_Dtau']):.4g}, {frac:.3g}")
    return "\n".join(lines)


def _curve_label(label: str, default: str) -> str:
    return default if label == "run" else label


def _msd_figure(result: xr.Dataset, panel_dim: str, name: str, outdir: Path) -> Path:
    """msd(t) with a panel per value of ``panel_dim`` (one panel if it is not a dim), a line per other point."""
    panels = ([(f"{panel_dim.rpartition('.')[2]} = {v:g}", {panel_dim: i})
               for i, v in enumerate(result[panel_dim].values)] if panel_dim in result.dims else [("", {})])
    fig, axes = subplots(1, len(panels), panel=(3.8, 3.4), sharey=True)
    for ax, (head, sel0) in zip(axes[0], panels):
        sub = result.isel(sel0)
        for sel, label in sweep_points(sub, sub["msd"], {"t"}):
            if has_data(sub["msd"].isel(sel)):       # points of method cell or failed runs have no msd
                ax.plot(sub["t"], sub["msd"].isel(sel), "-", lw=1.2, label=_curve_label(label, "Gaussian-fit msd"))
        ax.set_xlabel(attrs_label(result["t"], "t"))
        if head:
            ax.set_title(head, fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel(label_of("msd = σ²(t) − σ²(0)", result["msd"].attrs.get("units", "1")))
    legend(axes[0, -1])
    title(fig, result_title(result, "mean squared displacement after the pump"))
    return save_figure(fig, outdir / name)


def _populations_figure(result: xr.Dataset, outdir: Path) -> Path:
    """populations.png: N/N_total(0) over time, a panel per species and one for the total when there are
    several species; colour by twist, line style by peak density (solid: lowest), a line per sweep point."""
    pop = result["population"]
    species = list(result["species"].values)
    panels = species + ["total"] if len(species) > 1 else ["total"]
    fig, axes = subplots(1, len(panels), panel=(3.8, 3.4), sharey=True)
    styles = ["-", "--", "-.", ":"]
    labelled = set()
    for sel, label in sweep_points(result, pop, {"t", "species"}):
        p = pop.isel(sel)
        if not has_data(p):
            continue
        n0 = float(p.isel(t=0).sum())
        colour = f"C{sel.get(TWIST, 0) % 10}"
        style = styles[sel.get(DENSITY, 0) % len(styles)]
        key = f"twist {float(result[TWIST][sel[TWIST]]):g}°" if TWIST in sel else _curve_label(label, "population")
        lab = None if key in labelled else key
        labelled.add(key)
        curves = [p.sel(species=s) for s in species] if len(species) > 1 else []
        for ax, curve in zip(axes[0], [*curves, p.sum("species")]):
            ax.plot(result["t"], curve / n0, style, color=colour, lw=1, label=lab)
    for ax, head in zip(axes[0], panels):
        ax.set_title(head + (" (line style: density, solid lowest)" if DENSITY in result.dims else ""), fontsize=8)
        ax.set_xlabel(attrs_label(result["t"], "t"))
        ax.grid(True, which="both", alpha=0.3)
    log_if_wide(axes[0, 0], (pop.sum("species") / pop.isel(t=0).sum("species")).values)
    axes[0, 0].set_ylabel(label_of("population N(t) / N(0)", "1"))
    if len(labelled) <= 12:
        legend(axes[0, 0])
    title(fig, result_title(result, "exciton populations after the pump"))
    return save_figure(fig, outdir / "populations.png")


def _linecuts_figure(result: xr.Dataset, outdir: Path) -> Path:
    """linecuts.png: the density along y = 0 of the first successful sweep point, a curve per saved time
    coloured by time (colorbar); log density when it spans decades."""
    fig, axes = subplots(1, 1, panel=(5.4, 3.8))
    ax = axes[0, 0]
    lc_all = result["linecut"]
    points = list(sweep_points(result, lc_all, {"t", "x"}))
    sel, label = next(((s, lab) for s, lab in points if np.isfinite(lc_all.isel(s).values).any()), points[0])
    lc = lc_all.isel(sel)
    times = result["t"].values
    colours = sequential_colors(fig, ax, times, attrs_label(result["t"], "time after the pump"))
    for k, colour in enumerate(colours):
        ax.plot(result["x"], lc.isel(t=k), lw=0.9, color=colour)
    if log_if_wide(ax, lc.values):                # down to a tenth of the latest cut's peak (8 decades at most)
        peaks = np.nanmax(lc.values, axis=lc.dims.index("x"))
        top = float(np.nanmax(peaks))
        ax.set_ylim(max(float(np.nanmin(peaks[peaks > 0])) / 10, top * 1e-8), top * 2)
    ax.set_xlabel(attrs_label(result["x"], "x"))
    ax.set_ylabel(attrs_label(lc, "density along y = 0"))
    ax.grid(True, which="both", alpha=0.3)
    title(fig, result_title(result, "line cuts of the density" + ("" if label == "run" else f", {label}")))
    return save_figure(fig, outdir / "linecuts.png")


def _d_eff_figure(result: xr.Dataset, outdir: Path) -> Path:
    """d_eff.png (cell method): D_eff/D per species against the first sweep key, or as bars for one run."""
    da = result["D_eff_ratio"]
    dims = [d for d in da.dims if d != "species"]
    fig, axes = subplots(1, 1, panel=(5.0, 3.6))
    ax = axes[0, 0]
    if dims:
        key = dims[0]
        for sel, label in sweep_points(result, da, {key}):
            if has_data(da.isel(sel)):
                ax.plot(result[key].values, da.isel(sel).values, "o-", label=label)
        ax.set_xlabel(attrs_label(result[key], key.rpartition(".")[2]))
        legend(ax)
    else:
        ax.bar(list(result["species"].values), da.values)
        ax.set_xlabel("species")
    ax.set_ylabel(label_of("D_eff / D", "1"))
    ax.grid(True, axis="y", alpha=0.3)
    title(fig, result_title(result, "homogenized diffusivity (cell problem)"))
    return save_figure(fig, outdir / "d_eff.png")


def _diffusion_length_figure(result: xr.Dataset, outdir: Path) -> Path:
    """diffusion_length.png: L_msd against the peak density (log), a line per other sweep point."""
    fig, axes = subplots(1, 1, panel=(5.0, 3.6))
    ax = axes[0, 0]
    da = result["L_msd"]
    for sel, label in sweep_points(result, da, {DENSITY}):
        ax.plot(result[DENSITY].values, da.isel(sel).values, "o-", label=_curve_label(label, "L_msd"))
    ax.set_xscale("log")
    ax.set_xlabel(label_of("peak density", "cm^-2"))
    ax.set_ylabel(label_of("diffusion length √msd(t_end)", da.attrs.get("units", "1")))
    legend(ax)
    ax.grid(True, which="both", alpha=0.3)
    title(fig, result_title(result, "diffusion length against the pump density"))
    return save_figure(fig, outdir / "diffusion_length.png")


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """Write the figures that the result's variables allow (see the module docstring)."""
    paths = []
    if "D_eff_ratio" in result and has_data(result["D_eff_ratio"]):
        paths.append(_d_eff_figure(result, outdir))
    if "msd" not in result or not has_data(result["msd"]):
        return paths
    paths.append(_msd_figure(result, TWIST, "msd.png", outdir))
    if DENSITY in result.dims:
        paths.append(_msd_figure(result, DENSITY, "msd_by_density.png", outdir))
        paths.append(_diffusion_length_figure(result, outdir))
    paths.append(_populations_figure(result, outdir))
    paths.append(_linecuts_figure(result, outdir))
    return paths


class MoireExcitonAnalysis(Analysis):
    """Report of D_eff, exponents and diffusion lengths; msd, density, population and line-cut figures."""

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
