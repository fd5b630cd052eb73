"""The pipeline of one ``bgk_closure`` run: data, moments, closure, active learning, evaluation."""

from __future__ import annotations

import time

import numpy as np
import torch
import xarray as xr

from engine.problem import RunContext, RunFailed, variable
from engine.problems.bgk_closure import BGKClosureSpec, model_meta, phase_grid
from engine.problems.bgk_closure_analysis import evaluate, initial_moments
from engine.problems.bgk_closure_data import augment, draw_batch, kinetic_samples, log_uniform, save_times
from engine.problems.bgk_closure_train import (Jobs, closure_tensors, new_ensemble, train_autoencoder,
                                               train_closures)
from learners import bgk_closure as lc
from solvers import bgk_moments


def _device(spec: BGKClosureSpec):
    device = spec.learner.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise RunFailed("learner.device: cuda was asked for but torch finds no CUDA device (use auto or cpu)")
    return device, getattr(torch, spec.learner.dtype)


def export_closure(weights, nets, spec: BGKClosureSpec) -> bgk_moments.Closure:
    """The trained networks as a :class:`solvers.bgk_moments.Closure` on the kinetic velocity grid."""
    grid = phase_grid(spec)
    arrays = lc.export_arrays(weights, nets, grid.v)
    return bgk_moments.make_closure(grid.v, grid.dv, activation=spec.learner.activation, **arrays)


def spread(spec: BGKClosureSpec, closure, f0: np.ndarray, kn: np.ndarray) -> np.ndarray:
    """Ensemble disagreement per candidate: max over x of the members' standard deviation of rho/rhō, u/sqrt(T̄),
    T/T̄ at t_final (inf where a member's reduced solve fails)."""
    grid = phase_grid(spec)
    V0 = initial_moments(f0, closure)
    t = np.array([0.0, spec.data.t_final])
    prims = []
    failed = np.zeros(f0.shape[0], dtype=bool)
    for k in range(closure.params.shape[0]):
        out, status, _, _ = bgk_moments.solve_moments(V0, closure, grid.dx, kn, t, cfl=spec.reduced.cfl,
                                                      c_max=spec.reduced.c_max, members=(k, k + 1))
        V = out[:, -1]
        rho = V[:, 0]
        u = V[:, 1] / rho
        prims.append(np.stack([rho, u, 2.0 * V[:, 2] / rho - u * u]))
        failed |= status != 0
    p = np.stack(prims)  # (K, 3, n, n_x)
    mean = p.mean(axis=0)
    scale = np.stack([mean[0], np.sqrt(np.abs(mean[2])), mean[2]])
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = p.std(axis=0) / scale
    s = np.max(np.where(np.isfinite(rel), rel, np.inf), axis=(0, 2))
    return np.where(failed, np.inf, s)


def _samples(spec, f0, kn, grid, t_save, rng, first_run):
    d = spec.data
    kd = kinetic_samples(f0, kn, grid, t_save, spec.kinetic.scheme, d.samples_per_run, rng, first_run=first_run)
    aug = augment(kd.f, grid.dv, d.max_shift, d.reflect, rng)
    return np.concatenate([kd.f, aug]), np.concatenate([kd.run, kd.run])


def train_everything(spec: BGKClosureSpec, ctx: RunContext, device, dtype):
    """Data, autoencoder, closure ensemble and active learning; returns the networks and the records."""
    d, lr_, al = spec.data, spec.learner, spec.active_learning
    grid = phase_grid(spec)
    t_save = save_times(d.t_final, d.save_every)
    al_steps = al.steps or lr_.steps
    total = (lr_.ae_steps or lr_.steps) + lr_.ensemble * (lr_.steps + al.rounds * al_steps)
    jobs = Jobs(ctx, total)
    seed = int(ctx.rng("torch").integers(2**31 - 2**20))
    clock = time.perf_counter()
    f0, _ = draw_batch(ctx.rng("data.initial"), grid, d.families, d.n_initial)
    kn = log_uniform(ctx.rng("data.kn"), d.kn[0], d.kn[1], d.n_initial)
    f, runs = _samples(spec, f0, kn, grid, t_save, ctx.rng("data.samples"), 0)
    times = {"data": time.perf_counter() - clock}
    ctx.log.info("data: %d kinetic runs, %d samples in %.1f s", d.n_initial, f.shape[0], times["data"])
    clock = time.perf_counter()
    weights, ae_tr, ae_va = train_autoencoder(jobs, spec, f, runs, grid.v, grid.dv, device, dtype, seed)
    nets = new_ensemble(spec, device, dtype, seed + 1)
    data = closure_tensors(weights, f, grid.v, grid.dv, device)
    curves = [train_closures(jobs, spec, data, runs, nets, 0, lr_.steps, device, dtype, seed + 2)]
    times["training"] = time.perf_counter() - clock
    ctx.log.info("training: %.1f s", times["training"])
    clock = time.perf_counter()
    n_runs, flagged_counts = d.n_initial, []
    for r in range(1, al.rounds + 1):
        closure = export_closure(weights, nets, spec)
        cand, _ = draw_batch(ctx.rng(f"active.{r}.initial"), grid, d.families, al.candidates)
        kn_c = log_uniform(ctx.rng(f"active.{r}.kn"), d.kn[0], d.kn[1], al.candidates)
        s = spread(spec, closure, cand, kn_c)
        order = np.argsort(-s)
        flagged = order[s[order] > al.threshold][: al.max_new]
        flagged_counts.append(flagged.size)
        ctx.log.info("active learning round %d: %d of %d candidates flagged (largest spread %.3g)", r,
                     flagged.size, al.candidates, float(s.max()))
        if flagged.size == 0:
            break
        f_new, runs_new = _samples(spec, cand[flagged], kn_c[flagged], grid, t_save, ctx.rng(f"active.{r}.samples"),
                                   n_runs)
        n_runs += flagged.size
        f, runs = np.concatenate([f, f_new]), np.concatenate([runs, runs_new])
        data = closure_tensors(weights, f, grid.v, grid.dv, device)
        curves.append(train_closures(jobs, spec, data, runs, nets, r, al_steps, device, dtype, seed + 2))
    times["active_learning"] = time.perf_counter() - clock
    return weights, nets, {"ae": (ae_tr, ae_va), "closure": curves, "flagged": flagged_counts,
                           "n_runs": n_runs, "times": times, "n_samples": f.shape[0]}


