"""The collision step of the 1D3V kinetic solver: ``∂_t f = C(f) / kn`` in every cell over a time h, x frozen.

Collision operators C on the N³ grid of a :class:`~solvers.boltzmann_collision.MaxwellCollision` (nondimensional,
units "1"; f of shape (cells, N, N, N)):

- ``"maxwell"``: C = Q(f, f), the Maxwell-molecule operator (collision frequency ρ per unit kn: the loss term of
  pseudo-Maxwell molecules is ρ f), projected onto zero mass, momentum and energy;
- ``"bgk"``: C = ρ (I - Π)(M[f] - f), M[f] the discrete Maxwellian with f's ρ, u (3-vector), T and Π the same
  conservation projection as Q's (``Π g = Cᵀ (C Cᵀ)⁻¹ C g``, C the 5 x N³ weights of 1, v, |v|²);
- ``"none"``: no collisions (free streaming).

**The conservative equilibrium.** M̃ = M[f] + Π(f - M[f]): the discrete Maxwellian corrected by a quadratic
polynomial in v (of the size of M's quadrature error, 1e-10 at Δv ≈ 0.9 √T) so that its discrete mass, momentum
and energy equal f's exactly. Both collision steps conserve those, so M̃ is frozen during a step, and on
states with f's moments ``(I - Π)(M[f] - g) = M̃ - g``.

**BGK** is integrated exactly: ``f ← M̃ + e^{-λ} (f - M̃)``, ``λ = ρ h / kn`` per cell: conservative to
round-off (its increment is (1 - e^{-λ})(I - Π)(M - f)), unconditionally stable, a convex combination of f
and M̃, and f = M̃ at kn = 0. One evaluation of M̃ per step.

**Maxwell molecules**: the penalization of Dimarco & Pareschi ("Exponential Runge-Kutta methods for stiff
kinetic equations", SIAM J. Numer. Anal. 49, 2011) with P(f) = ρ (M̃ - f) (β = ρ, the loss frequency of
pseudo-Maxwell molecules)::

    ∂_t f = (ρ/kn)(M̃ - f) + (ρ/kn) D(f),     D(f) = (Q(f) - Q(M̃))/ρ + f - M̃,

the first term exact (integrating factor e^{λ}, in the variable (f - M̃) e^{ρ t/kn}) and the second by the
explicit midpoint rule, one of their exponential RK schemes (second order, 2 evaluations of Q per sub-step)::

    f_½  = M̃ + e^{-λ/2} [(f - M̃) + (λ/2) D(f)],
    f'   = M̃ + e^{-λ} (f - M̃) + λ e^{-λ/2} D(f_½),         λ = ρ h_s / kn per cell.

Every explicit term carries e^{-λ(1 - c)} with the stage abscissa c < 1, so f' → M̃ as kn → 0 at any h_s
(asymptotic preserving: the Euler limit at bounded cost), and D has zero moments, so the step conserves to
round-off. On an eigenmode of the linearised operator with rate κρ (κ = 1/2 for the stress, 1/3 for the heat
flux) the factor is ``e^{-λ} (1 + x + x²/2)``, x = (1 - κ) λ: positive, at most the exact e^{-κλ} for every
λ (unconditionally stable), with a rate error of about (1 - κ)³ λ² / (6 κ) (0.15 % for the heat flux at
λ = 0.1). Sub-steps: h_s = h / n with n = ceil(ρ_max h / (kn :data:`SUBSTEP_LAMBDA`)) capped at
``max_substeps`` (default :data:`MAX_SUBSTEPS`): beyond the cap λ grows instead of the cost, the relaxation
is then too fast (rates too large, the solution closer to Euler), never unstable. Why this scheme: the
Maxwell step has no closed form and the operator is expensive, so one wants an explicit scheme (no solves with
Q) that is stable and AP for any h/kn; the penalization by ρ (M̃ - f) takes the stiff linear part exactly, as
the BGK step does, and the midpoint form keeps the AP property that Heun's form (an undamped final stage) loses.

The term ``- Q(M̃)`` is the steady-state correction of Filbet, Pareschi & Rey ("On steady-state preserving spectral
methods for homogeneous Boltzmann equations", C. R. Math. Acad. Sci. Paris 353, 2015): the spectral Q does not
vanish at a Maxwellian (|Q(M)| ≈ 4e-4 max M at N = 16, 1.4e-6 at N = 24, module :mod:`.boltzmann_collision`), so
without it f relaxes to the operator's own discrete equilibrium, whose offset from M̃ is independent of kn and at
small kn as large as the physical non-equilibrium (at N = 16, kn = 1e-3 it changed the heat flux of a temperature
wave by 25 % and made it depend on the sub-step); with it M̃ is an exact steady state and the spectral accuracy is
kept. Q(M̃) is evaluated once per collision step (M̃ is frozen), so a step costs 2n + 1 evaluations of Q
(``steady_state=False``: 2n, the uncorrected operator).

**The collision rate.** :func:`collision_rate` returns the right-hand side C(f)/kn that the steps integrate, per
unit time: Q(f) - Q(M̃) (or Q(f)), ρ (M̃ - f) or 0, divided by kn; conservative to round-off. It is the collision
source of moments (training data of a learned closure); 2 evaluations of Q for Maxwell, 1 of M̃ for BGK.
"""

import math

import numpy as np

from .boltzmann_collision import MaxwellCollision
from .boltzmann_velocity import VelocityGrid

__all__ = ["COLLISIONS", "SUBSTEP_LAMBDA", "MAX_SUBSTEPS", "local_maxwellians", "conservative_equilibrium",
           "collide", "collision_rate"]

