"""Finite-volume Euler and Navier-Stokes reference solvers on the kinetic solver's x grid.

Equations (nondimensional, units "1"), ``E = ½ rho u² + (dim/2) p``, ``p = rho T``::

    rho_t + m_x = 0,   m_t + (m u + p + sigma)_x = 0,   E_t + (u (E + p) + sigma u + q)_x = 0,

Euler: ``sigma = q = 0``. Navier-Stokes (Chapman-Enskog of BGK with relaxation time tau):
``q = -kappa T_x`` with ``kappa = ((dim + 2)/2) tau p / Pr`` (3/2 tau p for dim 1, 5/2 tau p for dim 3 at
the BGK Prandtl number Pr = 1), ``sigma = -(4/3) mu u_x`` with ``mu = tau p`` for dim 3 and ``sigma = 0`` for
dim 1 (no viscous stress in 1D1V). ``tau`` follows the collision-frequency option of :mod:`.relaxation`.
``prandtl`` sets Pr = c_p mu / kappa (c_p = (dim + 2)/2): Maxwell molecules have Pr = 2/3
(:mod:`solvers.boltzmann_kinetic` maps their mu and kappa onto ``kn``, ``frequency`` and ``prandtl``).

Scheme: MUSCL-minmod reconstruction of (rho, u, p), Rusanov flux with speed ``|u| + sqrt(gamma T)``,
central viscous fluxes, SSP-RK2; ``dt = min(cfl dx / max(|u| + c), 0.2 dx² / D_max, gap to next save)``
with ``D_max`` the largest diffusivity. Periodic or outflow (zero-gradient) boundaries.
"""

import math

import numpy as np
from numba import njit

from . import maxwellian as mx
from .options import boundary_code
from .relaxation import frequency_code, tau_of
from .transport import minmod, neighbour

__all__ = ["solve_continuum"]


@njit(cache=True, nogil=True, error_model="numpy")
def _rhs(U, dUdt, dx, gamma, dim, kn, freq, omega, ns, boundary, prim, flux, prandtl):
    """dU/dt (``(3, n_x)``); ``flux`` holds the ``n_x + 1`` face fluxes (face f between cells f-1 and f)."""
    nx = U.shape[1]
    for i in range(nx):
        r = U[0, i]
        u = U[1, i] / r
        prim[0, i] = r
        prim[1, i] = u
        prim[2, i] = (2.0 * U[2, i] - U[1, i] * u) / dim  # p
    c_k = 0.5 * (dim + 2.0) / prandtl
    c_s = 4.0 / 3.0 if dim == 3 else 0.0
    wl = np.empty(3)
    wr = np.empty(3)
    for f in range(nx + 1):
        im1 = neighbour(f - 1, -1, nx, boundary)
        i0 = neighbour(f - 1, 0, nx, boundary)
        ip1 = neighbour(f - 1, 1, nx, boundary)
        ip2 = neighbour(f - 1, 2, nx, boundary)
        for k in range(3):
            sl = minmod(prim[k, i0] - prim[k, im1], prim[k, ip1] - prim[k, i0])
            sr = minmod(prim[k, ip1] - prim[k, i0], prim[k, ip2] - prim[k, ip1])
            wl[k] = prim[k, i0] + 0.5 * sl
            wr[k] = prim[k, ip1] - 0.5 * sr
        el = 0.5 * wl[0] * wl[1] * wl[1] + 0.5 * dim * wl[2]
        er = 0.5 * wr[0] * wr[1] * wr[1] + 0.5 * dim * wr[2]
        a = max(abs(wl[1]) + math.sqrt(gamma * wl[2] / wl[0]), abs(wr[1]) + math.sqrt(gamma * wr[2] / wr[0]))
        flux[0, f] = 0.5 * (wl[0] * wl[1] + wr[0] * wr[1]) - 0.5 * a * (wr[0] - wl[0])
        flux[1, f] = (0.5 * (wl[0] * wl[1] * wl[1] + wl[2] + wr[0] * wr[1] * wr[1] + wr[2])
                      - 0.5 * a * (wr[0] * wr[1] - wl[0] * wl[1]))
        flux[2, f] = 0.5 * (wl[1] * (el + wl[2]) + wr[1] * (er + wr[2])) - 0.5 * a * (er - el)
        if ns:
            rb = 0.5 * (prim[0, i0] + prim[0, ip1])
            pb = 0.5 * (prim[2, i0] + prim[2, ip1])
            ub = 0.5 * (prim[1, i0] + prim[1, ip1])
            tau = tau_of(rb, pb / rb, kn, freq, omega)
            t_x = (prim[2, ip1] / prim[0, ip1] - prim[2, i0] / prim[0, i0]) / dx
            u_x = (prim[1, ip1] - prim[1, i0]) / dx
            sigma = -c_s * tau * pb * u_x
            flux[1, f] += sigma
            flux[2, f] += sigma * ub - c_k * tau * pb * t_x
    for k in range(3):
        for i in range(nx):
            dUdt[k, i] = -(flux[k, i + 1] - flux[k, i]) / dx


