"""The reduced moment scheme in torch, differentiable in the closure networks (1D1V, units "1").

The same scheme as the numba solver :mod:`solvers.bgk_moments` (checked against it in the
tests): MUSCL-minmod reconstruction of ``(rho, u, T, z)``, the closure at both states of every
face, Rusanov fluxes with ``a = |u| + c_max sqrt(T)``, SSP-RK2 and the exact relaxation of W
in Strang splitting, ``dt = cfl dx / max a`` shortened to hit every save time. Its flux
(:func:`state_flux`) is the one the eigenvalue analysis differentiates (:mod:`.hyperbolicity`).
:func:`rollout` gives gradients of a trajectory with respect to the closure networks; it is the
torch alternative to the numba solver that the issue asked to measure
(``benchmarks/bench_bgk_closure.py``). Arrays are batched over runs: states ``V``
``(B, 3 + M, n_x)`` = ``(rho, m, E, W_1..W_M)``, float64.
"""

from typing import NamedTuple

import torch

from .models import maxwellian

__all__ = ["MomentModel", "Grid", "equilibrium", "state_flux", "rollout"]


class MomentModel:
    """The learned moment system: v ``(n_v,)``, dv the velocity grid; wtab ``(M, n_v)`` the weight functions
    ``w_k(v_j)`` (fixed); nets the :class:`~.models.ClosureNet` ensemble (its mean is the closure)."""

    def __init__(self, v, dv, wtab, nets):
        device = next(nets[0].parameters()).device
        self.v = torch.as_tensor(v, dtype=torch.float64, device=device)
        self.dv = float(dv)
        self.wtab = torch.as_tensor(wtab, dtype=torch.float64, device=device)
        self.vwtab = self.wtab * self.v
        self.nets = list(nets)

    @classmethod
    def from_networks(cls, weights, nets, v, dv):
        """The model with ``wtab`` tabulated by the weight-function network ``weights`` at ``v`` (no gradient)."""
        p = next(weights.parameters())
        with torch.no_grad():
            wtab = weights(torch.as_tensor(v, dtype=p.dtype, device=p.device)).double()
        return cls(v, dv, wtab, nets)

    def closure(self, u, T, z):
        """``(qhat, Ghat)`` per unit density ``(n, 1 + M)``: the ensemble mean at states ``(n,)``, ``z (n, M)``."""
        return torch.stack([net(u, T, z) for net in self.nets]).mean(0)


class Grid(NamedTuple):
    """Cell width, boundary (``"periodic"`` or ``"outflow"``), CFL number and speed bound as in the numba solver."""

    dx: float
    boundary: str = "periodic"
    cfl: float = 0.4
    c_max: float = 3.0


def equilibrium(model: MomentModel, rho, u, T):
    """``W_M`` and ``G_M`` ``(n, M)`` of the Maxwellians of ``rho, u, T`` ``(n,)`` (midpoint rule)."""
    mx = maxwellian(u, T, model.v, model.dv) * rho[:, None]
    return mx @ model.wtab.T, mx @ model.vwtab.T


def state_flux(model: MomentModel, rho, u, T, z, WM, GM):
    """Conserved state and flux ``(n, 3 + M)`` each of primitive states ``rho, u, T`` ``(n,)``, ``z (n, M)``
    with their equilibrium moments ``WM, GM`` ``(n, M)`` (:func:`equilibrium`):

    ``V = (rho, rho u, E, W_M + rho z)``, ``F = (rho u, 2E, u (E + rho T) + rho qhat, G_M + rho Ghat)``.
    """
    y = model.closure(u, T, z)
    mom = rho * u
    E = 0.5 * mom * u + 0.5 * rho * T
    V = torch.cat([torch.stack([rho, mom, E], 1), WM + rho[:, None] * z], 1)
    F = torch.cat([torch.stack([mom, 2.0 * E, u * (E + rho * T) + rho * y[:, 0]], 1), GM + rho[:, None] * y[:, 1:]], 1)
    return V, F


def _primitives(V):
    rho = V[:, 0]
    u = V[:, 1] / rho
    return rho, u, (2.0 * V[:, 2] - V[:, 1] * u) / rho


def _minmod(a, b):
    return torch.where(a * b <= 0.0, torch.zeros_like(a), torch.where(a.abs() < b.abs(), a, b))


def _neighbours(P, boundary):
    """``P`` of the left and right neighbour of each cell (x last)."""
    if boundary == "periodic":
        return torch.roll(P, 1, -1), torch.roll(P, -1, -1)
    return torch.cat([P[..., :1], P[..., :-1]], -1), torch.cat([P[..., 1:], P[..., -1:]], -1)


