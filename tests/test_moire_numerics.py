"""Solvers of kind moire_exciton against exact results (brief §6): geometry, free diffusion with decay,
Lifson–Jackson and Keller–Dykhne (cell and resolved), Boltzmann equilibrium of the SG scheme, Barenblatt,
the initial MSD slope, annihilation-only broadening, two populations, the implicit (TR-BDF2) path of the
resolved method against the explicit one and exact solutions, and the lattice Monte Carlo."""

import math

import numpy as np
import pytest
from scipy.special import i0, lambertw, spence

from solvers.moire import cell, continuum, geometry, implicit, kmc, observables, populations, sg

WS2, WSE2 = 0.3153, 0.3282
KT295 = geometry.KB_MEV * 295.0


# --------------------------------------------------------------------------- geometry (§6.10, §2)

@pytest.mark.parametrize("twist, a_m, n_m", [(0.0, 8.02, 1.79), (2.0, 6.05, 3.15), (3.0, 4.88, 4.85),
                                             (60.0, 8.02, 1.79), (58.0, 6.05, 3.15)])
def test_moire_period_and_site_density(twist, a_m, n_m):
    a = geometry.moire_period(WS2, WSE2, twist)
    assert round(a, 2) == a_m
    assert round(geometry.site_density(a) * 1e14 / 1e12, 2) == n_m


def test_potential_is_periodic_on_the_supercell_with_zero_mean_and_the_set_depth():
    a = geometry.moire_period(WS2, WSE2, 1.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-20, 20, (2, 500))
    for phase in (0.0, 17.0, 30.0):
        v = geometry.amplitude(100.0, phase)
        u = geometry.potential(x, y, a, v, phase)
        for dx, dy in ((a, 0.0), (0.5 * a, 0.5 * math.sqrt(3) * a), (0.0, math.sqrt(3) * a)):
            np.testing.assert_allclose(geometry.potential(x + dx, y + dy, a, v, phase), u, atol=1e-9)
        gx, gy, _, _ = geometry.supercell_grid(a, 64)
        grid = geometry.potential(gx[None, :], gy[:, None], a, v, phase)
        assert abs(grid.mean()) < 1e-9
        assert grid.max() - grid.min() == pytest.approx(100.0, rel=2e-3)


@pytest.mark.parametrize("phase, depth_ratio, barrier_ratio", [(0.0, 9.0, 8.0), (30.0, 10.39, 5.20),
                                                              (60.0, 9.0, 1.0)])
def test_depth_and_barrier_per_amplitude(phase, depth_ratio, barrier_ratio):
    assert geometry.depth_per_amplitude(phase) == pytest.approx(depth_ratio, abs=5e-3)
    v = abs(geometry.amplitude(90.0, phase))
    assert geometry.barrier(90.0, phase) / v == pytest.approx(barrier_ratio, abs=0.02)


@pytest.mark.parametrize("twist, factor", [(0.0, 0.84), (2.0, 0.74), (3.0, 0.63)])
def test_feynman_hibbs_factor(twist, factor):
    a = geometry.moire_period(WS2, WSE2, twist)
    assert round(geometry.smoothing_factor(a, 0.6, 295.0), 2) == factor
    assert geometry.effective_density_of_states(0.6, 295.0) * 1e14 == pytest.approx(3.2e12, rel=0.01)


# --------------------------------------------------------------------------- continuum (§6.1, 6.5-6.7, §3.3)

def _radial(d=0.1, tau=np.inf, cells=300, r_max=3.0, **kw):
    grid = continuum.radial_grid(r_max, cells)
    return grid, continuum.Continuum(grid, [d], [tau], **kw)


def _r2(grid, n):
    r, area = grid[0], grid[5]
    w = n[0, 0] * area
    return float((w * r * r).sum() / w.sum()), float(w.sum())


