"""Learners of function_learning against closed forms and the brief's measured values (learning.md §2-§5)."""

import math

import numpy as np
import pytest
import torch

from engine.kinds.function_learning.analysis import loglog_slope
from learners.function_learning import data as fdata
from learners.function_learning import linear
from learners.function_learning.features import (arccos_kernel, arccos_kernel_cpu, arccos_kernel_torch, sample_features,
                                                 smoothed_relu)
from learners.function_learning.networks import ResNet, TwoLayer, resnet_weights
from learners.function_learning.training import Diverged, train


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def _sphere(n, d, seed):
    return _t(fdata.sample_inputs("sphere", n, d, np.random.default_rng(seed)))


def _rf_kernel(m, d, seed):
    return linear.RandomFeatureKernel(_t(sample_features("sphere", m, d, np.random.default_rng(seed))))


def test_arccos_kernel_matches_monte_carlo_features_and_its_diagonal():
    # §5.13: E_w relu(w.x) relu(w.x') = (sin t + (pi - t) cos t)/(2 pi d); 4e5 features to <= 1e-3; k(x,x) = 1/(2d)
    d = 5
    x = _sphere(30, d, 0)
    exact = arccos_kernel(x, x)
    assert torch.allclose(torch.diagonal(exact), torch.full((30,), 1 / (2 * d), dtype=torch.float64))
    assert float((_rf_kernel(400_000, d, 1)(x, x) - exact).abs().max()) <= 1e-3
    # Gaussian features N(0, I/d) give the same kernel; inputs off the sphere scale by |x||x'|
    xg = _t(fdata.sample_inputs("gaussian", 20, d, np.random.default_rng(2)))
    wg = linear.RandomFeatureKernel(_t(sample_features("gaussian", 400_000, d, np.random.default_rng(3))))
    assert float((wg(xg, xg) - arccos_kernel(xg, xg)).abs().max()) <= 1e-3


def test_empirical_kernel_converges_at_the_monte_carlo_rate():
    d, x = 5, _sphere(40, d := 5, 4)
    exact = arccos_kernel(x, x)
    widths = np.array([100, 400, 1600, 6400])
    err = [np.mean([float(torch.sqrt(torch.mean((_rf_kernel(m, d, s)(x, x) - exact) ** 2))) for s in range(4)])
           for m in widths]
    slope, _ = loglog_slope(widths, np.array(err))
    assert -0.65 <= slope <= -0.35, err


def test_ridge_with_vanishing_lambda_tends_to_the_pseudo_inverse_interpolant():
    # §5.14: m = 800, n = 100, d = 5, relu(x_1): relative distance 0.97, 0.81, 0.19, 3e-3, 3e-5
    x = _sphere(100, 5, 0)
    y = torch.relu(x[:, 0])
    kern = _rf_kernel(800, 5, 1)
    k = kern(x, x)
    a_min = kern.coefficients(x, linear.min_norm(k, y))
    assert float(torch.mean((kern.predict(x, a_min) - y) ** 2)) <= 1e-12
    # the pseudo-inverse: the same a as m Phi^+ y
    a_pinv = kern.min_norm_primal(x, y)
    assert float((a_pinv - a_min).norm() / a_min.norm()) <= 1e-6
    dist = [float((kern.coefficients(x, linear.ridge(k, y, lam)) - a_min).norm() / a_min.norm())
            for lam in (1e-2, 1e-4, 1e-6, 1e-8, 1e-10)]
    assert all(b < a for a, b in zip(dist, dist[1:])), dist
    assert dist[-1] <= 1e-4 and dist[0] > 0.5


def test_gradient_descent_from_zero_tends_to_the_pseudo_inverse_interpolant():
    # GD stays in the row space of Phi: it converges to the min-norm solution (n = 20, m = 800, lr = n/lambda_max)
    x = _sphere(20, 5, 0)
    y = torch.relu(x[:, 0])
    kern = _rf_kernel(800, 5, 1)
    k = kern(x, x)
    a_min = kern.coefficients(x, linear.min_norm(k, y))
    lr = 20 / float(torch.linalg.eigvalsh(k)[-1])
    zero = torch.zeros_like(y)
    dist = []
    for steps in (100, 1000, 10000):
        c, curves = linear.gradient_descent(k, y, k, y, zero, zero, lr, steps, 100)
        dist.append(float((kern.coefficients(x, c) - a_min).norm() / a_min.norm()))
    assert dist[0] > dist[1] > dist[2] and dist[2] <= 2e-3, dist
    assert np.all(np.diff(curves.train) <= 1e-15)


