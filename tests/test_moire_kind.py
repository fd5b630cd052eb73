"""Kind moire_exciton through the engine: spec errors naming field and bound, the cell method's
Keller–Dykhne value, free diffusion with decay through the whole analysis pipeline, the Boltzmann state
of the resolved method, detailed balance in kmc, the qualitative targets of twist_density.yaml, figures, the
implicit time stepping of the resolved method."""

import math
from pathlib import Path

import numpy as np
import pytest

from engine.store import open_result

HEAD = "kind: moire_exciton\nname: m\n"
SPECS = Path(__file__).resolve().parent.parent / "specs" / "moire"


@pytest.mark.parametrize("extra, pattern", [
    ("transport: {temperature_K: 0.0}", r"transport\.temperature_K: 0\.0 is out of range.*> 0"),
    ("transport: {diffusion_cm2_s: -0.1}", r"transport\.diffusion_cm2_s: -0\.1 is out of range.*> 0"),
    ("transport: {lifetime_ns: 0.0}", r"transport\.lifetime_ns: 0\.0 is out of range.*> 0"),
    ("initial: {sigma_um: 0.0}", r"initial\.sigma_um: 0\.0 is out of range.*> 0"),
    ("method: resolved\ninitial: {sigma_um: 0.01}\ngrid: {resolved: {points_per_period: 6}}",
     r"grid\.resolved\.points_per_period: 6 points per moiré period a_M = 8\.022 nm do not resolve it "
     r"\(h = 1\.34 nm\) \(expected >= 8\)"),
    ("method: resolved\ninitial: {sigma_um: 0.01}\ngrid: {resolved: {dt_ps: 0.1}}",
     r"grid\.resolved\.dt_ps: dt_ps = 0\.1 is above the explicit stability bound 0\.00\d+ ps "
     r"\(expected dt_ps <= 0\.00\d+\)"),
    ("grid: {continuum: {dt_ns: 1.0}}",
     r"grid\.continuum\.dt_ns: dt_ns = 1 is above the explicit stability bound 0\.0\d+ ns"),
    ("method: kmc\ninitial: {peak_density_cm2: 2.0e12}\ngrid: {kmc: {exclusion: true}}",
     r"initial\.peak_density_cm2: peak_density_cm2 = 2e\+12 is above one exciton per moiré site "
     r"\(n_M = 1\.794e\+12 cm\^-2\) with exclusion on \(expected peak_density_cm2 <= 1\.794e\+12\)"),
    ("twist_deg: 75.0", r"twist_deg: 75\.0 is out of range.*<= 60"),
    ("method: resolved\ninitial: {sigma_um: 0.01}\ngrid: {resolved: {time_stepping: fast}}",
     r"grid\.resolved\.time_stepping: 'fast' is not allowed \(expected one of 'explicit', 'implicit' or 'auto'\)"),
    ("time: {t_final_ns: 1.0, save_every_ns: 2.0}", r"time\.save_every_ns: .*\(expected save_every_ns <= 1\)"),
])
def test_impossible_specs_are_rejected_with_the_field_and_bound(rejects, extra, pattern):
    rejects(HEAD + extra + "\n", pattern)


def test_cell_method_gives_the_keller_dykhne_value_with_units_on_everything(run_spec):
    result, ds = run_spec(HEAD + "method: cell\npotential: {depth_meV: 100.0, phase_deg: 30.0}\n"
                          "transport: {diffusion_cm2_s: 0.5}\npopulations: {enabled: true, gap_meV: 50.0}\n")
    assert result.code == 0, result.err
    assert float(ds["D_eff_ratio"].sel(species="KK")) == pytest.approx(0.66048, abs=3e-5)
    assert float(ds["keller_dykhne_ratio"].sel(species="KK")) == pytest.approx(0.66047, abs=1e-5)
    assert float(ds["D_eff"].sel(species="KK")) == pytest.approx(0.5 * 0.66048, abs=3e-5)
    assert float(ds["moire_period"]) == pytest.approx(8.02, abs=5e-3)
    assert float(ds["kk_fraction_eq"]) == pytest.approx(0.030, abs=1e-3)
    for name in list(ds.data_vars) + list(ds.coords):
        if name not in ("run_id", "run_status"):
            assert "units" in ds[name].attrs, name


