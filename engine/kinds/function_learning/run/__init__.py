"""One run of ``function_learning``: resolve the torch device, draw the data (:mod:`.data`), fit the
model (:mod:`.fit`) and return its errors, norms and loss curves (:mod:`.dataset`); :func:`warmup`
compiles the numba arc-cosine kernel (:mod:`learners.function_learning.features`)."""

from __future__ import annotations


import torch
import xarray as xr

from engine.kind import RunContext, RunFailed
from learners.function_learning.features import warmup
from learners.function_learning.training import Diverged
from learners.training import NoDevice, device

from ..spec import FunctionLearningSpec
from .data import make_data
from .dataset import dataset
from .fit import fit

__all__ = ["run", "warmup"]


def run(spec: FunctionLearningSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run; :class:`RunFailed` when the device is missing, training diverges or
    the fitted model's predictions are not finite."""
    try:
        where = device(spec.backend.device)
    except NoDevice:
        raise RunFailed("backend.device is cuda but torch sees no CUDA device (use device: auto or cpu)") from None
    data = make_data(spec, ctx, getattr(torch, spec.backend.dtype), where)
    try:
        out = fit(spec, data, ctx)
    except Diverged as exc:
        raise RunFailed(
            f"diverged: the training loss became non-finite or exploded at step {exc.step} with step size "
            f"{exc.lr:.4g}; try a smaller step, e.g. fit.lr: {exc.lr / 4:.3g}") from None
    if not (torch.isfinite(out.f_test).all() and torch.isfinite(out.f_train).all()):
        raise RunFailed("the fitted model has non-finite predictions (ill-conditioned solve: try fit.method "
                        "ridge with a small fit.lam, or backend.dtype float64)")
    return dataset(data, out)
