"""One run of kind ``bgk``: the kinetic time loop (:class:`KineticModel`), the continuum references, the dataset.

Shapes: ``n_t`` save times, ``n_x`` cells, ``n_v`` velocities; everything nondimensional (units "1").
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from engine.loop import Model, save_times, simulate
from solvers import bgk

from . import references
from .spec import RIEMANN_KINDS, BGKSpec, initial_profiles, phase_grid

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


def _reference_variables(spec: BGKSpec, grid: bgk.PhaseGrid, sol: bgk.Solution) -> dict:
    """Each reference over (t, x) and the final-time relative differences of rho, m, T to it."""
    col = spec.collision
    transport = references.Transport(col.kn, col.frequency, col.omega)
    rho, m, E = sol.rho[0], sol.m[0], sol.E[0]
    riemann = spec.initial.kind in RIEMANN_KINDS
    data = {}
    for name in spec.references:
        profiles = references.continuum(name, spec.initial, grid, rho[0], m[0], E[0], sol.t, transport)
        data.update(references.comparison_variables(name, profiles, (rho, m, sol.T[0]), riemann))
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
