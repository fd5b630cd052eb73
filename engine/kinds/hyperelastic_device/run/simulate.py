"""Kind ``hyperelastic_device``: one simulation (device, bare or homogeneous) and the time loop that runs
them one after the other (an :class:`engine.loop.Model`)."""

from __future__ import annotations

import numpy as np

from engine.loop import Model
from solvers.hyperelastic import fem, sources
from solvers.hyperelastic.grid import Grid, Medium, PointLoads

from ..geometry import Setup


def _loads(setup: Setup, grid: Grid, waist: float) -> PointLoads:
    """The setup's source on ``grid``; ``waist`` [m]: of a Gaussian beam."""
    if setup.source_kind == "point":
        return sources.point(grid, setup.source_points[0])[0]
    profile = "gaussian" if setup.source_kind == "gaussian_beam" else "uniform"
    return sources.line(grid, *setup.source_points, profile=profile, waist=waist)[0]


def _nodes_on(grid: Grid, pts: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest nodes (unique, with mass) to the points (n, 2) [m]: their indices i, j, each (m,)."""
    i = np.clip(np.rint((pts[:, 0] - grid.x0) / grid.h).astype(np.int64), 0, grid.nx - 1)
    j = np.clip(np.rint((pts[:, 1] - grid.y0) / grid.h).astype(np.int64), 0, grid.ny - 1)
    ij = np.unique(np.column_stack([i, j]), axis=0)
    ij = ij[mass[ij[:, 0], ij[:, 1]] > 0]
    return ij[:, 0], ij[:, 1]


class Simulation:
    """One simulation named ``name`` ("device", "bare", "homogeneous") on ``grid`` with per-cell ``medium``:
    snapshots (n_saved, nx, ny) float32 [m], energies (n_saved,) [J/m] and receiver records
    (n_steps, n_receivers) [m]; sponge layers along the grid edges normal to ``axes``; it starts at rest,
    its first snapshot saved."""

    def __init__(self, name: str, grid: Grid, medium: Medium, setup: Setup, waist: float, dt: float,
                 receivers: dict[str, np.ndarray], axes: str = "xy"):
        self.name, self.grid, self.medium = name, grid, medium
        self.sigma = fem.sponge(grid, *setup.absorber, axes)
        self.solver = fem.SHSolver(grid, medium, dt, self.sigma)
        self.loads = _loads(setup, grid, waist)
        self.wavelet = setup.wavelet
        self.receivers = {k: _nodes_on(grid, pts, self.solver.mass) for k, pts in receivers.items()}
        self.snapshots, self.energy, self.records = [], [], {k: [] for k in receivers}
        self.save()

    def save(self) -> None:
        """Append the current field (float32 snapshot) and its energy [J/m] (0 before the first step)."""
        self.snapshots.append(self.solver.w.astype(np.float32))
        self.energy.append(self.solver.energy() if self.solver.step else 0.0)

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` time steps, recording w at the receivers, and save the field reached."""
        keys = list(self.receivers)
        ri = np.concatenate([self.receivers[k][0] for k in keys]) if keys else None
        rj = np.concatenate([self.receivers[k][1] for k in keys]) if keys else None
        rec = self.solver.advance(n_steps, self.loads, self.wavelet, None if ri is None else (ri, rj))
        start = 0
        for k in keys:
            n = len(self.receivers[k][0])
            self.records[k].append(rec[:, start:start + n])
            start += n
        self.save()

    def record(self, key: str) -> np.ndarray:
        """w [m] at the receivers ``key`` after each step so far, shape (n_steps, n_receivers)."""
        return np.concatenate(self.records[key]) if self.records[key] else np.zeros((0, 0))

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to resume this simulation from (checkpoint), keys prefixed with its name."""
        out = {"snapshots": np.stack(self.snapshots), "energy": np.array(self.energy), "w": self.solver.w,
               "w_prev": self.solver.w_prev, "step": self.solver.step}
        out.update({f"record.{k}": self.record(k) for k in self.records})
        return {f"{self.name}.{k}": v for k, v in out.items()}

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Resume from :meth:`state`'s arrays; a state that holds nothing of this simulation leaves it at rest."""
        prefix = f"{self.name}."
        mine = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not mine:
            return
        self.snapshots, self.energy = list(mine["snapshots"]), list(mine["energy"])
        self.records = {k: [mine[f"record.{k}"]] for k in self.records}
        self.solver.set_state(mine["w"], mine["w_prev"], int(mine["step"]))


class SequentialRuns(Model):
    """The simulations one after the other, ``n_save`` intervals of ``steps_per_save`` time steps each:
    interval ``k`` advances simulation ``k // n_save``. The state holds the simulations started so far."""

    advice = "the leapfrog scheme is unstable here: lower time.cfl"

    def __init__(self, simulations: list[Simulation], n_save: int, steps_per_save: int):
        self.simulations, self.n_save, self.steps_per_save = simulations, n_save, steps_per_save
        self.n_intervals = n_save * len(simulations)
        self._current = 0                       # index of the simulation advanced last

    def advance(self, k: int) -> None:
        self._current = k // self.n_save
        self.simulations[self._current].advance(self.steps_per_save)

    def state(self) -> dict[str, np.ndarray]:
        return {key: v for sim in self.simulations[:self._current + 1] for key, v in sim.state().items()}

    def load(self, state: dict[str, np.ndarray]) -> None:
        for sim in self.simulations:
            sim.load(state)

    def watched(self) -> dict[str, np.ndarray]:
        """The field of the simulation advanced last (unstable: lower time.cfl)."""
        sim = self.simulations[self._current]
        return {f"w of the {sim.name} run": sim.solver.w}
