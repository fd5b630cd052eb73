"""Kind ``deep_linear``: gradient descent on deep linear residual networks (arXiv:1911.00645).

Model ``f(x) = W_{L+1} (I + W_L) ... (I + W_1) x`` with d x d residual blocks
and a d_y x d output layer, trained by full-batch gradient descent on

    R = 1/2 ||(W_{L+1} P - Phi) Lambda^{1/2}||_F^2 + R*,   P = (I + W_L) ... (I + W_1).

Without ``data`` this is the population loss with Lambda = I and R* = 0.
With ``data``, inputs X (d x n) and labels Y = Phi X + noise are generated
from the run's seed; the empirical loss (1/2n) sum_i ||f(x_i) - y_i||^2 equals
the form above with Lambda = X X^T/n, Phi replaced by the least-squares fit
Y X^T (X X^T)^{-1}, and R* the irreducible (noise) loss.  ``optimizer.tol``
applies to the excess loss R - R*.

Variables of a run (all nondimensional, units "1"):

- ``loss(step)``: R every ``output.every`` steps; ``sigma_min(step)``: the
  smallest singular value of P;
- ``iterations_to_tol`` (-1 if not reached), ``converged`` (0/1),
  ``final_loss``, ``sigma_min_final``, ``invariant_drift`` =
  ||W_{L+1}^T W_{L+1} - Theta_L Theta_L^T + I||_F with Theta_L = I + W_L
  (0 along the gradient flow from ZAS), ``loss_floor`` (R*), ``lr_effective``
  (the step size used), ``target_norm`` (||Phi||_2).

Whole-sweep summary, when ``model.depth`` is swept: ``depth_exponent``, the
fitted b of iterations_to_tol ~ a depth^b over the converged runs, for every
value of the other sweep keys (e.g. per ``init.scheme``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr
from pydantic import Field, model_validator

from engine.problem import Problem, RunContext, RunFailed, variable
from engine.spec import FieldError, ProblemSpec, Section, quantity
from solvers import deep_linear as dl

SQUARE_TARGETS = ("negative_identity", "orthogonal", "negative_definite", "positive_definite", "diagonal")
DEFAULT_NOISE = {"near_identity": 0.01}
CHUNK_STEPS = 2000  # steps per kernel call between progress reports


class Network(Section):
    """Shape of the network."""

    dim: int = quantity(5, units="1", description="Width d of the input and of every residual block.", ge=1)
    depth: int = quantity(8, units="1", description="Number L of residual blocks.", ge=1)
    out_dim: int | None = quantity(None, units="1", description="Output dimension d_y; default: dim.", ge=1)

    @model_validator(mode="before")
    @classmethod
    def _default_out_dim(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("out_dim") is None:
            data = {**data, "out_dim": data.get("dim", cls.model_fields["dim"].default)}
        return data


class Target(Section):
    """The target matrix Phi (d_y x d)."""

    kind: Literal["gaussian", "negative_identity", "orthogonal", "negative_definite",
                  "positive_definite", "diagonal", "matrix"] = Field(
        "negative_identity",
        description="gaussian: G/sqrt(d); negative_identity: -I; orthogonal: random with det -1; "
        "negative_definite: -(I + G G^T/d)/2; positive_definite: (I + G G^T/d)/2; diagonal: diag(values); "
        "matrix: the given rows. G has iid N(0, 1) entries from the run's seed.")
    scale: float = quantity(1.0, units="1", description="Factor multiplying the target.", gt=0)
    values: list[float] | None = Field(None, description="Diagonal entries for kind 'diagonal' (d numbers).")
    matrix: list[list[float]] | None = Field(None, description="Rows of Phi for kind 'matrix' (d_y rows of d numbers).")


class Data(Section):
    """Generated training data; without this section the loss is the population one with Lambda = I."""

    n_samples: int = quantity(200, units="1", description="Number n of samples; at least model.dim.", ge=1)
    inputs: Literal["isotropic", "anisotropic"] = Field(
        "isotropic", description="isotropic: x ~ N(0, I); anisotropic: x ~ N(0, Sigma) with eigenvalues "
        "spaced geometrically from 1 to 1/condition in a random basis.")
    condition: float = quantity(5.0, units="1", description="Condition number of Sigma for anisotropic inputs.", ge=1.0)
    noise: float = quantity(0.0, units="1", description="Standard deviation of Gaussian label noise.", ge=0.0)


class Init(Section):
    """Initialization of W_1..W_L and W_{L+1}."""

    scheme: Literal["zas", "near_identity", "identity", "xavier"] = Field(
        "zas", description="zas: W_l = 0, W_{L+1} = 0; identity / near_identity: W_l = 0, W_{L+1} = I; "
        "xavier: I + W_l and W_{L+1} with N(0, 1/d) entries.")
    noise: float | None = quantity(None, units="1", ge=0.0, description="Standard deviation of iid Gaussian noise "
                                   "added to every W_l and W_{L+1}; default: 0.01 for near_identity, 0 otherwise.")

    @model_validator(mode="before")
    @classmethod
    def _default_noise(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("noise") is None:
            scheme = data.get("scheme", cls.model_fields["scheme"].default)
            data = {**data, "noise": DEFAULT_NOISE.get(scheme, 0.0)}
        return data


class Optimizer(Section):
    """Full-batch gradient descent."""

    lr: float = quantity(0.2, units="1", description="Step size (absolute), or the constant c of c/(L ||Phi||_2^2) (scaled).", gt=0)
    lr_rule: Literal["absolute", "scaled"] = Field("scaled", description="How lr gives the step size.")
    max_steps: int = quantity(20000, units="1", description="Maximum number of GD steps.", ge=1, le=10**8)
    tol: float = quantity(1e-8, units="1", gt=0, description="Stop when the excess loss is <= tol (absolute) or "
                          "<= tol ||Phi||_F^2 (relative).")
    tol_rule: Literal["absolute", "relative"] = Field("relative", description="How tol gives the threshold.")


class Output(Section):
    """What is recorded."""

    every: int = quantity(10, units="1", description="Record loss and sigma_min(P) every `every` steps.", ge=1)


class DeepLinearSpec(ProblemSpec):
    """Spec of kind deep_linear."""

    kind: Literal["deep_linear"] = Field("deep_linear", description="Problem kind.")
    model: Network = Field(default_factory=Network, description="Network shape.")
    target: Target = Field(default_factory=Target, description="Target matrix Phi.")
    data: Data | None = Field(None, description="Generated data (optional; default: population loss, Lambda = I).")
    init: Init = Field(default_factory=Init, description="Initialization.")
    optimizer: Optimizer = Field(default_factory=Optimizer, description="Gradient descent settings.")
    output: Output = Field(default_factory=Output, description="Recording.")
    backend: Literal["numba", "torch"] = Field("numba", description="numba (float64, CPU) or torch (autograd).")
    dtype: Literal["float64", "float32"] = Field("float64", description="Floating point type (torch backend only).")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Torch device; auto = cuda when available.")

    @model_validator(mode="after")
    def _consistent(self) -> "DeepLinearSpec":
        d, dy = self.model.dim, self.model.out_dim
        if self.init.scheme in ("identity", "near_identity") and dy != d:
            raise FieldError("model.out_dim", f"init '{self.init.scheme}' needs out_dim == dim, got {dy} != {d}",
                             f"out_dim = {d}, or init.scheme zas/xavier")
        if self.target.kind in SQUARE_TARGETS and dy != d:
            raise FieldError("model.out_dim", f"target '{self.target.kind}' is square, got out_dim {dy} != dim {d}",
                             f"out_dim = {d}")
        if self.target.kind == "diagonal" and (self.target.values is None or len(self.target.values) != d):
            got = "none" if self.target.values is None else f"{len(self.target.values)} values"
            raise FieldError("target.values", f"target 'diagonal' needs model.dim values, got {got}", f"{d} numbers")
        if self.target.kind == "matrix":
            rows = self.target.matrix or []
            shape = (len(rows), *sorted({len(r) for r in rows}))
            if shape != (dy, d):
                raise FieldError("target.matrix", f"matrix has shape {shape}", f"shape (out_dim, dim) = ({dy}, {d})")
        if self.data is not None and self.data.n_samples < d:
            raise FieldError("data.n_samples", f"{self.data.n_samples} samples cannot span dimension {d}",
                             f"n_samples >= model.dim = {d}")
        if self.backend == "numba" and (self.dtype != "float64" or self.device != "cpu"):
            raise FieldError("backend", "the numba backend runs in float64 on the CPU",
                             "backend: torch for float32 or cuda")
        return self


def target_of(spec: DeepLinearSpec, ctx: RunContext) -> np.ndarray:
    """Phi, shape (out_dim, dim)."""
    t, m = spec.target, spec.model
    return dl.target_matrix(t.kind, m.dim, m.out_dim, t.scale, ctx.rng("target"), values=t.values, matrix=t.matrix)


def covariance_and_fit(spec: DeepLinearSpec, phi: np.ndarray, ctx: RunContext) -> tuple[np.ndarray, np.ndarray, float]:
    """(Lambda (d x d), the fitted target (d_y x d), the loss floor R*) of the spec's data."""
    d = spec.model.dim
    if spec.data is None:
        return np.eye(d), phi, 0.0
    rng, data = ctx.rng("data"), spec.data
    x = rng.standard_normal((d, data.n_samples))
    if data.inputs == "anisotropic":
        basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
        std = data.condition ** (-0.5 * np.linspace(0.0, 1.0, d))
        x = basis @ (std[:, None] * x)
    y = phi @ x + data.noise * rng.standard_normal((phi.shape[0], data.n_samples))
    lam = x @ x.T / data.n_samples
    fit = np.linalg.solve(lam, (y @ x.T / data.n_samples).T).T
    floor = 0.5 * np.sum(y * y) / data.n_samples - 0.5 * np.trace(fit @ lam @ fit.T)
    return lam, fit, max(float(floor), 0.0)


