"""Temporary names for atomic writes: a file is written beside its final path and renamed when complete."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

#: Part of every temporary name, so that stale ones can be found and removed.
TMP_MARK = ".tmp-"


def tmp_path(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
