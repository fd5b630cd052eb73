"""The reduced moment system of the BGK (dim 1) or Boltzmann (dim 3) equation, solved for a batch of
runs in one numba kernel.

    dim 1 (1D1V BGK):          ∂_t V + ∂_x F(V) = (0, 0, 0, W_M(U) - W) / Kn,
    dim 3 (1D3V, Chu pair):    ∂_t V + ∂_x F(V) = (0, 0, 0, -rho z_scale ⊙ (rho/Kn) R(u, T, z) zeta),

``V = (rho, m, E, W_1..W_M)`` (units "1"), ``z = (W - W_M(U))/rho``, ``zeta = z / z_scale``, with the
learned fluxes ``F`` and source matrix ``R = L Lᵀ + source_floor I`` of :mod:`.closure`
(``T = (2E/rho - u²)/dim``: ``gamma = 3`` in dim 1, ``5/3`` in dim 3). Scheme: finite volumes on
a uniform x grid (periodic or outflow), MUSCL-minmod reconstruction of ``(rho, u, T, z)``; the
closure is evaluated at the states on both sides of every face (all faces of a run in one batch
of matrix products); local Lax-Friedrichs (Rusanov) fluxes with the speed bound
``a = |u| + c_max sqrt(T)``; SSP-RK2 (Heun) in time; and the source over ``h = dt/2`` before and
after each transport step (Strang splitting), U constant under it:

- dim 1: exact relaxation ``W <- W_M(U) + (W - W_M(U)) exp(-h/Kn)``;
- dim 3: one linearly implicit step with ``R`` frozen at the state at the start of the interval,
  ``zeta <- (I + (rho h / Kn) R)^-1 zeta`` (a Cholesky solve per cell), ``W = W_M(U) + rho z``;
  ``Kn = inf``: nothing.

The two half intervals between consecutive steps are merged into one source step over their sum
``(dt_n + dt_{n+1})/2`` (exact in dim 1; in dim 3 it is one implicit step over the sum). At
``W = W_M(U)`` in every cell ``z = 0`` and the closure vanishes: a transport stage from such a
state is exactly the Euler one (``gamma = 3`` or ``5/3``). The middle RK2 stage is not relaxed
(``z = O(dt)`` there), so with a nonzero stress or heat-flux closure a solve from equilibrium
departs from the Euler solve by ``O(dt)`` even as ``Kn -> 0``.
``dt = cfl dx / max a``, shortened to hit every save time. Mass and momentum (and energy)
change only by flux differences, so on a periodic grid they are conserved to round-off.

A run that produces a non-finite or non-positive density or temperature stops with a status
code (:data:`STATUS`) and the time it failed, instead of raising.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .closure import closure_cells, equilibrium_moments, source_cells

__all__ = ["STATUS", "solve_moments", "primitive_state", "warmup"]

OK, NONFINITE, NONPOSITIVE, TOO_MANY_STEPS = 0, 1, 2, 3
STATUS = ("ok", "non-finite state (blow-up)", "non-positive density or temperature (loss of hyperbolicity)",
          "time step collapsed")
PERIODIC, OUTFLOW = 0, 1
MAX_STEPS = 10**6


@njit(cache=True, nogil=True, error_model="numpy")
def _idx(i, n, boundary):
    if boundary == PERIODIC:
        return i % n
    return min(max(i, 0), n - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def _minmod(a, b):
    if a * b <= 0.0:
        return 0.0
    return a if abs(a) < abs(b) else b


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _primitives(V, i, dim):
    """``(rho, u, T)`` of cell ``i`` of the conserved states ``V``: ``T = (2E - m u)/(dim rho)``."""
    rho = V[0, i]
    u = V[1, i] / rho
    return rho, u, (2.0 * V[2, i] - V[1, i] * u) / (dim * rho)


@njit(cache=True, nogil=True, error_model="numpy")
def _equilibrium(V, cl, g, EQ):
    """``EQ (n_x, 2M)``: ``W_M`` then ``G_M`` of each cell's ``(rho, u, T)``; ``g`` scratch ``(n_v,)``."""
    m = V.shape[0] - 3
    for i in range(V.shape[1]):
        rho, u, T = _primitives(V, i, cl.dim)
        equilibrium_moments(rho, u, T, cl, g, EQ[i, :m], EQ[i, m:])


