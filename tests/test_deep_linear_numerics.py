"""Numerics of gradient descent on deep linear ResNets (ZAS, arXiv:1911.00645).

Reference numbers (iteration counts, stall values, invariant sizes) are those
of the research brief, section 1.6 and section 5 "Paper (a)"; they were
measured with an independent numpy implementation.
"""

import functools

import numba
import numpy as np
import pytest
import torch

from learners.deep_linear import gradient_descent_torch, loss_and_gradients_torch
from solvers.deep_linear import (
    Status,
    balance_drift,
    gradient_descent,
    initial_weights,
    invariant_drift,
    loss_and_gradients,
    product,
    sigma_min,
    target_matrix,
)

DIM = 5
TARGET_SEED = 1  # the brief's Gaussian target: eigenvalue real parts -0.89, -0.89, -0.23, -0.23, 0.26


def _records(n_steps, every=1):
    size = (n_steps - 1) // every + 1
    return np.full(size, np.nan), np.full(size, np.nan)


def _run(w_hidden, w_out, phi, lam, lr, n_steps, tol, every=1):
    """Gradient descent from (w_hidden, w_out) in place; returns steps, status, losses, sigma_mins."""
    losses, sigma_mins = _records(n_steps, every)
    steps, status = gradient_descent(w_hidden, w_out, phi, lam, lr, n_steps, tol, every, losses, sigma_mins)
    return steps, status, losses, sigma_mins


def _target(kind, dim=DIM):
    return target_matrix(kind, dim, dim, 1.0, np.random.default_rng(TARGET_SEED))


def _covariance(eigenvalues, rng):
    """Anisotropic input covariance U diag(eigenvalues) U^T with a random rotation U."""
    dim = len(eigenvalues)
    u = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    return u @ np.diag(eigenvalues) @ u.T


def _spd(dim, rng):
    return _covariance(np.linspace(1.0, 0.2, dim), rng)


def _random_point(rng, depth=3, dim=3, out_dim=2):
    """A generic point away from any special structure (rectangular output layer, non-identity lam)."""
    w_hidden, w_out = initial_weights("xavier", depth, dim, out_dim, 0.3, rng)
    return w_hidden, w_out, target_matrix("gaussian", dim, out_dim, 1.0, rng), _spd(dim, rng)


@functools.cache
def _zas_run(kind, depth):
    """ZAS at lr = 0.2 / (L ||Phi||_2^2) until loss <= 1e-8 ||Phi||_F^2, every step recorded."""
    phi = _target(kind)
    w_hidden, w_out = initial_weights("zas", depth, DIM, DIM, 0.0, None)
    lr = 0.2 / (depth * np.linalg.norm(phi, 2) ** 2)
    return _run(w_hidden, w_out, phi, np.eye(DIM), lr, 60_000, 1e-8 * np.sum(phi**2))


# --- loss and gradients ------------------------------------------------------------------


def test_loss_matches_direct_formula():
    w_hidden, w_out, phi, lam = _random_point(np.random.default_rng(0))
    p = np.eye(3)
    for w in w_hidden:
        p = (np.eye(3) + w) @ p
    residual = w_out @ p - phi
    np.testing.assert_allclose(product(w_hidden), p, rtol=1e-14)
    assert loss_and_gradients(w_hidden, w_out, phi, lam)[0] == pytest.approx(
        0.5 * np.trace(residual @ lam @ residual.T), rel=1e-14
    )


