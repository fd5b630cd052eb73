"""Method ``resolved``: 2-D drift–diffusion–reaction on a periodic grid that resolves the moiré cells.

For species s (one, or K–K and K–Q) with density n_s, total n = Σ_s n_s:

    ∂n_s/∂t = ∇·[D_s ∇n_s + (D_s/k_BT) n_s ∇(U_s + u₀ n)] − n_s/τ_s − γ n_s n + Σ_r K[s, r] n_r

Finite volumes with Scharfetter–Gummel fluxes, φ = (U_s + u₀ n)/k_BT, Δ = φ_{i+1} − φ_i, B(x) = x/(eˣ − 1):

    J_{i+½} = (D/h) [B(Δ) n_i − B(−Δ) n_{i+1}]      (flux from cell i to cell i+1)

which vanishes exactly for n ∝ e^{−φ} (discrete Boltzmann equilibrium). Forward Euler in time; a step
keeps n ≥ 0 when dt · (outflow rate of every cell) ≤ 1 (:func:`stable_dt`). K is the exchange matrix
(K[s, r] ≥ 0 the rate r → s for s ≠ r, columns summing to 0). Without repulsion the face coefficients are
static and up to FUSED_STEPS steps share one sweep over the grid (temporal blocking, :func:`_block`), with
results bitwise equal to single steps.

Units are any consistent set; the kind uses nm, ps, meV and nm⁻². Arrays: densities (n_s, n_y, n_x),
potentials (n_s, n_y, n_x); periodic in both directions; x along the last axis.
"""

from __future__ import annotations

import math

import numpy as np
import numba
from numba import njit, prange

from .compile import threaded_and_serial


@njit(cache=True)
def bernoulli(x: float) -> float:
    """B(x) = x/(eˣ − 1), with its series 1 − x/2 + x²/12 for |x| < 1e-6."""
    if abs(x) < 1e-6:
        return 1.0 - 0.5 * x + x * x / 12.0
    return x / math.expm1(x)


def _faces(phi, a, ntot, cx, cy, bxp, bxm, byp, bym):
    """Face coefficients of all species: bxp[s, j, i] = cx[s] B(Δ), bxm = cx[s] B(−Δ) at face (j, i+½),
    Δ = φ(j, i+1) − φ(j, i) with φ = phi[s] + a·ntot; likewise in y at face (j+½, i)."""
    ns, ny, nx = phi.shape
    for j in prange(ny):
        jn = j + 1 if j < ny - 1 else 0
        for s in range(ns):
            for i in range(nx):
                ie = i + 1 if i < nx - 1 else 0
                pc = phi[s, j, i] + a * ntot[j, i]
                d = phi[s, j, ie] + a * ntot[j, ie] - pc
                b = bernoulli(d)
                bxp[s, j, i] = cx[s] * b
                bxm[s, j, i] = cx[s] * (b + d)
                d = phi[s, jn, i] + a * ntot[jn, i] - pc
                b = bernoulli(d)
                byp[s, j, i] = cy[s] * b
                bym[s, j, i] = cy[s] * (b + d)


@njit(cache=True, inline="always")
def _row_update(o, c, south, north, xp, xm, yps, yms, ypj, ymj, i, iw, ie, rate, dt):
    """o[i] of one row: c, south, north are the row and its neighbours; xp, xm the x faces of the row,
    yps, yms the y faces below it, ypj, ymj above it; rate the local loss rate."""
    ci = c[i]
    div = (xp[iw] * c[iw] - xm[iw] * ci - xp[i] * ci + xm[i] * c[ie]
           + yps[i] * south[i] - yms[i] * ci - ypj[i] * ci + ymj[i] * north[i])
    o[i] = ci + dt * (div - rate * ci)


@njit(cache=True, inline="always")
def _interior(o, c, south, north, xp, xm, yps, yms, ypj, ymj, decay, gamma, nt, dt):
    """o[i] for 0 < i < n_x − 1, the same arithmetic as :func:`_row_update`; the x-face terms xp·c and
    xm·c_east of face i+½ are carried to cell i + 1 (a recurrence the vectorizer turns into shuffles), so
    each is computed, and its operands loaded, once."""
    nx = c.size
    if nx < 3:
        return
    pw, qw = xp[0] * c[0], xm[0] * c[1]
    for i in range(1, nx - 1):
        ci = c[i]
        p, q = xp[i] * ci, xm[i] * c[i + 1]
        rate = decay if gamma == 0.0 else decay + gamma * nt[i]
        div = pw - qw - p + q + yps[i] * south[i] - yms[i] * ci - ypj[i] * ci + ymj[i] * north[i]
        o[i] = ci + dt * (div - rate * ci)
        pw, qw = p, q


