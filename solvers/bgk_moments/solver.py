"""The reduced moment system of the BGK equation, solved for a batch of runs in one numba kernel.

    ∂_t V + ∂_x F(V) = (0, 0, 0, W_M(U) - W) / Kn,      V = (rho, m, E, W_1..W_M)   (units "1")

with the learned fluxes of :mod:`.closure`. Scheme: finite volumes on a uniform x grid
(periodic or outflow), MUSCL-minmod reconstruction of ``(rho, u, T, z)`` with
``z = (W - W_M(U))/rho``, local Lax-Friedrichs (Rusanov) fluxes with the speed bound
``a = |u| + c_max sqrt(T)``, SSP-RK2 (Heun) in time, and the exact relaxation
``W <- W_M(U) + (W - W_M(U)) exp(-h/Kn)`` (U is constant under the source) for ``h = dt/2``
before and after each transport step (Strang splitting). ``dt = cfl dx / max a``, shortened to
hit every save time. Mass and momentum (and energy) change only by flux differences, so on a
periodic grid they are conserved to round-off.

A run that produces a non-finite or non-positive density or temperature stops with a status
code (:data:`STATUS`) and the time it failed, instead of raising.
"""

import math

import numpy as np
from numba import njit, prange

from .closure import cell_flux, equilibrium_moments

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


@njit(cache=True, nogil=True, error_model="numpy")
def _primitives(V, cl, ws, P):
    """Rows ``(rho, u, T, z_1..z_M)`` of ``P`` from the conserved cells ``V`` ``(3 + M, n_x)``."""
    m = V.shape[0] - 3
    WM = ws[0, :m]
    GM = ws[1, :m]
    g = ws[5]
    for i in range(V.shape[1]):
        rho = V[0, i]
        u = V[1, i] / rho
        T = (2.0 * V[2, i] - V[1, i] * u) / rho
        P[0, i] = rho
        P[1, i] = u
        P[2, i] = T
        equilibrium_moments(rho, u, T, cl, g, WM, GM)
        for k in range(m):
            P[3 + k, i] = (V[3 + k, i] - WM[k]) / rho


