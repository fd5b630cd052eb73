"""The ``dask`` executor: runs on a Dask distributed cluster, local or remote.

Without an address it starts a ``LocalCluster`` (processes, one thread per
worker, workers = cores; every server on 127.0.0.1, no dashboard) and closes it at the end; with ``--scheduler ADDRESS``
(or ``ENGINE_DASK_SCHEDULER``) it connects to a running cluster and never shuts
it down.  Each task is named ``run-<run_id>``.  A worker computes the run and
sends the dataset back; the client writes the run file, so workers need no
shared filesystem. The client holds each run's lock (:mod:`engine.locks`) from its submission until
its file is written, so that another ``engine run`` of the spec does not compute it too.  A worker that dies is replaced by the scheduler, which
reruns its tasks elsewhere (up to ``distributed.scheduler.allowed-failures``
times).

Worker setup: every task pins numba and torch to one thread (numba's setting
is per thread, so it is made in the thread that runs the task); the nanny
already starts workers with one BLAS/OpenMP thread; a LocalCluster started here runs no
worker profiler (it samples the task thread every 10 ms).  A worker compiles (or
loads from numba's cache) a kind's kernels before its first run of it, under a
lock file of its host (``engine.runtime.warm_once``), so that processes on one
machine never write the same cache file at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dask
import distributed

from engine import forkserver
from engine.executors import Executor, ExecutorError, spawn_children
from engine.locks import RunLocks
from engine.runtime import RunOutcome, compute, computed_meanwhile, set_thread_share, store_run

CONNECT_TIMEOUT_S = 5
LOOPBACK = "127.0.0.1"  # the only address a LocalCluster started here listens on
SCHEDULER_EXAMPLE = "tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"


def _in_process_scheduler_at(location: str) -> bool:
    """Whether a scheduler of this process listens at ``inproc://<location>``."""
    from distributed.comm.inproc import global_manager

    try:
        return global_manager.get_listener_for(location) is not None
    except ValueError:  # not HOST/PID/N, or another process's
        return False


