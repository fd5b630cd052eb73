"""A learned closure of the BGK/Boltzmann moment system as plain arrays, and its evaluation in numba.

State of a cell (nondimensional, units "1"): ``V = (rho, m, E, W_1..W_M)``. Two kinetic models
share the code, selected by ``dim``:

dim 1 (1D1V BGK): ``f(x, v)``; ``(rho, m, E) = ∫ (1, v, v²/2) f dv``, ``W_k = ∫ w_k(v) f dv``
(``wtab[k, j] = w_k(v_j)``), ``E = ½ rho u² + ½ rho T``. Fluxes::

    F = (m, 2E, u (E + p) + rho qhat, G_M(U) + rho Ghat),    p = rho T,

closure per unit density ``y = (qhat, Ghat_1..M)`` (``1 + M`` entries).

dim 3 (1D3V, the Chu-reduced pair on the v_x grid): ``g = ∫ f dv_y dv_z``,
``b = ∫ ½(v_y² + v_z²) f dv_y dv_z``; ``(rho, m, E) = Σ_j (g_j, v_j g_j, ½ v_j² g_j + b_j) dv``,
``W_k = Σ_j (wg[k, j] g_j + wb[k, j] b_j) dv`` (``wtab = wg``, ``wbtab = wb``),
``E = ½ rho u² + (3/2) rho T``. Fluxes::

    F = (m, rho u² + p + rho sighat, u (E + p + rho sighat) + rho qhat, G_M(U) + rho Ghat),

closure per unit density ``y = (sighat, qhat, Ghat_1..M)`` (``2 + M`` entries).

Both: ``z = (W - W_M(U)) / rho`` with the equilibrium moments of the discrete Maxwellian
(midpoint rule; in dim 3 the pair ``g_M = rho M(v; u, T)``, ``b_M = T g_M``)::

    W_M = Σ_j (wg + T wb)[k, j] gM_j,    G_M = Σ_j v_j (wg + T wb)[k, j] gM_j     (wb = 0 in dim 1).

The network of inputs ``(u, T, z)`` gives a matrix ``A`` of shape ``(n_y, M)`` (its first
``n_y M`` outputs, row-major, ``n_y = 1 + M`` or ``2 + M``) and ``y_i = out_scale_i Σ_k A_ik z_k /
z_scale_k``: at ``W = W_M(U)`` (``z = 0``) the fluxes are exactly the Euler ones (``gamma = 3`` in
dim 1, ``5/3`` in dim 3) whatever the weights.

Learned collision source (dim 3 only; dim 1 relaxes exactly, BGK): with ``zeta = z / z_scale``,
``d zeta/dt = -(rho/Kn) R zeta``, ``R = L Lᵀ + source_floor I`` (symmetric positive definite),
``L`` lower triangular from the next ``M (M + 1) / 2`` network outputs, row-major over the lower
triangle ((0,0), (1,0), (1,1), (2,0), ...); so the network has ``(2 + M) M + M (M + 1) / 2``
outputs in dim 3 and ``(1 + M) M`` in dim 1. An ensemble of ``K`` networks with one architecture
is stored as ``params (K, P)``; the closure ``y`` and the matrix ``L Lᵀ`` are means over the members.
"""

import math
import numbers
from typing import NamedTuple

import numpy as np
from numba import njit

from .mlp import activation_code, forward_cells, n_params

__all__ = ["Closure", "make_closure", "n_closure_outputs", "equilibrium_moments", "closure_cells", "source_cells"]


