"""Evaluation of kind ``bgk_closure`` on held-out initial data.

:func:`evaluate` solves held-out initial data at each ``evaluation.kn`` with the kinetic solver
(the truth, on an ``evaluation.refine`` times finer x grid and averaged back), the learned moment
system, Euler and Navier-Stokes (:mod:`solvers.bgk.continuum`), the models on the kinetic x grid,
and returns the errors and final profiles as a dataset (timings: benchmarks/bench_bgk_closure.py).
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

from ..families import FIXED_CASES, draw_batch
from ..spec import BGKClosureSpec, phase_grid

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
    """``(rho, m, E, W)`` cell values ``(n, 3 + M, n_x)`` of distributions ``f0`` ``(n, 1, n_x, n_v)``."""
    rho, m, E = bgk.maxwellian.moments(f0, closure.v, closure.dv)
    W = np.einsum("bxj,kj->bkx", f0[:, 0], closure.wtab) * closure.dv
    return np.concatenate([np.stack([rho, m, E], axis=1), W], axis=1)


def _prim(rho, m, E):
    """(rho, m, T) of conserved values (1D1V)."""
    u = m / rho
    return {"rho": rho, "m": m, "T": (2.0 * E - m * u) / rho}


def coarsen(a: np.ndarray, refine: int) -> np.ndarray:
    """Averages of ``refine`` consecutive x cells: of distributions ``(n, n_comp, n_x, n_v)`` when ``a.ndim == 4``,
    otherwise of arrays with x last."""
    if refine == 1:
        return a
    if a.ndim == 4:
        n, c, nx, nv = a.shape
        return a.reshape(n, c, nx // refine, refine, nv).mean(axis=3)
    return a.reshape(a.shape[:-1] + (a.shape[-1] // refine, refine)).mean(axis=-1)


def _initial(spec: BGKClosureSpec, family: str, ctx: RunContext):
    """The models' grid, the truth's grid (``evaluation.refine`` times finer) and the initial distributions on
    each: ``(grid, fine, f0, f0_fine)``, ``f0`` the cell averages of ``f0_fine``."""
    r = spec.evaluation.refine
    if family in FIXED_CASES:
        boundary, make = FIXED_CASES[family]
        fine = phase_grid(spec, boundary, r)
        f_fine = make(fine)[None]
    else:
        fine = phase_grid(spec, refine=r)
        f_fine, _ = draw_batch(ctx.rng(f"evaluation.{family}"), fine, [family], spec.evaluation.n_initial)
    return phase_grid(spec, fine.boundary), fine, coarsen(f_fine, r), f_fine


def _per_kn(f: np.ndarray, nk: int) -> np.ndarray:
    """The cases ``f`` ``(n, ...)`` repeated for each of ``nk`` Knudsen numbers: ``(nk n, ...)``, Kn slowest."""
    return np.repeat(f[None], nk, axis=0).reshape((nk * f.shape[0],) + f.shape[1:])


def _conserved_final(sol, refine: int) -> np.ndarray:
    """``(rho, m, E)`` at the last save time averaged to the models' cells, ``(3, n, n_x)``."""
    return np.stack([coarsen(a[:, -1], refine) for a in (sol.rho, sol.m, sol.E)])


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


def evaluate(spec: BGKClosureSpec, closure, networks, ctx: RunContext) -> xr.Dataset:
    """Errors of the learned model, Euler and NS against the kinetic solution (see the kind's docstring);
    ``networks`` = (weight functions, closure ensemble) that ``closure`` was exported from."""
    ev, sch, red = spec.evaluation, spec.kinetic.scheme, spec.reduced
    kns, fams = np.array(ev.kn, dtype=float), list(ev.families)
    n_case = ev.n_initial
    nk, nf, nx = kns.size, len(fams), spec.kinetic.grid.n_x
    err = np.full((nk, nf, n_case, len(MODELS), len(QUANTITIES)), np.nan)
    status = np.full((nk, nf, n_case), NO_CASE, dtype=np.int32)
    grid_err = np.full((nk, nf, n_case, len(QUANTITIES)), np.nan)
    speed, nonhyp = np.full((nk, nf, n_case), np.nan), np.full((nk, nf, n_case), np.nan)
    prof_kin = np.full((nk, nf, len(QUANTITIES), nx), np.nan)
    prof = np.full((nk, nf, len(MODELS), len(QUANTITIES), nx), np.nan)
    t = np.array([0.0, spec.data.t_final])
    kinetic = dict(transport=sch.transport, limiter=sch.limiter, relaxation=sch.relaxation, cfl=sch.cfl)
    for fi, fam in enumerate(fams):
        grid, fine, f0, f_fine = _initial(spec, fam, ctx)
        nc = f0.shape[0]
        KN = np.repeat(kns, nc)
        F0 = _per_kn(f0, nk)
        same_grid = _conserved_final(bgk.solve(F0, grid, KN, t, **kinetic), 1)
        if ev.refine == 1:
            truth_U = same_grid
        else:
            truth_U = _conserved_final(bgk.solve(_per_kn(f_fine, nk), fine, KN, t, **kinetic), ev.refine)
        V0 = initial_moments(F0, closure)
        out, st, _, _ = bgk_moments.solve_moments(V0, closure, grid.dx, KN, t, cfl=red.cfl, c_max=red.c_max,
                                                  boundary=grid.boundary)
        ok = np.flatnonzero(st == 0)
        if ok.size:
            ki, c = np.divmod(ok, nc)
            speed[ki, fi, c], nonhyp[ki, fi, c] = characteristics(out[ok, -1], networks, closure)
        for b in range(nk * nc):
            ki, c = divmod(b, nc)
            status[ki, fi, c] = st[b]
            truth = _prim(*truth_U[:, b])
            kin = _prim(*same_grid[:, b])
            grid_err[ki, fi, c] = [relative_difference(kin[q], truth[q], 2) for q in QUANTITIES]
            models = {"learned": _prim(*out[b, -1, :3]) if st[b] == 0 else None}
            for name in ("euler", "navier_stokes"):
                r, mm, E = bgk.continuum.solve_continuum(V0[b, 0], V0[b, 1], V0[b, 2], grid.dx, t, dim=1,
                                                         kn=float(KN[b]), model=name, boundary=grid.boundary)
                models[name] = _prim(r[-1], mm[-1], E[-1])
            for mi, name in enumerate(MODELS):
                if models[name] is None:
                    continue
                for qi, q in enumerate(QUANTITIES):
                    err[ki, fi, c, mi, qi] = relative_difference(models[name][q], truth[q], 2)
                    if c == 0:
                        prof[ki, fi, mi, qi] = models[name][q]
            if c == 0:
                prof_kin[ki, fi] = [truth[q] for q in QUANTITIES]
    x = phase_grid(spec).x
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
    return ds