@njit(cache=True)
def _level_row(src, dst, r, bxp, bxm, byp, bym, decay, gamma, exchange, dt, nt):
    """Row r of dst = one forward-Euler step of rows r − 1, r, r + 1 of src, all species.

    src, dst (n_s, rows, n_x) hold grid rows modulo their own row count (n_y for the grid, 3 for a ring
    buffer of an intermediate time level); face rows are taken modulo n_y. nt: scratch (n_x,) for Σ_s src.
    The interior of each row is updated on 1-D views without wrap-around indices (vectorizable)."""
    ns, ny, nx = bxp.shape
    rows = src.shape[1]
    cr, sr, nr, dr = r % rows, (r - 1) % rows, (r + 1) % rows, r % dst.shape[1]
    j, js = r % ny, (r - 1) % ny
    if gamma != 0.0:
        for i in range(nx):
            acc = 0.0
            for s in range(ns):
                acc += src[s, cr, i]
            nt[i] = acc
    for s in range(ns):
        o, c, south, north = dst[s, dr], src[s, cr], src[s, sr], src[s, nr]
        xp, xm, yps, yms, ypj, ymj = bxp[s, j], bxm[s, j], byp[s, js], bym[s, js], byp[s, j], bym[s, j]
        d = decay[s]
        if gamma == 0.0:  # a constant γ = 0 lets the compiler drop the annihilation term from the loop
            _interior(o, c, south, north, xp, xm, yps, yms, ypj, ymj, d, 0.0, nt, dt)
        else:
            _interior(o, c, south, north, xp, xm, yps, yms, ypj, ymj, d, gamma, nt, dt)
        for i in (0, nx - 1):
            rate = d if gamma == 0.0 else d + gamma * nt[i]
            _row_update(o, c, south, north, xp, xm, yps, yms, ypj, ymj, i, (i - 1) % nx, (i + 1) % nx, rate, dt)
        for q in range(ns):
            k = exchange[s, q]
            if k != 0.0:
                src_q = src[q, cr]
                for i in range(nx):
                    o[i] += dt * k * src_q[i]


@njit(cache=True, nogil=True)
def _block(n, out, r0, r1, levels, bxp, bxm, byp, bym, decay, gamma, exchange, dt):
    """Rows r0 ≤ r < r1 of out = ``levels`` forward-Euler steps of n (temporal blocking).

    One sweep down the rows advances time level m at row j − m + 1 while level 1 reaches row j, so n and the
    face coefficients stream from memory once per ``levels`` steps; the intermediate levels live in ring
    buffers of three rows. Level m is computed on rows r0 − (levels − m) ≤ r < r1 + (levels − m), the halo
    that level ``levels`` needs, with the same arithmetic as single steps, so the result is bitwise that of
    ``levels`` steps."""
    ns, ny, nx = n.shape
    ring = np.empty((max(levels - 1, 1), ns, 3, nx))
    nt = np.empty(nx)
    for j in range(r0 - levels + 1, r1 + levels - 1):
        for m in range(1, levels + 1):
            r = j - m + 1
            if r0 - (levels - m) <= r < r1 + (levels - m):
                src = n if m == 1 else ring[m - 2]
                dst = out if m == levels else ring[m - 1]
                _level_row(src, dst, r, bxp, bxm, byp, bym, decay, gamma, exchange, dt, nt)


def _sweep(n, out, levels, blocks, bxp, bxm, byp, bym, decay, gamma, exchange, dt):
    """out = ``levels`` forward-Euler steps of n (shapes (n_s, n_y, n_x)), the rows split in ``blocks``."""
    ny = n.shape[1]
    for b in prange(blocks):
        _block(n, out, b * ny // blocks, (b + 1) * ny // blocks, levels, bxp, bxm, byp, bym, decay, gamma,
               exchange, dt)


#: The kernels compiled threaded (prange) for large grids and serial for small ones.
faces, faces_serial = threaded_and_serial(_faces)
sweep, sweep_serial = threaded_and_serial(_sweep)
#: Grids with at least this many cells use the threaded kernels.
PARALLEL_CELLS = 1 << 18
#: Time steps fused in one sweep when the face coefficients are static (no repulsion).
FUSED_STEPS = 6


@njit(cache=True, nogil=True, inline="always")
def species_sum(n, j, i):
    """Σ_s n[s, j, i]: the total density of cell (j, i) of n (n_s, n_y, n_x)."""
    acc = 0.0
    for s in range(n.shape[0]):
        acc += n[s, j, i]
    return acc


@njit(cache=True)
def total(n, ntot):
    """ntot[j, i] = Σ_s n[s, j, i]."""
    for j in range(n.shape[1]):
        for i in range(n.shape[2]):
            ntot[j, i] = species_sum(n, j, i)


