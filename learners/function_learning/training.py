"""Full-batch training loops with loss curves and divergence detection (torch).

Losses are the half mean squared error R = (1/2n) sum_i (f(x_i) - y_i)^2 (nondimensional);
a penalty lam * norm is added to the objective (min-norm estimators of the networks) but not
to the recorded curves.

Methods: ``gd`` (gradient descent, parameter groups scaled as in mean-field theory, see
:mod:`.networks`), ``particle`` (the same update read as the mean-field particle method: time
step lr, particle moves lr * m * grad), ``adam`` (Adam with torch's default betas and eps, step lr).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from learners.training import train_loop

DIVERGENCE_FACTOR = 1e6  # a loss above this times the initial one counts as diverged


class Diverged(Exception):
    """Training produced a non-finite (or exploding) loss at ``step`` with step size ``lr``."""

    def __init__(self, step: int, lr: float):
        super().__init__(f"diverged at step {step} with step size {lr:.4g}")
        self.step, self.lr = step, lr


@dataclass
class Curves:
    """Losses recorded every ``every`` steps: ``step`` (k,), ``train`` (k,), ``test`` (k,)."""

    step: np.ndarray
    train: np.ndarray
    test: np.ndarray


def half_mse(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """R = (1/2n) sum (f - y)^2."""
    r = f - y
    return 0.5 * torch.mean(r * r)


def run_steps(step: Callable[[], torch.Tensor], losses: Callable[[], tuple[torch.Tensor, torch.Tensor]],
              steps: int, every: int, lr: float, progress: Callable[[int, int], None] | None = None) -> Curves:
    """Call ``step()`` ``steps`` times (it updates the model and returns the objective before its
    update, a 0-d tensor) and record ``losses()`` = (train R, test R) at steps 0, every, 2 every, ...

    The loop is :func:`learners.training.train_loop`: the device is synchronized once per record;
    raises :class:`Diverged` with the first step whose objective was non-finite or above
    DIVERGENCE_FACTOR times the initial one, or at a recorded step whose training loss is non-finite.
    """
    n_rec = steps // every + 1
    train, test = np.full(n_rec, np.nan), np.full(n_rec, np.nan)
    limit = math.inf

    def record(done: int, objectives: list[torch.Tensor]) -> None:
        nonlocal limit
        if objectives:
            values = torch.stack(objectives).detach().cpu().numpy()
            first = done - len(values)
            if first == 0:
                limit = DIVERGENCE_FACTOR * max(float(values[0]), 1e-300)
            bad = np.flatnonzero(~(values <= limit))
            if bad.size:
                raise Diverged(first + int(bad[0]), lr)
        if done % every == 0:
            with torch.no_grad():
                r_train, r_test = losses()
            train[done // every], test[done // every] = r_train.item(), r_test.item()
            if not math.isfinite(train[done // every]):
                raise Diverged(done, lr)

    train_loop(lambda s: step(), steps, every, record, progress=progress)
    return Curves(np.arange(n_rec, dtype=np.int64) * every, train, test)


def gradient_step(model, objective: Callable[[], torch.Tensor], method: str, lr: float) -> Callable[[], torch.Tensor]:
    """``step()`` for :func:`run_steps`: one update of ``model`` by gd/particle (lr times each
    parameter group's mean-field multiplier) or Adam (lr)."""
    groups = [(params, scale) for params, scale in model.param_groups() if params]
    if method == "adam":
        return _adam_step([p for params, _ in groups for p in params], objective, lr)
    if method not in ("gd", "particle"):
        raise ValueError(f"unknown training method {method!r}")
    params = [p for ps, _ in groups for p in ps]
    scales = [scale for ps, scale in groups for _ in ps]

    def step():
        loss = objective()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, scale in zip(params, grads, scales):
                p.add_(g, alpha=-lr * scale)
        return loss.detach()
    return step


def _adam_step(params, objective, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
    """Adam (Kingma & Ba 2015, torch.optim.Adam's defaults) written out: importing torch.optim
    costs about 2 s of CPU per worker process, more than a small run itself."""
    first = [torch.zeros_like(p) for p in params]
    second = [torch.zeros_like(p) for p in params]
    count = 0

    def step():
        nonlocal count
        count += 1
        loss = objective()
        grads = torch.autograd.grad(loss, params)
        c1, c2 = 1 - betas[0] ** count, 1 - betas[1] ** count
        with torch.no_grad():
            for p, g, m1, m2 in zip(params, grads, first, second):
                m1.mul_(betas[0]).add_(g, alpha=1 - betas[0])
                m2.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                p.addcdiv_(m1, (m2 / c2).sqrt_().add_(eps), value=-lr / c1)
        return loss.detach()
    return step


def train(model, x, y, x_test, y_test, method: str, lr: float, steps: int, every: int,
          penalty: Callable[[], torch.Tensor] | None = None, lam: float = 0.0,
          progress: Callable[[int, int], None] | None = None) -> Curves:
    """Full-batch training of ``model`` on (x (n, d), y (n,)) by ``method``; objective
    R + lam * penalty(); curves of R on the training and test sets (x_test (p, d), y_test (p,))."""
    def objective():
        loss = half_mse(model(x), y)
        return loss + lam * penalty() if penalty is not None and lam > 0 else loss

    def losses():
        return half_mse(model(x), y), half_mse(model(x_test), y_test)

    return run_steps(gradient_step(model, objective, method, lr), losses, steps, every, lr, progress)
