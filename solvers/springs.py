"""Spring–mass networks in 2-D integrated by velocity Verlet, with exact energy bookkeeping (numba).

Node ``i`` has position ``x_i`` (length), velocity ``v_i`` (length/time) and mass ``m_i`` (mass).
Spring ``e = (i, j)`` (each spring listed once, ``i < j``) has rest length ``L_e`` (length, taken from
the initial geometry by :func:`rest_lengths`) and constant ``k_e`` (force/length). With
``d = x_j - x_i`` the spring pulls ``i`` by ``F = k_e (|d| - L_e) d / |d|`` and ``j`` by ``-F``;
the energy is

    E = K + U,   K = sum_i m_i |v_i|^2 / 2,   U = sum_e k_e (|d_e| - L_e)^2 / 2,

conserved by the dynamics and by Verlet up to a bounded O(dt^2) oscillation. Units are any consistent
set (positions in units of the mean node spacing in the graphs built here); every array is float64.

Velocity Verlet, a_n = F(x_n) / m:

    x_{n+1} = x_n + dt v_n + dt^2 a_n / 2,   v_{n+1} = v_n + dt (a_n + a_{n+1}) / 2.

Shapes: positions and velocities ``(n, 2)``, edges ``(2, E)`` int64, per-spring arrays ``(E,)``,
per-node arrays ``(n,)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from solvers.spring_graphs import lattice_graph, radius_graph  # noqa: F401  (part of this module's API)

__all__ = ["Trajectory", "radius_graph", "lattice_graph", "rest_lengths", "accelerations", "energies",
           "simulate", "random_states", "state_samples", "warmup"]


class Trajectory(NamedTuple):
    """States saved every ``save_every`` steps, the initial state first: ``positions`` and ``velocities``
    ``(n_saved, n, 2)``, ``kinetic`` and ``potential`` energy ``(n_saved,)``; ``energy`` is their sum."""

    positions: np.ndarray
    velocities: np.ndarray
    kinetic: np.ndarray
    potential: np.ndarray

    @property
    def energy(self) -> np.ndarray:
        """Total energy K + U, ``(n_saved,)``."""
        return self.kinetic + self.potential


# ---------------------------------------------------------------------------
# numba kernels (float64 / int64, C-contiguous)
# ---------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _accelerations(x, edges, rest, k, inv_mass, out):
    """Fill ``out`` (n, 2) with the spring accelerations at positions ``x`` (n, 2)."""
    out[:] = 0.0
    for e in range(edges.shape[1]):
        i, j = edges[0, e], edges[1, e]
        dx, dy = x[j, 0] - x[i, 0], x[j, 1] - x[i, 1]
        length = np.sqrt(dx * dx + dy * dy)
        scale = k[e] * (length - rest[e]) / length
        out[i, 0] += scale * dx * inv_mass[i]
        out[i, 1] += scale * dy * inv_mass[i]
        out[j, 0] -= scale * dx * inv_mass[j]
        out[j, 1] -= scale * dy * inv_mass[j]


@njit(cache=True, nogil=True)
def _potential(x, edges, rest, k):
    """U = sum_e k_e (|d_e| - L_e)^2 / 2."""
    total = 0.0
    for e in range(edges.shape[1]):
        i, j = edges[0, e], edges[1, e]
        dx, dy = x[j, 0] - x[i, 0], x[j, 1] - x[i, 1]
        stretch = np.sqrt(dx * dx + dy * dy) - rest[e]
        total += 0.5 * k[e] * stretch * stretch
    return total


@njit(cache=True, nogil=True)
def _kinetic(v, mass):
    """K = sum_i m_i |v_i|^2 / 2."""
    total = 0.0
    for i in range(v.shape[0]):
        total += 0.5 * mass[i] * (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1])
    return total


@njit(cache=True, nogil=True)
def _verlet(x, v, edges, rest, k, mass, dt, steps, save_every, xs, vs, kinetic, potential):
    """Advance (x, v) in place by ``steps`` Verlet steps, saving every ``save_every`` steps into
    ``xs``, ``vs`` (n_saved, n, 2), ``kinetic``, ``potential`` (n_saved,); slot 0 is the initial state."""
    inv_mass = 1.0 / mass
    a = np.empty_like(x)
    a_new = np.empty_like(x)
    _accelerations(x, edges, rest, k, inv_mass, a)
    xs[0], vs[0] = x, v
    kinetic[0], potential[0] = _kinetic(v, mass), _potential(x, edges, rest, k)
    for s in range(1, steps + 1):
        for i in range(x.shape[0]):
            for c in range(2):
                x[i, c] += dt * v[i, c] + 0.5 * dt * dt * a[i, c]
        _accelerations(x, edges, rest, k, inv_mass, a_new)
        for i in range(x.shape[0]):
            for c in range(2):
                v[i, c] += 0.5 * dt * (a[i, c] + a_new[i, c])
                a[i, c] = a_new[i, c]
        if s % save_every == 0:
            slot = s // save_every
            xs[slot], vs[slot] = x, v
            kinetic[slot], potential[slot] = _kinetic(v, mass), _potential(x, edges, rest, k)


# ---------------------------------------------------------------------------
# physics
# ---------------------------------------------------------------------------


def _per_item(value, count: int, name: str) -> np.ndarray:
    """``value`` (a scalar or an array of length ``count``) as a float64 array ``(count,)``, all > 0."""
    array = np.broadcast_to(np.asarray(value, dtype=np.float64), (count,)).copy()
    if not np.all(array > 0):
        raise ValueError(f"{name} must be > 0 everywhere, got minimum {array.min()}")
    return array


def _state(x, edges) -> tuple[np.ndarray, np.ndarray]:
    """Positions as float64 (n, 2) and edges as int64 (2, E), both checked and C-contiguous."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    edges = np.ascontiguousarray(edges, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"positions must have shape (n, 2), got {x.shape}")
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise ValueError(f"edges must have shape (2, E), got {edges.shape}")
    if edges.size and (edges.min() < 0 or edges.max() >= len(x) or np.any(edges[0] == edges[1])):
        raise ValueError(f"edges must join two different nodes among 0..{len(x) - 1}")
    return x, edges


