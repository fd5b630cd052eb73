"""The forkserver that local and Dask LocalCluster workers fork from, and the thread settings of workers.

Python's ``multiprocessing`` forkserver is one process per client process, started on first use:
it imports :mod:`engine.preload` and the module of a kind, and forks every worker from there, so
that only the first sweep of a client process pays for those imports and numba's set-up, and later
sweeps start their workers in a fraction of a second. It starts with one
BLAS/OpenMP/numba thread in its environment, which its workers inherit; it starts no thread of its
own, so forking from it is safe. This module imports only the standard library (and the light
registry), so that ``engine run`` can start the server before its own imports and validation,
which then overlap with the server's.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os

from engine.registry import kind_module

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def available() -> bool:
    """Whether this platform has a forkserver (POSIX)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def start(kind: str | None = None) -> multiprocessing.context.BaseContext:
    """The forkserver context, its server started (without waiting for its imports) if it is not running.

    The server imports :mod:`engine.preload` and, if given, ``kind``'s module and the ``run`` module
    of its package (where a kind package keeps its heavy imports: solvers, learners, torch; a kind
    without one is fine, the forkserver skips modules it cannot import); a server already running
    keeps what it imported, and workers import any other kind themselves.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["engine.preload"] + ([kind_module(kind), kind_module(kind) + ".run"] if kind else []))
    saved = set_env({name: "1" for name in THREAD_ENV})
    try:
        multiprocessing.forkserver.ensure_running()  # inherits this environment; no-op if running
    finally:
        set_env(saved)
    return ctx


def set_env(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, remove) environment variables; returns their previous values."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return saved
