"""The independent peers of the benchmarks compute what the project's kernels compute (timings are not tested).

- bgk (``benchmarks/bench_bgk.py``): the plain numpy first-order DVM against ``solvers.bgk.solve`` with upwind
  transport and IMEX relaxation, on Sod's tube in 1D3V. The two differ only in the Maxwellian (the solver's is
  fitted to the discrete moments of f): with a fitted Maxwellian the peer gives the solver's f to round-off.
- hyperelastic (``benchmarks/bench_hyperelastic.py``): the operator assembled by scikit-fem and stepped with
  scipy.sparse against the Q1 leapfrog kernel. scikit-fem comes with the ``bench`` extra only
  (``pip install -e '.[bench]'``, as ``make bench`` does), not with ``test``: these tests skip without it.
"""

import numpy as np
import pytest

from benchmarks import bench_bgk


def fitted_maxwellian(rho, u, T, v, dv):
    """``g (a0 + a1 xi + a2 xi^2)``, ``g = exp(-xi^2/2)``, ``xi = (v - u)/sqrt(T)``, with ``a`` such that its
    midpoint sums over v (weight dv) give exactly rho, rho u and rho T (the second central moment);
    shape (n_x, n_v) from rho, u, T (n_x,)."""
    xi = (v - u[:, None]) / np.sqrt(T)[:, None]
    g = np.exp(-0.5 * xi * xi)
    sums = [(xi**k * g).sum(axis=1) for k in range(5)]
    system = np.stack([np.stack([sums[i + j] for j in range(3)], axis=-1) for i in range(3)], axis=-2)
    target = np.stack([rho, 0.0 * rho, rho], axis=-1) / dv
    a = np.linalg.solve(system, target[..., None])[..., 0]
    return g * (a[:, :1] + xi * (a[:, 1:2] + xi * a[:, 2:]))


def _sod(n_x):
    grid, f0, t_save = bench_bgk.peer_case(n_x)
    f = bench_bgk.solve(f0, grid, bench_bgk.PEER_KN, t_save, transport="upwind", relaxation="imex",
                        cfl=bench_bgk.PEER_CFL, save_distribution=True).f[0, -1]
    return grid, f0, t_save, f


def test_numpy_dvm_with_a_fitted_maxwellian_is_the_solvers_scheme():
    grid, f0, t_save, f = _sod(20)
    dts = bench_bgk.peer_steps(grid, t_save)
    h, b = bench_bgk.numpy_dvm(f0[0], f0[1], grid.v, grid.dx, bench_bgk.PEER_KN, dts, fitted_maxwellian)
    assert dts.size == 40
    assert np.abs(np.stack([h, b]) - f).max() <= 1e-12 * np.abs(f).max()


def test_numpy_dvm_with_the_maxwellian_formula_is_within_the_benchmarks_bound():
    grid, f0, t_save, f = _sod(20)
    difference = bench_bgk.peer_difference(grid, f0, t_save)
    # the formula's moment error is what separates the two: above round-off, below the benchmark's bound
    assert 1e-14 < difference <= bench_bgk.PEER_RTOL


def test_skfem_operator_is_the_kernels_operator():
    pytest.importorskip("skfem")
    from benchmarks import bench_hyperelastic as bench
    from solvers.hyperelastic import fem

    grid, medium, dt, sigma, w0 = case = bench.bench_case(9)
    K, mass = bench.skfem_operator(grid, medium)
    np.testing.assert_allclose(mass, fem.lumped_mass(grid, medium).ravel(), rtol=1e-14)
    kw = fem.stiffness(grid, medium, w0).ravel()
    assert np.abs(K @ w0.ravel() - kw).max() <= 1e-13 * np.abs(kw).max()
    assert bench.peer_difference(case, (K, mass), 30) <= bench.PEER_RTOL
