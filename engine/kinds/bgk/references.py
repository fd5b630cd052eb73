"""Continuum references of a kinetic run on its own grid in x: the exact Euler solution of Riemann data, or
finite-volume Euler / Navier-Stokes (:func:`solvers.bgk.continuum.solve_continuum`), and their final-time
differences to the kinetic moments. Shared by the kinds ``bgk`` and ``boltzmann``; nondimensional (units "1").

Profiles are ``(rho, u, T)``, each ``(n_t, n_x)``; the comparison variables are
``l2_<q>_<suffix>`` (and ``l1_<q>_<suffix>`` for Riemann data) = ||q - q_ref|| / ||q_ref|| at the final time,
for q in rho, m (= rho u), T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.kind import RunFailed, variable
from solvers import bgk
from solvers.bgk.norms import relative_difference

from .spec import RIEMANN_KINDS

#: Suffix of a reference's variables (``rho_euler``, ``T_ns``).
SUFFIX = {"euler": "euler", "navier_stokes": "ns", "bgk": "bgk"}


@dataclass(frozen=True)
class Transport:
    """Navier-Stokes coefficients in the continuum solver's terms: viscosity ``mu = tau p`` with ``tau`` from
    ``kn`` and ``frequency`` (:func:`solvers.bgk.relaxation.relaxation_time`), heat conductivity from ``prandtl``."""

    kn: float
    frequency: str = "constant"
    omega: float = 0.81
    prandtl: float = 1.0


def exact_riemann(initial, grid: bgk.PhaseGrid, t: np.ndarray):
    """rho, u, T (each ``(n_t, n_x)``) of the exact Euler solution of the Riemann data of the ``initial``
    section (kind ``sod`` or ``riemann``) at the times ``t``."""
    x = grid.x
    left, right = bgk.initial.SOD if initial.kind == "sod" else (tuple(initial.left), tuple(initial.right))
    x0 = bgk.initial.jump_position(grid, initial.x0)
    gam = bgk.maxwellian.gamma(grid.dim)
    rho, u, T = (np.empty((t.size, x.size)) for _ in range(3))
    for k, tk in enumerate(t):
        if tk > 0:
            r, uu, p = bgk.riemann.sample(left, right, gam, (x - x0) / tk)
        else:
            r, uu, p = (np.where(x < x0, a, b) for a, b in zip(left, right))
        rho[k], u[k], T[k] = r, uu, p / r
    return rho, u, T


def continuum(name: str, initial, grid: bgk.PhaseGrid, rho0, m0, E0, t: np.ndarray, transport: Transport):
    """rho, u, T (each ``(n_t, n_x)``) of reference ``name`` (``euler`` or ``navier_stokes``) from the initial
    moments (each ``(n_x,)``): the exact Riemann solution for Euler on Riemann data with outflow boundaries,
    else the continuum solver. Raises RunFailed if the continuum solver does."""
    if name == "euler" and initial.kind in RIEMANN_KINDS and grid.boundary == "outflow":
        return exact_riemann(initial, grid, t)
    kn = transport.kn if name == "navier_stokes" else 0.0
    try:
        rho, m, E = bgk.continuum.solve_continuum(rho0, m0, E0, grid.dx, t, dim=grid.dim, kn=kn, model=name,
                                                  boundary=grid.boundary, frequency=transport.frequency,
                                                  omega=transport.omega, prandtl=transport.prandtl)
    except ValueError as exc:
        raise RunFailed(f"{name} reference: {exc}") from None
    u, T, _ = bgk.maxwellian.primitives(rho, m, E, grid.dim)
    return rho, u, T


def label(name: str) -> str:
    """``Euler``, ``Navier-Stokes``, ``BGK``."""
    return "BGK" if name == "bgk" else name.replace("_", "-").title()


def comparison_variables(name: str, profiles, kinetic, riemann: bool) -> dict:
    """The reference ``name``'s profiles ``(rho, u, T)`` over (t, x) as variables, and the final-time relative
    differences of the ``kinetic`` ``(rho, m, T)`` (each ``(n_t, n_x)``) to them."""
    sfx, lab, tx = SUFFIX[name], label(name), ("t", "x")
    r_rho, r_u, r_T = profiles
    data = {f"rho_{sfx}": variable(r_rho, f"density, {lab} reference", tx),
            f"u_{sfx}": variable(r_u, f"velocity, {lab} reference", tx),
            f"T_{sfx}": variable(r_T, f"temperature, {lab} reference", tx)}
    ref = {"rho": r_rho[-1], "m": r_rho[-1] * r_u[-1], "T": r_T[-1]}
    kin = dict(zip(("rho", "m", "T"), (q[-1] for q in kinetic)))
    norms = (2, 1) if riemann else (2,)
    for qn in ("rho", "m", "T"):
        for order in norms:
            data[f"l{order}_{qn}_{sfx}"] = variable(relative_difference(kin[qn], ref[qn], order),
                                                    f"relative L{order} difference of {qn} vs {lab} at t_final")
    return data
