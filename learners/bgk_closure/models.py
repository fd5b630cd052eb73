"""Torch modules of the learned BGK moment model (1D1V, nondimensional, units "1").

- :class:`WeightFunctions` ``w(v) = (w_1..w_M)(v)``, an MLP of the velocity: the encoder
  ``W_k = ∫ w_k(v) f dv`` is linear in f, so the reduced model is a moment system.
- :class:`Decoder` ``(u, T, z) -> f/rho`` on the velocity grid: the Maxwellian plus an MLP
  correction, with ``z = (W - W_M(U))/rho`` (used to train the weight functions).
- :class:`ClosureNet` ``(u, T, z) -> (q, G - G_M)/rho`` as ``A(u, T, z) z``: exactly zero at
  equilibrium (``z = 0``), so the moment system is exactly Euler there.

Shapes: distributions per unit density ``(n, n_v)``; ``u, T`` ``(n,)``; ``z`` ``(n, M)``.
"""

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "mlp", "WeightFunctions", "Decoder", "ClosureNet", "maxwellian", "moments"]

ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU}


def mlp(n_in, widths, n_out, activation):
    """``Linear`` layers ``n_in -> widths... -> n_out`` with ``activation`` between them (last layer linear)."""
    sizes = [n_in, *widths, n_out]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])


def maxwellian(u, T, v, dv):
    """Maxwellian of unit density times ``dv`` at the nodes ``v``: ``(n, n_v)``."""
    c = v[None, :] - u[:, None]
    return dv * torch.exp(-0.5 * c * c / T[:, None]) / torch.sqrt(2.0 * math.pi * T[:, None])


def moments(f, v, dv):
    """``rho, m, E`` of distributions ``f`` ``(n, n_v)`` (midpoint rule), each ``(n,)``."""
    return (f.sum(-1) * dv, (f * v).sum(-1) * dv, 0.5 * (f * v * v).sum(-1) * dv)


class WeightFunctions(nn.Module):
    """``w(v)``: an MLP ``1 -> widths -> M`` of ``v / v_scale``."""

    def __init__(self, n_extra, widths, activation, v_scale):
        super().__init__()
        self.net = mlp(1, widths, n_extra, activation)
        self.v_scale = float(v_scale)

    def forward(self, v):
        """``(M, n_v)`` table of ``w_k(v_j)``."""
        return self.net(v[:, None] / self.v_scale).T

    def encode(self, f, v, dv, u, T):
        """``W/rho`` and ``z = (W - W_M(U))/rho`` of unit-density distributions ``f`` ``(n, n_v)``, each ``(n, M)``."""
        w = self.forward(v)
        W = f @ w.T * dv
        WM = maxwellian(u, T, v, dv) @ w.T
        return W, W - WM


class Decoder(nn.Module):
    """``f/rho = M[1, u, T] + D(u, T, z)/dv`` on the velocity grid."""

    def __init__(self, n_extra, widths, activation, n_v):
        super().__init__()
        self.net = mlp(2 + n_extra, widths, n_v, activation)

    def forward(self, u, T, z, v, dv):
        x = torch.cat([u[:, None], T[:, None], z], dim=1)
        return maxwellian(u, T, v, dv) / dv + self.net(x)


class ClosureNet(nn.Module):
    """``(qhat, Ghat)_i = out_scale_i Σ_k A_ik(x) z_k / z_scale_k`` with ``x = ((u, T, z) - in_shift)/in_scale``.

    Standardization buffers ``in_shift, in_scale (2 + M,)``, ``z_scale (M,)``, ``out_scale (1 + M,)``.
    """

    def __init__(self, n_extra, widths, activation):
        super().__init__()
        m = n_extra
        self.n_extra = m
        self.net = mlp(2 + m, widths, (1 + m) * m, activation)
        self.register_buffer("in_shift", torch.zeros(2 + m, dtype=torch.float64))
        self.register_buffer("in_scale", torch.ones(2 + m, dtype=torch.float64))
        self.register_buffer("z_scale", torch.ones(m, dtype=torch.float64))
        self.register_buffer("out_scale", torch.ones(1 + m, dtype=torch.float64))

    def set_scales(self, inputs, z, targets):
        """Standardization from training arrays: inputs ``(n, 2 + M)``, z ``(n, M)``, targets ``(n, 1 + M)``."""
        tiny = 1e-12
        self.in_shift.copy_(inputs.mean(0))
        self.in_scale.copy_(inputs.std(0).clamp_min(tiny))
        self.z_scale.copy_(z.pow(2).mean(0).sqrt().clamp_min(tiny))
        self.out_scale.copy_(targets.pow(2).mean(0).sqrt().clamp_min(tiny))

    def scaled(self, u, T, z):
        """Outputs divided by ``out_scale``, ``(n, 1 + M)`` (the training target scale)."""
        dtype = self.net[0].weight.dtype
        x = (torch.cat([u[:, None], T[:, None], z], dim=1) - self.in_shift) / self.in_scale
        a = self.net(x.to(dtype)).view(-1, 1 + self.n_extra, self.n_extra)
        return torch.einsum("nik,nk->ni", a, (z / self.z_scale).to(dtype))

    def forward(self, u, T, z):
        """``(qhat, Ghat)`` per unit density, ``(n, 1 + M)``."""
        return self.scaled(u, T, z).to(self.out_scale.dtype) * self.out_scale
