"""A learned simulator of spring–mass networks: an interaction network (PyG ``MessagePassing``) that
learns the acceleration of every node from the current positions, rolled out by its own Verlet.

Model (Battaglia et al. 2016, as message / reduce / update). For the directed edge ``j -> i`` with
``d = x_j - x_i`` and the spring's rest length ``L``, the edge features are

    f_ij = (d, |d|, e_ij),   e_ij = (|d| - L) / s_ext   (s_ext: the extensions' rms in the training data)

and, in the generic form (``equivariant=False``),

    message  m_ij = phi_e(f_ij)                   (edge model, an MLP, R^4 -> R^M)
    reduce   M_i  = sum_{j in N(i)} m_ij           (PyG aggregation "add")
    update   a_i  = s_acc * phi_v(M_i, 1 / m_i)     (node model, an MLP, R^(M+1) -> R^2)

In the rotation-equivariant form (``equivariant=True``, the default) the messages are M vectors along
the edge, weighted by the edge model on the invariants, and the node model gates their sums:

    message  m_ij^c = phi_e(|d|, e_ij)_c d / |d|                      (c = 1..M, M vectors in R^2)
    reduce   V_i^c  = sum_{j in N(i)} m_ij^c
    update   a_i    = s_acc * sum_c phi_v(|V_i^1|, ..., |V_i^M|, 1 / m_i)_c V_i^c

Both see only translation-invariant quantities and neither is told Newton's third law: it is learned.
The generic form must build the product k (|d| - L) d / |d| of a length and a direction in its MLP and
learns it an order of magnitude less accurately under the same budget (held-out relative acceleration
error 0.10 against 0.005 after 1000 Adam steps on a 64-node radius network). Lengths, times and masses
are in the units of :mod:`solvers.springs`; accelerations in length/time^2.

Training (:func:`train`) minimises the mean squared acceleration error over (positions, acceleration)
pairs with Adam in :func:`learners.training.train_loop`. :func:`rollout` integrates the learned
acceleration with velocity Verlet; :func:`evaluate` compares it with the numba truth
(:func:`solvers.springs.simulate`) and with the constant-velocity baseline ``x(t) = x0 + v0 t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch_geometric.nn import MessagePassing

from learners.training import Curves, fit_adam
from solvers import springs

__all__ = ["SpringSystem", "InteractionNetwork", "Curves", "fit_adam", "train", "rollout", "evaluate",
           "RolloutErrors"]


@dataclass(frozen=True)
class SpringSystem:
    """One spring network: ``edges`` (2, E) int64 each spring once, ``rest`` lengths (E,), spring
    constants ``k`` (E,) (force/length), masses ``m`` (n,)."""

    edges: np.ndarray
    rest: np.ndarray
    k: np.ndarray
    m: np.ndarray

    def tensors(self, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        """``edge_index`` (2, 2E) with both directions of every spring, ``rest`` (2E, 1) and inverse
        masses (n, 1), as the model takes them."""
        edge_index = torch.as_tensor(np.concatenate([self.edges, self.edges[::-1]], axis=1), device=device)
        rest = torch.as_tensor(np.concatenate([self.rest, self.rest]), dtype=dtype, device=device)
        inv_mass = torch.as_tensor(1.0 / self.m, dtype=dtype, device=device)
        return edge_index, rest[:, None], inv_mass[:, None]


def _mlp(sizes: list[int]) -> torch.nn.Sequential:
    """Linear layers of the given widths with SiLU between them (none after the last)."""
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.SiLU()]
    return torch.nn.Sequential(*layers[:-1])


class InteractionNetwork(MessagePassing):
    """Edge model ``phi_e`` and node model ``phi_v`` (MLPs with ``hidden`` units in each of ``layers``
    hidden layers) around a sum over incoming edges; ``message`` channels. ``equivariant`` selects the
    rotation-equivariant form (see the module); ``extension_scale`` (length) and ``acceleration_scale``
    (length/time^2) are buffers set from the training data."""

    def __init__(self, hidden: int = 32, message: int = 8, layers: int = 2, equivariant: bool = True):
        super().__init__(aggr="add")
        self.equivariant = equivariant
        self.channels = message
        edge_inputs, node_outputs = (2, message) if equivariant else (4, 2)
        self.edge_model = _mlp([edge_inputs] + [hidden] * layers + [message])
        self.node_model = _mlp([message + 1] + [hidden] * layers + [node_outputs])
        self.register_buffer("extension_scale", torch.tensor(1.0))
        self.register_buffer("acceleration_scale", torch.tensor(1.0))

    def set_scales(self, extension: float, acceleration: float) -> None:
        """Set the typical spring extension and acceleration (their rms in the training data)."""
        self.extension_scale.fill_(extension)
        self.acceleration_scale.fill_(acceleration)

    def forward(self, pos: torch.Tensor, edge_index: torch.Tensor, rest: torch.Tensor,
                inv_mass: torch.Tensor) -> torch.Tensor:
        """Accelerations (n, 2) at positions ``pos`` (n, 2); ``edge_index`` (2, 2E) both directions,
        ``rest`` (2E, 1), ``inv_mass`` (n, 1)."""
        summed = self.propagate(edge_index, pos=pos, rest=rest)
        if not self.equivariant:
            return self.acceleration_scale * self.node_model(torch.cat([summed, inv_mass], dim=1))
        vectors = summed.reshape(-1, self.channels, 2)
        norms = torch.linalg.vector_norm(vectors, dim=2)
        gates = self.node_model(torch.cat([norms, inv_mass], dim=1))
        return self.acceleration_scale * torch.einsum("nc,ncx->nx", gates, vectors)

    def message(self, pos_i: torch.Tensor, pos_j: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
        d = pos_j - pos_i
        length = torch.linalg.vector_norm(d, dim=1, keepdim=True)
        extension = (length - rest) / self.extension_scale
        if not self.equivariant:
            return self.edge_model(torch.cat([d, length, extension], dim=1))
        weights = self.edge_model(torch.cat([length, extension], dim=1))
        return (weights[:, :, None] * (d / length)[:, None, :]).reshape(len(d), -1)


def _relative_error(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """|predicted - true| / |true| over all entries (Frobenius norms)."""
    return torch.linalg.vector_norm(predicted - true) / torch.linalg.vector_norm(true)


def _batched_accelerations(model: InteractionNetwork, system: SpringSystem, positions: torch.Tensor):
    """Model accelerations (S, n, 2) for S states (S, n, 2) of one system, as one block-diagonal graph."""
    edge_index, rest, inv_mass = system.tensors(positions.dtype, positions.device)
    count, n = positions.shape[:2]
    offsets = (torch.arange(count, device=positions.device) * n).repeat_interleave(edge_index.shape[1])
    batched_edges = edge_index.repeat(1, count) + offsets
    out = model(positions.reshape(-1, 2), batched_edges, rest.repeat(count, 1), inv_mass.repeat(count, 1))
    return out.reshape(count, n, 2)


def train(model: InteractionNetwork, system: SpringSystem, positions: np.ndarray, accelerations: np.ndarray,
          held_positions: np.ndarray, held_accelerations: np.ndarray, *, steps: int, lr: float,
          batch: int, record_every: int, seed: int,
          progress: Callable[[int, int], None] | None = None) -> Curves:
    """Fit ``model`` to (positions, accelerations) pairs (S, n, 2) of ``system`` by minibatches of
    ``batch`` states (drawn with ``seed``); the scales are set from the training pairs first.
    The curves hold the mean squared error over (acceleration_scale)^2 on the training minibatches and
    the relative error |a_pred - a| / |a| on the held-out pairs."""
    p = next(model.parameters())
    x = torch.as_tensor(positions, dtype=p.dtype, device=p.device)
    a = torch.as_tensor(accelerations, dtype=p.dtype, device=p.device)
    held_x = torch.as_tensor(held_positions, dtype=p.dtype, device=p.device)
    held_a = torch.as_tensor(held_accelerations, dtype=p.dtype, device=p.device)
    d = positions[:, system.edges[1]] - positions[:, system.edges[0]]
    extension = np.linalg.norm(d, axis=-1) - system.rest
    model.set_scales(float(np.sqrt(np.mean(extension ** 2))), float(np.sqrt(np.mean(accelerations ** 2))))
    generator = torch.Generator(device="cpu").manual_seed(seed)
    scale2 = model.acceleration_scale ** 2

    def objective(s: int) -> torch.Tensor:
        pick = torch.randint(len(x), (min(batch, len(x)),), generator=generator).to(p.device)
        r = _batched_accelerations(model, system, x[pick]) - a[pick]
        return torch.mean(r * r) / scale2

    def held_out() -> torch.Tensor:
        return _relative_error(_batched_accelerations(model, system, held_x), held_a)

    return fit_adam(objective, list(model.parameters()), steps, lr, record_every, held_out, progress)


@torch.no_grad()
def rollout(model: InteractionNetwork, system: SpringSystem, x0: np.ndarray, v0: np.ndarray, dt: float,
            steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Velocity Verlet with the learned acceleration from (x0, v0) (n, 2): positions and velocities
    (steps + 1, n, 2), the initial state first. The state is kept in float64; the model is evaluated
    in its own dtype."""
    p = next(model.parameters())
    edge_index, rest, inv_mass = system.tensors(p.dtype, p.device)

    def acceleration(x: torch.Tensor) -> torch.Tensor:
        return model(x.to(p.dtype), edge_index, rest, inv_mass).double()

    x = torch.as_tensor(x0, dtype=torch.float64, device=p.device).clone()
    v = torch.as_tensor(v0, dtype=torch.float64, device=p.device).clone()
    xs, vs = [x.clone()], [v.clone()]
    a = acceleration(x)
    for _ in range(steps):
        x += dt * v + 0.5 * dt * dt * a
        a_new = acceleration(x)
        v += 0.5 * dt * (a + a_new)
        a = a_new
        xs.append(x.clone())
        vs.append(v.clone())
    return torch.stack(xs).cpu().numpy(), torch.stack(vs).cpu().numpy()


