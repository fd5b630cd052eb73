"""Kind ``bgk``: the kinetic BGK equation in 1-D, from the Euler limit to free molecular flow.

    ∂_t f + v ∂_x f = (M[f] - f) / tau,   tau = Kn (frequency constant; also rho, vhs),

solved by :mod:`solvers.bgk` (discrete velocities on [-v_max, v_max], finite volumes in x,
MUSCL or upwind transport, exact or IMEX relaxation). Everything is nondimensional (units "1").

Variables of a run (dims ``t``, ``x``; ``v`` for the saved distribution):

- ``rho, u, T, p, m, E, q`` (heat flux) over (t, x); ``mass, momentum, energy, H`` over t;
- references on the same grid, one per entry of ``references``: ``rho_euler, u_euler, T_euler``
  and ``rho_ns, u_ns, T_ns`` (exact Riemann solution for Riemann data on an outflow grid,
  finite-volume Euler / Navier-Stokes otherwise);
- at the final time, ``l2_<q>_<ref>`` = ||q - q_ref||_2 / ||q_ref||_2 for q in rho, m, T
  (and ``l1_<q>_<ref>`` for Riemann data);
- ``f`` (and ``f_b``, the second reduced distribution for ``velocity.dim: 3``) over (t, x, v)
  when ``output.distribution`` is true.

Modules: :mod:`.spec` (the spec and its checks), :mod:`.run` (one run: the kinetic time loop, the
references, the dataset), :mod:`.analysis` (report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class BGK(Kind):
    """The kinetic BGK equation, with Euler and Navier-Stokes references on the same grid."""

    kind = "bgk"
    version = "2"  # 2: the temperature is named `temperature` (`T` clashed with the time `t` in CF)
    summary = "kinetic BGK flow in 1-D (1D1V / reduced 1D3V), Euler to free molecular, with continuum references"
    spec_class = ".spec:BGKSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:BGKAnalysis"
    template_sweep = ("collision.kn", [0.001, 0.1, 10.0])
    resumable = True
    smoke_overrides = ("grid.n_x=40", "time.t_final=0.02", "time.save_every=null")
