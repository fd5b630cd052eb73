"""The 3-D velocity grid of the Boltzmann collision operator, velocity moments, and exact distributions.

Grid: N³ midpoints of the box [-L, L]³, ``v_j = -L + (j + ½) Δv``, ``Δv = 2L/N``, quadrature weight Δv³.
Distributions have shape (cells, N, N, N) (axes: cell, v_x, v_y, v_z), float64. Nondimensional units: velocity
in a reference thermal speed, time in the collision time of the kernel normalisation of
:mod:`solvers.boltzmann_collision` (the BKW solution relaxes as ``1 - exp(-t/6)``).

Exact solutions for that normalisation (3-D Maxwell molecules, ``∫_{S²} b dσ = 1``):

- BKW (Bobylev; Krook & Wu), density 1, velocity 0, temperature 1, for ``K(t) = 1 - exp(-t/6) ≥ 3/5``::

      f(v, t) = (2πK)^(-3/2) exp(-|v|²/(2K)) [(5K - 3)/(2K) + (1 - K)/(2K²) |v|²];

- the moments of every solution: the traceless stress ``P_ij - p δ_ij`` decays as ``exp(-ρ t/2)`` and the
  heat flux ``q`` as ``exp(-ρ t/3)`` (Truesdell & Muncaster), :data:`STRESS_RATE`, :data:`HEAT_FLUX_RATE`.
"""

import math

import numpy as np

__all__ = ["VelocityGrid", "bkw_K", "bkw", "bkw_time_derivative", "STRESS_RATE", "HEAT_FLUX_RATE",
           "BKW_RATE", "TAILS"]

#: a Maxwellian's tails must fall below 1e-10 of its peak inside the box: |u| + TAILS sqrt(T) <= L
TAILS = math.sqrt(2.0 * math.log(1e10))

#: relaxation rates per unit density: traceless stress, heat flux, and BKW's K (1 - K ∝ exp(-BKW_RATE t))
STRESS_RATE, HEAT_FLUX_RATE, BKW_RATE = 1.0 / 2.0, 1.0 / 3.0, 1.0 / 6.0


class VelocityGrid:
    """N³ midpoints of [-L, L]³: ``v`` (N,), ``dv`` (Δv), ``weight`` (Δv³), ``shape`` (N, N, N)."""

    def __init__(self, n: int, L: float):
        if n < 4 or n % 2:
            raise ValueError(f"velocity grid: n = {n} must be even and ≥ 4")
        self.n, self.L = n, float(L)
        self.dv = 2.0 * self.L / n
        self.v = -self.L + (np.arange(n) + 0.5) * self.dv
        self.weight = self.dv ** 3
        self.shape = (n, n, n)

    def mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """v_x, v_y, v_z broadcastable to (N, N, N)."""
        v = self.v
        return v[:, None, None], v[None, :, None], v[None, None, :]

    def speed_squared(self) -> np.ndarray:
        """|v|², shape (N, N, N)."""
        vx, vy, vz = self.mesh()
        return vx * vx + vy * vy + vz * vz

    def maxwellian(self, rho: float, u, T: float) -> np.ndarray:
        """ρ (2πT)^(-3/2) exp(-|v - u|²/(2T)), shape (N, N, N)."""
        vx, vy, vz = self.mesh()
        c2 = (vx - u[0]) ** 2 + (vy - u[1]) ** 2 + (vz - u[2]) ** 2
        return rho * (2 * np.pi * T) ** -1.5 * np.exp(-c2 / (2 * T))

    def bi_maxwellian(self, rho: float, u, temperatures) -> np.ndarray:
        """Gaussian with mean u and diagonal temperatures (T_x, T_y, T_z), density ρ, shape (N, N, N)."""
        out = np.full(self.shape, float(rho))
        for axis, (ua, Ta) in enumerate(zip(u, temperatures)):
            shape = [1, 1, 1]
            shape[axis] = self.n
            out = out * (np.exp(-(self.v - ua) ** 2 / (2 * Ta)) / np.sqrt(2 * np.pi * Ta)).reshape(shape)
        return out

    def moments(self, f: np.ndarray) -> np.ndarray:
        """(cells, 5): ∫ f, ∫ v f (3), ∫ |v|² f for f of shape (cells, N, N, N)."""
        vx, vy, vz = self.mesh()
        cols = [np.ones(self.shape), vx + 0 * vy, vy + 0 * vx, vz + 0 * vx, self.speed_squared()]
        return np.stack([np.einsum("cijk,ijk->c", f, c) for c in cols], axis=1) * self.weight

    def stress_and_heat_flux(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P_ij = ∫ c_i c_j f (cells, 3, 3) and q_i = ½ ∫ c_i |c|² f (cells, 3), c = v - u (u the mean
        velocity)."""
        m = self.moments(f)
        u = m[:, 1:4] / m[:, :1]
        vx, vy, vz = self.mesh()
        c = [vx - u[:, 0, None, None, None], vy - u[:, 1, None, None, None], vz - u[:, 2, None, None, None]]
        c2 = c[0] ** 2 + c[1] ** 2 + c[2] ** 2
        P = np.empty((f.shape[0], 3, 3))
        q = np.empty((f.shape[0], 3))
        for i in range(3):
            q[:, i] = 0.5 * (c[i] * c2 * f).sum(axis=(1, 2, 3)) * self.weight
            for j in range(3):
                P[:, i, j] = (c[i] * c[j] * f).sum(axis=(1, 2, 3)) * self.weight
        return P, q


def bkw_K(t):
    """K(t) = 1 - exp(-t/6) of the BKW solution."""
    return 1.0 - np.exp(-BKW_RATE * np.asarray(t))


def bkw(grid: VelocityGrid, t: float) -> np.ndarray:
    """The BKW solution f(v, t) on the grid, shape (N, N, N) (module docstring); needs K(t) ≥ 3/5 for f ≥ 0."""
    K = float(bkw_K(t))
    v2 = grid.speed_squared()
    return (2 * np.pi * K) ** -1.5 * np.exp(-v2 / (2 * K)) * ((5 * K - 3) / (2 * K) + (1 - K) / (2 * K * K) * v2)


def bkw_time_derivative(grid: VelocityGrid, t: float) -> np.ndarray:
    """∂f/∂t of the BKW solution = (∂f/∂K) dK/dt, dK/dt = (1 - K)/6; shape (N, N, N). Equals Q(f_BKW)."""
    K = float(bkw_K(t))
    v2 = grid.speed_squared()
    gauss = (2 * np.pi * K) ** -1.5 * np.exp(-v2 / (2 * K))
    poly = (5 * K - 3) / (2 * K) + (1 - K) / (2 * K * K) * v2
    dgauss = gauss * (-1.5 / K + v2 / (2 * K * K))
    dpoly = 1.5 / (K * K) + v2 / (2 * K * K) - v2 / K ** 3
    return (dgauss * poly + gauss * dpoly) * BKW_RATE * (1 - K)
