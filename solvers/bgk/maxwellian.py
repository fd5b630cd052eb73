"""Velocity grids, Maxwellians and velocity moments of discrete distributions.

Layout. A distribution on the phase-space grid is an array of shape
``(n_comp, n_x, n_v)`` (one run) or ``(..., n_comp, n_x, n_v)`` (batches),
float64. ``n_comp = 1`` for ``velocity dim 1`` (the distribution ``f(x, v)``
itself, gamma = 3) and ``n_comp = 2`` for ``velocity dim 3`` (the reduced
distributions in the x-velocity ``v``, gamma = 5/3)::

    h(x, v) = ∫ f(x, v, w) dw,      b(x, v) = ∫ ½|w|² f(x, v, w) dw,   w ∈ R².

Moments (midpoint rule with weight ``dv``)::

    rho = ∫ h dv,   m = ∫ v h dv,   E = ∫ (½ v² h + b) dv   (b = 0 for dim 1),
    E = ½ rho u² + (dim/2) rho T,   p = rho T,
    q = ∫ c (½ c² h + b) dv,  c = v - u   (x-heat flux, = ½∫(v-u)³ f for dim 1).

The Maxwellian ``M[rho, u, T]`` has ``h = rho (2πT)^(-1/2) exp(-(v-u)²/(2T))``
and ``b = T h``. Everything is nondimensional (units "1"): density by rho0,
velocity by sqrt(R T0), temperature by T0, length by L, time by L/sqrt(R T0).
"""

import numpy as np

__all__ = [
    "VELOCITY_DIMS",
    "gamma",
    "n_components",
    "velocity_grid",
    "maxwellian",
    "moments",
    "primitives",
    "conserved",
    "heat_flux",
    "entropy",
    "central_moment",
]

VELOCITY_DIMS = (1, 3)


def _check_dim(dim):
    if dim not in VELOCITY_DIMS:
        raise ValueError(f"velocity dim must be 1 or 3, got {dim!r}")
    return int(dim)


def gamma(dim):
    """Ratio of specific heats of the Euler limit: (dim + 2) / dim (3 for dim 1, 5/3 for dim 3)."""
    dim = _check_dim(dim)
    return (dim + 2.0) / dim


def n_components(dim):
    """Number of stored distributions per phase-space point: 1 (f) for dim 1, 2 (h, b) for dim 3."""
    return 1 if _check_dim(dim) == 1 else 2


def velocity_grid(v_max, n_v):
    """Midpoints ``v`` (shape ``(n_v,)``) of ``n_v`` equal cells on ``[-v_max, v_max]`` and their width ``dv``."""
    if not np.isfinite(v_max) or v_max <= 0:
        raise ValueError(f"v_max must be a positive finite number, got {v_max!r}")
    if int(n_v) != n_v or n_v < 2:
        raise ValueError(f"n_v must be an integer >= 2, got {n_v!r}")
    n_v = int(n_v)
    dv = 2.0 * v_max / n_v
    v = -v_max + dv * (np.arange(n_v) + 0.5)
    return v, dv


def maxwellian(rho, u, T, v, dim=1):
    """Discrete Maxwellian, shape ``(n_comp, n_x, n_v)``, from profiles ``rho, u, T`` of shape ``(n_x,)``.

    Scalars count as ``n_x = 1``. ``T`` and ``rho`` must be positive.
    """
    dim = _check_dim(dim)
    rho, u, T = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (rho, u, T))
    rho, u, T = np.broadcast_arrays(rho, u, T)
    if rho.ndim != 1:
        raise ValueError(f"rho, u, T must be scalars or 1-D profiles over x, got shape {rho.shape}")
    if np.any(~(rho > 0)) or np.any(~(T > 0)):
        raise ValueError("maxwellian needs rho > 0 and T > 0 everywhere")
    v = np.asarray(v, dtype=np.float64)
    c = v[None, :] - u[:, None]
    h = rho[:, None] / np.sqrt(2.0 * np.pi * T[:, None]) * np.exp(-c * c / (2.0 * T[:, None]))
    if dim == 1:
        return h[None]
    return np.stack([h, T[:, None] * h])


