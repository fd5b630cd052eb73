"""The loss a ``deep_linear`` spec sets up: target Phi, data covariance and least-squares fit, step size
and tolerance (all nondimensional)."""

from __future__ import annotations

import numpy as np

from engine.kind import RunContext
from solvers import deep_linear as dl

from ..spec import DeepLinearSpec


def target_of(spec: DeepLinearSpec, ctx: RunContext) -> np.ndarray:
    """Phi, shape (out_dim, dim), from the run's ``target`` stream."""
    t, m = spec.target, spec.model
    return dl.target_matrix(t.kind, m.dim, m.out_dim, t.scale, ctx.rng("target"), values=t.values, matrix=t.matrix)


def covariance_and_fit(spec: DeepLinearSpec, phi: np.ndarray, ctx: RunContext) -> tuple[np.ndarray, np.ndarray, float]:
    """(Lambda (d x d), the fitted target (d_y x d), the loss floor R*) of the spec's data, drawn from the
    run's ``data`` stream; without data: (I, Phi, 0)."""
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


def tolerance(spec: DeepLinearSpec, phi: np.ndarray) -> float:
    """The threshold on the excess loss: tol, or tol ||Phi||_F^2 for the relative rule."""
    opt = spec.optimizer
    return opt.tol * float(np.sum(phi * phi)) if opt.tol_rule == "relative" else opt.tol
