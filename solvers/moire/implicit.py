"""Method ``resolved``, implicit time stepping: the Scharfetter–Gummel system of :mod:`.sg` with the
drift–diffusion, decay and exchange terms assembled once as a sparse matrix L and stepped by TR-BDF2.

Writing the semi-discrete system of :class:`.sg.Resolved` as dn/dt = L n − γ n_s n (n flattened species-major,
(n_s · n_y · n_x,)), one TR-BDF2 step of size h (g = 2 − √2) is

    (I − (g/2) h L) u* = (I + (g/2) h L) n                                  trapezoidal stage to t + g h
    (I − (g/2) h L) n' = [u* − (1 − g)² n] / (g (2 − g))                    BDF2 stage to t + h

Both stages solve with the same matrix (g/2 = (1 − g)/(2 − g) for this g), factorized once per h by
``scipy.sparse.linalg.splu``. The scheme is second order and L-stable: the stiff intra-cell modes that limit
the explicit step to ~1 fs are damped instead of amplified, so h is set by accuracy alone. It conserves
Σ n exactly where L does (columns of L sum to zero without decay). It is not positivity preserving: where
the solution is near zero next to steep gradients it can dip below zero by about the truncation error.

Nonlinear terms:

- annihilation −γ n_s n (n = Σ_s n_s) by Strang splitting, half a step of the exact local solution
  n_s ← n_s / (1 + γ n (h/2)) before and after the linear step (keeps n ≥ 0; second order for smooth
  densities, first order in γ n h next to the stiff intra-cell modes, which :func:`default_steps` bounds);
- repulsion u₀ (φ = (U + u₀ n)/k_BT in the fluxes): linearly implicit, the face coefficients frozen at the
  total density at the start of each step and L refactorized every step (first order in the coupling).

Units as :mod:`.sg`. :func:`operator` is also the scipy.sparse peer of the explicit kernel (n + dt · L n).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import splu

from . import sg

#: g of TR-BDF2; both stages use the matrix I − (g/2) h L.
G = 2.0 - math.sqrt(2.0)
#: Step sizes within this relative difference share a factorization (saved times t_k = k Δt differ in the last
#: bits; the step is then taken with the factorized h, a time error of ~1e-12 of the step).
SAME_STEP = 1e-9


def operator(model: sg.Resolved, faces=None) -> sparse.csr_matrix:
    """L of dn/dt = L n: Scharfetter–Gummel fluxes, decay and exchange of ``model``, (N, N), N = n_s n_y n_x.

    faces: (bxp, bxm, byp, bym) each (n_s, n_y, n_x) [1/time] as :func:`.sg.faces` computes them; default the
    model's own (static, no repulsion). Annihilation is not part of L."""
    bxp, bxm, byp, bym = model.face if faces is None else faces
    ns, ny, nx = bxp.shape
    cells = ny * nx
    idx = np.arange(ns * cells).reshape(ns, ny, nx)
    east, north = np.roll(idx, -1, axis=2), np.roll(idx, -1, axis=1)
    rows, cols, vals = [], [], []

    def couple(src, dst, rate):
        """rate · n[src] moves from cell src to cell dst."""
        rows.extend((src.ravel(), dst.ravel()))
        cols.extend((src.ravel(), src.ravel()))
        vals.extend((-rate.ravel(), rate.ravel()))

    couple(idx, east, bxp)      # flux i → i+1 through face i+½: + B(Δ) n_i
    couple(east, idx, bxm)      # and − B(−Δ) n_{i+1}
    couple(idx, north, byp)
    couple(north, idx, bym)
    diag = np.broadcast_to(-model.decay[:, None, None], idx.shape)
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel())
    for s, r in zip(*np.nonzero(model.exchange)):
        rows.append(idx[s].ravel())
        cols.append(idx[r].ravel())
        vals.append(np.full(cells, model.exchange[s, r]))
    size = ns * cells
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(size, size))


def default_steps(model: sg.Resolved, cell_length: float, n_max: float) -> tuple[float, float]:
    """(dt, relax_time) of the implicit path [time] for a relative error of about 1e-3 against forward Euler.

    dt = a_M²/(2 D_max), at most 0.2 / (the fastest linear rate: decay, exchange out of a species) and
    ANNIHILATION_ERROR / (γ n_max) (the splitting error of annihilation is first order in γ n dt next to the stiff
    intra-cell modes); relax_time = a_M²/(4 D_max), the explicit start that lets the intra-cell transient of a
    non-equilibrium initial state decay (TR-BDF2 damps it, but a large first step misplaces it).
    cell_length: a_M [length]; D_max = max_s D_s (1 + u₀ n_max/k_BT); n_max: the largest total density."""
    d_max = max(float(np.max(model.cx)) * model.hx ** 2, float(np.max(model.cy)) * model.hy ** 2)
    d_max *= 1.0 + model.a * n_max
    crossing = cell_length ** 2 / d_max
    dt = 0.5 * crossing
    rate = float(np.max(model.decay - np.minimum(np.diag(model.exchange), 0.0)))
    if rate > 0.0:
        dt = min(dt, 0.2 / rate)
    if model.gamma * n_max > 0.0:
        dt = min(dt, ANNIHILATION_ERROR / (model.gamma * n_max))
    return dt, 0.25 * crossing


