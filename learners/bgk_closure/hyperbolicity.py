"""Characteristic speeds of the learned moment system (1D1V, nondimensional, units "1").

The reduced model is the balance law ``∂_t V + ∂_x F(V) = S(V)/Kn`` for ``V = (rho, m, E, W)``
``(3 + M,)`` with the flux

    F = (m, 2E, u (E + p) + rho qhat, G_M(U) + rho Ghat),   (qhat, Ghat) = mean over the ensemble,

the same flux the numba solver (:mod:`solvers.bgk_moments`) integrates
(:func:`.scheme.state_flux`). Its Jacobian ``dF/dV`` has real eigenvalues (the characteristic
speeds) where the system is hyperbolic; complex ones mark states where it is not, and the
largest ``|λ - u| / sqrt(T)`` is the speed bound the Rusanov flux would need (``reduced.c_max``).
"""

import copy

import torch

from .scheme import MomentModel, equilibrium, state_flux

__all__ = ["moment_flux", "flux_eigenvalues"]


def moment_flux(V, model: MomentModel):
    """``F(V)`` ``(3 + M,)`` of one state ``V`` ``(3 + M,)`` (float64 networks and state)."""
    rho = V[:1]
    u = V[1:2] / rho
    T = 2.0 * V[2:3] / rho - u * u
    WM, GM = equilibrium(model, rho, u, T)
    _, F = state_flux(model, rho, u, T, (V[None, 3:] - WM) / rho[:, None], WM, GM)
    return F[0]


def flux_eigenvalues(V, weights, nets, v, dv):
    """Eigenvalues of ``dF/dV`` at states ``V`` ``(n, 3 + M)``: complex ``(n, 3 + M)``.

    ``weights`` (:class:`WeightFunctions`) and ``nets`` (the :class:`ClosureNet` ensemble), of any
    dtype and device, are evaluated as float64 copies on the CPU, as the solver evaluates them;
    ``v`` the velocity nodes, ``dv`` their spacing.
    """
    model = MomentModel.from_networks(copy.deepcopy(weights).cpu().double(),
                                      [copy.deepcopy(net).cpu().double() for net in nets], v, dv)
    V = torch.as_tensor(V, dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(lambda s: moment_flux(s, model)))
    return torch.linalg.eigvals(jac(V).detach())
