"""One run of kind ``boltzmann``: the 1D3V kinetic time loop (:class:`KineticModel`), the references, the dataset.

Shapes: ``n_t`` save times, ``n_x`` cells, ``N`` velocities per axis; everything nondimensional (units "1").

Transport coefficients of the references (docs/kinds/boltzmann.md): with Q/kn, the Maxwell-molecule operator
relaxes the stress at rho/(2 kn) and the heat flux at rho/(3 kn), so mu = 2 kn T and Pr = 2/3; the 3-D BGK
operator rho (M - f)/kn gives mu = kn T and Pr = 1. In the continuum and reduced-BGK solvers of kind ``bgk``
(frequency ``rho``: tau = kn_bgk / rho, mu = kn_bgk T) that is ``kn_bgk = VISCOSITY_FACTOR[operator] kn``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from engine.loop import Model, save_times, simulate
from solvers import bgk
from solvers import boltzmann_kinetic as kinetic
from solvers.boltzmann_collision import MaxwellCollision

from ..bgk import references
from ..bgk.spec import RIEMANN_KINDS, initial_profiles
from .spec import BoltzmannSpec, reduced_grid

#: kn_bgk / kn of the BGK model with the operator's viscosity (frequency "rho").
VISCOSITY_FACTOR = {"maxwell": 2.0, "bgk": 1.0}
PRANDTL = {"maxwell": 2.0 / 3.0, "bgk": 1.0}
_OUTPUTS = ("rho", "u", "T", "p_xx", "q")  # moments over (t, x) the solver returns per save time


def warmup() -> None:
    """Compile (or load from numba's cache) the kernels of a tiny solve."""
    op = MaxwellCollision(n=16, L=7.0, degree=3, rank=1)
    grid = kinetic.KineticGrid(0.0, 1.0, 4, "periodic", op)
    ones = np.ones(4)
    kinetic.solve(kinetic.initial_state(grid, ones, 0.0 * ones, ones), grid, 1.0, np.array([1e-3]))


def kinetic_grid(spec: BoltzmannSpec) -> kinetic.KineticGrid:
    """The solver's 1D3V grid of ``spec``, with its collision operator's quadratures."""
    g, v = spec.grid, spec.velocity
    op = MaxwellCollision(n=v.n, L=v.L, degree=v.degree, rank=v.rank)
    return kinetic.KineticGrid(g.x_min, g.x_max, g.n_x, g.boundary, op)


class KineticModel(Model):
    """``f`` ``(n_x, N, N, N)`` advanced through the save times ``t``, one solver call per interval; the
    checkpoint step count is the number of kinetic time steps taken."""

    advice = "lower scheme.cfl or widen the velocity box (velocity.L)"

    def __init__(self, spec: BoltzmannSpec, grid: kinetic.KineticGrid, f0: np.ndarray, t: np.ndarray):
        self.spec, self.grid, self.t = spec, grid, t
        self.n_intervals = t.size
        self.gaps = np.diff(np.concatenate([[0.0], t]))
        nt, nx, n = t.size, grid.n_x, grid.velocity.n
        self.f = np.ascontiguousarray(f0, dtype=np.float64)
        self.out = {**{k: np.full((nt, nx), np.nan) for k in _OUTPUTS}, "min_relative_f": np.full(nt, np.nan),
                    "g": np.zeros((nt if spec.output.distribution else 0, nx, n)),
                    "b": np.zeros((nt if spec.output.distribution else 0, nx, n))}
        self.n_steps = 0
        self.evaluations = 0

    def advance(self, k: int) -> None:
        col = self.spec.collision
        sol = kinetic.solve(self.f, self.grid, col.kn, np.array([self.gaps[k]]), collision=col.operator,
                            cfl=self.spec.scheme.cfl, save_reduced=self.spec.output.distribution)
        for name in _OUTPUTS:
            self.out[name][k] = getattr(sol, name)[-1]
        self.out["min_relative_f"][k] = sol.min_relative_f
        if self.spec.output.distribution:
            self.out["g"][k], self.out["b"][k] = sol.g[-1], sol.b[-1]
        self.f = sol.f_final
        self.n_steps += sol.n_steps
        self.evaluations += sol.collision_evaluations
        bad = ~(np.isfinite(self.out["rho"][k]) & (self.out["rho"][k] > 0) & (self.out["T"][k] > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise RunFailed(f"blow-up: non-finite or non-positive rho/T at t = {self.t[k]:.4g}, cell {i} "
                            f"(x = {self.grid.x[i]:.4g}); {self.advice}")

    def state(self) -> dict[str, np.ndarray]:
        return {"f": self.f, "n_steps": self.n_steps, "evaluations": self.evaluations, **self.out}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.f = np.ascontiguousarray(state.pop("f"), dtype=np.float64)
        self.n_steps = int(state.pop("n_steps"))
        self.evaluations = int(state.pop("evaluations"))
        self.out = dict(state)

    def steps(self, intervals: int) -> int:
        return self.n_steps


def _gradient(q: np.ndarray, dx: float, boundary: str) -> np.ndarray:
    """Central differences of ``q`` ``(n_t, n_x)`` along x (periodic, or one-sided at outflow ends)."""
    if boundary == "periodic":
        return (np.roll(q, -1, axis=-1) - np.roll(q, 1, axis=-1)) / (2.0 * dx)
    return np.gradient(q, dx, axis=-1)


def navier_stokes_fluxes(spec: BoltzmannSpec, u: np.ndarray, T: np.ndarray, dx: float):
    """The Navier-Stokes stress P_xx - p = -(4/3) mu u_x and heat flux q = -kappa T_x of the operator's
    coefficients (mu = VISCOSITY_FACTOR kn T, kappa = (5/2) mu / Pr), each ``(n_t, n_x)``."""
    op, kn = spec.collision.operator, spec.collision.kn
    mu = VISCOSITY_FACTOR[op] * kn * T
    return (-4.0 / 3.0 * mu * _gradient(u, dx, spec.grid.boundary),
            -2.5 * mu / PRANDTL[op] * _gradient(T, dx, spec.grid.boundary))


def _reduced_bgk(spec: BoltzmannSpec, grid: bgk.PhaseGrid, profiles, t: np.ndarray):
    """rho, u, T, stress, heat flux (each ``(n_t, n_x)``) of the reduced 1D3V BGK solve with the operator's
    viscosity (kind ``bgk``'s solver, frequency ``rho``)."""
    kn = VISCOSITY_FACTOR[spec.collision.operator] * spec.collision.kn
    f0 = bgk.initial.distribution(profiles, grid)[None]
    sol = bgk.solve(f0, grid, kn, t, cfl=spec.scheme.cfl, frequency="rho", save_distribution=True)
    p_xx = bgk.maxwellian.central_moment(sol.f[0], grid.v, grid.dv, 2, dim=3) - sol.p[0]
    return sol.rho[0], sol.u[0], sol.T[0], p_xx, sol.q[0]


def _reference_variables(spec: BoltzmannSpec, grid: bgk.PhaseGrid, profiles, t: np.ndarray, out: dict) -> dict:
    """Each reference over (t, x), its differences to the kinetic run, and the stress and heat flux of the
    Navier-Stokes and BGK references."""
    op = spec.collision.operator
    transport = references.Transport(VISCOSITY_FACTOR[op] * spec.collision.kn, "rho", prandtl=PRANDTL[op])
    rho, u, T = out["rho"], out["u"], out["T"]
    m = rho * u
    E = bgk.maxwellian.conserved(rho[0], u[0], T[0], dim=3)[2]
    riemann = spec.initial.kind in RIEMANN_KINDS
    tx, data = ("t", "x"), {}
    for name in spec.references:
        if name == "bgk":
            r_rho, r_u, r_T, p_xx, q = _reduced_bgk(spec, grid, profiles, t)
            data["p_xx_bgk"] = variable(p_xx, "normal stress P_xx - p, BGK reference", tx)
            data["q_bgk"] = variable(q, "heat flux q_x, BGK reference", tx)
            profiles_ref = (r_rho, r_u, r_T)
        else:
            profiles_ref = references.continuum(name, spec.initial, grid, rho[0], m[0], E, t, transport)
        if name == "navier_stokes":
            p_xx, q = navier_stokes_fluxes(spec, profiles_ref[1], profiles_ref[2], grid.dx)
            data["p_xx_ns"] = variable(p_xx, "normal stress -4/3 mu u_x, Navier-Stokes reference", tx)
            data["q_ns"] = variable(q, "heat flux -kappa T_x, Navier-Stokes reference", tx)
        data.update(references.comparison_variables(name, profiles_ref, (rho, m, T), riemann))
    return data


def _kinetic_variables(out: dict, grid: kinetic.KineticGrid, evaluations: int, n_steps: int) -> dict:
    """The moments over (t, x), the totals over t and the positivity monitor of the kinetic solution."""
    tx, dx = ("t", "x"), grid.dx
    rho, u, T = out["rho"], out["u"], out["T"]
    E = 0.5 * rho * u * u + 1.5 * rho * T
    return {
        "rho": variable(rho, "density", tx), "u": variable(u, "bulk velocity (x)", tx),
        "temperature": variable(T, "temperature", tx), "p": variable(rho * T, "pressure rho T", tx),
        "m": variable(rho * u, "momentum density rho u", tx), "E": variable(E, "total energy density", tx),
        "p_xx": variable(out["p_xx"], "normal stress P_xx - p", tx),
        "q": variable(out["q"], "heat flux q_x = 1/2 int (v-u)_x |v-u|^2 f", tx),
        "mass": variable(rho.sum(-1) * dx, "total mass", ("t",)),
        "momentum": variable((rho * u).sum(-1) * dx, "total momentum", ("t",)),
        "energy": variable(E.sum(-1) * dx, "total energy", ("t",)),
        "min_relative_f": variable(out["min_relative_f"], "most negative f / max f of a cell over the interval ending at t (positivity monitor)",
                                   ("t",)),
        "collision_evaluations": variable(evaluations, "evaluations of the collision operator on all cells"),
        "n_steps": variable(n_steps, "kinetic time steps"),
    }


def run(spec: BoltzmannSpec, ctx: RunContext) -> xr.Dataset:
    """Advance the spec's local Maxwellians to ``time.t_final`` and compare with the references."""
    grid, reduced = kinetic_grid(spec), reduced_grid(spec)
    profiles = initial_profiles(spec, reduced, ctx.rng("initial"))
    try:
        f0 = kinetic.initial_state(grid, profiles.rho, profiles.u, profiles.T)
    except ValueError as exc:
        raise RunFailed(f"initial data: {exc}") from None
    t = save_times(spec.time.t_final, spec.time.save_every)
    model = KineticModel(spec, grid, f0, t)
    simulate(model, ctx)
    out = model.out
    data = {**_kinetic_variables(out, grid, model.evaluations, model.n_steps),
            **_reference_variables(spec, reduced, profiles, t, out)}
    coords = {"t": ("t", t, {"units": "1", "long_name": "time"}),
              "x": ("x", grid.x, {"units": "1", "long_name": "cell center"})}
    if spec.output.distribution:
        coords["v"] = ("v", grid.velocity.v, {"units": "1", "long_name": "velocity (x component)"})
        data["g"] = variable(out["g"], "reduced distribution g = int f dv_y dv_z", ("t", "x", "v"))
        data["b"] = variable(out["b"], "reduced distribution b = int (v_y^2 + v_z^2)/2 f dv_y dv_z",
                             ("t", "x", "v"))
    return xr.Dataset(data, coords=coords)
