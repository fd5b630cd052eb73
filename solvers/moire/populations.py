"""Two exciton populations, K–K (index 0) and K–Q (index 1), exchanging in detailed balance.

    k_QK / k_KQ = (g_K M_K)/(g_Q M_Q) · e^{−ΔE/k_BT},   ΔE = E_KK − E_KQ (K–Q lower for ΔE > 0)
    equilibrium K–K fraction f_K = k_QK / (k_KQ + k_QK) = 1/(1 + (g_Q M_Q/(g_K M_K)) e^{ΔE/k_BT})

Rates in 1/time, energies in meV.
"""

from __future__ import annotations

import math

import numpy as np


def back_rate(k_kq: float, gap_meV: float, kT: float, degeneracy_ratio: float, mass_ratio: float) -> float:
    """k_QK from k_KQ by detailed balance; degeneracy_ratio = g_Q/g_K, mass_ratio = M_Q/M_K."""
    return k_kq * math.exp(-gap_meV / kT) / (degeneracy_ratio * mass_ratio)


def exchange_matrix(k_kq: float, k_qk: float) -> np.ndarray:
    """K (2, 2) with ∂n/∂t = K n for the exchange alone (K[s, r]: rate r → s; columns sum to 0)."""
    return np.array([[-k_kq, k_qk], [k_kq, -k_qk]])


def kk_fraction(k_kq: float, k_qk: float) -> float:
    """Equilibrium K–K fraction f_K."""
    return k_qk / (k_kq + k_qk)


def homogeneous(n0: np.ndarray, t: np.ndarray, k_kq: float, k_qk: float, lifetimes) -> np.ndarray:
    """Exact (n_K, n_Q) of the homogeneous linear model with exchange and decay, shape (t.size, 2)."""
    a = exchange_matrix(k_kq, k_qk) - np.diag(1.0 / np.asarray(lifetimes, dtype=float))
    w, v = np.linalg.eig(a)
    c = np.linalg.solve(v, np.asarray(n0, dtype=float))
    return np.real((v[None, :, :] * (c * np.exp(np.outer(t, w)))[:, None, :]).sum(axis=2))