def _split(f, v, dim):
    dim = _check_dim(dim)
    f = np.asarray(f, dtype=np.float64)
    nc = n_components(dim)
    if f.ndim < 3 or f.shape[-3] != nc or f.shape[-1] != len(v):
        raise ValueError(
            f"distribution must have shape (..., {nc}, n_x, {len(v)}) for velocity dim {dim}, got {f.shape}")
    h = f[..., 0, :, :]
    b = f[..., 1, :, :] if dim == 3 else None
    return h, b


def moments(f, v, dv, dim=1):
    """Conserved moments ``rho, m, E`` of ``f`` (shape ``(..., n_comp, n_x, n_v)``), each of shape ``(..., n_x)``."""
    h, b = _split(f, v, dim)
    rho = h.sum(axis=-1) * dv
    m = (h * v).sum(axis=-1) * dv
    E = (h * (0.5 * v * v)).sum(axis=-1) * dv
    if b is not None:
        E = E + b.sum(axis=-1) * dv
    return rho, m, E


def primitives(rho, m, E, dim=1):
    """Velocity, temperature and pressure ``u, T, p`` from conserved ``rho, m, E`` (same shapes)."""
    dim = _check_dim(dim)
    rho = np.asarray(rho, dtype=np.float64)
    u = m / rho
    T = (2.0 * E - m * u) / (dim * rho)
    return u, T, rho * T


def conserved(rho, u, T, dim=1):
    """Conserved ``rho, m, E`` from primitives ``rho, u, T`` (same shapes)."""
    dim = _check_dim(dim)
    rho = np.asarray(rho, dtype=np.float64)
    return rho, rho * u, 0.5 * rho * u * u + 0.5 * dim * rho * T


def heat_flux(f, v, dv, dim=1):
    """x-heat flux ``q = ∫ c (½c² h + b) dv`` with ``c = v - u`` (= ½∫(v-u)³ f for dim 1), shape ``(..., n_x)``."""
    h, b = _split(f, v, dim)
    rho, m, _ = moments(f, v, dv, dim)
    c = v - (m / rho)[..., None]
    w = 0.5 * c * c * h
    if b is not None:
        w = w + b
    return (c * w).sum(axis=-1) * dv


def central_moment(f, v, dv, k, dim=1):
    """k-th central moment ``∫ (v-u)^k h dv`` in the x-velocity, shape ``(..., n_x)``."""
    h, _ = _split(f, v, dim)
    rho, m, _ = moments(f, v, dv, dim)
    c = v - (m / rho)[..., None]
    return (c**k * h).sum(axis=-1) * dv


def entropy(f, v, dv, dx, dim=1):
    """Total entropy ``H = ∫∫ f ln f dv dx``, shape ``f.shape[:-3]``.

    For dim 3 this is the entropy of the maximal-entropy 3-D distribution with the
    given reduced (h, b): ``∫∫ h (ln h - ln(2π b/h) - 1) dv dx``, which equals the
    3-D ``∫ f ln f`` at a Maxwellian and obeys the H-theorem of the reduced BGK model.
    Points with ``h <= 0`` (or ``b <= 0``) contribute zero.
    """
    h, b = _split(f, v, dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        if b is None:
            dens = np.where(h > 0, h * np.log(np.where(h > 0, h, 1.0)), 0.0)
        else:
            ok = (h > 0) & (b > 0)
            hh = np.where(ok, h, 1.0)
            bb = np.where(ok, b, 1.0)
            dens = np.where(ok, h * (2.0 * np.log(hh) - np.log(2.0 * np.pi * bb) - 1.0), 0.0)
    return dens.sum(axis=(-2, -1)) * dv * dx
