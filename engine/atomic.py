"""Temporary names for atomic writes: a file is written beside its final path and renamed when complete."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

#: Part of every temporary name, so that stale ones can be found and removed.
TMP_MARK = ".tmp-"

#: The whole name of an engine temporary file: ``.{name}.tmp-{pid}-{8 hex}`` (see :func:`tmp_path`).
TMP_NAME = re.compile(r"\.(?P<name>.+)" + re.escape(TMP_MARK) + r"(?P<pid>[0-9]+)-[0-9a-f]{8}")


def tmp_path(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def tmp_owner(name: str) -> int | None:
    """The process id in ``name`` if it is exactly an engine temporary name (:data:`TMP_NAME`), else None."""
    match = TMP_NAME.fullmatch(name)
    return int(match["pid"]) if match else None
