"""What a problem kind provides, and what a run gets from the engine.

A kind is a subclass of :class:`Problem` registered under the entry-point
group ``engine.problems``.  It names its spec model, a version string (bump it
when a change alters results: it is part of every run id), and implements
:meth:`Problem.run`, which turns one resolved spec into an ``xarray.Dataset``
whose variables carry ``units`` and ``long_name``.  Optional hooks add a
whole-sweep summary, a one-screen report and standard figures.
"""

from __future__ import annotations

import abc
import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar

import numpy as np

from engine.checkpoint import Checkpointer
from engine.spec.base import ProblemSpec

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr


def variable(value, long_name: str, dims: tuple = (), units: str = "1") -> tuple:
    """``(dims, value, attrs)`` for an ``xarray.Dataset`` variable with CF ``units`` and ``long_name``."""
    return (dims, value, {"units": units, "long_name": long_name})


class RunFailed(Exception):
    """A run that cannot produce a valid result (divergence, NaN...); the message is one line."""


def _no_progress(done: int, total: int) -> None:
    """Default progress callback: ignore."""


@dataclass
class RunContext:
    """What the engine hands to :meth:`Problem.run`.

    ``progress(done, total)`` reports progress of a long run (steps, epochs);
    ``rng(stream)`` gives an independent, reproducible generator per named
    stream, derived from the run's seed, so that e.g. the target matrix does
    not change when the initialization draws more numbers.
    """

    seed: int
    run_id: str = ""
    progress: Callable[[int, int], None] = _no_progress
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("engine.run"))
    checkpointer: Checkpointer = field(default_factory=lambda: Checkpointer(None))
    resumed_from: int | None = None
    run_file: str | None = None

    def beside_run(self, suffix: str) -> Path | None:
        """A path for a file the run keeps beside its run file (``runs/<id><suffix>``), or None
        when the run has no file (a run called outside the engine)."""
        return None if self.run_file is None else Path(self.run_file).with_suffix(suffix)

    def rng(self, stream: str) -> np.random.Generator:
        """Generator for the named ``stream`` of this run's seed."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(stream.encode())]))

    def checkpoint(self, state: dict, step: int) -> bool:
        """Offer the run's state at ``step`` (numpy arrays and numbers); written when the schedule says so."""
        return self.checkpointer.save(state, step)

    def restore(self) -> dict | None:
        """The state of the last checkpoint of this run, or None to start from the beginning."""
        state = self.checkpointer.restore()
        if state is not None:
            self.resumed_from = self.checkpointer.last_step
            self.log.info("run %s resumes from its checkpoint at step %d", self.run_id, self.resumed_from)
        return state


class Problem(abc.ABC):
    """Base class of a problem kind."""

    kind: ClassVar[str]
    version: ClassVar[str]
    summary: ClassVar[str]
    Spec: ClassVar[type[ProblemSpec]]
    #: ``--set`` overrides that shrink any spec of this kind to a quick smoke run (used by the tests).
    smoke_overrides: ClassVar[tuple[str, ...]] = ()
    #: Float variables that may hold NaN/inf in a valid run (all others are checked).
    allow_nonfinite: ClassVar[frozenset[str]] = frozenset()
    #: The sweep shown, commented, in ``engine new``: (dotted key, values).
    template_sweep: ClassVar[tuple[str, list]] = ("seed", [0, 1, 2])

    def warmup(self) -> None:
        """Compile kernels before runs fan out to workers (numba caches them on disk)."""

    @abc.abstractmethod
    def run(self, spec: ProblemSpec, ctx: RunContext) -> "xr.Dataset":
        """Run one resolved spec; raise :class:`RunFailed` for a run that fails."""

    def sweep_summary(self, result: "xr.Dataset") -> "xr.Dataset | None":
        """Variables computed across the whole sweep, added to result.nc (default: none)."""
        return None

    def report(self, result: "xr.Dataset") -> str | None:
        """A one-screen text summary of a result (default: the engine's generic one)."""
        return None

    def plot(self, result: "xr.Dataset", outdir: Path) -> list[Path]:
        """Write the kind's standard figures as PNG files into ``outdir``; return their paths."""
        return []
