"""Atomic writes: temporary names (a file is written beside its final path and renamed when complete),
and the one error for a file that cannot be written (:class:`OutputError`)."""

from __future__ import annotations

import contextlib
import errno as errno_codes
import os
import re
import uuid
from pathlib import Path
from typing import Iterator

#: Part of every temporary name, so that stale ones can be found and removed.
TMP_MARK = ".tmp-"

#: The whole name of an engine temporary file: ``.{name}.tmp-{pid}-{8 hex}`` (see :func:`tmp_path`).
TMP_NAME = re.compile(r"\.(?P<name>.+)" + re.escape(TMP_MARK) + r"(?P<pid>[0-9]+)-[0-9a-f]{8}")


def tmp_path(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def discard_tmp(tmp: Path) -> None:
    """Delete the temporary file ``tmp`` if it is there (a write that failed before making it leaves none;
    on a read-only file system, even deleting a missing file fails)."""
    if os.path.lexists(tmp):
        tmp.unlink()


def tmp_owner(name: str) -> int | None:
    """The process id in ``name`` if it is exactly an engine temporary name (:data:`TMP_NAME`), else None."""
    match = TMP_NAME.fullmatch(name)
    return int(match["pid"]) if match else None


#: Free space (bytes) below which a write that failed without saying why is put down to a full disk.
LOW_SPACE_BYTES = 1 << 20


#: Errnos that netCDF-C reports for failures it cannot tell apart (see :func:`why_not_written`).
GUESSED_ERRNOS = frozenset({errno_codes.EACCES, errno_codes.EPERM})


class OutputError(OSError):
    """A file of the outputs could not be written (full disk, read-only or not permitted): ``cannot write
    PATH: REASON``. ``engine`` exits with its own status for it (:data:`engine.cli.EXIT_WRITE`)."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = Path(path), reason


def why_not_written(path: Path, exc: BaseException) -> str:
    """Why writing ``path`` failed with ``exc``: the system's words for an ``OSError`` with an errno, except
    where that errno is a guess; otherwise what the file system of its folder says, read while the
    partial file still takes its space.

    netCDF/HDF5 raises ``RuntimeError("NetCDF: HDF error")`` for a full disk in mid-file, and netCDF-C
    answers *every* failure of ``H5Fcreate`` with ``EACCES`` ("the more likely problem"), a full disk
    included; so "permission denied" is believed only when the folder is neither read-only nor full."""
    errno = exc.errno if isinstance(exc, OSError) else None
    if errno and errno not in GUESSED_ERRNOS:
        return _lower_first(os.strerror(errno))
    folder = next((p for p in path.parents if p.exists()), Path("."))
    try:
        fs = os.statvfs(folder)
    except OSError:
        fs = None
    if fs is not None and fs.f_flag & os.ST_RDONLY:
        return "read-only file system"
    if fs is not None and fs.f_bavail * fs.f_frsize < LOW_SPACE_BYTES:   # measured, before access()'s guess
        return "no space left on device"
    if errno:
        return _lower_first(os.strerror(errno))
    if not os.access(folder, os.W_OK):
        return "permission denied"
    return f"{type(exc).__name__}: {exc}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failure to write ``path`` inside the block (``OSError``, or netCDF's ``RuntimeError``) into
    :class:`OutputError` naming the file and the reason (:func:`why_not_written`)."""
    try:
        yield
    except OutputError:
        raise
    except (OSError, RuntimeError) as exc:
        raise OutputError(path, why_not_written(Path(path), exc)) from exc
