"""Sources of the SH solver as sparse nodal loads (:class:`.fem.PointLoads`).

Each source is a force density ``q(x) g(t)`` (N/m^3 for a point source integrated to a
unit load, N/m^2 along a line), with the Gaussian-modulated sine wavelet
``g(t) = sin(2 pi f0 (t - t0)) exp(-((t - t0)/tau)^2)`` (:func:`.fem.wavelet`).  Loads are the
consistent Q1 load vector ``∫ phi_node q ds``: points along a line (spacing h/4) are spread
bilinearly onto the four nodes of their cell.

- :func:`line`: a segment with uniform, Gaussian (beam of waist ``waist``) or ``cos(k1 x)``
  (periodic) amplitude; the emitted wave leaves along the segment's normal.
- :func:`point`: a Gaussian-smoothed point load of unit total strength (radius ``radius``).
"""

from __future__ import annotations

import numpy as np

from .grid import Grid, PointLoads

__all__ = ["line", "point", "spread"]


def spread(grid: Grid, pts: np.ndarray, weight: np.ndarray) -> PointLoads:
    """Bilinear (Q1 shape function) distribution of point loads ``weight`` (n,) (N/m per unit wavelet) at
    ``pts`` (n, 2) (m) onto the nodes.

    Points outside the grid (beyond the last cell of a free direction) raise ValueError.
    """
    ncx, ncy = grid.cells
    fx, fy = (pts[:, 0] - grid.x0) / grid.h, (pts[:, 1] - grid.y0) / grid.h
    ci, cj = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
    ci, cj = np.minimum(ci, ncx - 1), np.minimum(cj, ncy - 1)        # a point on the last node row
    if np.any((ci < 0) | (cj < 0) | (fx > ncx + 1e-9) | (fy > ncy + 1e-9)):
        raise ValueError("a source point lies outside the grid")
    xi, eta = fx - ci, fy - cj
    ii, jj, ww = [], [], []
    for di, dj, shape in ((0, 0, (1 - xi) * (1 - eta)), (1, 0, xi * (1 - eta)), (0, 1, (1 - xi) * eta),
                          (1, 1, xi * eta)):
        keep = shape > 1e-14
        ii.append((ci[keep] + di) % grid.nx)
        jj.append((cj[keep] + dj) % grid.ny)
        ww.append(weight[keep] * shape[keep])
    return PointLoads(*(np.concatenate(a) for a in (ii, jj, ww)))


def line_points(start, stop, h: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Sample points (midpoints of n pieces of length <= h/4), arc length from the centre, piece length."""
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    length = float(np.linalg.norm(stop - start))
    n = max(1, int(np.ceil(4.0 * length / h)))
    u = (np.arange(n) + 0.5) / n
    pts = start[None, :] + u[:, None] * (stop - start)[None, :]
    return pts, (u - 0.5) * length, length / n


def line(grid: Grid, start, stop, *, profile: str = "uniform", waist: float = 1.0,
         k1: float = 0.0) -> tuple[PointLoads, np.ndarray]:
    """Line source on the segment start -> stop (m); returns the loads and the sample points (n, 2).

    ``profile``: ``uniform`` (plane wave), ``gaussian`` (beam, amplitude exp(-(s/waist)^2), s from the
    centre; waist in m), ``cosine`` (cos(k1 x), periodic line source; k1 in 1/m along x).  Unit load per
    unit length (N/m^2 per unit wavelet) times the profile.
    """
    pts, s, ds = line_points(start, stop, grid.h)
    if profile == "uniform":
        q = np.ones_like(s)
    elif profile == "gaussian":
        q = np.exp(-(s / waist) ** 2)
    elif profile == "cosine":
        q = np.cos(k1 * pts[:, 0])
    else:
        raise ValueError(f"profile must be uniform, gaussian or cosine, got {profile!r}")
    return spread(grid, pts, q * ds), pts


def point(grid: Grid, center, radius: float | None = None) -> tuple[PointLoads, np.ndarray]:
    """Unit point load at ``center`` (m) smoothed by a Gaussian of ``radius`` (m, default h); returns the
    loads and the sample points (n, 2)."""
    r = grid.h if radius is None else radius
    n = max(1, int(np.ceil(3.0 * r / grid.h)))
    off = (np.arange(-4 * n, 4 * n + 1) + 0.5) * grid.h / 4.0
    dx, dy = np.meshgrid(off, off, indexing="ij")
    q = np.exp(-(dx ** 2 + dy ** 2) / (2.0 * r * r)).ravel()
    pts = np.asarray(center, float)[None, :] + np.column_stack([dx.ravel(), dy.ravel()])
    return spread(grid, pts, q / q.sum()), pts
