"""Run one resolved spec: seed, threads, timing, non-finite checks, provenance, atomic file.

:func:`execute` is what every executor calls, in this process or in a worker.
It takes a :class:`RunTask` (plain data, cheap to send to another process)
and returns a small :class:`RunOutcome`; the dataset itself goes to disk.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import logging
import os
import socket
import tempfile
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from engine import provenance, threads
from engine.atomic import OutputError
from engine.checkpoint import CheckpointDiscarded, Checkpointer, checkpoint_path
from engine.forkserver import THREAD_ENV
from engine.kind import RunContext, RunFailed
from engine.locks import run_lock
from engine.registry import get_kind
from engine.store import run_file_problem, write_atomic

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run."""

    kind: str
    spec: dict[str, Any]  # resolved spec, JSON mode
    run_id: str
    path: str
    label: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    force: bool = False  # compute even if a valid run file exists (``engine run --force``)


@dataclass(frozen=True)
class RunOutcome:
    """What comes back from a run: status, where its file is, and why it failed."""

    run_id: str
    ok: bool
    path: str
    wall_time: float
    reason: str = ""
    traceback: str = ""
    label: str = ""
    messages: tuple[str, ...] = ()  # what the kind logged to ``ctx.log`` during the run
    unwritten: bool = False  # computed, but its run file could not be written (full disk, read-only)


def pin_threads(threads: int) -> None:
    """Limit numba and torch (already imported or not) to ``threads`` threads, and the thread variables of
    the environment (BLAS, OpenMP, numba) to as many, for a worker process as it starts."""
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    use_threads(threads)


