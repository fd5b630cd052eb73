"""Q1 finite elements for antiplane shear (SH) waves on a Cartesian grid: lumped mass, leapfrog.

Equation (current configuration, coordinates ``x = (x, y)``; any consistent units, e.g. m, s, Pa, kg/m^3)::

    rho(x) w_tt = div( C(x) grad w ) + f(x, t),     C = [[c11, c12], [c12, c22]]  (Pa),  rho (kg/m^3)

with ``C`` and ``rho`` constant per cell (holes: ``C = rho = 0``, traction-free).  Bilinear elements
integrated exactly (2x2 Gauss), row-sum lumped mass ``M_node = h^2/4 sum_cells rho``, central
differences in time::

    (1 + s) w^{n+1} = 2 w^n - (1 - s) w^{n-1} + dt^2 (f^n - K w^n) / M,     s = sigma dt / 2,

the centred discretisation of ``rho (w_tt + sigma w_t) = ...``; ``sigma`` (1/s) is the damping rate
of a sponge layer (zero inside the domain, :func:`sponge`).  Without sponge
and sources the discrete energy ``E^{n+1/2} = 1/2 sum M ((w^{n+1}-w^n)/dt)^2 + 1/2 w^{n+1}.K w^n``
is conserved to round-off; the scheme is stable for ``dt <= h / c_max``,
``c_max = max_cells sqrt(lambda_max(C)/rho)``.

Storage: nodes ``(nx, ny)`` at ``x0 + h i, y0 + h j``.  A direction is ``periodic`` (``n`` cells,
the last joins node n-1 to node 0) or free (``n - 1`` cells, natural traction-free edge).
Internally node arrays are padded by one ghost node on each side ``(nx+2, ny+2)`` and cell
arrays by one ghost cell in front ``(nx+1, ny+1)`` (cell ``(p, q)`` at ``[p+1, q+1]``), so the
kernel has no branches: ghost cells of a free edge have zero coefficients, those of a periodic
direction copy the periodic cells, and ghost nodes copy their periodic images every step.
The kernel sweeps x rows (``prange`` over blocks of rows on large grids), evaluates each cell once,
gathers the four cell contributions per node and updates in place (``w^{n-1}`` is overwritten by
``w^{n+1}``): one pass over memory per step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, njit, prange

from .grid import Grid, Medium, PointLoads

__all__ = ["Grid", "Medium", "PointLoads", "SHSolver", "stiffness", "lumped_mass", "cfl_dt", "max_speed",
           "sponge", "wavelet", "warmup"]


def max_speed(medium: Medium) -> float:
    """c_max = max over solid cells of sqrt(lambda_max(C)/rho) (m/s)."""
    return float(medium.max_speeds().max())


def sponge(grid: Grid, width: float, sigma_max: float, axes: str = "xy") -> np.ndarray:
    """Damping rate (1/s) per node (nx, ny): ``sigma_max (d/width)^2`` within ``width`` (m) of each free
    (non-periodic) edge normal to one of ``axes`` ("x": the edges x = const), d the depth into the layer."""
    def ramp(n, periodic, on):
        if periodic or width <= 0 or not on:
            return np.zeros(n)
        idx = np.arange(n) * grid.h
        depth = np.maximum(width - idx, 0.0) + np.maximum(idx - (n - 1) * grid.h + width, 0.0)
        return sigma_max * (np.minimum(depth, width) / width) ** 2
    return np.maximum(ramp(grid.nx, grid.periodic_x, "x" in axes)[:, None],
                      ramp(grid.ny, grid.periodic_y, "y" in axes)[None, :])


def cfl_dt(grid: Grid, medium: Medium, cfl: float = 0.9) -> float:
    """Time step ``cfl * h / c_max`` (s); the scheme is stable for cfl <= 1."""
    return cfl * grid.h / max_speed(medium)


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _cell_terms(u, p, q, k11, k12, k22):
    """dE/da, dE/db, dE/dc, dE/dd of the cell with lower-left padded node (p, q).

    a, b: x-differences on the bottom and top edges; c, d: y-differences on the left and right
    edges; E = 1/2 [c11 (a^2+ab+b^2)/3 + c12 (a+b)(c+d)/2 + c22 (c^2+cd+d^2)/3] (exact Q1 energy).
    """
    u00, u10, u01, u11 = u[p, q], u[p + 1, q], u[p, q + 1], u[p + 1, q + 1]
    a, b, c, d = u10 - u00, u11 - u01, u01 - u00, u11 - u10
    s11, s12, s22 = k11[p, q], k12[p, q], k22[p, q]
    ab, cd = s12 * (a + b), s12 * (c + d)
    return s11 * (2.0 * a + b) + cd, s11 * (a + 2.0 * b) + cd, s22 * (2.0 * c + d) + ab, s22 * (c + 2.0 * d) + ab


@njit(cache=True, inline="always")
def _node_force(u, i, j, k11, k12, k22):
    """(K u) at padded node (i, j): the four adjacent cells, this node being 00, 10, 01, 11 of them."""
    ea, _, ec, _ = _cell_terms(u, i, j, k11, k12, k22)
    f = -(ea + ec)
    ea, _, _, ed = _cell_terms(u, i - 1, j, k11, k12, k22)
    f += ea - ed
    _, eb, ec, _ = _cell_terms(u, i, j - 1, k11, k12, k22)
    f += ec - eb
    _, eb, _, ed = _cell_terms(u, i - 1, j - 1, k11, k12, k22)
    return f + eb + ed


@njit(cache=True, parallel=True, nogil=True)
def _stiffness(u, k11, k12, k22, out):
    nx, ny = u.shape[0] - 2, u.shape[1] - 2
    for i in prange(1, nx + 1):
        for j in range(1, ny + 1):
            out[i, j] = _node_force(u, i, j, k11, k12, k22)


@njit(cache=True, inline="always")
def _cell_row(u, p, k11, k12, k22, P, Q, R, S):
    """Nodal forces of the cells of padded row p, to their 00 (P), 10 (Q), 01 (R) and 11 (S) nodes."""
    for q in range(u.shape[1] - 1):
        ea, eb, ec, ed = _cell_terms(u, p, q, k11, k12, k22)
        P[q], Q[q], R[q], S[q] = -(ea + ec), ea - ed, ec - eb, eb + ed


@njit(cache=True, inline="always")
def _update_rows(u, u_old, k11, k12, k22, damp, gain, i0, i1):
    """Rows i0 <= i < i1 of u_old <- (1 + damp) u - damp u_old - gain K u  (damp = (1-s)/(1+s),
    gain = dt^2/(M (1+s))).  Each cell is evaluated once: the 10 and 11 parts of the previous cell row
    are kept while the next row is computed."""
    n = u.shape[1] - 1
    P, R = np.empty(n), np.empty(n)
    Q, S, Q_prev, S_prev = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    _cell_row(u, i0 - 1, k11, k12, k22, P, Q_prev, R, S_prev)
    for i in range(i0, i1):
        _cell_row(u, i, k11, k12, k22, P, Q, R, S)
        for j in range(1, n):
            d = damp[i, j]
            f = P[j] + R[j - 1] + Q_prev[j] + S_prev[j - 1]
            u_old[i, j] = (1.0 + d) * u[i, j] - d * u_old[i, j] - gain[i, j] * f
        Q, Q_prev = Q_prev, Q
        S, S_prev = S_prev, S


# Threads pay off on large grids only (a parallel region costs more than a small grid's step).  Two
# functions, not one compiled twice: numba's cache keys entries by the Python function.
@njit(cache=True, parallel=True, nogil=True)
def _leapfrog_parallel(u, u_old, k11, k12, k22, damp, gain, blocks):
    nx = u.shape[0] - 2
    for b in prange(blocks):
        _update_rows(u, u_old, k11, k12, k22, damp, gain, 1 + b * nx // blocks, 1 + (b + 1) * nx // blocks)


@njit(cache=True, nogil=True)
def _leapfrog_serial(u, u_old, k11, k12, k22, damp, gain):
    _update_rows(u, u_old, k11, k12, k22, damp, gain, 1, u.shape[0] - 1)


PARALLEL_NODES = 500_000


@njit(cache=True)
def _fill_ghosts(u, periodic_x, periodic_y):
    nx, ny = u.shape[0] - 2, u.shape[1] - 2
    if periodic_y:
        for i in range(1, nx + 1):
            u[i, 0] = u[i, ny]
            u[i, ny + 1] = u[i, 1]
    if periodic_x:
        for j in range(ny + 2):
            u[0, j] = u[nx, j]
            u[nx + 1, j] = u[1, j]


@njit(cache=True)
def wavelet(t, f0, tau, t0):
    """Gaussian-modulated sine ``sin(2 pi f0 (t - t0)) exp(-((t - t0)/tau)^2)`` (t, tau, t0 in s; f0 in Hz)."""
    s = t - t0
    return math.sin(2.0 * math.pi * f0 * s) * math.exp(-(s / tau) ** 2)


@njit(cache=True, nogil=True)
def _advance(u, u_old, k11, k12, k22, damp, gain, periodic_x, periodic_y, n_steps, t_start, dt,
             src_i, src_j, src_w, f0, tau, t0, rec_i, rec_j, rec, blocks):
    """``n_steps`` leapfrog steps from time t_start (of w^n); rec[k, r] = w^{n+k+1} at receiver r.

    ``blocks``: number of row blocks shared among threads (1: serial kernel).
    Returns the two arrays (new current, new previous) in order.
    """
    for k in range(n_steps):
        if blocks > 1:
            _leapfrog_parallel(u, u_old, k11, k12, k22, damp, gain, blocks)
        else:
            _leapfrog_serial(u, u_old, k11, k12, k22, damp, gain)
        g = wavelet(t_start + k * dt, f0, tau, t0)
        for s in range(src_i.size):
            i, j = src_i[s], src_j[s]
            u_old[i, j] += gain[i, j] * src_w[s] * g
        _fill_ghosts(u_old, periodic_x, periodic_y)
        for r in range(rec_i.size):
            rec[k, r] = u_old[rec_i[r], rec_j[r]]
        u, u_old = u_old, u
    return u, u_old


# ---------------------------------------------------------------------------
# operator assembly and the solver
# ---------------------------------------------------------------------------


def _pad_cells(grid: Grid, a: np.ndarray) -> np.ndarray:
    """Cell array (ncx, ncy) -> padded (nx+1, ny+1): ghost cell -1 is zero or the periodic image."""
    ncx, ncy = grid.cells
    if a.shape != (ncx, ncy):
        raise ValueError(f"cell array of shape {a.shape}, expected {(ncx, ncy)}")
    out = np.zeros((grid.nx + 1, grid.ny + 1))
    out[1:ncx + 1, 1:ncy + 1] = a
    if grid.periodic_x:
        out[0, 1:ncy + 1] = a[-1]
    if grid.periodic_y:
        out[1:ncx + 1, 0] = a[:, -1]
    if grid.periodic_x and grid.periodic_y:
        out[0, 0] = a[-1, -1]
    return out


def _pad_nodes(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 2, a.shape[1] + 2))
    out[1:-1, 1:-1] = a
    return out


def stiffness(grid: Grid, medium: Medium, w: np.ndarray) -> np.ndarray:
    """Internal nodal forces K w per unit out-of-plane length (N/m = Pa m for w in m), shape (nx, ny),
    of the nodal displacements ``w`` (nx, ny)."""
    k = _coefficients(grid, medium)
    u = _pad_nodes(w)
    _fill_ghosts(u, grid.periodic_x, grid.periodic_y)
    out = np.zeros_like(u)
    _stiffness(u, *k, out)
    return out[1:-1, 1:-1]


def _coefficients(grid: Grid, medium: Medium):
    return (_pad_cells(grid, medium.c11 / 6.0), _pad_cells(grid, medium.c12 / 4.0),
            _pad_cells(grid, medium.c22 / 6.0))


def lumped_mass(grid: Grid, medium: Medium) -> np.ndarray:
    """M_node = h^2/4 sum of the adjacent cells' rho (kg/m per unit length), shape (nx, ny)."""
    r = _pad_cells(grid, medium.rho)
    return 0.25 * grid.h ** 2 * (r[1:, 1:] + r[:-1, 1:] + r[1:, :-1] + r[:-1, :-1])


