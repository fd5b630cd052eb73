"""Initial-data families of kind ``bgk_closure``: random draws for training and evaluation, fixed cases.

Families (brief §1.5): ``wave`` (:func:`solvers.bgk.initial.random_wave`, three Fourier modes per field),
``wave_1mode`` (the same with one mode per field: the family of issue 26's ``n_modes: 1`` criterion), ``mix``
(:func:`~solvers.bgk.initial.random_mix`), and two fixed cases for evaluation only: ``sod`` (Sod's
shock tube on an outflow grid) and ``sine`` (:func:`sine_wave`, the benchmark of research/bgk.md
§5). A draw the velocity grid cannot hold is redrawn. Distributions have shape ``(1, n_x, n_v)``
per case (one component: 1D1V); nondimensional (units "1"). The spec's validation draws one of each
family to check that the velocity grid holds it (a failed random family's error has the last draw's
:mod:`solvers.bgk.errors` error as its cause).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from solvers import bgk

FAMILY_GENERATORS = {"wave": bgk.initial.random_wave, "wave_1mode": partial(bgk.initial.random_wave, n_modes=1),
                     "mix": bgk.initial.random_mix}
MAX_DRAWS = 200


def sine_wave(grid: bgk.PhaseGrid) -> np.ndarray:
    """``(1, n_x, n_v)``: the Maxwellian of rho = 1 + 0.2 sin 2πs, u = 0.2 sin(2πs + 1), T = 1 + 0.2 sin(2πs + 2),
    ``s = (x - x_min)/L`` (one smooth equilibrium wave; research/bgk.md §5 gives its Euler and NS errors)."""
    return bgk.initial.wave(grid, rho=[(1, 0.2, 0.0)], u=[(1, 0.2, 1.0)], T=[(1, 0.2, 2.0)])


FIXED_CASES = {"sod": ("outflow", bgk.initial.sod), "sine": ("periodic", sine_wave)}
"""Evaluation families of one fixed case: boundary of the x grid and the initial distribution of a grid."""


def draw_initial(rng: np.random.Generator, grid: bgk.PhaseGrid, family: str) -> np.ndarray:
    """One random initial distribution ``(1, n_x, n_v)`` of ``family`` (wave, wave_1mode or mix) that the grid
    holds."""
    gen = FAMILY_GENERATORS[family]
    last = None
    for _ in range(MAX_DRAWS):
        try:
            return gen(rng, grid)
        except ValueError as exc:
            last = exc
    raise ValueError(f"no draw of family '{family}' fits the velocity grid in {MAX_DRAWS} tries: {last}") from last


def draw_batch(rng: np.random.Generator, grid: bgk.PhaseGrid, families: list[str], n: int):
    """``n`` initial distributions ``(n, 1, n_x, n_v)`` cycling through ``families``, and their family names."""
    names = [families[k % len(families)] for k in range(n)]
    return np.stack([draw_initial(rng, grid, fam) for fam in names]), names
