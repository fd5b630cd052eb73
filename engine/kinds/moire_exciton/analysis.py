"""Kind ``moire_exciton``: the one-screen report and the standard figures (no whole-sweep summary).

Figures: ``msd.png`` (msd(t), a panel per twist, a line per other sweep point), ``msd_by_density.png``
(a panel per peak density, a line per twist), ``diffusion_length.png``
(L_msd against the peak density, a line per twist), ``populations.png`` (populations over time),
``linecuts.png`` (line cuts of the first point), ``d_eff.png`` (method cell: D_eff/D against the first
sweep key).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

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


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _msd_figure(result: xr.Dataset, panel_dim: str, name: str, outdir: Path) -> Path:
    """msd(t) with a panel per value of ``panel_dim`` (one panel if it is not a dim), a line per other point."""
    import matplotlib.pyplot as plt

    unit = result["msd"].attrs.get("units", "")
    panels = ([(f"{panel_dim} = {v:g}", {panel_dim: i}) for i, v in enumerate(result[panel_dim].values)]
              if panel_dim in result.dims else [("", {})])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False, sharey=True)
    for ax, (title, sel0) in zip(axes[0], panels):
        sub = result.isel(sel0)
        for sel, label in sweep_points(sub, sub["msd"], {"t"}):
            ax.plot(sub["t"], sub["msd"].isel(sel), "-", lw=1.2, label=label)
        ax.set_xlabel("t [ns]")
        ax.set_title(title, fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel(f"msd = sigma^2(t) - sigma^2(0) [{unit}]")
    axes[0, -1].legend(fontsize=6)
    return _save(fig, outdir / name)


def _populations_figure(result: xr.Dataset, outdir: Path) -> Path:
    """populations.png: a panel per species and one for the total, N/N_total(0); colour by twist, line style
    by peak density (solid: lowest), one line per other sweep point."""
    import matplotlib.pyplot as plt

    pop = result["population"]
    species = list(result["species"].values)
    fig, axes = plt.subplots(1, len(species) + 1, figsize=(3.6 * (len(species) + 1), 3.4), squeeze=False,
                             sharey=True)
    styles = ["-", "--", "-.", ":"]
    labelled = set()
    for sel, label in sweep_points(result, pop, {"t", "species"}):
        p = pop.isel(sel)
        n0 = float(p.isel(t=0).sum())
        colour = f"C{sel.get(TWIST, 0) % 10}"
        style = styles[sel.get(DENSITY, 0) % len(styles)]
        key = f"twist {float(result[TWIST][sel[TWIST]]):g} deg" if TWIST in sel else label
        lab = None if key in labelled else key
        labelled.add(key)
        for ax, s in zip(axes[0], species):
            ax.semilogy(result["t"], p.sel(species=s) / n0, style, color=colour, lw=1, label=lab)
        axes[0, -1].semilogy(result["t"], p.sum("species") / n0, style, color=colour, lw=1)
    for ax, title in zip(axes[0], species + ["total"]):
        ax.set_title(title + (" (line style: density, solid lowest)" if DENSITY in result.dims else ""), fontsize=8)
        ax.set_xlabel("t [ns]")
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("population / N(0)")
    if len(labelled) <= 12:
        axes[0, 0].legend(fontsize=6)
    return _save(fig, outdir / "populations.png")


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """Write the figures that the result's variables allow."""
    import matplotlib.pyplot as plt

    paths = []
    if "D_eff_ratio" in result and "alpha" not in result:
        da = result["D_eff_ratio"]
        dims = [d for d in da.dims if d != "species"]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        if dims:
            key = dims[0]
            for sel, label in sweep_points(result, da, {key}):
                ax.plot(result[key].values, da.isel(sel).values, "o-", label=label)
            ax.set_xlabel(key)
            ax.legend(fontsize=7)
        else:
            ax.bar(list(result["species"].values), da.values)
        ax.set_ylabel("D_eff / D")
        ax.set_title("homogenized diffusivity (cell problem)")
        paths.append(_save(fig, outdir / "d_eff.png"))
        return paths
    paths.append(_msd_figure(result, TWIST, "msd.png", outdir))
    if DENSITY in result.dims:
        paths.append(_msd_figure(result, DENSITY, "msd_by_density.png", outdir))
        fig, ax = plt.subplots(figsize=(5, 3.6))
        da = result["L_msd"]
        for sel, label in sweep_points(result, da, {DENSITY}):
            ax.semilogx(result[DENSITY].values, da.isel(sel).values, "o-", label=label)
        ax.set_xlabel("peak density [cm^-2]")
        ax.set_ylabel(f"diffusion length sqrt(msd(t_end)) [{da.attrs.get('units', '')}]")
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
        paths.append(_save(fig, outdir / "diffusion_length.png"))
    paths.append(_populations_figure(result, outdir))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    first = {d: 0 for d in result["linecut"].dims if d not in ("t", "x")}
    lc = result["linecut"].isel(first)
    for k in range(result.sizes["t"]):
        ax.plot(result["x"], lc.isel(t=k), lw=0.8, color=plt.cm.viridis(k / max(result.sizes["t"] - 1, 1)))
    ax.set_xlabel(f"x [{result['x'].attrs.get('units', '')}]")
    ax.set_ylabel(f"{lc.attrs.get('long_name', '')} [{lc.attrs.get('units', '')}]", fontsize=7)
    ax.set_title("line cuts (dark: early)", fontsize=9)
    paths.append(_save(fig, outdir / "linecuts.png"))
    return paths


class MoireExcitonAnalysis(Analysis):
    """Report of D_eff, exponents and diffusion lengths; msd, density, population and line-cut figures."""

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
