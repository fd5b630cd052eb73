"""One run of ``graph_learning``, dispatched by task: ``batched_regression`` (:mod:`.regression_task`),
``learned_springs`` (:mod:`.springs_task`), and ``node_classification`` here: generate the graph and pick the
labelled nodes (:mod:`solvers.graphs`), run the baselines, train every model (:mod:`learners.gnn`) and score
them on the unlabelled nodes.

Random streams of the run's seed: ``graph`` (the sbm), ``labels`` (random labelled nodes), ``features``
(random features), ``init:<model>`` (the model's initial weights and dropout masks).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import gnn
from learners.training import NoDevice, device, torch_threads
from solvers import graphs

from . import regression_task, springs_task
from .spec import GraphLearningSpec

BASELINES = ("fiedler", "label_propagation", "bethe_hessian")
SMALL_GRAPH = 10**6  # directed edges of a graph whose models train on one torch thread (more only synchronize)


def make_graph(spec: GraphLearningSpec, ctx: RunContext) -> graphs.Graph:
    """The spec's graph; the sbm's from the run's ``graph`` stream."""
    if spec.graph.kind == "karate":
        return graphs.karate_club()
    c_in, c_out = spec.graph.affinities
    return graphs.two_block_sbm(spec.graph.n, c_in, c_out, int(ctx.rng("graph").integers(2**31)))


def baseline_labels(name: str, graph: graphs.Graph, labelled: np.ndarray, spec: GraphLearningSpec) -> np.ndarray:
    """Block of every node (n,) by the baseline ``name``; the unsupervised ones oriented by the labelled nodes."""
    if name == "label_propagation":
        lp = spec.label_propagation
        return graphs.label_propagation(graph, labelled, lp.alpha, lp.iterations)
    partition = graphs.fiedler_labels(graph) if name == "fiedler" else graphs.bethe_hessian_labels(graph)
    return graphs.oriented(partition, graph.blocks, labelled)


def model_config(spec: GraphLearningSpec, name: str) -> gnn.ModelConfig:
    t = spec.training
    return gnn.ModelConfig(name, hidden=t.hidden, k=t.k, alpha=t.alpha, heads=t.heads, dropout=t.dropout,
                           epochs=t.epochs, lr=t.lr, weight_decay=t.weight_decay)


def learned_labels(spec: GraphLearningSpec, name: str, graph: graphs.Graph, x: torch.Tensor, labelled: np.ndarray,
                   ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
    """(block of every node (n,), recorded training loss) of the model ``name`` trained on the labelled nodes."""
    where = x.device
    torch.manual_seed(int(ctx.rng(f"init:{name}").integers(2**63)))
    config = model_config(spec, name)
    model = gnn.build_model(config, x.shape[1], int(graph.blocks.max()) + 1).to(where)
    edge_index = torch.as_tensor(graph.edge_index(), device=where)
    blocks = torch.as_tensor(graph.blocks, device=where)
    try:
        curve = gnn.train_node_classifier(model, x, edge_index, blocks, torch.as_tensor(labelled, device=where),
                                          config, spec.training.record_every)
    except FloatingPointError as exc:
        raise RunFailed(f"{name}: {exc}; try a smaller training.lr") from None
    return gnn.predict(model, x, edge_index), curve


def input_features(spec: GraphLearningSpec, graph: graphs.Graph, ctx: RunContext, where) -> torch.Tensor:
    f = spec.features
    vectors = graphs.bethe_hessian_vectors(graph, f.dimension) if f.kind == "spectral" else None
    x = gnn.node_features(f.kind, graph.degree, f.dimension, ctx.rng("features"), vectors)
    return torch.as_tensor(x, device=where)


def run(spec: GraphLearningSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run of the spec's task (variables in the package docstring)."""
    try:
        where = device(spec.backend.device)
    except NoDevice:
        raise RunFailed("backend.device is cuda but torch sees no CUDA device (use device: auto or cpu)") from None
    if spec.task.kind == "node_classification":
        return node_classification(spec, ctx, where)
    task = regression_task if spec.task.kind == "batched_regression" else springs_task
    with torch_threads(1):  # small graphs: intra-op threads only synchronize
        return task.run(spec, ctx, where)


def node_classification(spec: GraphLearningSpec, ctx: RunContext, where: torch.device) -> xr.Dataset:
    """The dataset of one node-classification run."""
    graph = make_graph(spec, ctx)
    labelled = (np.sort(np.asarray(spec.labels.nodes, dtype=np.int64)) if spec.labels.choice == "nodes"
                else graphs.labelled_nodes(graph, spec.labels.per_block, spec.labels.choice, ctx.rng("labels")))
    unlabelled = np.setdiff1d(np.arange(graph.n), labelled)
    x = input_features(spec, graph, ctx, where)
    models = list(spec.training.models)
    methods = models + list(BASELINES)
    predicted, curves = {}, []
    with torch_threads(1 if graph.adjacency.nnz < SMALL_GRAPH else None):
        for name in methods:
            start = time.perf_counter()
            if name in BASELINES:
                predicted[name] = baseline_labels(name, graph, labelled, spec)
            else:
                predicted[name], curve = learned_labels(spec, name, graph, x, labelled, ctx)
                curves.append(curve)
            ctx.log.info("%s: %.2f s", name, time.perf_counter() - start)  # timings: the log, not the result
            ctx.progress(len(predicted), len(methods))
    truth = graph.blocks[unlabelled]
    accuracy = [graphs.accuracy(predicted[m][unlabelled], truth) for m in methods]
    overlap = [graphs.overlap(predicted[m][unlabelled], truth) for m in methods]
    every = spec.training.record_every
    epochs = np.minimum(np.arange(curves[0].size) * every, spec.training.epochs)
    c_in, c_out = spec.graph.affinities if spec.graph.kind == "sbm" else (np.nan, np.nan)
    degree = graph.degree.mean()
    return xr.Dataset(
        {"accuracy": variable(np.array(accuracy), "fraction of unlabelled nodes classified correctly", ("method",)),
         "overlap": variable(np.array(overlap), "agreement with the true blocks, best label permutation",
                             ("method",)),
         "train_loss": variable(np.array(curves), "cross-entropy of the labelled nodes", ("model", "epoch")),
         "n_nodes": variable(graph.n, "number of nodes"),
         "n_edges": variable(graph.adjacency.nnz // 2, "number of undirected edges"),
         "mean_degree": variable(float(degree), "measured mean degree"),
         "c_difference": variable(float(c_in - c_out), "c_in - c_out of the sbm"),
         "ks_threshold": variable(float(2 * np.sqrt((c_in + c_out) / 2)),
                                  "Kesten-Stigum threshold 2 sqrt(c) of c_in - c_out")},
        coords={"method": ("method", methods, {"units": "1", "long_name": "classification method"}),
                "model": ("model", models, {"units": "1", "long_name": "learned model"}),
                "epoch": ("epoch", epochs, {"units": "1", "long_name": "training epoch"})})