class _Work(NamedTuple):
    """Scratch of one run with ``n_x`` cells and ``n_f = n_x + 1`` faces: P, S ``(3 + M, n_x)`` the
    cell primitives (rho, u, T, z) and their limited slopes; Q ``(3 + M, 2 n_f)`` the states left
    (columns ``f``) and right (``n_f + f``) of each face, EQ ``(2 n_f, 2M)`` their equilibrium
    moments, y ``(2 n_f, n_y)`` their closure (``n_y = 1 + M`` in dim 1, ``2 + M`` in dim 3);
    xin ``(2 n_f, 2 + M)``, zs ``(2 n_f, M)``, buf ``(2, 2 n_f max(sizes))`` for the networks (their
    first ``n_x`` rows also serve the cells' source); face ``(4, 3 + M)``: V and F on each side
    (its first row also holds a cell's ``zeta`` in the dim-3 source);
    R ``(n_x, M, M)`` the cells' source matrices (dim 3; ``(0, M, M)`` in dim 1); dim: 1 or 3."""

    P: np.ndarray
    S: np.ndarray
    Q: np.ndarray
    EQ: np.ndarray
    y: np.ndarray
    xin: np.ndarray
    zs: np.ndarray
    buf: np.ndarray
    face: np.ndarray
    R: np.ndarray
    dim: int


@njit(cache=True, nogil=True, error_model="numpy")
def _work(nq, nx, sizes, dim=1):
    m = nq - 3
    ns = 2 * (nx + 1)
    return _Work(np.empty((nq, nx)), np.empty((nq, nx)), np.empty((nq, ns)), np.empty((ns, 2 * m)),
                 np.empty((ns, (1 if dim == 1 else 2) + m)), np.empty((ns, 2 + m)), np.empty((ns, m)),
                 np.empty((2, ns * np.max(sizes))), np.empty((4, nq)), np.empty((nx if dim == 3 else 0, m, m)), dim)


@njit(cache=True, nogil=True, error_model="numpy")
def _face_states(V, EQ, cl, g, boundary, wk):
    """Fill ``wk.Q`` with the MUSCL-minmod states on both sides of every face, their equilibrium
    moments and (one batch of network evaluations) their closure; False if one is not admissible."""
    nq, nx = V.shape
    m = nq - 3
    P, S, Q = wk.P, wk.S, wk.Q
    for i in range(nx):
        rho, u, T = _primitives(V, i, wk.dim)
        P[0, i] = rho
        P[1, i] = u
        P[2, i] = T
        for k in range(m):
            P[3 + k, i] = (V[3 + k, i] - EQ[i, k]) / rho
    for i in range(nx):
        im = _idx(i - 1, nx, boundary)
        ip = _idx(i + 1, nx, boundary)
        for k in range(nq):
            S[k, i] = _minmod(P[k, i] - P[k, im], P[k, ip] - P[k, i])
    nf = nx + 1
    for f in range(nf):  # on a periodic grid face 0 repeats face n_x: computed with the block, not used
        il = _idx(f - 1, nx, boundary)
        ir = _idx(f, nx, boundary)
        for k in range(nq):
            Q[k, f] = P[k, il] + 0.5 * S[k, il]
            Q[k, nf + f] = P[k, ir] - 0.5 * S[k, ir]
    for c in range(2 * nf):
        if not (Q[0, c] > 0.0 and Q[2, c] > 0.0):
            return False
        equilibrium_moments(Q[0, c], Q[1, c], Q[2, c], cl, g, wk.EQ[c, :m], wk.EQ[c, m:])
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _side(wk, c, c_max, vf, ff):
    """Conserved state ``vf`` and flux ``ff`` ``(3 + M,)`` of face state ``c`` of ``wk.Q`` (the
    fluxes of :mod:`.closure` for ``wk.dim``); returns its speed bound ``|u| + c_max sqrt(T)``."""
    m = vf.shape[0] - 3
    Q, EQ, y = wk.Q, wk.EQ, wk.y
    rho, u, T = Q[0, c], Q[1, c], Q[2, c]
    mom = rho * u
    E = 0.5 * mom * u + 0.5 * wk.dim * rho * T
    vf[0] = rho
    vf[1] = mom
    vf[2] = E
    ff[0] = mom
    if wk.dim == 1:
        ff[1] = 2.0 * E
        ff[2] = u * (E + rho * T) + rho * y[c, 0]
    else:
        stress = rho * T + rho * y[c, 0]  # p + rho sighat
        ff[1] = mom * u + stress
        ff[2] = u * (E + stress) + rho * y[c, 1]
    g0 = 1 if wk.dim == 1 else 2  # first Ghat column of y
    for k in range(m):
        vf[3 + k] = EQ[c, k] + rho * Q[3 + k, c]
        ff[3 + k] = EQ[c, m + k] + rho * y[c, g0 + k]
    return abs(u) + c_max * math.sqrt(T)


