"""Training loops of the moment autoencoder and the closure networks, resumable in chunks.

:func:`train` runs Adam with an exponential learning-rate decay from ``lr`` to ``lr_final``
over ``steps`` minibatch steps, in chunks (the steps and records of :func:`learners.training.train_loop`);
between chunks it records the training and
validation losses and calls ``on_chunk(state)`` with a flat, numpy-only state (parameters,
Adam moments, step, loss curves) that :func:`train` accepts back as ``resume`` to continue
exactly where it stopped. Data are tensors whose first axis is the sample.
"""

import math

import numpy as np
import torch

from learners.training import train_loop

from .models import ClosureNet, Decoder, WeightFunctions, moments, temperature

__all__ = ["train", "autoencoder_loss", "closure_loss", "flat_parameters", "load_flat_parameters",
           "ZERO_BAND"]

#: relative weighting of the closure loss: squared error / (|z/z_scale|² + ZERO_BAND)
ZERO_BAND = 0.05


def flat_parameters(module):
    """All parameters of ``module`` as one float64 numpy vector."""
    return torch.nn.utils.parameters_to_vector(module.parameters()).detach().cpu().double().numpy()


def load_flat_parameters(module, flat):
    """Inverse of :func:`flat_parameters`."""
    p = next(module.parameters())
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat, dtype=p.dtype, device=p.device), module.parameters())


def _adam_state(opt, params):
    st = [opt.state.get(p, {}) for p in params]
    if not st or "exp_avg" not in st[0]:
        return {}
    cat = lambda key: torch.cat([s[key].reshape(-1) for s in st]).detach().cpu().double().numpy()  # noqa: E731
    return {"adam_m": cat("exp_avg"), "adam_v": cat("exp_avg_sq"), "adam_t": float(st[0]["step"])}


def _load_adam(opt, params, state):
    if "adam_m" not in state:
        return
    off = 0
    for p in params:
        n = p.numel()
        opt.state[p] = {
            "step": torch.tensor(float(state["adam_t"])),
            "exp_avg": torch.as_tensor(state["adam_m"][off:off + n], dtype=p.dtype, device=p.device).view_as(p).clone(),
            "exp_avg_sq": torch.as_tensor(state["adam_v"][off:off + n], dtype=p.dtype,
                                          device=p.device).view_as(p).clone()}
        off += n


def train(module, loss_fn, n_train, val_loss_fn, *, steps, batch_size, lr, lr_final, generator, record_every,
          resume=None, on_chunk=None, progress=None):
    """Minimize ``loss_fn(idx)`` (mean loss of the training samples ``idx``, a LongTensor) over ``module``.

    ``val_loss_fn()`` gives the validation loss (a float). Returns ``(train_losses, val_losses)``, numpy
    ``(steps // record_every + 1,)``: the mean minibatch loss over each recording interval and the
    validation loss at its end (index 0: before training). ``generator``: torch.Generator for minibatches.
    ``progress(step, steps, loss)`` is called after each chunk.
    """
    params = list(module.parameters())
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))
    n_rec = steps // record_every + 1
    tr, va = np.full(n_rec, np.nan), np.full(n_rec, np.nan)
    start = 0
    if resume is not None:
        load_flat_parameters(module, resume["params"])
        _load_adam(opt, params, resume)
        start = int(resume["step"])
        tr, va = resume["train"].copy(), resume["val"].copy()
        for _ in range(start):  # the minibatch stream continues where it stopped
            torch.randint(n_train, (batch_size,), generator=generator)
    decay = math.log(lr_final / lr) / max(steps, 1)

    def step(s):
        for group in opt.param_groups:
            group["lr"] = lr * math.exp(decay * s)
        idx = torch.randint(n_train, (batch_size,), generator=generator)
        loss = loss_fn(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    def record(done, objectives):
        if done == 0:
            with torch.no_grad():
                tr[0] = va[0] = val_loss_fn()
            return
        k = done // record_every if done % record_every == 0 else n_rec - 1
        with torch.no_grad():  # the mean of the objectives summed as floats in step order
            tr[k], va[k] = sum(o.item() for o in objectives) / len(objectives), val_loss_fn()
        if progress is not None:
            progress(done, steps, tr[k])
        if on_chunk is not None:
            on_chunk({"params": flat_parameters(module), "step": done, "train": tr, "val": va,
                      **_adam_state(opt, params)})

    train_loop(step, steps, record_every, record, start=start)
    return tr, va


def autoencoder_loss(weights: WeightFunctions, decoder: Decoder, f, v, dv, consistency=1.0):
    """Reconstruction ``Σ_j (f - f̂)² dv`` plus ``consistency`` × the squared error of the conserved moments of f̂
    against those of ``f``, per sample ``(n,)``; ``f`` ``(n, n_dist n_v)`` stacked, of unit density."""
    dim = weights.dim
    _, m, E = moments(f, v, dv, dim)
    T = temperature(1.0, m, E, dim)
    _, z = weights.encode(f, v, dv, m, T)
    fhat = decoder(m, T, z, v, dv)
    rec = ((fhat - f) ** 2).sum(-1) * dv
    r1, m1, e1 = moments(fhat, v, dv, dim)
    return rec + consistency * ((r1 - 1.0) ** 2 + (m1 - m) ** 2 + (e1 - E) ** 2)


def closure_loss(net: ClosureNet, u, T, z, y, s=None):
    """Relative squared error of the scaled outputs, per sample ``(n,)``: flux targets ``y`` ``(n, n_flux)``;
    for dim 3 also the source targets ``s`` ``(n, M)``, ``dz/dt`` in units of rho/Kn (compared in units of
    ``z_scale``)."""
    if s is None:
        pred = net.scaled(u, T, z)
        err = ((pred - (y / net.out_scale).to(pred.dtype)) ** 2).mean(-1)
    else:
        pred, src = net.scaled_with_source(u, T, z)
        err = torch.cat([pred - (y / net.out_scale).to(pred.dtype), src - (s / net.z_scale).to(src.dtype)], 1)
        err = (err ** 2).mean(-1)
    zz = ((z / net.z_scale) ** 2).sum(-1).to(err.dtype)
    return err / (zz / z.shape[1] + ZERO_BAND)
