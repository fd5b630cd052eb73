"""Training data of kind ``bgk_closure``: batched kinetic runs, pointwise samples, augmentation.

Samples are distributions ``f(v)`` at single points ``(t, x)`` of a run, shape ``(n, n_v)``;
augmentation adds Galilean shifts by whole velocity cells and reflections ``v -> -v`` (brief §3.3).
Knudsen numbers are drawn log-uniformly. Nondimensional (units "1").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solvers import bgk

from ..spec import BGKClosureSpec


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` Knudsen numbers log-uniform in ``[low, high]``."""
    return np.exp(rng.uniform(math.log(low), math.log(high), n))



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


def samples(spec: BGKClosureSpec, f0: np.ndarray, kn: np.ndarray, grid: bgk.PhaseGrid, t_save: np.ndarray,
            rng: np.random.Generator, first_run: int) -> tuple[np.ndarray, np.ndarray]:
    """The training samples of the kinetic runs from ``f0`` ``(n_runs, 1, n_x, n_v)`` with Knudsen numbers ``kn``
    ``(n_runs,)``, numbered from ``first_run``: the ``data.samples_per_run`` points of each run followed by one
    augmented copy of each, ``(f, run)`` of shapes ``(2 n, n_v)`` and ``(2 n,)``."""
    d = spec.data
    kd = kinetic_samples(f0, kn, grid, t_save, spec.kinetic.scheme, d.samples_per_run, rng, first_run=first_run)
    aug = augment(kd.f, grid.dv, d.max_shift, d.reflect, rng)
    return np.concatenate([kd.f, aug]), np.concatenate([kd.run, kd.run])
