"""Evaluation of a learned closure on held-out initial data (kinds ``bgk_closure`` and ``boltzmann_closure``).

:func:`evaluate` solves held-out initial data at each ``evaluation.kn`` with the kinetic solver of the
kind's source (:mod:`.source`; the truth, for ``bgk_closure`` on an ``evaluation.refine`` times finer x grid and
averaged back), the learned moment system, Euler and Navier-Stokes (:mod:`solvers.bgk.continuum`), the models
on the kinetic x grid, and returns the errors and final profiles as a dataset (timings: benchmarks/).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import xarray as xr

from engine.kind import RunContext, variable
from learners import bgk_closure as lc
from solvers import bgk, bgk_moments
from solvers.bgk.norms import relative_difference

from .source import BGKSource, per_kn

MODELS = ("learned", "euler", "navier_stokes")
QUANTITIES = ("rho", "m", "T")
#: ``reduced_status`` of a (family, case) that has no such case (Sod is one case).
NO_CASE = -1


def _status_flags() -> dict:
    """CF flag attributes of ``reduced_status``: its values (int32, like the variable) and one word per
    value (:data:`NO_CASE`, then :data:`solvers.bgk_moments.STATUS` with spaces as underscores)."""
    words = ["no_such_case"] + ["_".join(re.findall(r"[A-Za-z0-9]+", reason)) for reason in bgk_moments.STATUS]
    return {"flag_values": np.arange(NO_CASE, len(bgk_moments.STATUS), dtype=np.int32),
            "flag_meanings": " ".join(words)}


def initial_moments(f0: np.ndarray, closure) -> np.ndarray:
    """``(rho, m, E, W)`` cell values ``(n, 3 + M, n_x)`` of distributions ``f0`` ``(n, n_dist, n_x, n_v)``
    (f; or Chu's pair g, b for a dim-3 closure)."""
    rho, m, E = bgk.maxwellian.moments(f0, closure.v, closure.dv, dim=closure.dim)
    W = np.einsum("bxj,kj->bkx", f0[:, 0], closure.wtab) * closure.dv
    if closure.dim == 3:
        W += np.einsum("bxj,kj->bkx", f0[:, 1], closure.wbtab) * closure.dv
    return np.concatenate([np.stack([rho, m, E], axis=1), W], axis=1)


def primitives(rho, m, E, dim):
    """(rho, m, T) of conserved values, ``E = ½ rho u² + (dim/2) rho T``."""
    _, T, _ = bgk.maxwellian.primitives(rho, m, E, dim)
    return {"rho": rho, "m": m, "T": T}


def characteristics(states: np.ndarray, networks, closure) -> tuple[np.ndarray, np.ndarray]:
    """Of the learned system at cell states ``(n, 3 + M, n_x)``: the largest ``|λ - u|/sqrt(T)`` over the cells and
    the share of cells whose flux Jacobian has complex eigenvalues, each ``(n,)``."""
    n, nq, nx = states.shape
    V = states.transpose(0, 2, 1).reshape(-1, nq)
    lam = lc.flux_eigenvalues(V, *networks, closure.v, closure.dv).numpy()
    u = V[:, 1] / V[:, 0]
    sqrt_T = np.sqrt(2.0 * V[:, 2] / V[:, 0] - u * u)
    speed = (np.abs(lam.real - u[:, None]).max(axis=1) / sqrt_T).reshape(n, nx)
    complex_ = (np.abs(lam.imag).max(axis=1) > 1e-12 * sqrt_T).reshape(n, nx)
    return speed.max(axis=1), complex_.mean(axis=1)


def evaluate(spec, closure, networks, ctx: RunContext | None, source=None) -> xr.Dataset:
    """Errors of the learned model, Euler and NS against the kinetic solution (see the kind's docstring);
    ``networks`` = (weight functions, closure ensemble) that ``closure`` was exported from; ``source`` the
    kinetic equation (:mod:`.source`; default: kind ``bgk_closure``'s). The characteristic speeds are those of
    the 1D1V system: a dim-3 result has no ``char_speed`` and ``nonhyperbolic_fraction``."""
    source = BGKSource(spec) if source is None else source
    ev, red = spec.evaluation, spec.reduced
    kns, fams = np.array(ev.kn, dtype=float), list(ev.families)
    n_case = ev.n_initial
    nk, nf, nx = kns.size, len(fams), source.x.size
    err = np.full((nk, nf, n_case, len(MODELS), len(QUANTITIES)), np.nan)
    status = np.full((nk, nf, n_case), NO_CASE, dtype=np.int32)
    grid_err = np.full((nk, nf, n_case, len(QUANTITIES)), np.nan)
    speed, nonhyp = np.full((nk, nf, n_case), np.nan), np.full((nk, nf, n_case), np.nan)
    prof_kin = np.full((nk, nf, len(QUANTITIES), nx), np.nan)
    prof = np.full((nk, nf, len(MODELS), len(QUANTITIES), nx), np.nan)
    t = np.array([0.0, spec.data.t_final])
    for fi, fam in enumerate(fams):
        case = source.held_out(fam, lambda fam=fam: ctx.rng(f"evaluation.{fam}"))
        nc = case.states.shape[0]
        KN = np.repeat(kns, nc)
        same_grid, truth_U = source.truth(case, kns, t)
        V0 = initial_moments(per_kn(source.distributions(case.states), nk), closure)
        out, st, _, _ = bgk_moments.solve_moments(V0, closure, source.dx, KN, t, cfl=red.cfl, c_max=red.c_max,
                                                  boundary=case.boundary)
        ok = np.flatnonzero(st == 0)
        if ok.size and source.dim == 1:
            ki, c = np.divmod(ok, nc)
            speed[ki, fi, c], nonhyp[ki, fi, c] = characteristics(out[ok, -1], networks, closure)
        for b in range(nk * nc):
            ki, c = divmod(b, nc)
            status[ki, fi, c] = st[b]
            truth = primitives(*truth_U[:, b], source.dim)
            kin = primitives(*same_grid[:, b], source.dim)
            grid_err[ki, fi, c] = [relative_difference(kin[q], truth[q], 2) for q in QUANTITIES]
            models = {"learned": primitives(*out[b, -1, :3], source.dim) if st[b] == 0 else None}
            for name in ("euler", "navier_stokes"):
                r, mm, E = source.continuum(name, V0[b, 0], V0[b, 1], V0[b, 2], KN[b], t, case.boundary)
                models[name] = primitives(r[-1], mm[-1], E[-1], source.dim)
            for mi, name in enumerate(MODELS):
                if models[name] is None:
                    continue
                for qi, q in enumerate(QUANTITIES):
                    err[ki, fi, c, mi, qi] = relative_difference(models[name][q], truth[q], 2)
                    if c == 0:
                        prof[ki, fi, mi, qi] = models[name][q]
            if c == 0:
                prof_kin[ki, fi] = [truth[q] for q in QUANTITIES]
    x = source.x
    dims = ("kn", "family", "draw", "model", "quantity")
    with warnings.catch_warnings():  # all-NaN slices (failed solves, missing Sod cases) give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(err, axis=2)
    ds = xr.Dataset(
        {
            "rel_error": variable(err, "relative L2 error at t_final against the kinetic solution", dims),
            "kinetic_grid_error": variable(grid_err, "relative L2 error at t_final of the kinetic solution on the "
                                           "models' grid against the truth (0 when evaluation.refine = 1)",
                                           ("kn", "family", "draw", "quantity")),
            "mean_rel_error": variable(mean, "mean over the draws of rel_error", ("kn", "family", "model", "quantity")),
            "char_speed": variable(speed, "largest characteristic speed |lambda - u|/sqrt(T) of the learned system "
                                   "over the cells at t_final", ("kn", "family", "draw")),
            "nonhyperbolic_fraction": variable(nonhyp, "share of cells at t_final where the learned flux Jacobian "
                                               "has complex eigenvalues", ("kn", "family", "draw")),
            "reduced_status": (("kn", "family", "draw"), status,
                               {"units": "1", "long_name": "status of the reduced solve (-1: no such case)",
                                **_status_flags()}),
            "profile_kinetic": variable(prof_kin, "kinetic solution (the truth) at t_final, draw 0",
                                        ("kn", "family", "quantity", "x")),
            "profile": variable(prof, "model solution at t_final, draw 0", ("kn", "family", "model", "quantity", "x")),
        },
        coords={
            "kn": ("kn", kns, {"units": "1", "long_name": "Knudsen number"}),
            "family": ("family", np.array(fams), {"units": "1", "long_name": "initial-data family"}),
            "draw": ("draw", np.arange(n_case), {"units": "1", "long_name": "held-out draw of the family (sod, sine: one)"}),
            "model": ("model", np.array(MODELS), {"units": "1", "long_name": "reduced model"}),
            "quantity": ("quantity", np.array(QUANTITIES), {"units": "1",
                                                          "long_name": "rho: density, m: momentum, T: temperature"}),
            "x": ("x", x, {"units": "1", "long_name": "cell center"}),
        },
    )
    return ds if source.dim == 1 else ds.drop_vars(["char_speed", "nonhyperbolic_fraction"])
