"""Method ``continuum``: µm-scale spreading of a pump spot with a density-dependent diffusivity.

For species s with density n_s, total n = Σ_s n_s, trap-filling free density n_f(n) and mobility
m(n) = dn_f/dn (Langmuir traps of density n_M, K = e^{βE_b}/N_c; K = 0: no traps, n_f = n, m = 1):

    ∂n_s/∂t = ∇·[ D_s m(n) ∇n_s + D_s (u₀/k_BT) (n_f/n) n_s ∇n ] − n_s/τ_s − γ n_s n + Σ_r K[s, r] n_r

For one species this is ∇·[D(n)∇n] with D(n) = D (dn_f/dn + u₀ n_f/k_BT): mean-field repulsion
D(1 + u₀n/k_BT) without traps, the trap-filling D/(1 + n_M K/(1 + K n_f)²) without repulsion.

Finite volumes on a grid of n_y × n_x cells given by neighbour coefficients (:func:`radial_grid`,
:func:`square_grid`), face values by arithmetic means (exact Kirchhoff form for the porous-medium
flux n∇n), forward Euler. Units: any consistent set; the kind uses µm, ns, µm⁻².
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .compile import threaded_and_serial
from .sg import species_sum


@njit(cache=True)
def free_fraction(n, k, n_m):
    """n_f/n of the Langmuir equilibrium (cancellation-free root; 1/(1 + K n_M) at n = 0)."""
    b = 1.0 + k * (n_m - n)
    return 2.0 / (b + math.sqrt(b * b + 4.0 * k * n))


@njit(cache=True)
def mobility(n, k, n_m):
    """dn_f/dn = 1 / (1 + n_M K / (1 + K n_f)²)."""
    nf = n * free_fraction(n, k, n_m)
    q = 1.0 + k * nf
    return 1.0 / (1.0 + n_m * k / (q * q))


def diffusivity_ratio(n, binding_over_kT, n_c, n_m, repulsion_over_kT=0.0):
    """D(n)/D = dn_f/dn + (u₀/k_BT) n_f for one species (arrays allowed); K = e^{E_b/k_BT}/N_c."""
    k = math.exp(binding_over_kT) / n_c if n_m > 0 else 0.0
    n = np.atleast_1d(np.asarray(n, dtype=float))
    f = np.array([free_fraction(v, k, n_m) for v in n])
    m = np.array([mobility(v, k, n_m) for v in n])
    return m + repulsion_over_kT * f * n


@njit(cache=True, inline="always")
def _face(coef, s, n, tot, mob, fr, j, i, jj, ii, dlin, drep):
    """Rate of gain of n[s, j, i] through its face with cell (jj, ii), neighbour coefficient coef."""
    if coef == 0.0:
        return 0.0
    m_face = 0.5 * (mob[j, i] + mob[jj, ii])
    q_face = 0.5 * (fr[j, i] * n[s, j, i] + fr[jj, ii] * n[s, jj, ii])
    return coef * (dlin[s] * m_face * (n[s, jj, ii] - n[s, j, i]) + drep[s] * q_face * (tot[jj, ii] - tot[j, i]))


def _step(n, out, tot, mob, fr, dlin, drep, k, n_m, cxp, cxm, cyp, cym, decay, gamma, exchange, dt):
    """One forward-Euler step n → out, shape (n_s, n_y, n_x); tot, mob, fr: (n_y, n_x) scratch.
    dlin[s] = D_s, drep[s] = D_s u₀/k_BT; cxp[i], cxm[i] (cyp[j], cym[j]) couple cell i to i+1 and i−1
    (0 at a no-flux boundary)."""
    ns, ny, nx = n.shape
    for j in prange(ny):
        for i in range(nx):
            acc = species_sum(n, j, i)
            tot[j, i] = acc
            fr[j, i] = free_fraction(acc, k, n_m)
            mob[j, i] = mobility(acc, k, n_m)
    for j in prange(ny):
        for i in range(nx):
            c = tot[j, i]
            for s in range(ns):
                div = (_face(cxp[i], s, n, tot, mob, fr, j, i, j, min(i + 1, nx - 1), dlin, drep)
                       + _face(cxm[i], s, n, tot, mob, fr, j, i, j, max(i - 1, 0), dlin, drep)
                       + _face(cyp[j], s, n, tot, mob, fr, j, i, min(j + 1, ny - 1), i, dlin, drep)
                       + _face(cym[j], s, n, tot, mob, fr, j, i, max(j - 1, 0), i, dlin, drep))
                react = -(decay[s] + gamma * c) * n[s, j, i]
                for r in range(ns):
                    react += exchange[s, r] * n[r, j, i]
                out[s, j, i] = n[s, j, i] + dt * (div + react)


#: The kernel compiled threaded (large grids) and serial (small ones, where threads cost more than they save).
step, step_serial = threaded_and_serial(_step)
#: Grids with at least this many cells use the threaded kernel.
PARALLEL_CELLS = 1 << 16


@njit(cache=True, nogil=True)
def _advance(n, work, dlin, drep, k, n_m, cxp, cxm, cyp, cym, decay, gamma, exchange, h, steps, threaded):
    """``steps`` forward-Euler steps of size h from n (work: scratch of the same shape); returns the result."""
    tot, mob, fr = np.empty(n.shape[1:]), np.empty(n.shape[1:]), np.empty(n.shape[1:])
    for _ in range(steps):
        if threaded:
            step(n, work, tot, mob, fr, dlin, drep, k, n_m, cxp, cxm, cyp, cym, decay, gamma, exchange, h)
        else:
            step_serial(n, work, tot, mob, fr, dlin, drep, k, n_m, cxp, cxm, cyp, cym, decay, gamma, exchange, h)
        n, work = work, n
    return n


def radial_grid(r_max: float, n_r: int):
    """Radial cells r_i = (i + ½) h on [0, r_max], no flux at r_max: (r, cxp, cxm, cyp, cym, cell areas)."""
    h = r_max / n_r
    r = (np.arange(n_r) + 0.5) * h
    faces = np.arange(n_r + 1) * h
    cxp = faces[1:] / (r * h * h)
    cxm = faces[:-1] / (r * h * h)
    cxp[-1] = 0.0
    return r, cxp, cxm, np.zeros(1), np.zeros(1), 2.0 * math.pi * r * h


def square_grid(half_width: float, n: int):
    """Square of n × n cells on [−L, L]², no-flux edges: (x, cxp, cxm, cyp, cym, cell area)."""
    h = 2.0 * half_width / n
    x = (np.arange(n) + 0.5) * h - half_width
    cp = np.full(n, 1.0 / h ** 2)
    cm = cp.copy()
    cp[-1] = 0.0
    cm[0] = 0.0
    return x, cp, cm, cp.copy(), cm.copy(), h * h


class Continuum:
    """The nonlinear reaction–diffusion system on a grid from :func:`radial_grid` or :func:`square_grid`.

    diffusivity D_s (n_s,); repulsion_over_kT u₀/k_BT [area]; traps: (K [area], n_M [1/area]) or None;
    lifetime τ_s (n_s,); annihilation γ [area/time]; exchange K (n_s, n_s) [1/time].
    """

    def __init__(self, grid, diffusivity, lifetime, repulsion_over_kT=0.0, traps=None, annihilation=0.0,
                 exchange=None, linear=True):
        _, self.cxp, self.cxm, self.cyp, self.cym, _ = grid
        d = np.asarray(diffusivity, dtype=float)
        self.dlin = d if linear else np.zeros_like(d)
        self.drep = d * repulsion_over_kT
        self.k, self.n_m = traps if traps is not None else (0.0, 0.0)
        self.decay = 1.0 / np.asarray(lifetime, dtype=float)
        self.gamma = float(annihilation)
        ns = d.size
        self.exchange = np.zeros((ns, ns)) if exchange is None else np.asarray(exchange, dtype=float)

    def stable_dt(self, n_max: float) -> float:
        """Forward-Euler bound for total densities up to n_max (diffusion, drift and reactions)."""
        c = max(self.cxp.max() + self.cxm.max(), 0.0) + max(self.cyp.max() + self.cym.max(), 0.0)
        dmax = float(np.max(self.dlin + self.drep * n_max))
        rate = c * dmax + float(np.max(self.decay)) + self.gamma * n_max - float(np.min(np.diag(self.exchange)))
        return 1.0 / rate

    def advance(self, n: np.ndarray, duration: float, dt: float) -> np.ndarray:
        """n (n_s, n_y, n_x) advanced by ``duration`` in equal steps no longer than dt; returns a new array."""
        steps = max(1, int(math.ceil(duration / dt * (1.0 - 1e-12))))
        h = duration / steps
        a = np.array(n, dtype=float)
        return _advance(a, np.empty_like(a), self.dlin, self.drep, self.k, self.n_m, self.cxp, self.cxm, self.cyp,
                        self.cym, self.decay, self.gamma, self.exchange, h, steps, a[0].size >= PARALLEL_CELLS)


def warmup() -> None:
    """Compile the kernel on a tiny grid."""
    m = Continuum(radial_grid(1.0, 4), [1.0], [1.0], 0.1, (1.0, 1.0), 0.1)
    m.advance(np.ones((1, 1, 4)), 0.01, 0.01)