def _rhs(model: MomentModel, grid: Grid, V, WM):
    """``-(F_{i+1/2} - F_{i-1/2})/dx`` ``(B, 3 + M, n_x)`` of states ``V`` with the cells' ``W_M`` ``(B, M, n_x)``."""
    rho, u, T = _primitives(V)
    P = torch.cat([torch.stack([rho, u, T], 1), (V[:, 3:] - WM) / rho[:, None]], 1)
    left, right = _neighbours(P, grid.boundary)
    S = _minmod(P - left, right - P)
    # faces 0..n_x: face f has cell f - 1 on its left and cell f on its right (clamped on outflow grids)
    west, east = P + 0.5 * S, P - 0.5 * S
    if grid.boundary == "periodic":
        QL = torch.cat([west[..., -1:], west], -1)
        QR = torch.cat([east, east[..., :1]], -1)
    else:
        QL = torch.cat([west[..., :1], west], -1)
        QR = torch.cat([east, east[..., -1:]], -1)
    B, nq, nf = QL.shape
    Q = torch.cat([QL, QR], 0).permute(0, 2, 1).reshape(-1, nq)  # (2 B n_f, nq)
    Vf, Ff = state_flux(model, Q[:, 0], Q[:, 1], Q[:, 2], Q[:, 3:], *equilibrium(model, Q[:, 0], Q[:, 1], Q[:, 2]))
    a = (Q[:, 1].abs() + grid.c_max * Q[:, 2].sqrt()).view(2, B, nf)
    Vf, Ff = Vf.view(2, B, nf, nq), Ff.view(2, B, nf, nq)
    a = torch.maximum(a[0], a[1])[..., None]
    fn = ((0.5 * (Ff[0] + Ff[1]) - 0.5 * a * (Vf[1] - Vf[0])) / grid.dx).permute(0, 2, 1)
    return fn[..., :-1] - fn[..., 1:]


def _cell_equilibrium(model: MomentModel, V):
    """``W_M`` ``(B, M, n_x)`` of the cells of ``V``."""
    B, nq, nx = V.shape
    WM, _ = equilibrium(model, *(p.reshape(-1) for p in _primitives(V)))
    return WM.view(B, nx, nq - 3).permute(0, 2, 1)


def _relax(V, WM, h, kn):
    e = torch.exp(-h / kn)[:, None, None]
    return torch.cat([V[:, :3], WM + (V[:, 3:] - WM) * e], 1)


def rollout(model: MomentModel, grid: Grid, V0, kn, t_save):
    """States at the times ``t_save`` ``(n_t,)`` (increasing, > 0) of runs starting from ``V0`` ``(B, 3 + M, n_x)``
    at t = 0 with Knudsen numbers ``kn`` ``(B,)``: ``(B, n_t, 3 + M, n_x)``. Each run takes its own time steps
    (not differentiated); runs that reach a save time wait (dt = 0) for the others."""
    V = V0
    kn = torch.as_tensor(kn, dtype=V.dtype, device=V.device)
    t = torch.zeros(V.shape[0], dtype=V.dtype, device=V.device)
    pending = torch.zeros_like(t)
    WM = _cell_equilibrium(model, V)
    out = []
    for ts in torch.as_tensor(t_save, dtype=V.dtype, device=V.device):
        while bool((t < ts).any()):
            with torch.no_grad():
                _, u, T = _primitives(V)
                active = t < ts
                dt = grid.cfl * grid.dx / (u.abs() + grid.c_max * T.sqrt()).amax(-1)
                dt = torch.where(active, torch.where(t + dt >= ts * (1.0 - 1e-14), ts - t, dt), 0.0)
            V = _relax(V, WM, torch.where(active, pending + 0.5 * dt, 0.0), kn)
            V1 = V + dt[:, None, None] * _rhs(model, grid, V, WM)
            V = 0.5 * V + 0.5 * (V1 + dt[:, None, None] * _rhs(model, grid, V1, _cell_equilibrium(model, V1)))
            t = torch.where(t + dt < ts, t + dt, torch.maximum(t, ts))
            WM = _cell_equilibrium(model, V)
            pending = torch.where(active, 0.5 * dt, pending)
        V = _relax(V, WM, pending, kn)
        pending = torch.zeros_like(pending)
        out.append(V)
    return torch.stack(out, 1)
