"""bgk_closure numerics: encoder moments, exact equilibrium consistency, the numba closure equal to torch,
conservation and failure handling of the reduced solver, resumable training."""

import numpy as np
import pytest
import torch

from engine.kinds.bgk_closure.run.evaluate import initial_moments
from learners import bgk_closure as lc
from solvers import bgk, bgk_moments
from solvers.bgk_moments.closure import closure_cells, equilibrium_moments
from solvers.bgk_moments.solver import _equilibrium, _rhs, _side, _work

M = 3
GRID = bgk.PhaseGrid(0.0, 1.0, 24, 10.0, 64)


def _networks(seed=0, scale=1.0):
    """Random float64 weight functions and a two-member closure ensemble with nontrivial scales."""
    torch.manual_seed(seed)
    weights = lc.WeightFunctions(M, [8], "tanh", 1.0).double()
    nets = [lc.ClosureNet(M, [8, 8], "tanh").double() for _ in range(2)]
    for n in nets:
        n.in_shift.copy_(torch.tensor([0.1, 1.0, 0.0, 0.0, 0.0]))
        n.in_scale.copy_(torch.tensor([0.3, 0.2, 0.01, 0.02, 0.01]))
        n.z_scale.copy_(torch.tensor([0.01, 0.02, 0.01]))
        n.out_scale.copy_(scale * torch.tensor([0.05, 0.02, 0.03, 0.01]))
    return weights, nets


def _closure(seed=0, scale=1.0):
    weights, nets = _networks(seed, scale)
    return bgk_moments.make_closure(GRID.v, GRID.dv, activation="tanh", **lc.export_arrays(weights, nets, GRID.v))


def _wave(rng=None):
    rng = np.random.default_rng(3) if rng is None else rng
    return np.stack([bgk.initial.random_wave(rng, GRID) for _ in range(2)])


def _closure_of(u, T, z, cl, members=(0, 2)):
    """``(qhat, Ghat)`` ``(n, 1 + M)`` of the numba closure at states u, T ``(n,)``, z ``(M, n)``."""
    n = u.size
    y = np.empty((n, 1 + M))
    closure_cells(u, T, np.ascontiguousarray(z), cl, np.array(members), np.empty((n, 2 + M)), np.empty((n, M)),
                  np.empty((2, n * int(cl.sizes.max()))), y)
    return y


def test_encoder_keeps_the_quadrature_moments_exactly():
    f0 = _wave()
    cl = _closure()
    V = initial_moments(f0, cl)
    rho, m, E = bgk.maxwellian.moments(f0, GRID.v, GRID.dv)
    for k, ref in enumerate((rho, m, E)):
        np.testing.assert_allclose(V[:, k], ref, rtol=1e-12, atol=0)
    f = torch.as_tensor(f0[:, 0].reshape(-1, GRID.n_v))
    r_t, m_t, e_t = lc.moments(f, torch.as_tensor(GRID.v), GRID.dv)
    for a, ref in zip((r_t, m_t, e_t), (rho, m, E)):
        np.testing.assert_allclose(a.numpy(), ref.reshape(-1), rtol=1e-12, atol=1e-14)
    # the generalized moments are the quadrature of the tabulated weight functions
    W = np.einsum("bxj,kj->bkx", f0[:, 0], cl.wtab) * GRID.dv
    np.testing.assert_allclose(V[:, 3:], W, rtol=1e-12, atol=1e-15)


