"""Kind ``moire_exciton``: interlayer-exciton transport in the moiré potential of twisted WS₂–WSe₂.

Reproduces the setting of Yuan et al., Nature Materials 19, 617 (2020) (arXiv:1910.02869) with a
hierarchy of models, one per ``method`` (physics in :mod:`solvers.moire`, parameters in
:mod:`engine.problems.moire_exciton_model`):

- ``resolved``: ∂n/∂t = ∇·[D∇n + (D/k_BT) n ∇(U + u₀n)] − n/τ − γn² on a grid resolving the moiré cells
  (Scharfetter–Gummel, periodic), nm and ps;
- ``cell``: the homogenization cell problem, D_eff(θ, Δ, ψ, T);
- ``continuum``: µm-scale spot with D(n) (mean-field repulsion, Langmuir trap filling with n_M(θ)),
  annihilation, decay; radial or 2-D;
- ``kmc``: kinetic Monte Carlo on moiré sites (rates from the barrier, exclusion/repulsion, encounters,
  traps, decay).

K–K and K–Q populations (``populations.enabled``) exchange in detailed balance in every method.

Variables (dims ``t`` [ns], ``x`` [µm; nm for resolved], ``species``): ``linecut`` (t, x), ``population``
(t, species), ``population_total``, ``sigma2_fit``, ``sigma2_raw``, ``msd``, ``msd_raw``, ``D_app`` (t),
``alpha``, ``L_msd``, ``L_Dtau``; geometry scalars ``moire_period``, ``site_density``, ``smoothing``,
``depth_effective``, ``barrier``, ``gap``, ``kk_fraction_eq``; from ``cell``: ``D_eff``, ``D_eff_ratio``,
``D_xx_ratio``, ``D_yy_ratio``, ``keller_dykhne_ratio``, ``wiener_bound`` (species) and ``D_eff_mixed``;
``resolved``: ``D_late``; ``kmc``: ``trapped_fraction`` (t), ``events``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from engine.problem import Problem, RunContext, variable
from engine.problems import moire_exciton_model as model
from engine.problems.moire_exciton_spec import MoireExcitonSpec
from solvers import moire
from solvers.moire import geometry, observables

DT_SAFETY = 0.9


def save_times(spec: MoireExcitonSpec) -> np.ndarray:
    """Saved times [ns]: 0, every save_every_ns (default t_final/20), and t_final."""
    t_final = spec.time.t_final_ns
    every = spec.time.save_every_ns or t_final / 20.0
    t = every * np.arange(int(math.floor(t_final / every * (1 + 1e-12))) + 1)
    return np.append(t[t < t_final * (1 - 1e-12)], t_final)


@dataclass
class Trace:
    """What a time-domain method hands to the analysis: times t (n_t,) [ns], positions x (n_x,) in ``unit``
    (nm or um), linecut (n_t, n_x) with its units and long name, sigma2_raw (n_t,) [unit²], population
    (n_t, n_s), and the method's extra variables."""

    t: np.ndarray
    x: np.ndarray
    unit: str
    linecut: np.ndarray
    sigma2_raw: np.ndarray
    population: np.ndarray
    linecut_units: str
    linecut_name: str
    extra: dict = field(default_factory=dict)


