"""Report and figures of kind ``bgk_closure`` (no whole-sweep summary): the mean relative errors of the
learned model, Euler and Navier-Stokes per family and Kn, and the wall times; figures of the errors
against Kn and of the final profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import save_figure
from engine.kind import Analysis


class BGKClosureAnalysis(Analysis):
    """Report and standard figures of a ``bgk_closure`` result."""

    def report(self, result: xr.Dataset) -> str:
        """Mean relative errors per family and Kn, learned vs Euler vs NS, and the wall times."""
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
        if "speedup" in result:
            sp = np.atleast_1d(result["speedup"].values).ravel()[0]
            wk = np.atleast_1d(result["wall_kinetic"].values).ravel()[0]
            wr = np.atleast_1d(result["wall_reduced"].values).ravel()[0]
            lines.append(f"wall time per run: kinetic {wk:.3g} s, reduced {wr:.3g} s (speed-up {sp:.3g})")
        return "\n".join(lines)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        """error_vs_kn.png (mean error vs Kn per model, log-log) and profiles.png (learned/kinetic/Euler/NS)."""
        import matplotlib.pyplot as plt

        extra = [d for d in result["mean_rel_error"].dims if d not in ("kn", "family", "model", "quantity")]
        res = result.isel({d: 0 for d in extra}) if extra else result
        mre = res["mean_rel_error"]
        fams = list(mre["family"].values)
        models, quantities = list(mre["model"].values), list(mre["quantity"].values)
        styles = {"learned": ("o-", "C0"), "euler": ("s--", "k"), "navier_stokes": ("^:", "C3")}
        fig, axes = plt.subplots(len(fams), 3, figsize=(12, 3.2 * len(fams)), squeeze=False)
        for row, fam in zip(axes, fams):
            for ax, q in zip(row, quantities):
                for m in models:
                    mk, col = styles[m]
                    ax.loglog(mre["kn"], mre.sel(family=fam, model=m, quantity=q), mk, color=col, label=m)
                ax.set_title(f"{fam}: {q}", fontsize=9)
                ax.grid(True, which="both", alpha=0.3)
            row[0].set_ylabel("relative L2 error")
        for ax in axes[-1]:
            ax.set_xlabel("Kn")
        axes[0, 0].legend(fontsize=7)
        paths = [save_figure(fig, outdir / "error_vs_kn.png", dpi=110)]

        kns = list(res["kn"].values)
        fam = fams[0]
        fig, axes = plt.subplots(len(kns), 3, figsize=(12, 2.6 * len(kns)), squeeze=False, sharex=True)
        for row, kn in zip(axes, kns):
            sub = res.sel(kn=kn, family=fam)
            for ax, q in zip(row, quantities):
                ax.plot(res["x"], sub["profile_kinetic"].sel(quantity=q), "-", color="0.6", lw=3, label="kinetic")
                for m in models:
                    mk, col = styles[m]
                    ax.plot(res["x"], sub["profile"].sel(model=m, quantity=q), mk[1:] or "-", color=col, lw=1, label=m)
                ax.set_title(f"{fam}, Kn = {kn:g}: {q}", fontsize=9)
                ax.grid(True, alpha=0.3)
        axes[0, 0].legend(fontsize=7)
        for ax in axes[-1]:
            ax.set_xlabel("x")
        paths.append(save_figure(fig, outdir / "profiles.png", dpi=110))
        return paths
