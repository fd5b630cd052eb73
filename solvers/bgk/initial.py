"""Initial distributions on a :class:`~.solver.PhaseGrid`, each of shape ``(n_comp, n_x, n_v)``.

Deterministic: :func:`riemann` (and :func:`sod`), :func:`wave`, :func:`free_stream_sine`,
:func:`two_maxwellian`. Random (brief §1.5, drawn from a ``numpy.random.Generator``):
:func:`random_wave`, :func:`random_mix`. :func:`check_state` validates primitive profiles
against the velocity grid. All quantities are nondimensional (units "1").
"""

import math

import numpy as np

from . import maxwellian as mx

__all__ = ["check_state", "local_maxwellian", "riemann", "sod", "wave", "free_stream_sine", "two_maxwellian",
           "random_wave", "random_mix"]


def check_state(rho, u, T, grid, tails=7.0):
    """Raise ValueError naming the first offending cell if the profiles (shape ``(n_x,)``) are not
    positive or the velocity grid cannot hold them (``|u| + tails √T > v_max`` or ``dv > √T``)."""
    x = grid.x
    for name, a in (("rho", rho), ("T", T)):
        bad = np.flatnonzero(~(np.asarray(a) > 0))
        if bad.size:
            i = bad[0]
            raise ValueError(f"non-positive {name} = {a[i]!r} in cell {i} (x = {x[i]:.6g})")
    reach = np.abs(u) + tails * np.sqrt(T)
    bad = np.flatnonzero(reach > grid.v_max)
    if bad.size:
        i = bad[0]
        raise ValueError(f"cell {i} (x = {x[i]:.6g}): |u| + {tails:g} sqrt(T) = {reach[i]:.6g} exceeds "
                         f"v_max = {grid.v_max:.6g}; enlarge velocity.v_max")
    bad = np.flatnonzero(grid.dv > np.sqrt(T))
    if bad.size:
        i = bad[0]
        raise ValueError(f"cell {i} (x = {x[i]:.6g}): dv = {grid.dv:.6g} exceeds sqrt(T) = {math.sqrt(T[i]):.6g}; "
                         f"increase velocity.n_v")


def _profiles(rho, u, T, grid):
    n = grid.n_x
    rho, u, T = (np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)).copy() for a in (rho, u, T))
    check_state(rho, u, T, grid)
    return rho, u, T


def local_maxwellian(rho, u, T, grid):
    """``M[rho, u, T]`` for profiles (scalars or shape ``(n_x,)``), validated by :func:`check_state`."""
    rho, u, T = _profiles(rho, u, T, grid)
    return mx.maxwellian(rho, u, T, grid.v, grid.dim)


def riemann(grid, left, right, x0=None):
    """Local Maxwellian of Riemann data: ``left = (rho, u, p)`` at cell centers ``x < x0``, ``right`` elsewhere.

    ``x0`` defaults to the middle of the domain.
    """
    x0 = 0.5 * (grid.x_min + grid.x_max) if x0 is None else float(x0)
    prim = []
    for state, side in ((left, "left"), (right, "right")):
        if len(state) != 3:
            raise ValueError(f"{side} state must be (rho, u, p), got {state!r}")
        r, u, p = (float(s) for s in state)
        if not (r > 0 and p > 0):
            raise ValueError(f"{side} state needs rho > 0 and p > 0, got (rho, u, p) = {state!r}")
        prim.append((r, u, p / r))
    is_left = grid.x < x0
    rho, u, T = (np.where(is_left, a, b) for a, b in zip(*prim))
    return local_maxwellian(rho, u, T, grid)


def sod(grid, x0=None):
    """Sod's shock tube: ``(rho, u, p) = (1, 0, 1)`` left of ``x0`` and ``(0.125, 0, 0.1)`` right."""
    return riemann(grid, (1.0, 0.0, 1.0), (0.125, 0.0, 0.1), x0)


def _modes(xs, modes, base):
    out = np.full_like(xs, float(base))
    for mode in modes:
        if len(mode) != 3:
            raise ValueError(f"a mode is (wavenumber k, amplitude, phase), got {mode!r}")
        k, a, ph = mode
        out += a * np.sin(2.0 * math.pi * k * xs + ph)
    return out


def wave(grid, rho=(), u=(), T=(), rho0=1.0, u0=0.0, T0=1.0):
    """Local Maxwellian of Fourier profiles ``q(x) = q0 + Σ a sin(2π k s + phase)``, ``s = (x - x_min)/L``.

    ``rho, u, T`` are sequences of modes ``(k, a, phase)``.
    """
    s = (grid.x - grid.x_min) / (grid.x_max - grid.x_min)
    return local_maxwellian(_modes(s, rho, rho0), _modes(s, u, u0), _modes(s, T, T0), grid)


