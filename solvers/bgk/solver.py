"""The BGK time loop: a batch of independent runs on one phase-space grid, advanced by one numba kernel.

Model (nondimensional, units "1")::

    ∂_t f + v ∂_x f = (M[f] - f) / tau,     tau = kn (or kn/rho, kn/(rho T^(1-omega))).

Scheme per step ``dt`` (``relaxation="exact"``, the default; second order)::

    f <- R(dt/2) f;   g = f + dt L(f);   f <- ½ f + ½ (g + dt L(g));   f <- R(dt/2) f

with ``L = -∂_x(v .)`` (upwind or MUSCL, :mod:`.transport`) and ``R`` the exact relaxation
(:mod:`.relaxation`). Consecutive half relaxations are merged (``R(a) R(b) = R(a+b)`` since
the moments are frozen), and the relaxation is fused with the second RK stage, so a step is
two sweeps over f. ``relaxation="imex"`` uses ``f <- (f + dt L(f) + (dt/tau) M) / (1 + dt/tau)``,
first order. The batch holds exactly two copies of f (the state and one stage buffer).

Time step: ``dt = min(cfl dx / max|v|, dt_max)``, shortened per output interval so that
every save time is hit exactly.
"""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from . import maxwellian as mx
from .grid import PhaseGrid
from .options import boundary_code, cfl_limit, scheme_code
from .relaxation import EXACT, frequency_code, relax_cells, relaxation_code
from .transport import sweep_cells

__all__ = ["PhaseGrid", "Solution", "solve", "time_steps", "warmup"]


@dataclass
class Solution:
    """Output of :func:`solve` for a batch of ``n_batch`` runs at ``n_t`` save times.

    ``t`` ``(n_t,)``; ``rho, m, E, q`` ``(n_batch, n_t, n_x)``; ``H`` ``(n_batch, n_t)``;
    ``f`` ``(n_batch, n_t, n_comp, n_x, n_v)`` or None; ``dt`` ``(n_t,)`` the step used in
    the interval ending at each save time (0 where no step); ``n_steps`` the total number of steps.
    """

    grid: PhaseGrid
    t: np.ndarray
    rho: np.ndarray
    m: np.ndarray
    E: np.ndarray
    q: np.ndarray
    H: np.ndarray
    f: np.ndarray | None
    dt: np.ndarray
    n_steps: int

    @property
    def u(self):
        """Velocity m / rho."""
        return self.m / self.rho

    @property
    def T(self):
        """Temperature (2E - m u) / (dim rho)."""
        return mx.primitives(self.rho, self.m, self.E, self.grid.dim)[1]

    @property
    def p(self):
        """Pressure rho T."""
        return self.rho * self.T

    @property
    def mass(self):
        """Total mass ``Σ rho dx``, ``(n_batch, n_t)``."""
        return self.rho.sum(axis=-1) * self.grid.dx

    @property
    def momentum(self):
        """Total momentum ``Σ m dx``, ``(n_batch, n_t)``."""
        return self.m.sum(axis=-1) * self.grid.dx

    @property
    def energy(self):
        """Total energy ``Σ E dx``, ``(n_batch, n_t)``."""
        return self.E.sum(axis=-1) * self.grid.dx


# ---------------------------------------------------------------------------
# numba kernels (float64, C-contiguous; options as integer codes: one signature)
# ---------------------------------------------------------------------------

_CHUNK = 32  # cells a sweep transports before it relaxes them (fewer calls; 8 to 64 measured within 4 %)


@njit(cache=True, nogil=True, error_model="numpy")
def _cell_outputs(fa, b, i, v, dv, dim):
    """rho, m, E, q and ``∫ f ln f dv`` of run ``b``, cell ``i``."""
    row = fa[b, 0, i]
    nv = row.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    sb = 0.0
    for j in range(nv):
        s0 += row[j]
        s1 += v[j] * row[j]
        s2 += v[j] * v[j] * row[j]
    if dim == 3:
        rb = fa[b, 1, i]
        for j in range(nv):
            sb += rb[j]
    u = s1 / s0
    sq = 0.0
    sh = 0.0
    if dim == 1:
        for j in range(nv):
            c = v[j] - u
            w = row[j]
            sq += 0.5 * c * c * c * w
            if w > 0.0:
                sh += w * math.log(w)
    else:
        rb = fa[b, 1, i]
        l2pi = math.log(2.0 * math.pi)
        for j in range(nv):
            c = v[j] - u
            w = row[j]
            sq += c * (0.5 * c * c * w + rb[j])
            if w > 0.0 and rb[j] > 0.0:
                sh += w * (2.0 * math.log(w) - math.log(rb[j]) - l2pi - 1.0)
    return s0 * dv, s1 * dv, (0.5 * s2 + sb) * dv, sq * dv, sh * dv