def test_equilibrium_moments_match_the_quadrature_of_the_maxwellian():
    cl = _closure()
    g = np.empty(GRID.n_v)
    WM, GM = np.empty(M), np.empty(M)
    for rho, u, T in ((1.0, 0.0, 1.0), (0.4, 1.3, 0.35), (2.0, -2.1, 2.5)):
        equilibrium_moments(rho, u, T, cl, g, WM, GM)
        mx = bgk.maxwellian.maxwellian(rho, u, T, GRID.v)[0, 0] * GRID.dv
        np.testing.assert_allclose(WM, cl.wtab @ mx, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(GM, cl.wtab @ (GRID.v * mx), rtol=1e-12, atol=1e-15)


def test_closure_is_exactly_euler_at_equilibrium():
    weights, nets = _networks(seed=1)
    z0 = torch.zeros(5, M, dtype=torch.float64)
    u, T = torch.linspace(-1, 1, 5, dtype=torch.float64), torch.linspace(0.5, 2, 5, dtype=torch.float64)
    for n in nets:
        assert torch.equal(n(u, T, z0), torch.zeros(5, 1 + M, dtype=torch.float64))
    cl = _closure(seed=1)
    assert np.array_equal(_closure_of(u.numpy(), T.numpy(), np.zeros((M, 5)), cl), np.zeros((5, 1 + M)))
    # one transport stage of a state at equilibrium in every cell: q = 0 and G = G_M exactly, so the
    # conserved rows are those of the MUSCL-Rusanov scheme for the Euler equations (gamma = 3)
    V = initial_moments(_wave()[:1], cl)[0]
    EQ = np.empty((GRID.n_x, 2 * M))
    _equilibrium(V, cl, np.empty(GRID.n_v), EQ)
    V[3:] = EQ[:, :M].T
    zero = cl._replace(params=np.zeros_like(cl.params))
    rates = []
    for closure in (cl, zero):
        dVdt = np.zeros_like(V)
        assert _rhs(V, EQ, dVdt, GRID.dx, 3.0, 0, closure, np.array([0, 2]), np.empty(GRID.n_v),
                    _work(3 + M, GRID.n_x, closure.sizes))
        rates.append(dVdt)
    np.testing.assert_array_equal(rates[0], rates[1])
    np.testing.assert_allclose(rates[0][:3], _euler_rate(V[:3], GRID.dx, 3.0), rtol=1e-12, atol=1e-12)


def _euler_rate(U, dx, c_max):
    """MUSCL-minmod (rho, u, T) + Rusanov (speed |u| + c_max sqrt(T)) rate of the 1D1V Euler equations, periodic."""
    rho, u = U[0], U[1] / U[0]
    P = np.stack([rho, u, 2 * U[2] / rho - u * u])
    dl, dr = P - np.roll(P, 1, 1), np.roll(P, -1, 1) - P
    S = np.where(dl * dr > 0, np.where(np.abs(dl) < np.abs(dr), dl, dr), 0.0)

    def state_flux(Q):
        r, v, T = Q
        E = 0.5 * r * v * v + 0.5 * r * T
        return np.stack([r, r * v, E]), np.stack([r * v, 2 * E, v * (E + r * T)]), np.abs(v) + c_max * np.sqrt(T)

    (VL, FL, aL), (VR, FR, aR) = state_flux(P + 0.5 * S), state_flux(np.roll(P - 0.5 * S, -1, 1))
    Fn = 0.5 * (FL + FR) - 0.5 * np.maximum(aL, aR) * (VR - VL)  # at the right face of each cell
    return -(Fn - np.roll(Fn, 1, 1)) / dx


def test_vectorized_tanh_of_the_numba_networks_is_accurate_to_one_ulp():
    from solvers.bgk_moments.mlp import TANH, _activate

    x = np.concatenate([np.linspace(-30, 30, 20001), np.logspace(-12, 0, 2000), -np.logspace(-12, 0, 2000),
                        [0.0, 800.0, -800.0]])
    y = x.copy()
    _activate(y, TANH)
    assert np.max(np.abs(y - np.tanh(x))) <= 2.3e-16
    assert y[-3] == 0.0 and y[-2] == 1.0 and y[-1] == -1.0


def test_numba_closure_equals_the_torch_networks():
    weights, nets = _networks(seed=2)
    cl = _closure(seed=2)
    rng = np.random.default_rng(0)
    n = 7  # states evaluated in one block
    u, T, z = rng.normal(0, 0.3, n), rng.uniform(0.5, 1.5, n), rng.normal(0, 0.02, (n, M))
    args = tuple(torch.tensor(a, dtype=torch.float64) for a in (u, T, z))
    ref = torch.stack([net(*args) for net in nets]).mean(0).detach().numpy()
    np.testing.assert_allclose(_closure_of(u, T, z.T, cl), ref, rtol=1e-12, atol=1e-15)
    # each member alone
    for k, net in enumerate(nets):
        np.testing.assert_allclose(_closure_of(u, T, z.T, cl, (k, k + 1)), net(*args).detach().numpy(),
                                   rtol=1e-12, atol=1e-15)


def test_reduced_solver_conserves_mass_momentum_energy_on_a_periodic_grid():
    cl = _closure(seed=3)
    f0 = _wave()
    V0 = initial_moments(f0, cl)
    V0[:, 3:] *= 1.0 + 0.01 * np.sin(2 * np.pi * GRID.x)  # away from equilibrium
    out, status, t_end, steps = bgk_moments.solve_moments(V0, cl, GRID.dx, [0.05, 2.0], [0.0, 0.02, 0.05])
    assert list(status) == [0, 0] and np.all(steps > 10)
    totals = out[:, :, :3].sum(axis=-1) * GRID.dx  # (batch, t, rho/m/E)
    scale = totals[:, :1, 0:1]
    assert np.max(np.abs(totals - totals[:, :1]) / scale) <= 1e-12
    assert np.max(np.abs(out[:, -1, 0] - out[:, 0, 0])) > 1e-4  # the state did move


def test_a_blow_up_is_a_status_not_an_exception():
    cl = _closure(seed=4, scale=1e6)  # absurd fluxes
    V0 = initial_moments(_wave(), cl)
    V0[:, 3:] *= 1.0 + 0.2 * np.sin(2 * np.pi * GRID.x)
    out, status, t_end, _ = bgk_moments.solve_moments(V0, cl, GRID.dx, 1.0, [0.0, 0.05], c_max=1.0)
    assert np.all(status > 0) and np.all(t_end < 0.05)
    assert bgk_moments.STATUS[status[0]] != "ok"
    assert np.isnan(out[:, -1]).all()


def test_training_resumes_exactly_from_a_chunk_state():
    torch.manual_seed(0)
    x = torch.randn(256, 2, dtype=torch.float64)
    z = torch.randn(256, M, dtype=torch.float64) * 0.1
    y = torch.cat([x.sum(1, keepdim=True) * z[:, :1], z], 1)

    def fresh():
        torch.manual_seed(1)
        net = lc.ClosureNet(M, [6], "tanh").double()
        net.set_scales(torch.cat([x, z], 1), z, y)
        return net

    def run(net, steps, resume=None, states=None):
        loss = lambda idx: lc.closure_loss(net, x[idx, 0], x[idx, 1], z[idx], y[idx]).mean()  # noqa: E731
        val = lambda: float(lc.closure_loss(net, x[:, 0], x[:, 1], z, y).mean())  # noqa: E731
        return lc.train(net, loss, 256, val, steps=steps, batch_size=32, lr=1e-2, lr_final=1e-3,
                        generator=torch.Generator().manual_seed(5), record_every=10, resume=resume,
                        on_chunk=None if states is None else states.append)

    full = fresh()
    tr_full, va_full = run(full, 40)
    states = []
    part = fresh()
    run(part, 40, states=states)
    resumed = fresh()
    tr_res, va_res = run(resumed, 40, resume=states[1])  # continue from step 20
    np.testing.assert_array_equal(lc.flat_parameters(resumed), lc.flat_parameters(full))
    np.testing.assert_array_equal(tr_res, tr_full)
    assert va_full[-1] < va_full[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_closure_trains_and_exports_on_cuda():
    weights, nets = _networks(seed=5)
    net = nets[0].cuda()
    z = torch.randn(64, M, dtype=torch.float64, device="cuda") * 0.01
    u, T = torch.zeros(64, dtype=torch.float64, device="cuda"), torch.ones(64, dtype=torch.float64, device="cuda")
    y = torch.cat([z.sum(1, keepdim=True), z], 1)
    lc.train(net, lambda idx: lc.closure_loss(net, u[idx], T[idx], z[idx], y[idx]).mean(), 64,
             lambda: float(lc.closure_loss(net, u, T, z, y).mean()), steps=5, batch_size=16, lr=1e-3,
             lr_final=1e-4, generator=torch.Generator().manual_seed(0), record_every=5)
    arrays = lc.export_arrays(weights, [net], GRID.v)
    assert arrays["params"].shape[0] == 1 and np.all(np.isfinite(arrays["params"]))


def _solver_face_fluxes(cl, prims):
    """Conserved states and fluxes ``(n, 3 + M)`` that the solver's face code (``_side``) gives for primitive
    states ``prims`` ``(3 + M, n)`` = (rho, u, T, z)."""
    n = prims.shape[1]
    wk = _work(3 + M, n // 2, cl.sizes)  # room for 2 (n/2 + 1) face states
    wk.Q[:, :n] = prims
    g = np.empty(GRID.n_v)
    for c in range(n):
        equilibrium_moments(prims[0, c], prims[1, c], prims[2, c], cl, g, wk.EQ[c, :M], wk.EQ[c, M:])
    closure_cells(wk.Q[1], wk.Q[2], wk.Q[3:], cl, np.array([0, 2]), wk.xin, wk.zs, wk.buf, wk.y)
    V, F = np.empty((n, 3 + M)), np.empty((n, 3 + M))
    for c in range(n):
        _side(wk, c, 3.0, V[c], F[c])
    return V, F


def _random_prims(n, rng, z_scale=0.02):
    return np.concatenate([[rng.uniform(0.5, 1.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(0.6, 1.6, n)],
                           rng.normal(0.0, z_scale, (M, n))])


def test_the_eigenvalue_analysis_differentiates_the_solvers_flux():
    weights, nets = _networks()
    V, F = _solver_face_fluxes(_closure(), _random_prims(6, np.random.default_rng(4)))
    model = lc.MomentModel.from_networks(weights, nets, GRID.v, GRID.dv)
    for c in range(V.shape[0]):
        got = lc.moment_flux(torch.as_tensor(V[c]), model).detach().numpy()
        np.testing.assert_allclose(got, F[c], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("boundary", ["periodic", "outflow"])
def test_the_torch_rollout_is_the_numba_reduced_solver(boundary):
    """Same scheme, same time steps: the differentiable torch solve equals the numba one to round-off."""
    weights, nets = _networks(seed=5, scale=3.0)
    cl = _closure(seed=5, scale=3.0)
    V0 = initial_moments(_wave(np.random.default_rng(8)), cl)
    V0[:, 3:] *= 1.0 + 0.05 * np.sin(2 * np.pi * GRID.x)  # away from equilibrium
    kn, t = np.array([0.01, 3.0]), np.array([0.01, 0.02, 0.04])
    want, status, _, steps = bgk_moments.solve_moments(V0, cl, GRID.dx, kn, t, cfl=0.4, c_max=3.0,
                                                       boundary=boundary)
    assert list(status) == [0, 0] and np.all(steps > 10)
    model = lc.MomentModel.from_networks(weights, nets, GRID.v, GRID.dv)
    with torch.no_grad():
        got = lc.rollout(model, lc.Grid(GRID.dx, boundary, 0.4, 3.0), torch.as_tensor(V0), kn, t).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * np.abs(want).max())
    assert np.abs(want[:, -1] - V0).max() > 1e-3  # the state did move


def test_the_torch_rollout_differentiates_through_the_networks():
    """Autograd's derivative of a one-step solve along a random direction of the networks' parameters equals
    the central difference (one step: the time step, not differentiated, is the save time itself)."""
    weights, nets = _networks(seed=6, scale=3.0)
    cl = _closure(seed=6, scale=3.0)
    V0 = torch.as_tensor(initial_moments(_wave(), cl)) * torch.tensor([1.0] * 3 + [1.02] * M)[:, None]
    model = lc.MomentModel.from_networks(weights, nets, GRID.v, GRID.dv)
    params = [p for n in nets for p in n.parameters()]
    direction = [torch.randn(p.shape, generator=torch.Generator().manual_seed(k), dtype=p.dtype)
                 for k, p in enumerate(params)]

    def loss():
        out = lc.rollout(model, lc.Grid(GRID.dx), V0, [0.5, 5.0], [2e-3])  # one step (dt of the CFL: 4e-3)
        return (out[:, -1] - V0).pow(2).sum()

    loss().backward()
    autograd = sum((p.grad * d).sum() for p, d in zip(params, direction)).item()
    eps, values = 1e-6, []
    with torch.no_grad():
        for sign in (1.0, -1.0):
            for p, d in zip(params, direction):
                p.add_(sign * eps * d)
            values.append(loss().item())
            for p, d in zip(params, direction):
                p.sub_(sign * eps * d)
    central = (values[0] - values[1]) / (2 * eps)
    assert abs(autograd) > 1e-6
    assert abs(autograd - central) <= 1e-7 * abs(autograd)


def test_without_closure_the_characteristic_speeds_are_eulers():
    """q = 0 and G = G_M(U) do not depend on W: the speeds are u and u ± sqrt(3 T), and M zeros."""
    weights, nets = _networks(scale=0.0)
    prims = _random_prims(5, np.random.default_rng(5))
    V, _ = _solver_face_fluxes(_closure(scale=0.0), prims)
    lam = lc.flux_eigenvalues(V, weights, nets, GRID.v, GRID.dv).numpy()
    assert np.abs(lam.imag).max() < 1e-9
    u, T = prims[1], prims[2]
    for c in range(V.shape[0]):
        euler = [u[c] - np.sqrt(3.0 * T[c]), u[c], u[c] + np.sqrt(3.0 * T[c])]
        np.testing.assert_allclose(np.sort(lam[c].real), np.sort(euler + [0.0] * M), atol=1e-9)


def test_a_closure_that_couples_heat_flux_and_moments_moves_the_speeds():
    weights, nets = _networks(scale=3.0)
    V, _ = _solver_face_fluxes(_closure(scale=3.0), _random_prims(5, np.random.default_rng(6), z_scale=0.05))
    lam = lc.flux_eigenvalues(V, weights, nets, GRID.v, GRID.dv).numpy()
    u = V[:, 1] / V[:, 0]
    sqrt_3T = np.sqrt(3.0 * (2.0 * V[:, 2] / V[:, 0] - u * u))
    assert np.all(np.abs(np.abs(lam.real - u[:, None]).max(axis=1) - sqrt_3T) > 1e-3)
