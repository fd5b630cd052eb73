"""A learned closure of the BGK moment system as plain arrays, and its evaluation in numba.

State of a cell (1D1V, nondimensional, units "1"): ``V = (rho, m, E, W_1..W_M)`` with the
conserved moments ``(rho, m, E) = ∫ (1, v, v²/2) f dv`` and the generalized moments
``W_k = ∫ w_k(v) f dv``, the weight functions tabulated on the kinetic velocity grid
(``wtab[k, j] = w_k(v_j)``). Fluxes::

    F = (m, 2E, u (E + p) + q, G),    p = rho T,   E = ½ rho u² + ½ rho T,
    q = rho qhat(u, T, z),   G = G_M(U) + rho Ghat(u, T, z),   z = (W - W_M(U)) / rho,

with the equilibrium moments ``W_M(U) = ∫ w M_U dv`` and ``G_M(U) = ∫ v w M_U dv``
(discrete Maxwellian, midpoint rule). The network gives a matrix ``A(u, T, z)`` of shape
``(1 + M, M)`` and ``(qhat, Ghat)_i = out_scale_i Σ_k A_ik z_k / z_scale_k``: at ``W = W_M(U)``
(``z = 0``) the fluxes are exactly the Euler ones (``q = 0``, ``G = G_M``) whatever the weights.
An ensemble of ``K`` networks with one architecture is stored as ``params (K, P)``; the
closure is the mean of the members.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .mlp import activation_code, forward_cells, n_params

__all__ = ["Closure", "make_closure", "equilibrium_moments", "closure_cells"]


class Closure(NamedTuple):
    """Exported closure (float64 arrays, C-contiguous).

    v ``(n_v,)``, dv: velocity grid; wtab, vwtab ``(M, n_v)``: ``w_k(v_j)`` and ``v_j w_k(v_j)``;
    params ``(K, P)``, sizes ``(L + 1,)`` int64, act (code): the networks, inputs ``(u, T, z_1..z_M)``
    standardized by ``in_shift, in_scale`` ``(2 + M,)``, outputs ``(1 + M) * M``; z_scale ``(M,)``,
    out_scale ``(1 + M,)``.
    """

    v: np.ndarray
    dv: float
    wtab: np.ndarray
    vwtab: np.ndarray
    params: np.ndarray
    sizes: np.ndarray
    act: int
    in_shift: np.ndarray
    in_scale: np.ndarray
    z_scale: np.ndarray
    out_scale: np.ndarray


def make_closure(v, dv, wtab, params, sizes, activation, in_shift, in_scale, z_scale, out_scale):
    """Check shapes and build a :class:`Closure` (copies as contiguous float64)."""
    f64 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float64))  # noqa: E731
    v, wtab, params = f64(v), f64(wtab), f64(params)
    if params.ndim == 1:
        params = params[None]
    sizes = np.ascontiguousarray(np.asarray(sizes, dtype=np.int64))
    m = wtab.shape[0]
    if wtab.ndim != 2 or wtab.shape[1] != v.size or m < 1:
        raise ValueError(f"wtab must have shape (M >= 1, n_v = {v.size}), got {wtab.shape}")
    if sizes[0] != 2 + m or sizes[-1] != (1 + m) * m:
        raise ValueError(f"network sizes {tuple(sizes)} must start with 2 + M = {2 + m} and end with "
                         f"(1 + M) M = {(1 + m) * m}")
    if params.shape[1] != n_params(tuple(sizes)):
        raise ValueError(f"params have {params.shape[1]} entries per member, sizes {tuple(sizes)} need "
                         f"{n_params(tuple(sizes))}")
    vecs = [f64(a) for a in (in_shift, in_scale, z_scale, out_scale)]
    for name, a, n in zip(("in_shift", "in_scale", "z_scale", "out_scale"), vecs, (2 + m, 2 + m, m, 1 + m)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    return Closure(v, float(dv), wtab, f64(v[None, :] * wtab), params, sizes, activation_code(activation), *vecs)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def equilibrium_moments(rho, u, T, cl, g, WM, GM):
    """``W_M(U)`` and ``G_M(U)`` into ``WM, GM`` ``(M,)`` for the Maxwellian of ``(rho, u, T)``.

    ``g`` is scratch of shape ``(n_v,)``.

    ``M_j = rho (2 pi T)^(-1/2) exp(-(v_j - u)²/(2T))`` by a product recurrence from the node
    nearest to ``u`` outwards (three exponentials per cell instead of ``n_v``).
    """
    v = cl.v
    nv = v.shape[0]
    d = v[1] - v[0]
    j0 = int(math.floor((u - v[0]) / d + 0.5))
    j0 = min(max(j0, 0), nv - 1)
    a = -0.5 / T
    c0 = v[j0] - u
    g0 = rho * cl.dv / math.sqrt(2.0 * math.pi * T) * math.exp(a * c0 * c0)
    g[j0] = g0
    q = math.exp(2.0 * a * d * d)
    ru = math.exp(a * (2.0 * c0 * d + d * d))  # g[j + 1] / g[j] at j = j0, upwards
    rd = math.exp(a * (-2.0 * c0 * d + d * d))  # g[j - 1] / g[j] at j = j0, downwards
    gu = g0
    gd = g0
    both = min(nv - 1 - j0, j0)
    # the two chains in one loop, carried in registers, so that their latencies overlap
    for k in range(1, both + 1):
        gu *= ru
        ru *= q
        g[j0 + k] = gu
        gd *= rd
        rd *= q
        g[j0 - k] = gd
    for j in range(j0 + both + 1, nv):
        gu *= ru
        ru *= q
        g[j] = gu
    for j in range(j0 - both - 1, -1, -1):
        gd *= rd
        rd *= q
        g[j] = gd
    for k in range(cl.wtab.shape[0]):
        sw = 0.0
        sg = 0.0
        for j in range(nv):
            sw += cl.wtab[k, j] * g[j]
            sg += cl.vwtab[k, j] * g[j]
        WM[k] = sw
        GM[k] = sg


@njit(cache=True, nogil=True, error_model="numpy")
def closure_cells(u, T, z, cl, members, xin, zs, buf, y):
    """Closure of ``n`` states: ``y (n, 1 + M)`` = ``(qhat, Ghat)`` per unit density, the mean over
    the ensemble members ``members[0] <= k < members[1]``.

    u, T ``(n,)`` and z ``(M, n)``: the states; scratch xin ``(n, 2 + M)``, zs ``(n, M)``,
    buf ``(2, n * max(sizes))``. The networks run on all states at once (:func:`.mlp.forward_cells`).
    """
    n = u.shape[0]
    m = z.shape[0]
    for c in range(n):
        xin[c, 0] = (u[c] - cl.in_shift[0]) / cl.in_scale[0]
        xin[c, 1] = (T[c] - cl.in_shift[1]) / cl.in_scale[1]
        for k in range(m):
            xin[c, 2 + k] = (z[k, c] - cl.in_shift[2 + k]) / cl.in_scale[2 + k]
            zs[c, k] = z[k, c] / cl.z_scale[k]
    y[:] = 0.0
    for member in range(members[0], members[1]):
        a = forward_cells(cl.params[member], cl.sizes, cl.act, xin, buf)
        for c in range(n):
            for i in range(1 + m):
                s = 0.0
                for k in range(m):
                    s += a[c, i * m + k] * zs[c, k]
                y[c, i] += s
    inv = 1.0 / (members[1] - members[0])
    for c in range(n):
        for i in range(1 + m):
            y[c, i] *= cl.out_scale[i] * inv
