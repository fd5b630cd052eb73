"""Kind ``moire_exciton``: one run of each method, from the spec's parameters to a :class:`Trace`
(time-domain methods) or to variables (``cell``)."""

from __future__ import annotations

import math

import numpy as np

from engine.problem import RunContext, RunFailed, variable
from engine.problems import moire_exciton_model as model
from engine.problems.moire_exciton import DT_SAFETY, Trace, save_times
from solvers.moire import observables


def march(ctx: RunContext, t: np.ndarray, state: dict, advance, observe) -> tuple[dict, dict]:
    """Advance ``state`` (a dict of arrays) through the saved times t, with progress and checkpoints.

    advance(state, t0, t1, k) -> state; observe(state) -> dict of values at one time. Returns the final
    state and the observed values stacked over t."""
    saved = ctx.restore()
    rec: dict = {}
    start = 0
    if saved is not None:
        start = int(saved["k"]) + 1
        state = {key[6:]: v for key, v in saved.items() if key.startswith("state_")}
        rec = {key[4:]: list(v) for key, v in saved.items() if key.startswith("rec_")}
    for k in range(start, t.size):
        if k > 0:
            state = advance(state, t[k - 1], t[k], k)
        for key, value in observe(state).items():
            rec.setdefault(key, []).append(value)
        ctx.checkpoint({"k": k, **{f"rec_{key}": np.array(v) for key, v in rec.items()},
                        **{f"state_{key}": v for key, v in state.items()}}, k)
        ctx.progress(k + 1, t.size)
    return state, {key: np.array(v) for key, v in rec.items()}


def _checked(n: np.ndarray, t1: float) -> np.ndarray:
    if not np.all(np.isfinite(n)) or n.min() < -1e-9 * max(float(np.abs(n).max()), 1e-300):
        raise RunFailed(f"non-finite or negative density at t = {t1:.4g} ns; lower the time step")
    return n


def _time_step(fixed, bound: float) -> float:
    return fixed if fixed is not None else DT_SAFETY * bound


# ---------------------------------------------------------------------------
# resolved (nm, ps)
# ---------------------------------------------------------------------------


def run_resolved(spec, par: model.Parameters, ctx: RunContext) -> Trace:
    """The moiré-resolved drift–diffusion run; line cut = density averaged over y."""
    system = model.resolved_system(spec, par)
    x, y, hx, hy = model.resolved_grid(spec, par)
    n0 = model.resolved_initial(spec, par)
    dt = _time_step(spec.grid.resolved.dt_ps, system.stable_dt(float(n0.sum(axis=0).max())))

    def advance(state, t0, t1, k):
        return {"n": _checked(system.advance(state["n"], (t1 - t0) * 1e3, dt), t1)}

    def observe(state):
        n = state["n"]
        tot = n.sum(axis=0)
        proj = tot.sum(axis=0)
        return {"lin": tot.mean(axis=0) / model.CM2_TO_NM2, "s2": observables.second_moment(x, proj),
                "pop": n.sum(axis=(1, 2)) * hx * hy}

    t = save_times(spec)
    _, rec = march(ctx, t, {"n": n0}, advance, observe)
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
    tr.extra["time_step"] = variable(dt, "time step", units="ps")
    return tr


# ---------------------------------------------------------------------------
# cell
# ---------------------------------------------------------------------------


def cell_variables(spec, par: model.Parameters) -> dict:
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


# ---------------------------------------------------------------------------
# continuum (µm, ns)
# ---------------------------------------------------------------------------


