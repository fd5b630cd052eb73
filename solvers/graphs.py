"""Graphs for node classification and their classical (unlearned) community detectors.

Generators (networkx, seeded): Zachary's karate club with its real ``club`` split, and the two-block
stochastic block model with p_in = c_in / n, p_out = c_out / n (mean degree c = (c_in + c_out) / 2 when the
blocks are equal). A graph is returned as a :class:`Graph`: a symmetric scipy CSR adjacency (n, n) of 0/1
entries without self-loops and the true block of every node (n,) int64.

Detectors (numpy/scipy), each returning a label 0/1 per node (n,):

- :func:`fiedler_labels`: spectral bisection, the sign of the eigenvector of the second smallest eigenvalue
  of the Laplacian L = D - A;
- :func:`bethe_hessian_labels`: the sign of the eigenvector of the second smallest eigenvalue of
  H(r) = (r^2 - 1) I - r A + D, r = sqrt(mean degree) (Saade, Krzakala, Zdeborova 2014);
- :func:`label_propagation`: personalized-PageRank label spreading F = (1 - alpha) sum_k (alpha S)^k Y,
  S = D^{-1/2} A D^{-1/2}, from the labelled nodes (Zhou et al. 2004).

Scores: :func:`accuracy` (fraction of nodes whose label equals the truth) and :func:`overlap` (the same,
maximized over permutations of the predicted labels: 0.5 is chance for two equal blocks, 1 is exact).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

KARATE_NODES = 34


@dataclass(frozen=True)
class Graph:
    """An undirected graph: ``adjacency`` symmetric CSR (n, n) of 0/1, ``blocks`` (n,) int64 true labels."""

    adjacency: sp.csr_array
    blocks: np.ndarray

    @property
    def n(self) -> int:
        return self.blocks.size

    @property
    def degree(self) -> np.ndarray:
        """Degree of every node (n,) float64."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel().astype(np.float64)

    def edge_index(self) -> np.ndarray:
        """Both directions of every edge as a (2, 2|E|) int64 array (source row, target row)."""
        coo = self.adjacency.tocoo()
        return np.vstack([coo.row, coo.col]).astype(np.int64)


def _from_networkx(graph: nx.Graph, blocks: np.ndarray, weighted: bool = False) -> Graph:
    """The graph without self-loops, its edges of weight 1 (or, ``weighted``, of their attribute ``weight``)."""
    adjacency = sp.csr_array(nx.to_scipy_sparse_array(graph, nodelist=range(blocks.size), dtype=np.float64,
                                                      weight="weight" if weighted else None, format="csr"))
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    return Graph(adjacency, blocks)


def karate_club(weighted: bool = False) -> Graph:
    """Zachary's karate club (34 nodes, 78 edges); block 0 = ``Mr. Hi``, block 1 = ``Officer``; ``weighted``: each
    edge weighted by Zachary's count of the contexts in which the two members interacted (networkx's ``weight``,
    1 to 7), else 1."""
    graph = nx.karate_club_graph()
    blocks = np.array([0 if graph.nodes[v]["club"] == "Mr. Hi" else 1 for v in range(KARATE_NODES)], dtype=np.int64)
    return _from_networkx(graph, blocks, weighted)