COLLISIONS = ("maxwell", "bgk", "none")
#: the largest ρ h_s / kn of a Maxwell sub-step below the cap (rate errors ≲ 4 % for the heat flux)
SUBSTEP_LAMBDA = 0.5
#: default cap on the Maxwell sub-steps per collision step
MAX_SUBSTEPS = 4


def local_maxwellians(grid: VelocityGrid, rho: np.ndarray, u: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ρ (2πT)^(-3/2) exp(-|v - u|²/(2T)) per cell, shape (cells, N, N, N), from rho, T (cells,) and u (cells, 3)
    (a product of three 1-D Gaussians)."""
    c = grid.v[None, None, :] - u[:, :, None]                       # (cells, 3, N)
    g = np.exp(-c * c / (2.0 * T[:, None, None]))
    amp = rho * (2.0 * np.pi * T) ** -1.5
    return amp[:, None, None, None] * g[:, 0, :, None, None] * g[:, 1, None, :, None] * g[:, 2, None, None, :]


def conservative_equilibrium(op: MaxwellCollision, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M̃, ρ): the discrete Maxwellian of each cell corrected to f's discrete mass, momentum and energy
    (module docstring), shape (cells, N, N, N), and the densities (cells,). Raises ValueError for a cell whose
    density or temperature is not positive."""
    grid = op.grid
    m = grid.moments(f)
    rho = m[:, 0]
    u = m[:, 1:4] / rho[:, None]
    T = (m[:, 4] / rho - (u * u).sum(axis=1)) / 3.0
    bad = np.flatnonzero(~((rho > 0) & (T > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"collision step: cell {i} has rho = {rho[i]!r}, T = {T[i]!r} (both must be > 0)")
    M = local_maxwellians(grid, rho, u, T)
    return f + op.project(M - f), rho


def _check_collision(collision: str) -> None:
    if collision not in COLLISIONS:
        raise ValueError(f"collision must be one of {COLLISIONS}, got {collision!r}")


def _maxwell(f, op, kn, h, max_substeps, steady_state):
    """The exponential midpoint sub-steps of the module docstring; returns (f, evaluations of Q)."""
    Mt, rho = conservative_equilibrium(op, f)
    if kn == 0.0:
        return Mt, 0
    n = min(max_substeps, max(1, math.ceil(rho.max() * h / (kn * SUBSTEP_LAMBDA))))
    lam = (rho * (h / n) / kn)[:, None, None, None]
    e_half = np.exp(-0.5 * lam)
    e_full = np.exp(-lam)
    inv_rho = 1.0 / rho[:, None, None, None]
    Q_eq = op(Mt) if steady_state else 0.0

    def drift(g):  # D(g) = (Q(g) - Q(M̃))/ρ + g - M̃, or Q(g)/ρ + g - M̃
        return (op(g) - Q_eq) * inv_rho + (g - Mt)

    for _ in range(n):
        half = Mt + e_half * ((f - Mt) + 0.5 * lam * drift(f))
        f = Mt + e_full * (f - Mt) + lam * e_half * drift(half)
    return f, 2 * n + int(steady_state)


def collide(f: np.ndarray, op: MaxwellCollision, kn: float, h: float, collision: str = "maxwell",
            max_substeps: int = MAX_SUBSTEPS, steady_state: bool = True) -> tuple[np.ndarray, int]:
    """f after a time h of ``∂_t f = C(f)/kn`` (module docstring) in every cell at once, and the number of
    collision-operator evaluations it took (each covers all cells: Q for ``"maxwell"``, M̃ for ``"bgk"``).

    f: (cells, N, N, N) on ``op.grid``; kn in [0, inf] (0: f ← M̃, inf: no change); h ≥ 0; ``steady_state``:
    the Maxwell drift uses Q(f) - Q(M̃) (default) or Q(f).
    """
    _check_collision(collision)
    if collision == "none" or math.isinf(kn) or h == 0.0:
        return f, 0
    if collision == "bgk":
        Mt, rho = conservative_equilibrium(op, f)
        if kn == 0.0:
            return Mt, 1
        decay = np.exp(-rho * h / kn)[:, None, None, None]
        return Mt + decay * (f - Mt), 1
    return _maxwell(f, op, kn, h, max_substeps, steady_state)


def collision_rate(f: np.ndarray, op: MaxwellCollision, kn: float, collision: str = "maxwell",
                   steady_state: bool = True) -> np.ndarray:
    """C(f)/kn, the right-hand side that :func:`collide` integrates, shape (cells, N, N, N) like f, units "1"
    (per unit time): ``"maxwell"``: Q(f) - Q(M̃) (``steady_state``, default) or Q(f), both projected onto zero
    mass, momentum and energy; ``"bgk"``: ρ (M̃ - f); ``"none"``: 0.

    kn in (0, inf] (inf: zeros); kn = 0 (the Euler limit, where the rate is undefined) or a negative or NaN kn
    raises ValueError naming kn.
    """
    _check_collision(collision)
    if not kn > 0.0:
        raise ValueError(f"collision_rate: kn must be > 0 (inf: no collisions), got {kn!r}")
    if collision == "none" or math.isinf(kn):
        return np.zeros_like(f)
    if collision == "bgk":
        Mt, rho = conservative_equilibrium(op, f)
        return (rho / kn)[:, None, None, None] * (Mt - f)
    if not steady_state:
        return op(f) / kn
    Mt, _ = conservative_equilibrium(op, f)
    return (op(f) - op(Mt)) / kn