def test_smoothed_relu_closed_form_matches_monte_carlo_smoothing():
    # §5.11: s phi(mu/s) + mu Phi(mu/s) = E relu(mu + s xi) at mu = 0.1, s = 0.258 (the brief's 0.16068 is for
    # s rounded to 0.258; the quadrature gives 0.160563), Monte Carlo with 4e5 samples within 3 standard errors
    from scipy import integrate, stats

    mu, s = 0.1, 0.258
    samples = np.maximum(mu + s * np.random.default_rng(0).standard_normal(400_000), 0.0)
    closed = float(smoothed_relu(torch.tensor([mu], dtype=torch.float64), s))
    exact, _ = integrate.quad(lambda xi: (mu + s * xi) * stats.norm.pdf(xi), -mu / s, np.inf, epsabs=1e-13)
    assert closed == pytest.approx(exact, abs=1e-10)
    assert abs(closed - samples.mean()) <= 3 * samples.std() / math.sqrt(samples.size)
    mus = torch.linspace(-1, 1, 11, dtype=torch.float64)
    assert torch.allclose(smoothed_relu(mus, 1e-12), torch.relu(mus))
    assert torch.allclose(smoothed_relu(mus, 0.0), torch.relu(mus))


def test_smoothed_two_layer_network_is_the_average_over_gaussian_blobs():
    rng = np.random.default_rng(0)
    d, m, h = 3, 4, 0.3
    w, a = sample_features("gaussian", m, d, rng), rng.standard_normal(m)
    x = _t(fdata.sample_inputs("gaussian", 5, d, rng) * 2.0)
    smooth = TwoLayer(w, a, smoothing=h)(x).detach()
    blobs = w[None] + h * rng.standard_normal((20000, m, d))             # particles drawn from N(w_j, h^2 I)
    mc = np.maximum(np.einsum("sjd,nd->snj", blobs, x.numpy()), 0.0) @ a / m
    assert np.all(np.abs(smooth.numpy() - mc.mean(0)) <= 4 * mc.std(0) / math.sqrt(len(mc)))


def test_quadrature_beats_monte_carlo_discretization_in_two_dimensions():
    # §2.4 / §5.10: midpoint error <= 2e-3 at M = 15, ~ M^-2; Monte Carlo ~ M^-1/2 (generic a(t), odd M)
    x = fdata.sample_inputs("sphere", 200, 2, np.random.default_rng(0))
    target = fdata.make_target("feature_integral", 2, np.random.default_rng(1))
    exact = target.f(x)
    widths = np.array([15, 63, 255, 1023])

    def error(w):
        return float(np.sqrt(np.mean((fdata.feature_sum(x, w, target.coefficient(w)) - exact) ** 2)))

    quad = np.array([error(fdata.midpoint_nodes(m)) for m in widths])
    mc = np.array([np.mean([error(sample_features("sphere", m, 2, np.random.default_rng(s))) for s in range(6)])
                   for m in widths])
    assert quad[0] <= 2e-3 and quad[-1] <= 1e-6, quad
    assert -2.4 <= loglog_slope(widths, quad)[0] <= -1.7
    assert -0.8 <= loglog_slope(widths, mc)[0] <= -0.25, mc
    assert np.all(mc > 50 * quad)


def test_mean_field_particle_training_seed_spread_shrinks_with_width():
    # §2.4 / §5.9: the loss spread over seeds shrinks with m (propagation of chaos); dt = 0.5, t = 100
    x = _sphere(500, 5, 0)
    y = torch.relu(x[:, 0])
    stats = []
    for m in (20, 100, 500):
        losses = []
        for seed in range(4):
            rng = np.random.default_rng(100 + seed)
            net = TwoLayer(sample_features("gaussian", m, 5, rng), rng.standard_normal(m))
            losses.append(train(net, x, y, x, y, "particle", 0.5, 200, 200).train[-1])
        stats.append((np.mean(losses), np.std(losses)))
    means, stds = np.array(stats).T
    assert stds[0] > stds[1] > stds[2] and stds[0] > 2.5 * stds[2], stds
    assert np.all(means < 0.01 * 0.05)            # from 0.05 at t = 0
    assert means[1] == pytest.approx(means[2], rel=0.5)