def step_size(spec: DeepLinearSpec, phi: np.ndarray) -> float:
    """The GD step size: lr, or lr/(L ||Phi||_2^2) for the scaled rule."""
    if spec.optimizer.lr_rule == "absolute":
        return spec.optimizer.lr
    return spec.optimizer.lr / (spec.model.depth * np.linalg.norm(phi, 2) ** 2)


def _backend(spec: DeepLinearSpec):
    """``descend(w_hidden, w_out, fit, lam, lr, n_steps, tol, every, losses, sigma_mins, start)`` of the
    spec's backend, returning ``(w_hidden, w_out, steps, status)``."""
    if spec.backend == "numba":
        def descend(w_hidden, w_out, *args, start):
            steps, status = dl.gradient_descent(w_hidden, w_out, *args, start=start)
            return w_hidden, w_out, steps, status
        return descend
    import torch

    from learners.deep_linear import gradient_descent_torch

    device = spec.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise RunFailed("device: cuda was asked for but torch finds no CUDA device here (use device: auto or cpu)")
    dtype = getattr(torch, spec.dtype)

    def descend(*args, start):
        return gradient_descent_torch(*args, start=start, dtype=dtype, device=device)
    return descend


def _descend(spec: DeepLinearSpec, w_hidden, w_out, fit, lam, lr, tol, ctx):
    """GD in chunks of CHUNK_STEPS: progress and a checkpoint offer between chunks; resumes from a checkpoint.

    Returns ``(w_hidden, w_out, steps, status, losses, sigma_mins)``; records every ``output.every`` steps.
    """
    opt, every = spec.optimizer, spec.output.every
    n_records = opt.max_steps // every + 1
    losses, sigma_mins = np.full(n_records, np.nan), np.full(n_records, np.nan)
    done, status = 0, dl.Status.MAX_STEPS
    state = ctx.restore()
    if state is not None:
        w_hidden, w_out, losses, sigma_mins = (state[k] for k in ("w_hidden", "w_out", "losses", "sigma_mins"))
        done = int(state["done"])
    descend = _backend(spec)
    while done < opt.max_steps:
        chunk = min(CHUNK_STEPS, opt.max_steps - done)
        w_hidden, w_out, steps, status = descend(w_hidden, w_out, fit, lam, lr, chunk, tol, every, losses,
                                                 sigma_mins, start=done)
        done += steps
        ctx.progress(done, opt.max_steps)
        if status != dl.Status.MAX_STEPS:
            break
        ctx.checkpoint({"w_hidden": w_hidden, "w_out": w_out, "losses": losses, "sigma_mins": sigma_mins,
                        "done": done}, done)
    return w_hidden, w_out, done, dl.Status(status), losses, sigma_mins


