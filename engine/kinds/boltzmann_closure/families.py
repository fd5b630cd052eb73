"""Initial-data families of kind ``boltzmann_closure``: local Maxwellians of random waves on the 1D3V grid.

``wave`` (three Fourier modes per field) and ``wave_1mode`` (one): the profiles rho, u, T of
:func:`solvers.bgk.initial.random_wave_profiles` without its two-Maxwellian admixture (the 3-D initial state is the
local Maxwellian, :func:`solvers.boltzmann_kinetic.initial_state`), amplitudes scaled by ``data.amplitude``. A draw
the velocity box cannot hold (tails above 1e-10 of the peak outside [-L, L], or dv > sqrt(T)) is redrawn.
Nondimensional (units "1").
"""

from __future__ import annotations

import numpy as np

from solvers import bgk
from solvers.boltzmann_velocity import TAILS

MODES = {"wave": 3, "wave_1mode": 1}
MAX_DRAWS = 200


def phase_grid(spec) -> bgk.PhaseGrid:
    """The reduced 1D3V phase grid of the spec's kinetic section: its x cells and the v_x nodes of the 3-D grid."""
    g, v = spec.kinetic.grid, spec.kinetic.velocity
    return bgk.PhaseGrid(g.x_min, g.x_max, g.n_x, v.L, v.n, dim=3, boundary=g.boundary)


def draw_profiles(rng: np.random.Generator, grid: bgk.PhaseGrid, family: str, amplitude: float) -> np.ndarray:
    """``(3, n_x)``: rho, u, T of one random draw of ``family`` that the velocity box holds."""
    last = None
    for _ in range(MAX_DRAWS):
        p = bgk.initial.random_wave_profiles(rng, grid, n_modes=MODES[family], amp_rho=0.2 * amplitude,
                                             amp_u=0.3 * amplitude, amp_T=0.2 * amplitude, noneq=(0.0, 0.0))
        profiles = bgk.initial.Profiles(p.rho, p.u, p.T)
        try:
            bgk.initial.check_state(profiles, grid, tails=TAILS)
            return np.stack([p.rho, p.u, p.T])
        except ValueError as exc:
            last = exc
    raise ValueError(f"no draw of family '{family}' fits the velocity box in {MAX_DRAWS} tries: {last}") from last


def draw_batch(rng: np.random.Generator, grid: bgk.PhaseGrid, families: list[str], n: int, amplitude: float):
    """``n`` profiles ``(n, 3, n_x)`` cycling through ``families``, and their family names."""
    names = [families[k % len(families)] for k in range(n)]
    return np.stack([draw_profiles(rng, grid, fam, amplitude) for fam in names]), names
