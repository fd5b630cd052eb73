"""The uniform phase-space grid of the kinetic solver: cells in x times velocity cells, nondimensional (units "1").

Plain numpy (no numba), so that spec validation can place initial profiles on the grid.
"""

from dataclasses import dataclass

import numpy as np

from . import maxwellian as mx
from .options import boundary_code

__all__ = ["PhaseGrid"]


@dataclass(frozen=True)
class PhaseGrid:
    """Uniform phase-space grid: ``n_x`` cells on ``[x_min, x_max]`` times ``n_v`` velocity cells on
    ``[-v_max, v_max]``.

    ``dim`` is the velocity dimension (1: f, gamma = 3; 3: reduced (h, b), gamma = 5/3);
    ``boundary`` is ``periodic`` or ``outflow`` (zero-gradient ghost cells). Nondimensional.
    """

    x_min: float
    x_max: float
    n_x: int
    v_max: float
    n_v: int
    dim: int = 1
    boundary: str = "periodic"

    def __post_init__(self):
        if not (np.isfinite(self.x_min) and np.isfinite(self.x_max) and self.x_max > self.x_min):
            raise ValueError(f"need finite x_min < x_max, got x_min={self.x_min!r}, x_max={self.x_max!r}")
        if int(self.n_x) != self.n_x or self.n_x < 1:
            raise ValueError(f"n_x must be a positive integer, got {self.n_x!r}")
        mx.velocity_grid(self.v_max, self.n_v)
        mx.n_components(self.dim)
        boundary_code(self.boundary)

    @property
    def dx(self):
        """Cell width in x."""
        return (self.x_max - self.x_min) / self.n_x

    @property
    def x(self):
        """Cell centers, shape ``(n_x,)``."""
        return self.x_min + self.dx * (np.arange(self.n_x) + 0.5)

    @property
    def v(self):
        """Velocity midpoints, shape ``(n_v,)``."""
        return mx.velocity_grid(self.v_max, self.n_v)[0]

    @property
    def dv(self):
        """Velocity cell width (quadrature weight)."""
        return 2.0 * self.v_max / self.n_v

    @property
    def n_comp(self):
        """Distributions per point: 1 (dim 1) or 2 (dim 3)."""
        return mx.n_components(self.dim)

    @property
    def gamma(self):
        """(dim + 2) / dim."""
        return mx.gamma(self.dim)

    @property
    def shape(self):
        """Shape of one run's distribution: ``(n_comp, n_x, n_v)``."""
        return (self.n_comp, int(self.n_x), int(self.n_v))
