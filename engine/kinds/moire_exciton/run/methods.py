"""One run of each ``moire_exciton`` method, from the spec's parameters to a :class:`.trace.Trace`
(time-domain methods, stepped by :func:`engine.loop.simulate`) or to variables (``cell``)."""

from __future__ import annotations

import math

import numpy as np

from engine.kind import RunContext, RunFailed, variable
from engine.loop import save_times, simulate
from solvers.moire import implicit, observables

from ..parameters import CM2_TO_NM2, CM2_TO_UM2, CM2S_TO_NM2PS, Parameters
from ..spec import stability_problem
from . import model
from .march import DensityMarch, KmcMarch, explicit_advance
from .trace import Trace

DT_SAFETY = 0.9  # default time step as a fraction of the explicit stability bound
SAVES = 20  # saved intervals in the window without time.save_every_ns


def _saved_times(spec) -> np.ndarray:
    """Saved times [ns]: 0, every save_every_ns (default t_final/20), and t_final."""
    return save_times(spec.time.t_final_ns, spec.time.save_every_ns, default_intervals=SAVES)


def _time_step(fixed: float | None, bound: float, field: str, unit: str) -> float:
    """The fixed step ``fixed`` (checked against the stability ``bound`` here for a run too large for
    validation to build, :data:`engine.kinds.moire_exciton.spec.VALIDATION_BUILD_BYTES`), else ``DT_SAFETY`` x ``bound``."""
    if fixed is None:
        return DT_SAFETY * bound
    problem = stability_problem(field, fixed, bound, unit)
    if problem is not None:
        raise RunFailed(f"{field}: {problem[0]} (expected {problem[1]})")
    return fixed


def _resolved_advance(spec, par: Parameters, system, n0: np.ndarray, ctx: RunContext):
    """(advance(n, t0, t1) over ns, time step [ps], the stepping used) of the resolved method: explicit, or
    TR-BDF2 after an explicit start (:mod:`solvers.moire.implicit`); ``auto`` takes the cheaper of the two by
    :func:`solvers.moire.implicit.costs`."""
    g = spec.grid.resolved
    n_max = float(n0.sum(axis=0).max())
    explicit_dt = _time_step(g.dt_ps, system.stable_dt(n_max), "grid.resolved.dt_ps", "ps")
    dt, relax = implicit.default_steps(system, par.a_m, n_max)
    dt = g.implicit_dt_ps if g.implicit_dt_ps is not None else dt
    used = g.time_stepping
    if used == "auto":
        cost = implicit.costs(system, spec.time.t_final_ns * 1e3, explicit_dt, dt, relax)
        used = "implicit" if cost["implicit"] < cost["explicit"] else "explicit"
        ctx.log.info("time stepping auto: explicit %.3g, implicit %.3g cell-updates -> %s", cost["explicit"],
                     cost["implicit"], used)
    if used == "explicit":
        ctx.log.info("time stepping explicit: forward Euler, dt = %.4g ps", explicit_dt)
        return explicit_advance(system, explicit_dt, 1e3), explicit_dt, used
    ctx.log.info("time stepping implicit: TR-BDF2, dt = %.4g ps after forward Euler (dt = %.4g ps) up to %.4g ps",
                 dt, explicit_dt, relax)
    stepper = implicit.Implicit(system, dt, explicit_dt, relax)
    return (lambda n, t0, t1: stepper.advance(n, t0 * 1e3, (t1 - t0) * 1e3)), dt, used


def run_resolved(spec, par: Parameters, ctx: RunContext) -> Trace:
    """The moiré-resolved drift–diffusion run (nm, ps); line cut = density averaged over y."""
    system = model.resolved_system(spec, par)
    x, y, hx, hy = model.resolved_grid(spec, par)
    n0 = model.resolved_initial(spec, par)
    advance, dt, used = _resolved_advance(spec, par, system, n0, ctx)

    def observe(n: np.ndarray) -> dict:
        tot = n.sum(axis=0)
        proj = tot.sum(axis=0)
        return {"lin": tot.mean(axis=0) / CM2_TO_NM2, "s2": observables.second_moment(x, proj),
                "pop": n.sum(axis=(1, 2)) * hx * hy}

    t = _saved_times(spec)
    march = DensityMarch(t, advance, n0, observe)
    simulate(march, ctx)
    rec = march.records()
    lin, s2, pop = rec["lin"], rec["s2"], rec["pop"]
    tr = Trace(t, x, "nm", lin, s2, pop, "cm^-2", "density averaged over y")
    half = t >= 0.5 * t[-1]
    slope = np.polyfit(t[half], s2[half], 1)[0] if half.sum() >= 2 else np.nan
    tr.extra["D_late"] = variable(0.5 * slope * 1e-14 / 1e-9, "1/2 d<x^2>/dt over the second half of the window",
                                  units="cm^2/s")
    ratio = model.cell_ratio(round(par.depth[0] / par.kT, 12), spec.potential.phase_deg,
                             spec.grid.resolved.points_per_period, False)[0]
    tr.extra["D_cell_grid"] = variable(ratio * par.diffusion[0], "D_xx of the cell problem on the same grid "
                                       "(what D_late tends to)", units="cm^2/s")
    dims, value, attrs = variable(dt, "time step (implicit: of TR-BDF2)", units="ps")
    tr.extra["time_step"] = (dims, value, {**attrs, "time_stepping_used": used})
    tr.extra["time_stepping_implicit"] = variable(int(used == "implicit"), "time stepping used: 1 implicit "
                                                  "(TR-BDF2), 0 explicit (forward Euler)")
    return tr