class Closure(NamedTuple):
    """Exported closure (float64 arrays, C-contiguous).

    v ``(n_v,)``, dv: velocity grid; wtab, vwtab ``(M, n_v)``: ``wg_k(v_j)`` and ``v_j wg_k(v_j)``;
    params ``(K, P)``, sizes ``(L + 1,)`` int64, act (code): the networks, inputs ``(u, T, z_1..z_M)``
    standardized by ``in_shift, in_scale`` ``(2 + M,)``, outputs :func:`n_closure_outputs`;
    z_scale ``(M,)``, out_scale ``(n_y,)`` (``n_y = 1 + M`` in dim 1, ``2 + M`` in dim 3);
    dim: 1 or 3; wbtab, vwbtab: ``wb_k(v_j)`` and ``v_j wb_k(v_j)``, ``(M, n_v)`` in dim 3 and
    empty ``(M, 0)`` in dim 1; source_floor: the floor ``epsilon > 0`` of the dim-3 source matrix.
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
    dim: int
    wbtab: np.ndarray
    vwbtab: np.ndarray
    source_floor: float


def n_closure_outputs(m, dim):
    """Network outputs a closure of ``m`` moments needs: ``(1 + m) m`` in dim 1 (the flux matrix),
    ``(2 + m) m + m (m + 1) / 2`` in dim 3 (flux matrix, then the source factor ``L``)."""
    return (1 + m) * m if dim == 1 else (2 + m) * m + m * (m + 1) // 2


def make_closure(v, dv, wtab, params, sizes, activation, in_shift, in_scale, z_scale, out_scale, *, dim=1,
                 wbtab=None, source_floor=1e-3):
    """Check shapes and build a :class:`Closure` (copies as contiguous float64).

    dim 1: ``wbtab`` must be None. dim 3: ``wbtab (M, n_v)`` is required, the network ends with
    :func:`n_closure_outputs` outputs and ``out_scale`` has ``2 + M`` entries. ``source_floor``:
    a finite float > 0 (used in dim 3). Raises ValueError naming the offending argument.
    """
    f64 = lambda a: np.ascontiguousarray(np.asarray(a, dtype=np.float64))  # noqa: E731
    if dim not in (1, 3):
        raise ValueError(f"dim must be 1 or 3, got {dim!r}")
    v, wtab, params = f64(v), f64(wtab), f64(params)
    if params.ndim == 1:
        params = params[None]
    sizes = np.ascontiguousarray(np.asarray(sizes, dtype=np.int64))
    m = wtab.shape[0]
    if wtab.ndim != 2 or wtab.shape[1] != v.size or m < 1:
        raise ValueError(f"wtab must have shape (M >= 1, n_v = {v.size}), got {wtab.shape}")
    if dim == 1:
        if wbtab is not None:
            raise ValueError("wbtab is for dim 3 only (the b half of the Chu pair); got one with dim 1")
        wbtab = np.zeros((m, 0))
    else:
        if wbtab is None:
            raise ValueError(f"wbtab of shape (M = {m}, n_v = {v.size}) is required for dim 3")
        wbtab = f64(wbtab)
        if wbtab.shape != wtab.shape:
            raise ValueError(f"wbtab must have shape (M = {m}, n_v = {v.size}) like wtab, got {wbtab.shape}")
    n_out = n_closure_outputs(m, dim)
    if sizes.ndim != 1 or sizes.size < 2 or sizes[0] != 2 + m or sizes[-1] != n_out:
        want = "(1 + M) M" if dim == 1 else "(2 + M) M + M (M + 1) / 2"
        raise ValueError(f"network sizes {tuple(sizes)} must start with 2 + M = {2 + m} and end with "
                         f"{want} = {n_out} (dim {dim})")
    if params.ndim != 2 or params.shape[1] != n_params(tuple(sizes)):
        raise ValueError(f"params have shape {params.shape}, sizes {tuple(sizes)} need (K, "
                         f"{n_params(tuple(sizes))})")
    vecs = [f64(a) for a in (in_shift, in_scale, z_scale, out_scale)]
    n_y = (1 if dim == 1 else 2) + m
    for name, a, n in zip(("in_shift", "in_scale", "z_scale", "out_scale"), vecs, (2 + m, 2 + m, m, n_y)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    if isinstance(source_floor, bool) or not (isinstance(source_floor, numbers.Real) and math.isfinite(source_floor)
                                              and source_floor > 0):
        raise ValueError(f"source_floor must be a finite float > 0, got {source_floor!r}")
    return Closure(v, float(dv), wtab, f64(v[None, :] * wtab), params, sizes, activation_code(activation), *vecs,
                   int(dim), wbtab, f64(v[None, :] * wbtab) if dim == 3 else np.zeros((m, 0)), float(source_floor))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def equilibrium_moments(rho, u, T, cl, g, WM, GM):
    """``W_M(U)`` and ``G_M(U)`` into ``WM, GM`` ``(M,)`` for the Maxwellian of ``(rho, u, T)``.

    ``g`` is scratch of shape ``(n_v,)``; it ends holding ``gM_j = M_j dv``. In dim 3 the ``b`` half
    of the pair is ``T gM``: ``W_M = Σ_j (wg_j + T wb_j) gM_j`` (two sums, the second scaled by T).

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
        if cl.dim == 3:
            sbw = 0.0
            sbg = 0.0
            for j in range(nv):
                sbw += cl.wbtab[k, j] * g[j]
                sbg += cl.vwbtab[k, j] * g[j]
            sw += T * sbw
            sg += T * sbg
        WM[k] = sw
        GM[k] = sg


