"""Moiré geometry of a twisted heterobilayer and its three-cosine potential.

Units: lengths in nm, energies in meV, temperatures in K, densities in nm⁻² (1 nm⁻² = 1e14 cm⁻²).

    a_M(θ) = (1+δ) a / sqrt(2(1+δ)(1 − cos θ') + δ²),   θ' = min(θ, |60° − θ|),  δ = a_top/a_bottom − 1
    n_M = 2 / (√3 a_M²)                                   (one site per moiré cell)
    U(r) = 2V Σ_j cos(G_j·r + ψ),  G = 4π/(√3 a_M),  G_1 = G(0, 1), G_2 = G(−√3/2, −1/2), G_3 = G(√3/2, −1/2)

``U`` is periodic on the rectangular supercell [a_M × √3 a_M] (two moiré cells). The depth Δ is the
peak-to-peak value max U − min U = 6|V| (max_k cos(ψ + 2πk/3) − min_k cos(ψ + 2πk/3)); V < 0.
"""

from __future__ import annotations

import functools
import math

import numpy as np

#: Boltzmann constant [meV/K].
KB_MEV = 8.617333262e-2
#: ħ²/m₀ [meV nm²].
HBAR2_M0 = 76.19964231
SQRT3 = math.sqrt(3.0)


def moire_period(a_bottom: float, a_top: float, twist_deg: float) -> float:
    """Moiré period a_M [nm] of lattices a_bottom, a_top [nm] at twist θ [deg] (0-60; near 60° uses 60° − θ)."""
    t = twist_deg % 60.0
    theta = math.radians(min(t, 60.0 - t))
    delta = a_top / a_bottom - 1.0
    den = math.sqrt(2.0 * (1.0 + delta) * (1.0 - math.cos(theta)) + delta * delta)
    if den == 0.0:
        raise ValueError("identical lattices at zero twist have no moiré period")
    return (1.0 + delta) * a_bottom / den


def site_density(a_m: float) -> float:
    """Moiré-site density n_M = 2/(√3 a_M²) [nm⁻²] for a_M [nm]."""
    return 2.0 / (SQRT3 * a_m * a_m)


def reciprocal_vectors(a_m: float) -> np.ndarray:
    """The three G_j [nm⁻¹], shape (3, 2)."""
    g = 4.0 * math.pi / (SQRT3 * a_m)
    return g * np.array([[0.0, 1.0], [-SQRT3 / 2, -0.5], [SQRT3 / 2, -0.5]])


def depth_per_amplitude(phase_deg: float) -> float:
    """Δ/|V| of the three-cosine potential at phase ψ [deg] (9 at ψ = 0, 6√3 at ψ = 30°)."""
    c = [math.cos(math.radians(phase_deg) + 2.0 * math.pi * k / 3.0) for k in range(3)]
    return 6.0 * (max(c) - min(c))


def amplitude(depth_meV: float, phase_deg: float) -> float:
    """V [meV] (negative) giving the peak-to-peak depth Δ [meV] at phase ψ [deg]."""
    return -depth_meV / depth_per_amplitude(phase_deg)


def potential(x: np.ndarray, y: np.ndarray, a_m: float, v: float, phase_deg: float) -> np.ndarray:
    """U(x, y) [meV] at positions x, y [nm] (broadcast), amplitude V [meV], phase ψ [deg]."""
    psi = math.radians(phase_deg)
    u = np.zeros(np.broadcast(x, y).shape)
    for gx, gy in reciprocal_vectors(a_m):
        u += np.cos(gx * x + gy * y + psi)
    return 2.0 * v * u


def supercell_grid(a_m: float, points_per_period: int, cells_x: int = 1, cells_y: int = 1):
    """Cell centres of a periodic grid on [cells_x a_M] × [cells_y √3 a_M].

    Returns ``(x, y, hx, hy)``: x of shape (n_x,), y of shape (n_y,) [nm], spacings [nm], with
    n_x = cells_x · points_per_period and n_y = cells_y · round(√3 · points_per_period).
    """
    px, py = points_per_period, int(round(SQRT3 * points_per_period))
    hx, hy = a_m / px, SQRT3 * a_m / py
    x = (np.arange(cells_x * px) + 0.5) * hx - 0.5 * cells_x * a_m
    y = (np.arange(cells_y * py) + 0.5) * hy - 0.5 * cells_y * SQRT3 * a_m
    return x, y, hx, hy


def smoothing_factor(a_m: float, mass_m0: float, temperature_K: float, bohr_radius_nm: float = 0.0) -> float:
    """Quantum smoothing of each Fourier component: exp(−G²λ²/2) · exp(−(G a_B)²/8), λ² = ħ²/(12 M k_BT).

    The first factor is Feynman–Hibbs (leading semiclassical order), the second the exciton's form factor
    (omitted for a_B = 0). Mass in m₀, a_M and a_B in nm.
    """
    g2 = (4.0 * math.pi / (SQRT3 * a_m)) ** 2
    lam2 = HBAR2_M0 / (12.0 * mass_m0 * KB_MEV * temperature_K)
    return math.exp(-0.5 * g2 * lam2 - g2 * bohr_radius_nm ** 2 / 8.0)


def effective_density_of_states(mass_m0: float, temperature_K: float, degeneracy: float = 1.0) -> float:
    """N_c = g M k_BT / (2πħ²) [nm⁻²] of the free 2-D exciton gas."""
    return degeneracy * mass_m0 * KB_MEV * temperature_K / (2.0 * math.pi * HBAR2_M0)


def barrier(depth_meV: float, phase_deg: float) -> float:
    """Activation barrier E_b [meV] of the potential of depth Δ [meV] and phase ψ [deg] (E_b ∝ Δ)."""
    return depth_meV * barrier_fraction(round(phase_deg % 360.0, 9))


@functools.lru_cache(maxsize=64)
def barrier_fraction(phase_deg: float, points_per_period: int = 96, tol: float = 1e-7) -> float:
    """E_b/Δ: the lowest level at which {U < E} percolates across the plane, over the depth.

    Bisection on a grid of 4 × 2 supercells (a_M = 1, Δ = 1): the sublevel set must connect the left and
    right edges. 8/9 at ψ = 0, 1/2 at ψ = 30°, 1/9 at ψ = 60°.
    """
    from scipy import ndimage

    x, y, _, _ = supercell_grid(1.0, points_per_period, 4, 2)
    u = potential(x[None, :], y[:, None], 1.0, amplitude(1.0, phase_deg), phase_deg)
    lo, hi = float(u.min()), float(u.max())
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        labels, _ = ndimage.label(u < mid)
        left, right = set(labels[:, 0][labels[:, 0] > 0]), set(labels[:, -1][labels[:, -1] > 0])
        if left & right:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi) - float(u.min())
