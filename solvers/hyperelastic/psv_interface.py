"""General plane-wave interface solver for pre-deformed neo-Hookean half-spaces: the 6×6 Stroh-type
eigenproblem of the brief (§2.4, Appendix A), for in-plane (P-SV) and antiplane (SH) incidence and any F.

Current configuration, interface ``x2 = 0``: the lower half-space ``x2 < 0`` is undeformed and isotropic
(mu, lambda, rho0), the upper one is deformed by F (incremental tensor ``A0(F)``, density ``rho0/J``).
Fields ``u = U exp(i(k1 x1 + k2 x2 - omega t))``. With ``Q = A0[:,0,:,0]``, ``R = A0[:,0,:,1]``,
``T = A0[:,1,:,1]`` and the traction amplitude ``W = (k1 R^T + k2 T) U`` (traction on x2 = const is iW),
the state ``(U, W)`` obeys ``N (U, W) = k2 (U, W)`` with

    N = [[-k1 T^-1 R^T,                         T^-1      ],
         [rho omega² I - k1² Q + k1² R T^-1 R^T, -k1 R T^-1]].

The energy flux along e2 of a field is ``1/2 omega Re(U*·W)`` (time average). Modes of equal k2 (SH and
SV are degenerate on both sides for this W) need no separation: fluxes are computed from the summed
reflected and transmitted fields, whose cross terms between modes of different k2 vanish.
Everything is per unit incident displacement amplitude; with ``omega = 1`` and mu = rho0 = 1 the wave
numbers are in units of k0 = omega/c_s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .material import incremental_tensor, jacobian

INCIDENT = ("p", "sv", "sh")


def stroh_matrix(A0: np.ndarray, rho: float, omega: float, k1: float) -> np.ndarray:
    """The 6×6 matrix N for the current-configuration tensor ``A0`` (3,3,3,3) [Pa], density rho
    [kg/m^3], angular frequency omega [rad/s] and tangential wave number k1 [1/m]."""
    Q, R, T = A0[:, 0, :, 0], A0[:, 0, :, 1], A0[:, 1, :, 1]
    Ti = np.linalg.inv(T)
    N = np.empty((6, 6), dtype=complex)
    N[:3, :3] = -k1 * Ti @ R.T
    N[:3, 3:] = Ti
    N[3:, :3] = rho * omega**2 * np.eye(3) - k1**2 * Q + k1**2 * R @ Ti @ R.T
    N[3:, 3:] = -k1 * R @ Ti
    return N


def flux(U: np.ndarray, W: np.ndarray, omega: float) -> np.ndarray:
    """Time-averaged energy flux along +e2, ``1/2 omega Re(U*·W)``, over the last axis (shape ``(...)``)."""
    return 0.5 * omega * np.real(np.sum(np.conj(U) * W, axis=-1))


def traction_amplitude(A0: np.ndarray, k1: float, k2, U: np.ndarray) -> np.ndarray:
    """``W = (k1 R^T + k2 T) U`` for a mode of wave vector (k1, k2) and polarization U (3,)."""
    R, T = A0[:, 0, :, 1], A0[:, 1, :, 1]
    return (k1 * R.T + k2 * T) @ U


def modes(A0: np.ndarray, rho: float, omega: float, k1: float, upward: bool,
          tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three modes that carry energy away from the interface into a half-space, or decay in it:
    ``upward=True`` for the upper half-space (Im k2 > 0, or real k2 with flux > 0), False for the lower.
    Returns ``(k2 (3,), U (3, 3), W (3, 3))``, one mode per row."""
    k2, vec = np.linalg.eig(stroh_matrix(A0, rho, omega, k1))
    vec = vec.T
    scale = np.abs(k2).max()
    sign = 1.0 if upward else -1.0
    real = np.abs(k2.imag) <= tol * scale
    away = np.where(real, sign * flux(vec[:, :3], vec[:, 3:], omega) > 0, sign * k2.imag > 0)
    if away.sum() != 3:
        raise ValueError(f"could not split the modes at k1 = {k1:.6g} into 3 up + 3 down (grazing incidence?)")
    k2 = np.where(real, k2.real, k2)[away]
    return k2, vec[away, :3], vec[away, 3:]