@njit(cache=True, nogil=True, error_model="numpy")
def _rhs(V, EQ, dVdt, dx, c_max, boundary, cl, members, g, wk):
    """``dVdt = -(F_{i+1/2} - F_{i-1/2})/dx`` (``EQ``: the equilibrium moments of ``V``'s cells, see
    :func:`_equilibrium`); returns False if a face state is not admissible."""
    nq, nx = V.shape
    if not _face_states(V, EQ, cl, g, boundary, wk):
        return False
    Q = wk.Q
    closure_cells(Q[1], Q[2], Q[3:], cl, members, wk.xin, wk.zs, wk.buf, wk.y)
    VL, VR, FL, FR = wk.face[0], wk.face[1], wk.face[2], wk.face[3]
    nf = nx + 1
    for f in range(0 if boundary == OUTFLOW else 1, nf):
        a = max(_side(wk, f, c_max, VL, FL), _side(wk, nf + f, c_max, VR, FR))
        # face f is the right face of cell f - 1 and the left face of cell f
        for k in range(nq):
            fn = (0.5 * (FL[k] + FR[k]) - 0.5 * a * (VR[k] - VL[k])) / dx
            if f >= 1:
                dVdt[k, f - 1] -= fn
            if f < nx:
                dVdt[k, f] += fn
            if f == nx and boundary == PERIODIC:
                dVdt[k, 0] += fn
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _relax(V, EQ, h, kn, cl, members, wk):
    """The source over a time ``h`` on the W rows toward ``EQ``'s ``W_M`` (U frozen): exact in dim 1,
    one linearly implicit step with the learned matrix frozen at the start in dim 3 (see module
    docstring; ``wk.R`` and the network scratch of ``wk`` are used)."""
    m = V.shape[0] - 3
    if cl.dim == 1:
        e = math.exp(-h / kn)
        for i in range(V.shape[1]):
            for k in range(m):
                V[3 + k, i] = EQ[i, k] + (V[3 + k, i] - EQ[i, k]) * e
        return
    if not h / kn > 0.0:  # Kn = inf (or h = 0): nothing
        return
    nx = V.shape[1]
    P = wk.P  # the cells' (., u, T, z), the inputs of the source networks
    for i in range(nx):
        rho, u, T = _primitives(V, i, cl.dim)
        P[1, i] = u
        P[2, i] = T
        for k in range(m):
            P[3 + k, i] = (V[3 + k, i] - EQ[i, k]) / rho
    source_cells(P[1], P[2], P[3:], cl, members, wk.xin[:nx], wk.buf, wk.R)
    zeta = wk.face[0, :m]
    for i in range(nx):
        rho = V[0, i]
        for k in range(m):
            zeta[k] = P[3 + k, i] / cl.z_scale[k]
        _implicit_decay(wk.R[i], rho * h / kn, zeta)
        for k in range(m):
            V[3 + k, i] = EQ[i, k] + rho * (cl.z_scale[k] * zeta[k])


@njit(cache=True, nogil=True, error_model="numpy")
def _implicit_decay(A, c, x):
    """``x <- (I + c R)^-1 x`` for symmetric positive definite ``R`` given by its lower triangle in
    ``A (M, M)`` (overwritten by the Cholesky factor of ``I + c R``); ``c >= 0``."""
    m = x.shape[0]
    for i in range(m):
        for j in range(i + 1):
            A[i, j] = c * A[i, j] + (1.0 if i == j else 0.0)
    for j in range(m):  # Cholesky, A = C Cᵀ, C in the lower triangle
        d = A[j, j]
        for p in range(j):
            d -= A[j, p] * A[j, p]
        d = math.sqrt(d)
        A[j, j] = d
        for i in range(j + 1, m):
            s = A[i, j]
            for p in range(j):
                s -= A[i, p] * A[j, p]
            A[i, j] = s / d
    for i in range(m):  # C y = x
        s = x[i]
        for p in range(i):
            s -= A[i, p] * x[p]
        x[i] = s / A[i, i]
    for i in range(m - 1, -1, -1):  # Cᵀ x = y
        s = x[i]
        for p in range(i + 1, m):
            s -= A[p, i] * x[p]
        x[i] = s / A[i, i]


