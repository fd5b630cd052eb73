"""The bgk kind through the engine: spec checks before running, the Euler limit on Sod, conservation, datasets."""

import numpy as np
import pytest

HEAD = "kind: bgk\nname: b\n"


@pytest.mark.parametrize("extra, pattern", [
    ("scheme: {transport: muscl, cfl: 0.8}",
     r"spec\.yaml:3:33: scheme\.cfl: cfl = 0\.8 is above the stability bound 0\.5 of transport 'muscl' "
     r"\(expected cfl <= 0\.5\)"),
    ("scheme: {transport: upwind, cfl: 1.5}", r"spec\.yaml:3:34: scheme\.cfl: .*bound 1 .*\(expected cfl <= 1\)"),
    ("velocity: {v_max: 5.0}",
     r"spec\.yaml:3:19: velocity\.v_max: the velocity grid cannot hold the initial state: in cell 0 "
     r"\(x = 0\.0025\) \|u\| \+ 7 sqrt\(T\) = 7 > v_max = 5 \(expected v_max >= 7\)"),
    ("velocity: {v_max: 8.0, n_v: 10}",
     r"spec\.yaml:3:29: velocity\.n_v: the velocity grid is too coarse .*in cell 0 \(x = 0\.0025\) "
     r"dv = 1\.6 > sqrt\(T_min\) = 1 \(expected n_v >= 18\)"),
    ("initial: {kind: random_mix}\nvelocity: {v_max: 6.0, n_v: 64}",
     r"spec\.yaml:4:19: velocity\.v_max: .*cell \d+ .*exceeds v_max = 6"),
    ("initial: {kind: wave, rho: [[1, 1.5, 0.0]]}",
     r"spec\.yaml:3:28: initial\.rho: non-positive initial density -0\.0095\d* in cell 123 \(x = 0\.6175\)"),
    ("initial: {kind: wave, T0: 0.5, T: [[2, 0.6, 0.0]]}",
     r"spec\.yaml:3:35: initial\.T: non-positive initial temperature .* in cell 66"),
    ("initial: {kind: riemann, left: [1.0, 0.0, -1.0]}",
     r"spec\.yaml:3:32: initial\.left: non-positive density or pressure in the left state"),
    ("initial: {kind: free_stream_sine, amplitude: 1.5}", r"spec\.yaml:3:46: initial\.amplitude: 1\.5 is out of range"),
    ("collision: {kn: -1.0}", r"spec\.yaml:3:17: collision\.kn: -1\.0 is out of range"),
])
def test_impossible_specs_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects(HEAD + extra + "\n", pattern)


def test_sod_approaches_the_euler_solution_as_kn_decreases(run_spec, cli, tmp_path):
    text = HEAD + ("grid: {n_x: 100, boundary: outflow}\nvelocity: {v_max: 8.0, n_v: 48}\ninitial: {kind: sod}\n"
                   "time: {t_final: 0.1}\nreferences: [euler]\n"
                   "sweep:\n  grid:\n    collision.kn: [1.0e-4, 1.0e-2, 10.0]\n")
    result, ds = run_spec(text)
    assert result.code == 0, result.err
    for q in ("rho", "m", "T"):
        for norm in ("l1", "l2"):
            err = ds[f"{norm}_{q}_euler"].values
            assert err[0] < err[1] < err[2], (norm, q, err)
    assert ds["l1_rho_euler"].values[0] < 0.03
    # at t = 0 the exact reference is the Riemann data itself, which the discrete Maxwellians reproduce
    np.testing.assert_allclose(ds["rho"].isel(t=0), ds["rho_euler"].isel(t=0), rtol=1e-6)
    plots = cli("plot", str(tmp_path / "outputs" / "b" / "result.nc"), "--outdir", str(tmp_path / "fig"))
    assert plots.code == 0, plots.err
    assert (tmp_path / "fig" / "profiles.png").stat().st_size > 0


@pytest.mark.parametrize("dim", [1, 3])
def test_periodic_wave_conserves_mass_momentum_energy(run_spec, dim):
    text = HEAD + (f"grid: {{n_x: 64, boundary: periodic}}\nvelocity: {{dim: {dim}, v_max: 8.0, n_v: 40}}\n"
                   "collision: {kn: 1.0e-2}\n"
                   "initial: {kind: wave, rho: [[1, 0.2, 0.0]], u: [[2, 0.1, 0.3]], T: [[1, 0.2, 1.0]]}\n"
                   "time: {t_final: 0.2, save_every: 0.05}\nreferences: [euler, navier_stokes]\n")
    result, ds = run_spec(text)
    assert result.code == 0, result.err
    for total in ("mass", "energy"):
        v = ds[total].values
        assert np.max(np.abs(v - v[0])) <= 1e-12 * abs(v[0]), total
    mom = ds["momentum"].values
    assert np.max(np.abs(mom - mom[0])) <= 1e-12 * ds["mass"].values[0]
    assert np.all(np.diff(ds["H"].values) <= 1e-12)                  # entropy does not increase
    assert ds["l2_rho_ns"] < ds["l2_rho_euler"]                      # NS is the better continuum model at Kn = 1e-2
    assert "l1_rho_euler" not in ds                                  # L1 only for Riemann data


def test_dataset_variables_carry_units_and_the_distribution_when_asked(run_spec):
    text = HEAD + ("grid: {n_x: 20}\nvelocity: {dim: 3, v_max: 8.0, n_v: 24}\ninitial: {kind: sod}\n"
                   "time: {t_final: 0.02, save_every: 0.01}\nreferences: [euler, navier_stokes]\n"
                   "output: {distribution: true}\n")
    result, ds = run_spec(text)
    assert result.code == 0, result.err
    for name in ("rho", "u", "temperature", "p", "m", "E", "q", "mass", "momentum", "energy", "H", "rho_euler", "u_euler",
                 "T_euler", "rho_ns", "u_ns", "T_ns", "l2_rho_euler", "l2_m_ns", "l1_T_euler", "f", "f_b"):
        assert name in ds, name
    for name, var in ds.variables.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
    assert ds["rho"].dims[-2:] == ("t", "x") and ds["f"].dims[-3:] == ("t", "x", "v")
    assert list(ds["t"].values) == pytest.approx([0.0, 0.01, 0.02])
    assert ds.sizes["v"] == 24


def test_interrupted_run_resumes_from_its_checkpoint_to_the_same_result(interrupted_and_resumed):
    """A run stopped after its second save time resumes there and ends bitwise equal to a whole run."""
    from engine.plan import resolve_text
    from engine.registry import get_kind

    text = HEAD + ("grid: {n_x: 40, boundary: periodic}\ninitial: {kind: random_mix}\ncollision: {kn: 0.05}\n"
                   "velocity: {v_max: 10.0, n_v: 48}\n"
                   "time: {t_final: 0.04, save_every: 0.01}\noutput: {distribution: true}\n")
    spec = resolve_text(text, "spec.yaml").points[0].spec
    # t = 0 and t = 0.01 done and checkpointed; stopped in the next interval
    whole, resumed, ctx = interrupted_and_resumed(get_kind("bgk"), spec, stop_at=3, seed=spec.seed)
    assert ctx.resumed_from == 10  # the time steps to t = 0.01 (dt <= cfl dx / max|v| = 0.4 / 40 / 9.9)
    for name in whole.data_vars:
        assert np.array_equal(whole[name].values, resumed[name].values), name
