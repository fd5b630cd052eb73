"""Training stages of a learned closure (kinds ``bgk_closure``, ``boltzmann_closure``): the moment autoencoder and
the closure ensemble, resumable.

Every training job (``ae``, ``closure/r<round>/m<member>``) keeps its finished parameters and loss
curves in the run's checkpoint under its name, and its partial state (parameters, Adam moments,
step) while it runs, so that a killed run continues from the last checkpoint write.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.kind import RunContext, RunFailed
from learners import bgk_closure as lc
from learners.training import NoDevice, torch_threads
from learners.training import device as torch_device



def device_and_dtype(spec) -> tuple[torch.device, torch.dtype]:
    """The torch device and training precision of ``learner.device`` and ``learner.dtype``."""
    try:
        return torch_device(spec.learner.device), getattr(torch, spec.learner.dtype)
    except NoDevice:
        raise RunFailed("learner.device: cuda was asked for but torch finds no CUDA device (use auto or cpu)") from None


class Jobs:
    """Finished and partial training jobs, stored flat in the run's checkpoint."""

    def __init__(self, ctx: RunContext, total_steps: int):
        self.ctx = ctx
        self.state = ctx.restore() or {}
        self.total = total_steps
        self.done = 0

    def get(self, name: str) -> dict | None:
        """The stored values of job ``name`` (keys without the ``name/`` prefix), or None when it has none."""
        pre = name + "/"
        got = {k[len(pre):]: v for k, v in self.state.items() if k.startswith(pre)}
        return got or None

    def put(self, name: str, values: dict) -> None:
        """Replace the stored values of job ``name`` by ``values`` (numpy arrays and numbers; {} drops them)."""
        pre = name + "/"
        self.state = {k: v for k, v in self.state.items() if not k.startswith(pre)}
        self.state.update({pre + k: np.asarray(v) for k, v in values.items()})

    def offer(self) -> None:
        """Offer all jobs' values as the run's checkpoint at the training steps done so far."""
        self.ctx.checkpoint(self.state, self.done)

    def run(self, name: str, module, loss_fn, n_train, val_fn, learner, steps, seed) -> tuple[np.ndarray, np.ndarray]:
        """Train ``module`` as job ``name`` (or load its parameters when it is finished) with
        :func:`learners.bgk_closure.train`: ``loss_fn(idx)`` is the mean loss of the training samples
        ``idx`` of ``n_train``, ``val_fn()`` the validation loss, ``learner`` the spec's learner section,
        ``seed`` that of the minibatch generator; returns the loss curves ``(train, val)``."""
        fin = self.get(name)
        if fin is not None:
            lc.load_flat_parameters(module, fin["params"])
            self.done += steps
            self.ctx.progress(self.done, self.total)
            return fin["train"], fin["val"]
        partial = self.get(name + ".partial")
        base = self.done
        gen = torch.Generator().manual_seed(int(seed))

        def on_chunk(st):
            self.put(name + ".partial", st)
            self.done = base + int(st["step"])
            self.offer()

        def progress(step, total, loss):
            self.ctx.progress(base + step, self.total)
            self.ctx.log.info("%s: step %d/%d, loss %.4g", name, step, total, loss)

        with torch_threads(1):  # networks this small only lose time to intra-op synchronization
            tr, va = lc.train(module, loss_fn, n_train, val_fn, steps=steps, batch_size=learner.batch_size,
                              lr=learner.lr, lr_final=learner.lr_final, generator=gen,
                              record_every=learner.record_every, resume=partial, on_chunk=on_chunk,
                              progress=progress)
        self.put(name + ".partial", {})
        self.put(name, {"params": lc.flat_parameters(module), "train": tr, "val": va})
        self.done = base + steps
        self.offer()
        return tr, va


def _split(n: int, runs: np.ndarray, fraction: float):
    """Indices of training and validation samples: every ``round(1/fraction)``-th run validates (the same
    runs in every active-learning round); without validation runs, a training subset stands in."""
    if fraction > 0:
        period = max(2, int(round(1.0 / fraction)))
        is_val = runs % period == period - 1
        if is_val.any() and not is_val.all():
            return np.flatnonzero(~is_val), np.flatnonzero(is_val)
    return np.arange(n), np.arange(min(n, 4096))


