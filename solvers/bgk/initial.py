"""Initial states on a :class:`~.grid.PhaseGrid`: primitive profiles, and distributions of shape ``(n_comp, n_x, n_v)``.

Every initial state is first a :class:`Profiles`: density, velocity and temperature per cell and, for a
two-Maxwellian, the weight and temperature ratio of its split pair. :func:`check_state` checks the
profiles against the grid and raises the typed errors of :mod:`.errors`; :func:`distribution` turns
checked profiles into f. Profiles: :func:`riemann_profiles` (and :func:`sod_profiles`),
:func:`wave_profiles`, :func:`free_stream_sine_profiles`, :func:`two_maxwellian_profiles`, and the random
families of brief §1.5 drawn from a ``numpy.random.Generator``, :func:`random_wave_profiles` and
:func:`random_mix_profiles`. Each has a distribution of the same name without ``_profiles``
(:func:`riemann`, :func:`sod`, :func:`wave`, ...), and :func:`local_maxwellian` takes profiles as given.
Numpy only; all quantities are nondimensional (units "1").
"""

import math
from dataclasses import dataclass

import numpy as np

from . import maxwellian as mx
from .errors import TOO_COARSE, TOO_NARROW, NonPositiveState, VelocityGridError

__all__ = ["TAILS", "SOD", "Profiles", "check_state", "distribution", "on_cells", "jump_position",
           "riemann_profiles", "sod_profiles", "wave_profiles", "free_stream_sine_profiles",
           "two_maxwellian_profiles", "random_wave_profiles", "random_mix_profiles",
           "local_maxwellian", "riemann", "sod", "wave", "free_stream_sine", "two_maxwellian",
           "random_wave", "random_mix"]

TAILS = 7.0  # the velocity grid must reach |u| + TAILS sqrt(T) in every cell
SOD = ((1.0, 0.0, 1.0), (0.125, 0.0, 0.1))  # Sod's left and right states (rho, u, p)


@dataclass(frozen=True)
class Profiles:
    """Primitive profiles of an initial state, each of shape ``(n_x,)``, float64.

    ``rho, u, T``: density, velocity and temperature (the moments of f). ``theta, r``: the weight and the
    temperature ratio of the split pair of a two-Maxwellian (None: f is the local Maxwellian).
    """

    rho: np.ndarray
    u: np.ndarray
    T: np.ndarray
    theta: np.ndarray | None = None
    r: np.ndarray | None = None

    def split_velocity(self, dim):
        """Half separation ``delta = sqrt(dim T (1 - r))`` of the split pair, shape ``(n_x,)`` (needs T >= 0)."""
        return np.sqrt(dim * self.T * (1.0 - self.r))

    def states(self, dim):
        """``(u, T)`` of every Maxwellian in f: the local one and, for a two-Maxwellian, the split pair
        ``(u - delta, r T)`` and ``(u + delta, r T)``; each entry of shape ``(n_x,)``."""
        if self.theta is None:
            return [(self.u, self.T)]
        delta = self.split_velocity(dim)
        return [(self.u, self.T), (self.u - delta, self.r * self.T), (self.u + delta, self.r * self.T)]


def check_state(profiles, grid, tails=TAILS):
    """Check :class:`Profiles` against ``grid``; raise for the first offending cell.

    :class:`~.errors.NonPositiveState` if rho or T is not positive; :class:`~.errors.VelocityGridError`
    ``TOO_NARROW`` if ``|u| + tails sqrt(T) > v_max`` or ``TOO_COARSE`` if ``dv > sqrt(T)`` for any of the
    Maxwellians of f (:meth:`Profiles.states`).
    """
    x = grid.x
    for name, a in (("rho", profiles.rho), ("T", profiles.T)):
        bad = np.flatnonzero(~(a > 0))
        if bad.size:
            i = int(bad[0])
            raise NonPositiveState(name, float(a[i]), cell=i, x=float(x[i]))
    states = profiles.states(grid.dim)
    reach = np.max([np.abs(u) + tails * np.sqrt(T) for u, T in states], axis=0)
    bad = np.flatnonzero(reach > grid.v_max)
    if bad.size:
        i = int(bad[0])
        raise VelocityGridError(TOO_NARROW, f"|u| + {tails:g} sqrt(T)", i, float(x[i]), float(reach[i]),
                                grid.v_max, float(reach.max()))
    t_min = np.min([T for _, T in states], axis=0)
    bad = np.flatnonzero(grid.dv > np.sqrt(t_min))
    if bad.size:
        i = int(bad[0])
        raise VelocityGridError(TOO_COARSE, "dv", i, float(x[i]), grid.dv, math.sqrt(t_min[i]),
                                math.sqrt(t_min.min()))