def run_continuum(spec, par: model.Parameters, ctx: RunContext) -> Trace:
    """The µm-scale spot with D(n); line cut = n(x, y = 0)."""
    system = model.continuum_system(spec, par)
    grid = model.continuum_grid(spec)
    pos, area = grid[0], grid[5]
    n0 = model.continuum_initial(spec, par)
    dt = _time_step(spec.grid.continuum.dt_ns, system.stable_dt(float(n0.sum(axis=0).max())))
    radial = spec.grid.continuum.geometry == "radial"
    x = np.concatenate([-pos[::-1], pos]) if radial else pos
    mid = pos.size // 2

    def advance(state, t0, t1, k):
        return {"n": _checked(system.advance(state["n"], t1 - t0, dt), t1)}

    def observe(state):
        n = state["n"]
        tot = n.sum(axis=0)
        if radial:
            # <x²> = <r²>/2 of the radially symmetric density
            return {"lin": np.concatenate([tot[0, ::-1], tot[0]]) / model.CM2_TO_UM2,
                    "s2": 0.5 * observables.second_moment(pos, tot[0] * area), "pop": (n[:, 0, :] * area).sum(axis=1)}
        return {"lin": tot[mid] / model.CM2_TO_UM2, "s2": observables.second_moment(pos, tot.sum(axis=0)),
                "pop": n.sum(axis=(1, 2)) * area}

    t = save_times(spec)
    _, rec = march(ctx, t, {"n": n0}, advance, observe)
    lin, s2, pop = rec["lin"], rec["s2"], rec["pop"]
    tr = Trace(t, x, "um", lin, s2, pop, "cm^-2", "density along y = 0")
    d = model.continuum_diffusivity(spec, par)
    tr.extra["D_species"] = variable(d, "diffusivity of each species used (homogenized if chosen)", ("species",),
                                     "cm^2/s")
    tr.extra["time_step"] = variable(dt, "time step", units="ns")
    return tr


# ---------------------------------------------------------------------------
# kmc (nm, ps; output in µm)
# ---------------------------------------------------------------------------


def run_kmc(spec, par: model.Parameters, ctx: RunContext) -> Trace:
    """Kinetic Monte Carlo; line cut = histogram of x projected over y, per µm."""
    g = spec.grid.kmc
    lattice = model.kmc_lattice(spec, par)
    rng = ctx.rng("kmc")
    model.kmc_place(spec, par, lattice, rng)
    t = save_times(spec)
    seeds = rng.integers(0, 2**31 - 1, t.size)
    ns = len(par.species)
    d_max = max(par.diffusion) * model.CM2S_TO_NM2PS
    spread = math.sqrt((spec.initial.sigma_um * 1e3) ** 2 + 2 * d_max * t[-1] * 1e3)
    half = min(5.0 * spread, 0.45 * lattice.size * par.a_m) * 1e-3
    edges = np.linspace(-half, half, g.bins + 1)
    centers = 0.5 * (edges[1:] + edges[:-1])

    def advance(state, t0, t1, k):
        lattice.advance(t1 * 1e3, int(seeds[k]))
        return _kmc_state(lattice)

    def observe(state):
        xs, _ = lattice.positions()
        xs = xs * 1e-3
        return {"lin": np.histogram(xs, edges)[0] / (edges[1] - edges[0]) * 1e4,  # per µm -> per cm
                "s2": float(np.mean(xs ** 2)) if xs.size else np.nan,
                "pop": np.bincount(lattice.species(), minlength=ns).astype(float),
                "trapped": lattice.trapped_count() / max(lattice.n, 1) if lattice.trap_mode else np.nan}

    state = _kmc_state(lattice)
    saved = ctx.restore()
    if saved is not None:
        _kmc_restore(lattice, saved)
    _, rec = march(ctx, t, state, advance, observe)
    tr = Trace(t, centers, "um", rec["lin"], rec["s2"], rec["pop"], "cm^-1",
               "exciton density projected on x (histogram)")
    tr.extra["trapped_fraction"] = variable(rec["trapped"], "fraction of excitons in traps", ("t",))
    tr.extra["events"] = variable(lattice.events, "Monte Carlo events (including null events)")
    tr.extra["hop_rate"] = variable(lattice.hop, "hop rate per bond", ("species",), "ps^-1")
    return tr


def _kmc_state(lattice) -> dict:
    return {"ix": lattice.ix, "iy": lattice.iy, "spec": lattice.spec, "trapped": lattice.trapped,
            "occ": lattice.occ, "trap": lattice.trap, "n": np.array(lattice.n), "t": np.array(lattice.t),
            "events": np.array(lattice.events)}


def _kmc_restore(lattice, saved: dict) -> None:
    for key in ("ix", "iy", "spec", "trapped", "occ", "trap"):
        setattr(lattice, key, np.array(saved[f"state_{key}"]))
    lattice.n, lattice.t, lattice.events = int(saved["state_n"]), float(saved["state_t"]), int(saved["state_events"])
