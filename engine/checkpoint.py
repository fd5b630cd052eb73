"""Checkpoints of long runs: a kind offers its state often, the schedule decides when to write.

A kind calls ``ctx.checkpoint(state, step)`` at convenient points (for example
after every chunk of steps); the state is written when ``every_steps`` steps or
``every_seconds`` of wall time have passed since the last write.  A restarted
run gets the last state from ``ctx.restore()`` and continues.  The file is
``runs/<run_id>.ckpt.npz``, written atomically, and removed when the run file
is complete.  States are flat mappings of names to numpy arrays or numbers.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from engine.atomic import discard_tmp, tmp_path

_log = logging.getLogger("engine.checkpoint")


class CheckpointDiscarded(Exception):
    """A checkpoint did not fit the run and was deleted: the run starts again from the beginning."""


def checkpoint_path(run_file: str | Path) -> Path:
    """The checkpoint beside a run file: ``<run_id>.ckpt.npz``."""
    run_file = Path(run_file)
    return run_file.with_name(run_file.stem + ".ckpt.npz")


class Checkpointer:
    """Writes and reads the checkpoint of one run on a schedule (steps or wall seconds)."""

    def __init__(self, path: str | Path | None, every_steps: int | None = None, every_seconds: float | None = None,
                 log: logging.Logger | None = None):
        self.path = Path(path) if path is not None else None
        self.log = log or _log  # the run's logger (``ctx.log``), whose warnings reach engine.log
        self.every_steps = every_steps
        self.every_seconds = every_seconds
        self.last_step = 0
        self._last_time = time.monotonic()

    def restore(self) -> dict[str, Any] | None:
        """The last saved state, or None when there is none (or it cannot be read)."""
        if self.path is None or not self.path.exists():
            return None
        import numpy as np  # here: engine.kind imports this module, and `engine list` loads no numpy

        try:
            with np.load(self.path, allow_pickle=False) as data:
                state = {k: (data[k][()] if data[k].ndim == 0 else data[k].copy()) for k in data.files}
        except (OSError, ValueError) as exc:
            self.log.warning("ignoring unreadable checkpoint %s: %s", self.path, exc)
            return None
        self.last_step = int(state.get("_step", 0))
        return {k: v for k, v in state.items() if k != "_step"}

    def due(self, step: int) -> bool:
        """Whether the schedule asks for a checkpoint at ``step``."""
        if self.path is None:
            return False
        by_steps = self.every_steps is not None and step - self.last_step >= self.every_steps
        by_time = self.every_seconds is not None and time.monotonic() - self._last_time >= self.every_seconds
        return by_steps or by_time

    def save(self, state: dict[str, Any], step: int) -> bool:
        """Write ``state`` if the schedule asks for it at ``step``; return whether it was written."""
        if not self.due(step):
            return False
        import numpy as np

        tmp = tmp_path(self.path)  # written through a file handle: numpy adds no ".npz"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(fh, _step=np.int64(step), **{k: np.asarray(v) for k, v in state.items()})
            os.replace(tmp, self.path)
        except OSError as exc:  # a worker without the results folder: run on without checkpoints
            self.log.warning("cannot write checkpoint %s: %s", self.path, exc)
            self.path = None
            return False
        finally:
            discard_tmp(tmp)
        self.last_step, self._last_time = step, time.monotonic()
        return True

    def discard(self, reason: str) -> None:
        """Delete a checkpoint that does not fit the run (``reason``), with a warning; the run starts over."""
        self.log.warning("discarding checkpoint %s: %s; the run starts from the beginning", self.path, reason)
        self.remove()
        self.last_step = 0

    def remove(self) -> None:
        """Delete the checkpoint (the run is complete)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
