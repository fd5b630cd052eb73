"""Data of kind ``bgk_closure``: random initial distributions, batched kinetic runs, pointwise samples.

Families (brief §1.5): ``wave`` (:func:`solvers.bgk.initial.random_wave`), ``mix``
(:func:`~solvers.bgk.initial.random_mix`), and two fixed cases for evaluation only: ``sod`` (Sod's
shock tube on an outflow grid) and ``sine`` (:func:`sine_wave`, the benchmark of research/bgk.md
§5). A draw the velocity grid cannot hold is redrawn. Knudsen numbers are log-uniform. Samples
are distributions ``f(v)`` at single points ``(t, x)`` of a run, shape ``(n, n_v)``; augmentation
adds Galilean shifts by whole velocity cells and reflections ``v -> -v`` (brief §3.3).
Nondimensional (units "1").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solvers import bgk

FAMILY_GENERATORS = {"wave": bgk.initial.random_wave, "mix": bgk.initial.random_mix}
MAX_DRAWS = 200


def sine_wave(grid: bgk.PhaseGrid) -> np.ndarray:
    """``(1, n_x, n_v)``: the Maxwellian of rho = 1 + 0.2 sin 2πs, u = 0.2 sin(2πs + 1), T = 1 + 0.2 sin(2πs + 2),
    ``s = (x - x_min)/L`` (one smooth equilibrium wave; research/bgk.md §5 gives its Euler and NS errors)."""
    return bgk.initial.wave(grid, rho=[(1, 0.2, 0.0)], u=[(1, 0.2, 1.0)], T=[(1, 0.2, 2.0)])


FIXED_CASES = {"sod": ("outflow", bgk.initial.sod), "sine": ("periodic", sine_wave)}
"""Evaluation families of one fixed case: boundary of the x grid and the initial distribution of a grid."""


def draw_initial(rng: np.random.Generator, grid: bgk.PhaseGrid, family: str) -> np.ndarray:
    """One random initial distribution ``(1, n_x, n_v)`` of ``family`` (wave or mix) that the grid holds."""
    gen = FAMILY_GENERATORS[family]
    last = None
    for _ in range(MAX_DRAWS):
        try:
            return gen(rng, grid)
        except ValueError as exc:
            last = exc
    raise ValueError(f"no draw of family '{family}' fits the velocity grid in {MAX_DRAWS} tries: {last}")


def draw_batch(rng: np.random.Generator, grid: bgk.PhaseGrid, families: list[str], n: int):
    """``n`` initial distributions ``(n, 1, n_x, n_v)`` cycling through ``families``, and their family names."""
    names = [families[k % len(families)] for k in range(n)]
    return np.stack([draw_initial(rng, grid, fam) for fam in names]), names


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` Knudsen numbers log-uniform in ``[low, high]``."""
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


def save_times(t_final: float, every: float) -> np.ndarray:
    """``0, every, 2 every, ...`` up to and including ``t_final``."""
    n = int(math.floor(t_final / every * (1.0 + 1e-9)))
    t = every * np.arange(n + 1)
    t = t[t < t_final * (1.0 - 1e-9)]
    return np.append(t, t_final)


@dataclass
class KineticData:
    """Pointwise samples ``f`` ``(n, n_v)`` (float64) and the run each came from ``run`` ``(n,)``."""

    f: np.ndarray
    run: np.ndarray


def kinetic_samples(f0: np.ndarray, kn: np.ndarray, grid: bgk.PhaseGrid, t_save: np.ndarray, scheme,
                    per_run: int, rng: np.random.Generator, batch: int = 16, first_run: int = 0) -> KineticData:
    """Solve the BGK equation for each initial distribution of ``f0`` ``(n_runs, 1, n_x, n_v)`` with its ``kn``
    and keep ``per_run`` random points ``(t, x)`` of each run (all of them if fewer)."""
    fs, runs = [], []
    n_points = t_save.size * grid.n_x
    for start in range(0, f0.shape[0], batch):
        stop = min(start + batch, f0.shape[0])
        sol = bgk.solve(f0[start:stop], grid, kn[start:stop], t_save, transport=scheme.transport,
                        limiter=scheme.limiter, relaxation=scheme.relaxation, cfl=scheme.cfl, save_distribution=True)
        for b in range(stop - start):
            pts = rng.choice(n_points, size=min(per_run, n_points), replace=False)
            it, ix = np.divmod(pts, grid.n_x)
            fs.append(sol.f[b, it, 0, ix])
            runs.append(np.full(pts.size, first_run + start + b))
    return KineticData(np.concatenate(fs), np.concatenate(runs))


def augment(f: np.ndarray, dv: float, max_shift: float, reflect: bool, rng: np.random.Generator,
            tail: float = 1e-12) -> np.ndarray:
    """One augmented copy per sample: ``f(v) -> f(-v)`` with probability 1/2 (if ``reflect``), then a shift by
    ``k dv``, ``|k dv| <= max_shift``, reduced until the cells leaving the grid hold less than ``tail`` of the
    mass (so the moments of the copy are those of a shifted distribution). ``f`` ``(n, n_v)``."""
    out = f[:, ::-1].copy() if reflect else f.copy()
    if reflect:
        keep = rng.random(f.shape[0]) < 0.5
        out[keep] = f[keep]
    kmax = int(math.floor(max_shift / dv))
    shifts = rng.integers(-kmax, kmax + 1, f.shape[0]) if kmax > 0 else np.zeros(f.shape[0], dtype=int)
    mass = out.sum(axis=1)
    cum = np.cumsum(out, axis=1)
    for n, k in enumerate(shifts):
        while k != 0:
            lost = cum[n, -k - 1] if k < 0 else mass[n] - cum[n, -k - 1]
            if lost <= tail * mass[n]:
                break
            k -= int(np.sign(k))
        if k:
            out[n] = np.roll(out[n], k)
            if k > 0:
                out[n, :k] = 0.0
            else:
                out[n, k:] = 0.0
    return out
