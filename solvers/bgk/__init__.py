"""Kinetic BGK solver: 1-D in x, velocity dim 1 (f, gamma = 3) or 3 (reduced h, b; gamma = 5/3).

    ∂_t f + v ∂_x f = (M[f] - f) / tau,   tau = kn (or kn/rho, kn/(rho T^(1-omega))),

discrete velocities on ``[-v_max, v_max]``, finite volumes in x (periodic or outflow),
MUSCL (minmod / van Leer) or upwind transport with SSP-RK2, exact relaxation in Strang
splitting or IMEX. Plain numpy arrays in and out; everything is nondimensional (units "1").
Distributions have shape ``(n_comp, n_x, n_v)`` per run, ``(n_batch, n_comp, n_x, n_v)`` per batch.

Public API
----------
Solver (:mod:`.solver`):
    PhaseGrid(x_min, x_max, n_x, v_max, n_v, dim=1, boundary="periodic")  .x .dx .v .dv .shape .gamma
    solve(f0, grid, kn, t_save, *, transport="muscl", limiter="minmod", relaxation="exact", cfl=0.4,
          frequency="constant", omega=0.81, dt_max=None, save_distribution=False, overwrite=False) -> Solution
    Solution: t, rho, m, E, q (n_batch, n_t, n_x), H (n_batch, n_t), f, dt, n_steps; .u .T .p .mass .momentum .energy
    time_steps(t_save, dt_limit) -> (n_steps, dts);  warmup()
Moments (:mod:`.maxwellian`):
    velocity_grid(v_max, n_v), maxwellian(rho, u, T, v, dim), moments(f, v, dv, dim), primitives(rho, m, E, dim),
    conserved(rho, u, T, dim), heat_flux(f, v, dv, dim), central_moment(f, v, dv, k, dim),
    entropy(f, v, dv, dx, dim), gamma(dim), n_components(dim)
Initial data (:mod:`.initial`), each -> (n_comp, n_x, n_v):
    riemann(grid, left, right, x0), sod(grid, x0), wave(grid, rho, u, T, rho0, u0, T0),
    free_stream_sine(grid, amplitude, T0, average), two_maxwellian(grid, rho, u, T, theta, r),
    random_wave(rng, grid, ...), random_mix(rng, grid, ...), local_maxwellian(rho, u, T, grid),
    check_state(rho, u, T, grid)
References:
    riemann.star_state(left, right, gamma), riemann.wave_speeds(...), riemann.sample(left, right, gamma, xi)
    continuum.solve_continuum(rho, m, E, dx, t_save, dim, kn, model="euler"|"navier_stokes", boundary, ...)
    free_streaming.sine_moments(x, t, amplitude, T0, ...), free_streaming.riemann_moments(x, t, x0, left, right, dim)
Options and limits:
    transport.cfl_limit(transport), relaxation.relaxation_time(rho, T, kn, frequency, omega),
    TRANSPORTS, LIMITERS, BOUNDARIES, RELAXATIONS, FREQUENCIES
"""

from . import continuum, free_streaming, initial, maxwellian, riemann
from .relaxation import FREQUENCIES, RELAXATIONS, relaxation_time
from .solver import PhaseGrid, Solution, solve, time_steps, warmup
from .transport import BOUNDARIES, LIMITERS, TRANSPORTS, cfl_limit

__all__ = ["PhaseGrid", "Solution", "solve", "time_steps", "warmup", "cfl_limit", "relaxation_time",
           "TRANSPORTS", "LIMITERS", "BOUNDARIES", "RELAXATIONS", "FREQUENCIES",
           "continuum", "free_streaming", "initial", "maxwellian", "riemann"]
