"""Report and figures of kind ``bgk`` results: final-time differences to the references, profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import save_figure
from engine.kind import Analysis
from engine.report import sweep_points

KN = "collision.kn"


def report(result: xr.Dataset) -> str:
    """Final-time relative differences to each reference, one line per sweep point."""
    names = sorted(n for n in result.data_vars if n.startswith(("l2_", "l1_")))
    if not names:
        return "no references computed"
    lines = ["relative differences at t_final (kinetic vs reference):", "  point: " + ", ".join(names)]
    for sel, label in sweep_points(result, result[names[0]], set()):
        vals = ", ".join(f"{float(result[n].isel(sel)):.3g}" for n in names)
        lines.append(f"  {label}: {vals}")
    if "mass" in result:
        mass = result["mass"]
        drift = float(np.nanmax(np.abs(mass - mass.isel(t=0)) / np.abs(mass.isel(t=0))))
        lines.append(f"largest relative mass drift: {drift:.2g}")
    return "\n".join(lines)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """profiles.png: rho, u, T at the final time vs the references, one row per collision.kn."""
    import matplotlib.pyplot as plt

    kns = list(result[KN].values) if KN in result.dims else [None]
    fig, axes = plt.subplots(len(kns), 3, figsize=(12, 2.8 * len(kns)), squeeze=False, sharex=True)
    refs = [s for s in ("euler", "ns") if f"rho_{s}" in result]
    styles = {"euler": ("k--", "Euler"), "ns": ("r:", "Navier-Stokes")}
    for row, kn in zip(axes, kns):
        sub = result if kn is None else result.sel({KN: kn})
        sub = sub.isel(t=-1)
        for ax, qn, lab in zip(row, ("rho", "u", "T"), ("density", "velocity", "temperature")):
            for sel, label in sweep_points(result, sub[qn], {"x"}):
                ax.plot(sub["x"], sub[qn].isel(sel), "-", lw=1.2, label=f"kinetic {label}")
                for s in refs:
                    style, name = styles[s]
                    ax.plot(sub["x"], sub[f"{qn}_{s}"].isel(sel), style, lw=1, label=name)
            ax.set_ylabel(lab)
            ax.set_title(f"{lab}" + (f", Kn = {kn:g}" if kn is not None else ""), fontsize=9)
            ax.grid(True, alpha=0.3)
        row[0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    t_end = float(result["t"].values[-1])
    fig.suptitle(f"{result.attrs.get('title', 'bgk')}: profiles at t = {t_end:g}")
    return [save_figure(fig, outdir / "profiles.png", dpi=110)]


class BGKAnalysis(Analysis):
    """The report and the profile figure of a bgk result (no sweep summary)."""

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