@njit(cache=True, nogil=True, error_model="numpy")
def _admissible(V):
    for i in range(V.shape[1]):
        for k in range(V.shape[0]):
            if not math.isfinite(V[k, i]):
                return NONFINITE
        rho = V[0, i]
        if not (rho > 0.0 and 2.0 * V[2, i] * rho - V[1, i] * V[1, i] > 0.0):
            return NONPOSITIVE
    return OK


@njit(cache=True, nogil=True, error_model="numpy")
def _run(V, dx, kn, t_save, cfl, c_max, boundary, cl, members, out, g):
    """Advance one run ``V`` ``(3 + M, n_x)`` in place; ``out (n_t, 3 + M, n_x)``; ``g`` scratch
    ``(n_v,)``; returns (status, t, steps).

    The two half relaxations between consecutive steps are one source step over their sum
    (U, hence W_M, does not change under the source; in dim 3 one implicit step), and the
    equilibrium moments of a state's cells serve its relaxation and its transport stage: six
    quadratures per cell and step (two at the cell, four at the faces) instead of eight.
    """
    nq, nx = V.shape
    m = nq - 3
    wk = _work(nq, nx, cl.sizes, cl.dim)
    EQ = np.empty((nx, 2 * m))
    EQ1 = np.empty((nx, 2 * m))
    k1 = np.empty((nq, nx))
    V1 = np.empty((nq, nx))
    _equilibrium(V, cl, g, EQ)
    t = 0.0
    steps = 0
    pending = 0.0  # relaxation time owed to the state since the last step
    for s in range(t_save.shape[0]):
        while t < t_save[s]:
            amax = 0.0
            for i in range(nx):
                _, u, T = _primitives(V, i, cl.dim)
                amax = max(amax, abs(u) + c_max * math.sqrt(T))
            dt = cfl * dx / amax
            if t + dt >= t_save[s] * (1.0 - 1e-14):
                dt = t_save[s] - t
            if not dt > 1e-14 * max(t_save[s], 1.0) or steps >= MAX_STEPS:
                return TOO_MANY_STEPS, t, steps
            _relax(V, EQ, pending + 0.5 * dt, kn, cl, members, wk)
            k1[:] = 0.0
            if not _rhs(V, EQ, k1, dx, c_max, boundary, cl, members, g, wk):
                return NONPOSITIVE, t, steps
            for k in range(nq):
                for i in range(nx):
                    V1[k, i] = V[k, i] + dt * k1[k, i]
            status = _admissible(V1)
            if status != OK:
                return status, t, steps
            _equilibrium(V1, cl, g, EQ1)
            k1[:] = 0.0
            if not _rhs(V1, EQ1, k1, dx, c_max, boundary, cl, members, g, wk):
                return NONPOSITIVE, t, steps
            for k in range(nq):
                for i in range(nx):
                    V[k, i] = 0.5 * V[k, i] + 0.5 * (V1[k, i] + dt * k1[k, i])
            t = t + dt if t + dt < t_save[s] else t_save[s]
            steps += 1
            status = _admissible(V)
            if status != OK:
                return status, t, steps
            _equilibrium(V, cl, g, EQ)
            pending = 0.5 * dt
        if pending > 0.0:
            _relax(V, EQ, pending, kn, cl, members, wk)
            pending = 0.0
        out[s] = V
    return OK, t, steps


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _run_batch(V0, dx, kn, t_save, cfl, c_max, boundary, cl, members, out, status, t_end, steps):
    nb = V0.shape[0]
    for b in prange(nb):
        g = np.empty(cl.v.shape[0])
        V = V0[b].copy()
        st, tt, ns = _run(V, dx, kn[b], t_save, cfl, c_max, boundary, cl, members, out[b], g)
        status[b] = st
        t_end[b] = tt
        steps[b] = ns