def two_block_sbm(n: int, c_in: float, c_out: float, seed: int) -> Graph:
    """Stochastic block model of two blocks of n // 2 and n - n // 2 nodes, p_in = c_in / n, p_out = c_out / n;
    raises ValueError when a probability is outside [0, 1]."""
    p_in, p_out = c_in / n, c_out / n
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} = {p:g} is not a probability")
    sizes = [n // 2, n - n // 2]
    graph = nx.stochastic_block_model(sizes, [[p_in, p_out], [p_out, p_in]], seed=seed, sparse=True)
    return _from_networkx(graph, np.repeat(np.arange(2, dtype=np.int64), sizes))


def sampled_sbm_edge_index(n: int, c_in: float, c_out: float, rng: np.random.Generator) -> np.ndarray:
    """Both directions of the edges (2, 2m) int64 of a two-block SBM (blocks [0, n/2) and [n/2, n)) drawn edge by
    edge for graphs too large for networkx: Poisson(n c_in / 4) edges with both ends uniform in one block (of
    the two, uniform) and Poisson(n c_out / 4) with one end uniform in each block; self-loops dropped, the few
    repeated pairs (O(c^2) of n c) kept. Mean degree (c_in + c_out) / 2, as :func:`two_block_sbm`."""
    half = n // 2
    inside, across = rng.poisson(n * c_in / 4), rng.poisson(n * c_out / 4)
    offset = half * rng.integers(0, 2, inside)
    sources = np.concatenate([offset + rng.integers(0, half, inside), rng.integers(0, half, across)])
    targets = np.concatenate([offset + rng.integers(0, half, inside), half + rng.integers(0, n - half, across)])
    keep = sources != targets
    sources, targets = sources[keep], targets[keep]
    return np.vstack([np.concatenate([sources, targets]), np.concatenate([targets, sources])]).astype(np.int64)


def labelled_nodes(graph: Graph, per_block: int, how: str, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_block`` labelled nodes of each block, sorted: ``random`` (uniform without replacement)
    or ``hubs`` (the highest-degree nodes of the block, ties to the lower index)."""
    chosen = []
    for block in np.unique(graph.blocks):
        members = np.flatnonzero(graph.blocks == block)
        if how == "hubs":
            chosen.append(members[np.argsort(-graph.degree[members], kind="stable")[:per_block]])
        else:
            chosen.append(rng.choice(members, size=per_block, replace=False))
    return np.sort(np.concatenate(chosen))


def _lowest_vectors(matrix: sp.csr_array, count: int) -> np.ndarray:
    """Eigenvectors (n, count) of the ``count`` smallest eigenvalues of the symmetric ``matrix``, in increasing
    order: dense for small n, else Lanczos (ARPACK, smallest algebraic, a fixed start vector)."""
    n = matrix.shape[0]
    if n < 200:
        _, vectors = np.linalg.eigh(matrix.toarray())
        return vectors[:, :count]
    start = np.random.default_rng(0).standard_normal(n)  # ARPACK's start vector: fixed for reproducibility
    values, vectors = eigsh(matrix, k=count, which="SA", v0=start)
    return vectors[:, np.argsort(values)]


def fiedler_labels(graph: Graph) -> np.ndarray:
    """Spectral bisection: 1 where the Fiedler vector of L = D - A is positive, else 0 (n,) int64."""
    laplacian = sp.csr_array(sp.diags_array(graph.degree) - graph.adjacency)
    return (_lowest_vectors(laplacian, 2)[:, 1] > 0).astype(np.int64)


def bethe_hessian_vectors(graph: Graph, count: int) -> np.ndarray:
    """Eigenvectors (n, count) of the ``count`` smallest eigenvalues of the Bethe-Hessian
    H(r) = (r^2 - 1) I - r A + D, r = sqrt(mean degree)."""
    degree = graph.degree
    r = float(np.sqrt(degree.mean()))
    hessian = sp.csr_array(sp.diags_array((r * r - 1.0) + degree) - r * graph.adjacency)
    return _lowest_vectors(hessian, count)


def bethe_hessian_labels(graph: Graph) -> np.ndarray:
    """Bethe-Hessian clustering: 1 where the eigenvector of the second smallest eigenvalue of H(r) is positive,
    else 0 (n,) int64 (Saade, Krzakala, Zdeborova 2014)."""
    return (bethe_hessian_vectors(graph, 2)[:, 1] > 0).astype(np.int64)


def label_propagation(graph: Graph, labelled: np.ndarray, alpha: float, iterations: int) -> np.ndarray:
    """Label spreading from ``labelled`` nodes (their true blocks): F <- alpha S F + (1 - alpha) Y for
    ``iterations`` steps from F = Y, S = D^{-1/2} A D^{-1/2}; the label of the largest column (n,) int64."""
    k = int(graph.blocks.max()) + 1
    seeds = np.zeros((graph.n, k))
    seeds[labelled, graph.blocks[labelled]] = 1.0
    inv_sqrt = 1.0 / np.sqrt(np.maximum(graph.degree, 1.0))
    propagate = sp.diags_array(inv_sqrt) @ graph.adjacency @ sp.diags_array(inv_sqrt)
    scores = seeds.copy()
    for _ in range(iterations):
        scores = alpha * (propagate @ scores) + (1.0 - alpha) * seeds
    return np.argmax(scores, axis=1).astype(np.int64)


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of nodes with predicted == truth."""
    return float(np.mean(predicted == truth))


def overlap(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of agreement maximized over permutations of the predicted labels (0.5 = chance for two
    equal blocks)."""
    k = int(max(predicted.max(), truth.max())) + 1
    return max(float(np.mean(np.asarray(perm)[predicted] == truth))
               for perm in itertools.permutations(range(k)))


def oriented(predicted: np.ndarray, truth: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """The permutation of an unsupervised partition (two labels) that agrees best with the labelled nodes:
    ``predicted`` or 1 - ``predicted`` (ties keep ``predicted``)."""
    agree = np.mean(predicted[labelled] == truth[labelled])
    return predicted if agree >= 0.5 else 1 - predicted
