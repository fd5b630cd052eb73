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
    return max(0.0, min(a, b)) + min(0.0, max(a, b))


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
def _limited(out, rm, r0, rp, scheme):
    for j in range(out.shape[0]):
        out[j] = _slope(r0[j] - rm[j], rp[j] - r0[j], scheme)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _slope_row(out, rm, r0, rp, scheme):
    """``out[j] = lim(r0[j] - rm[j], rp[j] - r0[j])``: the slopes of one cell (rows of shape ``(n_v,)``)."""
    # one loop per scheme constant, so that the loop has no branch and vectorizes
    if scheme == MUSCL_MINMOD:
        _limited(out, rm, r0, rp, MUSCL_MINMOD)
    elif scheme == MUSCL_VAN_LEER:
        _limited(out, rm, r0, rp, MUSCL_VAN_LEER)
    else:
        out[:] = 0.0


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def start_sweep(src, i0, v, jn, scheme, boundary, sc):
    """Prepare a sweep over the cells ``i0, i0+1, ...`` of ``src`` (``(n_x, n_v)``, one component).

    ``sc`` (``(4, n_v)``) receives the slopes of cell ``i0`` (row ``i0 % 2``) and of cell
    ``i0 - 1`` (the other of rows 0, 1), and the face flux ``F_{i0-½}`` (row ``2 + i0 % 2``).
    """
    nx = src.shape[0]
    im2 = neighbour(i0, -2, nx, boundary)
    im1 = neighbour(i0, -1, nx, boundary)
    ip1 = neighbour(i0, 1, nx, boundary)
    s_left = sc[1 - i0 % 2]
    s_cur = sc[i0 % 2]
    _slope_row(s_left, src[im2], src[im1], src[i0], scheme)
    _slope_row(s_cur, src[im1], src[i0], src[ip1], scheme)
    _face_row(sc[2 + i0 % 2], v, src[im1], src[i0], s_left, s_cur, jn)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _face_row(out, v, rl, rr, s_left, s_right, jn):
    """Upwind face fluxes between a left and a right cell: ``v (r_r - s_r/2)`` for ``v < 0``
    (``j < jn``), ``v (r_l + s_l/2)`` for ``v >= 0`` (rows of shape ``(n_v,)``)."""
    for j in range(jn):
        out[j] = v[j] * (rr[j] - 0.5 * s_right[j])
    for j in range(jn, out.shape[0]):
        out[j] = v[j] * (rl[j] + 0.5 * s_left[j])


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS, inline="always")
def _update_row(out, r0, f_right, f_left, lam, keep, w_base, w_new):
    """``out <- w_base out + w_new (r0 - lam (f_right - f_left))`` (``keep`` False: ignore the old ``out``)."""
    for j in range(out.shape[0]):
        new = w_new * (r0[j] - lam * (f_right[j] - f_left[j]))
        out[j] = w_base * out[j] + new if keep else new


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FLAGS)
def sweep_cell(out, src, i, v, jn, lam, scheme, boundary, sc, w_base, w_new):
    """One forward-Euler transport update of cell ``i``, combined with the old ``out`` (``(n_v,)``).

    ``out[j] <- w_base out[j] + w_new (f_i[j] - lam (F_{i+½,j} - F_{i-½,j}))`` with ``f = src``
    (``(n_x, n_v)``, one component), ``lam = dt/dx``; the velocities ``v[:jn]`` are negative,
    ``v[jn:]`` nonnegative (sorted grid). ``w_base == 0`` ignores the old ``out`` (which may then
    hold anything). ``sc`` (``(4, n_v)``) is the state left by :func:`start_sweep` or by the call
    for cell ``i - 1``: each slope and each face flux is computed once per sweep, so the fluxes
    telescope exactly and the scheme conserves to round-off.

    Each loop touches at most four rows, so that LLVM's run-time alias checks stay within its
    limit and every loop vectorizes (one fused loop over seven rows stayed scalar, 2.5x slower).
    """
    nx = src.shape[0]
    r0 = src[i]
    rp1 = src[neighbour(i, 1, nx, boundary)]
    rp2 = src[neighbour(i, 2, nx, boundary)]
    s_cur = sc[i % 2]
    s_next = sc[1 - i % 2]
    _slope_row(s_next, r0, rp1, rp2, scheme)
    f_left = sc[2 + i % 2]
    f_right = sc[3 - i % 2]
    _face_row(f_right, v, r0, rp1, s_cur, s_next, jn)
    if w_base != 0.0:
        _update_row(out, r0, f_right, f_left, lam, True, w_base, w_new)
    else:
        _update_row(out, r0, f_right, f_left, lam, False, w_base, w_new)
