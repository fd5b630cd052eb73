"""Deformation modes of a half-space relative to its interface (brief §2.1).

Current configuration: the interface is ``x2 = 0`` with normal ``e2``; ``x1`` lies in the interface and
in the plane of incidence, ``x3`` is the antiplane direction. Each mode gives a 3×3 deformation gradient
F (dimensionless) of the deformed half-space ``x2 > 0``:

=====================  =========================  =====================================
mode                   orientation ``normal``     orientation ``tangent``
=====================  =========================  =====================================
constrained_uniaxial   diag(1, a, 1)              diag(a, 1, 1)
ordinary_uniaxial      diag(lt, a, lt)            diag(a, lt, lt)
  (plane_strain)       diag(lt, a, 1)             diag(a, lt, 1)
simple_shear           I + gamma e1⊗e2 (shear     I + gamma e2⊗e1 (shear planes
                       planes parallel)           perpendicular to the interface)
hydrostatic            s I (plane: diag(s, s, 1)) same
=====================  =========================  =====================================

``lt`` is the lateral stretch of ordinary uniaxial tension, from traction-free sides
(:func:`lateral_stretch`).
"""

from __future__ import annotations

import math

import numpy as np

MODES = ("constrained_uniaxial", "ordinary_uniaxial", "simple_shear", "hydrostatic")
ORIENTATIONS = ("normal", "tangent")


def lateral_stretch(a: float, mu: float, lam: float, plane_strain: bool = False) -> float:
    """Lateral stretch ``lt`` of ordinary uniaxial tension with stretch ``a`` (> 0) and traction-free sides.

    Solves ``sigma_lateral = 0`` for the compressible neo-Hookean W:
    ``mu (lt^2 - 1) + lam ln(a lt^2) = 0`` (3-D) or ``mu (lt^2 - 1) + lam ln(a lt) = 0`` (plane strain);
    ``mu``, ``lam`` in Pa (``lam = inf``: the incompressible limit ``lt = a^-1/2``, or ``1/a`` in plane
    strain). Dimensionless.
    """
    if not a > 0:
        raise ValueError(f"the stretch must be positive, got {a!r}")
    power = 1 if plane_strain else 2
    if math.isinf(lam):
        return a ** (-1.0 / power)
    if lam == 0:
        return 1.0

    # sigma(s) increases strictly in s (d sigma/ds = 2 mu s + power lam / s > 0); the root lies between 1
    # and the incompressible value a^(-1/power). Bisection to the last bit (no scipy: a worker process
    # would pay half a second to import scipy.optimize).
    lo, hi = sorted((1.0, a ** (-1.0 / power)))
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            return mid
        if mu * (mid * mid - 1.0) + lam * math.log(a * mid**power) > 0:
            hi = mid
        else:
            lo = mid


def deformation_gradient(mode: str, *, stretch: float = 1.0, shear: float = 0.0, scale: float = 1.0,
                         orientation: str = "normal", plane_strain: bool = False,
                         mu: float = 1.0, lam: float = 0.0) -> tuple[np.ndarray, float]:
    """``(F, lateral)``: the 3×3 deformation gradient of ``mode`` (one of :data:`MODES`) and the stretch
    of the directions not loaded (1 for constrained tension and simple shear, ``lt`` for ordinary tension,
    ``scale`` for hydrostatic compression).

    ``stretch`` a, ``shear`` gamma, ``scale`` s are dimensionless; ``mu``, ``lam`` (Pa) only enter the
    lateral stretch of ordinary uniaxial tension; ``plane_strain`` selects the plane variants (F33 = 1)
    of ordinary uniaxial tension and hydrostatic compression.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    along, across = (1, 0) if orientation == "normal" else (0, 1)
    F = np.eye(3)
    if mode == "constrained_uniaxial":
        F[along, along] = stretch
        return F, 1.0
    if mode == "ordinary_uniaxial":
        lt = lateral_stretch(stretch, mu, lam, plane_strain)
        F[along, along] = stretch
        F[across, across] = lt
        if not plane_strain:
            F[2, 2] = lt
        return F, lt
    if mode == "simple_shear":
        F[across, along] = shear      # normal: F12 = gamma (x1 += gamma x2); tangent: F21 = gamma
        return F, 1.0
    if mode == "hydrostatic":
        F[0, 0] = F[1, 1] = scale
        if not plane_strain:
            F[2, 2] = scale
        return F, scale
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def rank_one(d, n=(0.0, 1.0)) -> np.ndarray:
    """``F = I + d ⊗ n`` (3×3, with d, n in-plane 2-vectors): the deformations rank-one connected to the
    undeformed material across an interface of normal n (constrained tension along n plus shear parallel
    to the interface)."""
    F = np.eye(3)
    F[:2, :2] += np.outer(np.asarray(d, dtype=float), np.asarray(n, dtype=float))
    return F
