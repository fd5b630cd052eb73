"""One ``deep_linear`` run: the loss of the spec (:mod:`.problem`), gradient descent through
:func:`engine.loop.simulate` (:mod:`.descent`), and the result dataset (all variables units "1")."""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from engine.loop import simulate
from solvers import deep_linear as dl

from ..spec import DeepLinearSpec
from .descent import GradientDescent, backend
from .problem import covariance_and_fit, step_size, target_of, tolerance

__all__ = ["run", "warmup"]


def warmup() -> None:
    """Compile the numba kernels (or load them from numba's cache)."""
    dl.warmup()


def _diverged(spec: DeepLinearSpec, phi: np.ndarray, steps: int, lr: float) -> RunFailed:
    """The failure of a run whose loss became non-finite, with the stable step size as advice."""
    stable = 0.4 / (spec.model.depth * np.linalg.norm(phi, 2) ** 2)
    return RunFailed(
        f"diverged: the loss became non-finite at step {steps} with step size {lr:.4g}; gradient descent "
        f"is stable below about 0.4/(L ||Phi||_2^2) = {stable:.4g}: use optimizer.lr_rule: scaled with "
        f"optimizer.lr: 0.2 (step size {0.5 * stable:.4g})")


def run(spec: DeepLinearSpec, ctx: RunContext) -> xr.Dataset:
    """Gradient descent from the spec's initialization until tol, divergence or max_steps; resumable."""
    phi = target_of(spec, ctx)
    lam, fit, floor = covariance_and_fit(spec, phi, ctx)
    m, every = spec.model, spec.output.every
    w_hidden, w_out = dl.initial_weights(spec.init.scheme, m.depth, m.dim, m.out_dim, spec.init.noise,
                                         ctx.rng("init"))
    lr, tol = step_size(spec, phi), tolerance(spec, phi)
    gd = GradientDescent(backend(spec), w_hidden, w_out, fit, lam, lr, tol, spec.optimizer.max_steps, every)
    simulate(gd, ctx)
    steps, losses, sigma_mins = gd.done, gd.losses, gd.sigma_mins
    final_loss, _, _ = dl.loss_and_gradients(gd.w_hidden, gd.w_out, fit, lam)
    if gd.status == dl.Status.DIVERGED or not np.isfinite(final_loss):
        raise _diverged(spec, phi, steps, lr)
    n_rec = steps // every + 1
    sig_final = dl.sigma_min(gd.w_hidden)
    if steps % every == 0:
        losses[steps // every], sigma_mins[steps // every] = final_loss, sig_final
    step = np.arange(n_rec, dtype=np.int64) * every
    converged = gd.status == dl.Status.CONVERGED
    return xr.Dataset(
        {
            "loss": variable(losses[:n_rec] + floor, "training loss R", ("step",)),
            "sigma_min": variable(sigma_mins[:n_rec], "smallest singular value of P = (I+W_L)...(I+W_1)", ("step",)),
            "iterations_to_tol": variable(np.int64(steps if converged else -1),
                                          "GD steps to reach tol (-1: not reached)"),
            "converged": variable(np.int8(converged), "1 if the excess loss reached tol"),
            "steps_done": variable(np.int64(steps), "GD steps taken (the step of final_loss)"),
            "final_loss": variable(final_loss + floor, "training loss at the last step"),
            "sigma_min_final": variable(sig_final, "smallest singular value of P at the last step"),
            "invariant_drift": variable(dl.invariant_drift(gd.w_hidden, gd.w_out),
                                        "||W_{L+1}^T W_{L+1} - Theta_L Theta_L^T + I||_F at the last step"),
            "loss_floor": variable(floor, "irreducible loss R* of the data (0 for the population loss)"),
            "lr_effective": variable(lr, "GD step size used"),
            "target_norm": variable(float(np.linalg.norm(phi, 2)), "spectral norm ||Phi||_2 of the target"),
            "tol_effective": variable(tol, "threshold on the excess loss"),
        },
        coords={"step": ("step", step, {"units": "1", "long_name": "gradient descent step"})},
    )
