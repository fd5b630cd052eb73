"""Kind ``boltzmann``: the Boltzmann equation of Maxwell molecules in 1D3V, from the Euler limit to free flow.

    ∂_t f + v_x ∂_x f = Q(f, f) / kn,

f on n_x cells in x times an N³ velocity grid, Q the fast spectral (Mouhot-Pareschi) operator of pseudo-Maxwell
molecules with its conservation projection (:mod:`solvers.boltzmann_collision`), or the BGK operator on the same
grid (``collision.operator: bgk``); MUSCL transport with SSP-RK2 and split collisions
(:mod:`solvers.boltzmann_kinetic`). Everything is nondimensional (units "1").

Variables of a run (dims ``t``, ``x``; ``v`` for the saved reduced distributions):

- ``rho, u, temperature, p, m, E, p_xx`` (P_xx - p), ``q`` (heat flux) over (t, x); ``mass, momentum, energy,
  min_relative_f`` (positivity monitor) over t; ``collision_evaluations``, ``n_steps``;
- references on the same grid in x, one per entry of ``references``: ``rho_euler, u_euler, T_euler`` (gamma 5/3),
  ``rho_ns, u_ns, T_ns, p_xx_ns, q_ns`` (Navier-Stokes with the operator's viscosity and Prandtl number) and
  ``rho_bgk, u_bgk, T_bgk, p_xx_bgk, q_bgk`` (the reduced 1D3V BGK solver of kind ``bgk`` at the same viscosity);
- at the final time, ``l2_<q>_<ref>`` (and ``l1_<q>_<ref>`` for Riemann data) for q in rho, m, T;
- ``g``, ``b`` over (t, x, v) when ``output.distribution`` is true: the reduced distributions of kind ``bgk``.

Modules: :mod:`.spec`, :mod:`.memory`, :mod:`.run`, :mod:`.analysis`.
"""

from __future__ import annotations

from engine.kind import Kind


class Boltzmann(Kind):
    """The Boltzmann equation of Maxwell molecules in 1D3V, with Euler, Navier-Stokes and BGK references."""

    kind = "boltzmann"
    version = "1"
    summary = "Boltzmann equation of Maxwell molecules in 1D3V (fast spectral collisions), Euler to free flow"
    spec_class = ".spec:BoltzmannSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:BoltzmannAnalysis"
    template_sweep = ("collision.kn", [0.01, 0.1, 1.0])
    template_values = {"grid.n_x": 32, "time.t_final": 0.05}
    resumable = True
    smoke_overrides = ("grid.n_x=8", "velocity.degree=3", "velocity.rank=1",
                       "time.t_final=0.01", "time.save_every=null")
