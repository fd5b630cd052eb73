"""The time-domain methods of ``moire_exciton`` as resumable :class:`engine.loop.Model` s: one interval per
saved time t_k [ns]. Interval 0 only observes the initial state; interval k > 0 advances from t_{k-1} to
t_k and observes. The observations (line cut, second moment, populations...) are stacked over t and are
part of the checkpointed state."""

from __future__ import annotations

import abc
from typing import Callable

import numpy as np

from engine.kind import RunFailed
from engine.loop import Model
from solvers.moire import continuum, kmc, sg

_RECORD, _FIELD = "rec_", "state_"  # checkpoint key prefixes of the observations and of the system's state


class SavedTimes(Model):
    """Advance a system through the saved times ``t`` (n_t,) [ns], observing it at each."""

    def __init__(self, t: np.ndarray):
        self.t = t
        self.n_intervals = t.size
        self._records: dict[str, list] = {}

    @abc.abstractmethod
    def step(self, t0: float, t1: float, k: int) -> None:
        """Advance the system from ``t0`` to ``t1`` [ns], the end of interval ``k``."""

    @abc.abstractmethod
    def observe(self) -> dict:
        """The values recorded at one saved time (numbers or arrays of a fixed shape)."""

    @abc.abstractmethod
    def fields(self) -> dict[str, np.ndarray]:
        """The system's state (arrays and numbers)."""

    @abc.abstractmethod
    def load_fields(self, fields: dict[str, np.ndarray]) -> None:
        """Set the system's state from :meth:`fields` read back from a checkpoint."""

    def advance(self, k: int) -> None:
        if k > 0:
            self.step(self.t[k - 1], self.t[k], k)
        for key, value in self.observe().items():
            self._records.setdefault(key, []).append(value)

    def records(self) -> dict[str, np.ndarray]:
        """Every observed quantity stacked over the saved times so far, shape (n_done, ...)."""
        return {key: np.array(values) for key, values in self._records.items()}

    def state(self) -> dict[str, np.ndarray]:
        return {**{_RECORD + key: v for key, v in self.records().items()},
                **{_FIELD + key: v for key, v in self.fields().items()}}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self._records = {key[len(_RECORD):]: list(v) for key, v in state.items() if key.startswith(_RECORD)}
        self.load_fields({key[len(_FIELD):]: v for key, v in state.items() if key.startswith(_FIELD)})


class DensityMarch(SavedTimes):
    """A density system from densities ``n`` (n_s, n_y, n_x): ``advance(n, t0, t1)`` returns n advanced from
    t0 to t1 [ns] (:func:`explicit_advance`, or the implicit path of the resolved method); ``observer(n)``
    gives the observations."""

    def __init__(self, t: np.ndarray, advance: Callable[[np.ndarray, float, float], np.ndarray], n: np.ndarray,
                 observer: Callable[[np.ndarray], dict]):
        super().__init__(t)
        self.advance_density, self.n, self.observer = advance, n, observer

    def step(self, t0: float, t1: float, k: int) -> None:
        n = self.advance_density(self.n, t0, t1)
        if not np.all(np.isfinite(n)) or n.min() < -1e-9 * max(float(np.abs(n).max()), 1e-300):
            raise RunFailed(f"non-finite or negative density at t = {t1:.4g} ns; lower the time step")
        self.n = n

    def observe(self) -> dict:
        return self.observer(self.n)

    def fields(self) -> dict[str, np.ndarray]:
        return {"n": self.n}

    def load_fields(self, fields: dict[str, np.ndarray]) -> None:
        self.n = fields["n"]


def explicit_advance(system: sg.Resolved | continuum.Continuum, dt: float, per_ns: float):
    """advance(n, t0, t1) of an explicit system (:class:`solvers.moire.sg.Resolved` or
    :class:`solvers.moire.continuum.Continuum`) with time step ``dt`` in the system's time unit, ``per_ns`` of
    them per ns (1e3 for ps, 1 for ns)."""
    return lambda n, t0, t1: system.advance(n, (t1 - t0) * per_ns, dt)


#: The arrays of a :class:`solvers.moire.kmc.Lattice` that make its state, besides ``n``, ``t``, ``events``.
_LATTICE_ARRAYS = ("ix", "iy", "spec", "trapped", "occ", "trap")


class KmcMarch(SavedTimes):
    """Kinetic Monte Carlo on ``lattice`` (nm, ps), one random ``seeds[k]`` per interval; the line cut is
    the histogram of x [µm] over ``edges`` (n_bins + 1,) [µm], per cm."""

    def __init__(self, t: np.ndarray, lattice: kmc.Lattice, seeds: np.ndarray, edges: np.ndarray, n_species: int):
        super().__init__(t)
        self.lattice, self.seeds, self.edges, self.n_species = lattice, seeds, edges, n_species

    def step(self, t0: float, t1: float, k: int) -> None:
        self.lattice.advance(t1 * 1e3, int(self.seeds[k]))

    def observe(self) -> dict:
        lattice = self.lattice
        xs, _ = lattice.positions()
        xs = xs * 1e-3
        return {"lin": np.histogram(xs, self.edges)[0] / (self.edges[1] - self.edges[0]) * 1e4,  # per µm -> per cm
                "s2": float(np.mean(xs ** 2)) if xs.size else np.nan,
                "pop": np.bincount(lattice.species(), minlength=self.n_species).astype(float),
                "trapped": lattice.trapped_count() / max(lattice.n, 1) if lattice.trap_mode else np.nan}

    def fields(self) -> dict[str, np.ndarray]:
        lattice = self.lattice
        return {**{key: getattr(lattice, key) for key in _LATTICE_ARRAYS}, "n": np.array(lattice.n),
                "t": np.array(lattice.t), "events": np.array(lattice.events)}

    def load_fields(self, fields: dict[str, np.ndarray]) -> None:
        lattice = self.lattice
        for key in _LATTICE_ARRAYS:
            setattr(lattice, key, np.array(fields[key]))
        lattice.n, lattice.t, lattice.events = int(fields["n"]), float(fields["t"]), int(fields["events"])