def test_free_diffusion_with_decay_gives_sigma2_slope_2D_and_exponential_population():
    d, tau, s0 = 0.1, 1.0, 0.2
    grid, m = _radial(d, tau)
    r = grid[0]
    n = np.exp(-r ** 2 / (2 * s0 ** 2))[None, None]
    x = np.concatenate([-r[::-1], r])
    t = np.linspace(0.0, 0.5, 6)
    dt = 0.9 * m.stable_dt(1.0)
    s2, pop = [], []
    for k, tk in enumerate(t):
        if k:
            n = m.advance(n, tk - t[k - 1], dt)
        s2.append(observables.gaussian_fit(x, np.concatenate([n[0, 0, ::-1], n[0, 0]]))[1])
        pop.append(_r2(grid, n)[1])
    slope = np.polyfit(t, s2, 1)[0]
    assert slope == pytest.approx(2 * d, rel=5e-3)
    np.testing.assert_allclose(pop, pop[0] * np.exp(-t / tau), rtol=1e-4)


def _barenblatt(r, t, mass, a):
    c = math.sqrt(mass / (8 * math.pi))
    return np.clip(c - r ** 2 / (16 * math.sqrt(a * t)), 0, None) / math.sqrt(a * t), 16 * c * math.sqrt(a * t)


def test_repulsion_only_spreads_as_the_barenblatt_solution():
    d, a_rep = 1.0, 2.0  # flux D a n ∇n, so A = D a / 2
    big_a = d * a_rep / 2
    grid, m = _radial(d, cells=160, r_max=3.2, repulsion_over_kT=a_rep, linear=False)
    r = grid[0]
    t0, t1, mass = 0.05, 0.8, 10.0
    n, r2_0 = _barenblatt(r, t0, mass, big_a)
    n = m.advance(n[None, None], t1 - t0, 0.9 * m.stable_dt(n.max()))
    exact, r2_1 = _barenblatt(r, t1, mass, big_a)
    m2, got_mass = _r2(grid, n)
    assert got_mass == pytest.approx(mass, rel=1e-3)
    assert m2 == pytest.approx(r2_1 / 3, rel=1e-2)  # <r²> = R²/3 ∝ t^{1/2}
    assert r2_1 / r2_0 == pytest.approx(math.sqrt(t1 / t0))
    assert np.abs(n[0, 0] - exact).sum() / exact.sum() < 0.02
    assert np.all(n[0, 0][r > math.sqrt(r2_1) * 1.05] == 0.0)  # compact support


def test_initial_msd_slope_with_repulsion_and_annihilation():
    d, a_rep, gamma, s0, n_p = 0.1, 0.5, 0.3, 0.3, 2.0
    grid, m = _radial(d, cells=400, r_max=3.0, repulsion_over_kT=a_rep, annihilation=gamma)
    r = grid[0]
    n0 = n_p * np.exp(-r ** 2 / (2 * s0 ** 2))[None, None]
    dt = 0.2 * m.stable_dt(n_p)
    times = np.array([0.0, 1, 2, 3, 4]) * 2e-3
    r2 = [_r2(grid, n0)[0]] + [_r2(grid, m.advance(n0, tk, dt))[0] for tk in times[1:]]
    slope = np.polyfit(times, r2, 2)[1]
    exact = 4 * d + d * a_rep * n_p + gamma * n_p * s0 ** 2 / 2
    assert slope == pytest.approx(exact, rel=1e-2)


@pytest.mark.parametrize("u, ratio", [(1.0, 1.1866), (10.0, 1.7508)])
def test_annihilation_only_broadening(u, ratio):
    gamma, s0, n_p, tau = 1.0, 0.2, 1.0, 2.0
    t = -tau * math.log(1 - u / (gamma * n_p * tau)) if u < gamma * n_p * tau else None
    if t is None:
        tau = np.inf
        t = u / (gamma * n_p)
    grid, m = _radial(1.0, tau, cells=400, r_max=2.0, annihilation=gamma, linear=False)
    r = grid[0]
    n0 = n_p * np.exp(-r ** 2 / (2 * s0 ** 2))[None, None]
    r2_0, pop0 = _r2(grid, n0)
    n = m.advance(n0, t, t / 20000)
    r2, pop = _r2(grid, n)
    exact = -spence(1 + u) / math.log1p(u)
    assert exact == pytest.approx(ratio, abs=1e-4)
    assert r2 / r2_0 == pytest.approx(exact, rel=1e-3)
    decay = 1.0 if math.isinf(tau) else math.exp(-t / tau)
    assert pop / pop0 == pytest.approx(decay * math.log1p(u) / u, rel=1e-3)


