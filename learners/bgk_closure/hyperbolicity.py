"""Characteristic speeds of the learned moment system (1D1V, nondimensional, units "1").

The reduced model is the balance law ``∂_t V + ∂_x F(V) = S(V)/Kn`` for ``V = (rho, m, E, W)``
``(3 + M,)`` with the flux

    F = (m, 2E, u (E + p) + rho qhat, G_M(U) + rho Ghat),   (qhat, Ghat) = mean over the ensemble,

the same flux the numba solver (:mod:`solvers.bgk_moments`) integrates. Its Jacobian ``dF/dV`` has
real eigenvalues (the characteristic speeds) where the system is hyperbolic; complex ones mark
states where it is not, and the largest ``|λ - u| / sqrt(T)`` is the speed bound the Rusanov flux
would need (``reduced.c_max``).
"""

import copy
import math

import torch

__all__ = ["moment_flux", "flux_eigenvalues"]


def moment_flux(V, weights, nets, v, dv):
    """``F(V)`` ``(3 + M,)`` of one state ``V`` ``(3 + M,)``; ``v`` the velocity nodes, ``dv`` their spacing
    (float64 networks, tensors and state)."""
    rho, m, E, W = V[0], V[1], V[2], V[3:]
    u = m / rho
    T = 2.0 * E / rho - u * u
    w = weights(v)
    mx = dv * torch.exp(-0.5 * (v - u) ** 2 / T) / torch.sqrt(2.0 * math.pi * T)
    z = (W - rho * (w @ mx)) / rho
    y = torch.stack([net(u[None], T[None], z[None])[0] for net in nets]).mean(0)
    energy_flux = u * (E + rho * T) + rho * y[0]
    return torch.cat([torch.stack([m, 2.0 * E, energy_flux]), rho * (w @ (v * mx)) + rho * y[1:]])


def flux_eigenvalues(V, weights, nets, v, dv):
    """Eigenvalues of ``dF/dV`` at states ``V`` ``(n, 3 + M)``: complex ``(n, 3 + M)``.

    ``weights`` (:class:`WeightFunctions`) and ``nets`` (the :class:`ClosureNet` ensemble), of any
    dtype and device, are evaluated as float64 copies on the CPU, as the solver evaluates them.
    """
    weights = copy.deepcopy(weights).cpu().double()
    nets = [copy.deepcopy(net).cpu().double() for net in nets]
    V = torch.as_tensor(V, dtype=torch.float64)
    v = torch.as_tensor(v, dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(lambda s: moment_flux(s, weights, nets, v, dv)))
    return torch.linalg.eigvals(jac(V).detach())