def isotropic_wave(mu: float, lam: float, rho: float, omega: float, k1: float, kind: str,
                   downward: bool) -> tuple[complex, np.ndarray]:
    """``(k2, U)`` of a P, SV or SH plane wave of tangential wave number k1 in the undeformed isotropic
    solid (P speed sqrt((lam + 2 mu)/rho), S speed sqrt(mu/rho)), going up (+e2) or down.
    Beyond its cutoff the wave decays away from the interface. Polarizations: P ``(k1, k2, 0)/|k|``,
    SV ``(k2, -k1, 0)/|k|`` (in-plane, normal to k), SH ``e3``; unit length for propagating waves."""
    modulus = lam + 2.0 * mu if kind == "p" else mu
    kk = rho * omega**2 / modulus                       # |k|^2
    k2 = np.sqrt(complex(kk - k1**2))                   # Im >= 0: up-going or decaying upward
    if downward:
        k2 = -k2
    if kind == "p":
        U = np.array([k1, k2, 0.0])
    elif kind == "sv":
        U = np.array([k2, -k1, 0.0])
    elif kind == "sh":
        return k2, np.array([0.0, 0.0, 1.0], dtype=complex)
    else:
        raise ValueError(f"wave kind must be one of {INCIDENT}, got {kind!r}")
    return k2, U.astype(complex) / np.sqrt(kk)


@dataclass(frozen=True)
class InterfaceSolution:
    """One incidence angle. ``reflected``: complex amplitudes of the reflected P, SV, SH waves
    (displacement, per unit incident amplitude); ``R``, ``T``: reflected and transmitted energy flux per
    incident flux (summed over wave types); ``R_by_type``: reflected flux of P, SV, SH;
    ``t_abs``: |transmitted displacement at the interface| per incident amplitude;
    ``n_propagating``: number of propagating transmitted waves; ``balance``: R + T - 1."""

    reflected: dict
    R: float
    T: float
    R_by_type: dict
    t_abs: float
    n_propagating: int

    @property
    def balance(self) -> float:
        """R + T - 1: zero when the energy flux is conserved."""
        return self.R + self.T - 1.0


def solve_interface(F, mu: float, lam: float, rho0: float, theta: float, incident: str = "sv",
                    omega: float = 1.0) -> InterfaceSolution:
    """Reflection and transmission of a plane P, SV or SH wave coming from the undeformed half-space at
    angle ``theta`` [rad] from the normal, on the half-space deformed by ``F`` (3×3). Moduli mu, lam [Pa],
    reference density rho0 [kg/m^3], omega [rad/s] (results do not depend on it)."""
    if incident not in INCIDENT:
        raise ValueError(f"incident must be one of {INCIDENT}, got {incident!r}")
    if not 0 <= theta < np.pi / 2:
        raise ValueError("the incidence angle must lie in [0, pi/2)")
    F = np.asarray(F, dtype=float)
    A_low = incremental_tensor(np.eye(3), mu, lam)
    A_up = incremental_tensor(F, mu, lam)
    rho_up = rho0 / float(jacobian(F))
    c_inc = np.sqrt(((lam + 2 * mu) if incident == "p" else mu) / rho0)
    k1 = omega / c_inc * np.sin(theta)

    k2_in, U_in = isotropic_wave(mu, lam, rho0, omega, k1, incident, downward=False)
    W_in = traction_amplitude(A_low, k1, k2_in, U_in)
    reflected = [isotropic_wave(mu, lam, rho0, omega, k1, kind, downward=True) for kind in INCIDENT]
    U_r = np.array([U for _, U in reflected])
    W_r = np.array([traction_amplitude(A_low, k1, k2, U) for k2, U in reflected])
    k2_t, U_t, W_t = modes(A_up, rho_up, omega, k1, upward=True)

    # continuity of displacement and traction: U_in + a·U_r = b·U_t, W_in + a·W_r = b·W_t
    M = np.zeros((6, 6), dtype=complex)
    M[:3, :3], M[:3, 3:] = U_r.T, -U_t.T
    M[3:, :3], M[3:, 3:] = W_r.T, -W_t.T
    amp = np.linalg.solve(M, -np.concatenate([U_in, W_in]))
    a, b = amp[:3], amp[3:]

    f_in = flux(U_in, W_in, omega)
    R_by_type = {kind: float(-flux(a[m] * U_r[m], a[m] * W_r[m], omega) / f_in) for m, kind in enumerate(INCIDENT)}
    T = float(flux(b @ U_t, b @ W_t, omega) / f_in)
    propagating = np.abs(k2_t.imag) <= 1e-9 * np.abs(k2_t).max()
    return InterfaceSolution(reflected=dict(zip(INCIDENT, a)), R=sum(R_by_type.values()), T=T,
                             R_by_type=R_by_type, t_abs=float(np.linalg.norm(b @ U_t)),
                             n_propagating=int(propagating.sum()))


def sweep(F, mu: float, lam: float, rho0: float, theta, incident: str = "sv") -> list[InterfaceSolution]:
    """:func:`solve_interface` at each angle of ``theta`` [rad], shape ``(n,)``."""
    return [solve_interface(F, mu, lam, rho0, float(th), incident) for th in np.atleast_1d(theta)]