class SHSolver:
    """Leapfrog time stepping of the Q1 SH operator on ``grid`` with per-cell ``medium``.

    ``sigma`` (nx, ny): sponge damping rate (1/s) per node, or None.  ``dt`` (s): time step.
    State: ``w`` (current, time ``t``) and ``w_prev`` (time ``t - dt``), both (nx, ny), start at rest.
    """

    def __init__(self, grid: Grid, medium: Medium, dt: float, sigma: np.ndarray | None = None):
        self.grid, self.medium, self.dt = grid, medium, float(dt)
        self._k = _coefficients(grid, medium)
        self.mass = lumped_mass(grid, medium)
        s = np.zeros((grid.nx, grid.ny)) if sigma is None else 0.5 * self.dt * np.asarray(sigma, dtype=float)
        with np.errstate(divide="ignore"):
            gain = np.where(self.mass > 0, self.dt ** 2 / (self.mass * (1.0 + s)), 0.0)
        self._damp, self._gain = _pad_nodes((1.0 - s) / (1.0 + s)), _pad_nodes(gain)
        shape = (grid.nx + 2, grid.ny + 2)
        self._u, self._u_old = np.zeros(shape), np.zeros(shape)
        self.t, self.step = 0.0, 0
        parallel = grid.nx * grid.ny >= PARALLEL_NODES and get_num_threads() > 1
        #: row blocks of the parallel kernel (4 per thread), 1: the serial kernel
        self.blocks = min(grid.nx, 4 * get_num_threads()) if parallel else 1

    def set_state(self, w: np.ndarray, w_prev: np.ndarray, step: int = 0) -> None:
        """State at time step ``step``: w at t = step dt and at t - dt (zero on frozen, massless nodes)."""
        for dst, src in ((self._u, w), (self._u_old, w_prev)):
            dst[1:-1, 1:-1] = np.where(self.mass > 0, src, 0.0)
            _fill_ghosts(dst, self.grid.periodic_x, self.grid.periodic_y)
        self.step, self.t = int(step), int(step) * self.dt

    def padded_arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays the kernel updates and reads, padded as described in the module docstring:
        (w, w_prev, c11/6, c12/4, c22/6, damp, gain); for implementations of the same scheme to compare with."""
        return (self._u, self._u_old, *self._k, self._damp, self._gain)

    @property
    def w(self) -> np.ndarray:
        """Displacement at time t (nx, ny) [m] (a view of the solver's state)."""
        return self._u[1:-1, 1:-1]

    @property
    def w_prev(self) -> np.ndarray:
        """Displacement at time t - dt (nx, ny) [m] (a view of the solver's state)."""
        return self._u_old[1:-1, 1:-1]

    def advance(self, n_steps: int, loads: PointLoads | None = None, wavelet_params=(1.0, 1.0, 0.0),
                receivers: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Take ``n_steps`` steps; returns w at the receivers after each step, shape (n_steps, n_rec).

        ``wavelet_params`` = (f0 (Hz), tau (s), t0 (s)) of :func:`wavelet`.
        """
        loads = loads or PointLoads.empty()
        ri, rj = (np.zeros(0, np.int64), np.zeros(0, np.int64)) if receivers is None else receivers
        rec = np.zeros((n_steps, len(ri)))
        f0, tau, t0 = (float(v) for v in wavelet_params)
        g = self.grid
        self._u, self._u_old = _advance(
            self._u, self._u_old, *self._k, self._damp, self._gain, g.periodic_x, g.periodic_y, int(n_steps),
            self.t, self.dt, np.asarray(loads.i, np.int64) + 1, np.asarray(loads.j, np.int64) + 1,
            np.asarray(loads.weight, float), f0, tau, t0,
            np.asarray(ri, np.int64) + 1, np.asarray(rj, np.int64) + 1, rec, self.blocks)
        self.step += int(n_steps)
        self.t = self.step * self.dt
        return rec

    def energy(self) -> float:
        """E^{n-1/2} = 1/2 sum M ((w^n - w^{n-1})/dt)^2 + 1/2 w^n . K w^{n-1}  (J per unit length)."""
        kw = np.zeros_like(self._u_old)
        _stiffness(self._u_old, *self._k, kw)
        v = (self.w - self.w_prev) / self.dt
        return float(0.5 * np.sum(self.mass * v * v) + 0.5 * np.sum(self.w * kw[1:-1, 1:-1]))


def warmup() -> None:
    """Compile the kernels on a tiny grid."""
    g = Grid(4, 4, 1.0, periodic_x=True)
    s = SHSolver(g, Medium.uniform(g), 0.5)
    s.advance(2, PointLoads(np.array([1]), np.array([1]), np.array([1.0])),
              receivers=(np.array([0]), np.array([0])))
    s.energy()
