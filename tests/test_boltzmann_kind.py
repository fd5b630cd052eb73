"""Kind ``boltzmann`` through the engine: spec errors naming the field and the bound, and reduced runs whose
outputs obey exact relations (conservation, the references' transport coefficients, the Euler limit)."""

from __future__ import annotations

import numpy as np
import pytest

KIND = "kind: boltzmann\nname: b\n"


@pytest.mark.parametrize("extra, pattern", [
    ("velocity: {n: 15}", r"spec\.yaml:\d+:\d+: velocity\.n: n = 15 is odd \(expected an even n\)"),
    ("velocity: {n: 6}", r"velocity\.n: 6 is out of range \(expected a value >= 8\)"),
    ("velocity: {degree: 4}", r"velocity\.degree: degree = 4 has no Lebedev rule here \(expected one of \(3, 5,"),
    ("velocity: {L: 3.0}", r"velocity\.L: the velocity grid cannot hold the initial state: in cell 0 .* > L = 3 "
     r"\(expected L >= 7\)"),
    ("velocity: {n: 8, L: 12}", r"velocity\.n: the velocity grid is too coarse for the initial state: .* "
     r"\(expected n >= 27\)"),
    ("scheme: {cfl: 0.6}", r"scheme\.cfl: cfl = 0\.6 is above the stability bound 0\.5 of MUSCL \(expected "
     r"cfl <= 0\.5\)"),
    ("initial: {kind: two_maxwellian}", r"initial\.kind: 'two_maxwellian' is not a local Maxwellian \(expected "
     r"one of sod, riemann, wave, free_stream_sine, random_wave\)"),
    ("collision: {kn: .inf}", r"references: the navier_stokes reference needs a finite collision\.kn"),
    ("collision: {kn: -1}", r"collision\.kn: -1 is out of range \(expected a value >= 0\.0\)"),
    ("collision: {operator: hard_spheres}", r"collision\.operator: .*hard_spheres"),
    ("grid: {x_max: -1}", r"grid\.x_max: x_max = -1\.0 is not above x_min = 0\.0"),
    ("references: [euler, euler]", r"references: repeated entries"),
    ("initial: {kind: riemann, left: [1.0, 0.0, -1.0]}", r"initial\.left: non-positive density or pressure"),
])
def test_impossible_values_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects(KIND + extra + "\n", pattern)


WAVE = (KIND + "grid: {n_x: 16, boundary: periodic}\nvelocity: {n: 16, L: 7.5, degree: 5, rank: 4}\n"
        "initial: {kind: wave, T: [[1, 0.1, 0.0]], u: [[1, 0.05, 0.0]]}\ntime: {t_final: 0.05, save_every: 0.025}\n"
        "collision: {kn: 0.03}\nreferences: [euler, navier_stokes, bgk]\n"
        "sweep:\n  grid:\n    collision.operator: [maxwell, bgk]\n")


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    """A periodic temperature and velocity wave at Kn = 0.03 with both collision operators, through the engine."""
    from engine.cli import main
    from engine.store import open_result

    folder = tmp_path_factory.mktemp("boltzmann")
    spec = folder / "b.yaml"
    spec.write_text(WAVE)
    assert main(["run", str(spec), "--outputs", str(folder), "--executor", "serial", "--quiet"]) == 0
    return open_result(folder / "b" / "result.nc")


@pytest.mark.parametrize("operator", ["maxwell", "bgk"])
def test_mass_momentum_and_energy_are_conserved_on_a_periodic_grid(wave, operator):
    run = wave.sel(collision_operator=operator)
    for total in ("mass", "momentum", "energy"):
        drift = np.abs(run[total] - run[total].isel(t=0)).max() / np.abs(run["mass"].isel(t=0))
        assert float(drift) < 1e-12, total


def test_the_3d_bgk_operator_is_the_reduced_bgk_solver_of_the_same_viscosity(wave):
    """Same physics on two grids: the 1D3V solve with rho (M - f)/kn and kind bgk's reduced solve at kn."""
    run = wave.sel(collision_operator="bgk")
    assert float(np.abs(run["temperature"] - run["T_bgk"]).max()) < 2e-4
    assert float(np.abs(run["temperature"] - run["T_ns"]).max()) > 2e-3       # the comparison can tell
    final = run.isel(t=-1)
    assert np.abs(final["q"] - final["q_bgk"]).max() < 0.01 * np.abs(final["q_bgk"]).max()


def test_maxwell_molecules_share_the_bgk_viscosity_at_twice_kn_but_conduct_heat_faster(wave):
    """The stress of Maxwell molecules (relaxing at rho/(2 kn)) is the BGK model's at 2 kn; their heat flux is not
    (Pr = 2/3 against 1): it grows beyond the BGK one."""
    final = wave.sel(collision_operator="maxwell").isel(t=-1)
    stress_gap = np.linalg.norm(final["p_xx"] - final["p_xx_bgk"]) / np.linalg.norm(final["p_xx_bgk"])
    assert stress_gap < 0.03
    assert np.abs(final["q"]).max() > 1.08 * np.abs(final["q_bgk"]).max()


def test_the_navier_stokes_fluxes_carry_each_operators_viscosity_and_prandtl_number(wave):
    """From the same initial gradients: Maxwell's mu is twice the BGK operator's at the same kn, its kappa three
    times (mu / Pr with Pr = 2/3 against 1)."""
    first = wave.isel(t=0)
    for name, expected in (("p_xx_ns", 2.0), ("q_ns", 3.0)):
        maxwell, bgk = (first[name].sel(collision_operator=op).values for op in ("maxwell", "bgk"))
        steep = np.abs(bgk) > 0.1 * np.abs(bgk).max()
        assert steep.sum() >= 8
        np.testing.assert_allclose(maxwell[steep] / bgk[steep], expected, rtol=1e-12)
