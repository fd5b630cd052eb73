"""Report and figures of kind ``bgk`` results: final-time differences to the references, profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import (attrs_label, legend, no_data_note, result_title, save_figure, sequential_colors,
                            subplots, title, value_text)
from engine.figures import label as label_of
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


#: The profiles drawn: kinetic variable -> the prefix of its references' names (``T_euler``, ``T_ns``).
QUANTITIES = {"rho": "rho", "u": "u", "temperature": "T"}
#: Line style and name of each reference, by the suffix of its variables.
STYLES = {"euler": ("--", "Euler"), "ns": (":", "Navier-Stokes"), "bgk": ("-.", "BGK")}


def _by_kn(result: xr.Dataset, final: xr.Dataset, axes, fig) -> None:
    """A row per sweep point of the keys other than collision.kn; in each panel a kinetic profile per Kn,
    coloured by Kn (one colorbar), the Euler profile (independent of Kn) dashed black, Navier-Stokes dotted."""
    kns = result[KN].values
    colours = sequential_colors(fig, axes, kns, label_of("Knudsen number Kn", "1"))
    rows = list(sweep_points(result, final["rho"], {"x", KN}))
    for row, (sel, label) in zip(axes, rows):
        sub = final.isel(sel)
        for ax, (qn, ref) in zip(row, QUANTITIES.items()):
            kn_dependent = [s for s in ("ns", "bgk") if f"{ref}_{s}" in sub]
            for k, colour in enumerate(colours):
                ax.plot(sub["x"], sub[qn].isel({KN: k}), "-", color=colour, lw=1.3)
                for s in kn_dependent:
                    ax.plot(sub["x"], sub[f"{ref}_{s}"].isel({KN: k}), STYLES[s][0], color=colour, lw=1)
            if f"{ref}_euler" in sub:
                euler = sub[f"{ref}_euler"]
                ok = [k for k in range(len(kns)) if np.isfinite(euler.isel({KN: k}).values).any()]
                if ok:
                    ax.plot(sub["x"], euler.isel({KN: ok[0]}), "k--", lw=1, label="Euler")
            ax.plot([], [], "-", color="0.4", label="kinetic (colour: Kn)")
            for s in kn_dependent:
                ax.plot([], [], STYLES[s][0], color="0.4", label=STYLES[s][1])
            ax.set_title(result[qn].attrs.get("long_name", qn) + ("" if label == "run" else f", {label}"),
                         fontsize=9)


def _by_point(result: xr.Dataset, final: xr.Dataset, axes) -> None:
    """One row; in each panel a kinetic profile per sweep point (legend) and its references."""
    refs = [s for s in STYLES if f"rho_{s}" in result]
    for ax, (qn, ref) in zip(axes[0], QUANTITIES.items()):
        points = list(sweep_points(result, final[qn], {"x"}))
        for k, (sel, label) in enumerate(points):
            colour, point = f"C{k % 10}", f", {label}" if len(points) > 1 else ""
            ax.plot(final["x"], final[qn].isel(sel), "-", color=colour, lw=1.4, label=f"kinetic{point}")
            for s in refs:
                style, name = STYLES[s]
                ax.plot(final["x"], final[f"{ref}_{s}"].isel(sel), style, color=colour, lw=1, label=name + point)
        ax.set_title(result[qn].attrs.get("long_name", qn), fontsize=9)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """profiles.png: rho, u, T at the final time against x, kinetic and the references (Euler dashed,
    Navier-Stokes dotted, BGK dash-dotted). With collision.kn swept: a curve per Kn coloured by Kn, a row per point of the
    other sweep keys; otherwise a curve per sweep point."""
    if "rho" not in result:
        return []
    final = result.isel(t=-1)
    swept_kn = KN in result.dims and result.sizes[KN] > 1
    n_rows = len(list(sweep_points(result, final["rho"], {"x", KN}))) if swept_kn else 1
    fig, axes = subplots(n_rows, 3, panel=(4.0, 3.0), sharex=True)
    if swept_kn:
        _by_kn(result, final, axes, fig)
    else:
        _by_point(result, final, axes)
    for ax, qn in zip(axes.flat, list(QUANTITIES) * n_rows):
        if not np.isfinite([line.get_ydata() for line in ax.lines if len(line.get_ydata())]).any():
            no_data_note(ax)
        ax.set_ylabel(attrs_label(result[qn]))
        ax.grid(True, alpha=0.3)
    legend(axes[0, -1], loc="best")
    for ax in axes[-1]:
        ax.set_xlabel(attrs_label(result["x"], "x"))
    t_end = float(result["t"].values[-1])
    title(fig, result_title(result, f"profiles at t = {value_text(t_end, result['t'].attrs.get('units', '1'))}"))
    return [save_figure(fig, outdir / "profiles.png")]


class BGKAnalysis(Analysis):
    """The report and the profile figure of a bgk result (no sweep summary)."""

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)