def test_trap_filling_diffusivity_matches_the_langmuir_table():
    n = [1e10, 1e11, 1e12, 1.79e12, 3e12, 1e13]
    ref = [0.01585, 0.01752, 0.06999, 0.5315, 0.9697, 0.99925]
    kT = geometry.KB_MEV * 295
    got = continuum.diffusivity_ratio(np.array(n) * 1e-8, 120 / kT, 3.2e12 * 1e-8, 1.79e12 * 1e-8)
    np.testing.assert_allclose(got, ref, rtol=2e-4)
    # D(n) = D (dn_f/dn + a n_f): with no traps the mean-field D(1 + a n)
    np.testing.assert_allclose(continuum.diffusivity_ratio([0.0, 2.0], 0.0, 1.0, 0.0, 0.5), [1.0, 2.0])


# --------------------------------------------------------------------------- two populations (§4, §6.8)

@pytest.mark.parametrize("gap, f_k", [(0.0, 0.18), (20.0, 0.092), (50.0, 0.030), (100.0, 0.0043)])
def test_detailed_balance_fraction(gap, f_k):
    k_qk = populations.back_rate(1.0, gap, KT295, 3.0, 0.9 / 0.6)
    assert populations.kk_fraction(1.0, k_qk) == pytest.approx(f_k, rel=0.03)


def test_two_populations_relax_to_detailed_balance_in_continuum_and_resolved():
    k_kq, k_qk = 2.0, 0.5
    lifetimes = [1.5, 4.0]
    t = np.linspace(0, 3.0, 7)
    exact = populations.homogeneous([1.0, 0.0], t, k_kq, k_qk, lifetimes)
    grid = continuum.square_grid(1.0, 1)
    cm = continuum.Continuum(grid, [1.0, 0.5], lifetimes, exchange=populations.exchange_matrix(k_kq, k_qk))
    rm = sg.Resolved(np.zeros((2, 2, 2)), [1.0, 0.5], 1.0, 1.0, 1.0, lifetimes,
                     exchange=populations.exchange_matrix(k_kq, k_qk))
    start = np.array([1.0, 0.0])[:, None, None]
    for m, n in ((cm, start), (rm, start * np.ones((2, 2, 2)))):
        got = [n.mean(axis=(1, 2))]
        for k in range(1, t.size):
            n = m.advance(n, t[k] - t[k - 1], 1e-4)
            got.append(n.mean(axis=(1, 2)))
        np.testing.assert_allclose(got, exact, rtol=2e-4, atol=1e-7)
    # without decay the K-K fraction relaxes to k_QK/(k_KQ + k_QK)
    eq = populations.homogeneous([1.0, 0.0], np.array([20.0]), k_kq, k_qk, [np.inf, np.inf])[0]
    assert eq[0] / eq.sum() == pytest.approx(populations.kk_fraction(k_kq, k_qk), rel=1e-9)


# --------------------------------------------------------------------------- cell problem (§6.2, §6.3, §3.2)

@pytest.mark.parametrize("beta_u0, ratio", [(0.5, 0.88418), (1.0, 0.62386), (2.0, 0.19244)])
def test_cell_problem_lifson_jackson_1d_and_keller_dykhne_square(beta_u0, ratio):
    assert 1 / i0(beta_u0) ** 2 == pytest.approx(ratio, abs=1e-5)
    n = 96
    x = (np.arange(n) + 0.5) / n
    u1 = beta_u0 * np.cos(2 * np.pi * x)
    dxx, dyy = cell.effective_diffusivity(np.tile(u1, (4, 1)), 1.0, 1 / n, 1 / 4)
    assert dxx == pytest.approx(ratio, rel=1e-3)
    assert dyy == pytest.approx(1.0, rel=1e-12)
    sq = u1[None, :] + u1[:, None]
    dxx, dyy = cell.effective_diffusivity(sq, 1.0, 1 / n, 1 / n)
    assert dxx == pytest.approx(ratio, rel=1e-3) and dyy == pytest.approx(dxx, rel=1e-9)


