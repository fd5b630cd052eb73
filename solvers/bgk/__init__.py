"""Kinetic BGK solver: 1-D in x, velocity dim 1 (f, gamma = 3) or 3 (reduced h, b; gamma = 5/3).

    ∂_t f + v ∂_x f = (M[f] - f) / tau,   tau = kn (or kn/rho, kn/(rho T^(1-omega))),

discrete velocities on ``[-v_max, v_max]``, finite volumes in x (periodic or outflow),
MUSCL (minmod / van Leer) or upwind transport with SSP-RK2, exact relaxation in Strang
splitting or IMEX. Plain numpy arrays in and out; everything is nondimensional (units "1").
Distributions have shape ``(n_comp, n_x, n_v)`` per run, ``(n_batch, n_comp, n_x, n_v)`` per batch.

Public API
----------
Grid (:mod:`.grid`):
    PhaseGrid(x_min, x_max, n_x, v_max, n_v, dim=1, boundary="periodic")  .x .dx .v .dv .shape .gamma
Solver (:mod:`.solver`, numba):
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
    random_wave(rng, grid, ...), random_mix(rng, grid, ...), local_maxwellian(rho, u, T, grid);
    their primitive profiles (-> Profiles: rho, u, T (n_x,), the split pair theta, r):
    riemann_profiles, sod_profiles, wave_profiles, free_stream_sine_profiles, two_maxwellian_profiles,
    random_wave_profiles, random_mix_profiles; distribution(profiles, grid), check_state(profiles, grid)
Errors (:mod:`.errors`, ValueError subclasses carrying their numbers):
    NonPositiveState(quantity, value, cell=, x=, side=),
    VelocityGridError(problem, quantity, cell, x, value, bound, needed), TOO_NARROW, TOO_COARSE
References:
    riemann.star_state(left, right, gamma), riemann.wave_speeds(...), riemann.sample(left, right, gamma, xi)
    continuum.solve_continuum(rho, m, E, dx, t_save, dim, kn, model="euler"|"navier_stokes", boundary, ...)
    free_streaming.sine_moments(x, t, amplitude, T0, ...), free_streaming.riemann_moments(x, t, x0, left, right, dim)
Options and limits:
    options.cfl_limit(transport), relaxation.relaxation_time(rho, T, kn, frequency, omega),
    TRANSPORTS, LIMITERS, BOUNDARIES (:mod:`.options`), RELAXATIONS, FREQUENCIES (:mod:`.relaxation`, numba)
Norms: norms.relative_difference(a, b, order)

The package imports its modules on first use (PEP 562): ``solvers.bgk.initial``, ``.grid``,
``.maxwellian``, ``.options`` and ``.errors`` are numpy only, so spec validation compiles nothing;
``bgk.solve`` and the other numba parts load numba when first named.
"""

import importlib

#: public name -> the module that defines it
_NAMES = {
    "PhaseGrid": "grid",
    "Solution": "solver", "solve": "solver", "time_steps": "solver", "warmup": "solver",
    "cfl_limit": "options", "TRANSPORTS": "options", "LIMITERS": "options", "BOUNDARIES": "options",
    "relaxation_time": "relaxation", "RELAXATIONS": "relaxation", "FREQUENCIES": "relaxation",
}
_MODULES = ("continuum", "errors", "free_streaming", "grid", "initial", "maxwellian", "norms", "options",
            "relaxation", "riemann", "solver", "transport", "vexp")

__all__ = [*_NAMES, *_MODULES]


def __getattr__(name):
    """Import the module of ``name`` on first use (a submodule, or the module that defines a public name)."""
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_NAMES, *_MODULES})
