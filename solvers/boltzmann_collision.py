"""The Boltzmann collision operator Q(f, f) of 3-D Maxwell molecules by a fast spectral method, batched over cells.

Kernel (pseudo-Maxwell molecules): ``B = b(cos θ)`` independent of the relative speed, isotropic,
``b = 1/(4π)`` (``∫_{S²} b dσ = 1``, a collision frequency of 1 per unit density). In the Carleman form of
Mouhot & Pareschi (Math. Comp. 75, 2006), with ``B̃(x, y) = 2² b / |x + y|``::

    Q(f)(v) = ∫_{B_R} ∫_{B_R} B̃(x, y) δ(x·y) [f(v + y) f(v + x) - f(v + x + y) f(v)] dx dy
            = (1/π) ∫_{S²₊} de ∫_{S¹₊(e)} de' ∫∫_{[-R, R]²} |r||ρ|/sqrt(r² + ρ²)
                  [f(v + r e) f(v + ρ e') - f(v + r e + ρ e') f(v)] dr dρ.

For this normalisation the BKW solution relaxes as ``K = 1 - exp(-t/6)``, the traceless stress as ``exp(-t/2)``
and the heat flux as ``exp(-t/3)`` (:mod:`solvers.boltzmann_velocity`), which the tests check.

Discretization (:mod:`solvers.boltzmann_quadrature`): f on N³ midpoints of [-L, L]³, extended periodically and
represented by its discrete Fourier series ``f(v) = Σ_l f̂_l exp(iπ l·v/L)`` (Nyquist modes dropped). The kernel
is made separable, ``|r||ρ|/sqrt(r²+ρ²) ≈ Σ_p a_p(|r|) a_p(|ρ|)`` (an exponential sum, compressed to P terms),
the half great circle ⊥ e is integrated exactly (its multiplier depends on |l_⊥| only) and the half sphere by
the Lebedev rule (n_e directions). Then, with ``Φ_p(l·e)`` and ``Ψ_p(|l - (l·e)e|)`` the Fourier multipliers
of the two factors::

    gain(v) = (1/π) Σ_e w_e Σ_p  IFFT[Φ_p(l·e) f̂_l](v) · IFFT[Ψ_p(|l_⊥|) f̂_l](v),
    loss(v) = f(v) IFFT[L̂_l f̂_l](v),     L̂_l = (1/π) Σ_e w_e Σ_p Φ_p(l·e) Ψ_p(|l_⊥|),

that is 2 P n_e real 3-D FFTs per cell: O(P n_e N³ log N). Products in v-space are the cyclic convolutions of
the Fourier coefficients (no dealiasing: the aliased modes of a resolved f are below the method's error).

Conservation: ``Q_c = Q - Cᵀ (C Cᵀ)⁻¹ C Q``, C the 5 x N³ matrix of the grid weights of 1, v, |v|²
(Gamba & Tharkabhushanam, J. Comput. Phys. 2009), so ∫ Q_c (1, v, |v|²) = 0 to round-off.
Positivity is monitored, not enforced: :func:`negativity`.

Truncation: for supp f ⊂ B(0, S), R = 2S and L ≥ (3 + √2) S / 2 leave Q exact on B(0, S) without aliasing of
the periodic extension; for Gaussians the tails make that a trade-off between R, the box and the resolution Δv,
measured in docs/kinds/boltzmann.md (defaults for temperatures near 1: L = 7.5, R = 0.75 L).

``MaxwellCollision`` is the fast operator (numba for the multipliers, the products and the projection;
scipy.fft over all cells at once, so the Python work per call is per direction and kernel term, not per cell);
:func:`collide_reference` is the same operator in plain numpy, one FFT at a time (the test oracle and the
benchmark's baseline). Shapes: f and Q are (cells, N, N, N), float64.
"""

import math

import numpy as np
import scipy.fft
from numba import njit, prange

from .boltzmann_quadrature import TABLE_PAD, half_sphere_directions, separable_kernel, spectral_tables
from .boltzmann_velocity import VelocityGrid

__all__ = ["MaxwellCollision", "collide_reference", "negativity", "conservation_matrix"]


