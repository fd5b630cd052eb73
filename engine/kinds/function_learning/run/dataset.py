"""The result of one ``function_learning`` run as an ``xarray.Dataset`` (every variable with units)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from engine.kind import variable

from .data import Data
from .fit import Fitted

SCALARS = {  # name: (long_name, units)
    "rkhs_norm": ("RKHS norm ||f - f_0||_H = sqrt((1/m) sum a_j^2) (random features) or sqrt(c^T K c) (kernel)", "1"),
    "path_norm": ("path norm (1/m) sum_j |a_j| ||w_j||_1", "1"),
    "path_norm_l2": ("Barron norm of the particles (1/m) sum_j |a_j| ||w_j||_2", "1"),
    "weighted_path_norm": ("weighted path norm || |alpha|^T prod_l (I + 3/(LM) |U_l||W_l|) |V| ||_1", "1"),
    "discretization_error": ("RMS test error of (1/m) sum_j a(w_j) sigma(w_j.x) at the target's coefficient a", "1"),
    "n_params": ("number of trained parameters (kernel: n dual coefficients)", "1"),
}
TARGET_NORMS = {"barron_norm": "target_barron_norm", "rkhs_norm": "target_rkhs_norm"}


def _mse(f: torch.Tensor, g: torch.Tensor) -> float:
    r = f - g
    return float(torch.mean(r * r))


def dataset(data: Data, out: Fitted) -> xr.Dataset:
    """Errors, norms, the regularization and step size used and the loss curves (dims ``step``) of the fit
    ``out`` of ``data`` (no timings: benchmarks/bench_function_learning.py measures them)."""
    test_mse = _mse(out.f_test, data.f_test)
    variance = float(torch.var(data.f_test, unbiased=False))
    values = {
        "test_mse": variable(test_mse, "test mean squared error E(f - f*)^2 over the test set"),
        "train_mse": variable(_mse(out.f_train, data.y), "training mean squared error (1/n) sum (f(x_i) - y_i)^2"),
        "lam": variable(out.lam, "regularization weight used (0: none)"),
    }
    if variance > 0:
        values["test_rel_mse"] = variable(test_mse / variance, "test_mse / Var(f*) on the test set")
    for name, value in out.scalars.items():
        long_name, units = SCALARS[name]
        values[name] = variable(np.int64(value) if name == "n_params" else value, long_name, units=units)
    for name, value in data.target.norms.items():
        values[TARGET_NORMS[name]] = variable(value, f"{name.replace('_', ' ')} of the target f*")
    coords = {}
    if out.curves is not None:
        values["lr"] = variable(out.lr, "step size of the iterative method")
        values["train_loss"] = variable(out.curves.train, "training loss R = (1/2n) sum (f(x_i) - y_i)^2", ("step",))
        values["test_loss"] = variable(out.curves.test, "test loss (1/2) mean (f - f*)^2", ("step",))
        coords["step"] = ("step", out.curves.step, {"units": "1", "long_name": "training step"})
    return xr.Dataset(values, coords=coords)
