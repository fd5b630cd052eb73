"""Torch backend of gradient descent on deep linear residual networks.

Same model, loss and stopping rules as :mod:`solvers.deep_linear`, but the
gradients come from autograd and the loop runs in torch on the chosen device
(float32 or float64, 'cpu' or 'cuda'). Arrays go in and come out as numpy so
that the two backends can be compared directly. All quantities are
nondimensional (units "1").
"""

import math

import numpy as np
import torch

from solvers.deep_linear import Status, check_records

__all__ = ["loss_and_gradients_torch", "gradient_descent_torch"]


def _tensors(arrays, dtype, device):
    """Copies of the arrays as tensors (never sharing memory with the caller's arrays)."""
    return [torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, device=device) for a in arrays]


def _numpy(tensors):
    return tuple(t.detach().cpu().double().numpy() for t in tensors)


def _loss_and_product(w_hidden, w_out, phi, lam):
    """``(R, P)`` with ``P = (I + W_L) ... (I + W_1)`` and ``R = 1/2 tr(Res Lam Res^T)``, ``Res = V P - Phi``.

    w_hidden (L, dim, dim), w_out and phi (out_dim, dim), lam (dim, dim) tensors.
    """
    p = torch.eye(w_hidden.shape[1], dtype=w_hidden.dtype, device=w_hidden.device)
    for w in torch.unbind(w_hidden):
        p = p + w @ p
    residual = w_out @ p - phi
    return 0.5 * torch.sum((residual @ lam) * residual), p


def _smallest_singular_value(p):
    """sigma_min of a square tensor as a float; NaN if it has a non-finite entry."""
    if not torch.isfinite(p).all():
        return math.nan
    return torch.linalg.svdvals(p)[-1].item()


def loss_and_gradients_torch(w_hidden, w_out, phi, lam, dtype=torch.float64, device="cpu"):
    """Loss and gradients by autograd; numpy in, numpy out.

    w_hidden (L, dim, dim), w_out (out_dim, dim), phi (out_dim, dim), lam (dim, dim).
    Returns ``(loss, g_hidden, g_out)`` like :func:`solvers.deep_linear.loss_and_gradients`.
    """
    w_hidden, w_out, phi, lam = _tensors((w_hidden, w_out, phi, lam), dtype, device)
    w_hidden.requires_grad_(True)
    w_out.requires_grad_(True)
    loss, _ = _loss_and_product(w_hidden, w_out, phi, lam)
    g_hidden, g_out = torch.autograd.grad(loss, (w_hidden, w_out), materialize_grads=True)
    return loss.item(), *_numpy((g_hidden, g_out))


def gradient_descent_torch(
    w_hidden, w_out, phi, lam, lr, n_steps, tol, every, losses, sigma_mins, start=0, dtype=torch.float64, device="cpu"
):
    """Full-batch gradient descent in torch; semantics of :func:`solvers.deep_linear.gradient_descent`.

    The inputs are not modified: the final weights are returned as new float64
    numpy arrays. ``losses[k // every]`` and ``sigma_mins[k // every]`` receive
    the loss and ``sigma_min(P)`` of global step ``k`` (before its update) for
    every evaluated ``k`` with ``k % every == 0``. Every step synchronizes
    once with the device to read the loss for the stopping test.

    Returns ``(w_hidden, w_out, steps, status)``: the weights after ``steps``
    updates in this call, and why it stopped (:class:`Status`).
    """
    check_records(n_steps, every, start, losses, sigma_mins)
    w_hidden, w_out, phi, lam = _tensors((w_hidden, w_out, phi, lam), dtype, device)
    weights = (w_hidden.requires_grad_(True), w_out.requires_grad_(True))
    for i in range(n_steps):
        loss, p = _loss_and_product(w_hidden, w_out, phi, lam)
        value = loss.item()
        step = start + i
        if step % every == 0:
            losses[step // every] = value
            sigma_mins[step // every] = _smallest_singular_value(p.detach())
        if not math.isfinite(value):
            return *_numpy(weights), i, Status.DIVERGED
        if value <= tol:
            return *_numpy(weights), i, Status.CONVERGED
        gradients = torch.autograd.grad(loss, weights, materialize_grads=True)
        with torch.no_grad():
            for w, g in zip(weights, gradients):
                w.add_(g, alpha=-lr)
    return *_numpy(weights), n_steps, Status.MAX_STEPS