def run_pipeline(spec: BGKClosureSpec, ctx: RunContext) -> xr.Dataset:
    device, dtype = _device(spec)
    if spec.learner.checkpoint is not None:
        weights, nets, _ = lc.load_model(spec.learner.checkpoint, dtype)
        record = {"ae": None, "closure": [], "flagged": [], "n_runs": 0, "n_samples": 0,
                  "times": {"data": 0.0, "training": 0.0, "active_learning": 0.0}}
        model_file = spec.learner.checkpoint
    else:
        weights, nets, record = train_everything(spec, ctx, device, dtype)
        path = ctx.beside_run(".model.pt")
        model_file = ""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lc.save_model(path, weights, nets, model_meta(spec))
            model_file = path.name
    closure = export_closure(weights, nets, spec)
    clock = time.perf_counter()
    ds = evaluate(spec, closure, (weights, nets), ctx)
    record["times"]["evaluation"] = time.perf_counter() - clock
    return _assemble(ds, spec, closure, record, model_file)


def _assemble(ds: xr.Dataset, spec, closure, record, model_file: str) -> xr.Dataset:
    grid = phase_grid(spec)
    m = spec.moments.n_extra
    ds["weight_function"] = variable(closure.wtab, "learned weight function w_k(v) of the generalized moments",
                                     ("moment", "v"))
    ds = ds.assign_coords(v=("v", grid.v, {"units": "1", "long_name": "velocity"}),
                          moment=("moment", np.arange(1, m + 1), {"units": "1", "long_name": "generalized moment k"}))
    every = spec.learner.record_every
    if record["ae"] is not None:
        tr, va = record["ae"]
        ds["ae_train_loss"] = variable(tr, "autoencoder training loss (reconstruction + consistency)", ("ae_step",))
        ds["ae_val_loss"] = variable(va, "autoencoder validation loss", ("ae_step",))
        ae_steps = spec.learner.ae_steps or spec.learner.steps
        ds = ds.assign_coords(ae_step=("ae_step", np.minimum(np.arange(tr.size) * every, ae_steps),
                                       {"units": "1", "long_name": "autoencoder training step"}))
    if record["closure"]:
        n = max(c[0].shape[1] for c in record["closure"])
        pad = lambda a: np.pad(a, ((0, 0), (0, n - a.shape[1])), constant_values=np.nan)  # noqa: E731
        tr = np.stack([pad(c[0]) for c in record["closure"]])
        va = np.stack([pad(c[1]) for c in record["closure"]])
        dims = ("round", "member", "step")
        longest = max(spec.learner.steps, spec.active_learning.steps or spec.learner.steps)
        ds["train_loss"] = variable(tr, "closure training loss (relative squared error)", dims)
        ds["val_loss"] = variable(va, "closure validation loss (relative squared error)", dims)
        ds = ds.assign_coords(step=("step", np.minimum(np.arange(n) * every, longest),
                                    {"units": "1", "long_name": "training step (of the round)"}),
                              round=("round", np.arange(tr.shape[0]), {"units": "1", "long_name": "active "
                                                                       "learning round (0: initial training)"}))
    flagged = np.array(record["flagged"], dtype=np.int64)
    ds["n_flagged"] = variable(flagged, "candidates flagged by the ensemble spread", ("al_round",))
    ds = ds.assign_coords(al_round=("al_round", np.arange(1, flagged.size + 1),
                                    {"units": "1", "long_name": "active learning round"}))
    ds["n_training_runs"] = variable(np.int64(record["n_runs"]), "kinetic runs in the training data")
    ds["n_training_samples"] = variable(np.int64(record["n_samples"]), "pointwise samples (with augmentation)")
    for key, value in record["times"].items():
        ds[f"time_{key}"] = variable(float(value), f"wall time of the {key.replace('_', ' ')} stage", units="s")
    ds.attrs["model_file"] = model_file
    return ds
