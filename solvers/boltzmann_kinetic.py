"""The 1D3V kinetic solver for Maxwell molecules (or BGK on the same 3-D velocity grid).

Equation (nondimensional, units "1"; x in 1-D, v on the N³ grid of a
:class:`~solvers.boltzmann_collision.MaxwellCollision`)::

    ∂_t f + v_x ∂_x f = C(f) / kn,    f(x, v), x in n_x cells of [x_min, x_max],

C = Q(f, f) of Maxwell molecules (``collision="maxwell"``, collision frequency ρ per unit kn) or
ρ (M[f] - f) (``"bgk"``, projected to conserve exactly), or none (``"none"``): :mod:`.boltzmann_relaxation`.

Scheme per step dt (Strang splitting, second order)::

    f ← C(dt/2) f;   f ← T(dt) f;   f ← C(dt/2) f,

consecutive half collision steps merged into one of dt within an output interval (so a step is one collision
step of dt and one transport step, and every save time ends on a half step). T: the transport kernels of the
BGK solver (:func:`solvers.bgk.transport.sweep_cells`: MUSCL-minmod, SSP-RK2, periodic or zero-gradient
outflow), with f (n_x, N, N, N) viewed as N² components (v_y, v_z) of a 1-D grid in v_x; the midpoints of the
3-D grid are those of ``solvers.bgk.maxwellian.velocity_grid(L, N)``. C: the exact BGK relaxation or the
exponential midpoint scheme for Q with the steady-state correction Q(f) - Q(M̃) (AP for kn → 0, unconditionally
stable), each covering all cells per call.
Time step ``dt = cfl dx / max|v_x|`` (cfl ≤ 1/2), shortened per output interval so that the save times are hit
exactly (:func:`solvers.bgk.solver.time_steps`).

Outputs at the save times: ρ, u = u_x, T, P_xx - p, q_x, from the Chu-reduced distributions on the v_x grid
``g = ∫ f dv_y dv_z`` and ``b = ∫ ½(v_y² + v_z²) f dv_y dv_z``, exactly the (h, b) pair of the BGK solver's
``dim = 3`` (:mod:`solvers.bgk.maxwellian`; the moments assume u_y = u_z = 0, which states with u along x keep).
With ``save_production`` also the reduced pair of the collision rate C(f)/kn at the save times
(:func:`solvers.boltzmann_relaxation.collision_rate`): the collision source of the moments of (g, b).
"""

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit, prange

from .bgk import initial
from .bgk import maxwellian as mx
from .bgk.grid import PhaseGrid
from .bgk.options import MUSCL_MINMOD, boundary_code, cfl_limit
from .bgk.solver import time_steps
from .bgk.transport import sweep_cells
from .boltzmann_collision import MaxwellCollision, negativity
from .boltzmann_relaxation import COLLISIONS, MAX_SUBSTEPS, collide, collision_rate, local_maxwellians
from .boltzmann_velocity import TAILS, VelocityGrid

__all__ = ["TAILS", "KineticGrid", "KineticSolution", "initial_state", "reduce", "solve"]