def rest_lengths(x, edges) -> np.ndarray:
    """Spring lengths ``|x_j - x_i|`` ``(E,)`` of the configuration ``x`` (n, 2): the rest lengths
    when ``x`` is the rest geometry."""
    x, edges = _state(x, edges)
    return np.linalg.norm(x[edges[1]] - x[edges[0]], axis=1)


def accelerations(x, edges, rest, k, m) -> np.ndarray:
    """Accelerations ``(n, 2)`` (length/time^2) at positions ``x`` (n, 2): the spring forces over the
    masses. ``rest`` (E,) lengths, ``k`` spring constants and ``m`` masses: scalars or arrays (E,), (n,)."""
    x, edges = _state(x, edges)
    out = np.empty_like(x)
    _accelerations(x, edges, _per_item(rest, edges.shape[1], "rest"), _per_item(k, edges.shape[1], "k"),
                   1.0 / _per_item(m, len(x), "m"), out)
    return out


def energies(x, v, edges, rest, k, m) -> tuple[float, float]:
    """Kinetic and spring potential energy ``(K, U)`` of one state (x, v (n, 2))."""
    x, edges = _state(x, edges)
    v = np.ascontiguousarray(v, dtype=np.float64)
    return (float(_kinetic(v, _per_item(m, len(x), "m"))),
            float(_potential(x, edges, _per_item(rest, edges.shape[1], "rest"),
                             _per_item(k, edges.shape[1], "k"))))


def simulate(x0, v0, edges, rest, k, m, dt: float, steps: int, save_every: int = 1) -> Trajectory:
    """Integrate from (x0, v0) (n, 2) for ``steps`` Verlet steps of ``dt`` (time), saving the state
    and its energies every ``save_every`` steps (``steps // save_every + 1`` states, the initial one
    first). ``rest``, ``k``, ``m`` as in :func:`accelerations`. The inputs are not modified."""
    x, edges = _state(x0, edges)
    x = x.copy()
    v = np.array(v0, dtype=np.float64)
    if v.shape != x.shape:
        raise ValueError(f"velocities must have the shape of positions {x.shape}, got {v.shape}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    if steps < 0 or save_every < 1:
        raise ValueError(f"steps must be >= 0 and save_every >= 1, got steps={steps}, save_every={save_every}")
    n_saved = steps // save_every + 1
    xs = np.empty((n_saved, *x.shape))
    vs = np.empty((n_saved, *x.shape))
    kinetic, potential = np.empty(n_saved), np.empty(n_saved)
    _verlet(x, v, edges, _per_item(rest, edges.shape[1], "rest"), _per_item(k, edges.shape[1], "k"),
            _per_item(m, len(x), "m"), float(dt), int(steps), int(save_every), xs, vs, kinetic, potential)
    return Trajectory(xs, vs, kinetic, potential)


def random_states(x_rest, displacement: float, speed: float, count: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` initial states around the rest geometry ``x_rest`` (n, 2): positions ``x_rest +
    displacement * N(0, 1)`` and velocities ``speed * N(0, 1)`` per coordinate, each ``(count, n, 2)``."""
    x_rest = np.asarray(x_rest, dtype=np.float64)
    x0 = x_rest[None] + displacement * rng.standard_normal((count, *x_rest.shape))
    return x0, speed * rng.standard_normal((count, *x_rest.shape))


def state_samples(x0, v0, edges, rest, k, m, dt: float, steps: int,
                  save_every: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, accelerations) pairs, each ``(count * n_saved, n, 2)``: every saved state of the
    trajectories from the initial states ``x0``, ``v0`` (count, n, 2) (see :func:`simulate`)."""
    positions = np.concatenate([simulate(x, v, edges, rest, k, m, dt, steps, save_every).positions
                                for x, v in zip(x0, v0)])
    return positions, np.stack([accelerations(x, edges, rest, k, m) for x in positions])


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel on a two-node spring."""
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    simulate(x, np.zeros_like(x), np.array([[0], [1]]), 1.0, 1.0, 1.0, 0.1, 2)
