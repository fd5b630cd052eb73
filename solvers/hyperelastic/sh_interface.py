"""Closed-form reflection and transmission of SH waves at an undeformed / pre-deformed interface (brief §2.2).

Current configuration: the half-space ``x2 < 0`` is undeformed neo-Hookean (mu, rho0); ``x2 > 0`` is the
same material homogeneously pre-deformed by a plane F (``F13 = F23 = F31 = F32 = 0``), i.e. the SH medium
``C = mu B/J``, ``rho = rho0/J``. A plane SH wave ``w = exp(i(k1 x1 + k2 x2 - omega t))`` with
``k = k0 (sin θ, cos θ)``, ``k0 = omega/c0``, ``c0 = sqrt(mu/rho0)``, hits the interface from below.
With ``J2 = det F_2D`` and ``B = F_2D F_2D^T``:

    zeta(θ) = sqrt(B22 - J2² sin²θ) / (J cos θ)      (impedance ratio Z2/Z1; Im >= 0 branch)
    r = (1 - zeta)/(1 + zeta),  t = 2/(1 + zeta),  R = |r|²,  T = Re(zeta) |t|²,  R + T = 1.

The transmitted wave is evanescent where ``J2² sin²θ > B22`` (angles above :func:`critical_angle`).
Only the direction matters: every result is independent of omega, mu and rho0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .material import as_3d, is_plane, left_cauchy_green


@dataclass(frozen=True)
class SHCoefficients:
    """Coefficients at each incidence angle, arrays of shape ``(n_angle,)``.

    r, t: complex displacement amplitude ratios (reflected / incident, transmitted / incident at the
    interface); R, T: energy-flux ratios; zeta: impedance ratio; k2: transmitted normal wave number in
    units of k0 (complex, Im > 0: evanescent); ray_angle: angle of the transmitted energy flux from the
    normal e2 [rad] (NaN where evanescent).
    """

    r: np.ndarray
    t: np.ndarray
    R: np.ndarray
    T: np.ndarray
    zeta: np.ndarray
    k2: np.ndarray
    ray_angle: np.ndarray

    @property
    def evanescent(self) -> np.ndarray:
        """True where the transmitted wave does not propagate (total reflection)."""
        return np.isnan(self.ray_angle)


def _plane_parts(F) -> tuple[np.ndarray, float, float, float]:
    """``(B, J2, J)`` of a plane deformation gradient: the 2×2 block of B = F F^T, det F_2D, det F."""
    F = as_3d(F)
    if F.shape != (3, 3):
        raise ValueError(f"one deformation gradient expected, got shape {F.shape}")
    if not is_plane(F):
        raise ValueError("SH waves decouple only for a plane deformation (F13 = F23 = F31 = F32 = 0)")
    J2 = float(np.linalg.det(F[:2, :2]))
    J = J2 * float(F[2, 2])
    if not J > 0:
        raise ValueError(f"det F = {J:.6g} is not positive")
    return left_cauchy_green(F)[:2, :2], J2, J


def coefficients(F, theta) -> SHCoefficients:
    """SH reflection/transmission for incidence angles ``theta`` [rad], array of shape ``(n,)`` in
    [0, pi/2), for the deformation gradient ``F`` (3×3 or 2×2, plane) of the upper half-space."""
    B, J2, J = _plane_parts(F)
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    if np.any((theta < 0) | (theta >= np.pi / 2)):
        raise ValueError("incidence angles must lie in [0, pi/2)")
    s, c = np.sin(theta), np.cos(theta)
    arg = B[1, 1] - J2**2 * s**2
    root = np.sqrt(arg + 0j)                             # principal branch: Im >= 0, outgoing or decaying
    zeta = root / (J * c)
    r = (1 - zeta) / (1 + zeta)
    t = 2 / (1 + zeta)
    R = np.abs(r) ** 2
    T = zeta.real * np.abs(t) ** 2
    k2 = (-B[0, 1] * s + root) / B[1, 1]
    # energy flux in the deformed medium is along C k' = (mu/J) B k', k' = (k1, k2)
    flux = B @ np.stack([s, k2.real])
    propagating = arg > 1e-12 * B[1, 1]                  # at the critical angle itself: grazing, no flux
    ray = np.where(propagating, np.arctan2(flux[0], flux[1]), np.nan)
    return SHCoefficients(r=r, t=t, R=R, T=T, zeta=zeta, k2=k2, ray_angle=ray)


def critical_angle(F) -> float:
    """Incidence angle [rad] above which the transmitted SH wave is evanescent: ``asin(sqrt(B22)/|J2|)``
    when ``B22 < J2²``, NaN otherwise (transmission at every angle)."""
    B, J2, _ = _plane_parts(F)
    ratio = np.sqrt(B[1, 1]) / abs(J2)
    return float(np.arcsin(ratio)) if ratio < 1 else float("nan")


def normal_incidence_reflection(F) -> float:
    """``r0 = (J - sqrt(B22)) / (J + sqrt(B22))`` (dimensionless)."""
    B, _, J = _plane_parts(F)
    return float((J - np.sqrt(B[1, 1])) / (J + np.sqrt(B[1, 1])))


def is_transparent(F, tol: float = 1e-12) -> bool:
    """True when the interface reflects no SH wave at any angle: ``F33 = 1`` and ``B22 = J2²``
    (``|F^T e2| = J``), e.g. every ``F = I + d ⊗ e2``."""
    B, J2, J = _plane_parts(F)
    return bool(abs(as_3d(F)[2, 2] - 1.0) <= tol and abs(B[1, 1] - J2**2) <= tol * max(1.0, B[1, 1]))
