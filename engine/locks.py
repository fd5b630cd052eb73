"""Per-run locks, so that two ``engine run`` of one spec compute each run once.

Every run of a results folder has its own lock: one byte of the shared, empty file ``runs/.lock``
(a POSIX record lock, ``fcntl.lockf``), at an offset given by the run id. The kernel releases a
process's locks when it ends, so a lock never outlives its holder, and one open file holds the
locks of any number of runs (the Dask client holds those of every run it has submitted).

POSIX record locks belong to a process, not to a file descriptor: closing *any* descriptor of
``runs/.lock`` releases all of the process's locks on it, so a process opens it once (one
:class:`RunLocks`) for as long as it holds locks. Where the lock file cannot be made (a worker
without the results folder, a read-only folder), runs go on unlocked.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Iterator

#: Name of the lock file in a results folder's ``runs/``.
LOCK_FILE = ".lock"


def lock_offset(run_id: str) -> int:
    """The byte of :data:`LOCK_FILE` that stands for ``run_id`` (62 bits of a hash of it: a positive ``off_t``)."""
    return int.from_bytes(hashlib.blake2b(run_id.encode(), digest_size=8).digest(), "big") >> 2


class RunLocks:
    """The run locks of one ``runs/`` folder, held by this process; use as a context manager."""

    def __init__(self, runs: str | Path):
        try:
            self._fd: int | None = os.open(Path(runs) / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError:
            self._fd = None

    def __enter__(self) -> "RunLocks":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release every lock held (closing the file does)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def acquire(self, run_id: str, wait: bool = True) -> bool:
        """Take the lock of ``run_id``, waiting while another process holds it (``wait``), or return
        False at once if it does (``wait=False``). True when held, or when runs are unlocked here."""
        if self._fd is None:
            return True
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB), 1, lock_offset(run_id))
        except OSError as exc:
            if not wait and exc.errno in (errno.EACCES, errno.EAGAIN):
                return False
            raise
        return True

    def release(self, run_id: str) -> None:
        """Give up the lock of ``run_id``."""
        if self._fd is not None:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, lock_offset(run_id))


@contextlib.contextmanager
def run_lock(run_file: Path, run_id: str) -> Iterator[None]:
    """Hold the lock of ``run_id``, whose file is ``run_file``, waiting while another process holds it."""
    with RunLocks(run_file.parent) as locks:
        locks.acquire(run_id)
        yield
