"""Executors: where the runs of a sweep execute.

An executor takes the list of :class:`~engine.runtime.RunTask` and yields a
:class:`~engine.runtime.RunOutcome` for each as it completes.  Workers write
their own run files and return the outcome (with the dataset, when it is small).  ``serial`` runs in this
process (debugger friendly, step progress for a single long run); ``local``
uses processes on this machine with numba/torch/BLAS threads pinned so that
workers x threads <= cores; they fork from a process that has imported what
every worker needs (:func:`worker_context`).  A new executor subclasses
:class:`Executor` and is added to :data:`EXECUTORS`.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Callable, Iterator

from engine import forkserver
from engine.forkserver import THREAD_ENV
from engine.registry import get_kind
from engine.runtime import RunOutcome, RunTask, execute, pin_threads, start_numba
from engine.spec.errors import SpecError


class ExecutorError(SpecError):
    """An executor that cannot start (bad scheduler address, missing package); reported like a spec error."""

    def __init__(self, source: str, problem: str, expected: str = ""):
        super().__init__(source, 0, 0, "executor", problem, expected)


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_context(kind: str | None, threads: int) -> multiprocessing.context.BaseContext:
    """The multiprocessing context that starts workers of ``threads`` threads for runs of ``kind``:
    the forkserver (:mod:`engine.forkserver`) for workers of one thread where the platform has
    it; otherwise fresh interpreters (``spawn``), which read the thread settings of the client's
    environment (set by :class:`LocalExecutor`)."""
    if threads != 1 or not forkserver.available():
        return multiprocessing.get_context("spawn")
    return forkserver.start(kind)


class Executor(abc.ABC):
    """Runs tasks and yields outcomes in completion order; use as a context manager."""

    name: str = ""

    def __init__(self, workers: int | None = None, n_tasks: int | None = None, scheduler: str | None = None):
        if scheduler is not None:
            raise ExecutorError(f"--scheduler {scheduler}", f"the {self.name} executor takes no scheduler address",
                                "--executor dask")
        self.workers = max(1, workers or cpu_count())
        if n_tasks:
            self.workers = min(self.workers, n_tasks)

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (called on exit, also after Ctrl-C)."""

    def start_workers(self, kind: str) -> None:
        """Start the workers now and let them import ``kind`` and set up numba (no kernel runs),
        before the client prepares the results folder (default: nothing to start)."""

    @abc.abstractmethod
    def run(self, tasks: list[RunTask], progress: Callable[[int, int], None] | None = None) -> Iterator[RunOutcome]:
        """Yield one outcome per task as each completes; ``progress`` reports steps of a running task."""


class SerialExecutor(Executor):
    """Every run in this process, one after the other."""

    name = "serial"

    def run(self, tasks, progress=None):
        for task in tasks:
            yield execute(task, progress, keep=True)


# Datasets up to this size travel back to the client with the outcome, so that combining
# result.nc does not read the run files again; larger ones are read from the run file.
RETURN_DATASET_MAX_BYTES = 64 * 2**20


def spawn_children() -> None:
    """Make the processes that this worker starts fresh interpreters, as they are in a spawned worker.

    A worker forked from the forkserver inherits its start method, and numba then guards the start
    of its thread pool with a named semaphore, which a worker stopped by Ctrl-C leaves behind (the
    resource tracker removes it, with a warning at exit)."""
    multiprocessing.set_start_method("spawn", force=True)


def _init_worker(threads: int, kind: str) -> None:
    """Worker start: leave Ctrl-C to the parent, pin threads, import the kind and, if it has numba
    kernels, set up numba."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops workers
    spawn_children()
    pin_threads(threads)
    if get_kind(kind).compiles_kernels:
        start_numba()


def _execute_in_worker(task: RunTask) -> RunOutcome:
    """:func:`~engine.runtime.execute` in a worker: the run file is written here, and the dataset
    comes back with the outcome when it is at most :data:`RETURN_DATASET_MAX_BYTES`."""
    outcome = execute(task, keep=True)
    if outcome.dataset is not None and outcome.dataset.nbytes > RETURN_DATASET_MAX_BYTES:
        outcome = dataclasses.replace(outcome, dataset=None)
    return outcome


class LocalExecutor(Executor):
    """Processes on this machine, started by :func:`worker_context` (forked from a process that has
    only imported modules, or spawned; never forked from the client, whose state they do not inherit).

    The workers start as soon as the kind is known (:meth:`start_workers`): each imports the
    kind and, if it has numba kernels, sets up numba before its first task (both already done
    where they fork from the forkserver); the kernels then load from numba's cache
    (``engine.runtime.warm_once``, one process at a time, so only the first may compile).
    """

    name = "local"

    def __init__(self, workers: int | None = None, n_tasks: int | None = None, scheduler: str | None = None):
        super().__init__(workers, n_tasks, scheduler)
        self.threads = max(1, cpu_count() // self.workers)
        self._pool: ProcessPoolExecutor | None = None
        self._busy = False  # tasks submitted and not all finished
        self._saved_env: dict[str, str | None] = {}
        self._entered = False

    def __enter__(self):
        # Set before workers start so BLAS reads them at import time in the child.
        self._saved_env = forkserver.set_env({name: str(self.threads) for name in THREAD_ENV})
        self._entered = True
        return self

    def close(self):
        if self._pool is not None:
            if self._busy:  # interrupted: stop the runs in progress now
                self._pool.shutdown(wait=False, cancel_futures=True)
                for child in multiprocessing.active_children():
                    child.terminate()
                for child in multiprocessing.active_children():
                    child.join(timeout=5)
            else:  # every task is done: the workers exit as soon as they are told
                self._pool.shutdown(wait=True)
            self._pool = None
        forkserver.set_env(self._saved_env)
        self._saved_env = {}
        self._entered = False

    def start_workers(self, kind: str) -> None:
        if not self._entered:
            raise RuntimeError("LocalExecutor must be used as a context manager")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, worker_context(kind, self.threads),
                                             initializer=_init_worker, initargs=(self.threads, kind))
            for _ in range(self.workers):  # the pool spawns a process per pending task, up to its size
                self._pool.submit(int)

    def run(self, tasks, progress=None):
        if tasks:
            self.start_workers(tasks[0].kind)
        self._busy = True
        futures: dict[Future, RunTask] = {self._pool.submit(_execute_in_worker, task): task for task in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = futures[fut]
                try:
                    yield fut.result()
                except Exception as exc:  # the worker process died (crash, out of memory)
                    yield RunOutcome(task.run_id, False, task.path, 0.0,
                                     f"worker failed: {type(exc).__name__}: {exc}", label=task.label)
        self._busy = False


EXECUTORS: dict[str, str] = {
    "serial": "engine.executors:SerialExecutor",
    "local": "engine.executors:LocalExecutor",
    "dask": "engine.dask_executor:DaskExecutor",
}


def make_executor(name: str, workers: int | None, n_tasks: int, scheduler: str | None = None) -> Executor:
    """The executor called ``name`` sized for ``n_tasks`` runs (its module is imported on demand)."""
    module, _, cls = EXECUTORS[name].partition(":")
    try:
        executor = getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise ExecutorError(f"--executor {name}", f"cannot load the {name} executor ({exc})",
                            "pip install 'specengine[dask]'" if name == "dask" else "") from None
    return executor(workers, n_tasks, scheduler)
