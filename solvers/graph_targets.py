"""Small random graphs and exact graph-level targets: triangle count, algebraic connectivity, and the
ground-state energy of an antiferromagnetic Ising model by brute force.

A graph is ``(n, edges)``: ``n`` nodes ``0..n-1`` and ``edges`` ``(2, E)`` int64, each undirected
edge once with ``i < j``. Every target is a pure number (units "1"):

* ``triangles``: the number of triangles, trace(A^3) / 6 with A the adjacency matrix;
* ``algebraic_connectivity``: the second-smallest eigenvalue of the Laplacian L = D - A (0 when the
  graph is disconnected);
* ``ising_ground_energy``: min over s in {-1, +1}^n of H(s) = sum_{(i,j) in E} s_i s_j (unit
  antiferromagnetic couplings, so -E for a bipartite graph and above it when odd cycles frustrate),
  by enumerating the 2^(n-1) states with s_0 = +1 (H is even in s); n <= 14.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from numba import njit

__all__ = ["GRAPH_KINDS", "TARGETS", "ISING_MAX_NODES", "random_graph", "random_graphs", "triangle_count",
           "algebraic_connectivity", "ising_ground_energy", "targets", "warmup"]

GRAPH_KINDS = ("gnp", "geometric")
ISING_MAX_NODES = 14


def random_graph(kind: str, n: int, parameter: float, seed: int) -> np.ndarray:
    """Edges (2, E) of one networkx random graph on ``n`` nodes: ``gnp`` (G(n, p), ``parameter`` = p in
    [0, 1]) or ``geometric`` (points uniform in the unit square joined when closer than ``parameter``
    = radius > 0)."""
    if kind == "gnp":
        if not 0.0 <= parameter <= 1.0:
            raise ValueError(f"random_graph: gnp edge probability p must be in [0, 1], got {parameter}")
        graph = nx.gnp_random_graph(n, parameter, seed=seed)
    elif kind == "geometric":
        if not parameter > 0.0:
            raise ValueError(f"random_graph: geometric radius must be > 0, got {parameter}")
        graph = nx.random_geometric_graph(n, parameter, seed=seed)
    else:
        raise ValueError(f"random_graph: kind must be one of {GRAPH_KINDS}, got {kind!r}")
    pairs = np.array(sorted((min(i, j), max(i, j)) for i, j in graph.edges()), dtype=np.int64)
    return pairs.reshape(-1, 2).T.copy()


def random_graphs(count: int, kinds: tuple[str, ...], nodes: tuple[int, int], p: tuple[float, float],
                  radius: tuple[float, float], seed: int) -> list[tuple[int, np.ndarray]]:
    """``count`` graphs ``(n, edges)``, the kind drawn uniformly from ``kinds``, n uniform in
    ``nodes`` = (min, max) inclusive, and p (gnp) or radius (geometric) uniform in the given ranges;
    everything from ``seed``."""
    if not 1 <= nodes[0] <= nodes[1]:
        raise ValueError(f"random_graphs: nodes must be (min, max) with 1 <= min <= max, got {nodes}")
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(count):
        kind = kinds[rng.integers(len(kinds))]
        n = int(rng.integers(nodes[0], nodes[1] + 1))
        parameter = float(rng.uniform(*(p if kind == "gnp" else radius)))
        graphs.append((n, random_graph(kind, n, parameter, int(rng.integers(2 ** 31)))))
    return graphs


def _adjacency(n: int, edges: np.ndarray) -> np.ndarray:
    """Dense symmetric adjacency matrix (n, n) float64."""
    a = np.zeros((n, n))
    a[edges[0], edges[1]] = a[edges[1], edges[0]] = 1.0
    return a


def triangle_count(n: int, edges: np.ndarray) -> int:
    """Number of triangles, trace(A^3) / 6."""
    a = _adjacency(n, edges)
    return int(round(np.trace(a @ a @ a) / 6.0))


def algebraic_connectivity(n: int, edges: np.ndarray) -> float:
    """Second-smallest eigenvalue of the Laplacian D - A (n >= 2)."""
    if n < 2:
        raise ValueError(f"algebraic_connectivity needs at least 2 nodes, got {n}")
    a = _adjacency(n, edges)
    return float(np.linalg.eigvalsh(np.diag(a.sum(axis=1)) - a)[1])


@njit(cache=True, nogil=True)
def _ising_ground_energy(n, edges):
    """min over the 2^(n-1) spin states with s_0 = +1 of sum_e s_i s_j; bit b of the state is spin b+1."""
    best = edges.shape[1]
    spins = np.empty(n, dtype=np.int64)
    for state in range(1 << (n - 1)):
        spins[0] = 1
        for b in range(n - 1):
            spins[b + 1] = 1 - 2 * ((state >> b) & 1)
        energy = 0
        for e in range(edges.shape[1]):
            energy += spins[edges[0, e]] * spins[edges[1, e]]
        best = min(best, energy)
    return best


def ising_ground_energy(n: int, edges: np.ndarray) -> float:
    """Ground-state energy of H(s) = sum_{(i,j) in E} s_i s_j by enumeration (1 <= n <= 14)."""
    if not 1 <= n <= ISING_MAX_NODES:
        raise ValueError(f"ising_ground_energy: brute force is limited to 1 <= n <= {ISING_MAX_NODES} "
                         f"nodes, got n = {n}")
    return float(_ising_ground_energy(n, np.ascontiguousarray(edges, dtype=np.int64)))


TARGETS = {"triangles": triangle_count, "algebraic_connectivity": algebraic_connectivity,
           "ising_ground_energy": ising_ground_energy}


def targets(name: str, graphs: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """The target ``name`` (a key of TARGETS) of every graph, float64 (count,)."""
    if name not in TARGETS:
        raise ValueError(f"target must be one of {sorted(TARGETS)}, got {name!r}")
    return np.array([TARGETS[name](n, edges) for n, edges in graphs], dtype=np.float64)


def warmup() -> None:
    """Compile (or load from numba's cache) the brute-force kernel on a triangle."""
    ising_ground_energy(3, np.array([[0, 0, 1], [1, 2, 2]]))