def unit_density(f: np.ndarray, n_v: int) -> np.ndarray:
    """Stacked samples ``f`` ``(n, n_dist n_v)`` scaled to unit density (``sum_j f_j = 1`` over the first
    distribution, f or g)."""
    return f / (f[:, :n_v].sum(axis=1, keepdims=True))


def train_autoencoder(jobs: Jobs, spec, samples, v: np.ndarray, dv: float, dim: int, device, dtype, seed: int):
    """The weight functions ``w`` (and their decoder) trained on the :class:`~.data.Samples` ``samples``;
    loss curves."""
    lr_, mo = spec.learner, spec.moments
    torch.manual_seed(seed)
    weights = lc.WeightFunctions(mo.n_extra, lr_.widths, lr_.activation, mo.v_scale, dim).to(device, dtype)
    decoder = lc.Decoder(mo.n_extra, lr_.widths, lr_.activation, v.size, dim).to(device, dtype)
    both = torch.nn.ModuleList([weights, decoder])
    tr_idx, va_idx = _split(len(samples), samples.run, lr_.validation_fraction)
    g = torch.as_tensor(unit_density(samples.f, v.size) / dv, dtype=dtype, device=device)  # so that sum g dv = 1
    vt = torch.as_tensor(v, dtype=dtype, device=device)
    tr_t = torch.as_tensor(tr_idx, device=device)
    va_t = torch.as_tensor(va_idx[:4096], device=device)

    def loss(idx):
        return lc.autoencoder_loss(weights, decoder, g[tr_t[idx]], vt, dv, mo.consistency).mean()

    def val():
        return float(lc.autoencoder_loss(weights, decoder, g[va_t], vt, dv, mo.consistency).mean())

    tr, va = jobs.run("ae", both, loss, tr_idx.size, val, lr_, lr_.ae_steps or lr_.steps, seed)
    return weights, tr, va


def closure_tensors(weights, samples, v: np.ndarray, dv: float, device):
    """``(u, T, z, y)`` float64 tensors of the samples, and ``s`` where they have a production (see
    :func:`learners.bgk_closure.closure_data`)."""
    as64 = lambda a: None if a is None else torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    weights_cpu = weights.to("cpu")
    out = lc.closure_data(weights_cpu, as64(samples.f), as64(v), dv, as64(samples.production), as64(samples.kn))
    weights.to(device)
    return tuple(t.to(device) for t in out)


def train_closures(jobs: Jobs, spec, data, runs: np.ndarray, nets, round_: int, steps: int, device, dtype,
                   seed: int):
    """Train (or continue training) the ensemble ``nets`` on ``data = (u, T, z, y[, s])``; curves ``(K, n_rec)``."""
    u, T, z, y = data[:4]
    s = data[4] if len(data) > 4 else None
    tr_idx, va_idx = _split(u.shape[0], runs, spec.learner.validation_fraction)
    tr_t = torch.as_tensor(tr_idx, device=device)
    va_t = torch.as_tensor(va_idx[:8192], device=device)
    pick = lambda i: None if s is None else s[i]  # noqa: E731
    curves_tr, curves_va = [], []
    for k, net in enumerate(nets):
        if round_ == 0:
            net.set_scales(torch.cat([u[:, None], T[:, None], z], 1)[tr_t], z[tr_t], y[tr_t])

        def loss(idx, net=net):
            i = tr_t[idx]
            return lc.closure_loss(net, u[i], T[i], z[i], y[i], pick(i)).mean()

        def val(net=net):
            return float(lc.closure_loss(net, u[va_t], T[va_t], z[va_t], y[va_t], pick(va_t)).mean())

        tr, va = jobs.run(f"closure/r{round_}/m{k}", net, loss, tr_idx.size, val, spec.learner, steps,
                          seed + 1000 * round_ + k)
        curves_tr.append(tr)
        curves_va.append(va)
    return np.stack(curves_tr), np.stack(curves_va)


def new_ensemble(spec, dim: int, device, dtype, seed: int):
    """``learner.ensemble`` closure networks with different initial weights."""
    nets = []
    for k in range(spec.learner.ensemble):
        torch.manual_seed(seed + k)
        net = lc.ClosureNet(spec.moments.n_extra, spec.learner.widths, spec.learner.activation, dim).to(device)
        net.net.to(dtype)
        nets.append(net)
    return nets
