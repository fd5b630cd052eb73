"""Torch modules of the learned moment model (nondimensional, units "1").

Two velocity models (``dim``): 1D1V, one distribution f(v) (γ = 3); and 1D3V reduced to the v_x grid by Chu's
pair ``g = ∫ f dv_y dv_z``, ``b = ∫ ½(v_y² + v_z²) f dv_y dv_z`` (γ = 5/3; kinds ``bgk`` dim 3 and
``boltzmann``). A state is stored *stacked*: ``(n, n_dist n_v)`` with ``n_dist`` = :data:`N_DIST` ``[dim]``
(f; or g then b), so that every moment is one product with a stacked weight table.

- :class:`WeightFunctions` ``w(v) = (w_1..w_M)(v)``, an MLP of the velocity (for dim 3 one weight of g and one
  of b per moment): the encoder ``W_k = ∫ w_k · f dv`` is linear in the distributions, so the reduced model is a
  moment system.
- :class:`Decoder` ``(u, T, z) -> f/rho`` on the velocity grid: the equilibrium plus an MLP
  correction, with ``z = (W - W_M(U))/rho`` (used to train the weight functions).
- :class:`ClosureNet` ``(u, T, z) ->`` the unclosed fluxes per unit density, ``(q, G - G_M)/rho`` (dim 1) or
  ``(sigma, q, G - G_M)/rho`` (dim 3, sigma = P_xx/rho - T the normal stress), as ``A(u, T, z) z``: exactly zero
  at equilibrium (``z = 0``), so the moment system is exactly Euler there; for dim 3 also the collision source
  of z (the Boltzmann operator has no closed form in W), ``-P(u, T, z) z`` with P symmetric positive definite.

Shapes: distributions per unit density ``(n, n_dist n_v)``; ``u, T`` ``(n,)``; ``z`` ``(n, M)``.
"""

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "N_DIST", "SOURCE_FLOOR", "mlp", "WeightFunctions", "Decoder", "ClosureNet", "maxwellian",
           "moments", "temperature"]

ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU}

#: Distributions per velocity node: f (dim 1); Chu's pair g, b (dim 3).
N_DIST = {1: 1, 3: 2}

#: The smallest eigenvalue of the learned collision matrix P (dim 3), in units of rho/Kn: every moment
#: relaxes at least this fast (the Maxwell-molecule rates of the stress and heat flux are 1/2 and 1/3).
SOURCE_FLOOR = 1e-2


def _check_dim(dim):
    if dim not in N_DIST:
        raise ValueError(f"dim must be one of {tuple(N_DIST)} (1D1V, or 1D3V by the Chu pair), got {dim!r}")
    return dim


def mlp(n_in, widths, n_out, activation):
    """``Linear`` layers ``n_in -> widths... -> n_out`` with ``activation`` between them (last layer linear)."""
    sizes = [n_in, *widths, n_out]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])


def maxwellian(u, T, v, dv, dim=1):
    """The equilibrium of unit density times ``dv`` at the nodes ``v``, stacked ``(n, n_dist n_v)``: the
    Maxwellian M (dim 1), or the pair ``(M, T M)`` (dim 3)."""
    c = v[None, :] - u[:, None]
    m = dv * torch.exp(-0.5 * c * c / T[:, None]) / torch.sqrt(2.0 * math.pi * T[:, None])
    return m if _check_dim(dim) == 1 else torch.cat([m, T[:, None] * m], dim=1)


def moments(f, v, dv, dim=1):
    """``rho, m, E`` of stacked distributions ``f`` ``(n, n_dist n_v)`` (midpoint rule), each ``(n,)``:
    ``E = ∫ v²/2 f`` (dim 1) or ``∫ (v²/2 g + b)`` (dim 3)."""
    n_v = v.shape[0]
    g = f[:, :n_v]
    E = 0.5 * (g * v * v).sum(-1) * dv
    if _check_dim(dim) == 3:
        E = E + f[:, n_v:].sum(-1) * dv
    return g.sum(-1) * dv, (g * v).sum(-1) * dv, E


def temperature(rho, m, E, dim=1):
    """``T`` of the conserved moments: ``E = ½ rho u² + (dim/2) rho T``."""
    return (2.0 * E / rho - (m / rho) ** 2) / _check_dim(dim)


class WeightFunctions(nn.Module):
    """``w(v)``: an MLP ``1 -> widths -> n_dist M`` of ``v / v_scale`` (for dim 3: the weights of g, then of b)."""

    def __init__(self, n_extra, widths, activation, v_scale, dim=1):
        super().__init__()
        self.dim = _check_dim(dim)
        self.n_extra = n_extra
        self.net = mlp(1, widths, N_DIST[dim] * n_extra, activation)
        self.v_scale = float(v_scale)

    def forward(self, v):
        """``(M, n_dist n_v)`` stacked table of ``w_k(v_j)`` (``[w_k(v_j) of g, w_k(v_j) of b]`` for dim 3)."""
        n_dist = N_DIST[self.dim]
        out = self.net(v[:, None] / self.v_scale).view(v.shape[0], n_dist, self.n_extra)
        return out.permute(2, 1, 0).reshape(self.n_extra, n_dist * v.shape[0])

    def encode(self, f, v, dv, u, T):
        """``W/rho`` and ``z = (W - W_M(U))/rho`` of unit-density stacked distributions ``f``
        ``(n, n_dist n_v)``, each ``(n, M)``."""
        w = self.forward(v)
        W = f @ w.T * dv
        WM = maxwellian(u, T, v, dv, self.dim) @ w.T
        return W, W - WM


