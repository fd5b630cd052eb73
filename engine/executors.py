"""Executors: where the runs of a sweep execute.

An executor takes the list of :class:`~engine.runtime.RunTask` and yields a
:class:`~engine.runtime.RunOutcome` for each as it completes.  Workers write
their own run files and return the outcome (with the dataset, when it is small).  ``serial`` runs in this
process (debugger friendly, step progress for a single long run); ``local``
uses processes on this machine with numba/torch/BLAS threads pinned so that
workers x threads <= cores; they fork from a process that has imported what
every worker needs (:func:`worker_context`).  A local worker that dies (killed, out of memory)
costs only its runs a retry on a fresh pool (:data:`ALLOWED_WORKER_DEATHS`).  A new executor
subclasses :class:`Executor` and is added to :data:`EXECUTORS`.
"""

from __future__ import annotations

import abc
import importlib
import multiprocessing
import os
import signal
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Generator, Iterator

from engine import forkserver
from engine.forkserver import THREAD_ENV
from engine.registry import get_kind
from engine.runtime import RunOutcome, RunTask, execute, set_thread_share, start_numba
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
    #: Where the executor says what the user should know while it runs (a worker died, runs go again):
    #: the sweep sets it to write engine.log and the progress display; default: nowhere.
    note: Callable[[str], None] = staticmethod(lambda message: None)

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
            yield execute(task, progress)


def spawn_children() -> None:
    """Make the processes that this worker starts fresh interpreters, as they are in a spawned worker.

    A worker forked from the forkserver inherits its start method, and numba then guards the start
    of its thread pool with a named semaphore, which a worker stopped by Ctrl-C leaves behind (the
    resource tracker removes it, with a warning at exit)."""
    multiprocessing.set_start_method("spawn", force=True)


# A run under which this many local workers have died runs once more at most; one more death and
# it fails ("worker died: ..."). Dask's distributed.scheduler.allowed-failures (3) counts the same way.
ALLOWED_WORKER_DEATHS = 3

_announce: multiprocessing.queues.SimpleQueue | None = None  # in a worker: where it says which run it starts


def _init_worker(threads: int, kind: str, announce: multiprocessing.queues.SimpleQueue) -> None:
    """Worker start: end with the parent, leave Ctrl-C to it, pin threads, import the kind and, if it
    has numba kernels, set up numba; each run it starts is announced on ``announce``."""
    global _announce
    forkserver.exit_with_parent()
    if not multiprocessing.parent_process().is_alive():  # the client died before that took effect
        os._exit(1)
    _announce = announce
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops workers
    spawn_children()
    set_thread_share(threads)
    if get_kind(kind).compiles_kernels:
        start_numba()


def _execute_in_worker(task: RunTask) -> RunOutcome:
    """:func:`~engine.runtime.execute` in a worker: the run file is written here; the run is first
    announced as (run id, pid) to the client, which so knows whose worker died under which run."""
    if _announce is not None:
        _announce.put((task.run_id, os.getpid()))
    return execute(task)


def oom_kill_count() -> int | None:
    """How many processes of this process's memory cgroup the kernel's OOM killer has killed (the
    ``oom_kill`` line of cgroup v2 ``memory.events`` or v1 ``memory.oom_control``); None where
    neither can be read."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    files = []
    for line in lines:  # "0::/path" (v2) or "4:memory:/path" (v1)
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            files.append(Path("/sys/fs/cgroup", path.lstrip("/"), "memory.events"))
        elif "memory" in controllers.split(","):
            files.append(Path("/sys/fs/cgroup/memory", path.lstrip("/"), "memory.oom_control"))
    for file in files:
        try:
            counts = dict(line.split() for line in file.read_text().splitlines())
        except OSError:
            continue
        if "oom_kill" in counts:
            return int(counts["oom_kill"])
    return None


def death_reason(exitcode: int | None, out_of_memory: bool) -> str:
    """What the user reads about a worker that ended with ``exitcode`` (negative: killed by that signal)
    while the pool needed it; ``out_of_memory``: the kernel's OOM killer acted meanwhile."""
    if exitcode is None:
        return "worker died"
    if exitcode == -signal.SIGKILL and out_of_memory:
        return "worker died: out of memory (signal 9 from the kernel's OOM killer)"
    if exitcode < 0:
        name = signal.strsignal(-exitcode)
        return f"worker died: signal {-exitcode}" + (f" ({name})" if name else "")
    return f"worker died: exit status {exitcode}"


def blame(lost: list[str], started: dict[str, int], exitcodes: dict[int, int | None],
          out_of_memory: bool) -> dict[str, str]:
    """Which of the ``lost`` runs of a broken pool count a worker death, each with its reason.

    ``started`` maps each run a worker took to that worker's pid, ``exitcodes`` the pool's workers to
    their exit codes. Once one died, the pool terminated (SIGTERM) the others: the runs on a worker
    that ended otherwise count. If none was on one (a worker died between runs, or from another
    SIGTERM), every lost run that had started counts, else every lost run, so that each broken pool
    counts against some run and workers that die at start cannot make the sweep retry forever.
    """
    died = {pid: code for pid, code in exitcodes.items() if code != -signal.SIGTERM}
    on_dead = {run: death_reason(died[started[run]], out_of_memory) for run in lost if started.get(run) in died}
    if on_dead:
        return on_dead
    reason = death_reason(next(iter(died.values()), -signal.SIGTERM), out_of_memory)
    return dict.fromkeys([run for run in lost if run in started] or lost, reason)