def use_threads(threads: int) -> int:
    """Run numba's and torch's parallel code on ``threads`` threads from now on; return numba's count (at most
    the size of its thread pool). The environment is left alone: numba reads ``NUMBA_NUM_THREADS`` again at
    every compilation and refuses one that differs from its running pool's size."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return numba.get_num_threads()


_thread_share: int | None = None  # cores the executor gives each run of this process (None: all of them)


def set_thread_share(threads: int) -> None:
    """Give each run of this process ``threads`` cores at most (a local worker: cores // workers; a Dask
    worker: 1), and pin numba and torch to that many until a run chooses (:func:`run_threads`)."""
    global _thread_share
    _thread_share = threads
    pin_threads(threads)


def run_threads(kind, spec) -> tuple[int, str]:
    """The threads a run of ``spec`` gets, and why (:func:`engine.threads.choose`, within this process's
    share of cores)."""
    share = _thread_share or len(os.sched_getaffinity(0))
    memory = kind.peak_memory(spec)
    return threads.choose(threads.requested(spec.threads), share, None if memory is None else memory.nbytes)


def _seed_globals(seed: int) -> None:
    """Seed the global generators a kind may use (numpy's legacy one, torch's)."""
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    np.random.seed(seed % 2**32)


def _run_kind(kind, spec, ctx: RunContext) -> "xr.Dataset":
    """``kind.run(spec, ctx)``, once more from the beginning if it discarded a checkpoint that did not fit."""
    _seed_globals(spec.seed)
    try:
        return kind.run(spec, ctx)
    except CheckpointDiscarded:
        _seed_globals(spec.seed)
        return kind.run(spec, ctx)


def _check_finite(ds, allowed: frozenset[str]) -> None:
    for name, var in ds.data_vars.items():
        if name in allowed or var.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(var.values)
        if bad.any():
            first = tuple(int(i[0]) for i in np.nonzero(bad)) if bad.ndim else ()
            where = ", ".join(f"{d}={var[d].values[i]}" if d in var.coords else f"{d}[{i}]" for d, i in zip(var.dims, first))
            raise RunFailed(f"variable '{name}' is not finite" + (f" at {where}" if where else ""))


_WARM: set[str] = set()


@functools.cache
def start_numba() -> None:
    """Set up numba's compiler in this process (once per process) by compiling a
    trivial function that is never cached, so that it touches no cache file and needs no lock."""
    import numba

    numba.njit(cache=False)(lambda x: x + 1)(1)


def warm_once(kind: str) -> None:
    """Compile (or load from numba's cache) ``kind``'s kernels once per process.

    Processes of one host take turns (a lock file), so that two of them never
    write the same numba cache file at once; the first compiles, the others load.
    """
    if kind in _WARM:
        return
    if not get_kind(kind).compiles_kernels:
        _WARM.add(kind)
        return
    start_numba()  # outside the lock: processes set up numba at the same time, then take turns
    lock = Path(tempfile.gettempdir()) / "specengine-numba-warmup.lock"
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            get_kind(kind).warmup()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    _WARM.add(kind)


class _Messages(logging.Handler):
    """Keeps the formatted records of one run, to travel back with its outcome."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def compute(task: RunTask, progress: Callable[[int, int], None] | None = None) -> tuple[RunOutcome, "xr.Dataset | None"]:
    """Run ``task`` and return its outcome and dataset (None if it failed); writes no run file.

    Never raises except for KeyboardInterrupt.  Checkpoints, if the kind
    offers them, go beside the task's run file. What the kind logs to ``ctx.log``
    comes back in ``outcome.messages`` (the client writes it to engine.log).
    """
    log = logging.getLogger(f"engine.run.{task.run_id}")
    log.setLevel(logging.INFO)
    log.propagate = False
    messages = _Messages()
    log.addHandler(messages)
    try:
        outcome, ds = _compute(task, progress, log)
    finally:
        log.removeHandler(messages)
    return dataclasses.replace(outcome, messages=tuple(messages.lines)), ds


def _compute(task: RunTask, progress: Callable[[int, int], None] | None, log: logging.Logger):
    start = time.perf_counter()
    try:
        kind = get_kind(task.kind)
        warm_once(task.kind)
        spec = kind.Spec.model_validate(task.spec)
        schedule = spec.checkpoint
        ctx = RunContext(seed=spec.seed, run_id=task.run_id, log=log, run_file=task.path, checkpointer=Checkpointer(
            checkpoint_path(task.path), schedule.every_steps, schedule.every_seconds, log))
        if progress is not None:
            ctx.progress = progress
        kind.import_numerics()  # torch imported by the run's module after use_threads would keep its default
        n_threads, why = run_threads(kind, spec)
        n_threads = use_threads(n_threads)
        log.info("%d thread(s): %s", n_threads, why)
        ds = _run_kind(kind, spec, ctx)
        _check_finite(ds, kind.allow_nonfinite)
        wall = time.perf_counter() - start
        ds.attrs.update({
            **provenance.attributes(kind, task.spec, f"{spec.name}: {kind.kind} run {task.run_id}", task.environment),
            "engine_run_id": task.run_id,
            "engine_wall_time_s": round(wall, 6),
            "engine_resumed_from_step": -1 if ctx.resumed_from is None else ctx.resumed_from,
            "engine_worker_host": socket.gethostname(),
            "engine_threads": n_threads,
            "engine_status": "complete",
        })
        return RunOutcome(task.run_id, True, task.path, wall, label=task.label), ds
    except KeyboardInterrupt:
        raise
    except RunFailed as exc:
        reason, trace = str(exc), traceback.format_exc()
    except Exception as exc:  # a failing run must not stop the sweep: report it
        reason, trace = f"{type(exc).__name__}: {exc}".splitlines()[0], traceback.format_exc()
    return RunOutcome(task.run_id, False, task.path, time.perf_counter() - start, reason, trace, task.label), None


def store_run(outcome: RunOutcome, ds: "xr.Dataset | None") -> RunOutcome:
    """Write a computed run to its file (atomically) and drop its checkpoint; failures pass through. A file
    that cannot be written makes a failed outcome marked ``unwritten``."""
    if not outcome.ok:
        return outcome
    try:
        write_atomic(ds, outcome.path, checksum=True)
    except OutputError as exc:
        return RunOutcome(outcome.run_id, False, outcome.path, outcome.wall_time, str(exc), traceback.format_exc(),
                          outcome.label, outcome.messages, unwritten=True)
    checkpoint_path(outcome.path).unlink(missing_ok=True)
    return outcome


def execute(task: RunTask, progress: Callable[[int, int], None] | None = None) -> RunOutcome:
    """Compute ``task`` and write its file here, holding the run's lock (:func:`engine.locks.run_lock`);
    a run that another engine process computed since the sweep was planned is not computed again
    (unless ``task.force``): its file is reused."""
    with run_lock(Path(task.path), task.run_id):
        return computed_meanwhile(task) or store_run(*compute(task, progress))


def computed_meanwhile(task: RunTask) -> RunOutcome | None:
    """The outcome of ``task`` if a valid run file of it exists now (another engine process computed it
    since the sweep was planned) and it is not ``task.force``d; else None. Call it holding the run's lock."""
    if task.force or run_file_problem(Path(task.path), task.run_id) is not None:
        return None
    return RunOutcome(task.run_id, True, task.path, 0.0, label=task.label,
                      messages=("INFO computed meanwhile by another engine process: its run file is reused",))


def output_path(root: Path, run_id: str) -> Path:
    """The per-run file of ``run_id`` under a results folder."""
    return root / "runs" / f"{run_id}.nc"