class MoireExciton(Problem):
    """Interlayer excitons in moiré potentials: resolved, cell, continuum and kmc methods."""

    kind = "moire_exciton"
    version = "1"
    summary = "interlayer exciton transport in twisted WS2-WSe2 moire potentials (resolved, cell, continuum, kmc)"
    Spec = MoireExcitonSpec
    template_sweep = ("twist_deg", [0.0, 2.0, 60.0])
    allow_nonfinite = frozenset({"sigma2_fit", "msd", "D_app", "alpha", "L_msd", "L_Dtau", "trapped_fraction",
                                 "sigma2_raw", "msd_raw", "linecut"})
    smoke_overrides = ("time.save_every_ns=null", "grid.continuum.cells=60", "grid.cell.points_per_period=12",
                       "grid.resolved.cells_x=12", "grid.resolved.cells_y=7", "grid.resolved.points_per_period=8",
                       "grid.kmc.lattice_sites=256")

    def warmup(self) -> None:
        moire.warmup()

    def run(self, spec: MoireExcitonSpec, ctx: RunContext) -> xr.Dataset:
        from engine.problems import moire_exciton_run as runner

        par = model.parameters(spec)
        data = _geometry_variables(spec, par)
        coords = {"species": ("species", list(par.species), {"long_name": "exciton species", "units": "1"})}
        if spec.method == "cell":
            data.update(runner.cell_variables(spec, par))
            return xr.Dataset(data, coords=coords)
        trace = {"resolved": runner.run_resolved, "continuum": runner.run_continuum,
                 "kmc": runner.run_kmc}[spec.method](spec, par, ctx)
        data.update(_analysis(trace))
        data.update(trace.extra)
        coords["t"] = ("t", trace.t, {"units": "ns", "long_name": "time after the pump"})
        coords["x"] = ("x", trace.x, {"units": trace.unit, "long_name": "position along the line cut"})
        return xr.Dataset(data, coords=coords)

    def report(self, result: xr.Dataset) -> str | None:
        from engine.problems.moire_exciton_plot import report

        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        from engine.problems.moire_exciton_plot import plot

        return plot(result, outdir)


def _geometry_variables(spec: MoireExcitonSpec, par: model.Parameters) -> dict:
    """Moiré geometry, effective depths and barriers, and the population equilibrium."""
    phase, sp = spec.potential.phase_deg, ("species",)
    return {
        "moire_period": variable(par.a_m, "moire period a_M", units="nm"),
        "site_density": variable(par.n_m_nm2 / model.CM2_TO_NM2, "moire site density n_M", units="cm^-2"),
        "smoothing": variable(np.array(par.smoothing), "quantum smoothing factor of the potential", sp),
        "depth_effective": variable(np.array(par.depth), "effective peak-to-peak moire depth", sp, "meV"),
        "barrier": variable(np.array([geometry.barrier(d, phase) for d in par.depth]),
                            "activation barrier of the moire potential", sp, "meV"),
        "gap": variable(par.gap, "energy gap E_KK - E_KQ", units="meV"),
        "kk_fraction_eq": variable(par.kk_fraction(), "equilibrium K-K fraction"),
    }


def _analysis(tr: Trace) -> dict:
    """The experiment's analysis of the line cuts (Gaussian fits, msd, D_app, exponent, lengths)."""
    u, t = tr.unit, tr.t
    s2 = observables.fit_widths(tr.x, tr.linecut)
    msd, msd_raw = s2 - s2[0], tr.sigma2_raw - tr.sigma2_raw[0]
    total = tr.population.sum(axis=1)
    to_cm2 = {"nm": 1e-14, "um": 1e-8}[u]
    d_app = observables.apparent_diffusivity(t * 1e-9, s2 * to_cm2)
    l_msd, l_dtau = observables.diffusion_lengths(t, msd, total)
    tt = ("t",)
    return {
        "linecut": variable(tr.linecut, tr.linecut_name, ("t", "x"), tr.linecut_units),
        "population": variable(tr.population, "number of excitons", ("t", "species")),
        "population_total": variable(total, "total number of excitons", tt),
        "sigma2_fit": variable(s2, "sigma^2 of the Gaussian fit A exp(-x^2/2 sigma^2) + c", tt, f"{u}^2"),
        "sigma2_raw": variable(tr.sigma2_raw, "raw second moment <x^2> of the density", tt, f"{u}^2"),
        "msd": variable(msd, "mean squared displacement sigma^2(t) - sigma^2(0) (Gaussian fit)", tt, f"{u}^2"),
        "msd_raw": variable(msd_raw, "raw second moment minus its initial value", tt, f"{u}^2"),
        "D_app": variable(d_app, "apparent diffusivity 1/2 d sigma^2/dt", tt, "cm^2/s"),
        "alpha": variable(observables.anomalous_exponent(t, msd), "anomalous exponent of msd ~ t^alpha"),
        "L_msd": variable(l_msd, "diffusion length sqrt(msd(t_end))", units=u),
        "L_Dtau": variable(l_dtau, "diffusion length sqrt(D_bar tau_bar)", units=u),
    }
