"""Reduced (moment) solver of the 1D1V BGK equation (dim 1) or of the 1D3V Boltzmann equation in the
Chu-reduced pair (dim 3) with a learned closure, in numba.

    dim 1:  ∂_t (rho, m, E, W) + ∂_x (m, 2E, u(E + p) + q, G) = (0, 0, 0, W_M(U) - W) / Kn
    dim 3:  ∂_t (rho, m, E, W) + ∂_x (m, rho u² + p + rho sighat, u(E + p + rho sighat) + q, G)
                = (0, 0, 0, -rho z_scale ⊙ (rho/Kn) R zeta),   zeta = (W - W_M(U)) / (rho z_scale)

(nondimensional, units "1"; ``E = ½ rho u² + (dim/2) rho T``). The closure (stress sighat in dim 3, heat
flux q, generalized fluxes G and, in dim 3, the collision matrix ``R = L Lᵀ + source_floor I``) is a
trained network exported to plain arrays (:class:`Closure`); the kinetic velocity grid enters only
through the tabulated weight functions ``wg_k(v_j)`` (and ``wb_k(v_j)`` of the b half in dim 3).

Public API
----------
    Closure, make_closure(v, dv, wtab, params, sizes, activation, in_shift, in_scale, z_scale, out_scale,
                          *, dim=1, wbtab=None, source_floor=1e-3)
    solve_moments(V0, closure, dx, kn, t_save, *, cfl=0.4, c_max=4.0, boundary="periodic", members=None)
        -> (V (n_batch, n_t, 3 + M, n_x), status, t_end, steps)
    primitive_state(V, closure) -> (rho, u, T, z);  STATUS (reasons by status code)
    mlp.forward_cells(params, sizes, act, x, buf);  closure.closure_cells, closure.source_cells (numba, a block
    of states); closure.equilibrium_moments (numba, per cell); closure.n_closure_outputs(M, dim)
    warmup()
"""

from . import closure, mlp
from .closure import Closure, make_closure
from .solver import STATUS, primitive_state, solve_moments, warmup

__all__ = ["Closure", "make_closure", "solve_moments", "primitive_state", "STATUS", "warmup", "closure", "mlp"]
