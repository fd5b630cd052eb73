"""Spec of kind ``function_learning``: data, target, model, fit, output, backend sections and
the checks that tie them together (each error names the field to change).

Light: imports pydantic and :mod:`engine.spec` only (no torch)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, TorchBackend, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

#: fit methods each model has an estimator for
METHODS = {
    "random_features": ("min_norm", "ridge", "gd", "adam", "spectral"),
    "kernel": ("min_norm", "ridge", "gd"),
    "two_layer": ("min_norm", "gd", "adam", "particle"),
    "resnet": ("min_norm", "gd", "adam"),
    "flow_random_features": ("min_norm", "gd", "adam"),
}
NETWORKS = ("two_layer", "resnet", "flow_random_features")
DEFAULT_LR = {"gd": 0.5, "particle": 0.5, "adam": 3e-3, "min_norm": 3e-3}
DEFAULT_INIT_SCALE = {"gd": 1.0, "particle": 1.0, "adam": 1e-3, "min_norm": 1e-3}
DEFAULT_PENALTY = 1e-5  # lam of the path-norm penalized networks (min_norm)
SPECTRAL_DIMENSIONS = (2,)


class Data(Section):
    """Training and test inputs; labels y = f*(x) + noise."""

    input: Literal["sphere", "gaussian", "cube"] = Field(
        "sphere", description="sphere: uniform on S^{d-1}; gaussian: N(0, I/d); cube: uniform on [0, 1]^d.")
    d: int = quantity(5, units="1", description="Input dimension d.", ge=1)
    n: int = quantity(200, units="1", description="Number n of training points.", ge=1)
    n_test: int = quantity(1000, units="1", description="Number of test points (independent of n).", ge=1)
    noise: float = quantity(0.0, units="1", description="Standard deviation of Gaussian label noise.", ge=0)


class Target(Section):
    """The target function f*."""

    kind: Literal["relu_neuron", "barron", "kernel_sum", "sine", "teacher_resnet", "feature_integral"] = Field(
        "relu_neuron", description="relu_neuron: relu(x_1); barron: (1/sqrt K) sum c_k relu(v_k.x); kernel_sum: "
        "sum c_k k(x, z_k) (arc-cosine kernel, c_k = d N(0,1)); sine: sin(frequency x_1); teacher_resnet: a random "
        "ResNet of depth `depth` and width `width`; feature_integral (d = 2): (1/2pi) int a(t) relu(cos t x_1 + "
        "sin t x_2) dt, a(t) = exp(sin t + 0.3 cos 2t).")
    width: int = quantity(8, units="1", description="Neurons/centers K (barron, kernel_sum) or width M "
                          "(teacher_resnet).", ge=1)
    depth: int = quantity(4, units="1", description="Depth L of teacher_resnet.", ge=1)
    frequency: float = quantity(math.pi, units="1", description="Frequency of the sine target.", gt=0)


class Model(Section):
    """The hypothesis model, in mean-field (averaged) scaling."""

    kind: Literal["random_features", "kernel", "two_layer", "resnet", "flow_random_features"] = Field(
        "random_features", description="random_features: (1/m) sum a_j sigma(w_j.x), w_j ~ pi_0 fixed; kernel: its "
        "m -> infinity limit (arc-cosine kernel); two_layer: all of (a_j, w_j) trained; resnet: z_{l+1} = z_l + "
        "(1/(L M)) U_l sigma(W_l z_l), f = alpha.z_L; flow_random_features: the same flow with W frozen random.")
    width: int = quantity(1000, units="1", description="Number m of features/neurons, or M per residual block.", ge=1)
    activation: Literal["relu", "tanh"] = Field("relu", description="Activation sigma.")
    features: Literal["sphere", "gaussian"] = Field(
        "sphere", description="pi_0 of the inner weights: uniform on the unit sphere or N(0, I/dim).")
    depth: int = quantity(4, units="1", description="Number L of residual blocks (resnet, flow_random_features).",
                          ge=1)
    hidden_dim: int | None = quantity(None, units="1", description="Width D of the residual stream, >= d + 1 "
                                      "(default d + 1); z_0 = (x, 1, 0, ...).", ge=1)
    shared_features: bool = Field(False, description="flow_random_features: one random W for all blocks "
                                  "(default: fresh per block).")


class Fit(Section):
    """Estimator or training method."""

    method: Literal["min_norm", "ridge", "gd", "adam", "particle", "spectral"] = Field(
        "min_norm", description="min_norm: minimum-norm interpolant (closed form for random_features/kernel; "
        "path-norm (two_layer) or weighted path-norm (resnet, flow) penalty lam with Adam for the networks); ridge: "
        "(1/n)|f-y|^2 + lam |f|_H^2; gd: full-batch gradient descent, mean-field step scaling; adam; particle: "
        "the mean-field particle method (two_layer), optionally smoothed; spectral (d = 2): random_features on "
        "midpoint quadrature nodes of S^1 instead of Monte Carlo samples.")
    lam: float | None = quantity(None, units="1", description="ridge: lam (required); min_norm of the networks: "
                                 f"penalty weight (default {DEFAULT_PENALTY:g}); spectral: ridge lam (default 0: "
                                 "min-norm).", ge=0)
    lr: float | None = quantity(None, units="1", description="Step size: time step of gd/particle (a particle moves "
                                "lr * m * grad; resnet blocks lr * L * M * grad), Adam's lr; default 0.5 "
                                "(gd, particle), 3e-3 (adam, min_norm networks).", gt=0)
    steps: int = quantity(1000, units="1", description="Training steps of the iterative methods.", ge=1, le=10**8)
    init: Literal["zero", "random"] = Field(
        "random", description="Outer coefficients (a, U, alpha) at step 0: zero, or N(0, init_scale^2). Inner "
        "weights always start from pi_0. random_features/kernel closed forms ignore it; kernel gd starts from 0.")
    init_scale: float | None = quantity(None, units="1", description="Standard deviation of random outer "
                                        "coefficients; default 1 (gd, particle), 1e-3 (adam, min_norm).", ge=0)
    smoothing: float = quantity(0.0, units="1", description="Bandwidth h of the smoothed particle method: each "
                                "particle is a Gaussian blob N(w_j, h^2 I) (ReLU in closed form).", ge=0)
    rcond: float | None = quantity(None, units="1", description="Relative eigenvalue cut-off of the min-norm "
                                   "pseudo-inverse (default: n * machine epsilon).", gt=0, lt=1)

    @property
    def lr_value(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR.get(self.method, DEFAULT_LR["adam"])

    @property
    def init_scale_value(self) -> float:
        if self.init == "zero":
            return 0.0
        return self.init_scale if self.init_scale is not None else DEFAULT_INIT_SCALE.get(self.method, 1.0)


class Output(Section):
    """What is recorded."""

    every: int = quantity(10, units="1", description="Record train_loss/test_loss every `every` steps.", ge=1)


class Backend(TorchBackend):
    """Torch device and precision."""
    dtype: Literal["float64", "float32"] = Field("float64", description="Floating point type.")


class FunctionLearningSpec(ProblemSpec):
    """Spec of kind function_learning."""

    kind: Literal["function_learning"] = Field("function_learning", description="Problem kind.")
    data: Data = Field(default_factory=Data, description="Inputs and labels.")
    target: Target = Field(default_factory=Target, description="Target function.")
    model: Model = Field(default_factory=Model, description="Model.")
    fit: Fit = Field(default_factory=Fit, description="Estimator / training.")
    output: Output = Field(default_factory=Output, description="Recording.")
    backend: Backend = Field(default_factory=Backend, description="Torch device and dtype.")

    @model_validator(mode="after")
    def _consistent(self) -> "FunctionLearningSpec":
        _check_method(self)
        _check_model(self)
        if self.target.kind == "feature_integral" and self.data.d != 2:
            raise FieldError("data.d", f"target feature_integral is defined on S^1, got d = {self.data.d}", "d = 2")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)

    @property
    def hidden_dim(self) -> int:
        return self.model.hidden_dim if self.model.hidden_dim is not None else self.data.d + 1


def _check_method(spec: FunctionLearningSpec) -> None:
    model, fit = spec.model, spec.fit
    allowed = METHODS[model.kind]
    if fit.method not in allowed:
        raise FieldError("fit.method", f"model '{model.kind}' has no '{fit.method}' estimator",
                         "one of " + ", ".join(allowed))
    if fit.method == "min_norm" and model.kind in NETWORKS and model.activation != "relu":
        raise FieldError("model.activation", f"min_norm of a {model.kind} minimizes the path norm, the norm of "
                         f"the Barron / flow-induced space of the ReLU, not of '{model.activation}'",
                         "activation: relu, or fit.method gd/adam")
    if fit.method == "ridge" and not fit.lam:
        raise FieldError("fit.lam", "ridge needs a regularization lam > 0", "e.g. lam: 1e-6")
    if fit.lam is not None and fit.method not in ("ridge", "spectral") and not (
            fit.method == "min_norm" and model.kind in NETWORKS):
        raise FieldError("fit.lam", f"lam is not used by method '{fit.method}' of model '{model.kind}'",
                         "no lam (it is read by ridge, spectral and min_norm of the networks)")
    if fit.smoothing > 0 and (fit.method != "particle" or model.activation != "relu"):
        raise FieldError("fit.smoothing", "smoothing is the smoothed particle method: it needs fit.method: "
                         f"particle and activation relu, got {fit.method} / {model.activation}",
                         "smoothing: 0, or method particle with relu")
    if fit.method == "spectral":
        if spec.data.d not in SPECTRAL_DIMENSIONS:
            raise FieldError("data.d", f"the spectral method discretizes pi_0 on S^1 by quadrature; d = "
                             f"{spec.data.d} is not supported", "d = 2")
        if model.features != "sphere":
            raise FieldError("model.features", "the spectral method places features on quadrature nodes of the "
                             "sphere", "features: sphere")
    if model.kind == "kernel" and fit.method == "gd" and fit.init != "zero":
        raise FieldError("fit.init", "kernel gradient descent starts from f = 0", "init: zero")


def _check_model(spec: FunctionLearningSpec) -> None:
    model = spec.model
    if model.kind == "kernel" and model.activation != "relu":
        raise FieldError("model.activation", f"the kernel model is the closed-form arc-cosine kernel of the ReLU; "
                         f"'{model.activation}' has none", "activation: relu, or model.kind random_features")
    if model.kind in ("resnet", "flow_random_features") and spec.hidden_dim < spec.data.d + 1:
        raise FieldError("model.hidden_dim", f"hidden_dim {spec.hidden_dim} cannot hold (x, 1) of dimension "
                         f"{spec.data.d + 1}", f"hidden_dim >= {spec.data.d + 1}")
    if model.shared_features and model.kind != "flow_random_features":
        raise FieldError("model.shared_features", "only the flow_random_features model has frozen inner weights "
                         "to share", "shared_features: false")