def test_path_norms_are_the_defined_sums_and_products():
    rng = np.random.default_rng(0)
    w, a = rng.standard_normal((6, 3)), rng.standard_normal(6)
    net = TwoLayer(w, a)
    assert float(net.path_norm(1).detach()) == pytest.approx(np.sum(np.abs(a) * np.abs(w).sum(1)) / 6)
    assert float(net.path_norm(2).detach()) == pytest.approx(np.sum(np.abs(a) * np.linalg.norm(w, axis=1)) / 6)
    d, hidden, depth, width = 3, 5, 3, 4
    w0, u0, alpha0 = resnet_weights(d, hidden, depth, width, "gaussian", False, 1.0, 1.0, rng)
    res = ResNet(w0, u0, alpha0)
    prod = np.eye(hidden)
    for layer in range(depth):
        prod = (np.eye(hidden) + 3.0 / (depth * width) * np.abs(u0[layer]) @ np.abs(w0[layer])) @ prod
    v = np.zeros((hidden, d + 1))
    v[: d + 1, : d + 1] = np.eye(d + 1)
    assert float(res.weighted_path_norm(d).detach()) == pytest.approx(np.abs(np.abs(alpha0) @ prod @ v).sum(), rel=1e-12)


def test_resnet_forward_is_the_scaled_euler_flow_and_one_flow_step_is_a_residual_random_feature_map():
    rng = np.random.default_rng(1)
    d, hidden, width = 2, 4, 7
    w0, u0, alpha0 = resnet_weights(d, hidden, 1, width, "sphere", False, 1.0, 1.0, rng)
    x = fdata.sample_inputs("sphere", 9, d, rng)
    z0 = np.concatenate([x, np.ones((9, 1)), np.zeros((9, hidden - d - 1))], axis=1)
    expected = (z0 + np.maximum(z0 @ w0[0].T, 0) @ u0[0].T / width) @ alpha0
    flow = ResNet(w0, u0, alpha0, train_inner=False)
    assert np.allclose(flow(_t(x)).detach().numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shared", [False, True])
def test_flow_random_features_train_only_coefficients_and_resnet_trains_all(shared):
    rng = np.random.default_rng(2)
    d, hidden, depth, width = 3, 4, 3, 8
    x = _t(fdata.sample_inputs("sphere", 64, d, rng))
    y = torch.relu(x[:, 0])
    for train_inner in (False, True):
        if train_inner and shared:
            continue
        w0, u0, alpha0 = resnet_weights(d, hidden, depth, width, "sphere", shared, 0.1, 0.1, rng)
        net = ResNet(w0, u0, alpha0, train_inner=train_inner)
        curves = train(net, x, y, x, y, "adam", 1e-2, 200, 50)
        assert curves.train[-1] < 0.3 * curves.train[0]
        assert np.array_equal(net.w.detach().numpy(), w0) != train_inner
        assert net.n_params() == (depth * hidden * width * (1 + train_inner) + hidden)
        assert net.w.shape[0] == (1 if shared else depth)


def test_divergence_raises_with_the_step():
    x = _sphere(50, 5, 0)
    net = TwoLayer(sample_features("gaussian", 20, 5, np.random.default_rng(0)), np.ones(20))
    with pytest.raises(Diverged) as info:
        train(net, x, torch.relu(x[:, 0]), x, x[:, 0], "particle", 1e4, 100, 10)
    assert 1 <= info.value.step < 100 and info.value.lr == 1e4


def test_written_out_adam_matches_torch_optim_adam():
    from learners.function_learning.training import _adam_step

    start = torch.linspace(-1, 1, 5, dtype=torch.float64)
    a, b = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())

    def objective(p):
        return ((p ** 3).sum() - 1) ** 2

    step = _adam_step([a], lambda: objective(a), 1e-2)
    reference = torch.optim.Adam([b], lr=1e-2)
    for _ in range(50):
        step()
        reference.zero_grad()
        objective(b).backward()
        reference.step()
    assert torch.allclose(a, b, rtol=0, atol=1e-14)


def test_random_feature_gradient_descent_tends_to_kernel_gradient_descent():
    # §2.5 / §5.8: the RF gradient flow in mean-field scaling discretizes the kernel one; the gap after a fixed
    # number of GD steps shrinks like m^-1/2
    x, x_test = _sphere(50, 5, 0), _sphere(200, 5, 1)
    y, y_test = torch.relu(x[:, 0]), torch.relu(x_test[:, 0])
    zero, zero_test = torch.zeros_like(y), torch.zeros_like(y_test)

    def predictions(kernel):
        c, _ = linear.gradient_descent(kernel(x, x), y, kernel(x_test, x), y_test, zero, zero_test, 2.0, 200, 200)
        return kernel(x_test, x) @ c

    exact = predictions(linear.arccos)
    widths = np.array([200, 1600, 12800])
    gaps = [np.mean([float(torch.sqrt(torch.mean((predictions(_rf_kernel(m, 5, s)) - exact) ** 2)))
                     for s in range(3)]) for m in widths]
    assert gaps[0] > gaps[1] > gaps[2], gaps
    assert -0.7 <= loglog_slope(widths, np.array(gaps))[0] <= -0.3, gaps


