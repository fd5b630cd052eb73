"""Free transport ``∂_t f + v ∂_x f = 0`` on a uniform finite-volume grid in x, one velocity at a time.

Schemes (integer codes of :mod:`.options`, so one compiled kernel serves all of them):

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

from numba import njit

from .options import MUSCL_MINMOD, MUSCL_VAN_LEER, PERIODIC, UPWIND

__all__ = ["neighbour", "minmod", "van_leer", "sweep_cells"]


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
    """minmod(a, b): 0 if a, b differ in sign, else the one of smaller magnitude (odd and symmetric).

    Written as the median of ``a, b, 0`` (four operations, each exact)."""
    return max(min(a, b), min(max(a, b), 0.0))


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


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _face(a, b, c, scheme):
    """Reconstructed value of cell ``b`` at its face towards ``c`` (``a, b, c``: cells in the flow's
    direction): ``b + lim(b - a, c - b)/2``. The same three values give the same bits in both cells
    that share the face, so the fluxes telescope exactly."""
    return b + 0.5 * _slope(b - a, c - b, scheme)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _update_span(out, v, a, b, c, d, lam_s, scheme, keep, w_base, w_new):
    """``out[j] <- w_base out[j] + w_new (c[j] - lam_s v[j] (face(b, c, d) - face(a, b, c)))`` (rows of
    one length); ``a, b, c, d`` are four consecutive cell rows in the direction of the flow (``c`` the
    updated cell) and ``lam_s`` is ``dt/dx`` for ``v >= 0``, ``-dt/dx`` for ``v < 0``.

    One loop from index 0 (a loop from a run-time start index stays scalar: numba's wraparound of
    negative indices) that reads five rows and writes one (LLVM's run-time alias checks stay within
    its limit), so it vectorizes; ``scheme`` and ``keep`` are compile-time constants here."""
    for j in range(out.shape[0]):
        f_down = v[j] * _face(b[j], c[j], d[j], scheme)
        f_up = v[j] * _face(a[j], b[j], c[j], scheme)
        new = w_new * (c[j] - lam_s * (f_down - f_up))
        out[j] = w_base * out[j] + new if keep else new


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _update_cell(out, v, jn, rm2, rm1, r0, rp1, rp2, lam, scheme, keep, w_base, w_new):
    """Both velocity halves of one cell: ``v < 0`` (``j < jn``) flows from ``i + 1``, ``v >= 0`` from ``i - 1``."""
    _update_span(out[:jn], v[:jn], rp2[:jn], rp1[:jn], r0[:jn], rm1[:jn], -lam, scheme, keep, w_base, w_new)
    _update_span(out[jn:], v[jn:], rm2[jn:], rm1[jn:], r0[jn:], rp1[jn:], lam, scheme, keep, w_base, w_new)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _update_cells(out, src, i0, i1, v, jn, lam, scheme, boundary, keep, w_base, w_new):
    """:func:`_update_cell` for the cells ``i0 .. i1-1`` in order (``scheme``, ``keep`` compile-time constants)."""
    nx = src.shape[0]
    for i in range(i0, i1):
        _update_cell(out[i], v, jn, src[neighbour(i, -2, nx, boundary)], src[neighbour(i, -1, nx, boundary)], src[i],
                     src[neighbour(i, 1, nx, boundary)], src[neighbour(i, 2, nx, boundary)], lam, scheme, keep,
                     w_base, w_new)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _update_cells_keep(out, src, i0, i1, v, jn, lam, scheme, boundary, w_base, w_new):
    """:func:`_update_cells` with ``keep = (w_base != 0)`` as a compile-time constant."""
    if w_base != 0.0:
        _update_cells(out, src, i0, i1, v, jn, lam, scheme, boundary, True, w_base, w_new)
    else:
        _update_cells(out, src, i0, i1, v, jn, lam, scheme, boundary, False, w_base, w_new)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def sweep_cells(out, src, i0, i1, v, jn, lam, scheme, boundary, w_base, w_new):
    """One forward-Euler transport update of cells ``i0 .. i1-1``, combined with the old ``out``.

    ``out[i, j] <- w_base out[i, j] + w_new (f_i[j] - lam (F_{i+½,j} - F_{i-½,j}))`` with ``f = src``
    (``out``, ``src``: ``(n_x, n_v)``, one component), ``lam = dt/dx``; the velocities ``v[:jn]`` are
    negative, ``v[jn:]`` nonnegative (sorted grid). ``w_base == 0`` ignores the old ``out`` (which may
    then hold anything). Each face flux is computed in both cells that share it, from the same values
    in the same order, so the fluxes telescope and the scheme conserves to round-off; cells are
    independent, so sweeps may split the grid anywhere.
    """
    # one variant per scheme constant (and keep), so that every loop is branch-free
    if scheme == MUSCL_MINMOD:
        _update_cells_keep(out, src, i0, i1, v, jn, lam, MUSCL_MINMOD, boundary, w_base, w_new)
    elif scheme == MUSCL_VAN_LEER:
        _update_cells_keep(out, src, i0, i1, v, jn, lam, MUSCL_VAN_LEER, boundary, w_base, w_new)
    else:
        _update_cells_keep(out, src, i0, i1, v, jn, lam, UPWIND, boundary, w_base, w_new)
