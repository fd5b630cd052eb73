"""Compressible neo-Hookean material: energy, stresses, incremental tensor and SH push-forward.

    W(F) = mu/2 (I1 - 3) - mu ln J + lambda/2 (ln J)^2,   I1 = tr(F^T F),  J = det F

(brief §1.1). Every function takes the deformation gradient ``F`` as an array of shape
``(..., 3, 3)`` (a stack of gradients) or ``(..., 2, 2)`` (a plane deformation, embedded with
``F33 = 1``); ``mu`` and ``lam`` (Lamé lambda) are moduli [Pa], ``rho0`` the reference density
[kg/m^3]. Everything else is dimensionless or in the units of the moduli. Plain numpy.

- :func:`energy` W [Pa], :func:`piola` P = dW/dF [Pa], :func:`cauchy` sigma [Pa];
- :func:`incremental_tensor_reference` A_iajb = dP_ia/dF_jb [Pa];
- :func:`incremental_tensor` A0_ipjq = J^-1 F_pa F_qb A_iajb [Pa], the current-configuration tensor of
  ``(rho0/J) u_i,tt = (A0_ipjq u_j,q),p``;
- :func:`sh_modulus` C = mu B/J (2×2, in-plane block of B = F F^T) and :func:`current_density` rho0/J:
  the antiplane problem ``(rho0/J) w_tt = div(C grad w)`` (brief §1.3), i.e. the transformation medium of
  the map with gradient F.
"""

from __future__ import annotations

import numpy as np


def as_3d(F) -> np.ndarray:
    """``F`` as ``(..., 3, 3)`` floats; a ``(..., 2, 2)`` plane gradient gets ``F33 = 1``."""
    F = np.asarray(F, dtype=float)
    if F.shape[-2:] == (3, 3):
        return F
    if F.shape[-2:] != (2, 2):
        raise ValueError(f"a deformation gradient has shape (..., 3, 3) or (..., 2, 2), got {F.shape}")
    out = np.zeros(F.shape[:-2] + (3, 3))
    out[..., :2, :2] = F
    out[..., 2, 2] = 1.0
    return out


def jacobian(F) -> np.ndarray:
    """J = det F, shape ``(...)``; raises ValueError where J <= 0 (an inverted or collapsed element)."""
    J = np.linalg.det(as_3d(F))
    if np.any(~(J > 0)):
        raise ValueError(f"det F = {np.min(J):.6g} is not positive (the deformation inverts the material)")
    return J


def left_cauchy_green(F) -> np.ndarray:
    """B = F F^T, shape ``(..., 3, 3)``."""
    F = as_3d(F)
    return F @ np.swapaxes(F, -1, -2)


def energy(F, mu: float, lam: float) -> np.ndarray:
    """Strain energy per reference volume W(F) [Pa], shape ``(...)``."""
    F = as_3d(F)
    lnJ = np.log(jacobian(F))
    I1 = np.einsum("...ij,...ij->...", F, F)
    return 0.5 * mu * (I1 - 3.0) - mu * lnJ + 0.5 * lam * lnJ**2


def piola(F, mu: float, lam: float) -> np.ndarray:
    """First Piola-Kirchhoff stress P = mu F + (lam ln J - mu) F^-T [Pa], shape ``(..., 3, 3)``."""
    F = as_3d(F)
    lnJ = np.log(jacobian(F))
    return mu * F + (lam * lnJ - mu)[..., None, None] * np.swapaxes(np.linalg.inv(F), -1, -2)


def cauchy(F, mu: float, lam: float) -> np.ndarray:
    """Cauchy stress sigma = J^-1 [mu (B - I) + lam ln J I] [Pa], shape ``(..., 3, 3)``."""
    F = as_3d(F)
    J = jacobian(F)
    iso = (lam * np.log(J))[..., None, None] * np.eye(3)
    return (mu * (left_cauchy_green(F) - np.eye(3)) + iso) / J[..., None, None]


def incremental_tensor_reference(F, mu: float, lam: float) -> np.ndarray:
    """A_iajb = dP_ia/dF_jb [Pa], shape ``(..., 3, 3, 3, 3)`` (indices i, a, j, b)."""
    F = as_3d(F)
    lnJ = np.log(jacobian(F))[..., None, None, None, None]
    Finv = np.linalg.inv(F)
    d = np.eye(3)
    return (mu * np.einsum("ij,ab->iajb", d, d)
            + (mu - lam * lnJ) * np.einsum("...aj,...bi->...iajb", Finv, Finv)
            + lam * np.einsum("...ai,...bj->...iajb", Finv, Finv))


def incremental_tensor(F, mu: float, lam: float) -> np.ndarray:
    """A0_ipjq = J^-1 [mu d_ij B_pq + (mu - lam ln J) d_pj d_qi + lam d_ip d_jq] [Pa],
    shape ``(..., 3, 3, 3, 3)`` (indices i, p, j, q): the current-configuration incremental tensor.
    The incremental traction on a current surface with normal n is ``t_i = A0_ipjq n_p u_j,q``."""
    F = as_3d(F)
    J = jacobian(F)
    lnJ = np.log(J)[..., None, None, None, None]
    d = np.eye(3)
    A0 = (mu * np.einsum("ij,...pq->...ipjq", d, left_cauchy_green(F))
          + (mu - lam * lnJ) * np.einsum("pj,qi->ipjq", d, d)
          + lam * np.einsum("ip,jq->ipjq", d, d))
    return A0 / J[..., None, None, None, None]


def sh_modulus(F, mu: float) -> np.ndarray:
    """Antiplane modulus C = mu B/J [Pa], the 2×2 in-plane block, shape ``(..., 2, 2)``.
    Exact for plane pre-deformations (F13 = F23 = F31 = F32 = 0) of any W = mu/2 (I1 - 3) + g(J)."""
    F = as_3d(F)
    return mu * left_cauchy_green(F)[..., :2, :2] / jacobian(F)[..., None, None]


def current_density(F, rho0: float) -> np.ndarray:
    """Density in the current configuration rho0/J [kg/m^3], shape ``(...)``."""
    return rho0 / jacobian(F)


def push_forward(F, mu: float, rho0: float) -> tuple[np.ndarray, np.ndarray]:
    """``(C, rho)``: the SH material ``C = mu F F^T / J`` (2×2 block, [Pa]) and ``rho = rho0/J`` [kg/m^3]
    of a homogeneous (mu, rho0) body deformed by F, shapes ``(..., 2, 2)`` and ``(...)``."""
    return sh_modulus(F, mu), current_density(F, rho0)


def is_plane(F, tol: float = 1e-12) -> bool:
    """True when every F of the stack is a plane deformation: F13 = F23 = F31 = F32 = 0."""
    F = as_3d(F)
    off = np.abs(np.stack([F[..., 0, 2], F[..., 1, 2], F[..., 2, 0], F[..., 2, 1]]))
    return bool(np.all(off <= tol * np.maximum(1.0, np.abs(F).max())))
