"""The data of one ``function_learning`` run: training and test sets drawn from the run's seed.

Random streams of the run's seed: ``target`` (random target parameters), ``inputs`` (training x),
``test_inputs`` (test x, the same for every n), ``noise`` (label noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.kind import RunContext
from learners.function_learning import data as fdata

from ..spec import FunctionLearningSpec


@dataclass
class Data:
    """Training set (x (n, d), y (n,)), test set (x_test (p, d), f_test = f*(x_test) (p,)) as tensors."""

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    f_test: torch.Tensor
    target: fdata.Target


def make_data(spec: FunctionLearningSpec, ctx: RunContext, dtype: torch.dtype, device: torch.device) -> Data:
    """Inputs from ``data.input``, labels y = f*(x) + noise (f* of ``target.kind``), as tensors of ``dtype``
    on ``device``."""
    d, t = spec.data, spec.target
    target = fdata.make_target(t.kind, d.d, ctx.rng("target"), width=t.width, depth=t.depth, frequency=t.frequency)
    x = fdata.sample_inputs(d.input, d.n, d.d, ctx.rng("inputs"))
    x_test = fdata.sample_inputs(d.input, d.n_test, d.d, ctx.rng("test_inputs"))
    y = fdata.labels(target, x, d.noise, ctx.rng("noise"))

    def tensor(a):
        return torch.tensor(a, dtype=dtype, device=device)
    return Data(tensor(x), tensor(y), tensor(x_test), tensor(target.f(x_test)), target)