def test_gradients_match_central_differences():
    w_hidden, w_out, phi, lam = _random_point(np.random.default_rng(0))
    _, g_hidden, g_out = loss_and_gradients(w_hidden, w_out, phi, lam)
    h = 1e-6
    for weights, gradient in ((w_hidden, g_hidden), (w_out, g_out)):
        numerical = np.empty_like(gradient)
        for index in np.ndindex(weights.shape):
            saved = weights[index]
            weights[index] = saved + h
            up = loss_and_gradients(w_hidden, w_out, phi, lam)[0]
            weights[index] = saved - h
            down = loss_and_gradients(w_hidden, w_out, phi, lam)[0]
            weights[index] = saved
            numerical[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(gradient, numerical, rtol=1e-6, atol=1e-8)


def test_first_step_from_zas():
    rng = np.random.default_rng(2)
    dim, out_dim, depth, lr = 4, 3, 5, 0.01
    phi, lam = target_matrix("gaussian", dim, out_dim, 1.0, rng), _spd(dim, rng)
    w_hidden, w_out = initial_weights("zas", depth, dim, out_dim, 0.0, None)

    loss, g_hidden, g_out = loss_and_gradients(w_hidden, w_out, phi, lam)
    assert loss == pytest.approx(0.5 * np.trace(phi @ lam @ phi.T), rel=1e-14)
    assert not g_hidden.any()
    np.testing.assert_allclose(g_out, -phi @ lam, rtol=1e-14)

    steps, status, _, _ = _run(w_hidden, w_out, phi, lam, lr, 1, 0.0)
    assert (steps, status) == (1, Status.MAX_STEPS)
    assert not w_hidden.any()
    np.testing.assert_allclose(w_out, lr * phi @ lam, rtol=1e-14)


# --- ZAS trajectories ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2, 4, 8, 16])
@pytest.mark.parametrize("kind", ["negative_identity", "gaussian", "negative_definite"])
def test_zas_loss_decreases_monotonically(kind, depth):
    steps, status, losses, _ = _zas_run(kind, depth)
    assert status == Status.CONVERGED
    trajectory = losses[: steps + 1]
    assert np.all(trajectory[1:] <= trajectory[:-1] * (1 + 1e-15))


@pytest.mark.parametrize(
    ("kind", "reference"),
    [("negative_identity", {2: 27, 4: 36, 8: 45, 16: 55}), ("gaussian", {2: 138, 4: 264, 8: 489, 16: 857})],
)
def test_zas_iterations_match_reference(kind, reference):
    for depth, iterations in reference.items():
        steps, status, _, _ = _zas_run(kind, depth)
        assert status == Status.CONVERGED
        assert abs(steps - iterations) <= 1, (depth, steps, iterations)


@pytest.mark.parametrize(
    ("kind", "depths"),
    [("negative_identity", [2, 4, 8, 16, 32]), ("gaussian", [2, 4, 8, 16]), ("negative_definite", [2, 4, 8, 16])],
)
def test_zas_iterations_grow_polynomially(kind, depths):
    iterations = {}
    for depth in depths:
        steps, status, _, _ = _zas_run(kind, depth)
        assert status == Status.CONVERGED
        iterations[depth] = steps
    for depth in depths:
        if 4 * depth in iterations:
            assert iterations[4 * depth] / iterations[depth] <= 4**3, iterations


@pytest.mark.parametrize("depth", [4, 16])
def test_zas_keeps_product_well_conditioned_and_invariants(depth):
    """Brief 1.6 "Invariants": d = 4, det(Phi) < 0 with complex eigenvalues, anisotropic lam, lr = 0.05/L."""
    rng = np.random.default_rng(0)
    dim = 4
    phi = target_matrix("gaussian", dim, dim, 1.0, rng)
    assert np.linalg.det(phi) < 0 and np.iscomplex(np.linalg.eigvals(phi)).any()
    lam = _covariance([1.0, 0.7, 0.4, 0.2], rng)
    w_hidden, w_out = initial_weights("zas", depth, dim, dim, 0.0, None)
    lr, tol, chunk, max_steps = 0.05 / depth, 1e-8 * np.sum(phi**2), 50, 20_000
    losses, sigma_mins = _records(max_steps)

    start, drifts, balances = 0, [], []
    status = Status.MAX_STEPS
    while status == Status.MAX_STEPS and start < max_steps:
        steps, status = gradient_descent(w_hidden, w_out, phi, lam, lr, chunk, tol, 1, losses, sigma_mins, start)
        start += steps
        drifts.append(invariant_drift(w_hidden, w_out))
        balances.append(balance_drift(w_hidden))

    assert status == Status.CONVERGED
    assert np.all(sigma_mins[: start + 1] >= 1 - 1e-6)
    assert sigma_mins[start] == pytest.approx(sigma_min(w_hidden), rel=1e-12)
    assert max(drifts) <= 1e-2
    assert max(balances) <= 1e-3


# --- ZAS against near-identity, Xavier and exact identity -------------------------------------


@pytest.mark.parametrize("depth", [2, 4, 8, 16, 32])
def test_zas_reaches_tolerance_on_negative_identity(depth):
    steps, status, losses, _ = _zas_run("negative_identity", depth)
    assert status == Status.CONVERGED
    assert losses[steps] <= 1e-8 * DIM


@pytest.mark.parametrize(("scheme", "noise"), [("near_identity", 0.01), ("xavier", 0.0)])
def test_near_identity_and_xavier_stall_on_negative_identity(scheme, noise):
    depth, n_steps, phi = 16, 20_000, -np.eye(DIM)
    w_hidden, w_out = initial_weights(scheme, depth, DIM, DIM, noise, np.random.default_rng(0))
    steps, status, _, _ = _run(w_hidden, w_out, phi, np.eye(DIM), 0.2 / depth, n_steps, 1e-8 * DIM, every=n_steps)
    assert (steps, status) == (n_steps, Status.MAX_STEPS)
    assert loss_and_gradients(w_hidden, w_out, phi, np.eye(DIM))[0] > 0.1


def test_identity_init_stalls_on_negative_eigenvalue():
    """Bartlett et al. (iv): the -0.5 direction of P decays to 0, so R -> 1/2 (0.5)^2 = 0.125."""
    depth, phi, lam = 4, np.diag([2.0, -0.5]), np.eye(2)
    lr, n_steps = 0.05 / depth, 20_000
    w_hidden, w_out = initial_weights("identity", depth, 2, 2, 0.0, None)
    steps, status, _, _ = _run(w_hidden, w_out, phi, lam, lr, n_steps, 1e-10, every=n_steps)
    assert (steps, status) == (n_steps, Status.MAX_STEPS)
    assert 0.125 <= loss_and_gradients(w_hidden, w_out, phi, lam)[0] <= 0.125 + 1e-3

    w_hidden, w_out = initial_weights("zas", depth, 2, 2, 0.0, None)
    steps, status, _, _ = _run(w_hidden, w_out, phi, lam, lr, n_steps, 1e-10)
    assert status == Status.CONVERGED and steps < 1000


def test_threaded_kernel_matches_single_thread():
    """Large enough (depth * dim^3 = 2^17) for the threaded path; results must not depend on threads."""
    rng = np.random.default_rng(6)
    dim, depth = 16, 32
    phi, lam = target_matrix("gaussian", dim, dim, 1.0, rng), _spd(dim, rng)
    start = initial_weights("near_identity", depth, dim, dim, 0.01, rng)
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        weights = tuple(w.copy() for w in start)
        saved = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            runs.append((*_run(*weights, phi, lam, 0.2 / depth, 10, 0.0), *weights))
        finally:
            numba.set_num_threads(saved)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_depth_zero_is_linear_regression(backend):
    """With L = 0, lr = 1 and lam = I, the first step from W = 0 lands exactly on W = Phi."""
    phi = target_matrix("gaussian", 3, 2, 1.0, np.random.default_rng(7))
    w_hidden, w_out = initial_weights("zas", 0, 3, 2, 0.0, None)
    losses, sigma_mins = _records(5)
    if backend == "numba":
        steps, status = gradient_descent(w_hidden, w_out, phi, np.eye(3), 1.0, 5, 0.0, 1, losses, sigma_mins)
    else:
        w_hidden, w_out, steps, status = gradient_descent_torch(
            w_hidden, w_out, phi, np.eye(3), 1.0, 5, 0.0, 1, losses, sigma_mins
        )
    assert (steps, status) == (1, Status.CONVERGED)
    np.testing.assert_array_equal(w_out, phi)
    assert losses[1] == 0.0 and sigma_mins[0] == 1.0


# --- stopping, recording, arguments ------------------------------------------------------------


def test_divergence_reports_status_and_step():
    phi = _target("gaussian")
    w_hidden, w_out = initial_weights("zas", 8, DIM, DIM, 0.0, None)
    steps, status, losses, _ = _run(w_hidden, w_out, phi, np.eye(DIM), 2.0, 1000, 0.0)
    assert status == Status.DIVERGED
    assert 0 < steps < 1000
    assert np.all(np.isfinite(losses[:steps])) and not np.isfinite(losses[steps])
    assert np.isnan(losses[steps + 1 :]).all()


def test_chunked_run_equals_single_run():
    rng = np.random.default_rng(3)
    phi, lam = _target("negative_definite"), _spd(DIM, rng)
    whole = initial_weights("near_identity", 6, DIM, DIM, 0.1, rng)
    chunked = tuple(w.copy() for w in whole)
    n_steps, every = 300, 7
    losses, sigma_mins = _records(n_steps, every)
    assert gradient_descent(*whole, phi, lam, 0.02, n_steps, 0.0, every, losses, sigma_mins) == (300, Status.MAX_STEPS)
    chunk_losses, chunk_sigma_mins = _records(n_steps, every)
    for start in range(0, n_steps, 100):
        gradient_descent(*chunked, phi, lam, 0.02, 100, 0.0, every, chunk_losses, chunk_sigma_mins, start)
    for a, b in zip((*whole, losses, sigma_mins), (*chunked, chunk_losses, chunk_sigma_mins)):
        np.testing.assert_array_equal(a, b)


def test_gradient_descent_rejects_bad_arguments():
    phi = _target("gaussian")
    w_hidden, w_out = initial_weights("zas", 2, DIM, DIM, 0.0, None)
    losses, sigma_mins = _records(10)
    with pytest.raises(ValueError, match="in place"):
        gradient_descent(w_hidden.astype(np.float32), w_out, phi, np.eye(DIM), 0.1, 10, 0.0, 1, losses, sigma_mins)
    with pytest.raises(ValueError, match="losses has 10 entries"):
        gradient_descent(w_hidden, w_out, phi, np.eye(DIM), 0.1, 11, 0.0, 1, losses, sigma_mins)
    with pytest.raises(ValueError, match="every >= 1"):
        gradient_descent(w_hidden, w_out, phi, np.eye(DIM), 0.1, 10, 0.0, 0, losses, sigma_mins)
    with pytest.raises(ValueError, match="lam must have shape"):
        gradient_descent(w_hidden, w_out, phi, np.eye(DIM + 1), 0.1, 10, 0.0, 1, losses, sigma_mins)


# --- torch backend ---------------------------------------------------------------------------


def test_torch_gradients_match_numba():
    point = _random_point(np.random.default_rng(4), depth=6, dim=4, out_dim=3)
    expected = loss_and_gradients(*point)
    actual = loss_and_gradients_torch(*point, dtype=torch.float64)
    assert actual[0] == pytest.approx(expected[0], rel=1e-12)
    for a, e in zip(actual[1:], expected[1:]):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


def _torch_matches_numba(device, n_steps, rtol):
    rng = np.random.default_rng(5)
    phi, lam = _target("gaussian"), _spd(DIM, rng)
    w_hidden, w_out = initial_weights("zas", 4, DIM, DIM, 0.0, None)
    tol = 1e-8 * np.sum(phi**2)
    torch_losses, torch_sigma_mins = _records(n_steps)
    *torch_weights, torch_steps, torch_status = gradient_descent_torch(
        w_hidden, w_out, phi, lam, 0.05, n_steps, tol, 1, torch_losses, torch_sigma_mins, device=device
    )
    steps, status, losses, sigma_mins = _run(w_hidden, w_out, phi, lam, 0.05, n_steps, tol)
    assert (torch_steps, torch_status) == (steps, status)
    np.testing.assert_allclose(torch_losses, losses, rtol=rtol)
    np.testing.assert_allclose(torch_sigma_mins, sigma_mins, rtol=rtol)
    for a, e in zip(torch_weights, (w_hidden, w_out)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-12)


def test_torch_trajectory_matches_numba():
    _torch_matches_numba("cpu", 2000, rtol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_torch_cuda_trajectory_matches_numba():
    _torch_matches_numba("cuda", 2000, rtol=1e-9)


def test_torch_float32_follows_float64():
    phi, n_steps = -np.eye(DIM), 20
    w_hidden, w_out = initial_weights("zas", 4, DIM, DIM, 0.0, None)
    losses32, sigma_mins32 = _records(n_steps)
    gradient_descent_torch(
        w_hidden, w_out, phi, np.eye(DIM), 0.05, n_steps, -1.0, 1, losses32, sigma_mins32, dtype=torch.float32
    )
    _, _, losses, sigma_mins = _run(w_hidden, w_out, phi, np.eye(DIM), 0.05, n_steps, -1.0)
    np.testing.assert_allclose(losses32, losses, rtol=1e-5)
    np.testing.assert_allclose(sigma_mins32, sigma_mins, rtol=1e-5)


def test_torch_divergence_matches_numba():
    phi = _target("gaussian")
    w_hidden, w_out = initial_weights("zas", 8, DIM, DIM, 0.0, None)
    losses, sigma_mins = _records(1000)
    *_, steps, status = gradient_descent_torch(w_hidden, w_out, phi, np.eye(DIM), 2.0, 1000, 0.0, 1, losses, sigma_mins)
    assert (steps, status) == _run(w_hidden, w_out, phi, np.eye(DIM), 2.0, 1000, 0.0)[:2]
    assert status == Status.DIVERGED


# --- initializations and targets -------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["zas", "identity", "near_identity", "xavier"])
def test_initial_weights_shapes_and_base(scheme):
    out_dim = 3 if scheme in ("zas", "xavier") else 4
    w_hidden, w_out = initial_weights(scheme, 5, 4, out_dim, 0.0, np.random.default_rng(0))
    assert w_hidden.shape == (5, 4, 4) and w_out.shape == (out_dim, 4)
    if scheme != "xavier":
        assert not w_hidden.any()
        np.testing.assert_array_equal(w_out, np.zeros((3, 4)) if scheme == "zas" else np.eye(4))


def test_initial_weights_noise_and_xavier_statistics():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    initial_weights("near_identity", 3, 4, 4, 0.0, rng)
    assert rng.bit_generator.state == state  # noise 0 draws nothing

    w_hidden, w_out = initial_weights("near_identity", 2, 100, 100, 0.01, rng)
    assert np.std(w_hidden) == pytest.approx(0.01, rel=0.05)
    assert np.std(w_out - np.eye(100)) == pytest.approx(0.01, rel=0.05)

    w_hidden, w_out = initial_weights("xavier", 2, 100, 50, 0.0, rng)
    assert np.std(w_hidden + np.eye(100)) == pytest.approx(0.1, rel=0.05)
    assert np.std(w_out) == pytest.approx(0.1, rel=0.05)
    assert abs(np.mean(w_hidden + np.eye(100))) < 0.01


@pytest.mark.parametrize("scheme", ["identity", "near_identity"])
def test_identity_inits_need_square_output(scheme):
    with pytest.raises(ValueError, match="out_dim == dim"):
        initial_weights(scheme, 2, 4, 3, 0.0, np.random.default_rng(0))


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown init scheme"):
        initial_weights("he", 2, 4, 4, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown target kind"):
        target_matrix("random", 4, 4, 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("dim", [1, 2, 5, 8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_orthogonal_target_has_determinant_minus_one(dim, seed):
    phi = target_matrix("orthogonal", dim, dim, 1.0, np.random.default_rng(seed))
    np.testing.assert_allclose(phi.T @ phi, np.eye(dim), atol=1e-13)
    assert np.linalg.det(phi) == pytest.approx(-1.0, rel=1e-12)


def test_definite_targets():
    negative = target_matrix("negative_definite", 6, 6, 1.0, np.random.default_rng(0))
    positive = target_matrix("positive_definite", 6, 6, 2.0, np.random.default_rng(0))
    np.testing.assert_array_equal(negative, negative.T)
    assert np.linalg.eigvalsh(negative).max() <= -0.5
    assert np.linalg.eigvalsh(positive).min() >= 1.0  # scale 2 times eigenvalues >= 1/2
    np.testing.assert_allclose(positive, -2.0 * negative, rtol=1e-15)


def test_explicit_targets_and_scale():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(target_matrix("negative_identity", 3, 3, 2.0, rng), -2.0 * np.eye(3))
    np.testing.assert_array_equal(target_matrix("diagonal", 2, 2, 1.0, rng, values=[2, -0.5]), np.diag([2, -0.5]))
    matrix = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(target_matrix("matrix", 3, 2, 0.5, rng, matrix=matrix), 0.5 * matrix)
    assert target_matrix("gaussian", 5, 3, 1.0, rng).shape == (3, 5)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        target_matrix("matrix", 2, 2, 1.0, rng, matrix=matrix)
    with pytest.raises(ValueError, match="needs 3 values"):
        target_matrix("diagonal", 3, 3, 1.0, rng, values=[1.0, 2.0])


@pytest.mark.parametrize(
    "kind", ["negative_identity", "orthogonal", "negative_definite", "positive_definite", "diagonal"]
)
def test_square_targets_need_square_output(kind):
    with pytest.raises(ValueError, match="out_dim == dim"):
        target_matrix(kind, 4, 3, 1.0, np.random.default_rng(0), values=np.ones(4))