@pytest.mark.parametrize("kind", ["sphere", "gaussian", "cube"])
def test_input_distributions(kind):
    x = fdata.sample_inputs(kind, 20000, 4, np.random.default_rng(0))
    norms2 = np.sum(x * x, axis=1)
    if kind == "sphere":
        assert np.allclose(norms2, 1.0)
    elif kind == "gaussian":
        assert norms2.mean() == pytest.approx(1.0, abs=0.02) and abs(x.mean()) < 0.01
    else:
        assert x.min() >= 0 and x.max() < 1 and x.mean() == pytest.approx(0.5, abs=0.01)


def test_kernel_sum_target_has_its_rkhs_norm_and_labels_carry_the_noise():
    target = fdata.make_target("kernel_sum", 5, np.random.default_rng(0), width=8)
    x = fdata.sample_inputs("sphere", 1500, 5, np.random.default_rng(1))
    # ||f*||_H^2 = c^T K_zz c; the interpolant of f* on many points has the same norm (kernel min-norm)
    c = linear.min_norm(arccos_kernel(_t(x), _t(x)), _t(target.f(x)))
    assert linear.rkhs_norm(arccos_kernel(_t(x), _t(x)), c) == pytest.approx(target.norms["rkhs_norm"], rel=1e-3)
    y = fdata.labels(target, x, 0.1, np.random.default_rng(2))
    assert np.std(y - target.f(x)) == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("threads", [1, 2])
def test_gram_matrix_by_syrk_and_by_lower_blocks_is_the_full_product(monkeypatch, threads):
    # n not a multiple of the block rows; 5 feature blocks (dealt to 1 or 2 syrk threads);
    # the cross kernel k(y, x) is the plain product
    monkeypatch.setattr(linear, "CHUNK_ELEMENTS", 1100 * 700)
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    x, y = _sphere(1100, 5, 0), _sphere(7, 5, 1)
    kern = _rf_kernel(3000, 5, 2)
    fx, fy = torch.relu(x @ kern.w.T), torch.relu(y @ kern.w.T)
    for gram in (kern(x, x), kern.gram_lower_blocks(x)):
        assert torch.equal(gram, gram.T)
        assert torch.allclose(gram, fx @ fx.T / 3000, rtol=1e-12, atol=1e-15)
    assert torch.allclose(kern(y, x), fy @ fx.T / 3000, rtol=1e-12, atol=1e-15)


def test_random_feature_min_norm_by_mixed_precision_refinement_is_the_float64_solve(monkeypatch):
    # several feature blocks; the float32-preconditioned refinement applies and reaches the float64 solve
    monkeypatch.setattr(linear, "CHUNK_ELEMENTS", 200 * 700)
    x = _sphere(200, 5, 0)
    y = torch.relu(x[:, 0])
    kern = _rf_kernel(3000, 5, 2)
    c64 = linear.min_norm(kern.gram_lower_blocks(x), y)
    assert kern._refined_solve(x, y, 0.0, None) is not None
    c, kc = kern.min_norm(x, y)
    assert torch.allclose(c, c64, rtol=0, atol=1e-9 * float(c64.abs().max()))
    assert torch.allclose(kc, y, rtol=0, atol=1e-12)
    # a repeated point makes K singular: no refinement, the pseudo-inverse of the float64 Gram matrix
    xd, yd = torch.cat([x, x[:3]]), torch.cat([y, y[:3]])
    assert kern._refined_solve(xd, yd, 0.0, None) is None
    c, kc = kern.min_norm(xd, yd)
    kd = kern(xd, xd)
    assert torch.equal(c, linear.min_norm(kd, yd))
    assert torch.allclose(kc, kd @ c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-15), (torch.float32, 1e-6)])
