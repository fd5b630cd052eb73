"""Peak memory of a ``graph_learning`` run, from its spec (see :mod:`engine.spec.memory`); the tasks
``batched_regression`` and ``learned_springs`` in :func:`regression_memory` and :func:`springs_memory`, task
``node_classification`` as follows.

With n nodes, E = n c directed edges (c the mean degree: (c_in + c_out) / 2 for the sbm, 78 * 2 / 34 for the
karate club; self-loops add n), F input features (n for identity, `dimension` for random and spectral, at most
c + 10 sqrt(c) + 10 for one-hot degrees), h the widest hidden layer (hidden x heads for gat) and 4-byte floats:

- the graph: scipy CSR adjacency and Laplacian-type matrices (12 bytes an entry, 3 copies) and the edge index
  in int64 (numpy and torch, 32 bytes an edge): ``(36 + 32) (E + n)``;
- the input features ``4 n F``;
- per-edge messages of PyG's message path (forward values, saved for autograd and gradients):
  ``3 x 4 (E + n) h``, and the node activations ``3 x 4 n h``;
- parameters with gradients and Adam's moments: ``4 x 4 F h``;
- the Lanczos basis of the spectral baselines (ARPACK keeps ``max(2 k + 1, 20)`` vectors of n float64):
  ``8 n max(2 k + 1, 20)``, k = 2 or the number of spectral features.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import GraphLearningSpec

KARATE_EDGES = 78
FLOAT = 4
COPIES = 3  # forward values, saved for autograd, gradients
HELD_OUT_STATES = 4  # held-out initial states of task learned_springs (scored during training, the first rolled out)


def peak_memory(spec: "GraphLearningSpec") -> MemoryEstimate:
    """The estimate of the module docstring for the spec's task."""
    if spec.task.kind == "batched_regression":
        return regression_memory(spec)
    if spec.task.kind == "learned_springs":
        return springs_memory(spec)
    n = spec.graph.nodes
    c = 2.0 * KARATE_EDGES / n if spec.graph.kind == "karate" else sum(spec.graph.affinities) / 2
    edges = n * c + n
    t, f = spec.training, spec.features
    hidden = max(t.hidden * (t.heads if "gat" in t.models else 1), 2)
    features = {"identity": n, "degree": c + 10 * math.sqrt(c) + 10}.get(f.kind, f.dimension)
    vectors = max(2 * (f.dimension if f.kind == "spectral" else 2) + 1, 20)
    size = "graph.n" if spec.graph.kind == "sbm" else "graph.kind"
    return estimate(
        ArrayBytes(size, f"adjacency and edge index of {edges:.3g} directed edges", 68.0 * edges),
        ArrayBytes("features.kind", f"input features (n={n}, F={features:.0f}) float32", FLOAT * n * features),
        ArrayBytes("training.hidden", f"per-edge messages ({edges:.3g}, h={hidden}) x {COPIES}",
                   COPIES * FLOAT * (edges + n) * hidden),
        ArrayBytes("training.hidden", f"parameters (F={features:.0f}, h={hidden}) with gradients and Adam x 4",
                   4.0 * FLOAT * features * hidden),
        ArrayBytes(size, f"Lanczos basis (n={n}, {vectors}) float64", 8.0 * n * vectors))


def regression_memory(spec: "GraphLearningSpec") -> MemoryEstimate:
    """Task batched_regression: the batches of the training and held-out graphs (N nodes at most
    (count + held_out) max nodes, directed edges at most N (max nodes - 1)), their edge index in int64, and the
    GIN's node states, messages and gradients (float32, hidden wide, a set per layer, x COPIES)."""
    r = spec.regression
    nodes = (r.count + r.held_out) * r.nodes[1]
    edges = nodes * (r.nodes[1] - 1)
    return estimate(
        ArrayBytes("regression.count", f"edge index of <= {edges:.3g} directed edges int64 (x2 for PyG)",
                   2 * 16.0 * edges),
        ArrayBytes("regression.hidden", f"node states and messages ({nodes:.3g} + {edges:.3g}, h={r.hidden}) x "
                   f"{r.layers} layers x {COPIES}", COPIES * FLOAT * (nodes + edges) * r.hidden * (r.layers + 1)))


def springs_memory(spec: "GraphLearningSpec") -> MemoryEstimate:
    """Task learned_springs: the training and held-out (positions, acceleration) pairs in float64, the rollouts
    (learned, truth, baseline), and the minibatch's per-edge messages and hidden activations (float32, x COPIES);
    E springs about n pi radius^2 / 2 (radius graph) or 4 nx ny (lattice)."""
    s = spec.springs
    n = s.n if s.graph == "radius" else s.lattice[0] * s.lattice[1]
    springs = n * math.pi * s.radius**2 / 2 if s.graph == "radius" else 4.0 * n
    samples = (s.states + HELD_OUT_STATES) * (s.trajectory_steps // s.save_every + 1)
    return estimate(
        ArrayBytes("springs.states", f"(positions, accelerations) of {samples} states (n={n}) float64",
                   2 * 16.0 * samples * n),
        ArrayBytes("springs.horizon", f"rollouts ({s.horizon + 1}, n={n}, 2) float64 x 6", 6 * 16.0 * (s.horizon + 1)
                   * n),
        ArrayBytes("springs.batch", f"messages and activations ({s.batch} x {2 * springs:.3g} edges, "
                   f"h={s.hidden}) x {COPIES}",
                   COPIES * FLOAT * s.batch * 2 * springs * (2 * s.message + 2 * s.hidden)))