@njit(cache=True, nogil=True, error_model="numpy")
def _march(U, dx, gamma, dim, kn, freq, omega, ns, boundary, cfl, t_save, out, prandtl):
    nx = U.shape[1]
    prim = np.empty((3, nx))
    flux = np.empty((3, nx + 1))
    k1 = np.empty((3, nx))
    U1 = np.empty((3, nx))
    t = 0.0
    steps = 0
    diff = 0.5 * (dim + 2.0) / (0.5 * dim) / prandtl
    if dim == 3:
        diff = max(diff, 4.0 / 3.0)
    for s in range(t_save.shape[0]):
        while t < t_save[s]:
            smax = 0.0
            dmax = 0.0
            for i in range(nx):
                r = U[0, i]
                u = U[1, i] / r
                T = (2.0 * U[2, i] - U[1, i] * u) / (dim * r)
                smax = max(smax, abs(u) + math.sqrt(gamma * T))
                if ns:
                    dmax = max(dmax, diff * tau_of(r, T, kn, freq, omega) * T)
            dt = cfl * dx / smax
            if ns and dmax > 0.0:
                dt = min(dt, 0.2 * dx * dx / dmax)
            if t + dt >= t_save[s] * (1.0 - 1e-14):
                dt = t_save[s] - t
            _rhs(U, k1, dx, gamma, dim, kn, freq, omega, ns, boundary, prim, flux, prandtl)
            for k in range(3):
                for i in range(nx):
                    U1[k, i] = U[k, i] + dt * k1[k, i]
            _rhs(U1, k1, dx, gamma, dim, kn, freq, omega, ns, boundary, prim, flux, prandtl)
            for k in range(3):
                for i in range(nx):
                    U[k, i] = 0.5 * U[k, i] + 0.5 * (U1[k, i] + dt * k1[k, i])
            t = t + dt if t + dt < t_save[s] else t_save[s]
            steps += 1
        for k in range(3):
            for i in range(nx):
                out[s, k, i] = U[k, i]
    return steps


def solve_continuum(rho, m, E, dx, t_save, *, dim=1, kn=0.0, model="euler", boundary="periodic",
                    frequency="constant", omega=0.81, cfl=0.4, prandtl=1.0):
    """March the Euler (``model="euler"``) or Navier-Stokes (``"navier_stokes"``) equations from the
    cell values ``rho, m, E`` (shape ``(n_x,)``) and return ``rho, m, E`` at ``t_save``, each ``(n_t, n_x)``.

    ``kn`` (the BGK Knudsen number, finite, >= 0) and ``prandtl`` (Pr > 0; kappa = c_p mu / Pr) only enter
    Navier-Stokes; gamma = (dim + 2)/dim.
    """
    if model not in ("euler", "navier_stokes"):
        raise ValueError(f"model must be 'euler' or 'navier_stokes', got {model!r}")
    gam = mx.gamma(dim)
    if not (0 <= kn < math.inf):
        raise ValueError(f"kn must be finite and >= 0 for the continuum references, got {kn!r}")
    if not 0 < cfl <= 0.5:
        raise ValueError(f"cfl must lie in (0, 0.5], got {cfl!r}")
    if not 0 < prandtl < math.inf:
        raise ValueError(f"prandtl must be positive and finite, got {prandtl!r}")
    U = np.ascontiguousarray(np.stack([rho, m, E]).astype(np.float64))
    if U.ndim != 2:
        raise ValueError("rho, m, E must be 1-D profiles over x")
    u, T, _ = mx.primitives(U[0], U[1], U[2], dim)
    if np.any(~(U[0] > 0)) or np.any(~(T > 0)):
        raise ValueError("rho and T must be positive everywhere")
    t_save = np.asarray(t_save, dtype=np.float64)
    if t_save.ndim != 1 or np.any(np.diff(t_save) < 0) or t_save[0] < 0:
        raise ValueError("t_save must be a nondecreasing 1-D array of times >= 0")
    out = np.empty((t_save.size, 3, U.shape[1]))
    _march(U, float(dx), gam, int(dim), float(kn), frequency_code(frequency), float(omega),
           int(model == "navier_stokes"), boundary_code(boundary), float(cfl), t_save, out, float(prandtl))
    return out[:, 0], out[:, 1], out[:, 2]
