"""One run of kind ``bgk``: the kinetic time loop (:class:`KineticModel`), the continuum references, the dataset.

Shapes: ``n_t`` save times, ``n_x`` cells, ``n_v`` velocities; everything nondimensional (units "1").
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from engine.loop import Model, save_times, simulate
from solvers import bgk
from solvers.bgk.norms import relative_difference

from .spec import RIEMANN_KINDS, BGKSpec, initial_profiles, phase_grid

REF_SUFFIX = {"euler": "euler", "navier_stokes": "ns"}
_OUTPUTS = ("rho", "m", "E", "q")  # moments over (t, x) the solver returns per save time


def warmup() -> None:
    """Compile (or load from numba's cache) the kinetic kernel."""
    bgk.warmup()


class KineticModel(Model):
    """``f`` (``(1, n_comp, n_x, n_v)``) advanced through the save times ``t``, one solver call per interval.

    The intervals take the same steps as one call over all of ``t``, so the result does not depend on
    where a run was interrupted. The checkpoint step count is the number of kinetic time steps taken.
    """

    def __init__(self, spec: BGKSpec, grid: bgk.PhaseGrid, f0: np.ndarray, t: np.ndarray):
        self.spec, self.grid, self.t = spec, grid, t
        self.n_intervals = t.size
        self.gaps = np.diff(np.concatenate([[0.0], t]))
        nt, nx = t.size, grid.n_x
        self.f = np.array(f0[None], dtype=np.float64, order="C")
        self.out = {**{k: np.full((nt, nx), np.nan) for k in _OUTPUTS}, "H": np.full(nt, np.nan),
                    "dt": np.zeros(nt), "f_saved": np.zeros((nt if spec.output.distribution else 0,) + grid.shape)}
        self.n_steps = 0

    def advance(self, k: int) -> None:
        sch, col = self.spec.scheme, self.spec.collision
        sol = bgk.solve(self.f, self.grid, col.kn, [self.gaps[k]], transport=sch.transport, limiter=sch.limiter,
                        relaxation=sch.relaxation, cfl=sch.cfl, frequency=col.frequency, omega=col.omega,
                        overwrite=True)
        for name in _OUTPUTS:
            self.out[name][k] = getattr(sol, name)[0, 0]
        self.out["H"][k], self.out["dt"][k] = sol.H[0, 0], sol.dt[0]
        self._check_finite(k)
        if self.spec.output.distribution:
            self.out["f_saved"][k] = self.f[0]
        self.n_steps += sol.n_steps

    def _check_finite(self, k: int) -> None:
        """Raise RunFailed at the first cell whose moments at save time ``k`` are non-finite or non-positive."""
        rho, m, E = self.out["rho"][k], self.out["m"][k], self.out["E"][k]
        ok = np.isfinite(rho) & np.isfinite(m) & np.isfinite(E) & np.isfinite(self.out["H"][k]) & (rho > 0)
        ok[ok] &= bgk.maxwellian.primitives(rho[ok], m[ok], E[ok], self.grid.dim)[1] > 0
        if not ok.all():
            i = int(np.argmin(ok))
            raise RunFailed(f"blow-up: non-finite or non-positive rho/T at t = {self.t[k]:.4g}, cell {i} "
                            f"(x = {self.grid.x[i]:.4g}); lower scheme.cfl or refine the velocity grid")

    def state(self) -> dict[str, np.ndarray]:
        return {"f": self.f, "n_steps": self.n_steps, **self.out}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.f = np.ascontiguousarray(state.pop("f"), dtype=np.float64)
        self.n_steps = int(state.pop("n_steps"))
        self.out = dict(state)

    def steps(self, intervals: int) -> int:
        return self.n_steps

    def solution(self) -> bgk.Solution:
        """The outputs at all save times as a solver :class:`~solvers.bgk.solver.Solution` (a batch of one)."""
        o = self.out
        return bgk.Solution(grid=self.grid, t=self.t, rho=o["rho"][None], m=o["m"][None], E=o["E"][None],
                            q=o["q"][None], H=o["H"][None], dt=o["dt"], n_steps=self.n_steps,
                            f=o["f_saved"][None] if self.spec.output.distribution else None)


def _exact_riemann(spec: BGKSpec, grid: bgk.PhaseGrid, t: np.ndarray):
    """rho, u, T (each ``(n_t, n_x)``) of the exact Euler solution of the spec's Riemann data."""
    ini, x = spec.initial, grid.x
    left, right = bgk.initial.SOD if ini.kind == "sod" else (tuple(ini.left), tuple(ini.right))
    x0 = bgk.initial.jump_position(grid, ini.x0)
    gam = bgk.maxwellian.gamma(grid.dim)
    rho, u, T = (np.empty((t.size, x.size)) for _ in range(3))
    for k, tk in enumerate(t):
        if tk > 0:
            r, uu, p = bgk.riemann.sample(left, right, gam, (x - x0) / tk)
        else:
            r, uu, p = (np.where(x < x0, a, b) for a, b in zip(left, right))
        rho[k], u[k], T[k] = r, uu, p / r
    return rho, u, T


def _reference(spec: BGKSpec, name: str, grid: bgk.PhaseGrid, rho0, m0, E0, t: np.ndarray):
    """rho, u, T (each ``(n_t, n_x)``) of reference ``name`` from the initial moments (each ``(n_x,)``): the exact
    Riemann solution for Euler on Riemann data with outflow boundaries, else the continuum solver."""
    col = spec.collision
    if name == "euler" and spec.initial.kind in RIEMANN_KINDS and grid.boundary == "outflow":
        return _exact_riemann(spec, grid, t)
    kn = col.kn if name == "navier_stokes" else 0.0
    rho, m, E = bgk.continuum.solve_continuum(rho0, m0, E0, grid.dx, t, dim=grid.dim, kn=kn, model=name,
                                              boundary=grid.boundary, frequency=col.frequency, omega=col.omega)
    u, T, _ = bgk.maxwellian.primitives(rho, m, E, grid.dim)
    return rho, u, T


def _reference_variables(spec: BGKSpec, grid: bgk.PhaseGrid, sol: bgk.Solution) -> dict:
    """Each reference over (t, x) and the final-time relative differences of rho, m, T to it."""
    tx, riemann = ("t", "x"), spec.initial.kind in RIEMANN_KINDS
    rho, m, E, T = sol.rho[0], sol.m[0], sol.E[0], sol.T[0]
    data = {}
    for name in spec.references:
        sfx, label = REF_SUFFIX[name], name.replace("_", "-").title()
        try:
            r_rho, r_u, r_T = _reference(spec, name, grid, rho[0], m[0], E[0], sol.t)
        except ValueError as exc:
            raise RunFailed(f"{name} reference: {exc}") from None
        data[f"rho_{sfx}"] = variable(r_rho, f"density, {label} reference", tx)
        data[f"u_{sfx}"] = variable(r_u, f"velocity, {label} reference", tx)
        data[f"T_{sfx}"] = variable(r_T, f"temperature, {label} reference", tx)
        ref = {"rho": r_rho[-1], "m": r_rho[-1] * r_u[-1], "T": r_T[-1]}
        kin = {"rho": rho[-1], "m": m[-1], "T": T[-1]}
        for qn in ("rho", "m", "T"):
            data[f"l2_{qn}_{sfx}"] = variable(relative_difference(kin[qn], ref[qn], 2),
                                              f"relative L2 difference of {qn} vs {label} at t_final")
            if riemann:
                data[f"l1_{qn}_{sfx}"] = variable(relative_difference(kin[qn], ref[qn], 1),
                                                  f"relative L1 difference of {qn} vs {label} at t_final")
    return data


def _kinetic_variables(sol: bgk.Solution) -> dict:
    """The moments over (t, x) and the totals over t of the kinetic solution."""
    tx = ("t", "x")
    return {
        "rho": variable(sol.rho[0], "density", tx), "u": variable(sol.u[0], "bulk velocity", tx),
        "temperature": variable(sol.T[0], "temperature", tx), "p": variable(sol.p[0], "pressure rho T", tx),
        "m": variable(sol.m[0], "momentum density rho u", tx), "E": variable(sol.E[0], "total energy density", tx),
        "q": variable(sol.q[0], "heat flux 1/2 int (v-u)^3 f", tx),
        "mass": variable(sol.mass[0], "total mass", ("t",)),
        "momentum": variable(sol.momentum[0], "total momentum", ("t",)),
        "energy": variable(sol.energy[0], "total energy", ("t",)),
        "H": variable(sol.H[0], "entropy int int f ln f", ("t",)),
    }


def _distribution_variables(grid: bgk.PhaseGrid, sol: bgk.Solution) -> dict:
    """``f`` (dim 1), or the reduced ``f`` = h and ``f_b`` = b (dim 3), over (t, x, v)."""
    f = sol.f[0]
    if grid.dim == 1:
        return {"f": variable(f[:, 0], "distribution f", ("t", "x", "v"))}
    return {"f": variable(f[:, 0], "reduced distribution h", ("t", "x", "v")),
            "f_b": variable(f[:, 1], "reduced distribution b", ("t", "x", "v"))}


def run(spec: BGKSpec, ctx: RunContext) -> xr.Dataset:
    """Advance the spec's initial distribution to ``time.t_final`` and compare it with the references."""
    grid = phase_grid(spec)
    try:
        f0 = bgk.initial.distribution(initial_profiles(spec, grid, ctx.rng("initial")), grid)
    except ValueError as exc:
        raise RunFailed(f"initial data: {exc}") from None
    model = KineticModel(spec, grid, f0, save_times(spec.time.t_final, spec.time.save_every))
    simulate(model, ctx)
    sol = model.solution()
    data = {**_kinetic_variables(sol), **_reference_variables(spec, grid, sol)}
    coords = {"t": ("t", sol.t, {"units": "1", "long_name": "time"}),
              "x": ("x", grid.x, {"units": "1", "long_name": "cell center"})}
    if spec.output.distribution:
        coords["v"] = ("v", grid.v, {"units": "1", "long_name": "velocity (x component)"})
        data.update(_distribution_variables(grid, sol))
    return xr.Dataset(data, coords=coords)
