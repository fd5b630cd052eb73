"""Graph-level regression: many small graphs in one block-diagonal PyG ``Batch``, a GIN network with a
per-graph readout, trained on exact targets (:mod:`solvers.graph_targets`).

Batching: graph g's nodes are renumbered by the offset n_0 + ... + n_{g-1}, so the batch is one graph
whose adjacency is block-diagonal and ``batch.batch`` (total nodes,) names each node's graph; no
message crosses between graphs, so the batched forward pass equals the graphs one by one.

Model (Xu et al. 2019, GIN, as message / reduce / update), node features h^0 = (1, degree):

    message  m_ij = h_j^l,   reduce  M_i = sum_{j in N(i)} m_ij,   update  h_i^{l+1} = MLP_l(h_i^l + M_i)

and the readout per graph G, over every layer (``pool`` = ``add`` or ``mean`` over G's nodes),

    y_G = mean_y + std_y * head(concat_l pool_{i in G} h_i^l),

``mean_y``, ``std_y`` being the training targets' mean and standard deviation. Targets are pure numbers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv, global_add_pool, global_mean_pool

from learners.training import Curves, fit_adam

__all__ = ["POOLS", "graph_data", "to_batch", "GraphRegressor", "train", "r_squared"]

POOLS = {"add": global_add_pool, "mean": global_mean_pool}


def graph_data(n: int, edges: np.ndarray, target: float | None = None,
               dtype: torch.dtype = torch.float32) -> Data:
    """One graph as PyG ``Data``: ``edge_index`` (2, 2E) both directions of the edges (2, E),
    node features ``x`` (n, 2) = (1, degree), and ``y`` (1,) when ``target`` is given."""
    edge_index = torch.as_tensor(np.concatenate([edges, edges[::-1]], axis=1), dtype=torch.long)
    degree = torch.bincount(edge_index[0], minlength=n).to(dtype)
    data = Data(x=torch.stack([torch.ones(n, dtype=dtype), degree], dim=1), edge_index=edge_index,
                num_nodes=n)
    if target is not None:
        data.y = torch.tensor([target], dtype=dtype)
    return data


def to_batch(graphs: list[tuple[int, np.ndarray]], targets: np.ndarray | None = None,
             dtype: torch.dtype = torch.float32) -> Batch:
    """The graphs ``(n, edges)`` as one block-diagonal ``Batch`` (with ``y`` (count,) when
    ``targets`` (count,) is given)."""
    return Batch.from_data_list([graph_data(n, edges, None if targets is None else float(targets[g]), dtype)
                                 for g, (n, edges) in enumerate(graphs)])


class GraphRegressor(torch.nn.Module):
    """``layers`` GIN layers of width ``hidden`` and a readout ``pool`` (``add`` or ``mean``) per graph
    of every layer's node states, then a 2-layer head to one number per graph."""

    def __init__(self, hidden: int = 32, layers: int = 3, pool: str = "add"):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {sorted(POOLS)}, got {pool!r}")
        self.pool = POOLS[pool]
        widths = [2] + [hidden] * layers
        self.convs = torch.nn.ModuleList(
            GINConv(torch.nn.Sequential(torch.nn.Linear(a, b), torch.nn.SiLU(), torch.nn.Linear(b, b)))
            for a, b in zip(widths[:-1], widths[1:]))
        self.head = torch.nn.Sequential(torch.nn.Linear(sum(widths), hidden), torch.nn.SiLU(),
                                        torch.nn.Linear(hidden, 1))
        self.register_buffer("target_mean", torch.tensor(0.0))
        self.register_buffer("target_std", torch.tensor(1.0))

    def set_target_scale(self, mean: float, std: float) -> None:
        """Set the training targets' mean and standard deviation (std > 0)."""
        self.target_mean.fill_(mean)
        self.target_std.fill_(std)

    def forward(self, batch: Batch) -> torch.Tensor:
        """One prediction per graph of the batch, (num_graphs,)."""
        h = batch.x
        pooled = [self.pool(h, batch.batch, batch.num_graphs)]
        for conv in self.convs:
            h = torch.nn.functional.silu(conv(h, batch.edge_index))
            pooled.append(self.pool(h, batch.batch, batch.num_graphs))
        return self.target_mean + self.target_std * self.head(torch.cat(pooled, dim=1)).squeeze(1)


def r_squared(predicted: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray) -> float:
    """Coefficient of determination 1 - sum (p - y)^2 / sum (y - mean y)^2 (0 for predicting the mean)."""
    p, y = (np.asarray(torch.as_tensor(a).detach().cpu(), dtype=np.float64) for a in (predicted, target))
    return float(1.0 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2))


def train(model: GraphRegressor, batch: Batch, held_out: Batch, *, steps: int, lr: float, record_every: int,
          progress: Callable[[int, int], None] | None = None) -> Curves:
    """Full-batch fit of ``model`` to ``batch.y`` (the target scale set from it first); the curves hold
    the mean squared error over std_y^2 on the training graphs and 1 - R^2 on the held-out graphs."""
    y = batch.y
    model.set_target_scale(float(y.mean()), float(y.std()) if len(y) > 1 and float(y.std()) > 0 else 1.0)

    def objective(s: int) -> torch.Tensor:
        return torch.mean((model(batch) - y) ** 2) / model.target_std ** 2

    def held_out_loss() -> torch.Tensor:
        return torch.tensor(1.0 - r_squared(model(held_out).cpu(), held_out.y.cpu()))

    return fit_adam(objective, list(model.parameters()), steps, lr, record_every, held_out_loss, progress)
