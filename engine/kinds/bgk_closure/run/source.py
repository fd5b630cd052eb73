"""Where a learned closure's data come from: the kinetic equation, its initial data, its truth and the continuum
references. :class:`BGKSource` is kind ``bgk_closure``'s (1D1V BGK, :mod:`solvers.bgk`); kind
``boltzmann_closure`` has its own with the same attributes and methods, and the training pipeline
(:mod:`.pipeline`) and the evaluation (:mod:`.evaluate`) run on either.

A source has ``dim`` (1 or 3), the models' grid ``v`` ``(n_v,)``, ``dv``, ``x`` ``(n_x,)``, ``dx``; its *states*
are whatever its kinetic solver starts from (here the distributions themselves), and it gives:

- ``draw(rng, families, n)``: ``n`` random initial states cycling through ``families``, and their family names;
- ``distributions(states)``: the initial distributions on the models' grid ``(n, n_dist, n_x, n_v)``;
- ``samples(states, kn, t_save, rng, first_run)``: the :class:`~.data.Samples` of kinetic runs from them;
- ``held_out(family, rng)``: a :class:`HeldOut` set of evaluation cases; ``rng()`` gives the family's random
  generator, called only by the families that draw;
- ``truth(case, kn, t)``: the conserved moments at ``t[-1]`` of the kinetic solution of every case at every
  Kn, on the models' grid ``(3, n_kn n_case, n_x)`` (Kn slowest), twice: solved on that grid, and the truth;
- ``continuum(name, rho, m, E, kn, t, boundary)``: ``(rho, m, E)`` at ``t[-1]`` of Euler or Navier-Stokes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers import bgk

from ..families import FIXED_CASES, draw_batch
from ..spec import phase_grid
from .data import Samples, augment


@dataclass
class HeldOut:
    """Evaluation cases of one family: the x ``boundary``, the ``states`` on the models' grid ``(n_case, ...)``
    and, where the truth is solved on a finer grid, the states there (``fine``, else None)."""

    boundary: str
    states: np.ndarray
    fine: np.ndarray | None = None


def per_kn(a: np.ndarray, nk: int) -> np.ndarray:
    """The cases ``a`` ``(n, ...)`` repeated for each of ``nk`` Knudsen numbers: ``(nk n, ...)``, Kn slowest."""
    return np.repeat(a[None], nk, axis=0).reshape((nk * a.shape[0],) + a.shape[1:])


def coarsen(a: np.ndarray, refine: int) -> np.ndarray:
    """Averages of ``refine`` consecutive x cells: of distributions ``(n, n_comp, n_x, n_v)`` when ``a.ndim == 4``,
    otherwise of arrays with x last."""
    if refine == 1:
        return a
    if a.ndim == 4:
        n, c, nx, nv = a.shape
        return a.reshape(n, c, nx // refine, refine, nv).mean(axis=3)
    return a.reshape(a.shape[:-1] + (a.shape[-1] // refine, refine)).mean(axis=-1)


class BGKSource:
    """The 1D1V BGK equation of kind ``bgk_closure`` (module docstring): batched kinetic runs, 16 at a time."""

    dim = 1
    batch = 16

    def __init__(self, spec):
        self.spec = spec
        self.grid = phase_grid(spec)
        self.v, self.dv, self.x, self.dx = self.grid.v, self.grid.dv, self.grid.x, self.grid.dx
        sch = spec.kinetic.scheme
        self.scheme = dict(transport=sch.transport, limiter=sch.limiter, relaxation=sch.relaxation, cfl=sch.cfl)

    def draw(self, rng, families, n):
        return draw_batch(rng, self.grid, families, n)

    def distributions(self, states: np.ndarray) -> np.ndarray:
        return states

    def samples(self, states: np.ndarray, kn: np.ndarray, t_save: np.ndarray, rng, first_run: int) -> Samples:
        """``data.samples_per_run`` random points ``(t, x)`` of each run (all if fewer), then one augmented copy
        of each."""
        d, grid = self.spec.data, self.grid
        fs, runs = [], []
        n_points = t_save.size * grid.n_x
        for start in range(0, states.shape[0], self.batch):
            stop = min(start + self.batch, states.shape[0])
            sol = bgk.solve(states[start:stop], grid, kn[start:stop], t_save, save_distribution=True, **self.scheme)
            for b in range(stop - start):
                pts = rng.choice(n_points, size=min(d.samples_per_run, n_points), replace=False)
                it, ix = np.divmod(pts, grid.n_x)
                fs.append(sol.f[b, it, 0, ix])
                runs.append(np.full(pts.size, first_run + start + b))
        run = np.concatenate(runs)
        found = Samples(np.concatenate(fs), None, np.asarray(kn)[run - first_run], run)
        return found + augment(found, grid.n_v, grid.dv, d.max_shift, d.reflect, rng)

    def held_out(self, family: str, rng) -> HeldOut:
        r = self.spec.evaluation.refine
        if family in FIXED_CASES:
            boundary, make = FIXED_CASES[family]
            fine = make(phase_grid(self.spec, boundary, r))[None]
        else:
            boundary = "periodic"
            fine, _ = draw_batch(rng(), phase_grid(self.spec, refine=r), [family], self.spec.evaluation.n_initial)
        return HeldOut(boundary, coarsen(fine, r), fine if r > 1 else None)

    def truth(self, case: HeldOut, kn: np.ndarray, t: np.ndarray):
        nk, nc = kn.size, case.states.shape[0]
        KN = np.repeat(kn, nc)
        r = self.spec.evaluation.refine

        def final(states, grid, refine):
            sol = bgk.solve(per_kn(states, nk), grid, KN, t, **self.scheme)
            return np.stack([coarsen(a[:, -1], refine) for a in (sol.rho, sol.m, sol.E)])

        same = final(case.states, phase_grid(self.spec, case.boundary), 1)
        return same, same if case.fine is None else final(case.fine, phase_grid(self.spec, case.boundary, r), r)

    def continuum(self, name, rho, m, E, kn, t, boundary):
        return bgk.continuum.solve_continuum(rho, m, E, self.dx, t, dim=1, kn=float(kn), model=name,
                                             boundary=boundary)
