"""Training of one ``bgk_closure`` run: data, moment autoencoder, closure ensemble and active learning.

Active learning draws candidate initial data, solves each with every member of the ensemble exported
to the reduced solver, and adds kinetic runs of the candidates where the members disagree most.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from engine.kind import RunContext
from engine.loop import save_times
from learners import bgk_closure as lc
from solvers import bgk_moments

from ..families import draw_batch
from ..spec import BGKClosureSpec, phase_grid
from .data import log_uniform, samples
from .evaluate import initial_moments
from .train import Jobs, closure_tensors, new_ensemble, train_autoencoder, train_closures


def export_closure(weights, nets, spec: BGKClosureSpec) -> bgk_moments.Closure:
    """The trained networks as a :class:`solvers.bgk_moments.Closure` on the kinetic velocity grid."""
    grid = phase_grid(spec)
    arrays = lc.export_arrays(weights, nets, grid.v)
    return bgk_moments.make_closure(grid.v, grid.dv, activation=spec.learner.activation, **arrays)


def spread(spec: BGKClosureSpec, closure: bgk_moments.Closure, f0: np.ndarray, kn: np.ndarray) -> np.ndarray:
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


def train_everything(spec: BGKClosureSpec, ctx: RunContext, device: torch.device, dtype: torch.dtype):
    """Data, autoencoder, closure ensemble and active learning: ``(weights, nets, record)``, the trained weight
    functions, the closure ensemble and the record of the training that :func:`.result.assemble` stores: loss
    curves ``ae`` = (train, val) ``(n_rec,)`` and ``closure`` = one (train, val) ``(K, n_rec)`` per round,
    ``flagged`` (candidates per active-learning round), ``n_runs`` and ``n_samples``; each stage's wall time goes
    to the run's log (timings are kept out of the result: benchmarks/ measures them)."""
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
    f, runs = samples(spec, f0, kn, grid, t_save, ctx.rng("data.samples"), 0)
    ctx.log.info("data: %d kinetic runs, %d samples in %.1f s", d.n_initial, f.shape[0], time.perf_counter() - clock)
    clock = time.perf_counter()
    weights, ae_tr, ae_va = train_autoencoder(jobs, spec, f, runs, grid.v, grid.dv, device, dtype, seed)
    nets = new_ensemble(spec, device, dtype, seed + 1)
    data = closure_tensors(weights, f, grid.v, grid.dv, device)
    curves = [train_closures(jobs, spec, data, runs, nets, 0, lr_.steps, device, dtype, seed + 2)]
    ctx.log.info("training: %.1f s", time.perf_counter() - clock)
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
        f_new, runs_new = samples(spec, cand[flagged], kn_c[flagged], grid, t_save, ctx.rng(f"active.{r}.samples"),
                                   n_runs)
        n_runs += flagged.size
        f, runs = np.concatenate([f, f_new]), np.concatenate([runs, runs_new])
        data = closure_tensors(weights, f, grid.v, grid.dv, device)
        curves.append(train_closures(jobs, spec, data, runs, nets, r, al_steps, device, dtype, seed + 2))
    ctx.log.info("active learning: %.1f s", time.perf_counter() - clock)
    return weights, nets, {"ae": (ae_tr, ae_va), "closure": curves, "flagged": flagged_counts,
                           "n_runs": n_runs, "n_samples": f.shape[0]}