def test_continuum_free_diffusion_with_decay_through_the_analysis(run_spec):
    result, ds = run_spec(HEAD + "method: continuum\npotential: {depth_meV: 0.0}\n"
                          "transport: {diffusion_cm2_s: 0.5, lifetime_ns: 2.0}\ninitial: {sigma_um: 0.2}\n"
                          "grid: {continuum: {cells: 200, extent_um: 2.5}}\n"
                          "time: {t_final_ns: 1.0, save_every_ns: 0.1}\n")
    assert result.code == 0, result.err
    t = ds["t"].values
    np.testing.assert_allclose(ds["msd"].values, 2 * 0.05 * t, rtol=5e-3, atol=1e-6)  # 0.5 cm²/s = 0.05 µm²/ns
    np.testing.assert_allclose(ds["msd_raw"].values, 2 * 0.05 * t, rtol=5e-3, atol=1e-6)
    np.testing.assert_allclose(ds["D_app"].values, 0.5, rtol=5e-3)
    assert float(ds["alpha"]) == pytest.approx(1.0, abs=5e-3)
    assert float(ds["L_msd"]) == pytest.approx(math.sqrt(0.1), rel=3e-3)
    pop = ds["population_total"].values
    np.testing.assert_allclose(pop, pop[0] * np.exp(-t / 2.0), rtol=5e-4)  # forward Euler: O(t dt / 2 tau^2)
    assert pop[0] == pytest.approx(1e12 * 1e-8 * 2 * math.pi * 0.2 ** 2, rel=1e-3)
    assert ds["x"].attrs["units"] == "um" and ds["t"].attrs["units"] == "ns"
    assert ds["D_app"].attrs["units"] == "cm^2/s" and ds["linecut"].attrs["units"] == "cm^-2"


def test_resolved_boltzmann_state_stays_and_kmc_exchange_reaches_detailed_balance(run_spec):
    result, ds = run_spec(HEAD + "method: resolved\ninitial: {profile: boltzmann}\n"
                          "potential: {depth_meV: 100.0}\ntransport: {lifetime_ns: .inf}\n"
                          "grid: {resolved: {points_per_period: 8, cells_x: 4, cells_y: 2}}\n"
                          "time: {t_final_ns: 0.002, save_every_ns: 0.001}\n")
    assert result.code == 0, result.err
    lc = ds["linecut"].values
    np.testing.assert_allclose(lc[-1], lc[0], rtol=1e-12)
    result, ds = run_spec(HEAD + "method: kmc\ninitial: {profile: uniform, peak_density_cm2: 1.0e12}\n"
                          "populations: {enabled: true, gap_meV: 20.0, kq_rate_per_ps: 2.0, kq: {lifetime_ns: .inf}}\n"
                          "transport: {lifetime_ns: .inf}\n"
                          "grid: {kmc: {lattice_sites: 96, rates: free}}\n"
                          "time: {t_final_ns: 0.02, save_every_ns: 0.01}\n", "--force")
    assert result.code == 0, result.err
    pop = ds["population"].isel(t=-1).values
    assert pop.sum() == ds["population"].isel(t=0).values.sum()
    assert pop[0] / pop.sum() == pytest.approx(float(ds["kk_fraction_eq"]), abs=0.01)
    assert float(ds["kk_fraction_eq"]) == pytest.approx(0.092, rel=0.03)


def test_twist_density_spec_shows_the_qualitative_targets(cli, tmp_path):
    spec = SPECS / "twist_density.yaml"
    result = cli("run", str(spec), "--set", "grid.continuum.cells=60", "--set", "time.save_every_ns=0.5",
                 "--executor", "serial", "--quiet", "--outputs", str(tmp_path / "out"))
    assert result.code == 0, result.err
    ds = open_result(tmp_path / "out" / "twist_density" / "result.nc")
    length = ds["L_msd"].transpose("twist_deg", "initial_peak_density_cm2").values
    assert np.all(np.diff(length, axis=1) > 0)  # longer at higher density, at every twist
    assert np.all(ds["alpha"].values < 0.9)  # sub-linear msd
    assert np.ptp(length[:4, 0]) > 0  # depends on twist
    plots = cli("plot", str(tmp_path / "out" / "twist_density" / "result.nc"), "--outdir",
                       str(tmp_path / "fig"))
    assert plots.code == 0, plots.err
    assert {p.name for p in (tmp_path / "fig").glob("*.png")} >= {"msd.png", "diffusion_length.png",
                                                                   "populations.png", "linecuts.png"}