def _moire_cell(depth, phase, points, a=8.0):
    x, y, hx, hy = geometry.supercell_grid(a, points)
    return geometry.potential(x[None, :], y[:, None], a, geometry.amplitude(depth, phase), phase), hx, hy


def test_cell_problem_keller_dykhne_moire_at_30_degrees_and_regression_at_0():
    u, hx, hy = _moire_cell(100.0, 30.0, 48)
    exact = 1 / np.exp(-u / KT295).mean()
    assert exact == pytest.approx(0.66047, abs=1e-5)
    fine = np.array(cell.effective_diffusivity(u, KT295, hx, hy))
    u2, hx2, hy2 = _moire_cell(100.0, 30.0, 24)
    coarse = np.array(cell.effective_diffusivity(u2, KT295, hx2, hy2))
    extrapolated = (4 * fine - coarse) / 3
    np.testing.assert_allclose(extrapolated, 0.66048, atol=3e-5)
    u0, hx0, hy0 = _moire_cell(100.0, 0.0, 48)
    u0c, hx0c, hy0c = _moire_cell(100.0, 0.0, 24)
    d0 = (4 * np.array(cell.effective_diffusivity(u0, KT295, hx0, hy0))
          - np.array(cell.effective_diffusivity(u0c, KT295, hx0c, hy0c))) / 3
    np.testing.assert_allclose(d0, 0.4369, atol=2e-4)
    wiener = 1 / (np.exp(-u0 / KT295).mean() * np.exp(u0 / KT295).mean())
    assert wiener == pytest.approx(0.339, abs=1e-3) and np.all(d0 > wiener)


# --------------------------------------------------------------------------- resolved SG (§6.3, §6.4)

def _late_slope(model, n, x, t_end, saves, dt, axis):
    t = np.linspace(0, t_end, saves + 1)
    m2 = []
    for k, tk in enumerate(t):
        if k:
            n = model.advance(n, tk - t[k - 1], dt)
        proj = n[0].sum(axis=axis)
        m2.append((proj * x ** 2).sum() / proj.sum())
    half = t >= t_end / 2
    return np.polyfit(t[half], np.array(m2)[half], 1)[0] / 2


def test_resolved_long_run_reproduces_lifson_jackson_in_1d():
    n_per, periods = 24, 40
    h = 1.0 / n_per
    x = (np.arange(n_per * periods) + 0.5) * h - periods / 2
    u = np.tile(np.cos(2 * np.pi * x), (1, 1))[None]
    model = sg.Resolved(u, [1.0], h, 1.0, 1.0, [np.inf])
    n = np.exp(-x ** 2 / 2)[None, None, :]
    d = _late_slope(model, n, x, 20.0, 10, 0.9 * model.stable_dt(1.0), 0)
    assert d == pytest.approx(1 / i0(1.0) ** 2, rel=3e-3)


def test_resolved_long_run_reproduces_keller_dykhne_in_the_moire_potential():
    a, diff, ppp = 8.0, 50.0, 8
    x, y, hx, hy = geometry.supercell_grid(a, ppp, 64, 1)
    u = geometry.potential(x[None, :], y[:, None], a, geometry.amplitude(100.0, 30.0), 30.0)[None]
    model = sg.Resolved(u, [diff], hx, hy, KT295, [np.inf])
    n = np.broadcast_to(np.exp(-x ** 2 / (2 * (2 * a) ** 2)), u.shape[1:])[None].copy()
    d = _late_slope(model, n, x, 20 * a * a / diff, 10, 0.9 * model.stable_dt(1.0), 0) / diff
    uc, hxc, hyc = _moire_cell(100.0, 30.0, ppp, a)
    assert d == pytest.approx(cell.effective_diffusivity(uc, KT295, hxc, hyc)[0], rel=1e-5)  # same grid
    assert d == pytest.approx(0.66048, rel=1e-2)  # the exact value, at 8 points per period


