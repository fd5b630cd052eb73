"""The reduced moment solver in dim 3 (1D3V Chu pair, gamma = 5/3) with a learned collision source:
Euler at equilibrium, conservation, the implicit source against its exact products and the matrix
exponential, the numba networks against numpy, and the argument checks of make_closure."""

import numpy as np
import pytest

from solvers import bgk_moments
from solvers.bgk_moments.closure import closure_cells, equilibrium_moments, n_closure_outputs, source_cells
from solvers.bgk_moments.mlp import n_params
from solvers.bgk_moments.solver import OUTFLOW, PERIODIC, _equilibrium, _rhs, _work

M = 3
N_V = 48
DV = 16.0 / N_V
V_GRID = (np.arange(N_V) + 0.5) * DV - 8.0
N_X = 32
DX = 1.0 / N_X
X = (np.arange(N_X) + 0.5) * DX
HIDDEN = 8
SIZES = (2 + M, HIDDEN, n_closure_outputs(M, 3))
FLOOR = 0.05


def _tables(rng):
    """Random smooth weight tables wg, wb ``(M, n_v)``: cubic polynomials of v/4."""
    powers = np.stack([(V_GRID / 4.0) ** p for p in range(4)])
    return rng.normal(size=(M, 4)) @ powers, rng.normal(size=(M, 4)) @ powers


def _closure(seed=0, params=None, out_scale=None, members=2):
    """A dim-3 closure with random tables and (unless given) random tanh networks of ``members`` members."""
    rng = np.random.default_rng(seed)
    wg, wb = _tables(rng)
    if params is None:
        params = rng.normal(0.0, 0.5, (members, n_params(SIZES)))
    if out_scale is None:
        out_scale = rng.uniform(0.02, 0.08, 2 + M)
    return bgk_moments.make_closure(V_GRID, DV, wg, params, SIZES, "tanh", np.r_[0.1, 1.0, np.zeros(M)],
                                    np.r_[0.3, 0.2, np.full(M, 0.05)], np.full(M, 0.05), out_scale, dim=3,
                                    wbtab=wb, source_floor=FLOOR)


def _state(rho, u, T, cl, zeta=None):
    """Conserved states ``(3 + M, n)`` of primitives (rho, u, T) ``(n,)`` with ``W = W_M + rho z_scale zeta``
    (``zeta (M, n)``, default 0: equilibrium)."""
    V = np.zeros((3 + M, rho.size))
    V[:3] = rho, rho * u, 0.5 * rho * u * u + 1.5 * rho * T
    EQ = np.empty((rho.size, 2 * M))
    _equilibrium(V, cl, np.empty(N_V), EQ)
    V[3:] = EQ[:, :M].T
    if zeta is not None:
        V[3:] += rho * cl.z_scale[:, None] * zeta
    return V


def _smooth(boundary):
    """Primitive profiles: a periodic wave, or a smoothed Sod-like jump for outflow boundaries."""
    if boundary == "periodic":
        s = np.sin(2 * np.pi * X)
        return 1.0 + 0.2 * s, 0.3 * np.sin(2 * np.pi * X + 1.0), 1.0 + 0.2 * np.sin(2 * np.pi * X + 2.0)
    step = 0.5 * (1.0 + np.tanh((X - 0.5) / 0.04))
    return 1.0 - 0.6 * step, 0.1 * np.ones(N_X), 1.0 - 0.3 * step


def _euler_rate(U, dx, c_max, boundary):
    """MUSCL-minmod (rho, u, T) + Rusanov (a = |u| + c_max sqrt(T)) rate of the gamma = 5/3 Euler equations."""
    rho, u = U[0], U[1] / U[0]
    P = np.stack([rho, u, (2.0 * U[2] / rho - u * u) / 3.0])
    Pg = np.pad(P, ((0, 0), (2, 2)), mode="wrap" if boundary == "periodic" else "edge")
    dl, dr = Pg[:, 1:-1] - Pg[:, :-2], Pg[:, 2:] - Pg[:, 1:-1]
    S = np.where(dl * dr > 0, np.where(np.abs(dl) < np.abs(dr), dl, dr), 0.0)  # of cells -1 .. n
    C = Pg[:, 1:-1]

    def state_flux(Q):
        r, v, T = Q
        E = 0.5 * r * v * v + 1.5 * r * T
        flux = np.stack([r * v, r * v * v + r * T, v * (E + r * T)])
        return np.stack([r, r * v, E]), flux, np.abs(v) + c_max * np.sqrt(T)

    (VL, FL, aL), (VR, FR, aR) = state_flux(C[:, :-1] + 0.5 * S[:, :-1]), state_flux(C[:, 1:] - 0.5 * S[:, 1:])
    Fn = 0.5 * (FL + FR) - 0.5 * np.maximum(aL, aR) * (VR - VL)  # faces 0 .. n
    return -(Fn[:, 1:] - Fn[:, :-1]) / dx