@njit(cache=True, nogil=True, error_model="numpy")
def _network_inputs(u, T, z, cl, xin):
    """The standardized inputs ``xin (n, 2 + M)`` of states u, T ``(n,)``, z ``(M, n)``."""
    for c in range(u.shape[0]):
        xin[c, 0] = (u[c] - cl.in_shift[0]) / cl.in_scale[0]
        xin[c, 1] = (T[c] - cl.in_shift[1]) / cl.in_scale[1]
        for k in range(z.shape[0]):
            xin[c, 2 + k] = (z[k, c] - cl.in_shift[2 + k]) / cl.in_scale[2 + k]


@njit(cache=True, nogil=True, error_model="numpy")
def closure_cells(u, T, z, cl, members, xin, zs, buf, y):
    """Closure of ``n`` states: ``y[:, :n_y]`` = ``(qhat, Ghat)`` (dim 1, ``n_y = 1 + M``) or
    ``(sighat, qhat, Ghat)`` (dim 3, ``n_y = 2 + M``) per unit density, the mean over the ensemble
    members ``members[0] <= k < members[1]``.

    u, T ``(n,)`` and z ``(M, n)``: the states; y ``(n, >= n_y)`` (columns past ``n_y`` are set to 0);
    scratch xin ``(n, 2 + M)``, zs ``(n, M)``, buf ``(2, n * max(sizes))``. The networks run on all
    states at once (:func:`.mlp.forward_cells`).
    """
    n = u.shape[0]
    m = z.shape[0]
    n_y = cl.out_scale.shape[0]
    _network_inputs(u, T, z, cl, xin)
    for c in range(n):
        for k in range(m):
            zs[c, k] = z[k, c] / cl.z_scale[k]
    y[:] = 0.0
    for member in range(members[0], members[1]):
        a = forward_cells(cl.params[member], cl.sizes, cl.act, xin, buf)
        for c in range(n):
            for i in range(n_y):
                s = 0.0
                for k in range(m):
                    s += a[c, i * m + k] * zs[c, k]
                y[c, i] += s
    inv = 1.0 / (members[1] - members[0])
    for c in range(n):
        for i in range(n_y):
            y[c, i] *= cl.out_scale[i] * inv


@njit(cache=True, nogil=True, error_model="numpy")
def source_cells(u, T, z, cl, members, xin, buf, R):
    """Source matrices of ``n`` states (dim 3): ``R (n, M, M)`` = the mean over the members
    ``members[0] <= k < members[1]`` of ``L Lᵀ``, plus ``source_floor I`` (symmetric positive definite).

    ``L`` (lower triangular, ``M × M``) is read row-major over the lower triangle from the network
    outputs ``(2 + M) M ...`` (after the flux matrix). u, T ``(n,)``, z ``(M, n)``: the states (the
    rate is ``(rho / Kn) R`` on ``zeta = z / z_scale``); scratch xin ``(n, 2 + M)``,
    buf ``(2, n * max(sizes))``. Only the lower triangle of ``R`` is filled.
    """
    n = u.shape[0]
    m = z.shape[0]
    off = (2 + m) * m
    _network_inputs(u, T, z, cl, xin)
    R[:] = 0.0
    for member in range(members[0], members[1]):
        a = forward_cells(cl.params[member], cl.sizes, cl.act, xin, buf)
        for c in range(n):
            # L[i, p] sits at off + i (i + 1) / 2 + p; (L Lᵀ)[i, j] = Σ_{p <= j} L[i, p] L[j, p] for j <= i
            for i in range(m):
                ri = off + i * (i + 1) // 2
                for j in range(i + 1):
                    rj = off + j * (j + 1) // 2
                    s = 0.0
                    for p in range(j + 1):
                        s += a[c, ri + p] * a[c, rj + p]
                    R[c, i, j] += s
    inv = 1.0 / (members[1] - members[0])
    for c in range(n):
        for i in range(m):
            for j in range(i + 1):
                R[c, i, j] *= inv
            R[c, i, i] += cl.source_floor