@njit(cache=True, nogil=True)
def _advance(n, work, ntot, phi, a, cx, cy, bxp, bxm, byp, bym, decay, gamma, exchange, h, steps, blocks,
             fused):
    """``steps`` forward-Euler steps of size h from n (work: scratch of the same shape); returns the result.

    blocks > 1: the threaded kernels, the rows split in that many blocks. Without repulsion the face
    coefficients are static and ``fused`` steps share one sweep; with it they are recomputed from the total
    density before every step."""
    threaded = blocks > 1
    done = 0
    while done < steps:
        levels = 1 if a != 0.0 else min(fused, steps - done)
        if a != 0.0:
            total(n, ntot)
            if threaded:
                faces(phi, a, ntot, cx, cy, bxp, bxm, byp, bym)
            else:
                faces_serial(phi, a, ntot, cx, cy, bxp, bxm, byp, bym)
        if threaded:
            sweep(n, work, levels, blocks, bxp, bxm, byp, bym, decay, gamma, exchange, h)
        else:
            sweep_serial(n, work, levels, blocks, bxp, bxm, byp, bym, decay, gamma, exchange, h)
        n, work = work, n
        done += levels
    return n


class Resolved:
    """The resolved drift–diffusion–reaction system on a periodic grid.

    potential: U_s (n_s, n_y, n_x) [energy]; diffusivity: D_s (n_s,) [length²/time]; hx, hy [length];
    kT [energy]; lifetime τ_s (n_s,) [time] (inf: none); annihilation γ [length²/time]; repulsion u₀
    [energy·length²]; exchange K (n_s, n_s) [1/time].

    Attributes a caller may change: ``threaded`` (use the prange kernels; set for grids of at least
    PARALLEL_CELLS cells) and ``fused`` (steps per sweep when the faces are static, FUSED_STEPS).
    """

    def __init__(self, potential, diffusivity, hx, hy, kT, lifetime, annihilation=0.0, repulsion=0.0,
                 exchange=None):
        self.phi = np.ascontiguousarray(potential, dtype=float) / kT
        ns = self.phi.shape[0]
        d = np.asarray(diffusivity, dtype=float)
        self.cx, self.cy = d / hx ** 2, d / hy ** 2
        self.a = repulsion / kT
        self.decay = 1.0 / np.asarray(lifetime, dtype=float)
        self.gamma = float(annihilation)
        self.exchange = np.zeros((ns, ns)) if exchange is None else np.asarray(exchange, dtype=float)
        self.face = [np.empty_like(self.phi) for _ in range(4)]
        self.ntot = np.zeros(self.phi.shape[1:])
        faces_serial(self.phi, 0.0, self.ntot, self.cx, self.cy, *self.face)
        self.hx, self.hy = hx, hy
        self.threaded = self.phi.size >= PARALLEL_CELLS
        self.fused = FUSED_STEPS

    def outflow_rate(self, n_max: float) -> float:
        """Largest rate at which a cell loses density, for total densities up to n_max (gives the dt bound).

        With repulsion the drift coefficients are bounded by those of D(1 + u₀ n_max/k_BT)."""
        bxp, bxm, byp, bym = self.face
        out = bxp + np.roll(bxm, 1, axis=2) + byp + np.roll(bym, 1, axis=1)
        out = out.max(axis=(1, 2)) * (1.0 + self.a * n_max)
        out += self.decay + self.gamma * n_max - np.minimum(np.diag(self.exchange), 0.0)
        return float(out.max())

    def stable_dt(self, n_max: float) -> float:
        """Largest forward-Euler step that keeps densities up to n_max non-negative."""
        return 1.0 / self.outflow_rate(n_max)

    def advance(self, n: np.ndarray, duration: float, dt: float) -> np.ndarray:
        """n (n_s, n_y, n_x) advanced by ``duration`` in equal steps no longer than dt; returns a new array."""
        steps = max(1, int(math.ceil(duration / dt * (1.0 - 1e-12))))
        h = duration / steps
        a = np.array(n, dtype=float)
        blocks = min(numba.get_num_threads(), a.shape[1]) if self.threaded else 1
        return _advance(a, np.empty_like(a), self.ntot, self.phi, self.a, self.cx, self.cy, *self.face, self.decay,
                        self.gamma, self.exchange, h, steps, blocks, self.fused)


def warmup() -> None:
    """Compile the kernels on a tiny grid."""
    u = np.zeros((1, 4, 4))
    m = Resolved(u, [1.0], 1.0, 1.0, 1.0, [np.inf], 0.1, 0.1)
    m.advance(np.ones((1, 4, 4)), 0.01, 0.01)
    m.threaded = True
    m.advance(np.ones((1, 4, 4)), 0.01, 0.01)