@njit(cache=True, nogil=True, error_model="numpy")
def _sweep(dst, src, b, i0, i1, v, dv, jn, lam, scheme, boundary, w_base, w_new,
           kn, dim, frequency, omega, h, mode, buf):
    """Transport cells ``i0 .. i1-1`` of run ``b`` (every component) from ``src`` into ``dst``, in order.

    ``dst[b, :, i] <- w_base dst[b, :, i] + w_new (src + dt L(src))[b, :, i]``, in chunks of ``_CHUNK``
    cells; if ``h > 0`` each chunk is relaxed over ``h`` (``mode``) right after its transport, while it
    is in cache. ``buf`` (``(n_v,)``) is this sweep's scratch.
    """
    nc = src.shape[1]
    for c0 in range(i0, i1, _CHUNK):
        c1 = min(i1, c0 + _CHUNK)
        for c in range(nc):
            sweep_cells(dst[b, c], src[b, c], c0, c1, v, jn, lam, scheme, boundary, w_base, w_new)
        if h > 0.0:
            relax_cells(dst, b, c0, c1, v, dv, dim, kn[b], frequency, omega, h, mode, buf)


@njit(cache=True, nogil=True, error_model="numpy")
def _run_steps(cur, oth, b, n, dt, v, dv, jn, lam, scheme, boundary, kn, dim, frequency, omega, mode, buf):
    """``n`` steps of ``dt`` for run ``b`` alone, the same operations in the same order as the
    step-by-step sweeps of :func:`_advance`. EXACT: the result is in ``cur``; IMEX: the steps
    alternate between ``cur`` and ``oth``, so the result is in ``oth`` when ``n`` is odd."""
    nx = cur.shape[2]
    if mode == EXACT:
        if n > 0:
            relax_cells(cur, b, 0, nx, v, dv, dim, kn[b], frequency, omega, 0.5 * dt, EXACT, buf)
        for s in range(n):
            hh = dt if s < n - 1 else 0.5 * dt
            _sweep(oth, cur, b, 0, nx, v, dv, jn, lam, scheme, boundary, 0.0, 1.0, kn, dim, frequency, omega,
                   0.0, mode, buf)
            _sweep(cur, oth, b, 0, nx, v, dv, jn, lam, scheme, boundary, 0.5, 0.5, kn, dim, frequency, omega,
                   hh, mode, buf)
    else:
        src = cur
        dst = oth
        for s in range(n):
            _sweep(dst, src, b, 0, nx, v, dv, jn, lam, scheme, boundary, 0.0, 1.0, kn, dim, frequency, omega,
                   dt, mode, buf)
            tmp = src
            src = dst
            dst = tmp


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _advance(f, g, v, dv, dx, kn, dim, boundary, scheme, mode, frequency, omega,
             n_steps, dts, rho_o, m_o, E_o, q_o, H_o, f_o):
    """Advance the batch ``f`` (``(n_batch, n_comp, n_x, n_v)``, in place) through the output intervals.

    ``g`` is the stage buffer (same shape). Interval ``k`` takes ``n_steps[k]`` steps of
    ``dts[k]``, then writes the outputs at index ``k``. ``f_o`` has ``n_t`` or 0 entries in axis 1.
    Work is split into sweeps over contiguous cells of one run (about 64 sweeps in all, at
    least 16 cells each), run in parallel. When every sweep is a whole run (batches of 64 runs
    or more, or runs of fewer than 32 cells), each thread instead takes whole runs through all
    the steps of an interval while they are in cache (:func:`_run_steps`).
    """
    nb, nc, nx, nv = f.shape
    nrows = nb * nx
    jn = 0
    while jn < nv and v[jn] < 0.0:
        jn += 1
    h_rows = np.zeros((nb, nx))
    per_run = max(1, min(-(-64 // nb), nx // 16))
    width = -(-nx // per_run)
    per_run = -(-nx // width)
    nsw = nb * per_run
    buf = np.empty((nsw, nv))
    save_f = f_o.shape[1] > 0
    swapped = False
    cur = f
    oth = g
    for k in range(n_steps.shape[0]):
        n = n_steps[k]
        dt = dts[k]
        lam = dt / dx
        if per_run == 1:
            # every sweep is a whole run: each thread takes whole runs through all the steps of the
            # interval, so that a run's f and stage buffer stay in cache (bitwise the same numbers)
            for b in prange(nb):
                _run_steps(cur, oth, b, n, dt, v, dv, jn, lam, scheme, boundary, kn, dim, frequency,
                           omega, mode, buf[b])
            if mode != EXACT and n % 2 == 1:
                tmp = cur
                cur = oth
                oth = tmp
                swapped = not swapped
        elif mode == EXACT:
            if n > 0:
                for sw in prange(nsw):
                    b = sw // per_run
                    i0 = (sw % per_run) * width
                    relax_cells(cur, b, i0, min(nx, i0 + width), v, dv, dim, kn[b], frequency, omega, 0.5 * dt, EXACT,
                                buf[sw])
            for s in range(n):
                hh = dt if s < n - 1 else 0.5 * dt
                for sw in prange(nsw):
                    b = sw // per_run
                    i0 = (sw % per_run) * width
                    _sweep(oth, cur, b, i0, min(nx, i0 + width), v, dv, jn, lam, scheme, boundary, 0.0, 1.0,
                           kn, dim, frequency, omega, 0.0, mode, buf[sw])
                for sw in prange(nsw):
                    b = sw // per_run
                    i0 = (sw % per_run) * width
                    _sweep(cur, oth, b, i0, min(nx, i0 + width), v, dv, jn, lam, scheme, boundary, 0.5, 0.5,
                           kn, dim, frequency, omega, hh, mode, buf[sw])
        else:
            for s in range(n):
                for sw in prange(nsw):
                    b = sw // per_run
                    i0 = (sw % per_run) * width
                    _sweep(oth, cur, b, i0, min(nx, i0 + width), v, dv, jn, lam, scheme, boundary, 0.0, 1.0,
                           kn, dim, frequency, omega, dt, mode, buf[sw])
                tmp = cur
                cur = oth
                oth = tmp
                swapped = not swapped
        for r in prange(nrows):
            b = r // nx
            i = r % nx
            rho, m, E, q, hc = _cell_outputs(cur, b, i, v, dv, dim)
            rho_o[b, k, i] = rho
            m_o[b, k, i] = m
            E_o[b, k, i] = E
            q_o[b, k, i] = q
            h_rows[b, i] = hc
        for b in range(nb):
            acc = 0.0
            for i in range(nx):
                acc += h_rows[b, i]
            H_o[b, k] = acc * dx
        if save_f:
            for b in prange(nb):
                f_o[b, k] = cur[b]
    if swapped:
        for r in prange(nrows):
            b = r // nx
            i = r % nx
            for c in range(nc):
                f[b, c, i] = cur[b, c, i]


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def time_steps(t_save, dt_limit):
    """Steps per output interval and their sizes so that every save time is hit exactly.

    ``t_save`` ``(n_t,)`` nondecreasing, ``>= 0`` (the run starts at t = 0); returns
    ``(n_steps (n_t,) int64, dts (n_t,) float64)`` with ``dts <= dt_limit``.
    """
    t_save = np.asarray(t_save, dtype=np.float64)
    if t_save.ndim != 1 or t_save.size == 0:
        raise ValueError(f"t_save must be a non-empty 1-D array of times, got shape {t_save.shape}")
    if not np.all(np.isfinite(t_save)) or t_save[0] < 0 or np.any(np.diff(t_save) < 0):
        raise ValueError("t_save must be finite, >= 0 and nondecreasing")
    if not (dt_limit > 0 and np.isfinite(dt_limit)):
        raise ValueError(f"the time step limit must be positive and finite, got {dt_limit!r}")
    gaps = np.diff(np.concatenate([[0.0], t_save]))
    n = np.ceil(gaps / dt_limit * (1.0 - 1e-12)).astype(np.int64)
    dts = np.where(n > 0, gaps / np.maximum(n, 1), 0.0)
    return n, dts


def solve(f0, grid, kn, t_save, *, transport="muscl", limiter="minmod", relaxation="exact", cfl=0.4,
          frequency="constant", omega=0.81, dt_max=None, save_distribution=False, overwrite=False):
    """Advance a batch of BGK runs that share ``grid`` and return their moments at the times ``t_save``.

    Parameters (all nondimensional, units "1"):
        f0: initial distributions, ``(n_batch, n_comp, n_x, n_v)`` or one run ``(n_comp, n_x, n_v)``.
        grid: :class:`PhaseGrid`.
        kn: Knudsen numbers, scalar or ``(n_batch,)``, each in ``[0, inf]`` (0: Euler limit, inf: free streaming).
        t_save: ``(n_t,)`` nondecreasing output times ``>= 0`` (t = 0 is the initial state).
        transport: ``muscl`` (second order, default) or ``upwind``; limiter ``minmod`` or ``van_leer``.
        relaxation: ``exact`` (Strang splitting, second order) or ``imex`` (first order).
        cfl: ``max|v| dt/dx``, in ``(0, 0.5]`` for MUSCL and ``(0, 1]`` for upwind.
        frequency, omega: collision frequency option (:mod:`.relaxation`).
        dt_max: optional further bound on the time step.
        save_distribution: also return f at every save time.
        overwrite: advance ``f0`` in place (float64, C-contiguous, 4-D) instead of a copy, so the
            batch holds two copies of f in all (f0 and one stage buffer); f0 ends at ``t_save[-1]``.

    Returns a :class:`Solution`.
    """
    if not isinstance(grid, PhaseGrid):
        raise ValueError(f"grid must be a PhaseGrid, got {type(grid).__name__}")
    scheme = scheme_code(transport, limiter)
    mode = relaxation_code(relaxation)
    freq = frequency_code(frequency)
    bound = cfl_limit(transport)
    if not (0 < cfl <= bound):
        raise ValueError(f"cfl = {cfl!r} is outside (0, {bound}] for transport {transport!r}")
    if not (0.0 <= omega <= 1.0):
        raise ValueError(f"omega must lie in [0, 1], got {omega!r}")
    arr = np.asarray(f0)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1:] != grid.shape:
        raise ValueError(f"f0 must have shape (n_batch, {', '.join(map(str, grid.shape))}) or "
                         f"{grid.shape} for this grid, got {np.shape(f0)}")
    if overwrite:
        if not (isinstance(f0, np.ndarray) and f0.ndim == 4 and f0.dtype == np.float64 and f0.flags.c_contiguous
                and f0.flags.writeable):
            raise ValueError("overwrite=True needs f0 as a writeable C-contiguous float64 array of 4 dimensions")
        f = f0
    else:
        f = np.array(arr, dtype=np.float64, order="C", copy=True)
    if not np.all(np.isfinite(f)):
        raise ValueError("f0 contains non-finite values")
    nb = f.shape[0]
    kn = np.asarray(kn, dtype=np.float64)
    if kn.ndim == 0:
        kn = np.full(nb, float(kn))
    if kn.shape != (nb,):
        raise ValueError(f"kn must be a scalar or have shape ({nb},), got {kn.shape}")
    if np.any(np.isnan(kn)) or np.any(kn < 0):
        raise ValueError("kn must be >= 0 (inf allowed: free streaming)")
    kn = np.ascontiguousarray(kn)
    v = grid.v
    vmax = float(np.max(np.abs(v)))
    limit = cfl * grid.dx / vmax
    if dt_max is not None:
        if not dt_max > 0:
            raise ValueError(f"dt_max must be positive, got {dt_max!r}")
        limit = min(limit, float(dt_max))
    n_steps, dts = time_steps(t_save, limit)
    t = np.asarray(t_save, dtype=np.float64).copy()
    nt = t.size
    out = [np.empty((nb, nt, grid.n_x)) for _ in range(4)]
    H = np.empty((nb, nt))
    fo = np.empty((nb, nt if save_distribution else 0) + grid.shape)
    g = np.zeros_like(f)
    _advance(f, g, v, grid.dv, grid.dx, kn, grid.dim, boundary_code(grid.boundary), scheme, mode, freq,
             float(omega), n_steps, dts, *out, H, fo)
    return Solution(grid=grid, t=t, rho=out[0], m=out[1], E=out[2], q=out[3], H=H,
                    f=fo if save_distribution else None, dt=dts, n_steps=int(n_steps.sum()))


def warmup():
    """Compile (or load from cache) the kernel's single signature on a tiny problem."""
    grid = PhaseGrid(0.0, 1.0, 4, 4.0, 8)
    f0 = mx.maxwellian(np.ones(4), np.zeros(4), np.ones(4), grid.v)
    solve(f0, grid, 1.0, [0.0, 0.01])
