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


@njit(cache=True, nogil=True, error_model="numpy")
def minmod(a, b):
    """minmod(a, b): 0 if a, b differ in sign, else the one of smaller magnitude (odd and symmetric)."""
    return 0.5 * (math.copysign(1.0, a) + math.copysign(1.0, b)) * min(abs(a), abs(b))


@njit(cache=True, nogil=True, error_model="numpy")
def van_leer(a, b):
    """van Leer's harmonic-mean slope 2ab/(a+b) where ab > 0, else 0 (odd and symmetric)."""
    ab = a * b
    return 2.0 * ab / (a + b) if ab > 0.0 else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def transport_row(out, base, rm2, rm1, r0, rp1, rp2, v, jn, jp, lam, scheme, w_base, w_new):
    """One forward-Euler transport update of cell ``i`` for all velocities, combined with a base state.

    ``out[j] = w_base * base[j] + w_new * (r0[j] - lam (F_{i+½,j} - F_{i-½,j}))`` where
    ``rm2 .. rp2`` are the rows ``f[i-2] .. f[i+2]`` (shape ``(n_v,)``), ``lam = dt/dx``,
    velocities ``j < jn`` are negative, ``j >= jp`` positive and ``jn <= j < jp`` zero.
    ``w_base == 0`` ignores ``base`` (which may then hold anything). ``out`` may be ``base``.
    """
    if w_base == 0.0:
        for j in range(jn, jp):
            out[j] = w_new * r0[j]
    else:
        for j in range(jn, jp):
            out[j] = w_base * base[j] + w_new * r0[j]
    if scheme == UPWIND:
        for j in range(jn):
            d = v[j] * (rp1[j] - r0[j])
            if w_base == 0.0:
                out[j] = w_new * (r0[j] - lam * d)
            else:
                out[j] = w_base * base[j] + w_new * (r0[j] - lam * d)
        for j in range(jp, out.shape[0]):
            d = v[j] * (r0[j] - rm1[j])
            if w_base == 0.0:
                out[j] = w_new * (r0[j] - lam * d)
            else:
                out[j] = w_base * base[j] + w_new * (r0[j] - lam * d)
        return
    vl = scheme == MUSCL_VAN_LEER
    for j in range(jn):
        a0 = r0[j] - rm1[j]
        a1 = rp1[j] - r0[j]
        a2 = rp2[j] - rp1[j]
        if vl:
            s0 = van_leer(a0, a1)
            s1 = van_leer(a1, a2)
        else:
            s0 = minmod(a0, a1)
            s1 = minmod(a1, a2)
        fp = v[j] * (rp1[j] - 0.5 * s1)
        fm = v[j] * (r0[j] - 0.5 * s0)
        if w_base == 0.0:
            out[j] = w_new * (r0[j] - lam * (fp - fm))
        else:
            out[j] = w_base * base[j] + w_new * (r0[j] - lam * (fp - fm))
    for j in range(jp, out.shape[0]):
        am = rm1[j] - rm2[j]
        a0 = r0[j] - rm1[j]
        a1 = rp1[j] - r0[j]
        if vl:
            sm = van_leer(am, a0)
            s0 = van_leer(a0, a1)
        else:
            sm = minmod(am, a0)
            s0 = minmod(a0, a1)
        fp = v[j] * (r0[j] + 0.5 * s0)
        fm = v[j] * (rm1[j] + 0.5 * sm)
        if w_base == 0.0:
            out[j] = w_new * (r0[j] - lam * (fp - fm))
        else:
            out[j] = w_base * base[j] + w_new * (r0[j] - lam * (fp - fm))