class Decoder(nn.Module):
    """``f/rho = M[1, u, T] + D(u, T, z)/dv`` on the velocity grid, stacked ``(n, n_dist n_v)``."""

    def __init__(self, n_extra, widths, activation, n_v, dim=1):
        super().__init__()
        self.dim = _check_dim(dim)
        self.net = mlp(2 + n_extra, widths, N_DIST[dim] * n_v, activation)

    def forward(self, u, T, z, v, dv):
        x = torch.cat([u[:, None], T[:, None], z], dim=1)
        return maxwellian(u, T, v, dv, self.dim) / dv + self.net(x)


class ClosureNet(nn.Module):
    """The unclosed fluxes per unit density, ``y_i = out_scale_i Σ_k A_ik(x) ζ_k`` with ``ζ = z / z_scale`` and
    ``x = ((u, T, z) - in_shift)/in_scale``: ``y = (qhat, Ghat)`` (dim 1, ``1 + M`` outputs) or
    ``(sigmahat, qhat, Ghat)`` (dim 3, ``2 + M``).

    Dim 3 also gives the collision source of the generalized moments: ``dζ/dt = -(rho/Kn) P ζ`` with
    ``P = L Lᵀ +`` :data:`SOURCE_FLOOR` ``I``, L lower triangular from the last ``M(M + 1)/2`` outputs (row-major
    over the lower triangle): symmetric positive definite, so the source only damps ζ and a linearly implicit
    step is stable at any ``rho h / Kn``.

    Standardization buffers ``in_shift, in_scale (2 + M,)``, ``z_scale (M,)``, ``out_scale (n_flux,)``.
    """

    def __init__(self, n_extra, widths, activation, dim=1):
        super().__init__()
        m = n_extra
        self.dim = _check_dim(dim)
        self.n_extra = m
        self.n_flux = (1 if dim == 1 else 2) + m
        self.n_source = 0 if dim == 1 else m * (m + 1) // 2
        self.net = mlp(2 + m, widths, self.n_flux * m + self.n_source, activation)
        self.register_buffer("in_shift", torch.zeros(2 + m, dtype=torch.float64))
        self.register_buffer("in_scale", torch.ones(2 + m, dtype=torch.float64))
        self.register_buffer("z_scale", torch.ones(m, dtype=torch.float64))
        self.register_buffer("out_scale", torch.ones(self.n_flux, dtype=torch.float64))

    def set_scales(self, inputs, z, targets):
        """Standardization from training arrays: inputs ``(n, 2 + M)``, z ``(n, M)``, targets ``(n, n_flux)``."""
        tiny = 1e-12
        self.in_shift.copy_(inputs.mean(0))
        self.in_scale.copy_(inputs.std(0).clamp_min(tiny))
        self.z_scale.copy_(z.pow(2).mean(0).sqrt().clamp_min(tiny))
        self.out_scale.copy_(targets.pow(2).mean(0).sqrt().clamp_min(tiny))

    def _raw(self, u, T, z):
        """Network outputs ``(n, n_flux M + n_source)`` and ``ζ`` ``(n, M)``, in the networks' dtype."""
        dtype = self.net[0].weight.dtype
        x = (torch.cat([u[:, None], T[:, None], z], dim=1) - self.in_shift) / self.in_scale
        return self.net(x.to(dtype)), (z / self.z_scale).to(dtype)

    def _fluxes(self, raw, zeta):
        a = raw[:, :self.n_flux * self.n_extra].view(-1, self.n_flux, self.n_extra)
        return torch.einsum("nik,nk->ni", a, zeta)

    def _source(self, raw, zeta):
        m = self.n_extra
        rows, cols = torch.tril_indices(m, m, device=raw.device)
        lower = raw.new_zeros(raw.shape[0], m, m)
        lower[:, rows, cols] = raw[:, self.n_flux * m:]
        p = lower @ lower.transpose(1, 2) + SOURCE_FLOOR * torch.eye(m, dtype=raw.dtype, device=raw.device)
        return -torch.einsum("nik,nk->ni", p, zeta)

    def scaled(self, u, T, z):
        """Fluxes divided by ``out_scale``, ``(n, n_flux)`` (the training target scale)."""
        raw, zeta = self._raw(u, T, z)
        return self._fluxes(raw, zeta)

    def scaled_with_source(self, u, T, z):
        """``(fluxes / out_scale (n, n_flux), -P ζ (n, M))``: dim 3 only; the source of ζ in units of rho/Kn."""
        if self.dim != 3:
            raise ValueError("only the dim-3 closure learns a collision source (dim 1 relaxes exactly, BGK)")
        raw, zeta = self._raw(u, T, z)
        return self._fluxes(raw, zeta), self._source(raw, zeta)

    def forward(self, u, T, z):
        """The fluxes per unit density, ``(n, n_flux)``."""
        return self.scaled(u, T, z).to(self.out_scale.dtype) * self.out_scale