@njit(cache=True, nogil=True, error_model="numpy")
def _rhs(V, dVdt, dx, c_max, boundary, cl, members, ws, P, S, face):
    """``dVdt = -(F_{i+1/2} - F_{i-1/2})/dx``; returns False if a face state is not admissible."""
    nq, nx = V.shape
    m = nq - 3
    _primitives(V, cl, ws, P)
    for i in range(nx):
        im = _idx(i - 1, nx, boundary)
        ip = _idx(i + 1, nx, boundary)
        for k in range(nq):
            S[k, i] = _minmod(P[k, i] - P[k, im], P[k, ip] - P[k, i])
    q = face[0]
    zl = face[1, :m]
    VL, VR, FL, FR, FN = face[2], face[3], face[4], face[5], face[6]
    first = 0 if boundary == OUTFLOW else 1
    for f in range(first, nx + 1):
        il = _idx(f - 1, nx, boundary)
        ir = _idx(f, nx, boundary)
        for k in range(nq):
            q[k] = P[k, il] + 0.5 * S[k, il]
        if not (q[0] > 0.0 and q[2] > 0.0):
            return False
        for k in range(m):
            zl[k] = q[3 + k]
        cell_flux(q[0], q[1], q[2], zl, cl, members, ws, VL, FL)
        al = abs(q[1]) + c_max * math.sqrt(q[2])
        for k in range(nq):
            q[k] = P[k, ir] - 0.5 * S[k, ir]
        if not (q[0] > 0.0 and q[2] > 0.0):
            return False
        for k in range(m):
            zl[k] = q[3 + k]
        cell_flux(q[0], q[1], q[2], zl, cl, members, ws, VR, FR)
        a = max(al, abs(q[1]) + c_max * math.sqrt(q[2]))
        for k in range(nq):
            FN[k] = 0.5 * (FL[k] + FR[k]) - 0.5 * a * (VR[k] - VL[k])
        # face f is the right face of cell f - 1 and the left face of cell f
        if f >= 1:
            for k in range(nq):
                dVdt[k, f - 1] -= FN[k] / dx
        if f < nx:
            for k in range(nq):
                dVdt[k, f] += FN[k] / dx
        if f == nx and boundary == PERIODIC:
            for k in range(nq):
                dVdt[k, 0] += FN[k] / dx
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _relax(V, h, kn, cl, ws):
    """Exact relaxation of the W rows over a time ``h`` (U frozen)."""
    m = V.shape[0] - 3
    e = math.exp(-h / kn)
    WM = ws[0, :m]
    GM = ws[1, :m]
    for i in range(V.shape[1]):
        rho = V[0, i]
        u = V[1, i] / rho
        T = (2.0 * V[2, i] - V[1, i] * u) / rho
        equilibrium_moments(rho, u, T, cl, ws[5], WM, GM)
        for k in range(m):
            V[3 + k, i] = WM[k] + (V[3 + k, i] - WM[k]) * e


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
def _run(V, dx, kn, t_save, cfl, c_max, boundary, cl, members, out, ws):
    """Advance one run ``V`` ``(3 + M, n_x)`` in place; ``out (n_t, 3 + M, n_x)``; returns (status, t, steps)."""
    nq, nx = V.shape
    P = np.empty((nq, nx))
    S = np.empty((nq, nx))
    k1 = np.empty((nq, nx))
    V1 = np.empty((nq, nx))
    face = np.empty((7, nq))
    t = 0.0
    steps = 0
    for s in range(t_save.shape[0]):
        while t < t_save[s]:
            amax = 0.0
            for i in range(nx):
                u = V[1, i] / V[0, i]
                T = (2.0 * V[2, i] - V[1, i] * u) / V[0, i]
                amax = max(amax, abs(u) + c_max * math.sqrt(T))
            dt = cfl * dx / amax
            if t + dt >= t_save[s] * (1.0 - 1e-14):
                dt = t_save[s] - t
            if not dt > 1e-14 * max(t_save[s], 1.0) or steps >= MAX_STEPS:
                return TOO_MANY_STEPS, t, steps
            _relax(V, 0.5 * dt, kn, cl, ws)
            k1[:] = 0.0
            if not _rhs(V, k1, dx, c_max, boundary, cl, members, ws, P, S, face):
                return NONPOSITIVE, t, steps
            for k in range(nq):
                for i in range(nx):
                    V1[k, i] = V[k, i] + dt * k1[k, i]
            status = _admissible(V1)
            if status != OK:
                return status, t, steps
            k1[:] = 0.0
            if not _rhs(V1, k1, dx, c_max, boundary, cl, members, ws, P, S, face):
                return NONPOSITIVE, t, steps
            for k in range(nq):
                for i in range(nx):
                    V[k, i] = 0.5 * V[k, i] + 0.5 * (V1[k, i] + dt * k1[k, i])
            _relax(V, 0.5 * dt, kn, cl, ws)
            t = t + dt if t + dt < t_save[s] else t_save[s]
            steps += 1
            status = _admissible(V)
            if status != OK:
                return status, t, steps
        out[s] = V
    return OK, t, steps


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _run_batch(V0, dx, kn, t_save, cfl, c_max, boundary, cl, members, out, status, t_end, steps):
    nb = V0.shape[0]
    width = max(cl.v.shape[0], np.max(cl.sizes)) + 2
    for b in prange(nb):
        ws = np.zeros((8, width))
        V = V0[b].copy()
        st, tt, ns = _run(V, dx, kn[b], t_save, cfl, c_max, boundary, cl, members, out[b], ws)
        status[b] = st
        t_end[b] = tt
        steps[b] = ns


def primitive_state(V, closure):
    """``(rho, u, T, z)`` of conserved states ``V`` ``(3 + M, n_x)``: z ``(M, n_x)``."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    P = np.empty_like(V)
    ws = np.zeros((8, max(closure.v.size, int(np.max(closure.sizes))) + 2))
    _primitives(V, closure, ws, P)
    return P[0], P[1], P[2], P[3:]


def solve_moments(V0, closure, dx, kn, t_save, *, cfl=0.4, c_max=4.0, boundary="periodic", members=None):
    """Solve the reduced system for a batch of runs on one grid.

    V0 ``(n_batch, 3 + M, n_x)`` (or one run ``(3 + M, n_x)``): initial ``(rho, m, E, W)`` cell averages;
    closure: :class:`~.closure.Closure`; dx: cell width; kn: scalar or ``(n_batch,)`` in ``(0, inf]``;
    t_save ``(n_t,)`` nondecreasing times ``>= 0``; cfl: ``max a dt / dx`` (at most 0.5: MUSCL);
    c_max: wave speed bound ``a = |u| + c_max sqrt(T)``; boundary: periodic or outflow;
    members: ``(first, stop)`` ensemble members averaged (default: all).

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
    """Compile the kernels on a tiny problem (one extra moment, one hidden layer)."""
    from .closure import make_closure
    from .mlp import n_params

    v = np.linspace(-3.5, 3.5, 8)
    sizes = (3, 4, 2)
    cl = make_closure(v, v[1] - v[0], np.ones((1, 8)), np.zeros(n_params(sizes)), sizes, "tanh",
                      np.zeros(3), np.ones(3), np.ones(1), np.ones(2))
    V0 = np.zeros((1, 4, 4))
    V0[0, 0] = 1.0
    V0[0, 2] = 0.5
    V0[0, 3] = 1.0
    solve_moments(V0, cl, 0.25, 1.0, np.array([0.0, 0.01]))
