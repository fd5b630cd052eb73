"""The hyperelastic_device kind through the engine: impossible specs rejected with the field named, the cloak
along and across its design direction, the bend against the naive bend and the mapped straight strip
(brief §3.2, §3.3, §4.4 items 6-7), the stretched-slab lens against its exact virtual-source shift."""

import numpy as np
import pytest

from engine.kind import RunContext
from engine.kinds.hyperelastic_device import HyperelasticDevice
from engine.kinds.hyperelastic_device.spec import HyperelasticDeviceSpec

KIND = "hyperelastic_device"
HEAD = f"kind: {KIND}\nname: run\n"   # a test spec's own lines start at line 3 (of error messages)
TRIANGLE = "[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]"


@pytest.mark.parametrize("extra, pattern", [
    ("grid: {h: 0.2}",
     r"spec\.yaml:3:11: grid\.h: the grid resolves the shortest wavelength 0\.651 m \(slowest speed 0\.651 m/s at "
     r"f0 = 1 Hz\) with 3\.26 points \(expected h <= 0\.0651\)"),
    ("grid: {points_per_wavelength: 8}", r"grid\.points_per_wavelength: .* with 8 points "
     r"\(expected points_per_wavelength >= 10\)"),
    ("device: {type: custom, field: piecewise_affine, triangles: [{ref: " + TRIANGLE + ", cur: "
     "[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]}]}",
     r"device\.triangles: piece 0 is inverted: J = area\(current\)/area\(reference\) = -1 <= 0"),
    ("device: {type: custom, field: piecewise_affine, triangles: [{ref: " + TRIANGLE + ", cur: " + TRIANGLE + "}, "
     "{ref: [[2.0, 0.0], [3.0, 0.0], [2.0, 1.0]], cur: [[0.5, 0.0], [1.5, 0.0], [0.5, 1.0]]}]}",
     r"device\.triangles: pieces 0 and 1 overlap in the current configuration"),
    ("device: {type: custom, field: piecewise_affine, holes: [[[-1.0, -2.5], [1.0, -2.5], [1.0, -1.5], "
     "[-1.0, -1.5]]]}", r"source\.position: a hole or void cuts the source at \(0\.99\d*, -2\)"),
    ("device: {type: cloak}\nsource: {position: [-0.5, 0.0], type: point}",
     r"spec\.yaml:4:20: source\.position: a hole or void cuts the source at \(-0\.5, 0\)"),
    ("device: {type: cloak}\ngrid: {x: [-4.0, 4.0]}", r"absorber\.width: the pre-deformed region \[-2, 2\] x "
     r"\[-2, 2\] reaches into the absorbing layers of width 3 m"),
    ("device: {type: cloak, opening: 2.5}", r"device\.opening: the hole's half-opening b = 2\.5 reaches the rhombus"),
    ("device: {type: custom, field: unidirectional, amplitude: 0.5, radius: 1.0}",
     r"absorber\.width: the unidirectional field deforms the absorbing layers of width 3 m \(\|F - I\| = 0\.0\d+ at"),
    ("device: {type: bend, entry: 40.0}", r"device\.entry: the strip's entry face y = 40\.0 lies outside the grid's "
     r"y range \(expected -6\.0 < entry < 6\.0\)"),
    ("device: {type: bend, angle_deg: 95.0}", r"device\.angle_deg: a bend unit turns by 95\.0° \(expected 0 < "
     r"\|angle_deg\| < 90\)"),
    ("device: {type: lens, stretch: -1.0}", r"device\.stretch: -1\.0 is out of range"),
    ("device: {type: custom, gradient: {mode: custom, F: [[1.0, 0.0], [0.0, -1.0]]}}",
     r"device\.gradient\.F: J = det F = -1 is not positive"),
    ("device: {type: custom, field: unidirectional, amplitude: 2.0}",
     r"device\.amplitude: the unidirectional field inverts the material: min J = .* <= 0"),
    ("time: {cfl: 1.2}", r"time\.cfl: 1\.2 is out of range"),
    ("compare: [bare]", r"compare: the bare run's metrics are measured against the homogeneous run"),
])
def test_impossible_specs_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects(HEAD + extra + "\n", pattern)


