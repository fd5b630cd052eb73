"""Graph neural networks for node classification, built from PyTorch Geometric layers, and their training.

Models (``build_model``), for n nodes with F input features and k classes, forward(x (n, F), adjacency) ->
logits (n, k); ``adjacency`` is either an ``edge_index`` (2, |E|) int64 (PyG's per-edge message path: every
message is stored per edge, memory O(|E| D)) or the transposed sparse adjacency from :func:`sparse_adjacency`
(PyG's fused path, ``message_and_aggregate`` = one sparse-dense product, memory O(|V| D)):

- ``gcn``: two ``GCNConv`` layers, H = relu(S X W1), logits = S H W2, S = D^-1/2 (A + I) D^-1/2;
- ``gat``: ``GATConv`` with ``heads`` heads (concatenated) then a one-head ``GATConv``;
- ``sgc``: ``SGConv``, logits = S^K X W (one linear map after K propagation steps);
- ``appnp``: a two-layer perceptron, then ``APPNP``: K steps of Z <- (1 - alpha) S Z + alpha H.

Features (:func:`node_features`): ``identity`` (n, n), ``degree`` (one-hot of the degree, (n, max degree + 1)),
``random`` (n, F) standard normal, ``spectral`` (n, F) given eigenvectors (the Bethe-Hessian's, scaled by sqrt(n)).

Training (:func:`train_node_classifier`): full batch, cross-entropy on the labelled nodes, Adam with weight
decay, dropout on the hidden layer, through :func:`learners.training.train_loop`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import APPNP, GATConv, GCNConv, SGConv
from torch_geometric.utils import to_torch_csr_tensor

from learners.training import train_loop


@dataclass(frozen=True)
class ModelConfig:
    """One model: ``name`` (gcn, gat, sgc, appnp), ``hidden`` width, ``k`` propagation steps (sgc, appnp),
    ``alpha`` teleport probability (appnp), ``heads`` (gat), ``dropout`` probability, ``epochs``, Adam's ``lr``
    and ``weight_decay``."""

    name: str
    hidden: int = 16
    k: int = 10
    alpha: float = 0.1
    heads: int = 4
    dropout: float = 0.5
    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 5e-4


class TwoLayerGCN(nn.Module):
    """logits = S relu(S X W1) W2 (Kipf & Welling 2017); ``cached``: S is computed on the first call and kept
(one graph per model, as in transductive node classification)."""

    def __init__(self, features: int, hidden: int, classes: int, dropout: float, cached: bool = True):
        super().__init__()
        self.first = GCNConv(features, hidden, cached=cached)
        self.second = GCNConv(hidden, classes, cached=cached)
        self.dropout = dropout

    def forward(self, x, adjacency):
        h = torch.relu(self.first(x, adjacency))
        return self.second(nn.functional.dropout(h, self.dropout, self.training), adjacency)


class TwoLayerGAT(nn.Module):
    """GAT (Velickovic et al. 2018): ``heads`` attention heads of ``hidden`` units (ELU), then one head."""

    def __init__(self, features: int, hidden: int, classes: int, heads: int, dropout: float):
        super().__init__()
        self.first = GATConv(features, hidden, heads=heads)
        self.second = GATConv(hidden * heads, classes, heads=1)
        self.dropout = dropout

    def forward(self, x, adjacency):
        h = nn.functional.elu(self.first(x, adjacency))
        return self.second(nn.functional.dropout(h, self.dropout, self.training), adjacency)


class SGC(nn.Module):
    """logits = S^K X W (Wu et al. 2019); S^K X is computed once (``cached``)."""

    def __init__(self, features: int, classes: int, k: int):
        super().__init__()
        self.conv = SGConv(features, classes, K=k, cached=True)

    def forward(self, x, adjacency):
        return self.conv(x, adjacency)


class PerceptronAPPNP(nn.Module):
    """H = relu(X W1) W2, then K steps of personalized-PageRank propagation (Klicpera et al. 2019); S is cached
(one graph per model)."""

    def __init__(self, features: int, hidden: int, classes: int, k: int, alpha: float, dropout: float):
        super().__init__()
        self.first, self.second = nn.Linear(features, hidden), nn.Linear(hidden, classes)
        self.propagate, self.dropout = APPNP(K=k, alpha=alpha, cached=True), dropout

    def forward(self, x, adjacency):
        h = torch.relu(self.first(x))
        h = self.second(nn.functional.dropout(h, self.dropout, self.training))
        return self.propagate(h, adjacency)


def build_model(config: ModelConfig, features: int, classes: int) -> nn.Module:
    """The model ``config.name`` for ``features`` inputs and ``classes`` outputs (initialized from torch's
    global generator: seed it first)."""
    if config.name == "gcn":
        return TwoLayerGCN(features, config.hidden, classes, config.dropout)
    if config.name == "gat":
        return TwoLayerGAT(features, config.hidden, classes, config.heads, config.dropout)
    if config.name == "sgc":
        return SGC(features, classes, config.k)
    if config.name == "appnp":
        return PerceptronAPPNP(features, config.hidden, classes, config.k, config.alpha, config.dropout)
    raise ValueError(f"unknown model {config.name!r}")


def sparse_adjacency(edge_index: torch.Tensor, n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The transposed adjacency A^T (n, n) as a torch sparse CSR tensor of ones of ``dtype``, PyG's ``adj_t`` for
    the fused path (row i lists the sources of the edges into node i)."""
    ones = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
    return to_torch_csr_tensor(edge_index.flip(0), ones, size=(n, n))


