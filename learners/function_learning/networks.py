"""Torch models in mean-field scaling and their norms (nondimensional).

- :class:`TwoLayer`: f(x) = (1/m) sum_j a_j sigma(w_j.x); with ``train_inner=False`` the
  random-feature model (w_j ~ pi_0 frozen). ``smoothing`` h > 0 replaces each particle by a
  Gaussian blob N(w_j, h^2 I) (ReLU in closed form, :func:`.features.smoothed_relu`).
- :class:`ResNet`: z_0 = (x, 1, 0, ..., 0) in R^D, z_{l+1} = z_l + (1/(L M)) U_l sigma(W_l z_l),
  f = alpha.z_L, with U_l (D, M), W_l (M, D); with ``train_inner=False`` the flow-based random
  feature model (W frozen random, fresh per layer or one W shared by all layers).

``param_groups()`` gives (parameters, step multiplier) for gradient descent in mean-field scaling:
particles move with step lr * m (two-layer) or lr * L * M (ResNet blocks), the ResNet output
alpha with lr.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from learners.function_learning.features import activate, sample_features


def _param(array: np.ndarray, trainable: bool, dtype, device) -> nn.Parameter:
    return nn.Parameter(torch.tensor(array, dtype=dtype, device=device), requires_grad=trainable)


class TwoLayer(nn.Module):
    """Two-layer network / random-feature model, mean-field scaling.

    w0 (m, d) inner weights, a0 (m,) outer coefficients (numpy, copied).
    """

    def __init__(self, w0: np.ndarray, a0: np.ndarray, activation: str = "relu", train_inner: bool = True,
                 smoothing: float = 0.0, dtype=torch.float64, device="cpu"):
        super().__init__()
        self.w = _param(w0, train_inner, dtype, device)
        self.a = _param(a0, True, dtype, device)
        self.activation, self.smoothing = activation, float(smoothing)

    @property
    def width(self) -> int:
        return self.a.shape[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """sigma(w_j.x_i) (smoothed if h > 0), shape (n, m)."""
        x_norm = x.norm(dim=1) if self.smoothing > 0 else None
        return activate(x @ self.w.T, self.activation, x_norm, self.smoothing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.a / self.width

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        return [([p for p in (self.a, self.w) if p.requires_grad], float(self.width))]

    def path_norm(self, inner: int = 1) -> torch.Tensor:
        """(1/m) sum_j |a_j| ||w_j||_inner (inner = 1: E-Ma-Wu path norm; 2: Barron norm on the sphere)."""
        return (self.a.abs() * self.w.norm(p=inner, dim=1)).sum() / self.width

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


class ResNet(nn.Module):
    """Scaled residual network / flow-based random-feature model.

    w0 (L, M, D) or (1, M, D) (shared by all layers), u0 (L, D, M), alpha0 (D,); inputs of
    dimension d <= D - 1.
    """

    def __init__(self, w0: np.ndarray, u0: np.ndarray, alpha0: np.ndarray, activation: str = "relu",
                 train_inner: bool = True, dtype=torch.float64, device="cpu"):
        super().__init__()
        self.w = _param(w0, train_inner, dtype, device)
        self.u = _param(u0, True, dtype, device)
        self.alpha = _param(alpha0, True, dtype, device)
        self.activation = activation

    @property
    def depth(self) -> int:
        return self.u.shape[0]

    @property
    def width(self) -> int:
        return self.u.shape[2]

    def _w(self, layer: int) -> torch.Tensor:
        return self.w[layer if self.w.shape[0] > 1 else 0]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """z_0 = V x~ = (x, 1, 0, ..., 0), shape (n, D)."""
        n, d = x.shape
        pad = x.new_zeros((n, self.alpha.shape[0] - d))
        pad[:, 0] = 1.0
        return torch.cat([x, pad], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x)
        scale = 1.0 / (self.depth * self.width)
        for layer in range(self.depth):
            z = z + scale * activate(z @ self._w(layer).T, self.activation) @ self.u[layer].T
        return z @ self.alpha

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        blocks = [p for p in (self.u, self.w) if p.requires_grad]
        return [(blocks, float(self.depth * self.width)), ([self.alpha], 1.0)]

    def weighted_path_norm(self, d: int) -> torch.Tensor:
        """|| |alpha|^T (I + 3/(LM) |U_L||W_L|) ... (I + 3/(LM) |U_1||W_1|) |V| ||_1 (E, Ma, Wang 2019),
        V embedding x~ = (x, 1) (d + 1 columns)."""
        r = self.alpha.abs()
        scale = 3.0 / (self.depth * self.width)
        for layer in reversed(range(self.depth)):
            r = r + scale * (r @ self.u[layer].abs()) @ self._w(layer).abs()
        return r[: d + 1].sum()

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def resnet_weights(d: int, hidden: int, depth: int, width: int, features: str, shared: bool, u_scale: float,
                   alpha_scale: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(w0 (L or 1, M, D), u0 (L, D, M), alpha0 (D,)): W ~ pi_0 on R^D, U and alpha Gaussian with the
    given standard deviations."""
    layers = 1 if shared else depth
    w0 = sample_features(features, layers * width, hidden, rng).reshape(layers, width, hidden)
    u0 = u_scale * rng.standard_normal((depth, hidden, width))
    alpha0 = alpha_scale * rng.standard_normal(hidden)
    return w0, u0, alpha0


def teacher_resnet(d: int, depth: int, width: int, rng: np.random.Generator):
    """A random ResNet target, D = d + 1: W uniform on S^D, U ~ N(0, 4M) entrywise (so each block
    moves z by O(1/L)), alpha ~ N(0, 1/D); returns f: numpy (n, d) -> (n,)."""
    hidden = d + 1
    w0, u0, alpha0 = resnet_weights(d, hidden, depth, width, "sphere", False, 2.0 * math.sqrt(width),
                                    1.0 / math.sqrt(hidden), rng)
    net = ResNet(w0, u0, alpha0, train_inner=False)

    def f(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(x, np.float64))).numpy()

    return f