def test_cloak_hides_the_hole_along_its_design_direction_only(run_spec):
    result, ds = run_spec(HEAD + "grid: {x: [-5.5, 5.5], y: [-5.5, 5.5], points_per_wavelength: 12, subsample: 2}\n"
                          "device: {type: cloak}\nabsorber: {width: 2.0}\ntime: {t_final: 9.0, save_every: 9.0}\n"
                          "sweep:\n  cases:\n    - {source.direction_deg: 0.0}\n    - {source.direction_deg: 90.0}\n")
    assert result.code == 0, result.err
    along, across = ds["scattered_norm_ratio"].values
    assert along < 0.2                          # >= 5x less scattering than the bare hole (0.107 measured)
    assert across > 0.5                         # not a cloak across its design direction (0.97 measured)
    assert ds["reflection_peak"].values[0] < 0.2 * ds["reflection_peak_bare"].values[0]
    assert ds["w"].dtype == np.float32 and ds["w"].attrs["units"] == "m"
    assert ds["output_error"].values[0] < 0.05


def test_bend_matches_the_mapped_straight_strip_and_reflects_less_than_the_naive_bend(cli, run_spec, tmp_path):
    result, ds = run_spec(HEAD + "grid: {x: [-5.0, 4.0], y: [-5.0, 7.0], points_per_wavelength: 16, subsample: 2}\n"
                          "device: {type: bend, width: 2.0, angle_deg: 30.0}\nabsorber: {width: 2.0}\n"
                          "time: {t_final: 11.0, save_every: 5.5}\n")
    assert result.code == 0, result.err
    assert ds["reflection_peak"] < ds["reflection_peak_bare"]
    assert ds["reflected_energy"] < ds["reflected_energy_bare"]
    assert ds["output_error"] < 0.05            # w_dev(R(alpha) X) = w_straight(X): 0.036 measured
    assert ds["output_error_bare"] > 0.5
    figs = cli("plot", str(tmp_path / "outputs" / "run" / "result.nc"), "--outdir", str(tmp_path / "fig"))
    assert figs.code == 0, figs.err
    assert (tmp_path / "fig" / "snapshots.png").stat().st_size > 0
    assert (tmp_path / "fig" / "metrics.png").stat().st_size > 0


def test_two_bend_units_in_series_match_the_mapped_straight_strip_and_reflect_less_than_bare(run_spec):
    """Units spliced with a gap: the second unit's map is composed with the first's rigid rotation (60° in all)."""
    result, ds = run_spec(HEAD + "grid: {x: [-9.0, 4.0], y: [-5.0, 8.0], points_per_wavelength: 16, subsample: 2}\n"
                          "device: {type: bend, width: 2.0, angle_deg: 30.0, units: 2}\nabsorber: {width: 2.0}\n"
                          "time: {t_final: 13.0, save_every: 6.5}\n")
    assert result.code == 0, result.err
    assert ds["output_error"] < 0.05            # 0.037 measured (0.012 at 24 points per wavelength)
    assert ds["output_error_bare"] > 0.5        # 1.64 measured
    assert ds["reflection_peak"] < 0.5 * ds["reflection_peak_bare"]     # 0.029 vs 0.108 measured
    assert ds["reflected_energy"] < 0.2 * ds["reflected_energy_bare"]   # 7.3e-4 vs 1.0e-2 measured


