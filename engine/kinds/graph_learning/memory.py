"""Peak memory of a ``graph_learning`` run, from its spec (see :mod:`engine.spec.memory`).

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


def peak_memory(spec: "GraphLearningSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
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