def test_numba_arccos_kernel_is_the_torch_formula(dtype, tol):
    # the CPU kernel (fused numba loop, sin t = sqrt((1 - cos t)(1 + cos t))) against the torch element-wise
    # formula, on inputs off the sphere, a repeated point (cos t = 1), an antipodal one (cos t = -1) and x = 0
    x = _t(fdata.sample_inputs("gaussian", 50, 6, np.random.default_rng(0)))
    x = torch.cat([x, torch.zeros(1, 6, dtype=torch.float64)])
    y = torch.cat([x[:20], -x[:3], 2.0 * x[3:5]])
    x, y = x.to(dtype), y.to(dtype)
    fused = arccos_kernel_cpu(x, y)
    assert fused.dtype == dtype and fused.shape == (51, 25)
    reference = arccos_kernel_torch(x.double(), y.double())
    assert torch.allclose(fused.double(), reference, rtol=0, atol=tol * float(reference.abs().max()))
    assert torch.equal(fused[-1], torch.zeros(25, dtype=dtype))
    # k(x, -x) = 0 and k(x, x) = |x|^2/(2d)
    assert float(fused[:3, 20:23].diagonal().abs().max()) <= tol
    assert torch.allclose(fused[:20, :20].diagonal().double(), (x[:20].double() ** 2).sum(1) / 12, rtol=tol)


def test_kernel_fit_reuses_its_kernel_matrix_for_the_rkhs_norm_and_matches_a_direct_solve(monkeypatch):
    # the engine's kernel ridge / min-norm fit (one n x n kernel evaluation, Cholesky) against an independent
    # evaluation: torch's element-wise kernel, scipy.linalg.solve(assume_a="pos"), sqrt(c^T K c)
    import scipy.linalg
    from types import SimpleNamespace

    from engine.kind import RunContext
    from engine.kinds.function_learning.run.fit import fit_kernel

    x, x_test = _sphere(300, 8, 0), _sphere(100, 8, 1)
    data = SimpleNamespace(x=x, y=torch.relu(x[:, 0]), x_test=x_test, f_test=torch.relu(x_test[:, 0]))
    k, k_test = arccos_kernel_torch(x, x).numpy(), arccos_kernel_torch(x_test, x).numpy()
    calls = []
    monkeypatch.setattr(linear, "arccos", lambda a, b: calls.append(a.shape[0]) or arccos_kernel(a, b))
    for lam in (1e-4, None):
        calls.clear()
        spec = SimpleNamespace(data=SimpleNamespace(n=300), fit=SimpleNamespace(method="ridge" if lam else "min_norm",
                                                                                 lam=lam, rcond=None))
        out = fit_kernel(spec, data, RunContext(seed=0))
        c = scipy.linalg.solve(k + 300 * (lam or 0.0) * np.eye(300), data.y.numpy(), assume_a="pos")
        assert out.scalars["rkhs_norm"] == pytest.approx(math.sqrt(c @ k @ c), rel=1e-10)
        assert np.allclose(out.f_test.numpy(), k_test @ c, rtol=0, atol=1e-10)
        assert out.lam == (lam or 0.0) and sorted(calls) == [100, 300]   # k(X, X) once, and k(X_test, X)


@pytest.mark.parametrize("m", [100, 400])
def test_random_feature_ridge_in_the_primal_and_the_dual_system_agree(monkeypatch, m):
    # n = 150: the m x m primal solve and the n x n dual one (float32-preconditioned refinement with the shift
    # n lam, over several feature blocks) give the same coefficients a, and the dual one equals the direct
    # float64 solve (K + n lam I)^{-1} y
    monkeypatch.setattr(linear, "CHUNK_ELEMENTS", 150 * 70)
    x = _sphere(150, 5, 0)
    y = torch.relu(x[:, 0])
    kern, lam = _rf_kernel(m, 5, 1), 1e-3
    assert kern._refined_solve(x, y, 150 * lam, None) is not None
    c, kc = kern.ridge(x, y, lam)
    k = kern.gram_lower_blocks(x)
    direct = torch.linalg.solve(k + 150 * lam * torch.eye(150, dtype=torch.float64), y)
    assert torch.allclose(c, direct, rtol=0, atol=1e-10 * float(direct.abs().max()))
    assert torch.allclose(kc, k @ c, rtol=0, atol=1e-12)
    a_dual, a_primal = kern.coefficients(x, c), kern.ridge_primal(x, y, lam)
    assert float((a_primal - a_dual).norm() / a_dual.norm()) <= 1e-10


def test_shifted_cholesky_solve_falls_back_to_lu_when_the_factorization_fails():
    k = torch.tensor([[-3.0, 0.5], [0.5, 1.0]], dtype=torch.float64)     # k + I is indefinite: no Cholesky
    y, eye = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.eye(2, dtype=torch.float64)
    assert torch.allclose(linear.cholesky_solve_shifted(k, y, 1.0), torch.linalg.solve(k + eye, y))
    spd = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    assert torch.allclose(linear.ridge(spd, y, 0.5), torch.linalg.solve(spd + eye, y), rtol=1e-14)   # shift n lam = 1