def test_sg_scheme_keeps_the_boltzmann_equilibrium_to_machine_precision():
    u, hx, hy = _moire_cell(100.0, 0.0, 16)
    model = sg.Resolved(u[None], [50.0], hx, hy, KT295, [np.inf])
    n = np.exp(-u / KT295)[None]
    n = n / n.mean()
    out = model.advance(n, 200 * model.stable_dt(1.0), model.stable_dt(n.max()))
    assert np.abs(out - n).max() / n.max() < 1e-13
    # with mean-field repulsion the steady state solves n = C exp(-(U + u0 n)/kT): n = W(a C e^{-U/kT}) / a
    a_rep = 2.0
    rep = sg.Resolved(u[None], [50.0], hx, hy, KT295, [np.inf], repulsion=a_rep * KT295)
    n = np.real(lambertw(a_rep * 3.0 * np.exp(-u / KT295))) / a_rep
    np.testing.assert_allclose(n, 3.0 * np.exp(-u / KT295 - a_rep * n), rtol=1e-12)
    out = rep.advance(n[None], 200 * rep.stable_dt(n.max()), rep.stable_dt(n.max()))
    assert np.abs(out[0] - n).max() / n.max() < 1e-12
    # a non-equilibrium start relaxes towards it and stays non-negative
    start = np.full_like(n, n.mean())[None]
    relaxed = rep.advance(start, 2000 * rep.stable_dt(n.max()), rep.stable_dt(n.max()))
    assert relaxed.min() >= 0 and abs(relaxed.sum() - start.sum()) < 1e-9 * start.sum()


def _bernoulli(x):
    small = np.abs(x) < 1e-6
    return np.where(small, 1.0 - 0.5 * x + x * x / 12.0, x / np.where(small, 1.0, np.expm1(x)))


def _reference_step(m: sg.Resolved, n, dt):
    """One forward-Euler SG step of the module docstring written out with np.roll: n (n_s, n_y, n_x)."""
    ntot = sum(n[s] for s in range(n.shape[0]))
    phi = m.phi + m.a * ntot
    dx, dy = np.roll(phi, -1, axis=2) - phi, np.roll(phi, -1, axis=1) - phi
    cx, cy = m.cx[:, None, None], m.cy[:, None, None]
    xp, xm, yp, ym = cx * _bernoulli(dx), cx * (_bernoulli(dx) + dx), cy * _bernoulli(dy), cy * (_bernoulli(dy) + dy)
    div = (np.roll(xp, 1, axis=2) * np.roll(n, 1, axis=2) - np.roll(xm, 1, axis=2) * n - xp * n
           + xm * np.roll(n, -1, axis=2) + np.roll(yp, 1, axis=1) * np.roll(n, 1, axis=1)
           - np.roll(ym, 1, axis=1) * n - yp * n + ym * np.roll(n, -1, axis=1))
    out = n + dt * (div - (m.decay[:, None, None] + m.gamma * ntot) * n)
    for s, r in zip(*np.nonzero(m.exchange)):
        out[s] += dt * m.exchange[s, r] * n[r]
    return out


@pytest.mark.parametrize("repulsion", [0.0, 0.7])
def test_sg_kernels_equal_the_step_written_out_in_numpy(repulsion):
    """Fused sweeps (static faces), per-step faces (repulsion), serial and threaded: all the plain step."""
    rng = np.random.default_rng(5)
    u = 2.0 * rng.normal(size=(2, 9, 11))
    m = sg.Resolved(u, [1.0, 0.4], 0.8, 1.1, 1.0, [3.0, np.inf], annihilation=0.3, repulsion=repulsion,
                    exchange=populations.exchange_matrix(0.5, 0.2))
    n0 = rng.random(u.shape)
    dt = 0.5 * m.stable_dt(2.0)
    steps = m.fused + 1  # one fused sweep and one single step
    ref = n0
    for _ in range(steps):
        ref = _reference_step(m, ref, dt)
    got = m.advance(n0, steps * dt, dt)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)
    m.threaded = True
    np.testing.assert_array_equal(m.advance(n0, steps * dt, dt), got)
    m.threaded, m.fused = False, 1
    np.testing.assert_array_equal(m.advance(n0, steps * dt, dt), got)