class LocalExecutor(Executor):
    """Processes on this machine, started by :func:`worker_context` (forked from a process that has
    only imported modules, or spawned; never forked from the client, whose state they do not inherit).

    The workers start as soon as the kind is known (:meth:`start_workers`): each imports the
    kind and, if it has numba kernels, sets up numba before its first task (both already done
    where they fork from the forkserver); the kernels then load from numba's cache
    (``engine.runtime.warm_once``, one process at a time, so only the first may compile).

    A worker that dies (SIGKILL, the OOM killer, a crash in compiled code) breaks the pool: the runs
    in flight or queued go to a fresh pool, and a run under which workers died more than
    :data:`ALLOWED_WORKER_DEATHS` times fails with the reason (:func:`blame`).
    """

    name = "local"

    def __init__(self, workers: int | None = None, n_tasks: int | None = None, scheduler: str | None = None):
        super().__init__(workers, n_tasks, scheduler)
        self.threads = max(1, cpu_count() // self.workers)
        self._pool: ProcessPoolExecutor | None = None
        self._announced: multiprocessing.queues.SimpleQueue | None = None  # (run id, pid) as workers start runs
        self._started: dict[str, int] = {}  # run id -> pid of the worker that took it, in this pool
        self._oom_kills: int | None = None  # oom_kill_count() when this pool started
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
            context = worker_context(kind, self.threads)
            self._announced, self._started = context.SimpleQueue(), {}
            self._oom_kills = oom_kill_count()
            self._pool = ProcessPoolExecutor(self.workers, context, initializer=_init_worker,
                                             initargs=(self.threads, kind, self._announced))
            for _ in range(self.workers):  # the pool spawns a process per pending task, up to its size
                self._pool.submit(int)

    def run(self, tasks, progress=None):
        self._busy = True
        deaths: Counter[str] = Counter()  # run id -> workers that died under it
        while tasks:
            self.start_workers(tasks[0].kind)  # a fresh pool after a worker died
            lost = yield from self._run_on_pool(tasks)
            blamed = self._close_broken_pool(lost) if lost else {}
            deaths.update(blamed.keys())
            tasks = [task for task in lost if deaths[task.run_id] <= ALLOWED_WORKER_DEATHS]
            for run_id, reason in blamed.items():
                self.note(f"{reason} under run {run_id} (death {deaths[run_id]}; more than "
                          f"{ALLOWED_WORKER_DEATHS} fail the run)")
            if tasks:
                self.note(f"{len(tasks)} run(s) that were in flight or queued go to a fresh pool of workers")
            for task in lost:
                if deaths[task.run_id] > ALLOWED_WORKER_DEATHS:
                    yield RunOutcome(task.run_id, False, task.path, 0.0, blamed[task.run_id], label=task.label)
        self._busy = False

    def _run_on_pool(self, tasks: list[RunTask]) -> Generator[RunOutcome, None, list[RunTask]]:
        """Yield the outcome of each task as it completes; return the tasks lost because a worker died."""
        futures = {self._submit(task): task for task in tasks}
        lost = []
        for fut in as_completed(futures):
            self._note_started_runs()  # keeps the announcing pipe from filling up
            task = futures[fut]
            try:
                yield fut.result()
            except BrokenProcessPool:
                lost.append(task)
            except Exception as exc:  # the outcome could not come back (e.g. not picklable)
                yield RunOutcome(task.run_id, False, task.path, 0.0,
                                 f"worker failed: {type(exc).__name__}: {exc}", label=task.label)
        return lost

    def _submit(self, task: RunTask) -> Future:
        """The future of ``task`` on the pool; already failed if the pool broke while tasks were submitted."""
        try:
            return self._pool.submit(_execute_in_worker, task)
        except BrokenProcessPool as exc:
            lost: Future = Future()
            lost.set_exception(exc)
            return lost

    def _note_started_runs(self) -> None:
        """Record the runs that workers have announced since the last call."""
        while not self._announced.empty():
            run_id, pid = self._announced.get()
            self._started[run_id] = pid

    def _close_broken_pool(self, lost: list[RunTask]) -> dict[str, str]:
        """After a worker died: join the broken pool and return the lost runs that count the death,
        with its reason (:func:`blame`)."""
        workers = dict(self._pool._processes)  # pid -> Process: the only record of the workers' exit codes
        self._pool.shutdown(wait=True)  # joins every worker (the pool has terminated the living ones)
        self._note_started_runs()
        kills = oom_kill_count()
        out_of_memory = None not in (kills, self._oom_kills) and kills > self._oom_kills
        blamed = blame([task.run_id for task in lost], self._started,
                       {pid: process.exitcode for pid, process in workers.items()}, out_of_memory)
        self._announced.close()
        self._pool = None
        return blamed


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
