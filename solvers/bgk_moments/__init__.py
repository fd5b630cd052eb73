"""Reduced (moment) solver of the 1D1V BGK equation with a learned closure, in numba.

    ∂_t (rho, m, E, W) + ∂_x (m, 2E, u(E + p) + q, G) = (0, 0, 0, W_M(U) - W) / Kn

(nondimensional, units "1"). The closure (heat flux q and generalized fluxes G) is a trained
network exported to plain arrays (:class:`Closure`); the kinetic velocity grid enters only
through the tabulated weight functions ``w_k(v_j)`` of the generalized moments.

Public API
----------
    Closure, make_closure(v, dv, wtab, params, sizes, activation, in_shift, in_scale, z_scale, out_scale)
    solve_moments(V0, closure, dx, kn, t_save, *, cfl=0.4, c_max=4.0, boundary="periodic", members=None)
        -> (V (n_batch, n_t, 3 + M, n_x), status, t_end, steps)
    primitive_state(V, closure) -> (rho, u, T, z);  STATUS (reasons by status code)
    mlp.forward_cells(params, sizes, act, x, buf);  closure.closure_cells (numba, a block of states);
    closure.equilibrium_moments (numba, per cell)
    warmup()
"""

from . import closure, mlp
from .closure import Closure, make_closure
from .solver import STATUS, primitive_state, solve_moments, warmup

__all__ = ["Closure", "make_closure", "solve_moments", "primitive_state", "STATUS", "warmup", "closure", "mlp"]