# --------------------------------------------------------------------------- implicit path of resolved

def _march(advance, n, times):
    """n at each of ``times`` (from times[0]) by advance(n, start, duration); shape (len(times), *n.shape)."""
    out = [n]
    for t0, t1 in zip(times[:-1], times[1:]):
        n = advance(n, t0, t1 - t0)
        out.append(n)
    return np.array(out)


def _implicit_at_default(model, a_m, n0):
    dt, relax = implicit.default_steps(model, a_m, float(n0.sum(axis=0).max()))
    return implicit.Implicit(model, dt, 0.9 * model.stable_dt(float(n0.sum(axis=0).max())), relax)


@pytest.mark.parametrize("annihilation", [0.0, 0.5])
def test_implicit_matches_explicit_to_1e_3_at_the_default_step_with_decay_annihilation_and_exchange(annihilation):
    """Two species in the 100 meV moiré potential (K–Q deeper), a spot of σ₀ = 2 a_M, decay, exchange, annihilation:
    TR-BDF2 at its default step within 1e-3 of forward Euler at every saved time, relative to the peak density
    then; it does the work the cost model counts."""
    a, diff = 8.0, 50.0
    x, y, hx, hy = geometry.supercell_grid(a, 12, 8, 5)
    u = np.stack([geometry.potential(x[None, :], y[:, None], a, geometry.amplitude(d, 0.0), 0.0)
                  for d in (100.0, 140.0)])
    model = sg.Resolved(u, [diff, 0.66 * diff], hx, hy, KT295, [500.0, 3000.0], annihilation=annihilation,
                        exchange=populations.exchange_matrix(0.05, 0.01))
    n0 = 0.01 * np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / (2 * 16.0 ** 2)) * np.array([1.0, 0.0])[:, None, None]
    times = np.linspace(0.0, 10.0, 9)
    stepper = _implicit_at_default(model, a, n0)
    default = implicit.ANNIHILATION_ERROR / (annihilation * 0.01) if annihilation else 0.5 * a * a / diff
    assert stepper.dt == pytest.approx(default, rel=1e-3) and stepper.dt > 50 * stepper.explicit_dt
    got = _march(stepper.advance, n0, times)
    ref = _march(lambda n, t0, d: model.advance(n, d, stepper.explicit_dt), n0, times)
    err = np.abs(got - ref).max(axis=(1, 2, 3)) / ref.max(axis=(1, 2, 3))
    assert err.max() <= 1e-3
    assert got.min() >= 0.0
    steps = sum(math.ceil((t1 - max(t0, stepper.relax_time)) / stepper.dt * (1 - 1e-12))
                for t0, t1 in zip(times[:-1], times[1:]))
    assert stepper.factorizations == 2 and stepper.solves == 2 * steps  # what implicit.costs counts