def distribution(profiles, grid):
    """f of shape ``(n_comp, n_x, n_v)`` for :class:`Profiles`, checked by :func:`check_state` first:
    ``M[rho, u, T]``, or ``(1-θ) M[rho,u,T] + θ ½(M[rho,u-δ,rT] + M[rho,u+δ,rT])`` for a two-Maxwellian."""
    check_state(profiles, grid)
    p, v, d = profiles, grid.v, grid.dim
    if p.theta is None:
        return mx.maxwellian(p.rho, p.u, p.T, v, d)
    delta = p.split_velocity(d)
    f = (1.0 - p.theta)[None, :, None] * mx.maxwellian(p.rho, p.u, p.T, v, d)
    f += (0.5 * p.theta)[None, :, None] * (mx.maxwellian(p.rho, p.u - delta, p.r * p.T, v, d)
                                           + mx.maxwellian(p.rho, p.u + delta, p.r * p.T, v, d))
    return f


def on_cells(rho, u, T, grid):
    """:class:`Profiles` of a local Maxwellian from scalars or arrays of shape ``(n_x,)`` (copied, float64)."""
    n = grid.n_x
    rho, u, T = (np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)).copy() for a in (rho, u, T))
    return Profiles(rho, u, T)


def jump_position(grid, x0=None):
    """Position of the jump of Riemann data: ``x0``, by default the middle of the domain."""
    return 0.5 * (grid.x_min + grid.x_max) if x0 is None else float(x0)


def riemann_profiles(grid, left, right, x0=None):
    """Riemann data: ``left = (rho, u, p)`` at cell centers ``x <`` :func:`jump_position`, ``right`` elsewhere.

    Raises :class:`~.errors.NonPositiveState` (with ``side``) for a state with rho <= 0 or p <= 0.
    """
    x0 = jump_position(grid, x0)
    prim = []
    for state, side in ((left, "left"), (right, "right")):
        if len(state) != 3:
            raise ValueError(f"{side} state must be (rho, u, p), got {state!r}")
        r, u, p = (float(s) for s in state)
        for name, value in (("rho", r), ("p", p)):
            if not value > 0:
                raise NonPositiveState(name, value, side=side)
        prim.append((r, u, p / r))
    is_left = grid.x < x0
    rho, u, T = (np.where(is_left, a, b) for a, b in zip(*prim))
    return on_cells(rho, u, T, grid)


def sod_profiles(grid, x0=None):
    """Sod's shock tube: ``(rho, u, p) = (1, 0, 1)`` left of ``x0`` and ``(0.125, 0, 0.1)`` right."""
    return riemann_profiles(grid, *SOD, x0)


def _modes(xs, modes, base):
    out = np.full_like(xs, float(base))
    for mode in modes:
        if len(mode) != 3:
            raise ValueError(f"a mode is (wavenumber k, amplitude, phase), got {mode!r}")
        k, a, ph = mode
        out += a * np.sin(2.0 * math.pi * k * xs + ph)
    return out


def wave_profiles(grid, rho=(), u=(), T=(), rho0=1.0, u0=0.0, T0=1.0):
    """Fourier profiles ``q(x) = q0 + Σ a sin(2π k s + phase)``, ``s = (x - x_min)/L``.

    ``rho, u, T`` are sequences of modes ``(k, a, phase)``.
    """
    s = (grid.x - grid.x_min) / (grid.x_max - grid.x_min)
    return on_cells(_modes(s, rho, rho0), _modes(s, u, u0), _modes(s, T, T0), grid)


