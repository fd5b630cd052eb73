"""The training loop every learner uses: steps, recorded losses, progress, a resumable state, device, threads.

:func:`train_loop` calls a learner's ``step(s)`` for ``s = start, ..., steps - 1`` and, before the first
step of a fresh run, after every ``record_every`` steps and after the last step, hands the objectives of
the steps since the last record to the learner's ``record(done, objectives)``. This is where the device is
synchronized (once per record, not per step), losses are written to the curves, divergence is detected
and a resumable state is offered; ``progress(done, steps)`` follows every record. A run resumed from the
``start`` of a saved state takes the same steps as one never interrupted.

:func:`device` resolves a device name (``cpu``, ``cuda``, ``auto``) and :func:`torch_threads` sets torch's
intra-op threads for a block (small networks lose time to intra-op synchronization on several threads).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch


class NoDevice(RuntimeError):
    """A device was asked for that torch does not find here."""


def device(name: str) -> torch.device:
    """``torch.device`` of ``name``: ``cpu``, ``cuda``, or ``auto`` (cuda when torch finds one, else cpu);
    raises :class:`NoDevice` for ``cuda`` on a machine without one."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    elif name == "cuda" and not torch.cuda.is_available():
        raise NoDevice("cuda was asked for but torch finds no CUDA device here (use auto or cpu)")
    return torch.device(name)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op threads (None: leave them), restored after."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_loop(step: Callable[[int], torch.Tensor], steps: int, record_every: int,
               record: Callable[[int, list[torch.Tensor]], None], *, start: int = 0,
               progress: Callable[[int, int], None] | None = None) -> None:
    """Take training steps ``start .. steps - 1`` and record on the schedule described in the module.

    ``step(s)`` takes step ``s`` and returns its objective as a detached 0-d tensor (left on the
    device); ``record(done, objectives)`` gets the number of steps done and the objectives since the
    previous record (empty before the first step); it may raise to stop training (divergence).
    """
    if start == 0:
        record(0, [])
    pending: list[torch.Tensor] = []
    for s in range(start, steps):
        pending.append(step(s))
        done = s + 1
        if done % record_every == 0 or done == steps:
            record(done, pending)
            pending = []
            if progress is not None:
                progress(done, steps)
