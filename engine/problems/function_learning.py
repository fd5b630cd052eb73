"""Kind ``function_learning``: random features, kernels, two-layer networks and ResNets as
discretizations of continuous models (arXiv:1912.12777), and the Monte Carlo rate of their
minimum-norm interpolants (arXiv:1912.06987).

A run draws n training and n_test test points (sphere, Gaussian or cube), labels them with a
target f*, fits one model (random_features, kernel, two_layer, resnet, flow_random_features)
with one estimator (min_norm, ridge, gd, adam, particle with smoothing, spectral) in torch
(cpu/cuda, float32/float64) and records:

- ``test_mse`` = mean over the test set of (f - f*)^2, ``test_rel_mse`` = test_mse / Var f*,
  ``train_mse`` = mean over the training set of (f - y)^2;
- the model's norm: ``rkhs_norm`` (random_features, kernel), ``path_norm`` and
  ``path_norm_l2`` (two_layer), ``weighted_path_norm`` (resnet, flow_random_features);
  ``target_barron_norm`` / ``target_rkhs_norm`` where the target's norm is known;
- ``discretization_error`` (random_features and spectral with target feature_integral): the
  RMS error of (1/m) sum_j a(w_j) sigma(w_j.x) at the target's own coefficient function;
- ``n_params``, ``lam`` (the regularization used), ``wall_time`` [s], ``lr`` (iterative methods);
- ``train_loss(step)``, ``test_loss(step)`` (R = half mean squared error) for gd/adam/particle
  and the penalized networks.

Whole-sweep summary (``function_learning_analysis``): log-log slopes of test_mse vs data.n and
vs model.width, with standard errors over seeds.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from engine.problem import Problem, RunContext, RunFailed, variable
from engine.problems import function_learning_fit as fl
from engine.problems.function_learning_spec import FunctionLearningSpec
from learners.function_learning.training import Diverged

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


def _dataset(spec: FunctionLearningSpec, data: fl.Data, out: fl.Fitted, wall: float) -> xr.Dataset:
    test_mse = _mse(out.f_test, data.f_test)
    variance = float(torch.var(data.f_test, unbiased=False))
    values = {
        "test_mse": variable(test_mse, "test mean squared error E(f - f*)^2 over the test set"),
        "train_mse": variable(_mse(out.f_train, data.y), "training mean squared error (1/n) sum (f(x_i) - y_i)^2"),
        "lam": variable(out.lam, "regularization weight used (0: none)"),
        "wall_time": variable(wall, "wall time of the run", units="s"),
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


class FunctionLearning(Problem):
    """Random features, kernels, two-layer networks, ResNets and flow-based random features."""

    kind = "function_learning"
    version = "1"
    summary = ("min-norm interpolants and continuous-viewpoint models: random features, kernel, two-layer, ResNet, "
               "flow random features (arXiv:1912.06987, 1912.12777)")
    Spec = FunctionLearningSpec
    template_sweep = ("data.n", [50, 100, 200, 400, 800])
    smoke_overrides = ("data.n_test=100", "model.width=40", "fit.steps=20")

    def run(self, spec: FunctionLearningSpec, ctx: RunContext) -> xr.Dataset:
        start = time.perf_counter()
        try:
            device = fl.device_of(spec)
        except RuntimeError as exc:
            raise RunFailed(str(exc)) from None
        data = fl.make_data(spec, ctx, getattr(torch, spec.backend.dtype), device)
        try:
            out = fl.fit(spec, data, ctx)
        except Diverged as exc:
            raise RunFailed(
                f"diverged: the training loss became non-finite or exploded at step {exc.step} with step size "
                f"{exc.lr:.4g}; try a smaller step, e.g. fit.lr: {exc.lr / 4:.3g}") from None
        if not (torch.isfinite(out.f_test).all() and torch.isfinite(out.f_train).all()):
            raise RunFailed("the fitted model has non-finite predictions (ill-conditioned solve: try fit.method "
                            "ridge with a small fit.lam, or backend.dtype float64)")
        return _dataset(spec, data, out, time.perf_counter() - start)

    def sweep_summary(self, result: xr.Dataset) -> xr.Dataset | None:
        from engine.problems.function_learning_analysis import rates

        return rates(result)

    def report(self, result: xr.Dataset) -> str | None:
        from engine.problems.function_learning_analysis import report

        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        from engine.problems.function_learning_analysis import plot

        return plot(result, outdir)