def check_scheduler_address(address: str) -> None:
    """Raise :class:`ExecutorError` unless ``address`` is ``[SCHEME://]HOST:PORT`` with a network
    scheme (tcp, tls, ws, wss, ucx; tcp when omitted) and a port 1..65535, or the ``inproc://``
    address of a scheduler running in this process.

    ``distributed.Client`` raises a ValueError for a malformed address, and the half-made client
    then hangs for 10 s on exit; checked here, before any client exists."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    network = sorted(set(backends) - {"inproc"})
    try:
        scheme, location = parse_address(address)
        if scheme == "inproc":
            if not _in_process_scheduler_at(location):
                raise ValueError("no scheduler runs at this inproc:// address in this process")
            return
        if scheme not in network:
            raise ValueError(f"'{scheme}://' is not a Dask scheduler protocol (one of: {', '.join(network)})")
        _, port = parse_host_port(location)
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
    except ValueError as exc:
        raise ExecutorError(f"--scheduler {address}", f"not a scheduler address: {exc}", SCHEDULER_EXAMPLE) from None


def check_client_tls(address: str) -> None:
    """Raise :class:`ExecutorError` when ``address`` is ``tls://`` but Dask's config gives the client no
    certificate (``distributed.comm.tls.ca-file`` and ``distributed.comm.tls.client.cert``).

    ``distributed.Client`` would raise a TypeError and then hang for 10 s on exit."""
    security = distributed.Security()
    if address.startswith("tls://") and not (security.tls_ca_file and security.tls_client_cert):
        raise ExecutorError(f"--scheduler {address}", "a tls:// scheduler needs the client's certificate",
                            "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
                            "distributed.comm.tls.client.key in Dask's config, "
                            "e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE")


def run_on_worker(task):
    """Task function on a worker: one numba/torch thread for this task's thread, then compute.

    Returns (outcome, dataset); the client writes the file.  numba's thread
    count is per calling thread, so it is set here, in the thread that runs the task.
    """
    spawn_children()
    set_thread_share(1)
    return compute(task)


class DaskExecutor(Executor):
    """Runs on ``dask.distributed``; see the module docstring."""

    name = "dask"

    def __init__(self, workers: int | None = None, n_tasks: int | None = None, scheduler: str | None = None):
        super().__init__(workers, n_tasks)
        if scheduler:
            check_scheduler_address(scheduler)
            check_client_tls(scheduler)
        self.scheduler = scheduler
        self._cluster = None
        self._client = None
        self._futures: list = []

    def __enter__(self):
        logging.getLogger("distributed").setLevel(logging.ERROR)
        try:
            if self.scheduler:
                self._client = distributed.Client(self.scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
            else:
                # Workers sample their task thread's stack every 10 ms for Dask's profile plots; on a
                # machine whose cores all run kernels that costs up to a quarter of a run's time.
                config = {"distributed.worker.profile.enabled": False}
                if forkserver.available():  # workers fork from the engine's forkserver (engine.preload)
                    forkserver.start()
                    config["distributed.worker.multiprocessing-method"] = "forkserver"
                with dask.config.set(config):
                    # every server on 127.0.0.1; no dashboard, but the scheduler's HTTP server (health,
                    # metrics) would otherwise take port 8787 of the host's address
                    self._cluster = distributed.LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},
                        silence_logs=logging.ERROR, death_timeout="15s")
                self._client = distributed.Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self.close()
            if self.scheduler:
                raise ExecutorError(f"--scheduler {self.scheduler}", f"cannot reach the Dask scheduler ({exc})",
                                    "the address of a running scheduler, e.g. tcp://host:8786") from None
            raise ExecutorError("--executor dask", f"cannot start a Dask LocalCluster ({exc})") from None
        self.workers = len(self._client.scheduler_info(n_workers=-1)["workers"]) or self.workers
        return self

    def close(self):
        if self._client is not None:
            if self._futures:
                self._client.cancel(self._futures)
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        self._futures = []

    def run(self, tasks, progress=None):
        """Compute the tasks whose run locks (:mod:`engine.locks`) this client can take, holding each
        until its file is written; then wait for the others, which another engine process is computing,
        and reuse their files, or compute them in another round if that process did not write them."""
        if not tasks:
            return
        with RunLocks(Path(tasks[0].path).parent) as locks:
            while tasks:
                mine, others = [], []
                for task in tasks:
                    (mine if locks.acquire(task.run_id, wait=False) else others).append(task)
                yield from self._reused(mine, locks)
                yield from self._compute(mine, locks)
                tasks = []
                for task in others:  # one lock at a time, so that no two engines wait on each other
                    locks.acquire(task.run_id)  # waits while the other process computes it
                    outcome = computed_meanwhile(task)
                    locks.release(task.run_id)
                    if outcome is None:  # that process did not write it: computed in the next round
                        tasks.append(task)
                    else:
                        yield outcome

    @staticmethod
    def _reused(tasks: list, locks: RunLocks):
        """Yield the outcome of each of ``tasks`` (their locks held) whose run file another engine process
        wrote meanwhile, releasing its lock and removing it from ``tasks``."""
        for task in list(tasks):
            outcome = computed_meanwhile(task)
            if outcome is not None:
                tasks.remove(task)
                locks.release(task.run_id)
                yield outcome

    def _compute(self, tasks, locks: RunLocks):
        """Submit ``tasks`` (their locks held); write each run file as its result comes, then release its lock."""
        by_key = {f"run-{t.run_id}": t for t in tasks}
        self._futures = [self._client.submit(run_on_worker, t, key=key, pure=False) for key, t in by_key.items()]
        # with_results: each result is fetched by the client's event loop as soon as its task
        # finishes, while this thread writes the run files of earlier ones
        for future, result in distributed.as_completed(self._futures, loop=self._client.loop, with_results=True,
                                                       raise_errors=False):
            task = by_key[future.key]
            future.release()
            if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], RunOutcome):
                outcome = store_run(*result)
            else:
                # the task could not run (worker deaths beyond the retry limit...): an exception, or
                # (type, exception, traceback); the future's status may have moved on since (a lost worker)
                exc = result[1] if isinstance(result, tuple) else result
                outcome = RunOutcome(task.run_id, False, task.path, 0.0, f"{type(exc).__name__}: {exc}",
                                     label=task.label)
            locks.release(task.run_id)
            yield outcome
        self._futures = []