class SparseProduct(torch.autograd.Function):
    """out = A x (m, C) for A (m, n) given by its CSR pattern (crow, col) and values (|E|,) with gradient: one
    sparse-dense product forward (g-SpMM); backward grad x = A^T grad (g-SpMM) and grad values = (grad x^T)
    sampled on the pattern (g-SDDMM, ``torch.sparse.sampled_addmm``), so nothing of size |E| x C is stored
    (torch's own backward of a CSR product forms a dense (m, n) gradient)."""

    @staticmethod
    def forward(ctx, crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(crow, col, values, x)
        return torch.sparse_csr_tensor(crow, col, values, (crow.numel() - 1, x.shape[0])) @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        crow, col, values, x = ctx.saved_tensors
        a = torch.sparse_csr_tensor(crow, col, values, (crow.numel() - 1, x.shape[0]))
        grad_values = torch.sparse.sampled_addmm(a, grad, x.T, beta=0.0).values() if ctx.needs_input_grad[2] else None
        grad_x = a.t().to_sparse_csr() @ grad if ctx.needs_input_grad[3] else None
        return None, None, grad_values, grad_x


class FusedGATConv(GATConv):
    """PyG's ``GATConv`` whose aggregation, given a sparse ``adj_t`` (:func:`sparse_adjacency`, self-loops
    included, ``add_self_loops=False``), is one sparse-dense product per head with the attention weights as the
    sparse values (:class:`SparseProduct`, DGL's g-SpMM ``u_mul_e``/``sum``): the per-edge attention (|E|, heads)
    is kept (g-SDDMM), the per-edge messages (|E|, heads, C) are never stored. With an ``edge_index`` it is
    ``GATConv``."""

    def message_and_aggregate(self, adj_t: torch.Tensor, x, alpha: torch.Tensor) -> torch.Tensor:
        """out[i, h] = sum_j alpha[(j, i), h] x[j, h] (n, heads, C); ``alpha`` (|E|, heads) in adj_t's CSR order."""
        source = x[0] if isinstance(x, tuple) else x
        crow, col = adj_t.crow_indices(), adj_t.col_indices()
        heads = [SparseProduct.apply(crow, col, alpha[:, h].contiguous(), source[:, h, :].contiguous())
                 for h in range(self.heads)]
        return torch.stack(heads, dim=1)


def node_features(kind: str, degree: np.ndarray, dimension: int, rng: np.random.Generator,
                  vectors: np.ndarray | None = None) -> np.ndarray:
    """Input features (n, F) float32: ``identity`` (F = n), ``degree`` (one-hot of the integer degree,
    F = max degree + 1), ``random`` (standard normal, F = ``dimension``) or ``spectral`` (``vectors`` (n, F) of
    unit norm, times sqrt(n) so that entries are of order one)."""
    n = degree.size
    if kind == "identity":
        return np.eye(n, dtype=np.float32)
    if kind == "degree":
        onehot = np.zeros((n, int(degree.max()) + 1), dtype=np.float32)
        onehot[np.arange(n), degree.astype(np.int64)] = 1.0
        return onehot
    if kind == "random":
        return rng.standard_normal((n, dimension)).astype(np.float32)
    if kind == "spectral":
        return (np.sqrt(n) * vectors).astype(np.float32)
    raise ValueError(f"unknown features {kind!r}")


def train_node_classifier(model: nn.Module, x: torch.Tensor, adjacency, labels: torch.Tensor,
                          labelled: torch.Tensor, config: ModelConfig, record_every: int = 50) -> np.ndarray:
    """Train ``model`` for ``config.epochs`` full-batch Adam steps on the cross-entropy of the ``labelled``
    nodes (indices (m,) int64, ``labels`` (n,) int64); return the loss (without dropout) recorded before training,
    every ``record_every`` epochs and after the last one, and leave the model in eval mode; raises
    FloatingPointError when a recorded loss is not finite."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    curve: list[float] = []

    def step(_: int) -> torch.Tensor:
        model.train()
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x, adjacency)[labelled], labels[labelled])
        loss.backward()
        optimizer.step()
        return loss.detach()

    def record(done: int, objectives: list[torch.Tensor]) -> None:
        model.eval()
        with torch.no_grad():
            loss = nn.functional.cross_entropy(model(x, adjacency)[labelled], labels[labelled])
        curve.append(float(loss))
        if not np.isfinite(curve[-1]):
            raise FloatingPointError(f"training loss not finite after {done} epochs")

    train_loop(step, config.epochs, record_every, record)
    model.eval()
    return np.asarray(curve)


def predict(model: nn.Module, x: torch.Tensor, adjacency) -> np.ndarray:
    """Class of every node (n,) int64 by the trained ``model``."""
    model.eval()
    with torch.no_grad():
        return model(x, adjacency).argmax(dim=1).cpu().numpy().astype(np.int64)
