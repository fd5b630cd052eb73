"""Report and figures of kind ``boltzmann``: the profiles of kind ``bgk`` (rho, u, T against the Euler,
Navier-Stokes and BGK references), and the Prandtl-number figure: the normal stress and the heat flux of the
kinetic solution against the Navier-Stokes fluxes of the operator's viscosity and Prandtl number and against
the BGK model of the same viscosity (Pr = 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import attrs_label, legend, result_title, save_figure, subplots, title, value_text
from engine.kind import Analysis
from engine.report import sweep_points

from ..bgk import analysis as bgk_analysis

#: The fluxes drawn: kinetic variable -> its long name (its references: ``<name>_ns``, ``<name>_bgk``).
FLUXES = {"p_xx": "normal stress P_xx - p", "q": "heat flux q_x"}
REFERENCE_STYLES = {"ns": (":", "Navier-Stokes (operator's mu, Pr)"), "bgk": ("-.", "BGK, same mu (Pr = 1)")}
MAX_COLUMNS = 6


def report(result: xr.Dataset) -> str:
    """The differences to the references (kind ``bgk``'s report) and the positivity monitor."""
    lines = [bgk_analysis.report(result)]
    if "min_relative_f" in result:
        worst = float(result["min_relative_f"].min())
        lines.append(f"most negative f / max f over all runs and times: {worst:.3g}")
    return "\n".join(lines)


def plot_fluxes(result: xr.Dataset, outdir: Path) -> list[Path]:
    """prandtl.png: P_xx - p and q_x against x at the final time, a column per sweep point (at most
    MAX_COLUMNS): kinetic solid, Navier-Stokes dotted, BGK of the same viscosity dash-dotted."""
    if "q" not in result:
        return []
    final = result.isel(t=-1)
    points = list(sweep_points(result, final["q"], {"x"}))[:MAX_COLUMNS]
    fig, axes = subplots(2, len(points), panel=(3.6, 2.8), sharex=True)
    for col, (sel, label) in enumerate(points):
        sub = final.isel(sel)
        for row, (name, long_name) in enumerate(FLUXES.items()):
            ax = axes[row, col]
            ax.plot(sub["x"], sub[name], "-", color="C0", lw=1.5, label="kinetic")
            for sfx, (style, ref_label) in REFERENCE_STYLES.items():
                if f"{name}_{sfx}" in sub:
                    ax.plot(sub["x"], sub[f"{name}_{sfx}"], style, color="C1" if sfx == "ns" else "C2", lw=1.2,
                            label=ref_label)
            ax.set_title(long_name + ("" if label == "run" else f"\n{label}"), fontsize=8)
            ax.set_ylabel(attrs_label(result[name]))
            ax.grid(True, alpha=0.3)
        axes[1, col].set_xlabel(attrs_label(result["x"], "x"))
    legend(axes[0, 0], loc="best")
    t_end = float(result["t"].values[-1])
    title(fig, result_title(result, f"stress and heat flux at t = {value_text(t_end, result['t'].attrs.get('units', '1'))}"))
    return [save_figure(fig, outdir / "prandtl.png")]


class BoltzmannAnalysis(Analysis):
    """The report, the profiles and the Prandtl-number figure of a boltzmann result."""

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return bgk_analysis.plot(result, outdir) + plot_fluxes(result, outdir)
