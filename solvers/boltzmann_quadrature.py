"""Quadratures of the fast spectral collision operator of 3-D Maxwell molecules (:mod:`solvers.boltzmann_collision`).

The operator in Carleman form (Mouhot & Pareschi, Math. Comp. 75, 2006), truncated to |x|, |y| ≤ R and written on
half directions (the integrand is even in r and ρ)::

    Q(f)(v) = (1/π) ∫_{S²₊} de ∫_{S¹₊(e)} de' ∫_{-R}^{R} ∫_{-R}^{R} K(r, ρ)
                  [f(v + r e) f(v + ρ e') - f(v + r e + ρ e') f(v)] dr dρ,
    K(r, ρ) = |r| |ρ| / sqrt(r² + ρ²),

with S²₊ a half sphere and S¹₊(e) a half great circle ⊥ e. This module provides

- the separable approximation ``K(r, ρ) ≈ Σ_p a_p(|r|) a_p(|ρ|)``: the exponential sum
  ``1/sqrt(s) ≈ Σ_j w_j exp(-t_j² s)`` (trapezoidal rule of
  ``1/sqrt(s) = (2/sqrt(π)) ∫ exp(τ - s e^{2τ}) dτ``),
  which makes K a sum of products ``(r e^{-t_j² r²}) (ρ e^{-t_j² ρ²})``, compressed to its leading P terms by the
  eigen-decomposition of the resulting symmetric kernel on a graded Gauss-Legendre rule of [0, R]
  (:func:`separable_kernel`);
- the Fourier multipliers of one term along a direction, tabulated on a uniform grid in the wavenumber
  (:func:`spectral_tables`):  ``Φ_p(s) = ∫_{-R}^{R} a_p(|r|) e^{iπ r s / L} dr`` (along e, s = l·e) and
  ``Ψ_p(q) = ∫_0^π Φ_p(q cos α) dα = 2π ∫_0^R a_p(r) J₀(π r q / L) dr`` (the half great circle ⊥ e
  integrated exactly, q = |l - (l·e) e|), for wave vectors l (integers, period 2L of the velocity box);
- the directions e on the half sphere: the Lebedev rule of a given degree, one point of each antipodal pair
  (:func:`half_sphere_directions`).

Units: velocities in the units of the velocity grid (thermal speed of the reference state), wavenumbers as
integers l (the Fourier mode ``exp(iπ l·v / L)``). Everything is float64.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import lebedev_rule
from scipy.special import j0

__all__ = ["SeparableKernel", "radial_rule", "exponential_sum", "separable_kernel", "spectral_tables",
           "half_sphere_directions", "TABLE_PAD"]

#: table entries kept on each side of [0, s_max] so that the cubic stencil never leaves the table
TABLE_PAD = 2


def radial_rule(R: float, r_min: float = 1e-9, order: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre rule of ``order`` points per panel on [0, R]: panels [R 2^-k-1, R 2^-k] graded
    geometrically from ``r_min R`` up to R/8, then panels of width R/8. Returns nodes and weights, shape (n_r,)."""
    x, w = np.polynomial.legendre.leggauss(order)
    graded = R / 8 * np.geomspace(r_min * 8, 1.0, int(np.ceil(np.log2(1 / (8 * r_min)))) + 1)
    edges = np.concatenate([[0.0], graded, R / 8 * np.arange(2, 9)])
    lo, hi = edges[:-1, None], edges[1:, None]
    return (lo + (hi - lo) * (x + 1) / 2).ravel(), ((hi - lo) / 2 * w).ravel()


def exponential_sum(s_min: float, s_max: float, step: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Exponents t_j and weights w_j (shape (J,)) with ``1/sqrt(s) ≈ Σ_j w_j exp(-t_j² s)`` on [s_min, s_max]:
    the trapezoidal rule of step ``step`` in τ = ln t; relative error about exp(-π²/(2 step)) (2e-11 at 0.2)."""
    tau = np.arange(np.log(1e-13 / np.sqrt(s_max)), 0.5 * np.log(40.0 / s_min) + step, step)
    return np.exp(tau), 2.0 / np.sqrt(np.pi) * step * np.exp(tau)


@dataclass(frozen=True)
class SeparableKernel:
    """``K(r, ρ) = rρ/sqrt(r²+ρ²) ≈ Σ_p a_p(r) a_p(ρ)`` on [0, R]²: nodes ``r`` and weights ``weights`` (n_r,)
    of the radial rule, ``a`` (n_r, P) the functions at the nodes, ``terms`` the exponential sum's length J,
    ``l1_error`` ∫∫|Σ a_p a_p - K| / ∫∫ K on the rule."""

    R: float
    r: np.ndarray
    weights: np.ndarray
    a: np.ndarray
    terms: int
    l1_error: float

    @property
    def rank(self) -> int:
        return self.a.shape[1]


def separable_kernel(R: float, rank: int = 24, step: float = 0.2) -> SeparableKernel:
    """The leading ``rank`` terms of the exponential-sum kernel on [0, R]² (see the module docstring)."""
    r, w = radial_rule(R)
    t, tw = exponential_sum(1e-14 * R * R, 2.0 * R * R, step)
    g = r[:, None] * np.exp(-(t[None, :] * r[:, None]) ** 2)      # (n_r, J)
    sw = np.sqrt(w)
    lam, vec = np.linalg.eigh((sw[:, None] * g * tw) @ (g.T * sw[None, :]))
    keep = np.argsort(lam)[::-1][:rank]
    a = vec[:, keep] * np.sqrt(lam[keep]) / sw[:, None]
    exact = r[:, None] * r[None, :] / np.hypot(r[:, None], r[None, :])
    w2 = w[:, None] * w[None, :]
    l1 = float((np.abs(a @ a.T - exact) * w2).sum() / (exact * w2).sum())
    return SeparableKernel(R, r, w, a, len(t), l1)


def spectral_tables(kernel: SeparableKernel, L: float, s_max: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """``Φ_p`` and ``Ψ_p`` (module docstring) at ``s = (k - TABLE_PAD) step``, k = 0 … n - 1 covering
    [-TABLE_PAD step, s_max + TABLE_PAD step] (Φ and Ψ are even in s); each of shape (P, n)."""
    s = (np.arange(int(np.ceil(s_max / step)) + 2 * TABLE_PAD + 2) - TABLE_PAD) * step
    arg = np.pi / L * kernel.r[None, :] * np.abs(s)[:, None]          # (n, n_r)
    wa = kernel.weights[:, None] * kernel.a                            # (n_r, P)
    return (2.0 * np.cos(arg) @ wa).T.copy(), (2.0 * np.pi * j0(arg) @ wa).T.copy()


def half_sphere_directions(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors e (n_e, 3) and weights (n_e,) with ``∫_{S²₊} g(e) de = Σ w g(e)`` for g even, g(-e) = g(e):
    the points of scipy's Lebedev rule of ``degree`` with their antipodes dropped (the rule is centrally
    symmetric with equal weights on antipodes)."""
    x, w = lebedev_rule(degree)
    x = x.T
    key = np.where(np.abs(x[:, 2]) > 1e-12, x[:, 2], np.where(np.abs(x[:, 1]) > 1e-12, x[:, 1], x[:, 0]))
    keep = key > 0
    assert 2 * keep.sum() == len(w), "Lebedev rule is not centrally symmetric"
    return np.ascontiguousarray(x[keep]), w[keep].copy()
