"""The deep_linear kind through the engine: spec checks, datasets, data, backends, divergence, summary."""

import numpy as np
import pytest

BASE = "kind: deep_linear\nname: dl\nmodel: {dim: 5, depth: 8}\ntarget: {kind: negative_identity}\n"


@pytest.mark.parametrize("extra, pattern", [
    ("model: {depth: 0}", r"spec\.yaml:3:16: model\.depth: 0 is out of range \(expected a value >= 1\)"),
    ("model: {dim: 0}", r"spec\.yaml:3:14: model\.dim: 0 is out of range \(expected a value >= 1\)"),
    ("optimizer: {lr: 0.0}", r"spec\.yaml:3:17: optimizer\.lr: 0\.0 is out of range \(expected a value > 0"),
    ("optimizer: {tol: -1e-3}", r"spec\.yaml:3:18: optimizer\.tol: -0\.001 is out of range \(expected a value > 0"),
    ("model: {dim: 5, out_dim: 3}\ninit: {scheme: near_identity}\ntarget: {kind: gaussian}",
     r"model\.out_dim: init 'near_identity' needs out_dim == dim, got 3 != 5"),
    ("model: {dim: 5, out_dim: 3}\ninit: {scheme: identity}\ntarget: {kind: gaussian}",
     r"model\.out_dim: init 'identity' needs out_dim == dim"),
    ("model: {dim: 2}\ntarget: {kind: matrix, matrix: [[1, 2, 3], [4, 5, 6]]}",
     r"spec\.yaml:\d+:\d+: target\.matrix: matrix has shape \(2, 3\) \(expected shape \(out_dim, dim\) = \(2, 2\)\)"),
    ("target: {kind: diagonal, values: [2, -0.5]}", r"target\.values: target 'diagonal' needs model\.dim values"),
    ("model: {dim: 5, out_dim: 4}\ntarget: {kind: orthogonal}\ninit: {scheme: zas}",
     r"model\.out_dim: target 'orthogonal' is square"),
    ("data: {n_samples: 3}", r"data\.n_samples: 3 samples cannot span dimension 5"),
    ("dtype: float32", r"backend: the numba backend runs in float64 on the CPU"),
    ("init: {scheme: zas, noise: -0.1}", r"init\.noise: -0\.1 is out of range"),
])
def test_impossible_values_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects("kind: deep_linear\nname: dl\n" + extra + "\n", pattern)


def test_zas_on_minus_identity_matches_the_reference_count(run_spec):
    # d = 5, Phi = -I, L = 8, step 0.2/(L ||Phi||^2), tol 1e-8 ||Phi||_F^2: 45 steps (learning.md 1.6)
    result, ds = run_spec(BASE)
    assert result.code == 0
    assert int(ds["iterations_to_tol"]) == 45 and int(ds["converged"]) == 1
    assert ds["loss"].values[0] == pytest.approx(2.5, abs=1e-15)            # 1/2 ||Phi||_F^2 at ZAS
    assert float(ds["final_loss"]) <= 1e-8 * 5
    assert float(ds["lr_effective"]) == pytest.approx(0.2 / 8)
    assert float(ds["sigma_min_final"]) >= 1 - 1e-2
    assert np.nanmin(ds["sigma_min"].values) >= 1 - 1e-2
    assert float(ds["invariant_drift"]) < 0.05
    assert list(ds["step"].values[:3]) == [0, 10, 20] and ds.sizes["step"] == 5
    for name, var in ds.variables.items():
        assert var.attrs["units"] and var.attrs["long_name"], name


def test_divergence_is_a_failed_run_with_advice_and_the_sweep_goes_on(run_spec):
    text = BASE + "sweep:\n  cases:\n    - {optimizer.lr_rule: absolute, optimizer.lr: 5.0}\n    - {optimizer.lr: 0.2}\n"
    result, ds = run_spec(text)
    assert result.code == 1
    assert "diverged: the loss became non-finite at step" in result.err
    assert "use optimizer.lr_rule: scaled with optimizer.lr: 0.2" in result.err
    assert list(ds["run_status"].values) == ["failed", "ok"]
    assert int(ds["iterations_to_tol"].values[1]) == 45


def test_identity_init_stalls_at_the_negative_eigenvalue_saddle(run_spec):
    # Phi = diag(2, -0.5), exact identity init: loss stays at 1/2 (-0.5)^2 = 0.125 (Bartlett et al. (iv))
    text = ("kind: deep_linear\nname: dl\nmodel: {dim: 2, depth: 4}\ntarget: {kind: diagonal, values: [2, -0.5]}\n"
            "init: {scheme: identity}\noptimizer: {lr: 0.0125, lr_rule: absolute, max_steps: 20000, tol: 1e-10, "
            "tol_rule: absolute}\noutput: {every: 1000}\n")
    result, ds = run_spec(text)
    assert result.code == 0
    assert int(ds["converged"]) == 0 and int(ds["iterations_to_tol"]) == -1
    assert float(ds["final_loss"]) == pytest.approx(0.125, abs=1e-3)


def test_noise_free_data_has_no_floor_and_noisy_data_the_predicted_one(run_spec):
    text = BASE + ("data: {n_samples: 4000, inputs: anisotropic, condition: 4.0, noise: 0.0}\n"
                   "sweep:\n  grid:\n    data.noise: [0.0, 0.1]\n")
    result, ds = run_spec(text)
    assert result.code == 0
    floor = ds["loss_floor"].values
    assert floor[0] < 1e-12
    # E[R*] = 1/2 sigma^2 d_y (n - d) / n for least squares with Gaussian noise
    assert floor[1] == pytest.approx(0.5 * 0.01 * 5 * (4000 - 5) / 4000, rel=0.05)
    assert (ds["converged"].values == 1).all()
    assert (ds["final_loss"].values >= floor - 1e-15).all()
    assert (ds["final_loss"].values - floor <= ds["tol_effective"].values).all()


def test_torch_backend_follows_the_numba_trajectory(run_spec):
    text = BASE + "sweep:\n  cases:\n    - {backend: numba}\n    - {backend: torch}\n    - {backend: torch, dtype: float32}\n"
    result, ds = run_spec(text)
    assert result.code == 0
    loss = ds["loss"].values
    np.testing.assert_allclose(loss[1], loss[0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(loss[2], loss[0], rtol=1e-3, atol=1e-9)
    assert list(ds["iterations_to_tol"].values[:2]) == [45, 45]


def test_depth_exponent_summary_per_init(run_spec):
    text = ("kind: deep_linear\nname: dl\noptimizer: {max_steps: 3000}\nsweep:\n  grid:\n    model.depth: [2, 4, 8, 16]\n"
            "    init.scheme: [zas, near_identity]\n")
    result, ds = run_spec(text)
    assert result.code == 0
    exponent = ds["depth_exponent"]
    assert exponent.dims == ("init_scheme",) and ds["init_scheme"].attrs["spec_path"] == "init.scheme"
    zas = float(exponent.sel(init_scheme="zas"))
    iters = ds["iterations_to_tol"].sel(init_scheme="zas").values.astype(float)
    expected = np.polyfit(np.log([2, 4, 8, 16]), np.log(iters), 1)[0]
    assert zas == pytest.approx(expected) and 0 < zas < 3
    assert int(ds["depth_exponent_runs"].sel(init_scheme="zas")) == 4