class KineticGrid:
    """n_x uniform cells of [x_min, x_max] (``boundary`` "periodic" or "outflow") times the N³ velocity grid of
    ``operator``. Attributes: ``x`` (n_x,) cell centres, ``dx``, ``velocity`` (the
    :class:`~solvers.boltzmann_velocity.VelocityGrid`), ``operator``, ``phase`` (the BGK solver's
    :class:`~solvers.bgk.grid.PhaseGrid` of dim 3 on the same x cells and v_x midpoints: its reduced solve and
    its initial profiles, :mod:`solvers.bgk.initial`)."""

    def __init__(self, x_min: float, x_max: float, n_x: int, boundary: str = "periodic",
                 operator: MaxwellCollision | None = None):
        if not isinstance(operator, MaxwellCollision):
            raise ValueError(f"KineticGrid: operator must be a MaxwellCollision, got {type(operator).__name__}")
        self.operator = operator
        self.velocity: VelocityGrid = operator.grid
        self.phase = PhaseGrid(float(x_min), float(x_max), n_x, self.velocity.L, self.velocity.n, dim=3,
                               boundary=boundary)
        self.x_min, self.x_max, self.n_x, self.boundary = self.phase.x_min, self.phase.x_max, int(n_x), boundary

    @property
    def dx(self) -> float:
        return self.phase.dx

    @property
    def x(self) -> np.ndarray:
        return self.phase.x

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n_x, N, N, N): the shape of f."""
        return (self.n_x,) + self.velocity.shape


@dataclass
class KineticSolution:
    """Output of :func:`solve` at n_t save times.

    ``t`` (n_t,); ``rho, u, T, p_xx, q`` (n_t, n_x): density, x-velocity, temperature, P_xx - p and the x heat
    flux; ``g, b`` (n_t, n_x, N): the reduced distributions on the v_x grid (None unless ``save_reduced``);
    ``production`` (n_t, 2, n_x, N), units "1" (per unit time): the (g, b) pair of the collision rate C(f)/kn at
    each save time, ``reduce(collision_rate(f, ...))`` with the solve's collision, kn and steady_state (None
    unless ``save_production``; it costs 2 evaluations of Q per save time for Maxwell, 1 of M̃ for BGK, not
    counted in ``collision_evaluations``);
    ``f_final`` (n_x, N, N, N) at t[-1]; ``n_steps``; ``collision_evaluations`` (calls of Q, or of M̃ for BGK,
    each over all cells); ``min_relative_f``: the most negative min f / max f of a cell seen after any step
    (0 if f stayed nonnegative).
    """

    grid: KineticGrid
    t: np.ndarray
    rho: np.ndarray
    u: np.ndarray
    T: np.ndarray
    p_xx: np.ndarray
    q: np.ndarray
    g: np.ndarray | None
    b: np.ndarray | None
    production: np.ndarray | None
    f_final: np.ndarray
    n_steps: int
    collision_evaluations: int
    min_relative_f: float


def initial_state(grid: KineticGrid, rho, u, T) -> np.ndarray:
    """Local Maxwellians M[ρ, (u, 0, 0), T] on the 3-D grid, shape (n_x, N, N, N), from profiles ρ, u, T
    (scalars or (n_x,)). Raises :class:`~solvers.bgk.errors.NonPositiveState` (ρ or T ≤ 0) or
    :class:`~solvers.bgk.errors.VelocityGridError` (``|u| + TAILS sqrt(T) > L``: tails above 1e-10 of the peak
    leave the box; or ``dv > sqrt(T)``: too coarse), naming the quantity, the first such cell and the bound."""
    profiles = initial.on_cells(rho, u, T, grid.phase)
    initial.check_state(profiles, grid.phase, tails=TAILS)
    velocity = np.zeros((grid.n_x, 3))
    velocity[:, 0] = profiles.u
    return local_maxwellians(grid.velocity, profiles.rho, velocity, profiles.T)


def reduce(f: np.ndarray, grid: VelocityGrid) -> np.ndarray:
    """The (h, b) pair of the BGK solver's dim 3, shape (2, cells, N): ``∫ f dv_y dv_z`` and
    ``∫ ½(v_y² + v_z²) f dv_y dv_z`` of f (cells, N, N, N)."""
    w = 0.5 * (grid.v[:, None] ** 2 + grid.v[None, :] ** 2)
    area = grid.dv * grid.dv
    return np.stack([f.sum(axis=(2, 3)) * area, np.einsum("cijk,jk->ci", f, w) * area])


@njit(cache=True, parallel=True)
def _transport(f, stage, v, jn, lam, scheme, boundary):
    """One SSP-RK2 transport step of every component, in place: f, stage (n_comp, n_x, n_v), v sorted with
    v[:jn] < 0, lam = dt/dx."""
    nx = f.shape[1]
    for c in prange(f.shape[0]):
        sweep_cells(stage[c], f[c], 0, nx, v, jn, lam, scheme, boundary, 0.0, 1.0)
        sweep_cells(f[c], stage[c], 0, nx, v, jn, lam, scheme, boundary, 0.5, 0.5)


def _transport_step(f, grid, dt, boundary):
    """f (n_x, N, N, N) after dt of ``∂_t f + v_x ∂_x f = 0``, through the layout (N², n_x, N) of the 1-D
    kernels."""
    n_x, n = f.shape[0], f.shape[1]
    comps = np.ascontiguousarray(f.reshape(n_x, n, n * n).transpose(2, 0, 1))
    v = grid.velocity.v
    _transport(comps, np.empty_like(comps), v, int(np.searchsorted(v, 0.0)), dt / grid.dx, MUSCL_MINMOD, boundary)
    return np.ascontiguousarray(comps.transpose(1, 2, 0).reshape(f.shape))


def _check_kn(kn) -> float:
    try:
        kn = float(kn)
    except (TypeError, ValueError):
        raise ValueError(f"kn must be a number in [0, inf], got {kn!r}") from None
    if math.isnan(kn) or kn < 0:
        raise ValueError(f"kn must be >= 0 (inf: free streaming), got {kn!r}")
    return kn


def solve(f0: np.ndarray, grid: KineticGrid, kn: float, t_save, *, collision: str = "maxwell", cfl: float = 0.4,
          save_reduced: bool = True, progress: Callable[[float, float], None] | None = None,
          max_substeps: int = MAX_SUBSTEPS, steady_state: bool = True,
          save_production: bool = False) -> KineticSolution:
    """Advance f0 (n_x, N, N, N) on ``grid`` from t = 0 and return the moments at the times ``t_save`` (n_t,),
    nondecreasing, ≥ 0 (module docstring).

    kn: Knudsen number in [0, inf] (0: the Euler limit, f ← M̃ after every transport step; inf: free streaming).
    collision: "maxwell", "bgk" or "none". cfl: max|v_x| dt/dx in (0, 1/2]. progress: called as
    ``progress(t, t_save[-1])`` after every step. max_substeps: the cap on the Maxwell collision sub-steps;
    steady_state: the Maxwell drift with Q(f) - Q(M̃), so that M̃ is an exact steady state (default), or
    with Q(f) (:mod:`.boltzmann_relaxation`). save_production: also the reduced collision rate at the save
    times (``KineticSolution.production``); needs kn > 0 (ValueError naming kn at kn = 0, before solving).
    """
    if not isinstance(grid, KineticGrid):
        raise ValueError(f"grid must be a KineticGrid, got {type(grid).__name__}")
    kn = _check_kn(kn)
    if collision not in COLLISIONS:
        raise ValueError(f"collision must be one of {COLLISIONS}, got {collision!r}")
    if not 0 < cfl <= cfl_limit("muscl"):
        raise ValueError(f"cfl = {cfl!r} is outside (0, {cfl_limit('muscl')}]")
    if int(max_substeps) != max_substeps or max_substeps < 1:
        raise ValueError(f"max_substeps must be an integer >= 1, got {max_substeps!r}")
    if save_production and kn == 0.0:
        raise ValueError("save_production needs kn > 0: the collision rate C(f)/kn is undefined at kn = 0 "
                         "(the Euler limit)")
    f = np.array(f0, dtype=np.float64, order="C", copy=True)
    if f.shape != grid.shape:
        raise ValueError(f"f0 must have shape {grid.shape} (n_x, N, N, N) for this grid, got {np.shape(f0)}")
    if not np.all(np.isfinite(f)):
        raise ValueError("f0 contains non-finite values")
    vel = grid.velocity
    n_steps, dts = time_steps(t_save, cfl * grid.dx / np.abs(vel.v).max())
    t = np.asarray(t_save, dtype=np.float64).copy()
    boundary = boundary_code(grid.boundary)
    pairs = np.empty((t.size, 2, grid.n_x, vel.n))
    production = np.empty_like(pairs) if save_production else None
    evaluations = 0
    lowest = float(negativity(f).min())
    t_now = 0.0
    for k, (n, dt) in enumerate(zip(n_steps, dts)):
        if n > 0:
            f, e = collide(f, grid.operator, kn, 0.5 * dt, collision, max_substeps, steady_state)
            evaluations += e
        for s in range(n):
            f = _transport_step(f, grid, dt, boundary)
            f, e = collide(f, grid.operator, kn, dt if s < n - 1 else 0.5 * dt, collision, max_substeps,
                           steady_state)
            evaluations += e
            lowest = min(lowest, float(negativity(f).min()))
            t_now = t[k] if s == n - 1 else t_now + dt
            if progress is not None:
                progress(t_now, float(t[-1]))
        pairs[k] = reduce(f, vel)
        if save_production:
            production[k] = reduce(collision_rate(f, grid.operator, kn, collision, steady_state), vel)
    rho, m, E = mx.moments(pairs, vel.v, vel.dv, dim=3)
    u, T, p = mx.primitives(rho, m, E, dim=3)
    p_xx = mx.central_moment(pairs, vel.v, vel.dv, 2, dim=3) - p
    q = mx.heat_flux(pairs, vel.v, vel.dv, dim=3)
    return KineticSolution(grid=grid, t=t, rho=rho, u=u, T=T, p_xx=p_xx, q=q,
                           g=pairs[:, 0].copy() if save_reduced else None,
                           b=pairs[:, 1].copy() if save_reduced else None, production=production, f_final=f,
                           n_steps=int(n_steps.sum()),
                           collision_evaluations=evaluations, min_relative_f=lowest)
