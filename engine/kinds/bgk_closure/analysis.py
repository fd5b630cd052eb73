"""Report and figures of kind ``bgk_closure`` (no whole-sweep summary): the mean relative errors of the
learned model, Euler and Navier-Stokes per family and Kn, and the verdicts of the acceptance criteria
(:mod:`.criteria`); figures of the errors against Kn and of the final profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import attrs_label, legend, log_if_wide, result_title, save_figure, subplots, title
from engine.figures import label as label_of
from engine.kind import Analysis
from engine.report import sweep_points

from .criteria import verdicts


class BGKClosureAnalysis(Analysis):
    """Report and standard figures of a ``bgk_closure`` result; ``criteria`` gives the acceptance criteria's
    verdicts of a ``mean_rel_error`` and ``criteria_doc`` where they are stated."""

    criteria = staticmethod(verdicts)
    criteria_doc = "docs/kinds/bgk_closure.md"

    def report(self, result: xr.Dataset) -> str:
        """Mean relative errors per family and Kn, learned vs Euler vs NS, and the acceptance criteria's verdicts
        (of the first sweep point)."""
        if "mean_rel_error" not in result:
            return "no evaluation in this result"
        extra = [d for d in result["mean_rel_error"].dims if d not in ("kn", "family", "model", "quantity")]
        first = result.isel({d: 0 for d in extra}) if extra else result
        mre = first["mean_rel_error"]
        refined = "kinetic_grid_error" in first and bool(np.any(first["kinetic_grid_error"].values > 0))
        models, quantities = list(mre["model"].values), list(mre["quantity"].values)
        lines = [f"mean relative L2 error at t_final ({' / '.join(models)}), per quantity:"]
        for fam in mre["family"].values:
            lines.append(f"  family {fam}:")
            for kn in mre["kn"].values:
                cells = []
                for q in quantities:
                    vals = [float(mre.sel(kn=kn, family=fam, model=m, quantity=q)) for m in models]
                    cells.append(f"{q} " + "/".join(f"{v:.2e}" for v in vals))
                if refined:
                    e = float(first["kinetic_grid_error"].sel(kn=kn, family=fam, quantity="m").mean())
                    cells.append(f"(same-grid kinetic m {e:.2e})")
                lines.append(f"    Kn {kn:<7g} " + "   ".join(cells))
            if "char_speed" in first:
                sp = first["char_speed"].sel(family=fam)
                nh = first["nonhyperbolic_fraction"].sel(family=fam)
                lines.append(f"    learned system at t_final: characteristic speeds up to {float(sp.max()):.2f} "
                             f"sqrt(T), complex eigenvalues in {100 * float(nh.mean()):.1f} % of the cells")
        found = self.criteria(mre)
        if found:
            lines += [f"acceptance criteria ({self.criteria_doc}):", *(f"  {v.line()}" for v in found)]
        return "\n".join(lines)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        """error_vs_kn.png (mean error vs Kn, log-log: the learned model per sweep point, Euler and NS) and
        profiles.png (final profiles of the first successful point: learned / kinetic / Euler / NS)."""
        if "mean_rel_error" not in result:
            return []
        return [_error_figure(result, outdir), _profiles_figure(result, outdir)]


#: (marker and line style, colour) of each reduced model.
STYLES = {"learned": ("o-", None), "euler": ("s--", "k"), "navier_stokes": ("^:", "C3")}
#: Axis names of the evaluated quantities.
QUANTITIES = {"rho": "density ρ", "m": "momentum density m", "T": "temperature T"}
OWN_DIMS = ("kn", "family", "model", "quantity")


def _sweep_points(result: xr.Dataset) -> list[tuple[dict, str]]:
    """(selection, label) of every sweep point of the result (the dims of mean_rel_error that are not its own)."""
    return list(sweep_points(result, result["mean_rel_error"], set(OWN_DIMS)))


def _first_ok(result: xr.Dataset) -> tuple[dict, str]:
    """The first sweep point whose evaluation has a finite error (the first point when none has)."""
    points = _sweep_points(result)
    return next(((sel, label) for sel, label in points
                 if np.isfinite(result["mean_rel_error"].isel(sel).values).any()), points[0])


def _error_figure(result: xr.Dataset, outdir: Path) -> Path:
    """error_vs_kn.png: a row per family, a panel per quantity; the learned model per sweep point (colour),
    Euler and Navier-Stokes (of the first successful point: they do not depend on the learned model)."""
    mre = result["mean_rel_error"]
    fams, quantities = list(mre["family"].values), list(mre["quantity"].values)
    points, (ref_sel, _) = _sweep_points(result), _first_ok(result)
    fig, axes = subplots(len(fams), len(quantities), panel=(3.9, 3.0), sharex=True)
    for row, fam in zip(axes, fams):
        for ax, q in zip(row, quantities):
            for k, (sel, label) in enumerate(points):
                ax.plot(mre["kn"], mre.isel(sel).sel(family=fam, model="learned", quantity=q), STYLES["learned"][0],
                        color=f"C{k % 10}", ms=4, label="learned" + ("" if label == "run" else f", {label}"))
            for m in ("euler", "navier_stokes"):
                if m in mre["model"].values:
                    mk, col = STYLES[m]
                    ax.plot(mre["kn"], mre.isel(ref_sel).sel(family=fam, model=m, quantity=q), mk, color=col, ms=4,
                            label=m.replace("_", "-"))
            ax.set_xscale("log")
            log_if_wide(ax, mre.sel(family=fam, quantity=q).values)
            ax.set_title(f"family {fam}: {QUANTITIES.get(q, q)}", fontsize=9)
            ax.set_ylabel(label_of("mean relative L2 error", "1"))
            ax.grid(True, which="both", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel(label_of("Knudsen number Kn", "1"))
    legend(axes[0, -1])
    title(fig, result_title(result, "error of the reduced models at t_final against the kinetic solution"))
    return save_figure(fig, outdir / "error_vs_kn.png")


def _profiles_figure(result: xr.Dataset, outdir: Path) -> Path:
    """profiles.png: a row per Kn, a panel per quantity; kinetic (grey), learned, Euler and NS at t_final of
    the first held-out draw of the first family, at the first successful sweep point."""
    sel, label = _first_ok(result)
    res = result.isel(sel)
    kns, fam = list(res["kn"].values), res["family"].values[0]
    quantities, models = list(res["quantity"].values), list(res["model"].values)
    fig, axes = subplots(len(kns), len(quantities), panel=(3.9, 2.6), sharex=True)
    for row, kn in zip(axes, kns):
        sub = res.sel(kn=kn, family=fam)
        for ax, q in zip(row, quantities):
            ax.plot(res["x"], sub["profile_kinetic"].sel(quantity=q), "-", color="0.6", lw=3, label="kinetic")
            for m in models:
                mk, col = STYLES[m]
                ax.plot(res["x"], sub["profile"].sel(model=m, quantity=q), mk[1:], color=col or "C0", lw=1,
                        label=m.replace("_", "-"))
            ax.set_title(f"Kn = {kn:g}", fontsize=9)
            ax.set_ylabel(label_of(QUANTITIES.get(q, q), "1"))
            ax.grid(True, alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel(attrs_label(res["x"], "x"))
    legend(axes[0, -1])
    point = "" if label == "run" else f", {label}"
    title(fig, result_title(result, f"profiles at t_final, family {fam}, draw 0{point}"))
    return save_figure(fig, outdir / "profiles.png")
