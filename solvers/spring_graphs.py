"""The graphs of spring-mass networks (:mod:`solvers.springs`): nodes in 2-D and the springs between them.

numpy and scipy only (no numba), so that a spec can build a run's graph while it is validated. Positions
``(n, 2)`` float64 in units of the mean node spacing; edges ``(2, E)`` int64, each spring once with ``i < j``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def radius_graph(n: int, radius: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` nodes uniform in a square of side sqrt(n) (unit number density) joined by a spring when
    closer than ``radius`` (in units of the mean spacing; mean degree about pi radius^2 away from the
    border). Returns positions ``(n, 2)`` and edges ``(2, E)`` int64, each pair once with ``i < j``,
    sorted. Raises ValueError when no pair is closer than ``radius``."""
    if n < 2:
        raise ValueError(f"radius_graph: n must be at least 2, got {n}")
    if not radius > 0:
        raise ValueError(f"radius_graph: radius must be > 0, got {radius}")
    positions = rng.uniform(0.0, np.sqrt(n), size=(n, 2))
    pairs = cKDTree(positions).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        raise ValueError(f"radius_graph: radius {radius} gives no edges among {n} nodes "
                         f"(the mean spacing is 1; take radius of order 1 or more)")
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    return positions, np.ascontiguousarray(pairs.T, dtype=np.int64)


def lattice_graph(nx: int, ny: int, spacing: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A braced square lattice of ``nx * ny`` nodes (node ``i = iy * nx + ix`` at
    ``spacing * (ix, iy)``): springs along both lattice directions and both diagonals of every cell
    (the diagonals make it rigid: without them shear costs no energy). Returns positions ``(n, 2)``
    and edges ``(2, E)`` int64 with ``i < j``."""
    if nx < 2 or ny < 2:
        raise ValueError(f"lattice_graph: nx and ny must be at least 2, got nx={nx}, ny={ny}")
    if not spacing > 0:
        raise ValueError(f"lattice_graph: spacing must be > 0, got {spacing}")
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    positions = spacing * np.column_stack([ix.ravel(), iy.ravel()]).astype(np.float64)
    node = np.arange(nx * ny).reshape(ny, nx)
    pairs = [
        (node[:, :-1], node[:, 1:]),  # along x
        (node[:-1, :], node[1:, :]),  # along y
        (node[:-1, :-1], node[1:, 1:]),  # diagonal
        (node[:-1, 1:], node[1:, :-1]),  # anti-diagonal
    ]
    i = np.concatenate([a.ravel() for a, _ in pairs])
    j = np.concatenate([b.ravel() for _, b in pairs])
    edges = np.stack([np.minimum(i, j), np.maximum(i, j)]).astype(np.int64)
    return positions, edges
