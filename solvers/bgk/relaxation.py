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

__all__ = ["RELAXATIONS", "FREQUENCIES", "relaxation_code", "frequency_code", "relaxation_time"]

EXACT, IMEX = 0, 1
CONSTANT, RHO, VHS = 0, 1, 2
RELAXATIONS = ("exact", "imex")
FREQUENCIES = ("constant", "rho", "vhs")

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


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


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def relax_cell(fa, b, i, v, dv, dim, kn, frequency, omega, h, mode):
    """Relax the distribution of run ``b``, cell ``i`` of ``fa`` (``(n_batch, n_comp, n_x, n_v)``) over time ``h``.

    ``mode`` is ``EXACT`` or ``IMEX``; for dim 3 both reduced distributions (h, b) relax,
    with ``M_b = T M_h``. In place. The Maxwellian uses the vectorizable :func:`.vexp.exp_neg`.
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
    tau = tau_of(rho, T, kn, frequency, omega)
    if mode == EXACT:
        e = math.exp(-h / tau)
    else:
        e = 1.0 / (1.0 + h / tau)
    if e == 1.0:
        return
    amp = (1.0 - e) * rho * _INV_SQRT_2PI / math.sqrt(T)
    a = -0.5 / T
    if dim == 1:
        for j in range(nv):
            c = v[j] - u
            row[j] = e * row[j] + amp * exp_neg(a * c * c)
    else:
        rb = fa[b, 1, i]
        for j in range(nv):
            c = v[j] - u
            mj = amp * exp_neg(a * c * c)
            row[j] = e * row[j] + mj
            rb[j] = e * rb[j] + T * mj