def _euler_solve(U0, dx, t_save, cfl, c_max, boundary):
    """SSP-RK2 solve of :func:`_euler_rate` with the reduced solver's time steps; ``(n_t, 3, n_x)``, steps."""
    U, t, steps, out = U0.copy(), 0.0, 0, []
    for ts in t_save:
        while t < ts:
            rho, u = U[0], U[1] / U[0]
            dt = cfl * dx / np.max(np.abs(u) + c_max * np.sqrt((2.0 * U[2] / rho - u * u) / 3.0))
            if t + dt >= ts * (1.0 - 1e-14):
                dt = ts - t
            U1 = U + dt * _euler_rate(U, dx, c_max, boundary)
            U = 0.5 * U + 0.5 * (U1 + dt * _euler_rate(U1, dx, c_max, boundary))
            t = t + dt if t + dt < ts else ts
            steps += 1
        out.append(U.copy())
    return np.stack(out), steps


@pytest.mark.parametrize("boundary", ["periodic", "outflow"])
def test_one_transport_stage_at_equilibrium_is_euler_whatever_the_weights(boundary):
    """z = 0: sighat = qhat = 0 and G = G_M exactly, so the conserved rows are the gamma = 5/3 Euler scheme."""
    cl = _closure(seed=1)
    V = _state(*_smooth(boundary), cl)
    rho, u, T, z = bgk_moments.primitive_state(V, cl)
    np.testing.assert_allclose(T, _smooth(boundary)[2], rtol=1e-14)
    assert np.abs(z).max() <= 1e-15
    EQ = np.empty((N_X, 2 * M))
    _equilibrium(V, cl, np.empty(N_V), EQ)
    rates = []
    for closure in (cl, cl._replace(params=np.zeros_like(cl.params))):
        dVdt = np.zeros_like(V)
        assert _rhs(V, EQ, dVdt, DX, 3.0, PERIODIC if boundary == "periodic" else OUTFLOW, closure,
                    np.array([0, 2]), np.empty(N_V), _work(3 + M, N_X, closure.sizes, 3))
        rates.append(dVdt)
    np.testing.assert_array_equal(rates[0], rates[1])
    np.testing.assert_allclose(rates[0][:3], _euler_rate(V[:3], DX, 3.0, boundary), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("boundary", ["periodic", "outflow"])
def test_without_stress_and_heat_flux_the_conserved_variables_solve_euler(boundary):
    """Random networks, the source on, but sighat = qhat = 0 (out_scale): the conserved rows of a full solve
    (MUSCL on (rho, u, T), Rusanov, SSP-RK2, time steps hitting the save times) are the Euler solve."""
    out_scale = np.r_[0.0, 0.0, np.full(M, 0.05)]
    cl = _closure(seed=2, out_scale=out_scale)
    V0 = _state(*_smooth(boundary), cl)
    t = np.array([0.0, 0.02, 0.05])
    out, status, t_end, steps = bgk_moments.solve_moments(V0, cl, DX, 0.05, t, cfl=0.4, c_max=3.0, boundary=boundary)
    want, want_steps = _euler_solve(V0[:3], DX, t, 0.4, 3.0, boundary)
    assert status[0] == 0 and t_end[0] == t[-1] and steps[0] == want_steps > 10
    np.testing.assert_allclose(out[0, :, :3], want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert np.abs(out[0, -1, :3] - V0[:3]).max() > 1e-3  # the state did move
    z = bgk_moments.primitive_state(out[0, -1], cl)[3]
    assert np.abs(z).max() > 1e-6  # and left equilibrium: the W rows see transport and source


def test_with_stress_and_heat_flux_the_euler_limit_kn_to_0_holds_at_first_order_in_dt():
    """Random closure, z = 0 initially, Kn -> 0: the source zeroes z before each step, but the RK2 middle
    stage sees z = O(dt) (it is not relaxed), so the solve departs from Euler by O(dt), not by round-off."""
    cl = _closure(seed=2)
    V0 = _state(*_smooth("periodic"), cl)
    t = np.array([0.0, 0.05])
    errors = []
    for cfl in (0.4, 0.2, 0.1):
        out = bgk_moments.solve_moments(V0, cl, DX, 1e-12, t, cfl=cfl, c_max=3.0)[0]
        want = _euler_solve(V0[:3], DX, t, cfl, 3.0, "periodic")[0]
        errors.append(np.abs(out[0, :, :3] - want).max() / np.abs(want).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert errors[0] < 1e-3 and np.all((ratios > 1.8) & (ratios < 2.2)), (errors, ratios)


def test_mass_momentum_energy_are_conserved_away_from_equilibrium():
    cl = _closure(seed=3)
    rho, u, T = _smooth("periodic")
    zeta = 0.5 * np.stack([np.sin(2 * np.pi * (k + 1) * X + k) for k in range(M)])
    V0 = np.stack([_state(rho, u, T, cl, zeta)] * 2)
    out, status, _, steps = bgk_moments.solve_moments(V0, cl, DX, [0.01, np.inf], [0.0, 0.02, 0.05], c_max=3.0)
    assert list(status) == [0, 0] and np.all(steps > 10)
    totals = out[:, :, :3].sum(axis=-1) * DX  # (batch, t, rho/m/E)
    assert np.max(np.abs(totals - totals[:, :1]) / totals[:, :1, :1]) <= 1e-12
    assert np.max(np.abs(out[:, -1, :3] - out[:, 0, :3])) > 1e-3
    # the source acts: at Kn = 0.01 z has decayed well below its Kn = inf value
    z = [np.abs(bgk_moments.primitive_state(out[b, -1], cl)[3]).max() for b in range(2)]
    assert z[0] < 0.5 * z[1]


def _constant_closure(L_members, flux_bias, seed=4):
    """A closure whose networks output constants: zero weights, the last-layer bias = (flux matrix, L)."""
    tri = np.tril_indices(M)  # row-major over the lower triangle: (0,0), (1,0), (1,1), (2,0), ...
    params = np.zeros((len(L_members), n_params(SIZES)))
    for p, L in zip(params, L_members):
        p[-SIZES[-1]:] = np.r_[flux_bias, L[tri]]
    return _closure(seed=seed, params=params)


def _source_intervals(t_save, dt):
    """The relaxation intervals the solver takes for a constant step ``dt`` (half steps around each step,
    the two halves between steps merged, steps shortened to hit the save times); one list per save time."""
    t, pending, hs, per_save = 0.0, 0.0, [], []
    for ts in t_save:
        while t < ts:
            d = ts - t if t + dt >= ts * (1.0 - 1e-14) else dt
            hs.append(pending + 0.5 * d)
            t = t + d if t + d < ts else ts
            pending = 0.5 * d
        if pending > 0.0:
            hs.append(pending)
            pending = 0.0
        per_save.append(list(hs))
    return per_save


RHO, U, T0 = 1.3, 0.2, 0.9
ZETA0 = np.array([0.8, -0.5, 0.3])
L_MEMBERS = [np.array([[1.0, 0, 0], [0.4, 0.7, 0], [-0.2, 0.3, 0.5]]),
             np.array([[0.6, 0, 0], [-0.3, 0.9, 0], [0.1, 0.2, 1.1]])]
R_EXACT = np.mean([L @ L.T for L in L_MEMBERS], axis=0) + FLOOR * np.eye(M)


def _uniform_solve(cl, kn, t_save, cfl, n_x=8):
    """Solve a uniform state with ``zeta = ZETA0`` in every cell; returns out, steps and dt."""
    ones = np.ones(n_x)
    V0 = _state(RHO * ones, U * ones, T0 * ones, cl, np.repeat(ZETA0[:, None], n_x, axis=1))
    out, status, _, steps = bgk_moments.solve_moments(V0, cl, 1.0 / n_x, kn, t_save, cfl=cfl, c_max=3.0)
    assert status[0] == 0
    np.testing.assert_array_equal(out[0, :, :3], np.broadcast_to(V0[:3], out[0, :, :3].shape))  # U untouched
    return out[0], steps[0], cfl / n_x / (abs(U) + 3.0 * np.sqrt(T0))


def _zeta(out, cl):
    """zeta ``(n_t, M)`` of cell 0 of solver output ``(n_t, 3 + M, n_x)``, checking all cells agree."""
    z = np.stack([bgk_moments.primitive_state(o, cl)[3] for o in out]) / cl.z_scale[None, :, None]
    np.testing.assert_allclose(z, np.broadcast_to(z[..., :1], z.shape), rtol=0, atol=1e-14)
    return z[..., 0]


def test_the_source_is_the_product_of_its_implicit_steps_and_converges_to_the_exponential_at_first_order():
    cl = _constant_closure(L_MEMBERS, np.random.default_rng(5).normal(size=(2 + M) * M))
    kn, t_save = 0.1, np.array([0.0, 0.07, 0.2])
    errors = []
    for cfl in (0.4, 0.2, 0.1):
        out, steps, dt = _uniform_solve(cl, kn, t_save, cfl)
        zeta = _zeta(out, cl)
        per_save = _source_intervals(t_save, dt)
        assert steps == len(per_save[-1]) - len(t_save) + 1  # one interval per step, plus one per save time
        for s, hs in enumerate(per_save):
            want = ZETA0.copy()
            for h in hs:
                want = np.linalg.solve(np.eye(M) + RHO * h / kn * R_EXACT, want)
            np.testing.assert_allclose(zeta[s], want, rtol=1e-12, atol=1e-15)
        lam, Q = np.linalg.eigh(R_EXACT)
        exact = Q @ (np.exp(-RHO * t_save[-1] / kn * lam) * (Q.T @ ZETA0))
        errors.append(np.abs(zeta[-1] - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 1.7) & (ratios < 2.3)), (errors, ratios)  # first order in the time step


def test_the_source_drives_the_moments_to_equilibrium_as_kn_vanishes():
    cl = _constant_closure(L_MEMBERS, np.zeros((2 + M) * M))
    sizes = [np.abs(_zeta(_uniform_solve(cl, kn, [0.0, 0.05], 0.4)[0], cl)[-1]).max() for kn in (1e-1, 1e-3, 1e-6)]
    assert sizes[0] < np.abs(ZETA0).max() and sizes[1] < 1e-3 * sizes[0] and sizes[2] < 1e-12 * np.abs(ZETA0).max()
    out, _, _ = _uniform_solve(cl, np.inf, [0.0, 0.05], 0.4)  # Kn = inf: no source at all
    np.testing.assert_allclose(_zeta(out, cl)[-1], ZETA0, rtol=1e-13)


def _numpy_network(p, x):
    """Outputs ``(n, sizes[-1])`` of the tanh network with flat parameters ``p`` at inputs ``x`` ``(n, 2 + M)``."""
    off, h = 0, x
    for layer, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        h = h @ p[off:off + a * b].reshape(b, a).T + p[off + a * b:off + a * b + b]
        h = np.tanh(h) if layer < len(SIZES) - 2 else h
        off += a * b + b
    return h


def test_numba_closure_and_source_matrix_equal_numpy_networks():
    cl = _closure(seed=6)
    rng = np.random.default_rng(7)
    n = 5
    u, T, z = rng.normal(0, 0.3, n), rng.uniform(0.5, 1.5, n), rng.normal(0, 0.05, (M, n))
    x = (np.concatenate([u[:, None], T[:, None], z.T], 1) - cl.in_shift) / cl.in_scale
    outs = [_numpy_network(p, x) for p in cl.params]
    flux = np.mean([np.einsum("nik,nk->ni", a[:, :(2 + M) * M].reshape(n, 2 + M, M), z.T / cl.z_scale)
                    for a in outs], axis=0) * cl.out_scale
    y = np.empty((n, 2 + M))
    closure_cells(u, T, z, cl, np.array([0, 2]), np.empty((n, 2 + M)), np.empty((n, M)),
                  np.empty((2, n * max(SIZES))), y)
    np.testing.assert_allclose(y, flux, rtol=1e-12, atol=1e-15)
    tri = np.tril_indices(M)
    Ls = np.zeros((2, n, M, M))
    for k, a in enumerate(outs):
        Ls[k][:, tri[0], tri[1]] = a[:, (2 + M) * M:]
    want = np.mean(Ls @ np.swapaxes(Ls, -1, -2), axis=0) + FLOOR * np.eye(M)
    R = np.empty((n, M, M))
    source_cells(u, T, z, cl, np.array([0, 2]), np.empty((n, 2 + M)), np.empty((2, n * max(SIZES))), R)
    np.testing.assert_allclose(np.tril(R), np.tril(want), rtol=1e-12, atol=1e-14)


def test_dim3_equilibrium_moments_are_the_quadrature_of_the_maxwellian_pair():
    cl = _closure()
    g = np.empty(N_V)
    WM, GM = np.empty(M), np.empty(M)
    for rho, u, T in ((1.0, 0.0, 1.0), (0.4, 1.3, 0.35), (2.0, -2.1, 2.5)):
        equilibrium_moments(rho, u, T, cl, g, WM, GM)
        gM = rho / np.sqrt(2 * np.pi * T) * np.exp(-(V_GRID - u) ** 2 / (2 * T)) * DV
        bM = T * gM  # ∫ ½(v_y² + v_z²) M dv_y dv_z = T g
        np.testing.assert_allclose(WM, cl.wtab @ gM + cl.wbtab @ bM, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(GM, cl.wtab @ (V_GRID * gM) + cl.wbtab @ (V_GRID * bM), rtol=1e-12, atol=1e-15)


def _arguments(**change):
    rng = np.random.default_rng(0)
    wg, wb = _tables(rng)
    args = dict(v=V_GRID, dv=DV, wtab=wg, params=np.zeros((1, n_params(SIZES))), sizes=SIZES, activation="tanh",
                in_shift=np.zeros(2 + M), in_scale=np.ones(2 + M), z_scale=np.ones(M), out_scale=np.ones(2 + M),
                dim=3, wbtab=wb, source_floor=FLOOR)
    args.update(change)
    return args


@pytest.mark.parametrize("change, name", [
    (dict(dim=2), "dim"),
    (dict(wbtab=None), "wbtab"),
    (dict(wbtab=np.ones((M, N_V - 1))), "wbtab"),
    (dict(dim=1, sizes=(2 + M, HIDDEN, (1 + M) * M), params=np.zeros(n_params((2 + M, HIDDEN, (1 + M) * M))),
          out_scale=np.ones(1 + M)), "wbtab"),
    (dict(wtab=np.ones((M, N_V + 1))), "wtab"),
    (dict(sizes=(2 + M, HIDDEN, (2 + M) * M)), "sizes"),
    (dict(params=np.zeros((1, 7))), "params"),
    (dict(out_scale=np.ones(1 + M)), "out_scale"),
    (dict(z_scale=np.ones(M + 1)), "z_scale"),
    (dict(source_floor=0.0), "source_floor"),
    (dict(source_floor=-1e-3), "source_floor"),
    (dict(source_floor=np.inf), "source_floor"),
])
def test_make_closure_rejects_bad_arguments_by_name(change, name):
    with pytest.raises(ValueError, match=name):
        bgk_moments.make_closure(**_arguments(**change))


def test_dim1_defaults_still_build_a_bgk_closure():
    sizes = (2 + M, HIDDEN, (1 + M) * M)
    cl = bgk_moments.make_closure(V_GRID, DV, np.ones((M, N_V)), np.zeros(n_params(sizes)), sizes, "tanh",
                                  np.zeros(2 + M), np.ones(2 + M), np.ones(M), np.ones(1 + M))
    assert cl.dim == 1 and cl.wbtab.shape == (M, 0) and cl.source_floor > 0