def test_implicit_conserves_mass_to_1e_12_without_decay():
    """No decay, exchange between two species (columns of L sum to zero): Σ n is conserved by TR-BDF2."""
    u, hx, hy = _moire_cell(100.0, 0.0, 16)
    model = sg.Resolved(np.stack([u, 1.3 * u]), [50.0, 30.0], hx, hy, KT295, [np.inf, np.inf],
                        exchange=populations.exchange_matrix(0.3, 0.1))
    n0 = np.random.default_rng(2).random(model.phi.shape)
    out = implicit.Implicit(model, 0.4, 0.9 * model.stable_dt(1.0), 0.0).advance(n0, 0.0, 20.0)
    assert abs(out.sum() / n0.sum() - 1.0) < 1e-12
    assert abs(model.advance(n0, 2.0, 0.9 * model.stable_dt(1.0)).sum() / n0.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("path", ["explicit", "implicit"])
def test_free_gaussian_spreads_as_the_exact_solution_on_a_flat_periodic_grid(path):
    """Flat potential, D = 1, h = 1, σ₀ = 8 on a periodic 192²: n = σ₀²/σ² exp(−r²/2σ²), σ² = σ₀² + 2Dt. ⟨x²⟩
    grows by exactly 2Dt (the discrete Laplacian's second moment, integrated exactly by both schemes); the
    profile matches to the O(h²/σ²) error of the grid."""
    side, s0, d, t_end = 192, 8.0, 1.0, 40.0
    x = np.arange(side) - side / 2 + 0.5
    r2 = x[None, :] ** 2 + x[:, None] ** 2
    model = sg.Resolved(np.zeros((1, side, side)), [d], 1.0, 1.0, 1.0, [np.inf])
    n0 = np.exp(-r2 / (2 * s0 ** 2))[None]
    dt_explicit = 0.9 * model.stable_dt(1.0)
    if path == "explicit":
        out = model.advance(n0, t_end, dt_explicit)
    else:
        stepper = implicit.Implicit(model, 2.0, dt_explicit, 0.0)
        out = _march(stepper.advance, n0, np.linspace(0.0, t_end, 5))[-1]
    s2 = s0 ** 2 + 2 * d * t_end
    exact = s0 ** 2 / s2 * np.exp(-r2 / (2 * s2))
    assert np.abs(out[0] - exact).max() < 1e-3 * exact.max()
    m2 = [(m * x[None, :] ** 2).sum() / m.sum() for m in (n0[0], out[0])]
    assert m2[1] - m2[0] == pytest.approx(2 * d * t_end, rel=1e-9)


def test_implicit_annihilation_with_decay_follows_the_exact_homogeneous_solution():
    """Uniform density, dn/dt = −n/τ − γn²: n = n₀ e^{−t/τ} / (1 + γ n₀ τ (1 − e^{−t/τ})); Strang splitting
    around TR-BDF2 is second order (error down 4x when the step halves)."""
    u, hx, hy = _moire_cell(0.0, 0.0, 8)
    tau, gamma, n_0, t_end = 2.0, 1.5, 1.0, 4.0
    model = sg.Resolved(u[None], [1.0], hx, hy, 1.0, [tau], annihilation=gamma)
    exact = n_0 * math.exp(-t_end / tau) / (1 + gamma * n_0 * tau * (1 - math.exp(-t_end / tau)))
    errors = [abs(implicit.Implicit(model, dt, 1e-3, 0.0).advance(np.full(model.phi.shape, n_0), 0.0, t_end).mean()
                  - exact) / exact for dt in (0.1, 0.05)]
    assert errors[0] < 2e-3
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)


def test_implicit_keeps_the_boltzmann_state_with_repulsion():
    """With repulsion (faces refrozen and refactorized every step) the steady state n = W(a C e^{−U/kT})/a
    of the mean-field SG scheme stays to 1e-12, as in the explicit path."""
    u, hx, hy = _moire_cell(100.0, 0.0, 16)
    a_rep = 2.0
    model = sg.Resolved(u[None], [50.0], hx, hy, KT295, [np.inf], repulsion=a_rep * KT295)
    n = np.real(lambertw(a_rep * 3.0 * np.exp(-u / KT295))) / a_rep
    stepper = implicit.Implicit(model, 0.5, 0.9 * model.stable_dt(n.max()), 0.0)
    out = stepper.advance(n[None], 0.0, 2.0)
    assert np.abs(out[0] - n).max() / n.max() < 1e-12 and stepper.factorizations == 4


# --------------------------------------------------------------------------- lattice Monte Carlo (§6.9)

def _r2_kmc(lat):
    x, y = lat.positions()
    return float(np.mean(x * x + y * y))


def test_kmc_free_walkers_diffuse_with_d_equal_1p5_k_l2():
    k, ell, t = 0.7, 2.0, 30.0
    lat = kmc.Lattice(1024, ell, [k], [np.inf])
    lat.place(np.zeros(20000, dtype=int), np.zeros(20000, dtype=int), np.zeros(20000, dtype=int))
    lat.advance(t, 3)
    assert _r2_kmc(lat) == pytest.approx(4 * 1.5 * k * ell ** 2 * t, rel=0.02)


