"""The contract between the engine and a problem kind: :class:`Kind`, :class:`RunContext`, :class:`Analysis`.

A kind is a subclass of :class:`Kind` registered under the entry-point group ``engine.problems``.
It names its spec model, a version string (bump it when a change alters results: it is part of
every run id), and where its run function lives; :meth:`Kind.run` turns one resolved spec into
an ``xarray.Dataset`` whose variables carry ``units`` and ``long_name``. What a kind offers on
results (a whole-sweep summary, a one-screen report, standard figures) is one object,
:attr:`Kind.analysis`.

The parts of a kind are named by ``"module:attribute"`` references and imported on first use: its
spec model (pydantic, when a spec is read) and its run, warmup and analysis (numba, torch, xarray,
matplotlib, when a run or a figure needs them). So the kind class itself stays light: ``engine list``
imports no model, and ``new``, ``validate`` and ``schema`` no numerics. A relative module
(``".run"``) is taken from the package of the kind class.

This module imports only the standard library and :mod:`engine.checkpoint` (numpy is imported when a
run draws random numbers).
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from engine.checkpoint import Checkpointer

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import xarray as xr

    from engine.spec.base import ProblemSpec
    from engine.spec.memory import MemoryEstimate


def variable(value, long_name: str, dims: tuple = (), units: str = "1") -> tuple:
    """``(dims, value, attrs)`` for an ``xarray.Dataset`` variable with CF ``units`` and ``long_name``."""
    return (dims, value, {"units": units, "long_name": long_name})


class RunFailed(Exception):
    """A run that cannot produce a valid result (divergence, NaN...); the message is one line."""


def _no_progress(done: int, total: int) -> None:
    """Default progress callback: ignore."""


@dataclass
class RunContext:
    """What the engine hands to a kind's run function.

    ``progress(done, total)`` reports progress of a long run (steps, epochs);
    ``rng(stream)`` gives an independent, reproducible generator per named
    stream, derived from the run's seed, so that e.g. the target matrix does
    not change when the initialization draws more numbers. Time loops use
    :func:`engine.loop.simulate`, which restores, checkpoints and reports
    progress through this context.
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

    def rng(self, stream: str) -> "np.random.Generator":
        """Generator for the named ``stream`` of this run's seed."""
        import numpy as np

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


class Analysis:
    """What a kind offers on results; a kind's ``analysis.py`` subclasses this and overrides what it has."""

    def sweep_summary(self, result: "xr.Dataset") -> "xr.Dataset | None":
        """Variables computed across the whole sweep, added to result.nc (default: none)."""
        return None

    def report(self, result: "xr.Dataset") -> str | None:
        """A one-screen text summary of a result (default: None, and the engine prints its scalar table)."""
        return None

    def plot(self, result: "xr.Dataset", outdir: Path) -> list[Path]:
        """Write the kind's standard figures as PNG files into ``outdir``; return their paths (default: none)."""
        return []


def load_reference(reference: str, anchor: str) -> Any:
    """The object named by ``"module:attribute"``; a module that starts with a dot is relative to the
    package of the module ``anchor``."""
    module, _, attribute = reference.partition(":")
    package = anchor if hasattr(sys.modules.get(anchor), "__path__") else anchor.rpartition(".")[0]
    return getattr(importlib.import_module(module, package or None), attribute)


class _SpecModel:
    """``Kind.Spec``: the model named by the kind's ``spec_class``, imported on first use and kept."""

    def __get__(self, obj, cls: type["Kind"]) -> type["ProblemSpec"]:
        model = cls.__dict__.get("_spec_model")
        if model is None:
            model = load_reference(cls.spec_class, cls.__module__)
            cls._spec_model = model
        return model


