"""Closed-form moments of collisionless flow (kn = inf): ``f(t, x, v) = f0(x - v t, v)``.

Velocity dim 1 or 3 (for dim 3, ``b = T0 h`` is carried along, adding ``T0 rho`` to E).
All quantities are nondimensional (units "1").
"""

import math

import numpy as np
from scipy.special import erfc

__all__ = ["sine_moments", "riemann_moments"]


def _dim(dim):
    if dim not in (1, 3):
        raise ValueError(f"velocity dim must be 1 or 3, got {dim!r}")
    return dim


def sine_moments(x, t, amplitude, T0, *, x_min=0.0, length=1.0, dx=None, dim=1):
    """``rho, m, E`` (shape of ``x``) for ``f0 = (1 + A sin(2π(x - x_min)/L)) M[1, 0, T0]`` on a periodic domain.

    With ``k = 2π/L`` and ``g = exp(-k² T0 t²/2)``::

        rho = 1 + A sin(k x) g,   m = -k A T0 t g cos(k x),
        E = ½ T0 + ½ A sin(k x) (T0 - k² T0² t²) g   (+ T0 rho for dim 3).

    ``dx`` given: cell averages over ``[x - dx/2, x + dx/2]`` instead of point values.
    """
    _dim(dim)
    if not T0 > 0:
        raise ValueError(f"T0 must be positive, got {T0!r}")
    k = 2.0 * math.pi / length
    x = np.asarray(x, dtype=np.float64)
    avg = 1.0 if dx is None else math.sin(0.5 * k * dx) / (0.5 * k * dx)
    g = math.exp(-0.5 * k * k * T0 * t * t) * amplitude * avg
    s, c = np.sin(k * (x - x_min)), np.cos(k * (x - x_min))
    rho = 1.0 + s * g
    m = -k * T0 * t * g * c
    E = 0.5 * T0 + 0.5 * s * (T0 - k * k * T0 * T0 * t * t) * g
    if dim == 3:
        E = E + T0 * rho
    return rho, m, E


def riemann_moments(x, t, x0, left, right, *, dim=1):
    """``rho, m, E`` (shape of ``x``) for zero-velocity Maxwellian states ``left = (rho_L, T_L)`` for
    ``x < x0`` and ``right = (rho_R, T_R)`` on an unbounded line, at time ``t > 0``.

    With ``xi = (x - x0)/t`` and ``Q_K = ½ erfc(±xi/√(2 T_K))``::

        rho = rho_L Q_L + rho_R Q_R,   Q_L = ½ erfc(xi/√(2T_L)),  Q_R = ½ erfc(-xi/√(2T_R)),
        m = rho_L √(T_L/2π) e^{-xi²/2T_L} - rho_R √(T_R/2π) e^{-xi²/2T_R},
        E = Σ_K rho_K (½ T_K Q_K ± ½ xi √(T_K/2π) e^{-xi²/2T_K})   (+ Σ_K T_K rho_K Q_K for dim 3).
    """
    _dim(dim)
    if not t > 0:
        raise ValueError(f"t must be positive, got {t!r}")
    (rl, tl), (rr, tr) = left, right
    if min(rl, tl, rr, tr) <= 0:
        raise ValueError("densities and temperatures must be positive")
    xi = (np.asarray(x, dtype=np.float64) - x0) / t
    ql = 0.5 * erfc(xi / math.sqrt(2.0 * tl))
    qr = 0.5 * erfc(-xi / math.sqrt(2.0 * tr))
    gl = math.sqrt(tl / (2.0 * math.pi)) * np.exp(-xi * xi / (2.0 * tl))
    gr = math.sqrt(tr / (2.0 * math.pi)) * np.exp(-xi * xi / (2.0 * tr))
    rho = rl * ql + rr * qr
    m = rl * gl - rr * gr
    E = rl * (0.5 * tl * ql + 0.5 * xi * gl) + rr * (0.5 * tr * qr - 0.5 * xi * gr)
    if dim == 3:
        E = E + rl * tl * ql + rr * tr * qr
    return rho, m, E
