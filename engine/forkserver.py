"""The forkserver that local and Dask LocalCluster workers fork from, and the thread settings of workers.

Python's ``multiprocessing`` forkserver is one process per client process, started on first use:
it imports :mod:`engine.preload` and the module of a kind, and forks every worker from there, so
that only the first sweep of a client process pays for those imports and numba's set-up, and later
sweeps start their workers in a fraction of a second. It starts with one
BLAS/OpenMP/numba thread in its environment, which its workers inherit; it starts no thread of its
own, so forking from it is safe. On Linux the server and its workers end with their parent
(:func:`exit_with_parent`), so that none of them outlives a client killed without cleaning up. This
module imports only the standard library (and the light registry), so that ``engine run`` can start
the server before its own imports and validation, which then overlap with the server's.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys

from engine.registry import kind_module

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

PR_SET_PDEATHSIG = 1  # prctl option, <linux/prctl.h>


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


def exit_with_parent() -> None:
    """Have Linux kill this process (SIGKILL) when its parent ends: ``prctl(PR_SET_PDEATHSIG)``;
    elsewhere nothing. Starts no thread.

    The forkserver calls it (:mod:`engine.preload`; its parent is the client) and so do local workers
    (theirs is the forkserver, or the client for spawned workers): when the client is killed, the
    server and then its workers end within moments, and the resource tracker, left with no client,
    after them. Linux takes the parent to be the *thread* that started the process: a server started
    from a thread that has ended is gone, and the next sweep starts a new one.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent ended before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)
