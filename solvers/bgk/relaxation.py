"""BGK relaxation ``∂_t f = (M[f] - f) / tau`` in one cell, with the moments of f frozen.

The relaxation conserves ``rho, m, E``, so ``M`` is constant during it and

- ``EXACT`` (0):  ``f <- M + (f - M) exp(-h/tau)``   (exact solution over a time ``h``;
  used in Strang splitting with ``h = dt/2`` on either side of the transport),
- ``IMEX`` (1):   ``f <- (f* + (h/tau) M) / (1 + h/tau)`` with ``f*`` the transported
  state and ``M = M[f*]`` (backward Euler in f, explicit to compute; first order).

Both are written as ``f <- e f + (1 - e) M`` with ``e = exp(-h/tau)`` or
``1/(1 + h/tau)``, so ``tau = inf`` leaves f untouched (free streaming) and
``tau = 0`` sets ``f = M`` (the kinetic scheme for the Euler equations).

Collision frequency (``frequency``, integer codes):

- ``constant`` (0): ``tau = kn``,
- ``rho`` (1):      ``tau = kn / rho``,
- ``vhs`` (2):      ``tau = kn / (rho T^(1 - omega))`` (variable hard spheres, viscosity ∝ T^omega),

all equal to ``kn`` at ``rho = T = 1``. All quantities are nondimensional (units "1").
"""

import math

import numpy as np
from numba import njit

from .vexp import exp_neg

__all__ = ["RELAXATIONS", "FREQUENCIES", "relaxation_code", "frequency_code", "relaxation_time", "relax_cells"]

EXACT, IMEX = 0, 1
CONSTANT, RHO, VHS = 0, 1, 2
RELAXATIONS = ("exact", "imex")
FREQUENCIES = ("constant", "rho", "vhs")

def relaxation_code(relaxation):
    """Integer code: ``exact`` (Strang splitting) -> 0, ``imex`` -> 1."""
    if relaxation not in RELAXATIONS:
        raise ValueError(f"relaxation must be one of {RELAXATIONS}, got {relaxation!r}")
    return RELAXATIONS.index(relaxation)


def frequency_code(frequency):
    """Integer code: ``constant`` -> 0, ``rho`` -> 1, ``vhs`` -> 2."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"collision frequency must be one of {FREQUENCIES}, got {frequency!r}")
    return FREQUENCIES.index(frequency)


def relaxation_time(rho, T, kn, frequency="constant", omega=0.81):
    """Relaxation time ``tau`` (shape of ``rho``) for the collision-frequency option ``frequency``."""
    code = frequency_code(frequency)
    rho = np.asarray(rho, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if code == CONSTANT:
        return np.broadcast_to(np.float64(kn), np.broadcast(rho, T).shape).copy()
    if code == RHO:
        return kn / rho * np.ones_like(T)
    return kn / (rho * T ** (1.0 - omega))


@njit(cache=True, nogil=True, error_model="numpy")
def tau_of(rho, T, kn, frequency, omega):
    """Scalar relaxation time for the frequency code (see module docstring)."""
    if frequency == CONSTANT:
        return kn
    if frequency == RHO:
        return kn / rho
    return kn / (rho * T ** (1.0 - omega))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def decay(h, tau, mode):
    """Weight ``e`` of the old f after a relaxation over ``h``: ``exp(-h/tau)`` (``EXACT``) or
    ``1/(1 + h/tau)`` (``IMEX``); 1 for ``tau = inf``, 0 for ``tau = 0``."""
    if mode == EXACT:
        return math.exp(-h / tau)
    return 1.0 / (1.0 + h / tau)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def row_moments(row, v):
    """Sums ``Σ f, Σ v f, Σ v² f`` over a row (shape ``(n_v,)``), without the weight ``dv``."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for j in range(row.shape[0]):
        w = row[j]
        vw = v[j] * w
        s0 += w
        s1 += vw
        s2 += v[j] * vw
    return s0, s1, s2


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def row_sum(row):
    """``Σ row``."""
    s = 0.0
    for j in range(row.shape[0]):
        s += row[j]
    return s


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _gauss_row(buf, v, u, st):
    """``buf[j] = exp(-ξ²/2)``, ``ξ = (v_j - u) st``; returns ``Σ ξ^k buf`` for k = 0..4.

    Two loops: the exponentials alone, then the sums (one loop that does both runs slower: it holds
    fewer exponentials in flight)."""
    for j in range(buf.shape[0]):
        xi = (v[j] - u) * st
        buf[j] = exp_neg(-0.5 * (xi * xi))
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for j in range(buf.shape[0]):
        xi = (v[j] - u) * st
        x2 = xi * xi
        g = buf[j]
        m0 += g
        m1 += xi * g
        m2 += x2 * g
        m3 += xi * x2 * g
        m4 += x2 * x2 * g
    return m0, m1, m2, m3, m4


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def relax_cells(fa, b, i0, i1, v, dv, dim, kn, frequency, omega, h, mode, buf):
    """Relax the distributions of run ``b``, cells ``i0 .. i1-1`` of ``fa`` (``(n_batch, n_comp, n_x, n_v)``)
    over time ``h``, in place (:func:`_relax_cell`); ``buf`` is scratch of shape ``(n_v,)``.

    The decay factor is computed once for all the cells when ``tau = kn`` (constant frequency)."""
    e_kn = decay(h, kn, mode)
    for i in range(i0, i1):
        _relax_cell(fa, b, i, v, dv, dim, kn, frequency, omega, h, mode, e_kn, buf)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"}, inline="always")
