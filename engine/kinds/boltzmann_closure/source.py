"""The kinetic equation of kind ``boltzmann_closure``: 1D3V Maxwell molecules (or BGK) by
:mod:`solvers.boltzmann_kinetic`, as a source of the learned-closure pipeline (:mod:`engine.kinds.bgk_closure.run.
source` documents the interface).

States are profiles ``(n, 3, n_x)`` (rho, u, T) whose local Maxwellians start the kinetic runs; the models see
their Chu pairs ``(g, b)`` on the v_x grid (the reduction of the 3-D discrete Maxwellian, so the models start
from exactly the kinetic run's moments). Each kinetic run saves the pairs and the collision production
``C(f)/Kn`` at every snapshot. The continuum references carry the operator's transport coefficients: viscosity
``mu = VISCOSITY_FACTOR kn T`` and Prandtl number 2/3 (Maxwell molecules) or 1 (BGK), kind ``boltzmann``'s.
Nondimensional (units "1").
"""

from __future__ import annotations

import numpy as np

from solvers import bgk
from solvers import boltzmann_kinetic as kinetic
from solvers.boltzmann_collision import MaxwellCollision

from ..bgk_closure.run.data import Samples, augment
from ..bgk_closure.run.source import HeldOut
from ..boltzmann.run import PRANDTL, VISCOSITY_FACTOR
from .families import draw_batch, phase_grid


class BoltzmannSource:
    """Kinetic runs one at a time (each is batched over its cells); ``log(message)`` hears of each finished run."""

    dim = 3

    def __init__(self, spec, log=None):
        self.spec = spec
        k = spec.kinetic
        v = k.velocity
        op = MaxwellCollision(n=v.n, L=v.L, degree=v.degree, rank=v.rank)
        self.grid = kinetic.KineticGrid(k.grid.x_min, k.grid.x_max, k.grid.n_x, "periodic", op)
        self.phase = phase_grid(spec)
        self.v, self.dv = self.grid.velocity.v, self.grid.velocity.dv
        self.x, self.dx = self.grid.x, self.grid.dx
        self.operator = k.collision.operator
        self.log = log or (lambda message: None)

    def draw(self, rng, families, n):
        return draw_batch(rng, self.phase, families, n, self.spec.data.amplitude)

    def _initial(self, state: np.ndarray) -> np.ndarray:
        return kinetic.initial_state(self.grid, *state)

    def distributions(self, states: np.ndarray) -> np.ndarray:
        return np.stack([kinetic.reduce(self._initial(s), self.grid.velocity) for s in states])

    def solve(self, state: np.ndarray, kn: float, t: np.ndarray, production: bool):
        """The kinetic run from the local Maxwellian of ``state`` ``(3, n_x)`` at Kn ``kn`` saved at ``t``, with
        the reduced pairs and their collision production when ``production``."""
        return kinetic.solve(self._initial(state), self.grid, float(kn), t, collision=self.operator,
                             cfl=self.spec.kinetic.scheme.cfl, save_reduced=production, save_production=production)

    def samples(self, states: np.ndarray, kn: np.ndarray, t_save: np.ndarray, rng, first_run: int) -> Samples:
        """``data.samples_per_run`` random points ``(t, x)`` of each run (all if fewer): the stacked pair and
        production; then one reflected-or-not copy of each."""
        d, n_x = self.spec.data, self.grid.n_x
        n_points = t_save.size * n_x
        fs, prods, runs = [], [], []
        for b, state in enumerate(states):
            sol = self.solve(state, kn[b], t_save, production=True)
            pts = rng.choice(n_points, size=min(d.samples_per_run, n_points), replace=False)
            it, ix = np.divmod(pts, n_x)
            fs.append(np.concatenate([sol.g[it, ix], sol.b[it, ix]], axis=1))
            prods.append(np.concatenate([sol.production[it, 0, ix], sol.production[it, 1, ix]], axis=1))
            runs.append(np.full(pts.size, first_run + b))
            self.log(f"kinetic run {first_run + b + 1}: Kn {kn[b]:.3g}, {sol.n_steps} steps, "
                     f"{sol.collision_evaluations} collision evaluations")
        run = np.concatenate(runs)
        found = Samples(np.concatenate(fs), np.concatenate(prods), np.asarray(kn, dtype=float)[run - first_run], run)
        return found + augment(found, self.v.size, self.dv, 0.0, d.reflect, rng)

    def held_out(self, family: str, rng) -> HeldOut:
        states, _ = draw_batch(rng(), self.phase, [family], self.spec.evaluation.n_initial, self.spec.data.amplitude)
        return HeldOut("periodic", states)

    def truth(self, case: HeldOut, kn: np.ndarray, t: np.ndarray):
        finals = []
        for k in kn:
            for state in case.states:
                sol = self.solve(state, k, t, production=False)
                rho, u, T = sol.rho[-1], sol.u[-1], sol.T[-1]
                finals.append(bgk.maxwellian.conserved(rho, u, T, dim=3))
                self.log(f"truth: Kn {k:.3g}, {sol.n_steps} steps")
        same = np.stack(finals, axis=1)
        return same, same

    def continuum(self, name, rho, m, E, kn, t, boundary):
        return bgk.continuum.solve_continuum(rho, m, E, self.dx, t, dim=3, kn=VISCOSITY_FACTOR[self.operator] * kn,
                                             model=name, boundary=boundary, frequency="rho",
                                             prandtl=PRANDTL[self.operator])
