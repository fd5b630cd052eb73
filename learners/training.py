"""The training loop every learner uses: steps, recorded losses, progress, a resumable state, device, threads.

:func:`train_loop` calls a learner's ``step(s)`` for ``s = start, ..., steps - 1`` and, before the first
step of a fresh run, after every ``record_every`` steps and after the last step, hands the objectives of
the steps since the last record to the learner's ``record(done, objectives)``. This is where the device is
synchronized (once per record, not per step), losses are written to the curves, divergence is detected
and a resumable state is offered; ``progress(done, steps)`` follows every record. A run resumed from the
``start`` of a saved state takes the same steps as one never interrupted.

:func:`fit_adam` is that loop with Adam and a cosine step decay, for a learner that only has an
objective; it returns the recorded :class:`Curves`.

:func:`device` resolves a device name (``cpu``, ``cuda``, ``auto``) and :func:`torch_threads` sets torch's
intra-op threads for a block (small networks lose time to intra-op synchronization on several threads).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
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


@dataclass
class Curves:
    """Objective recorded every ``record_every`` steps: ``step`` (k,), ``train`` (mean objective of the
    steps since the previous record; NaN at step 0) and ``held_out`` (k,) (NaN without a held-out set)."""

    step: np.ndarray
    train: np.ndarray
    held_out: np.ndarray


def fit_adam(objective: Callable[[int], torch.Tensor], parameters: list[torch.nn.Parameter], steps: int,
             lr: float, record_every: int, held_out: Callable[[], torch.Tensor] | None = None,
             progress: Callable[[int, int], None] | None = None) -> Curves:
    """Minimise ``objective(step)`` (a 0-d tensor, e.g. on the minibatch of that step) over
    ``parameters`` by Adam with step ``lr`` decaying as a cosine to lr/100, in the shared training loop.
    Raises FloatingPointError naming the step when the objective stops being finite."""
    optimizer = torch.optim.Adam(parameters, lr=lr)
    n_records = math.ceil(steps / record_every) + 1
    recorded_steps = np.minimum(np.arange(n_records) * record_every, steps)
    train_curve, held_curve = np.full(n_records, np.nan), np.full(n_records, np.nan)

    def step(s: int) -> torch.Tensor:
        for group in optimizer.param_groups:
            group["lr"] = lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * s / steps)))
        loss = objective(s)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def record(done: int, objectives: list[torch.Tensor]) -> None:
        slot = math.ceil(done / record_every)
        if objectives:
            values = torch.stack(objectives).cpu().numpy()
            if not np.all(np.isfinite(values)):
                bad = done - len(values) + int(np.flatnonzero(~np.isfinite(values))[0])
                raise FloatingPointError(f"training objective not finite at step {bad} (lr {lr:g})")
            train_curve[slot] = values.mean()
        if held_out is not None:
            with torch.no_grad():
                held_curve[slot] = held_out().item()

    train_loop(step, steps, record_every, record, progress=progress)
    return Curves(recorded_steps, train_curve, held_curve)