def _relax_cell(fa, b, i, v, dv, dim, kn, frequency, omega, h, mode, e_kn, buf):
    """Relax the distribution of run ``b``, cell ``i`` of ``fa`` over time ``h``.

    ``mode`` is ``EXACT`` or ``IMEX``; for dim 3 both reduced distributions (h, b) relax,
    with ``M_b = T M_h``. ``e_kn = decay(h, kn, mode)``, used when ``tau = kn``.

    The discrete Maxwellian is ``M_j = g_j (a0 + a1 ξ_j + a2 ξ_j²)`` with ``g_j = exp(-ξ_j²/2)``,
    ``ξ = (v - u)/√T``, and ``a`` solving the 3x3 system that gives ``M`` exactly the discrete
    ``rho, m, E`` of f: conservation then holds to round-off even where the grid cuts the
    Maxwellian's tails (``a = (rho/(√(2πT) dv), 0, 0)`` up to the quadrature error otherwise).
    """
    row = fa[b, 0, i]
    nv = row.shape[0]
    s0, s1, s2 = row_moments(row, v)
    energy2 = s2  # 2 E / dv
    if dim == 3:
        energy2 += 2.0 * row_sum(fa[b, 1, i])
    rho = s0 * dv
    u = s1 / s0
    T = (energy2 - s1 * u) / (dim * s0)
    e = e_kn if frequency == CONSTANT else decay(h, tau_of(rho, T, kn, frequency, omega), mode)
    if e == 1.0:
        return
    st = 1.0 / math.sqrt(T)
    m0, m1, m2, m3, m4 = _gauss_row(buf, v, u, st)
    # Σ g (a0 + a1 ξ + a2 ξ²)(1, ξ, ξ²) = (s0, 0, s0): the sums of f in the basis (1, ξ, ξ²)
    # (Σ ξ f = 0 and Σ ξ² f = s0 by the definition of u and T, for dim 1 and dim 3 alike)
    c00 = m2 * m4 - m3 * m3
    c01 = m2 * m3 - m1 * m4
    c02 = m1 * m3 - m2 * m2
    det = m0 * c00 + m1 * c01 + m2 * c02
    c21 = m1 * m2 - m0 * m3
    c22 = m0 * m2 - m1 * m1
    k = (1.0 - e) * s0 / det
    a0 = k * (c00 + c02)
    a1 = k * (c01 + c21)
    a2 = k * (c02 + c22)
    if dim == 1:
        for j in range(nv):
            xi = (v[j] - u) * st
            row[j] = e * row[j] + buf[j] * (a0 + xi * (a1 + xi * a2))
    else:
        rb = fa[b, 1, i]
        for j in range(nv):
            xi = (v[j] - u) * st
            mj = buf[j] * (a0 + xi * (a1 + xi * a2))
            row[j] = e * row[j] + mj
            rb[j] = e * rb[j] + T * mj