def test_stretched_slab_moves_the_virtual_source_by_a_minus_1_times_t(run_spec):
    result, ds = run_spec(HEAD + "grid: {x: [-4.0, 4.0], y: [-5.0, 7.0], points_per_wavelength: 12, subsample: 2}\n"
                          "device: {type: lens, design: stretched_slab, width: 3.0, left: -1.5, stretch: 1.5, "
                          "thickness: 1.0}\n"
                          "absorber: {width: 2.0}\nsource: {type: point, position: [0.0, -2.0]}\n"
                          "time: {t_final: 8.0, save_every: 8.0}\ncompare: [homogeneous]\n")
    assert result.code == 0, result.err
    assert float(ds["virtual_source_shift_predicted"]) == 0.5
    assert abs(float(ds["virtual_source_shift"]) - 0.5) < 0.05
    assert float(ds["output_error"]) < 0.05
    assert "w_bare" not in ds and "reflection_peak_bare" not in ds


def test_unidirectional_field_maps_the_host_field_with_second_order_error(run_spec):
    """x = X + phi(X) e2 with a gaussian phi is an exact SH transformation medium: w(x) = w_ref(chi^-1 x)."""
    result, ds = run_spec(HEAD + "grid: {x: [-5.0, 5.0], y: [-6.0, 5.0], subsample: 2}\n"
                          "device: {type: custom, field: unidirectional, profile: gaussian, amplitude: 0.25, "
                          "radius: 0.5}\n"
                          "absorber: {width: 2.0}\ntime: {t_final: 9.0, save_every: 9.0}\ncompare: [homogeneous]\n"
                          "sweep:\n  grid:\n    grid.points_per_wavelength: [12.0, 24.0]\n")
    assert result.code == 0, result.err
    coarse, fine = ds["output_error"].values
    assert coarse < 0.02 and fine < 0.005                    # 0.0073 and 0.0018 measured
    assert 3.0 < coarse / fine < 5.0
    assert ds["reflection_peak"].values.max() < 1e-4         # the map is continuous: nothing reflects


def test_a_run_interrupted_and_resumed_from_its_checkpoint_equals_the_uninterrupted_run(interrupted_and_resumed):
    spec = HyperelasticDeviceSpec.model_validate({
        "kind": "hyperelastic_device", "grid": {"x": [-5.0, 5.0], "y": [-5.0, 5.0], "points_per_wavelength": 10.0,
                                                "subsample": 1},
        "device": {"type": "cloak", "half_width": 1.0, "half_height": 1.0, "opening": 0.3},
        "absorber": {"width": 2.0}, "time": {"t_final": 3.0, "save_every": 0.5}})
    whole, resumed, ctx = interrupted_and_resumed(HyperelasticDevice(), spec, stop_at=8)  # in the bare run
    assert ctx.resumed_from == 7
    for name in ("w", "w_bare", "w_homogeneous", "E", "E_bare", "reflection_peak", "scattered_norm"):
        np.testing.assert_array_equal(resumed[name].values, whole[name].values)


def test_a_run_ending_before_the_wave_reaches_the_device_has_no_device_metrics():
    """The comparison region and the output arm are still at rest: no 0/0 metrics, no crash; a snapshot
    interval that does not divide t_final is rounded so that the run still ends at t_final."""
    spec = HyperelasticDeviceSpec.model_validate({
        "kind": "hyperelastic_device", "grid": {"x": [-3.0, 3.0], "y": [-5.0, 5.0], "points_per_wavelength": 10.0,
                                                "subsample": 1},
        "device": {"type": "lens", "design": "stretched_slab", "width": 2.0, "left": -1.0, "thickness": 0.5},
        "absorber": {"width": 1.0}, "time": {"t_final": 1.0, "save_every": 0.4}})
    ds = HyperelasticDevice().run(spec, RunContext(seed=0))
    assert not {"scattered_norm", "output_error", "scattered_norm_ratio", "virtual_source_shift"} & set(ds.data_vars)
    assert np.abs(ds["w"].isel(t=-1)).max() > 0 and ds["E"].values[-1] > 0
    np.testing.assert_allclose(ds["t"], [0.0, 0.5, 1.0])