def test_kmc_exclusion_leaves_the_collective_spreading_unchanged():
    k, t, count, sigma = 1.0, 700.0, 3000, 30.0
    rng = np.random.default_rng(5)
    i, j = kmc.nearest_sites(*rng.normal(0, sigma, (2, count)), 1.0)
    _, first = np.unique(np.stack([i, j]), axis=1, return_index=True)
    i, j = i[first], j[first]
    lat = kmc.Lattice(1024, 1.0, [k], [np.inf], exclusion=True)
    lat.place(i, j, np.zeros(i.size, dtype=int))
    x0, y0 = lat.positions()
    x0, y0 = x0.copy(), y0.copy()
    r2_0 = _r2_kmc(lat)
    lat.advance(t, 11)
    assert lat.occ.max() == 1 and lat.n == i.size
    collective = _r2_kmc(lat) - r2_0
    assert collective == pytest.approx(4 * 1.5 * k * t, rel=0.05)
    x, y = lat.positions()
    tracer = float(np.mean((x - x0) ** 2 + (y - y0) ** 2))
    assert tracer < 0.95 * collective  # only tagged-particle diffusion is slowed by the exclusion


@pytest.mark.parametrize("density", [0.3, 1.0, 2.5])
def test_kmc_trapped_fraction_follows_the_langmuir_isotherm(density):
    size, x_rel = 24, 0.5  # release = capture (N_c/n_M) e^{-E_b/kT} = capture x
    count = int(density * size * size)
    rng = np.random.default_rng(2)
    lat = kmc.Lattice(size, 1.0, [1.0], [np.inf], traps=(1.0, x_rel))
    lat.place(rng.integers(0, size, count), rng.integers(0, size, count), np.zeros(count, dtype=int))
    lat.advance(50.0, 0)
    frac = []
    for s in range(1, 200):
        lat.advance(50.0 + 2.0 * s, s)
        frac.append(lat.trapped_count() / count)
    # per site: n_M = 1, K n_M = 1/x; n_t = K n_f / (1 + K n_f), n = n_f + n_t
    k = 1 / x_rel
    n_f = density * continuum.free_fraction(density, k, 1.0)
    assert np.mean(frac) == pytest.approx(k * n_f / (1 + k * n_f) / density, rel=0.02)


def test_kmc_exchange_relaxes_to_detailed_balance():
    k_kq, k_qk = 1.0, 0.2
    count = 20000
    lat = kmc.Lattice(64, 1.0, [1e-6, 1e-6], [np.inf, np.inf], exchange=[k_kq, k_qk])
    lat.place(np.zeros(count, dtype=int), np.zeros(count, dtype=int), np.zeros(count, dtype=int))
    lat.advance(1.0, 4)
    expect = populations.homogeneous([1.0, 0.0], np.array([1.0]), k_kq, k_qk, [np.inf, np.inf])[0, 0]
    assert np.mean(lat.species() == 0) == pytest.approx(expect, abs=0.015)
    lat.advance(30.0, 5)
    assert np.mean(lat.species() == 0) == pytest.approx(populations.kk_fraction(k_kq, k_qk), abs=0.01)


def test_fast_exchange_spreads_with_the_population_weighted_diffusivity():
    d_k, d_q, k_kq, k_qk = 1.0, 0.2, 200.0, 50.0
    grid = continuum.radial_grid(3.0, 150)
    m = continuum.Continuum(grid, [d_k, d_q], [np.inf, np.inf], exchange=populations.exchange_matrix(k_kq, k_qk))
    f_k = populations.kk_fraction(k_kq, k_qk)
    n = np.exp(-grid[0] ** 2 / (2 * 0.2 ** 2))[None, None] * np.array([f_k, 1 - f_k])[:, None, None]
    dt = 0.9 * m.stable_dt(1.0)
    r2 = []
    for _ in range(3):
        n = m.advance(n, 0.05, dt)
        w = n.sum(axis=0)[0] * grid[5]
        r2.append(float((w * grid[0] ** 2).sum() / w.sum()))
    slope = (r2[2] - r2[0]) / 0.1 / 4  # <r²> = 4 D_eff t
    assert slope == pytest.approx(f_k * d_k + (1 - f_k) * d_q, rel=5e-3)
