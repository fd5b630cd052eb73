"""The resumable time loop of every time-stepping kind, in the spirit of Oceananigans' ``Simulation``.

A kind describes its time stepping as a :class:`Model`: a number of intervals (between saved times,
or chunks of steps), how to advance through one, and its state as a flat mapping of numpy arrays.
:func:`simulate` owns the loop: it restores the state of the run's last checkpoint, advances
interval by interval, checks that the model's watched arrays stay finite, reports progress, and
offers a checkpoint after every interval (written when the run's schedule says so). A run resumed
from a checkpoint takes the same steps as one that was never interrupted, so its result is bitwise
the same.

:func:`save_times` is the one definition of the output times of a run.
"""

from __future__ import annotations

import abc
import math

import numpy as np

from engine.checkpoint import CheckpointDiscarded
from engine.kind import RunContext, RunFailed

#: Relative tolerance of :func:`save_times`: a multiple of ``every`` this close to ``t_final`` is ``t_final``.
SAVE_TOLERANCE = 1e-9
_INTERVAL = "_interval"  # the checkpoint key of the number of intervals done


def save_times(t_final: float, every: float | None = None, default_intervals: int = 10) -> np.ndarray:
    """Output times ``0, every, 2 every, ...`` up to and including ``t_final`` (shape ``(n_t,)``, the
    units of ``t_final``); ``every`` defaults to ``t_final / default_intervals``. A multiple of
    ``every`` within :data:`SAVE_TOLERANCE` (relative) of ``t_final`` is replaced by ``t_final``
    itself, so that the last saved time is exactly the requested one."""
    every = every or t_final / default_intervals
    t = every * np.arange(int(math.floor(t_final / every * (1.0 + SAVE_TOLERANCE))) + 1)
    return np.append(t[t < t_final * (1.0 - SAVE_TOLERANCE)], t_final)


class Model(abc.ABC):
    """A time-stepping model that :func:`simulate` drives through ``n_intervals`` intervals."""

    #: Number of intervals of the whole run (saved times, or chunks of steps).
    n_intervals: int
    #: What a user can do when a watched array is not finite (e.g. "lower time.cfl"), added to the error.
    advice: str = ""

    @abc.abstractmethod
    def advance(self, k: int) -> None:
        """Advance through interval ``k`` (0-based) and record what is saved at its end."""

    @abc.abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue after the current interval (numpy arrays and numbers)."""

    @abc.abstractmethod
    def load(self, state: dict[str, np.ndarray]) -> None:
        """Continue from a ``state`` returned by :meth:`state` (read back from a checkpoint)."""

    def steps(self, intervals: int) -> int:
        """The step count of the checkpoint schedule after ``intervals`` intervals (default: intervals)."""
        return intervals

    def finished(self) -> bool:
        """Whether the run ends before its last interval (e.g. converged); checked after each interval."""
        return False

    def watched(self) -> dict[str, np.ndarray]:
        """Arrays that must stay finite, checked after every interval (default: none)."""
        return {}


def _check_finite(model: Model, k: int) -> None:
    for name, values in model.watched().items():
        bad = ~np.isfinite(np.asarray(values))
        if bad.any():
            where = f" at index {tuple(int(i[0]) for i in np.nonzero(bad))}" if bad.ndim else ""
            raise RunFailed(f"'{name}' is not finite{where} after interval {k + 1} of {model.n_intervals}"
                            + (f"; {model.advice}" if model.advice else ""))


def _resume(model: Model, ctx: RunContext, saved: dict[str, np.ndarray]) -> int:
    """Load a checkpoint's state into ``model`` and return its number of intervals done. A checkpoint
    whose keys or shapes do not fit the model (``load`` raises KeyError or ValueError) is discarded
    with a warning, and :class:`~engine.checkpoint.CheckpointDiscarded` asks the engine to run the
    kind again from the beginning (the model may hold part of the state)."""
    try:
        intervals = int(saved.pop(_INTERVAL))
        model.load(saved)
    except (KeyError, ValueError) as exc:
        ctx.checkpointer.discard(f"it does not fit this run ({type(exc).__name__}: {exc})")
        ctx.resumed_from = None
        raise CheckpointDiscarded(str(exc)) from exc
    return intervals


def simulate(model: Model, ctx: RunContext) -> int:
    """Run ``model`` to its end (or until it is :meth:`~Model.finished`), resuming from the run's
    checkpoint if it has one; return the number of intervals done. Progress is reported as
    ``(intervals done, n_intervals)``."""
    saved = ctx.restore()
    start = 0 if saved is None else _resume(model, ctx, saved)
    done = start
    for k in range(start, model.n_intervals):
        model.advance(k)
        _check_finite(model, k)
        done = k + 1
        ctx.progress(done, model.n_intervals)
        if model.finished():
            break
        step = model.steps(done)
        if ctx.checkpointer.due(step):
            ctx.checkpoint({**model.state(), _INTERVAL: done}, step)
    return done