def primitive_state(V, closure):
    """``(rho, u, T, z)`` of conserved states ``V`` ``(3 + M, n_x)``: z ``(M, n_x)``;
    ``T = (2E/rho - u²)/dim`` with the closure's ``dim``."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    m = V.shape[0] - 3
    EQ = np.empty((V.shape[1], 2 * m))
    _equilibrium(V, closure, np.empty(closure.v.size), EQ)
    rho = V[0]
    u = V[1] / rho
    return rho, u, (2.0 * V[2] - V[1] * u) / (closure.dim * rho), (V[3:] - EQ[:, :m].T) / rho


def solve_moments(V0, closure, dx, kn, t_save, *, cfl=0.4, c_max=4.0, boundary="periodic", members=None):
    """Solve the reduced system (dim 1 or 3, from ``closure.dim``) for a batch of runs on one grid.

    V0 ``(n_batch, 3 + M, n_x)`` (or one run ``(3 + M, n_x)``): initial ``(rho, m, E, W)`` cell averages;
    closure: :class:`~.closure.Closure`; dx: cell width; kn: scalar or ``(n_batch,)`` in ``(0, inf]``;
    t_save ``(n_t,)`` nondecreasing times ``>= 0``; cfl: ``max a dt / dx`` (at most 0.5: MUSCL);
    c_max: wave speed bound ``a = |u| + c_max sqrt(T)``; boundary: periodic or outflow;
    members: ``(first, stop)`` ensemble members averaged (default: all; in dim 3 for the fluxes and
    the source matrix alike). ``E = ½ rho u² + (dim/2) rho T``.

    Returns ``(V (n_batch, n_t, 3 + M, n_x), status (n_batch,) int, t_end (n_batch,), steps (n_batch,))``;
    entries after a failure keep NaN. All quantities are nondimensional (units "1").
    """
    V0 = np.asarray(V0, dtype=np.float64)
    if V0.ndim == 2:
        V0 = V0[None]
    nq = 3 + closure.wtab.shape[0]
    if V0.ndim != 3 or V0.shape[1] != nq:
        raise ValueError(f"V0 must have shape (n_batch, 3 + M = {nq}, n_x), got {V0.shape}")
    nb = V0.shape[0]
    kn = np.broadcast_to(np.asarray(kn, dtype=np.float64), (nb,)).copy()
    if np.any(~(kn > 0)):
        raise ValueError("kn must be > 0 (inf allowed) for the reduced system")
    if not 0 < cfl <= 0.5:
        raise ValueError(f"cfl must lie in (0, 0.5], got {cfl!r}")
    if not c_max > 0:
        raise ValueError(f"c_max must be positive, got {c_max!r}")
    if boundary not in ("periodic", "outflow"):
        raise ValueError(f"boundary must be periodic or outflow, got {boundary!r}")
    t_save = np.asarray(t_save, dtype=np.float64)
    if t_save.ndim != 1 or t_save.size == 0 or t_save[0] < 0 or np.any(np.diff(t_save) < 0):
        raise ValueError("t_save must be a non-empty nondecreasing 1-D array of times >= 0")
    k = closure.params.shape[0]
    first, stop = (0, k) if members is None else members
    if not 0 <= first < stop <= k:
        raise ValueError(f"members must satisfy 0 <= first < stop <= {k}, got {members!r}")
    out = np.full((nb, t_save.size) + V0.shape[1:], np.nan)
    status = np.zeros(nb, dtype=np.int64)
    t_end = np.zeros(nb)
    steps = np.zeros(nb, dtype=np.int64)
    _run_batch(np.ascontiguousarray(V0), float(dx), kn, t_save, float(cfl), float(c_max),
               PERIODIC if boundary == "periodic" else OUTFLOW, closure, np.array([first, stop], dtype=np.int64),
               out, status, t_end, steps)
    return out, status, t_end, steps


def warmup():
    """Compile the kernels on two tiny problems, dim 1 and dim 3 (one extra moment, one hidden layer)."""
    from .closure import make_closure, n_closure_outputs
    from .mlp import n_params

    v = np.linspace(-3.5, 3.5, 8)
    for dim in (1, 3):
        sizes = (3, 4, n_closure_outputs(1, dim))
        cl = make_closure(v, v[1] - v[0], np.ones((1, 8)), np.zeros(n_params(sizes)), sizes, "tanh",
                          np.zeros(3), np.ones(3), np.ones(1), np.ones(2 if dim == 1 else 3), dim=dim,
                          wbtab=np.ones((1, 8)) if dim == 3 else None)
        V0 = np.zeros((1, 4, 4))
        V0[0, 0] = 1.0
        V0[0, 2] = 0.5 * dim
        V0[0, 3] = 1.0
        solve_moments(V0, cl, 0.25, 1.0, np.array([0.0, 0.01]))