@pytest.mark.parametrize("method, extra", [
    ("continuum", {"grid": {"continuum": {"cells": 60}}, "transport": {"repulsion_eV_cm2": 1.5e-14}}),
    ("resolved", {"grid": {"resolved": {"points_per_period": 8, "cells_x": 8, "cells_y": 1,
                                        "time_stepping": "implicit"}},
                  "initial": {"profile": "stripe", "sigma_um": 0.01}, "transport": {"annihilation_cm2_s": 1e-3}}),
    ("kmc", {"grid": {"kmc": {"lattice_sites": 128, "rates": "free"}}, "initial": {"sigma_um": 0.08}}),
])
def test_a_run_resumed_from_its_checkpoint_gives_the_same_result(interrupted_and_resumed, method, extra):
    from engine.kinds.moire_exciton import MoireExciton
    from engine.kinds.moire_exciton.spec import MoireExcitonSpec

    window = {"t_final_ns": 0.01, "save_every_ns": 0.001} if method == "resolved" else {
        "t_final_ns": 0.5, "save_every_ns": 0.05}
    spec = MoireExcitonSpec.model_validate({"kind": "moire_exciton", "method": method, "time": window, **extra})
    reference, resumed, ctx = interrupted_and_resumed(MoireExciton(), spec, stop_at=6, seed=3)
    assert ctx.resumed_from == 5
    for name in ("linecut", "population", "sigma2_raw", "msd"):
        np.testing.assert_array_equal(resumed[name].values, reference[name].values)


def test_continuum_2d_and_radial_geometries_agree(run_spec):
    body = ("method: continuum\ntransport: {repulsion_eV_cm2: 2.0e-14, annihilation_cm2_s: 1.0e-2, "
            "trap_filling: {enabled: true}}\ninitial: {sigma_um: 0.2, peak_density_cm2: 2.0e12}\n"
            "time: {t_final_ns: 0.5, save_every_ns: 0.25}\n")
    result, radial = run_spec(HEAD + body + "grid: {continuum: {cells: 75, extent_um: 1.5}}\n")
    assert result.code == 0, result.err
    result, flat = run_spec(HEAD + body + "grid: {continuum: {geometry: 2d, cells: 75, extent_um: 1.5}}\n", "--force")
    assert result.code == 0, result.err
    assert flat.sizes["x"] == 75 and radial.sizes["x"] == 150
    np.testing.assert_allclose(flat["sigma2_raw"], radial["sigma2_raw"], rtol=1e-2)
    np.testing.assert_allclose(flat["population_total"], radial["population_total"], rtol=1e-2)
    assert float(flat["msd_raw"].isel(t=-1)) > 0


def test_resolved_auto_steps_the_homogenization_run_implicitly_and_matches_explicit(run_spec):
    """The resolved case of homogenization.yaml (25 ps, ψ = 30°): auto picks the implicit path by the cost model,
    records it, and agrees with forced forward Euler: line cuts to 1e-3 of the peak, D_late to 1e-6."""
    body = (SPECS / "homogenization.yaml").read_text().split("sweep:")[0].replace("method: cell", "method: resolved")
    body = body.replace("phase_deg: 0.0", "phase_deg: 30.0")
    results = {}
    for stepping in ("auto", "explicit"):
        result, ds = run_spec(body + f"name: h_{stepping}\n", "--set", f"grid.resolved.time_stepping={stepping}")
        assert result.code == 0, result.err
        results[stepping] = ds
    auto, explicit = results["auto"], results["explicit"]
    assert int(auto["time_stepping_implicit"]) == 1 and auto["time_step"].attrs["time_stepping_used"] == "implicit"
    assert int(explicit["time_stepping_implicit"]) == 0
    assert float(auto["time_step"]) > 300 * float(explicit["time_step"])
    lc, ref = auto["linecut"].values, explicit["linecut"].values
    assert np.abs(lc - ref).max() <= 1e-3 * ref.max()
    assert float(auto["D_late"]) == pytest.approx(float(explicit["D_late"]), rel=1e-6)
    assert float(auto["D_late"]) == pytest.approx(float(auto["D_cell_grid"]), rel=1e-2)