class DeepLinear(Problem):
    """Gradient descent on deep linear residual networks (ZAS initialization)."""

    kind = "deep_linear"
    version = "1"
    summary = "GD on deep linear residual networks, ZAS vs near-identity/Xavier init (arXiv:1911.00645)"
    Spec = DeepLinearSpec
    template_sweep = ("model.depth", [2, 4, 8])
    smoke_overrides = ("optimizer.max_steps=300",)

    def warmup(self) -> None:
        dl.warmup()

    def run(self, spec: DeepLinearSpec, ctx: RunContext) -> xr.Dataset:
        phi = target_of(spec, ctx)
        lam, fit, floor = covariance_and_fit(spec, phi, ctx)
        m, opt = spec.model, spec.optimizer
        w_hidden, w_out = dl.initial_weights(spec.init.scheme, m.depth, m.dim, m.out_dim, spec.init.noise,
                                             ctx.rng("init"))
        lr = step_size(spec, phi)
        phi_fro2 = float(np.sum(phi * phi))
        tol = opt.tol * phi_fro2 if opt.tol_rule == "relative" else opt.tol
        w_hidden, w_out, steps, status, losses, sigma_mins = _descend(spec, w_hidden, w_out, fit, lam, lr, tol, ctx)
        final_loss, _, _ = dl.loss_and_gradients(w_hidden, w_out, fit, lam)
        if status == dl.Status.DIVERGED or not np.isfinite(final_loss):
            stable = 0.4 / (m.depth * np.linalg.norm(phi, 2) ** 2)
            raise RunFailed(
                f"diverged: the loss became non-finite at step {steps} with step size {lr:.4g}; gradient descent "
                f"is stable below about 0.4/(L ||Phi||_2^2) = {stable:.4g}: use optimizer.lr_rule: scaled with "
                f"optimizer.lr: 0.2 (step size {0.5 * stable:.4g})")
        every = spec.output.every
        n_rec = steps // every + 1
        sig_final = dl.sigma_min(w_hidden)
        if steps % every == 0:
            losses[steps // every], sigma_mins[steps // every] = final_loss, sig_final
        step = np.arange(n_rec, dtype=np.int64) * every
        converged = status == dl.Status.CONVERGED
        return xr.Dataset(
            {
                "loss": variable(losses[:n_rec] + floor, "training loss R", ("step",)),
                "sigma_min": variable(sigma_mins[:n_rec], "smallest singular value of P = (I+W_L)...(I+W_1)", ("step",)),
                "iterations_to_tol": variable(np.int64(steps if converged else -1), "GD steps to reach tol (-1: not reached)"),
                "converged": variable(np.int8(converged), "1 if the excess loss reached tol"),
                "final_loss": variable(final_loss + floor, "training loss at the last step"),
                "sigma_min_final": variable(sig_final, "smallest singular value of P at the last step"),
                "invariant_drift": variable(dl.invariant_drift(w_hidden, w_out) if m.depth else 0.0,
                                        "||W_{L+1}^T W_{L+1} - Theta_L Theta_L^T + I||_F at the last step"),
                "loss_floor": variable(floor, "irreducible loss R* of the data (0 for the population loss)"),
                "lr_effective": variable(lr, "GD step size used"),
                "target_norm": variable(float(np.linalg.norm(phi, 2)), "spectral norm ||Phi||_2 of the target"),
                "tol_effective": variable(tol, "threshold on the excess loss"),
            },
            coords={"step": ("step", step, {"units": "1", "long_name": "gradient descent step"})},
        )

    def sweep_summary(self, result: xr.Dataset) -> xr.Dataset | None:
        from engine.problems.deep_linear_analysis import depth_exponent

        return depth_exponent(result)

    def report(self, result: xr.Dataset) -> str | None:
        from engine.problems.deep_linear_analysis import report

        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        from engine.problems.deep_linear_analysis import plot

        return plot(result, outdir)
