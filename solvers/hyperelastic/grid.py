"""The grid, per-cell medium and point loads of the Q1 SH solver (:mod:`.fem`): plain numpy, no kernels,
so that setting up a simulation (devices, sources, material per cell) does not load numba.

Nodes ``(nx, ny)`` at ``x0 + h i, y0 + h j``; a direction is periodic (``n`` cells) or free (``n - 1``
cells); see :mod:`.fem` for the storage of the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Grid", "Medium", "PointLoads"]


@dataclass(frozen=True)
class Grid:
    """Nodes ``x0 + h*i`` (i < nx), ``y0 + h*j`` (j < ny); h and x0, y0 in metres."""

    nx: int
    ny: int
    h: float
    x0: float = 0.0
    y0: float = 0.0
    periodic_x: bool = False
    periodic_y: bool = False

    def __post_init__(self):
        if self.nx < 2 or self.ny < 2:
            raise ValueError(f"need at least 2 x 2 nodes, got {self.nx} x {self.ny}")
        if not self.h > 0:
            raise ValueError(f"grid spacing h must be > 0, got {self.h!r}")

    @property
    def x(self) -> np.ndarray:
        """Node x coordinates (nx,) [m]."""
        return self.x0 + self.h * np.arange(self.nx)

    @property
    def y(self) -> np.ndarray:
        """Node y coordinates (ny,) [m]."""
        return self.y0 + self.h * np.arange(self.ny)

    @property
    def cells(self) -> tuple[int, int]:
        """Number of cells (ncx, ncy)."""
        return (self.nx if self.periodic_x else self.nx - 1, self.ny if self.periodic_y else self.ny - 1)

    @property
    def cell_origin(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower-left corners of the cells, x (ncx,) and y (ncy,)."""
        ncx, ncy = self.cells
        return self.x0 + self.h * np.arange(ncx), self.y0 + self.h * np.arange(ncy)


@dataclass(frozen=True)
class Medium:
    """Per-cell material, arrays of shape ``grid.cells``: C components (Pa) and density (kg/m^3)."""

    c11: np.ndarray
    c12: np.ndarray
    c22: np.ndarray
    rho: np.ndarray

    @classmethod
    def uniform(cls, grid: Grid, c11=1.0, c12=0.0, c22=1.0, rho=1.0) -> "Medium":
        """The same C components (Pa) and density (kg/m^3) in every cell of ``grid``."""
        shape = grid.cells
        return cls(*(np.full(shape, float(v)) for v in (c11, c12, c22, rho)))

    def max_speeds(self) -> np.ndarray:
        """sqrt(lambda_max(C)/rho) per solid cell (m/s), flattened: the fastest wave speed of each cell."""
        solid = self.rho > 0
        a, b, c, r = self.c11[solid], self.c12[solid], self.c22[solid], self.rho[solid]
        return np.sqrt((0.5 * (a + c) + np.sqrt(0.25 * (a - c) ** 2 + b * b)) / r)


@dataclass(frozen=True)
class PointLoads:
    """Sparse source: node indices (i, j) (unpadded), weights (N per unit length per unit wavelet), each (n,).

    The load on node k at time t is ``weight[k] * wavelet(t)``.
    """

    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray

    @classmethod
    def empty(cls) -> "PointLoads":
        """No source."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, np.zeros(0))