@dataclass
class RolloutErrors:
    """One rollout against the numba truth, every step ``0..steps``: ``time`` (steps+1,) (time);
    rms position error of the learned rollout and of the constant-velocity baseline (length);
    ``energy_drift`` (E_learned(t) - E(0)) / E(0) and ``truth_energy_drift`` (the same for the numba
    trajectory), the energies those of :mod:`solvers.springs`; and ``one_step`` = |a_pred - a| / |a|
    over the true trajectory's states."""

    time: np.ndarray
    position_error: np.ndarray
    baseline_error: np.ndarray
    energy_drift: np.ndarray
    truth_energy_drift: np.ndarray
    one_step: float


def _rms_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sqrt(mean_i |a_i - b_i|^2) per time, for (T, n, 2) arrays."""
    return np.sqrt(np.mean(np.sum((a - b) ** 2, axis=-1), axis=-1))


def evaluate(model: InteractionNetwork, system: SpringSystem, x0: np.ndarray, v0: np.ndarray, dt: float,
             steps: int) -> RolloutErrors:
    """Roll the model and the numba truth out from (x0, v0) (n, 2) for ``steps`` steps of ``dt``."""
    truth = springs.simulate(x0, v0, system.edges, system.rest, system.k, system.m, dt, steps)
    xs, vs = rollout(model, system, x0, v0, dt, steps)
    time = dt * np.arange(steps + 1)
    baseline = np.asarray(x0)[None] + time[:, None, None] * np.asarray(v0)[None]
    learned_energy = np.array([sum(springs.energies(x, v, system.edges, system.rest, system.k, system.m))
                               for x, v in zip(xs, vs)])
    e0 = truth.energy[0]
    p = next(model.parameters())
    true_acc = np.stack([springs.accelerations(x, system.edges, system.rest, system.k, system.m)
                         for x in truth.positions])
    with torch.no_grad():
        predicted = _batched_accelerations(model, system, torch.as_tensor(truth.positions, dtype=p.dtype,
                                                                          device=p.device))
    one_step = _relative_error(predicted.double().cpu(), torch.as_tensor(true_acc)).item()
    return RolloutErrors(time, _rms_distance(xs, truth.positions), _rms_distance(baseline, truth.positions),
                         (learned_energy - e0) / e0, (truth.energy - e0) / e0, one_step)
