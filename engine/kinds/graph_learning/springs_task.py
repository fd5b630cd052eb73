"""One run of ``graph_learning`` task ``learned_springs``: build the spring network (:mod:`.spring_graph`),
simulate training trajectories with the numba truth (:mod:`solvers.springs`), train the interaction network
(:mod:`learners.interaction_network`) on (positions, acceleration) pairs and roll it out from a held-out initial
state beside the truth and the constant-velocity baseline.

Random streams of the run's seed: ``graph`` (radius graph nodes), ``states`` (training initial states),
``held_out`` (held-out initial states), ``init`` (weights), ``batches`` (minibatch draws)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import interaction_network
from solvers import springs

from .memory import HELD_OUT_STATES
from .spec import GraphLearningSpec
from .spring_graph import spring_network


def run(spec: GraphLearningSpec, ctx: RunContext, where: torch.device) -> xr.Dataset:
    """The dataset of one learned-springs run (variables in the package docstring)."""
    s = spec.springs
    x_rest, edges = spring_network(s, ctx.rng("graph"))
    rest = springs.rest_lengths(x_rest, edges)
    system = interaction_network.SpringSystem(edges, rest, np.full(edges.shape[1], s.k), np.full(len(x_rest), s.m))
    x0, v0 = springs.random_states(x_rest, s.displacement, s.speed, s.states, ctx.rng("states"))
    held_x0, held_v0 = springs.random_states(x_rest, s.displacement, s.speed, HELD_OUT_STATES,
                                             ctx.rng("held_out"))
    positions, accelerations = springs.state_samples(x0, v0, edges, rest, system.k, system.m, s.dt,
                                                     s.trajectory_steps, s.save_every)
    held_positions, held_accelerations = springs.state_samples(held_x0, held_v0, edges, rest, system.k, system.m,
                                                               s.dt, s.trajectory_steps, s.save_every)
    torch.manual_seed(int(ctx.rng("init").integers(2**63)))
    model = interaction_network.InteractionNetwork(hidden=s.hidden, message=s.message).to(where)
    try:
        curves = interaction_network.train(model, system, positions, accelerations, held_positions,
                                           held_accelerations, steps=s.steps, lr=s.lr, batch=s.batch,
                                           record_every=s.record_every, seed=int(ctx.rng("batches").integers(2**31)),
                                           progress=ctx.progress)
    except FloatingPointError as exc:
        raise RunFailed(f"{exc}; try a smaller springs.lr") from None
    errors = interaction_network.evaluate(model, system, held_x0[0], held_v0[0], s.dt, s.horizon)
    return xr.Dataset(
        {"one_step_error": variable(errors.one_step, "relative acceleration error |a_pred - a| / |a| along the "
                                    "held-out true trajectory"),
         "position_error": variable(errors.position_error, "rms position error of the learned rollout (length)",
                                    ("rollout_time",)),
         "baseline_error": variable(errors.baseline_error, "rms position error of constant velocity (length)",
                                    ("rollout_time",)),
         "energy_drift": variable(errors.energy_drift, "relative energy drift (E(t) - E(0)) / E(0) of the "
                                  "learned rollout", ("rollout_time",)),
         "truth_energy_drift": variable(errors.truth_energy_drift, "relative energy drift (E(t) - E(0)) / E(0) of "
                                        "the numba Verlet truth", ("rollout_time",)),
         "train_loss": variable(curves.train, "training acceleration MSE over the acceleration variance",
                                ("step",)),
         "held_out_loss": variable(curves.held_out, "relative acceleration error on held-out states", ("step",)),
         "n_nodes": variable(len(x_rest), "number of nodes"),
         "n_edges": variable(edges.shape[1], "number of springs")},
        coords={"rollout_time": ("rollout_time", errors.time,
                                 {"units": "1", "long_name": "rollout time (time unit of k and m)"}),
                "step": ("step", curves.step, {"units": "1", "long_name": "training step"})})