def cell_variables(spec, par: Parameters) -> dict:
    """D_eff per species from the cell problem, with the exact bounds and the Keller–Dykhne value."""
    g, sp = spec.grid.cell, ("species",)
    ratios = np.array([model.cell_ratio(round(d / par.kT, 12), spec.potential.phase_deg, g.points_per_period,
                                        g.richardson) for d in par.depth])
    moments = np.array([model.moments_of_potential(d / par.kT, spec.potential.phase_deg) for d in par.depth])
    iso = ratios.mean(axis=1)
    d_eff = iso * np.array(par.diffusion)
    f_k = par.kk_fraction()
    mixed = f_k * d_eff[0] + (1.0 - f_k) * d_eff[-1]
    return {
        "D_eff": variable(d_eff, "homogenized diffusivity (isotropic part)", sp, "cm^2/s"),
        "D_eff_ratio": variable(iso, "D_eff / D", sp),
        "D_xx_ratio": variable(ratios[:, 0], "D_xx / D of the cell problem", sp),
        "D_yy_ratio": variable(ratios[:, 1], "D_yy / D of the cell problem", sp),
        "keller_dykhne_ratio": variable(1.0 / moments[:, 0], "1/<exp(-U/kT)> (exact D_eff/D when U -> -U is a "
                                        "symmetry, e.g. psi = 30 deg)", sp),
        "wiener_bound": variable(1.0 / (moments[:, 0] * moments[:, 1]), "lower Wiener bound "
                                 "1/(<exp(U/kT)><exp(-U/kT)>) of D_eff/D", sp),
        "D_eff_mixed": variable(mixed, "fast-exchange D_eff = f_K D_KK + (1 - f_K) D_KQ", units="cm^2/s"),
    }


def run_continuum(spec, par: Parameters, ctx: RunContext) -> Trace:
    """The µm-scale spot with D(n) (µm, ns); line cut = n(x, y = 0)."""
    system = model.continuum_system(spec, par)
    grid = model.continuum_grid(spec)
    pos, area = grid[0], grid[5]
    n0 = model.continuum_initial(spec, par)
    dt = _time_step(spec.grid.continuum.dt_ns, system.stable_dt(float(n0.sum(axis=0).max())), "grid.continuum.dt_ns",
                    "ns")
    radial = spec.grid.continuum.geometry == "radial"
    x = np.concatenate([-pos[::-1], pos]) if radial else pos
    mid = pos.size // 2

    def observe(n: np.ndarray) -> dict:
        tot = n.sum(axis=0)
        if radial:
            # <x²> = <r²>/2 of the radially symmetric density
            return {"lin": np.concatenate([tot[0, ::-1], tot[0]]) / CM2_TO_UM2,
                    "s2": 0.5 * observables.second_moment(pos, tot[0] * area), "pop": (n[:, 0, :] * area).sum(axis=1)}
        return {"lin": tot[mid] / CM2_TO_UM2, "s2": observables.second_moment(pos, tot.sum(axis=0)),
                "pop": n.sum(axis=(1, 2)) * area}

    t = _saved_times(spec)
    march = DensityMarch(t, explicit_advance(system, dt, 1.0), n0, observe)
    simulate(march, ctx)
    rec = march.records()
    tr = Trace(t, x, "um", rec["lin"], rec["s2"], rec["pop"], "cm^-2", "density along y = 0")
    d = model.continuum_diffusivity(spec, par)
    tr.extra["D_species"] = variable(d, "diffusivity of each species used (homogenized if chosen)", ("species",),
                                     "cm^2/s")
    tr.extra["time_step"] = variable(dt, "time step", units="ns")
    return tr


def run_kmc(spec, par: Parameters, ctx: RunContext) -> Trace:
    """Kinetic Monte Carlo (nm, ps; output in µm); line cut = histogram of x projected over y, per µm."""
    g = spec.grid.kmc
    lattice = model.kmc_lattice(spec, par)
    rng = ctx.rng("kmc")
    model.kmc_place(spec, par, lattice, rng)
    t = _saved_times(spec)
    seeds = rng.integers(0, 2**31 - 1, t.size)
    d_max = max(par.diffusion) * CM2S_TO_NM2PS
    spread = math.sqrt((spec.initial.sigma_um * 1e3) ** 2 + 2 * d_max * t[-1] * 1e3)
    half = min(5.0 * spread, 0.45 * lattice.size * par.a_m) * 1e-3
    edges = np.linspace(-half, half, g.bins + 1)
    centers = 0.5 * (edges[1:] + edges[:-1])
    march = KmcMarch(t, lattice, seeds, edges, len(par.species))
    simulate(march, ctx)
    rec = march.records()
    tr = Trace(t, centers, "um", rec["lin"], rec["s2"], rec["pop"], "cm^-1",
               "exciton density projected on x (histogram)")
    tr.extra["trapped_fraction"] = variable(rec["trapped"], "fraction of excitons in traps", ("t",))
    tr.extra["events"] = variable(lattice.events, "Monte Carlo events (including null events)")
    tr.extra["hop_rate"] = variable(lattice.hop, "hop rate per bond", ("species",), "ps^-1")
    return tr
