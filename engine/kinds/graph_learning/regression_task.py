"""One run of ``graph_learning`` task ``batched_regression``: draw the training and held-out graphs
(:mod:`solvers.graph_targets`), compute their exact targets, train the GIN readout (:mod:`learners.graph_readout`)
on one block-diagonal batch and score it on the held-out graphs against the mean predictor.

Random streams of the run's seed: ``graphs`` (training graphs), ``held_out`` (held-out graphs), ``init`` (the
model's initial weights)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import graph_readout
from solvers import graph_targets

from .spec import GraphLearningSpec


def draw_graphs(spec: GraphLearningSpec, count: int, rng: np.random.Generator) -> list[tuple[int, np.ndarray]]:
    """``count`` graphs ``(n, edges)`` of the spec's kinds and ranges, from ``rng``."""
    r = spec.regression
    return graph_targets.random_graphs(count, tuple(r.graph_kinds), tuple(r.nodes), tuple(r.p), tuple(r.radius),
                                       int(rng.integers(2**31)))


def mse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error of (count,) predictions."""
    return float(np.mean((np.asarray(predicted, dtype=np.float64) - target) ** 2))


def run(spec: GraphLearningSpec, ctx: RunContext, where: torch.device) -> xr.Dataset:
    """The dataset of one batched-regression run (variables in the package docstring)."""
    r = spec.regression
    train_graphs = draw_graphs(spec, r.count, ctx.rng("graphs"))
    held_graphs = draw_graphs(spec, r.held_out, ctx.rng("held_out"))
    y, held_y = (graph_targets.targets(r.target, g) for g in (train_graphs, held_graphs))
    torch.manual_seed(int(ctx.rng("init").integers(2**63)))
    model = graph_readout.GraphRegressor(hidden=r.hidden, layers=r.layers, pool=r.pool).to(where)
    batch, held_batch = graph_readout.to_batch(train_graphs, y).to(where), graph_readout.to_batch(held_graphs,
                                                                                                   held_y).to(where)
    try:
        curves = graph_readout.train(model, batch, held_batch, steps=r.steps, lr=r.lr, record_every=r.record_every,
                                     progress=ctx.progress)
    except FloatingPointError as exc:
        raise RunFailed(f"{exc}; try a smaller regression.lr") from None
    with torch.no_grad():
        predicted = model(held_batch).double().cpu().numpy()
    mean = np.full_like(held_y, y.mean())
    target = f"{r.target.replace('_', ' ')}"
    return xr.Dataset(
        {"r_squared": variable(graph_readout.r_squared(predicted, held_y), "R^2 of the readout on held-out graphs"),
         "mse": variable(mse(predicted, held_y), f"mean squared error of the {target} on held-out graphs"),
         "baseline_r_squared": variable(graph_readout.r_squared(mean, held_y),
                                        "R^2 of the training mean on held-out graphs"),
         "baseline_mse": variable(mse(mean, held_y), "mean squared error of the training mean on held-out graphs"),
         "train_loss": variable(curves.train, "training MSE over the target variance", ("step",)),
         "held_out_loss": variable(curves.held_out, "1 - R^2 on held-out graphs", ("step",)),
         "predicted": variable(predicted, f"predicted {target} of a held-out graph", ("graph",)),
         "target": variable(held_y, f"exact {target} of a held-out graph", ("graph",))},
        coords={"step": ("step", curves.step, {"units": "1", "long_name": "training step"}),
                "graph": ("graph", np.arange(len(held_y)), {"units": "1", "long_name": "held-out graph"})})
