"""Training data of the learned closures: pointwise samples of kinetic runs, and their augmentation.

Samples are stacked distributions at single points ``(t, x)`` of a run, shape ``(n, n_dist n_v)`` (f in 1D1V;
Chu's pair g, b in 1D3V, see :mod:`learners.bgk_closure.models`); augmentation adds reflections ``v -> -v`` and,
for 1D1V, Galilean shifts by whole velocity cells (brief §3.3). Knudsen numbers are drawn log-uniformly.
Nondimensional (units "1").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` Knudsen numbers log-uniform in ``[low, high]``."""
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


@dataclass
class Samples:
    """Pointwise samples: stacked distributions ``f`` ``(n, n_dist n_v)`` (float64); the collision rate
    ``C(f)/Kn`` at the same points ``production`` ``(n, n_dist n_v)``, or None where the relaxation is exact
    (BGK in 1D1V); the Knudsen number ``kn`` ``(n,)`` and the run ``run`` ``(n,)`` each came from."""

    f: np.ndarray
    production: np.ndarray | None
    kn: np.ndarray
    run: np.ndarray

    def __add__(self, other: "Samples") -> "Samples":
        production = None if self.production is None else np.concatenate([self.production, other.production])
        return Samples(np.concatenate([self.f, other.f]), production, np.concatenate([self.kn, other.kn]),
                       np.concatenate([self.run, other.run]))

    def __len__(self) -> int:
        return self.f.shape[0]


def _shift(f: np.ndarray, dv: float, max_shift: float, rng: np.random.Generator, tail: float) -> np.ndarray:
    """Each sample of ``f`` ``(n, n_v)`` shifted by ``k dv``, ``|k dv| <= max_shift``, reduced until the cells
    leaving the grid hold less than ``tail`` of the mass (so the moments of the copy are those of a shifted
    distribution)."""
    out = f.copy()
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


def augment(samples: Samples, n_v: int, dv: float, max_shift: float, reflect: bool, rng: np.random.Generator,
            tail: float = 1e-12) -> Samples:
    """One augmented copy per sample: every distribution of a sample (and its production) reflected
    ``v -> -v`` with probability 1/2 (if ``reflect``), then (1D1V only: ``max_shift`` must be 0 for stacked
    pairs, whose production does not shift with them) a shift by ``k dv`` (:func:`_shift`)."""
    n = len(samples)
    n_dist = samples.f.shape[1] // n_v
    flip = rng.random(n) >= 0.5 if reflect else np.zeros(n, dtype=bool)

    def reflected(a):
        a = a.reshape(n, n_dist, n_v).copy()
        a[flip] = a[flip, :, ::-1]
        return a.reshape(n, n_dist * n_v)

    f = reflected(samples.f)
    if max_shift > 0:
        if n_dist != 1 or samples.production is not None:
            raise ValueError("Galilean shifts augment 1D1V samples without a production only")
        f = _shift(f, dv, max_shift, rng, tail)
    production = None if samples.production is None else reflected(samples.production)
    return Samples(f, production, samples.kn.copy(), samples.run.copy())