def free_stream_sine(grid, amplitude=0.2, T0=1.0, average=True):
    """``(1 + A sin(2π s)) M[1, 0, T0](v)``, ``s = (x - x_min)/L``, as cell averages in x (``average``) or point values."""
    if not abs(amplitude) < 1:
        raise ValueError(f"|amplitude| must be < 1 for a positive density, got {amplitude!r}")
    L = grid.x_max - grid.x_min
    k = 2.0 * math.pi / L
    factor = math.sin(0.5 * k * grid.dx) / (0.5 * k * grid.dx) if average else 1.0
    rho = 1.0 + amplitude * factor * np.sin(k * (grid.x - grid.x_min))
    return local_maxwellian(rho, 0.0, T0, grid)


def two_maxwellian(grid, rho, u, T, theta, r):
    """``(1-θ) M[rho,u,T] + θ ½(M[rho,u-δ,rT] + M[rho,u+δ,rT])`` with ``δ² = dim T (1-r)``: same rho, m, E.

    ``theta`` in [0, 1], ``r`` in (0, 1]; profiles scalars or ``(n_x,)``. The split Maxwellians
    are checked against the grid too.
    """
    rho, u, T = _profiles(rho, u, T, grid)
    theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), rho.shape)
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), rho.shape)
    if np.any((theta < 0) | (theta > 1)) or np.any((r <= 0) | (r > 1)):
        raise ValueError("two_maxwellian needs 0 <= theta <= 1 and 0 < r <= 1")
    delta = np.sqrt(grid.dim * T * (1.0 - r))
    for sgn in (-1.0, 1.0):
        check_state(rho, u + sgn * delta, r * T, grid)
    v, d = grid.v, grid.dim
    f = (1.0 - theta)[None, :, None] * mx.maxwellian(rho, u, T, v, d)
    f += (0.5 * theta)[None, :, None] * (mx.maxwellian(rho, u - delta, r * T, v, d)
                                         + mx.maxwellian(rho, u + delta, r * T, v, d))
    return f


def _random_profile(rng, s, n_modes, amp, base, floor):
    a = rng.uniform(-amp, amp, n_modes)
    ph = rng.uniform(0.0, 2.0 * math.pi, n_modes)
    k = np.arange(1, n_modes + 1)
    return base + (a[:, None] * np.sin(2.0 * math.pi * k[:, None] * s[None, :] + ph[:, None])).sum(axis=0)


def _floor(q, base, floor):
    lo = q.min()
    if lo < floor:
        q = base + (q - base) * (base - floor) / (base - lo)
    return q


def _random_fields(rng, grid, n_modes, amp_rho, amp_u, amp_T, floor):
    s = (grid.x - grid.x_min) / (grid.x_max - grid.x_min)
    rho = _random_profile(rng, s, n_modes, amp_rho, 1.0, floor)
    u = _random_profile(rng, s, n_modes, amp_u, 0.0, None)
    T = _random_profile(rng, s, n_modes, amp_T, 1.0, floor)
    return s, rho, u, T


def _noneq(rng, grid, rho, u, T, noneq, ratio):
    theta = rng.uniform(*noneq)
    r = rng.uniform(*ratio)
    return two_maxwellian(grid, rho, u, T, theta, r)


def random_wave(rng, grid, n_modes=3, amp_rho=0.2, amp_u=0.3, amp_T=0.2, floor=0.3, noneq=(0.0, 1.0),
                ratio=(0.3, 1.0)):
    """Brief §1.5 "wave": rho, u, T random sums of ``n_modes`` sines (amplitudes U[-amp, amp], phases
    U[0, 2π)), rho and T rescaled about 1 so their minimum is >= ``floor``; f0 = two_maxwellian with
    θ ~ U[noneq], r ~ U[ratio]."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    _, rho, u, T = _random_fields(rng, grid, n_modes, amp_rho, amp_u, amp_T, floor)
    rho, T = _floor(rho, 1.0, floor), _floor(T, 1.0, floor)
    return _noneq(rng, grid, rho, u, T, noneq, ratio)


def random_mix(rng, grid, n_modes=3, amp_rho=0.2, amp_u=0.3, amp_T=0.2, floor=0.3, noneq=(0.0, 1.0),
               ratio=(0.3, 1.0), n_jumps=(1, 2)):
    """Brief §1.5 "mix": the "wave" profiles plus piecewise-constant offsets between 1 or 2 random
    jump positions (periodic: the segments are the arcs between the jumps), each offset drawn in
    ``[-amp, amp]`` per field; then the floor rescaling and the θ, r admixture. The default
    amplitudes need ``v_max`` of about 12 (:func:`check_state` raises otherwise)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    s, rho, u, T = _random_fields(rng, grid, n_modes, amp_rho, amp_u, amp_T, floor)
    nj = int(rng.integers(n_jumps[0], n_jumps[1] + 1))
    cuts = np.sort(rng.uniform(0.0, 1.0, nj))
    seg = np.searchsorted(cuts, s) % nj  # the arc after the last cut wraps to the first segment
    for q, amp in ((rho, amp_rho), (u, amp_u), (T, amp_T)):
        q += rng.uniform(-amp, amp, nj)[seg]
    rho, T = _floor(rho, 1.0, floor), _floor(T, 1.0, floor)
    return _noneq(rng, grid, rho, u, T, noneq, ratio)
