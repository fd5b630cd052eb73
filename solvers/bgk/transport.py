"""Free transport ``∂_t f + v ∂_x f = 0`` on a uniform finite-volume grid in x, one velocity at a time.

Schemes (integer codes, so one compiled kernel serves all of them):

- ``UPWIND`` (0): first-order upwind, face value = upwind cell value.
- ``MUSCL_MINMOD`` (1) and ``MUSCL_VAN_LEER`` (2): piecewise-linear upwind
  reconstruction with the slope ``s_i = lim(f_i - f_{i-1}, f_{i+1} - f_i)``; the
  face flux at ``i+½`` is ``v (f_i + s_i/2)`` for ``v > 0`` and
  ``v (f_{i+1} - s_{i+1}/2)`` for ``v < 0``.

Boundaries: ``PERIODIC`` (0) wraps the indices, ``OUTFLOW`` (1) uses zero-gradient
ghost cells (indices clamped to the grid). Time integration (in :mod:`.solver`)
is SSP-RK2 (Heun), a convex combination of forward-Euler steps, so the CFL bounds
of forward Euler hold: ``max|v| dt/dx <= 1`` (upwind) and ``<= 1/2`` (MUSCL).
All quantities are nondimensional (units "1").
"""

import math

from numba import njit

__all__ = ["TRANSPORTS", "LIMITERS", "BOUNDARIES", "scheme_code", "boundary_code", "cfl_limit"]

UPWIND, MUSCL_MINMOD, MUSCL_VAN_LEER = 0, 1, 2
PERIODIC, OUTFLOW = 0, 1

TRANSPORTS = ("upwind", "muscl")
LIMITERS = ("minmod", "van_leer")
BOUNDARIES = ("periodic", "outflow")


def scheme_code(transport, limiter="minmod"):
    """Integer code of a transport scheme: ``upwind`` -> 0, ``muscl`` + ``minmod`` -> 1, + ``van_leer`` -> 2."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    if limiter not in LIMITERS:
        raise ValueError(f"limiter must be one of {LIMITERS}, got {limiter!r}")
    if transport == "upwind":
        return UPWIND
    return MUSCL_MINMOD if limiter == "minmod" else MUSCL_VAN_LEER


def boundary_code(boundary):
    """Integer code of a boundary: ``periodic`` -> 0, ``outflow`` (zero-gradient ghost cells) -> 1."""
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    return PERIODIC if boundary == "periodic" else OUTFLOW


def cfl_limit(transport):
    """Largest stable CFL number ``max|v| dt / dx``: 1 for upwind, 1/2 for MUSCL (TVD bound)."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    return 1.0 if transport == "upwind" else 0.5


@njit(cache=True, nogil=True, error_model="numpy")
def neighbour(i, k, n, boundary):
    """Index of cell ``i + k`` (``|k| <= 2``): wrapped (periodic) or clamped (outflow)."""
    j = i + k
    if boundary == PERIODIC:
        if j < 0:
            j += n
        elif j >= n:
            j -= n
        # grids shorter than |k| cells
        while j < 0:
            j += n
        while j >= n:
            j -= n
        return j
    if j < 0:
        return 0
    if j >= n:
        return n - 1
    return j


_FLAGS = {"contract"}


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def minmod(a, b):
    """minmod(a, b): 0 if a, b differ in sign, else the one of smaller magnitude (odd and symmetric)."""
    return 0.5 * (math.copysign(1.0, a) + math.copysign(1.0, b)) * min(abs(a), abs(b))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def van_leer(a, b):
    """van Leer's harmonic-mean slope 2ab/(a+b) where ab > 0, else 0 (odd and symmetric)."""
    ab = a * b
    return 2.0 * ab / (a + b) if ab > 0.0 else 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _slope(a, b, scheme):
    if scheme == MUSCL_MINMOD:
        return minmod(a, b)
    if scheme == MUSCL_VAN_LEER:
        return van_leer(a, b)
    return 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _jump_neg(rm1, r0, rp1, rp2, vj, scheme):
    """``F_{i+½} - F_{i-½}`` at a velocity ``vj < 0`` (upwind side: the right)."""
    s0 = _slope(r0 - rm1, rp1 - r0, scheme)
    s1 = _slope(rp1 - r0, rp2 - rp1, scheme)
    return vj * (rp1 - 0.5 * s1) - vj * (r0 - 0.5 * s0)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _jump_pos(rm2, rm1, r0, rp1, vj, scheme):
    """``F_{i+½} - F_{i-½}`` at a velocity ``vj >= 0`` (upwind side: the left)."""
    sm = _slope(rm1 - rm2, r0 - rm1, scheme)
    s0 = _slope(r0 - rm1, rp1 - r0, scheme)
    return vj * (r0 + 0.5 * s0) - vj * (rm1 + 0.5 * sm)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _rows(out, rm2, rm1, r0, rp1, rp2, v, jn, lam, scheme, w_base, w_new):
    n = out.shape[0]
    if w_base == 0.0:
        for j in range(jn):
            out[j] = w_new * (r0[j] - lam * _jump_neg(rm1[j], r0[j], rp1[j], rp2[j], v[j], scheme))
        for j in range(jn, n):
            out[j] = w_new * (r0[j] - lam * _jump_pos(rm2[j], rm1[j], r0[j], rp1[j], v[j], scheme))
    else:
        for j in range(jn):
            d = _jump_neg(rm1[j], r0[j], rp1[j], rp2[j], v[j], scheme)
            out[j] = w_base * out[j] + w_new * (r0[j] - lam * d)
        for j in range(jn, n):
            d = _jump_pos(rm2[j], rm1[j], r0[j], rp1[j], v[j], scheme)
            out[j] = w_base * out[j] + w_new * (r0[j] - lam * d)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def transport_row(out, rm2, rm1, r0, rp1, rp2, v, jn, lam, scheme, w_base, w_new):
    """One forward-Euler transport update of cell ``i`` for all velocities, combined with the old ``out``.

    ``out[j] <- w_base * out[j] + w_new * (r0[j] - lam (F_{i+½,j} - F_{i-½,j}))`` where
    ``rm2 .. rp2`` are the rows ``f[i-2] .. f[i+2]`` (shape ``(n_v,)``), ``lam = dt/dx`` and
    the velocities ``v[:jn]`` are negative, ``v[jn:]`` nonnegative (sorted grid).
    ``w_base == 0`` ignores the old ``out`` (which may then hold anything).
    """
    if scheme == UPWIND:
        _rows(out, rm2, rm1, r0, rp1, rp2, v, jn, lam, UPWIND, w_base, w_new)
    elif scheme == MUSCL_MINMOD:
        _rows(out, rm2, rm1, r0, rp1, rp2, v, jn, lam, MUSCL_MINMOD, w_base, w_new)
    else:
        _rows(out, rm2, rm1, r0, rp1, rp2, v, jn, lam, MUSCL_VAN_LEER, w_base, w_new)
