"""Report and figure of ``hyperelastic_interface`` results (one run or a sweep of modes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import label as label_of
from engine.figures import result_title, save_figure, subplots, title
from engine.kind import Analysis
from engine.report import sweep_points

LINESTYLES = ("-", "--", "-.", ":")
OWN_DIMS = {"angle", "angle_simulated", "row", "col"}
MODE = "deformation.mode"
#: The deformation fields that matter for each mode (the others are left out of labels).
RELEVANT = {"constrained_uniaxial": {"stretch", "orientation"},
            "ordinary_uniaxial": {"stretch", "orientation", "plane_strain"},
            "simple_shear": {"shear", "orientation"}, "hydrostatic": {"scale", "plane_strain"}, "custom": {"F"}}


def _label(result: xr.Dataset, sel: dict) -> str:
    """``key=value, ...`` of a sweep point, without the deformation fields its mode does not use."""
    parts = []
    for dim, i in sel.items():
        names = [c for c in result.coords if result[c].dims == (dim,) and c != "case"] or [dim]
        values = {name: result[name].values[i] for name in names}
        mode = values.get(MODE)
        for name, value in values.items():
            section, _, key = name.rpartition(".")
            if mode is not None and section == "deformation" and key != "mode" and key not in RELEVANT[mode]:
                continue
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _points(result: xr.Dataset):
    """``(selection, label)`` for every sweep point of the result."""
    return sweep_points(result, result["R"], OWN_DIMS, _label)


def _at(result: xr.Dataset, sel: dict, name: str, default=np.nan):
    return result[name].isel(sel) if name in result else default


class HyperelasticInterfaceAnalysis(Analysis):
    """Report and figure of ``hyperelastic_interface`` results."""

    def report(self, result: xr.Dataset) -> str:
        """One line per sweep point: J, lateral stretch, critical angle, R at the first and last angle,
        the energy balance, and the simulation error when simulated."""
        if "angle" not in result:
            return "no successful run"
        angle = result["angle"].values
        lines = [f"reflection over {angle.size} angles from {angle[0]:g}° to {angle[-1]:g}°:"]
        for sel, label in _points(result):
            R = _at(result, sel, "R").values
            balance = np.nanmax(np.abs(R + _at(result, sel, "T").values - 1.0))
            lateral = float(_at(result, sel, "lateral_stretch"))
            parts = [f"J = {float(_at(result, sel, 'J')):.4g}", f"lateral stretch = {lateral:.6g}"]
            if "critical_angle" in result:                                   # SH only
                crit = float(_at(result, sel, "critical_angle"))
                parts.append(f"critical angle = {crit:.4g}°" if np.isfinite(crit) else "no critical angle")
            parts += [f"R({angle[0]:g}°) = {R[0]:.4g}", f"R({angle[-1]:g}°) = {R[-1]:.4g}",
                      f"max|R+T-1| = {balance:.1e}"]
            if "r_abs_simulation_error" in result:
                parts.append(f"max|r_sim - r| = {float(_at(result, sel, 'r_abs_simulation_error')):.4f}")
            lines.append(f"  {label}: " + ", ".join(parts))
        return "\n".join(lines)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        """reflection.png: R(θ) and |r|(θ) for every sweep point; simulated |r| (and |r|²) as points on the
        analytic curves."""
        if "R" not in result:
            return []
        points = list(_points(result))
        fig, axes = subplots(1, 2, panel=(5.6, 4.2 + 0.15 * len(points)), sharex=True)
        ax_R, ax_r = axes[0]
        angle = result["angle"].values
        for k, (sel, label) in enumerate(points):
            colour, style = f"C{k % 10}", LINESTYLES[k % len(LINESTYLES)]   # styles keep coinciding curves visible
            name = label if len(points) > 1 else "analytic"
            ax_R.plot(angle, _at(result, sel, "R"), style, color=colour, lw=1.5, label=name)
            ax_r.plot(angle, _at(result, sel, "r_abs"), style, color=colour, lw=1.5)
            if "r_abs_simulated" in result:
                sim = _at(result, sel, "r_abs_simulated").values
                a_sim = result["angle_simulated"].values
                ax_r.plot(a_sim, sim, "o", color=colour, mfc="none", ms=7)
                ax_R.plot(a_sim, sim**2, "o", color=colour, mfc="none", ms=7)
        if "r_abs_simulated" in result:
            ax_R.plot([], [], "ko", mfc="none", label="simulated")
        for ax, name in ((ax_R, "energy reflection coefficient R"), (ax_r, "|r| (displacement amplitude ratio)")):
            ax.set_xlabel(label_of("incidence angle θ", "°"))
            ax.set_ylabel(label_of(name, "1"))
            ax.set_xlim(angle.min(), max(angle.max(), angle.min() + 1e-9))
            ax.set_ylim(-0.02, 1.02)          # both lie in [0, 1]: rounding-level values (1e-14) stay at zero
            ax.grid(True, alpha=0.3)
        ax_R.set_title("reflected / incident energy flux", fontsize=9)
        ax_r.set_title("reflected / incident displacement", fontsize=9)
        title(fig, result_title(result, "reflection at the pre-deformed interface against the incidence angle"))
        handles, labels = ax_R.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
        return [save_figure(fig, outdir / "reflection.png")]