@njit(cache=True, inline="always")
def _cubic_weights(x):
    """Index of the first of 4 table points and their Lagrange weights at position x (in table steps)."""
    i = int(x)
    t = x - i
    w0 = -t * (t - 1.0) * (t - 2.0) / 6.0
    w1 = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0
    w2 = -(t + 1.0) * t * (t - 2.0) / 2.0
    w3 = (t + 1.0) * t * (t - 1.0) / 6.0
    return i - 1, w0, w1, w2, w3


@njit(cache=True, inline="always")
def _wave_geometry(lx, ly, lz, e, half, inv_step):
    """(positions of |l·e| and |l_⊥| in table steps, or -1.0 for a Nyquist mode)."""
    if abs(lx) == half or abs(ly) == half or lz == half:
        return -1.0, -1.0
    s = abs(lx * e[0] + ly * e[1] + lz * e[2])
    q = math.sqrt(max(lx * lx + ly * ly + lz * lz - s * s, 0.0))
    return s * inv_step + TABLE_PAD, q * inv_step + TABLE_PAD


@njit(cache=True, parallel=True)
def _direction_multipliers(e, lx, lz, phi, psi, inv_step, ka, kb):
    """ka[p] = Φ_p(|l·e|), kb[p] = Ψ_p(|l_⊥|) (0 at Nyquist modes), each (P, N, N, N/2+1); phi/psi (P, n_table)."""
    n, nh, P = lx.shape[0], lz.shape[0], phi.shape[0]
    for i in prange(n):
        for j in range(n):
            for k in range(nh):
                xs, xq = _wave_geometry(lx[i], lx[j], lz[k], e, n // 2, inv_step)
                if xs < 0.0:
                    for p in range(P):
                        ka[p, i, j, k] = 0.0
                        kb[p, i, j, k] = 0.0
                    continue
                i_s, s0, s1, s2, s3 = _cubic_weights(xs)
                i_q, q0, q1, q2, q3 = _cubic_weights(xq)
                for p in range(P):
                    ka[p, i, j, k] = s0 * phi[p, i_s] + s1 * phi[p, i_s + 1] + s2 * phi[p, i_s + 2] \
                        + s3 * phi[p, i_s + 3]
                    kb[p, i, j, k] = q0 * psi[p, i_q] + q1 * psi[p, i_q + 1] + q2 * psi[p, i_q + 2] \
                        + q3 * psi[p, i_q + 3]


@njit(cache=True, parallel=True)
def _loss_multiplier(directions, weights, lx, lz, phi, psi, inv_step):
    """L̂ (N, N, N/2+1) = Σ_e w_e Σ_p Φ_p(l·e) Ψ_p(|l_⊥|) (without the 1/π)."""
    n = lx.shape[0]
    nh = lz.shape[0]
    P = phi.shape[0]
    out = np.zeros((n, n, nh))
    for i in prange(n):
        for j in range(n):
            for k in range(nh):
                acc = 0.0
                for d in range(directions.shape[0]):
                    xs, xq = _wave_geometry(lx[i], lx[j], lz[k], directions[d], n // 2, inv_step)
                    if xs < 0.0:
                        continue
                    i_s, s0, s1, s2, s3 = _cubic_weights(xs)
                    i_q, q0, q1, q2, q3 = _cubic_weights(xq)
                    term = 0.0
                    for p in range(P):
                        a = s0 * phi[p, i_s] + s1 * phi[p, i_s + 1] + s2 * phi[p, i_s + 2] + s3 * phi[p, i_s + 3]
                        b = q0 * psi[p, i_q] + q1 * psi[p, i_q + 1] + q2 * psi[p, i_q + 2] + q3 * psi[p, i_q + 3]
                        term += a * b
                    acc += weights[d] * term
                out[i, j, k] = acc
    return out


# The two kernels below run 2 P n_e times per call on little work each: serial, since a parallel region per
# call costs more than it saves (5x slower with 2 threads on a loaded 2-core machine, measured).
@njit(cache=True)
def _accumulate(gain, A, B, w):
    """gain += w A B elementwise; all (cells, N, N, N), C-contiguous."""
    g, a, b = gain.reshape(-1), A.reshape(-1), B.reshape(-1)
    for k in range(g.shape[0]):
        g[k] += w * a[k] * b[k]


@njit(cache=True)
def _multiply(out, F, m):
    """out[c] = m F[c] for every cell c: F, out (cells, N, N, N/2+1) complex, m (N, N, N/2+1) real."""
    cells = F.shape[0]
    fr, orr, mr = F.reshape(cells, -1), out.reshape(cells, -1), m.reshape(-1)
    for c in range(cells):
        for k in range(mr.shape[0]):
            orr[c, k] = mr[k] * fr[c, k]


@njit(cache=True, parallel=True)
def _project(Q, C, gram_inv):
    """Q[c] -= Cᵀ (C Cᵀ)⁻¹ C Q[c] in place; Q (cells, M), C (5, M): each cell's sums in a fixed order."""
    cells, m = Q.shape
    for c in prange(cells):
        mom = np.zeros(5)
        for a in range(5):
            s = 0.0
            for k in range(m):
                s += C[a, k] * Q[c, k]
            mom[a] = s
        coef = gram_inv @ mom
        for k in range(m):
            Q[c, k] -= coef[0] * C[0, k] + coef[1] * C[1, k] + coef[2] * C[2, k] + coef[3] * C[3, k] \
                + coef[4] * C[4, k]


def conservation_matrix(grid: VelocityGrid) -> np.ndarray:
    """C (5, N³): the grid weights Δv³ times 1, v_x, v_y, v_z, |v|²."""
    vx, vy, vz = (np.broadcast_to(a, grid.shape) for a in grid.mesh())
    rows = [np.ones(grid.shape), vx, vy, vz, grid.speed_squared()]
    return np.stack([r.ravel() for r in rows]) * grid.weight


def negativity(f: np.ndarray) -> np.ndarray:
    """Most negative value of each cell's f relative to its max: min(0, min f / max f), shape (cells,)."""
    flat = f.reshape(f.shape[0], -1)
    return np.minimum(0.0, flat.min(axis=1) / flat.max(axis=1))


class MaxwellCollision:
    """Q(f, f) of 3-D Maxwell molecules on N³ midpoints of [-L, L]³ (module docstring).

    Parameters: ``n`` (N, even), ``L`` (half-width of the box), ``R`` (truncation of |x|, |y|; default 0.75 L),
    ``degree`` (Lebedev degree of the half-sphere rule: n_e directions), ``rank`` (P terms of the separable
    kernel), ``table_step`` (step of the multiplier tables in wavenumber units; cubic interpolation),
    ``workers`` (scipy.fft threads per transform; None: scipy's default, 1). Each transform covers all cells
    (scipy.fft over axes 1-3 of (cells, N, N, N)); pocketfft does each cell's lines with the same arithmetic,
    so a batch gives each cell's Q bit for bit (tested).
    Attributes: ``grid``, ``directions`` (n_e, 3), ``weights`` (n_e,), ``kernel`` (:class:`SeparableKernel`),
    ``loss_multiplier`` (N, N, N/2+1).
    """

    def __init__(self, n: int = 32, L: float = 7.5, R: float | None = None, degree: int = 17, rank: int = 12,
                 table_step: float = 0.005, workers: int | None = None):
        self.grid = VelocityGrid(n, L)
        self.R = 0.75 * L if R is None else float(R)
        self.directions, self.weights = half_sphere_directions(degree)
        self.kernel = separable_kernel(self.R, rank)
        self.table_step = float(table_step)
        s_max = math.sqrt(3.0) * n / 2
        self.phi, self.psi = spectral_tables(self.kernel, self.grid.L, s_max, self.table_step)
        self.lx = np.fft.fftfreq(n, 1.0 / n)
        self.lz = np.arange(n // 2 + 1, dtype=float)
        self.workers = workers
        self.loss_multiplier = _loss_multiplier(self.directions, self.weights, self.lx, self.lz, self.phi,
                                                self.psi, 1.0 / self.table_step) / np.pi
        self.C = conservation_matrix(self.grid)
        self.gram_inv = np.linalg.inv(self.C @ self.C.T)

    @property
    def fft_count(self) -> int:
        """Real 3-D FFTs of size N³ per cell and call: one forward, 2 P n_e for the gain, one for the loss."""
        return 2 + 2 * self.kernel.rank * len(self.weights)

    def _ifft(self, x):
        """Real N³ inverse transforms of every cell of x (cells, N, N, N/2+1), which they may overwrite."""
        return scipy.fft.irfftn(x, s=self.grid.shape, axes=(1, 2, 3), workers=self.workers, overwrite_x=True)

    def gain_loss(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gain, loss) of f (cells, N, N, N): Q = gain - loss before the projection. Every transform covers
        all cells at once (scipy.fft over axes 1-3), so the Python work per call is per direction and term."""
        f = np.ascontiguousarray(f, dtype=np.float64)
        F = scipy.fft.rfftn(f, axes=(1, 2, 3), workers=self.workers)
        gain = np.zeros_like(f)
        ka = np.empty((self.kernel.rank,) + F.shape[1:])
        kb = np.empty_like(ka)
        buf = np.empty_like(F)
        for e, w in zip(self.directions, self.weights):
            _direction_multipliers(e, self.lx, self.lz, self.phi, self.psi, 1.0 / self.table_step, ka, kb)
            for a, b in zip(ka, kb):
                _multiply(buf, F, a)
                along_e = self._ifft(buf)
                _multiply(buf, F, b)
                _accumulate(gain, along_e, self._ifft(buf), w / np.pi)
        _multiply(buf, F, self.loss_multiplier)
        loss = f * self._ifft(buf)
        return gain, loss

    def project(self, Q: np.ndarray) -> np.ndarray:
        """Q - Cᵀ (C Cᵀ)⁻¹ C Q per cell (in place on a copy); Q (cells, N, N, N)."""
        out = np.array(Q, dtype=np.float64, order="C")
        _project(out.reshape(out.shape[0], -1), self.C, self.gram_inv)
        return out

    def __call__(self, f: np.ndarray, conserve: bool = True) -> np.ndarray:
        """Q(f, f), shape (cells, N, N, N); projected onto zero mass, momentum and energy unless ``conserve``
        is False."""
        if f.ndim != 4 or f.shape[1:] != self.grid.shape:
            raise ValueError(f"MaxwellCollision: f has shape {f.shape}, expected (cells, {self.grid.n}, "
                             f"{self.grid.n}, {self.grid.n})")
        gain, loss = self.gain_loss(f)
        Q = gain - loss
        return self.project(Q) if conserve else Q


def _reference_multiplier(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cubic interpolation of each row of ``table`` at positions x (table steps): (P, *x.shape)."""
    i = np.floor(x).astype(int)
    t = x - i
    w = [-t * (t - 1) * (t - 2) / 6, (t + 1) * (t - 1) * (t - 2) / 2, -(t + 1) * t * (t - 2) / 2,
         (t + 1) * t * (t - 1) / 6]
    return sum(wk * table[:, i - 1 + k] for k, wk in enumerate(w))


def collide_reference(op: MaxwellCollision, f: np.ndarray, conserve: bool = True) -> np.ndarray:
    """The operator of ``op`` in plain numpy: Python loops over cells, directions and kernel terms, one
    numpy FFT at a time, the multipliers interpolated with numpy, the projection by a linear solve."""
    n = op.grid.n
    lx = op.lx[:, None, None]
    ly = op.lx[None, :, None]
    lz = op.lz[None, None, :]
    nyquist = (np.abs(lx) == n // 2) | (np.abs(ly) == n // 2) | (lz == n // 2)
    out = np.empty_like(f)
    for c in range(f.shape[0]):
        F = np.fft.rfftn(f[c])
        gain = np.zeros(op.grid.shape)
        loss_hat = np.zeros(F.shape)
        for e, w in zip(op.directions, op.weights):
            s = np.abs(lx * e[0] + ly * e[1] + lz * e[2])
            q = np.sqrt(np.maximum(lx ** 2 + ly ** 2 + lz ** 2 - s ** 2, 0.0))
            phi = _reference_multiplier(op.phi, s / op.table_step + TABLE_PAD)
            psi = _reference_multiplier(op.psi, q / op.table_step + TABLE_PAD)
            for p in range(op.kernel.rank):
                ka, kb = np.where(nyquist, 0.0, phi[p]), np.where(nyquist, 0.0, psi[p])
                along_e = np.fft.irfftn(ka * F, s=op.grid.shape, axes=(0, 1, 2))
                across_e = np.fft.irfftn(kb * F, s=op.grid.shape, axes=(0, 1, 2))
                gain += w / np.pi * along_e * across_e
                loss_hat += w / np.pi * ka * kb
        Q = (gain - f[c] * np.fft.irfftn(loss_hat * F, s=op.grid.shape, axes=(0, 1, 2))).ravel()
        if conserve:
            Q = Q - op.C.T @ np.linalg.solve(op.C @ op.C.T, op.C @ Q)
        out[c] = Q.reshape(op.grid.shape)
    return out