class Kind:
    """Base class of a problem kind.

    A subclass sets ``kind`` (its registered name), ``version``, ``summary``, ``spec_class`` (where its
    pydantic model is, a subclass of :class:`engine.spec.base.ProblemSpec`; read it as ``kind.Spec``)
    and ``run_function``; optionally ``warmup_function`` (compile numba kernels before runs fan out to
    workers) and ``analysis_class``. A kind may set ``Spec`` itself and override :meth:`run` instead of
    naming a run function (the test kind does).
    """

    kind: ClassVar[str]
    version: ClassVar[str]
    summary: ClassVar[str]
    #: ``"module:Class"`` of the kind's spec model (light: pydantic and numpy, no numerics).
    spec_class: ClassVar[str]
    #: The spec model, imported from ``spec_class`` on first use.
    Spec: ClassVar[type["ProblemSpec"]] = _SpecModel()
    #: ``"module:function"`` of ``run(spec, ctx) -> xarray.Dataset``; raise :class:`RunFailed` for a failed run.
    run_function: ClassVar[str | None] = None
    #: ``"module:function"`` of ``warmup()``, which compiles (or loads from numba's cache) the kind's kernels.
    warmup_function: ClassVar[str | None] = None
    #: ``"module:Class"`` of the kind's :class:`Analysis` subclass; None: the defaults.
    analysis_class: ClassVar[str | None] = None
    #: ``--set`` overrides that shrink any spec of this kind to a quick smoke run (tests, conformance).
    smoke_overrides: ClassVar[tuple[str, ...]] = ()
    #: Further smoke configurations, name -> ``--set`` overrides applied after ``smoke_overrides``: the tasks or
    #: modes of a kind that its one smoke run does not reach (the shared suites run each of them too).
    smoke_variants: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Whether runs go through a loop that checkpoints and resumes (:func:`engine.loop.simulate`, or a
    #: training loop of ``learners``), so that a run killed after a checkpoint resumes to the same result.
    resumable: ClassVar[bool] = False
    #: Float variables that may hold NaN/inf in a valid run (all others are checked).
    allow_nonfinite: ClassVar[frozenset[str]] = frozenset()
    #: The sweep shown, commented, in ``engine new``: (dotted key, values).
    template_sweep: ClassVar[tuple[str, list]] = ("seed", [0, 1, 2])
    #: Small values (dotted field -> value) that ``engine new`` writes instead of paper-size defaults, so that
    #: the template runs in under a minute on 2 cores; the template shows each default beside its value.
    template_values: ClassVar[dict[str, Any]] = {}

    def _load(self, reference: str) -> Any:
        return load_reference(reference, type(self).__module__)

    @property
    def compiles_kernels(self) -> bool:
        """Whether the kind has kernels to compile before its runs (a warmup)."""
        return self.warmup_function is not None

    def warmup(self) -> None:
        """Compile kernels before runs fan out to workers (numba caches them on disk)."""
        if self.warmup_function is not None:
            self._load(self.warmup_function)()

    def peak_memory(self, spec: "ProblemSpec") -> "MemoryEstimate | None":
        """The estimated peak memory of a run of the validated ``spec``, or None for a kind that gives none (its
        runs are not checked). A kind estimates in its spec model (:meth:`ProblemSpec.memory_estimate`): the
        sum of its big arrays, by arithmetic on the spec's sizes, each part naming the field that sets it, so
        that ``engine validate`` refuses a run too big for the machine before anything is allocated."""
        return spec.memory_estimate()

    def import_numerics(self) -> None:
        """Import the module of ``run_function`` and with it the libraries it imports (numba, torch), so that the
        thread settings the engine makes before a run reach them."""
        if self.run_function is not None:
            self._load(self.run_function)

    def run(self, spec: "ProblemSpec", ctx: RunContext) -> "xr.Dataset":
        """Run one resolved spec; raise :class:`RunFailed` for a run that fails."""
        if self.run_function is None:
            raise TypeError(f"kind '{self.kind}' names no run_function and does not override run()")
        return self._load(self.run_function)(spec, ctx)

    @functools.cached_property
    def analysis(self) -> Analysis:
        """The kind's :class:`Analysis` (imported on first use: it may need xarray and matplotlib)."""
        return Analysis() if self.analysis_class is None else self._load(self.analysis_class)()
