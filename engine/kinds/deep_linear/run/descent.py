"""Gradient descent of a ``deep_linear`` run as a resumable :class:`engine.loop.Model`: chunks of
:data:`CHUNK_STEPS` steps of the spec's backend (numba or torch), stopping early on convergence or
divergence."""

from __future__ import annotations

from typing import Callable

import numpy as np

from engine.kind import RunFailed
from engine.loop import Model
from solvers import deep_linear as dl

from ..spec import DeepLinearSpec

CHUNK_STEPS = 2000  # GD steps per interval (kernel call) between progress reports and checkpoint offers

#: ``descend(w_hidden, w_out, fit, lam, lr, n_steps, tol, every, losses, sigma_mins, start=...)``
#: -> ``(w_hidden, w_out, steps, status)``.
Descend = Callable[..., tuple[np.ndarray, np.ndarray, int, int]]


def _numba_descend(w_hidden, w_out, *args, start):
    """The numba backend (updates the weights in place) with the torch backend's return values."""
    steps, status = dl.gradient_descent(w_hidden, w_out, *args, start=start)
    return w_hidden, w_out, steps, status


def backend(spec: DeepLinearSpec) -> Descend:
    """The spec's backend: numba (float64, CPU), or torch with its dtype on its device (torch imported
    only here); a cuda device torch does not find is a failed run."""
    if spec.backend == "numba":
        return _numba_descend
    import torch

    from learners.deep_linear import gradient_descent_torch
    from learners.training import NoDevice, device

    try:
        where = device(spec.device)
    except NoDevice:
        raise RunFailed("device: cuda was asked for but torch finds no CUDA device here "
                        "(use device: auto or cpu)") from None
    dtype = getattr(torch, spec.dtype)

    def descend(*args, start):
        return gradient_descent_torch(*args, start=start, dtype=dtype, device=where)
    return descend


class GradientDescent(Model):
    """Full-batch GD from ``(w_hidden (L, d, d), w_out (d_y, d))`` on the loss with fitted target ``fit``
    (d_y, d) and covariance ``lam`` (d, d), step size ``lr``, threshold ``tol`` on the excess loss.

    ``losses`` and ``sigma_mins`` (``max_steps // every + 1``,) hold R - R* and sigma_min(P) of every
    ``every``-th step (NaN where not reached); ``done`` counts the steps taken, ``status`` says why the
    descent stopped (:class:`solvers.deep_linear.Status`)."""

    def __init__(self, descend: Descend, w_hidden: np.ndarray, w_out: np.ndarray, fit: np.ndarray,
                 lam: np.ndarray, lr: float, tol: float, max_steps: int, every: int):
        self.descend, self.fit, self.lam, self.lr, self.tol = descend, fit, lam, lr, tol
        self.max_steps, self.every = max_steps, every
        self.n_intervals = -(-max_steps // CHUNK_STEPS)
        self.w_hidden, self.w_out = w_hidden, w_out
        self.losses = np.full(max_steps // every + 1, np.nan)
        self.sigma_mins = np.full(max_steps // every + 1, np.nan)
        self.done, self.status = 0, dl.Status.MAX_STEPS

    def advance(self, k: int) -> None:
        chunk = min(CHUNK_STEPS, self.max_steps - self.done)
        self.w_hidden, self.w_out, steps, status = self.descend(
            self.w_hidden, self.w_out, self.fit, self.lam, self.lr, chunk, self.tol, self.every, self.losses,
            self.sigma_mins, start=self.done)
        self.done += steps
        self.status = dl.Status(status)

    def finished(self) -> bool:
        return self.status != dl.Status.MAX_STEPS

    def steps(self, intervals: int) -> int:
        return min(intervals * CHUNK_STEPS, self.max_steps)

    def state(self) -> dict[str, np.ndarray]:
        return {"w_hidden": self.w_hidden, "w_out": self.w_out, "losses": self.losses,
                "sigma_mins": self.sigma_mins, "done": self.done}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.w_hidden, self.w_out = state["w_hidden"], state["w_out"]
        self.losses, self.sigma_mins = state["losses"], state["sigma_mins"]
        self.done = int(state["done"])