#: γ n_max dt of the default implicit step with annihilation (about the relative error it causes).
ANNIHILATION_ERROR = 5e-4


#: Cost of a sparse LU factorization of the N × N system, in explicit cell-updates (of the fused numba kernel
#: on one thread): FACTOR_COST N^1.5, the growth of a 2-D grid's factorization; measured on 252² and 504 × 516
#: grids (SuperLU, minimum degree on Aᵀ + A) against the explicit kernel in the same run (benchmarks/bench_moire).
FACTOR_COST = 14.0
#: Cost of one solve with the factors, in explicit cell-updates: SOLVE_COST N log₂ N (nnz(L + U) ≈ 5 N log₂ N).
SOLVE_COST = 3.0


def costs(model: sg.Resolved, duration: float, explicit_dt: float, dt: float, relax_time: float) -> dict:
    """Estimated work to advance ``model`` by ``duration`` [time], in explicit cell-updates (one cell of one
    species advanced one forward-Euler step on one thread): {"explicit": ..., "implicit": ...}.

    explicit: steps × N. implicit: the explicit start over relax_time, two factorizations (the interval that
    the start shortens and the regular one of a march saving at equal intervals; one per step with repulsion,
    whose faces change) and two solves per TR-BDF2 step of size dt."""
    size = model.phi.size
    start = min(duration, relax_time)
    steps = math.ceil((duration - start) / dt)
    factor = FACTOR_COST * size ** 1.5
    solve = SOLVE_COST * size * math.log2(max(size, 2))
    factorizations = steps if model.a != 0.0 else min(steps, 2)
    return {"explicit": math.ceil(duration / explicit_dt) * size,
            "implicit": math.ceil(start / explicit_dt) * size + factorizations * factor + 2 * steps * solve}


class Implicit:
    """TR-BDF2 time stepping of an :class:`.sg.Resolved` system after an explicit start.

    dt: the TR-BDF2 step [time]; explicit_dt: the forward-Euler step of the start; relax_time: its length
    (:func:`default_steps`). The factorization of I − (g/2) h L is kept for the last step size h used (a march
    with equal intervals factorizes once; see SAME_STEP); with repulsion it is rebuilt every step.
    ``factorizations`` and ``solves`` count the work done."""

    def __init__(self, model: sg.Resolved, dt: float, explicit_dt: float, relax_time: float):
        self.model, self.dt, self.explicit_dt, self.relax_time = model, dt, explicit_dt, relax_time
        self.static = model.a == 0.0
        self._lu, self._key = None, None
        self.factorizations = 0
        self.solves = 0

    def _factor(self, h: float, faces=None):
        """splu of I − (g/2) h L, and L (CSC, for the right-hand side)."""
        lop = operator(self.model, faces).tocsc()
        lhs = (sparse.identity(lop.shape[0], format="csc") - (0.5 * G * h) * lop).tocsc()
        self.factorizations += 1
        return splu(lhs, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}), lop

    def _linear_step(self, u: np.ndarray, h: float) -> np.ndarray:
        """One TR-BDF2 step of du/dt = L u, u flat (N,)."""
        if self.static:
            if self._key is None or abs(h - self._key) > SAME_STEP * h:
                self._lu, self._key = self._factor(h), h
            (lu, lop), h = self._lu, self._key
        else:
            m = self.model
            faces = [np.empty_like(m.phi) for _ in range(4)]
            sg.faces_serial(m.phi, m.a, u.reshape(m.phi.shape).sum(axis=0), m.cx, m.cy, *faces)
            lu, lop = self._factor(h, faces)
        stage = lu.solve(u + (0.5 * G * h) * (lop @ u))
        self.solves += 2
        return lu.solve((stage - (1.0 - G) ** 2 * u) / (G * (2.0 - G)))

    def _annihilate(self, n: np.ndarray, tau: float) -> np.ndarray:
        """Exact solution of dn_s/dt = −γ n_s Σ_r n_r over ``tau`` (every species scales alike)."""
        if self.model.gamma == 0.0:
            return n
        return n / (1.0 + self.model.gamma * tau * n.sum(axis=0))

    def trbdf2(self, n: np.ndarray, duration: float) -> np.ndarray:
        """n (n_s, n_y, n_x) advanced by ``duration`` in equal TR-BDF2 steps no longer than dt (new array)."""
        steps = max(1, int(math.ceil(duration / self.dt * (1.0 - 1e-12))))
        h = duration / steps
        u = np.array(n, dtype=float)
        for _ in range(steps):
            u = self._annihilate(u, 0.5 * h)
            u = self._linear_step(u.ravel(), h).reshape(n.shape)
            u = self._annihilate(u, 0.5 * h)
        return u

    def advance(self, n: np.ndarray, start: float, duration: float) -> np.ndarray:
        """n (n_s, n_y, n_x) at time ``start`` advanced by ``duration``: forward Euler up to relax_time, TR-BDF2
        after it; returns a new array."""
        early = min(duration, max(self.relax_time - start, 0.0))
        if early > 0.0:
            n = self.model.advance(n, early, self.explicit_dt)
        if duration - early > 1e-12 * duration:
            n = self.trbdf2(n, duration - early)
        return n