def free_stream_sine_profiles(grid, amplitude=0.2, T0=1.0, average=True):
    """rho = ``1 + A sin(2π s)``, ``s = (x - x_min)/L``, as cell averages in x (``average``) or point values;
    u = 0, T = T0."""
    if not abs(amplitude) < 1:
        raise ValueError(f"|amplitude| must be < 1 for a positive density, got {amplitude!r}")
    L = grid.x_max - grid.x_min
    k = 2.0 * math.pi / L
    factor = math.sin(0.5 * k * grid.dx) / (0.5 * k * grid.dx) if average else 1.0
    rho = 1.0 + amplitude * factor * np.sin(k * (grid.x - grid.x_min))
    return on_cells(rho, 0.0, T0, grid)


def two_maxwellian_profiles(grid, rho, u, T, theta, r):
    """A two-Maxwellian of the profiles (scalars or ``(n_x,)``): weight ``theta`` in [0, 1] on the split pair
    ``M[rho, u ∓ δ, r T]``, ``δ² = dim T (1-r)``, ``r`` in (0, 1]; f has the same rho, m, E as ``M[rho, u, T]``."""
    local = on_cells(rho, u, T, grid)
    theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), local.rho.shape)
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), local.rho.shape)
    if np.any((theta < 0) | (theta > 1)) or np.any((r <= 0) | (r > 1)):
        raise ValueError("two_maxwellian needs 0 <= theta <= 1 and 0 < r <= 1")
    return Profiles(local.rho, local.u, local.T, theta, r)


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
    return two_maxwellian_profiles(grid, rho, u, T, theta, r)


def random_wave_profiles(rng, grid, n_modes=3, amp_rho=0.2, amp_u=0.3, amp_T=0.2, floor=0.3,
                         noneq=(0.0, 1.0), ratio=(0.3, 1.0)):
    """Brief §1.5 "wave": rho, u, T random sums of ``n_modes`` sines (amplitudes U[-amp, amp], phases
    U[0, 2π)), rho and T rescaled about 1 so their minimum is >= ``floor``; a two-Maxwellian with
    θ ~ U[noneq], r ~ U[ratio] (:func:`two_maxwellian_profiles`)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    _, rho, u, T = _random_fields(rng, grid, n_modes, amp_rho, amp_u, amp_T, floor)
    rho, T = _floor(rho, 1.0, floor), _floor(T, 1.0, floor)
    return _noneq(rng, grid, rho, u, T, noneq, ratio)


def random_mix_profiles(rng, grid, n_modes=3, amp_rho=0.2, amp_u=0.3, amp_T=0.2, floor=0.3,
                        noneq=(0.0, 1.0), ratio=(0.3, 1.0), n_jumps=(1, 2)):
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


def local_maxwellian(rho, u, T, grid):
    """``M[rho, u, T]`` for profiles (scalars or shape ``(n_x,)``), validated by :func:`check_state`."""
    return distribution(on_cells(rho, u, T, grid), grid)


def riemann(grid, left, right, x0=None):
    """Local Maxwellian of :func:`riemann_profiles`."""
    return distribution(riemann_profiles(grid, left, right, x0), grid)


def sod(grid, x0=None):
    """Local Maxwellian of :func:`sod_profiles`."""
    return distribution(sod_profiles(grid, x0), grid)


def wave(grid, rho=(), u=(), T=(), rho0=1.0, u0=0.0, T0=1.0):
    """Local Maxwellian of :func:`wave_profiles`."""
    return distribution(wave_profiles(grid, rho, u, T, rho0, u0, T0), grid)


def free_stream_sine(grid, amplitude=0.2, T0=1.0, average=True):
    """``(1 + A sin(2π s)) M[1, 0, T0](v)`` of :func:`free_stream_sine_profiles`."""
    return distribution(free_stream_sine_profiles(grid, amplitude, T0, average), grid)


def two_maxwellian(grid, rho, u, T, theta, r):
    """``(1-θ) M[rho,u,T] + θ ½(M[rho,u-δ,rT] + M[rho,u+δ,rT])`` of :func:`two_maxwellian_profiles`; the split
    Maxwellians are checked against the grid too."""
    return distribution(two_maxwellian_profiles(grid, rho, u, T, theta, r), grid)


def random_wave(rng, grid, **kwargs):
    """Two-Maxwellian of :func:`random_wave_profiles` (same arguments)."""
    return distribution(random_wave_profiles(rng, grid, **kwargs), grid)


def random_mix(rng, grid, **kwargs):
    """Two-Maxwellian of :func:`random_mix_profiles` (same arguments)."""
    return distribution(random_mix_profiles(rng, grid, **kwargs), grid)
