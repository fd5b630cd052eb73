"""Verification of the BGK numerics against exact and analytic answers (brief bgk.md §7, T1-T10)."""

import math

import numpy as np
import pytest

from solvers.bgk import PhaseGrid, initial, maxwellian as mx, solve
from solvers.bgk.continuum import solve_continuum
from solvers.bgk.errors import TOO_COARSE, TOO_NARROW, NonPositiveState, VelocityGridError
from solvers.bgk.free_streaming import riemann_moments, sine_moments
from solvers.bgk.riemann import sample, wave_speeds
from solvers.bgk.vexp import exp_neg


def rel_l1(a, b):
    return np.abs(a - b).sum() / np.abs(b).sum()


def rel_l2(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def bimodal(grid):
    """½M[1,-1.5,0.5] + ½M[1,1.5,0.5] in every cell: rho = 1, u = 0, T = 2.75, c4 = 12.5625."""
    n = grid.n_x
    return 0.5 * (mx.maxwellian(np.ones(n), np.full(n, -1.5), np.full(n, 0.5), grid.v)
                  + mx.maxwellian(np.ones(n), np.full(n, 1.5), np.full(n, 0.5), grid.v))


# |v| <= 14 holds M[1, 0, 2.75] to 8 sqrt(T) (|v| <= 10 would cut its c4 by 2e-5)
HOMOGENEOUS = PhaseGrid(0.0, 1.0, 4, 14.0, 140)
C4_M = mx.central_moment(mx.maxwellian(1.0, 0.0, 2.75, HOMOGENEOUS.v), HOMOGENEOUS.v, HOMOGENEOUS.dv, 4)[0]


def c4_after(kn, t, **kw):
    s = solve(bimodal(HOMOGENEOUS), HOMOGENEOUS, kn, [0.0, t], save_distribution=True, **kw)
    c4 = mx.central_moment(s.f[0], HOMOGENEOUS.v, HOMOGENEOUS.dv, 4)
    return c4[:, 0], s


# T1 -------------------------------------------------------------------------------------------


def test_homogeneous_relaxation_exact():
    assert C4_M == pytest.approx(22.6875, rel=1e-13)
    c4, s = c4_after(1e-3, 3e-3)
    assert c4[0] == pytest.approx(12.5625, abs=1e-10)
    assert c4[1] == pytest.approx(C4_M - (C4_M - 12.5625) * math.exp(-3.0), rel=1e-13)
    assert round(c4[1], 5) == 22.18341  # = 22.6875 - 10.125 e^-3 (see the next test for the brief's 22.18339)
    assert s.T[0, 1] == pytest.approx(2.75, rel=1e-12)
    c4_inf, _ = c4_after(1e-3, 0.1)
    assert c4_inf[1] == pytest.approx(C4_M, rel=1e-13)


def test_homogeneous_relaxation_brief_grid():
    """On the brief's grid (|v| <= 10, 100 points) the cut tails lower c4(M) by 2e-5: c4(3 tau) = 22.18339."""
    grid = PhaseGrid(0.0, 1.0, 4, 10.0, 100)
    s = solve(bimodal(grid), grid, 1e-3, [3e-3], save_distribution=True)
    c4 = mx.central_moment(s.f[0, 0], grid.v, grid.dv, 4)[0]
    assert round(c4, 5) == 22.18339
    assert abs(s.energy[0, 0] - 1.375) < 1e-13  # the corrected discrete Maxwellian still conserves


@pytest.mark.parametrize("frequency, omega", [("rho", 0.81), ("vhs", 0.5)])
def test_homogeneous_relaxation_frequency_options(frequency, omega):
    """rho = 1, T = 2.75: tau = kn (rho) and kn / 2.75^(1-omega) (vhs)."""
    kn = 1e-3
    tau = kn if frequency == "rho" else kn / 2.75 ** (1 - omega)
    c4, _ = c4_after(kn, 2e-3, frequency=frequency, omega=omega)
    assert c4[1] == pytest.approx(C4_M - (C4_M - 12.5625) * math.exp(-2e-3 / tau), rel=1e-13)


def test_imex_first_order_values_and_monotone_entropy():
    values, errors = [], []
    exact = C4_M - (C4_M - 12.5625) * math.exp(-3.0)
    for n in (3, 30, 300):
        dt = 3e-3 / n
        grid = HOMOGENEOUS
        s = solve(bimodal(grid), grid, 1e-3, dt * np.arange(n + 1), relaxation="imex", transport="upwind",
                  cfl=1.0, dt_max=dt, save_distribution=True)
        c4 = mx.central_moment(s.f[0, -1], grid.v, grid.dv, 4)[0]
        assert c4 == pytest.approx(C4_M - (C4_M - 12.5625) * (1 + 3 / n) ** (-n), rel=1e-13)
        assert np.all(np.diff(s.H[0]) < 0)
        values.append(c4)
        errors.append(abs(c4 - exact))
    # brief (|v| <= 10 grid, c4(M) 2e-5 lower): 21.4219, 22.1072, 22.1758
    assert np.max(np.abs(np.array(values) - [21.4219, 22.1072, 22.1758])) < 8e-5
    orders = np.log10(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 0.9) and np.all(orders < 1.1)


# T2 / T3 / T4 -----------------------------------------------------------------------------------


def wave_grid(n_x=100, dim=1, n_v=80):
    return PhaseGrid(0.0, 1.0, n_x, 10.0, n_v, dim=dim)


def brief_wave(grid):
    return initial.wave(grid, rho=[(1, 0.2, 0.0)], u=[(1, 0.2, 1.0)], T=[(1, 0.2, 2.0)])


@pytest.mark.parametrize("transport, tol", [("upwind", 1e-14), ("muscl", 1e-12)])
def test_entropy_non_increasing(transport, tol):
    grid = wave_grid()
    rng = np.random.default_rng(3)
    f0 = np.stack([initial.random_wave(rng, grid), initial.sod(PhaseGrid(0, 1, 100, 10.0, 80))])
    s = solve(f0, grid, [1e-1, 1e-2], np.linspace(0, 0.05, 26), transport=transport)
    dH = np.diff(s.H, axis=1)
    assert np.all(dH <= tol * np.abs(s.H[:, 1:]))
    assert np.all(s.H[:, -1] < s.H[:, 0] - 1e-6)  # it does decrease


@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("relaxation", ["exact", "imex"])
def test_conservation_periodic(dim, relaxation):
    grid = wave_grid(dim=dim)
    rng = np.random.default_rng(7)
    f0 = np.stack([initial.random_wave(rng, grid) for _ in range(2)] + [brief_wave(grid)])
    kn = [1e-3, 1.0, 1e-2]
    s = solve(f0, grid, kn, [0.0, 0.05, 0.1], relaxation=relaxation, frequency="vhs" if dim == 3 else "constant")
    for total in (s.mass, s.momentum, s.energy):
        assert np.max(np.abs(total - total[:, :1])) <= 1e-13
    assert np.max(np.abs(s.rho[:, -1] - s.rho[:, 0])) > 1e-3  # the flow moved


@pytest.mark.parametrize("dim", [1, 3])
def test_global_maxwellian_is_steady(dim):
    grid = PhaseGrid(0.0, 1.0, 50, 10.0, 100, dim=dim)
    f0 = initial.local_maxwellian(1.0, 0.3, 1.0, grid)
    s = solve(f0, grid, 1e-2, [0.0, 0.05], save_distribution=True)
    assert np.max(np.abs(s.f[0, -1] - f0)) <= 1e-14


# T5 / T10 -----------------------------------------------------------------------------------


def test_free_streaming_sine_closed_form():
    grid = PhaseGrid(0.0, 1.0, 200, 10.0, 100)
    t = np.array([0.0, 0.05, 0.1, 0.2])
    s = solve(initial.free_stream_sine(grid, 0.2, 1.0), grid, np.inf, t)
    for k, tk in enumerate(t):
        rho, m, E = sine_moments(grid.x, tk, 0.2, 1.0, dx=grid.dx)
        assert np.max(np.abs(s.rho[0, k] - rho)) < 1e-4
        assert np.max(np.abs(s.m[0, k] - m)) < 1e-4
        assert np.max(np.abs(s.E[0, k] - E)) < 1e-4


def test_free_streaming_closed_form_matches_characteristics():
    """The closed forms against a quadrature of f0(x - v t, v) on a fine velocity grid."""
    v, dv = mx.velocity_grid(12.0, 4000)
    x = np.linspace(0.05, 0.95, 7)
    t = 0.1
    f = (1 + 0.3 * np.sin(2 * np.pi * (x[:, None] - v * t))) * np.exp(-v**2 / 3.0) / np.sqrt(3.0 * np.pi)
    rho, m, E = sine_moments(x, t, 0.3, 1.5)
    np.testing.assert_allclose(f.sum(1) * dv, rho, atol=1e-13)
    np.testing.assert_allclose((f * v).sum(1) * dv, m, atol=1e-13)
    np.testing.assert_allclose((f * v**2 / 2).sum(1) * dv, E, atol=1e-13)
    left, right = (1.0, 1.0), (0.125, 0.8)
    xs = x[:, None] - v * t
    fr = np.where(xs < 0.5, np.exp(-v**2 / 2) / np.sqrt(2 * np.pi),
                  0.125 * np.exp(-v**2 / 1.6) / np.sqrt(1.6 * np.pi))
    for dim in (1, 3):
        rho, m, E = riemann_moments(x, t, 0.5, left, right, dim=dim)
        T = np.where(xs < 0.5, 1.0, 0.8)
        e = (fr * (v**2 / 2 + (T if dim == 3 else 0.0))).sum(1) * dv
        np.testing.assert_allclose(fr.sum(1) * dv, rho, atol=2e-4)  # the kink at x - vt = x0: midpoint rule
        np.testing.assert_allclose((fr * v).sum(1) * dv, m, atol=2e-4)
        np.testing.assert_allclose(e, E, atol=2e-4)


@pytest.mark.parametrize("dim", [1, 3])
def test_free_streaming_riemann_erfc(dim):
    errors = []
    # x and v refined together: at fixed n_v the discrete velocities leave steps of width dv t in x
    for n_x, n_v in ((100, 50), (200, 100), (400, 200)):
        grid = PhaseGrid(0.0, 1.0, n_x, 10.0, n_v, dim=dim, boundary="outflow")
        f0 = initial.riemann(grid, (1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 0.5)
        s = solve(f0, grid, np.inf, [0.1])
        rho, m, E = riemann_moments(grid.x, 0.1, 0.5, (1.0, 1.0), (0.125, 0.8), dim=dim)
        errors.append([np.max(np.abs(s.rho[0, 0] - rho)), rel_l1(s.rho[0, 0], rho), rel_l1(s.m[0, 0], m),
                       rel_l1(s.E[0, 0], E)])
    errors = np.array(errors)
    assert errors[-1, 0] < 1.5e-2  # brief: 7e-3 at N_x = 400 (max norm, smearing of the initial jump)
    assert np.all(errors[-1, 1:] < 1e-2)
    assert np.all(errors[:-1, 1:] > errors[1:, 1:])


@pytest.mark.parametrize("limiter, min_order", [("van_leer", 1.8), ("minmod", 1.6)])
def test_second_order_convergence_free_streaming(limiter, min_order):
    errors = []
    for n_x in (25, 50, 100):
        grid = PhaseGrid(0.0, 1.0, n_x, 8.0, 48)
        s = solve(initial.free_stream_sine(grid, 0.2, 1.0), grid, np.inf, [0.1], limiter=limiter)
        rho, _, _ = sine_moments(grid.x, 0.1, 0.2, 1.0, dx=grid.dx)
        errors.append(np.abs(s.rho[0, 0] - rho).mean())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > min_order), orders


def test_limiters_match_their_definitions():
    from solvers.bgk.transport import minmod, van_leer

    values = np.concatenate([np.random.default_rng(1).normal(size=200), [0.0, -0.0, 1.0, -1.0, 3.0]])
    for a in values:
        for b in values[::7]:
            smaller = a if abs(a) < abs(b) else b
            assert minmod(a, b) == (smaller if a * b > 0 else 0.0)
            assert minmod(a, b) == minmod(b, a) == -minmod(-a, -b)
            assert van_leer(a, b) == (2 * a * b / (a + b) if a * b > 0 else 0.0)
            assert van_leer(a, b) == van_leer(b, a) == -van_leer(-a, -b)


def test_sweep_split_does_not_change_the_result():
    """Cells are independent within a sweep, so the grid may be split into any blocks: one run alone
    (12 sweeps of 17 cells) and the same run in a batch of 64 (whole-run sweeps, chunks of 32 cells)
    give the same bits; an odd velocity grid has v = 0 at its middle point."""
    grid = PhaseGrid(0.0, 1.0, 203, 12.0, 41, boundary="outflow")
    f0 = initial.riemann(grid, (1.0, 0.3, 1.0), (0.25, -0.2, 0.6))
    one = solve(f0, grid, 0.01, [0.05], save_distribution=True)
    batch = solve(np.stack([f0] * 64), grid, np.full(64, 0.01), [0.05], save_distribution=True)
    for b in (0, 37, 63):
        assert np.array_equal(batch.f[b], one.f[0])


# T6 / T7 ------------------------------------------------------------------------------------------


def test_exact_riemann_solver_values():
    w = wave_speeds((1, 0, 1), (0.125, 0, 0.1), 1.4)
    assert [round(w[k], 5) for k in ("p", "u", "rho_l", "rho_r", "right_head")] == \
        [0.30313, 0.92745, 0.42632, 0.26557, 1.75216]
    w = wave_speeds((1, 0, 1), (0.125, 0, 0.1), 3.0)
    assert [round(w[k], 5) for k in ("p", "u", "rho_l", "rho_r", "left_head", "left_tail", "right_head")] == \
        [0.27291, 0.60857, 0.64864, 0.17070, -1.73205, -0.51492, 2.27300]
    assert w["p"] / w["rho_l"] == pytest.approx(0.42074, abs=1e-5)
    assert w["p"] / w["rho_r"] == pytest.approx(1.59873, abs=1e-5)
    w = wave_speeds((1, 0, 1), (0.125, 0, 0.1), 5 / 3)
    assert [round(w[k], 5) for k in ("p", "u")] == [0.29395, 0.84119]
    rho, u, p = sample((1, 0, 1), (0.125, 0, 0.1), 3.0, np.array([-0.51492 - 1e-9, 0.0, 2.2729]))
    np.testing.assert_allclose(rho, [0.64864, 0.64864, 0.17070], atol=1e-5)  # fan tail continuous


@pytest.mark.parametrize("dim", [1, 3])
def test_euler_limit_sod(dim):
    gam = mx.gamma(dim)
    errors = []
    for n_x in (100, 200, 400):
        grid = PhaseGrid(0.0, 1.0, n_x, 10.0, 100, dim=dim, boundary="outflow")
        s = solve(initial.sod(grid, 0.5), grid, 1e-5, [0.1])
        rho, u, p = sample((1, 0, 1), (0.125, 0, 0.1), gam, (grid.x - 0.5) / 0.1)
        errors.append([rel_l1(s.rho[0, 0], rho), rel_l1(s.m[0, 0], rho * u), rel_l1(s.p[0, 0], p)])
    errors = np.array(errors)
    assert np.all(errors[:-1] > errors[1:])
    assert np.all(errors[-1] < [1.5e-2, 5e-2, 1.5e-2])  # brief, eps = 1e-5, N_x = 400: 1.2e-2, 4.2e-2 (u), 1.0e-2


def test_navier_stokes_closer_than_euler_at_kn_1e_2():
    grid = PhaseGrid(0.0, 1.0, 200, 10.0, 100)
    s = solve(brief_wave(grid), grid, 1e-2, [0.0, 0.1])
    r0, m0, E0 = s.rho[0, 0], s.m[0, 0], s.E[0, 0]
    errs = {}
    for model in ("euler", "navier_stokes"):
        r, m, E = solve_continuum(r0, m0, E0, grid.dx, [0.1], kn=1e-2, model=model)
        T = mx.primitives(r[-1], m[-1], E[-1])[1]
        errs[model] = [rel_l2(r[-1], s.rho[0, 1]), rel_l2(m[-1], s.m[0, 1]), rel_l2(T, s.T[0, 1])]
    euler, ns = np.array(errs["euler"]), np.array(errs["navier_stokes"])
    np.testing.assert_allclose(euler, [9.0e-4, 3.0e-2, 6.7e-3], rtol=0.15)  # brief §5
    np.testing.assert_allclose(ns, [2.2e-4, 4.1e-3, 6.6e-4], rtol=0.15)
    assert np.all(ns < 0.3 * euler)


# T8 / T9 / batch -------------------------------------------------------------------------------


def test_galilean_shift():
    """u0 + c with c = k dv and c t = 2 dx: U(x, t; u0 + c) = U(x - c t, t; u0) with m shifted by c rho."""
    base = PhaseGrid(0.0, 1.0, 100, 8.0, 80)
    k = 1
    c = k * base.dv
    moved = PhaseGrid(0.0, 1.0, 100, 8.0 + c, 80 + 2 * k)
    modes = dict(rho=[(1, 0.2, 0.0)], u=[(1, 0.2, 1.0)], T=[(1, 0.2, 2.0)])
    for kn in (1e-3, 1.0):
        s0 = solve(initial.wave(base, **modes), base, kn, [0.1])
        s1 = solve(initial.wave(moved, u0=c, **modes), moved, kn, [0.1])
        shift = round(c * 0.1 / base.dx)
        assert shift * base.dx == pytest.approx(c * 0.1)
        rho0 = np.roll(s0.rho[0, 0], shift)
        assert rel_l2(s1.rho[0, 0], rho0) < 2e-3
        assert rel_l2(s1.m[0, 0] - c * s1.rho[0, 0], np.roll(s0.m[0, 0], shift)) < 2e-2
        assert rel_l2(s1.T[0, 0], np.roll(s0.T[0, 0], shift)) < 2e-3


@pytest.mark.parametrize("dim", [1, 3])
def test_reflection_symmetry(dim):
    grid = PhaseGrid(-1.0, 1.0, 80, 10.0, 80, dim=dim, boundary="outflow")
    f0 = initial.riemann(grid, (1.0, 0.3, 1.0), (0.25, -0.1, 0.2), x0=0.13)
    mirrored = f0[:, ::-1, ::-1].copy()
    s = solve(np.stack([f0, mirrored]), grid, [1e-2, 1e-2], [0.05, 0.1], save_distribution=True)
    np.testing.assert_allclose(s.f[1][:, :, ::-1, ::-1], s.f[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.m[1][:, ::-1], -s.m[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.rho[1][:, ::-1], s.rho[0], rtol=0, atol=1e-13)


@pytest.mark.parametrize("relaxation", ["exact", "imex"])
def test_batch_equals_single_runs_bitwise(relaxation):
    grid = PhaseGrid(0.0, 1.0, 60, 12.0, 64, dim=3)
    rng = np.random.default_rng(11)
    f0 = np.stack([initial.random_mix(rng, grid) for _ in range(3)])
    kn = [1e-3, 0.1, np.inf]
    t = [0.0, 0.02, 0.05]
    batch = solve(f0, grid, kn, t, relaxation=relaxation, save_distribution=True, limiter="van_leer")
    for b in range(3):
        one = solve(f0[b], grid, kn[b], t, relaxation=relaxation, save_distribution=True, limiter="van_leer")
        for name in ("rho", "m", "E", "q", "H", "f"):
            assert np.array_equal(getattr(batch, name)[b], getattr(one, name)[0]), name


# helpers, options and errors --------------------------------------------------------------------


def test_vectorizable_exp_accuracy():
    x = -np.concatenate([np.linspace(0, 700, 100001), np.random.default_rng(0).uniform(0, 5, 10000)])
    got = np.array([exp_neg(a) for a in x[::7]])
    ref = np.exp(x[::7])
    assert np.max(np.abs(got - ref) / ref) < 5e-16
    assert exp_neg(-800.0) == 0.0 and exp_neg(0.0) == 1.0


def test_heat_flux_and_moments_of_two_maxwellian():
    """Heat flux output equals ½∫(v-u)³f; a symmetric two-Maxwellian has q = 0 and the moments of M."""
    grid = PhaseGrid(0.0, 1.0, 20, 12.0, 120)
    f0 = initial.two_maxwellian(grid, 1.2, 0.4, 0.9, 0.7, 0.4)
    rho, m, E = mx.moments(f0, grid.v, grid.dv)
    np.testing.assert_allclose(rho, 1.2, rtol=1e-13)
    np.testing.assert_allclose(m / rho, 0.4, rtol=1e-13)
    np.testing.assert_allclose(mx.primitives(rho, m, E)[1], 0.9, rtol=1e-13)
    s = solve(f0, grid, 1.0, [0.0])
    np.testing.assert_allclose(s.q[0, 0], mx.heat_flux(f0, grid.v, grid.dv), atol=1e-14)
    np.testing.assert_allclose(s.q[0, 0], 0.0, atol=1e-13)
    skewed = 0.5 * (mx.maxwellian(np.ones(20), -0.5, 0.5, grid.v) + mx.maxwellian(np.ones(20), 1.0, 1.5, grid.v))
    c3 = mx.central_moment(skewed, grid.v, grid.dv, 3)
    np.testing.assert_allclose(mx.heat_flux(skewed, grid.v, grid.dv), 0.5 * c3, rtol=1e-12)
    assert abs(c3[0]) > 0.1


def test_invalid_arguments_say_what_is_wrong():
    grid = PhaseGrid(0.0, 1.0, 10, 5.0, 20)
    f0 = initial.local_maxwellian(1.0, 0.0, 0.3, grid)
    with pytest.raises(ValueError, match="cfl = 0.8 is outside"):
        solve(f0, grid, 1.0, [0.1], cfl=0.8)
    with pytest.raises(ValueError, match="kn must be >= 0"):
        solve(f0, grid, -1.0, [0.1])
    with pytest.raises(ValueError, match="f0 must have shape"):
        solve(f0[:, :5], grid, 1.0, [0.1])
    with pytest.raises(ValueError, match="nondecreasing"):
        solve(f0, grid, 1.0, [0.1, 0.05])
    with pytest.raises(ValueError, match=r"cell 0 .*exceeds v_max"):
        initial.local_maxwellian(1.0, 0.0, 1.0, grid)
    with pytest.raises(ValueError, match=r"dv = 0.5 exceeds sqrt\(T\)"):
        initial.local_maxwellian(1.0, 0.0, 0.1, grid)
    with pytest.raises(ValueError, match="non-positive rho"):
        initial.local_maxwellian(np.r_[1.0, -1.0, np.ones(8)], 0.0, 0.3, grid)
    with pytest.raises(ValueError, match="limiter"):
        solve(f0, grid, 1.0, [0.1], limiter="superbee")
    with pytest.raises(ValueError, match="velocity dim"):
        PhaseGrid(0.0, 1.0, 10, 5.0, 20, dim=2)
    with pytest.raises(ValueError, match="vacuum"):
        wave_speeds((1, -5, 0.1), (1, 5, 0.1), 3.0)


def test_a_too_narrow_velocity_grid_raises_the_typed_error_with_cell_value_and_bound():
    grid = PhaseGrid(0.0, 1.0, 10, 5.0, 20)
    u = np.zeros(10)
    u[3], u[6] = 1.5, 2.0  # |u| + 7 sqrt(0.3) = 5.33 in cell 3 (the first) and 5.83 in cell 6 (the largest)
    with pytest.raises(VelocityGridError) as info:
        initial.local_maxwellian(1.0, u, 0.3, grid)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.problem, err.quantity, err.cell) == (TOO_NARROW, "|u| + 7 sqrt(T)", 3)
    assert err.x == pytest.approx(0.35)
    assert err.value == pytest.approx(1.5 + 7.0 * math.sqrt(0.3))
    assert err.bound == 5.0
    assert err.needed == pytest.approx(2.0 + 7.0 * math.sqrt(0.3))


def test_a_too_coarse_velocity_grid_counts_the_split_pair_of_a_two_maxwellian():
    """dv = 0.8 resolves M[1, 0, 1] but not its split pair at r T = 0.25 (sqrt = 0.5), in every cell."""
    grid = PhaseGrid(0.0, 1.0, 10, 8.0, 20)
    initial.local_maxwellian(1.0, 0.0, 1.0, grid)
    with pytest.raises(VelocityGridError) as info:
        initial.two_maxwellian(grid, 1.0, 0.0, 1.0, 0.5, 0.25)
    err = info.value
    assert (err.problem, err.quantity, err.cell, err.value) == (TOO_COARSE, "dv", 0, 0.8)
    assert err.bound == pytest.approx(0.5) and err.needed == pytest.approx(0.5)


def test_non_positive_states_name_the_cell_or_the_riemann_side():
    grid = PhaseGrid(0.0, 1.0, 10, 5.0, 20)
    with pytest.raises(NonPositiveState) as info:
        initial.local_maxwellian(np.r_[1.0, -1.0, np.ones(8)], 0.0, 0.3, grid)
    assert (info.value.quantity, info.value.cell, info.value.value, info.value.side) == ("rho", 1, -1.0, None)
    assert info.value.x == pytest.approx(0.15)
    with pytest.raises(NonPositiveState) as info:
        initial.riemann(grid, (1.0, 0.0, 0.3), (0.125, 0.0, 0.0))
    assert (info.value.quantity, info.value.value, info.value.side, info.value.cell) == ("p", 0.0, "right", None)


def test_profiles_are_the_moments_of_the_distribution_they_make():
    grid = PhaseGrid(0.0, 1.0, 16, 12.0, 120)
    prof = initial.random_wave_profiles(np.random.default_rng(3), grid)
    f0 = initial.distribution(prof, grid)
    assert np.array_equal(f0, initial.random_wave(np.random.default_rng(3), grid))
    rho, m, E = mx.moments(f0, grid.v, grid.dv)
    np.testing.assert_allclose(rho, prof.rho, rtol=1e-12)
    np.testing.assert_allclose(m / rho, prof.u, atol=1e-12)
    np.testing.assert_allclose(mx.primitives(rho, m, E)[1], prof.T, rtol=1e-12)
