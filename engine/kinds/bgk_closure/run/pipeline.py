"""Training of a learned closure (kinds ``bgk_closure``, ``boltzmann_closure``): data, moment autoencoder, closure
ensemble and active learning.

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

from .data import log_uniform
from .evaluate import initial_moments, primitives
from .train import Jobs, closure_tensors, new_ensemble, train_autoencoder, train_closures


def export_closure(weights, nets, spec, source) -> bgk_moments.Closure:
    """The trained networks as a :class:`solvers.bgk_moments.Closure` on the source's velocity grid."""
    arrays = lc.export_arrays(weights, nets, source.v)
    return bgk_moments.make_closure(source.v, source.dv, activation=spec.learner.activation, **arrays)


def spread(spec, closure: bgk_moments.Closure, source, states: np.ndarray, kn: np.ndarray) -> np.ndarray:
    """Ensemble disagreement per candidate: max over x of the members' standard deviation of rho/rhō, u/sqrt(T̄),
    T/T̄ at t_final (inf where a member's reduced solve fails)."""
    V0 = initial_moments(source.distributions(states), closure)
    t = np.array([0.0, spec.data.t_final])
    prims = []
    failed = np.zeros(states.shape[0], dtype=bool)
    for k in range(closure.params.shape[0]):
        out, status, _, _ = bgk_moments.solve_moments(V0, closure, source.dx, kn, t, cfl=spec.reduced.cfl,
                                                      c_max=spec.reduced.c_max, members=(k, k + 1))
        p = primitives(*out[:, -1, :3].transpose(1, 0, 2), source.dim)
        prims.append(np.stack([p["rho"], p["m"] / p["rho"], p["T"]]))
        failed |= status != 0
    p = np.stack(prims)  # (K, 3, n, n_x)
    mean = p.mean(axis=0)
    scale = np.stack([mean[0], np.sqrt(np.abs(mean[2])), mean[2]])
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = p.std(axis=0) / scale
    s = np.max(np.where(np.isfinite(rel), rel, np.inf), axis=(0, 2))
    return np.where(failed, np.inf, s)


def train_everything(spec, ctx: RunContext, device: torch.device, dtype: torch.dtype, source):
    """Data, autoencoder, closure ensemble and active learning on the kinetic equation of ``source``
    (:mod:`.source`): ``(weights, nets, record)``, the trained weight
    functions, the closure ensemble and the record of the training that :func:`.result.assemble` stores: loss
    curves ``ae`` = (train, val) ``(n_rec,)`` and ``closure`` = one (train, val) ``(K, n_rec)`` per round,
    ``flagged`` (candidates per active-learning round), ``n_runs`` and ``n_samples``; each stage's wall time goes
    to the run's log (timings are kept out of the result: benchmarks/ measures them)."""
    d, lr_, al = spec.data, spec.learner, spec.active_learning
    t_save = save_times(d.t_final, d.save_every)
    al_steps = al.steps or lr_.steps
    total = (lr_.ae_steps or lr_.steps) + lr_.ensemble * (lr_.steps + al.rounds * al_steps)
    jobs = Jobs(ctx, total)
    seed = int(ctx.rng("torch").integers(2**31 - 2**20))
    clock = time.perf_counter()
    states, _ = source.draw(ctx.rng("data.initial"), d.families, d.n_initial)
    kn = log_uniform(ctx.rng("data.kn"), d.kn[0], d.kn[1], d.n_initial)
    found = source.samples(states, kn, t_save, ctx.rng("data.samples"), 0)
    ctx.log.info("data: %d kinetic runs, %d samples in %.1f s", d.n_initial, len(found), time.perf_counter() - clock)
    clock = time.perf_counter()
    weights, ae_tr, ae_va = train_autoencoder(jobs, spec, found, source.v, source.dv, source.dim, device, dtype,
                                              seed)
    nets = new_ensemble(spec, source.dim, device, dtype, seed + 1)
    data = closure_tensors(weights, found, source.v, source.dv, device)
    curves = [train_closures(jobs, spec, data, found.run, nets, 0, lr_.steps, device, dtype, seed + 2)]
    ctx.log.info("training: %.1f s", time.perf_counter() - clock)
    clock = time.perf_counter()
    n_runs, flagged_counts = d.n_initial, []
    for r in range(1, al.rounds + 1):
        closure = export_closure(weights, nets, spec, source)
        cand, _ = source.draw(ctx.rng(f"active.{r}.initial"), d.families, al.candidates)
        kn_c = log_uniform(ctx.rng(f"active.{r}.kn"), d.kn[0], d.kn[1], al.candidates)
        s = spread(spec, closure, source, cand, kn_c)
        order = np.argsort(-s)
        flagged = order[s[order] > al.threshold][: al.max_new]
        flagged_counts.append(flagged.size)
        ctx.log.info("active learning round %d: %d of %d candidates flagged (largest spread %.3g)", r,
                     flagged.size, al.candidates, float(s.max()))
        if flagged.size == 0:
            break
        found = found + source.samples(cand[flagged], kn_c[flagged], t_save, ctx.rng(f"active.{r}.samples"), n_runs)
        n_runs += flagged.size
        data = closure_tensors(weights, found, source.v, source.dv, device)
        curves.append(train_closures(jobs, spec, data, found.run, nets, r, al_steps, device, dtype, seed + 2))
    ctx.log.info("active learning: %.1f s", time.perf_counter() - clock)
    return weights, nets, {"ae": (ae_tr, ae_va), "closure": curves, "flagged": flagged_counts,
                           "n_runs": n_runs, "n_samples": len(found)}
