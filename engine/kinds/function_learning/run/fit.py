"""The fit of one ``function_learning`` run: build the model and fit it by the spec's estimator
(learners.function_learning), on one torch thread when the problem is small.

Random streams of the run's seed: ``features`` (random features / initial inner weights), ``init``
(initial outer coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.kind import RunContext
from learners.function_learning import data as fdata
from learners.function_learning import linear
from learners.function_learning.features import sample_features
from learners.function_learning.networks import ResNet, TwoLayer, resnet_weights
from learners.function_learning.training import Curves, train
from learners.training import torch_threads

from ..spec import DEFAULT_PENALTY, FunctionLearningSpec
from .data import Data

SMALL_WORK = 2 ** 22  # points x features of a problem that runs on one torch thread


@dataclass
class Fitted:
    """Predictions on the training and test sets, scalars (name -> value) and the loss curves."""

    f_train: torch.Tensor
    f_test: torch.Tensor
    scalars: dict[str, float] = field(default_factory=dict)
    curves: Curves | None = None
    lam: float = 0.0
    lr: float = float("nan")


def _outer_init(spec: FunctionLearningSpec, shape, ctx: RunContext) -> np.ndarray:
    return spec.fit.init_scale_value * ctx.rng("init").standard_normal(shape)


def fit_random_features(spec: FunctionLearningSpec, data: Data, ctx: RunContext) -> Fitted:
    """Random features (Monte Carlo or, for ``spectral``, midpoint quadrature nodes) fitted by
    min_norm / ridge / spectral (closed form; in the m x m primal system when m < n, else in the
    n x n dual one), gd (dual form) or adam."""
    m, fit = spec.model.width, spec.fit
    lam = fit.lam or 0.0
    if fit.method == "spectral":
        w = fdata.midpoint_nodes(m)
    else:
        w = sample_features(spec.model.features, m, spec.data.d, ctx.rng("features"))
    a0 = _outer_init(spec, m, ctx) if fit.method in ("gd", "adam") else np.zeros(m)
    if fit.method == "adam":
        model = TwoLayer(w, a0, spec.model.activation, train_inner=False, dtype=data.x.dtype, device=data.x.device)
        out = _train(spec, data, model, ctx)
        a, kernel = model.a.detach(), linear.RandomFeatureKernel(model.w.detach(), spec.model.activation)
    elif fit.method in ("min_norm", "ridge", "spectral") and m < spec.data.n:
        kernel = linear.RandomFeatureKernel(_tensor(w, data), spec.model.activation)
        if lam > 0:
            a = kernel.ridge_primal(data.x, data.y, lam)
        else:
            a = kernel.min_norm_primal(data.x, data.y, fit.rcond)
        out = Fitted(kernel.predict(data.x, a), kernel.predict(data.x_test, a), lam=lam)
    else:
        kernel = linear.RandomFeatureKernel(_tensor(w, data), spec.model.activation)
        a0 = _tensor(a0, data)
        f0 = kernel.predict(data.x, a0)
        if fit.method == "gd":
            out, c = _fit_gd(spec, data, kernel(data.x, data.x), kernel(data.x_test, data.x), f0,
                             kernel.predict(data.x_test, a0), ctx)
        else:
            if lam > 0:
                c, kc = kernel.ridge(data.x, data.y - f0, lam)
            else:
                c, kc = kernel.min_norm(data.x, data.y - f0, fit.rcond)
            out = Fitted(f0 + kc, None, lam=lam)
        a = a0 + kernel.coefficients(data.x, c)
        out.f_test = kernel.predict(data.x_test, a)
    out.scalars["rkhs_norm"] = float(torch.sqrt(a @ a / m))
    out.scalars["n_params"] = m
    if data.target.coefficient is not None:
        error = kernel.predict(data.x_test, _tensor(data.target.coefficient(w), data)) - data.f_test
        out.scalars["discretization_error"] = float(torch.sqrt(torch.mean(error * error)))
    return out


def fit_kernel(spec: FunctionLearningSpec, data: Data, ctx: RunContext) -> Fitted:
    """The arc-cosine kernel model fitted by min_norm / ridge (Cholesky) / gd (from 0); the n x n
    kernel matrix is evaluated once, for the fit and the RKHS norm."""
    fit = spec.fit
    k = linear.arccos(data.x, data.x)
    if fit.method == "gd":
        out, c = _fit_gd(spec, data, k, linear.arccos(data.x_test, data.x), torch.zeros_like(data.y),
                         torch.zeros_like(data.f_test), ctx)
    else:
        lam = fit.lam or 0.0
        c = linear.ridge(k, data.y, lam) if lam > 0 else linear.min_norm(k, data.y, fit.rcond)
        out = Fitted(k @ c, linear.arccos(data.x_test, data.x) @ c, lam=lam)
    out.scalars["rkhs_norm"] = linear.rkhs_norm(k, c)
    out.scalars["n_params"] = spec.data.n
    return out


def _tensor(a: np.ndarray, data: Data) -> torch.Tensor:
    return torch.tensor(a, dtype=data.x.dtype, device=data.x.device)


def _fit_gd(spec, data: Data, k, k_test, f0, f0_test, ctx: RunContext) -> tuple[Fitted, torch.Tensor]:
    """Dual coefficients c of f = f0 + k(., X) c by gradient descent from c = 0: k (n, n) the kernel
    matrix, k_test (p, n) the test kernel, f0 (n,) and f0_test (p,) the initial predictions."""
    fit = spec.fit
    c, curves = linear.gradient_descent(k, data.y, k_test, data.f_test, f0, f0_test, fit.lr_value, fit.steps,
                                        spec.output.every, ctx.progress)
    return Fitted(f0 + k @ c, f0_test + k_test @ c, curves=curves, lr=fit.lr_value), c


def fit_network(spec: FunctionLearningSpec, data: Data, ctx: RunContext) -> Fitted:
    """two_layer, resnet or flow_random_features trained by the spec's method; min_norm adds the
    (weighted) path-norm penalty lam and trains with Adam."""
    model = build_network(spec, ctx, data.x.dtype, data.x.device)
    out = _train(spec, data, model, ctx)
    with torch.no_grad():
        if isinstance(model, TwoLayer):
            out.scalars["path_norm"] = float(model.path_norm(1))
            out.scalars["path_norm_l2"] = float(model.path_norm(2))
        else:
            out.scalars["weighted_path_norm"] = float(model.weighted_path_norm(spec.data.d))
    out.scalars["n_params"] = model.n_params()
    return out


def build_network(spec: FunctionLearningSpec, ctx: RunContext, dtype, device):
    """The initial torch model of a network spec (inner weights from pi_0, outer ones from init)."""
    mdl, fit = spec.model, spec.fit
    if mdl.kind == "two_layer":
        w0 = sample_features(mdl.features, mdl.width, spec.data.d, ctx.rng("features"))
        return TwoLayer(w0, _outer_init(spec, mdl.width, ctx), mdl.activation, train_inner=True,
                        smoothing=fit.smoothing, dtype=dtype, device=device)
    scale = fit.init_scale_value
    w0, u0, alpha0 = resnet_weights(spec.data.d, spec.hidden_dim, mdl.depth, mdl.width, mdl.features,
                                    mdl.shared_features, scale, scale, ctx.rng("features"))
    return ResNet(w0, u0, alpha0, mdl.activation, train_inner=mdl.kind == "resnet", dtype=dtype, device=device)


def _train(spec: FunctionLearningSpec, data: Data, model, ctx: RunContext) -> Fitted:
    fit = spec.fit
    penalized = fit.method == "min_norm"
    lam = (fit.lam if fit.lam is not None else DEFAULT_PENALTY) if penalized else 0.0
    penalty = None
    if penalized:
        penalty = model.path_norm if isinstance(model, TwoLayer) else lambda: model.weighted_path_norm(spec.data.d)
    method = "adam" if penalized else fit.method
    curves = train(model, data.x, data.y, data.x_test, data.f_test, method, fit.lr_value, fit.steps,
                   spec.output.every, penalty=penalty, lam=lam, progress=ctx.progress)
    with torch.no_grad():
        return Fitted(model(data.x), model(data.x_test), curves=curves, lam=lam, lr=fit.lr_value)


def _threads(spec: FunctionLearningSpec):
    """The torch threads of the fit: one for small problems (points x features below SMALL_WORK),
    where intra-op threads only add synchronization (and spinning threads on a busy machine);
    torch's setting otherwise. Restored after."""
    width = spec.data.n if spec.model.kind == "kernel" else spec.model.width
    if spec.model.kind in ("resnet", "flow_random_features"):
        width *= spec.model.depth
    return torch_threads(1 if width * max(spec.data.n, spec.data.n_test) < SMALL_WORK else None)


def fit(spec: FunctionLearningSpec, data: Data, ctx: RunContext) -> Fitted:
    """Dispatch on model.kind."""
    fitter = {"random_features": fit_random_features, "kernel": fit_kernel}.get(spec.model.kind, fit_network)
    with _threads(spec):
        return fitter(spec, data, ctx)
