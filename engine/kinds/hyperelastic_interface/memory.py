"""Peak memory of a ``hyperelastic_interface`` run, from its spec (see :mod:`engine.spec.memory`).

- the coefficients over ``n`` incidence angles: about ``ANGLE_BYTES`` per angle (the P-SV solver keeps a
  small solution object per angle);
- with ``simulation.enabled``, the largest of the simulations (they run one angle at a time), in the sizes
  :mod:`solvers.hyperelastic.simulate` chooses (lengths in units of the host wavelength lambda0 = 1):
  spacing ``h = c_slow / (c0 ppw)``, ``nx = 1 / (h sin theta)`` nodes over one period of the source
  (4 at normal incidence), ``ny = (ABOVE + SOURCE_DEPTH + 1 + 2 w) / h`` with sponge width
  ``w = 3 c_fast / (c0 cos theta)``, and ``n_steps = record c_fast / (cfl h)`` steps of a record
  ``max(30, 8 tau + 12)``, ``tau = max(1.5, 3 / (pi (1 - sin theta)))``; it holds ``NODE_ARRAYS`` float64
  arrays per node (two media, the solver) and the receiver record ``(n_steps, nx)`` float64.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate
from solvers.hyperelastic.material import push_forward

if TYPE_CHECKING:  # pragma: no cover
    from .spec import HyperelasticInterfaceSpec

ANGLE_BYTES = 2048
NODE_ARRAYS = 28        # two media (4 cell arrays each), the solver's coefficients, mass, damping, levels
ABOVE, SOURCE_DEPTH, CFL, RECORD = 3.0, 2.0, 0.9, 30.0   # as in solvers.hyperelastic.simulate


def _simulation_bytes(c0: float, c_slow: float, c_fast: float, ppw: float, theta_deg: float) -> float:
    """Peak bytes of the simulation at one incidence angle (see the module docstring)."""
    s = math.sin(math.radians(theta_deg))
    h = c_slow / c0 / ppw
    nx = max(4.0, 1.0 / (s * h)) if s > 0 else 4.0
    width = 3.0 * c_fast / (c0 * math.cos(math.radians(theta_deg)))
    ny = (ABOVE + SOURCE_DEPTH + 1.0 + 2.0 * width) / h
    tau = max(1.5, 3.0 / (math.pi * (1.0 - s)))
    n_steps = max(RECORD, 8.0 * tau + 12.0) * c_fast / c0 / (CFL * h)
    return NODE_ARRAYS * 8.0 * nx * ny + 8.0 * n_steps * nx


def peak_memory(spec: "HyperelasticInterfaceSpec", F: np.ndarray) -> MemoryEstimate:
    """The estimate of the module docstring; ``F`` (3, 3): the spec's deformation gradient."""
    angles = spec.angles_deg
    n = len(angles) if isinstance(angles, list) else angles.num
    field = "angles_deg" if isinstance(angles, list) else "angles_deg.num"
    parts = [ArrayBytes(field, f"coefficients at {n} angles", ANGLE_BYTES * n)]
    sim = spec.simulation
    if sim.enabled:
        m = spec.material
        C, rho = push_forward(F, m.mu, m.rho)
        speeds = np.sqrt(np.linalg.eigvalsh(C) / rho)
        c0 = math.sqrt(m.mu / m.rho)
        c_slow, c_fast = min(c0, float(speeds[0])), max(c0, float(speeds[1]))
        worst = max(_simulation_bytes(c0, c_slow, c_fast, sim.points_per_wavelength, a) for a in sim.angles_deg)
        parts.append(ArrayBytes("simulation.points_per_wavelength",
                                f"the largest simulation ({sim.points_per_wavelength:g} points per wavelength)", worst))
    return estimate(*parts)
