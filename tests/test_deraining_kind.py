"""The deraining kind (issue 25): spec errors that name the field and the bound, the classical baselines on
cases with known answers, a reduced run whose numbers are checked against independent computations, and the
report's verdicts on the claims."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from engine.kind import RunContext
from engine.kinds.deraining import photos
from engine.kinds.deraining.analysis import claims
from engine.plan import resolve_text
from engine.registry import get_kind
from learners import derain_net
from solvers import derain_baselines as baselines
from solvers import rain

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------------------
# spec
# ---------------------------------------------------------------------------


def test_the_photo_catalogue_has_the_photos_shapes_and_the_solvers_default_sets():
    for name, shape in photos.PHOTO_SHAPES.items():
        assert rain.load_photo(name).shape == shape, name
    assert tuple(photos.TRAIN_PHOTOS) == rain.TRAIN_PHOTOS and tuple(photos.TEST_PHOTOS) == rain.TEST_PHOTOS


@pytest.mark.parametrize("extra, pattern", [
    ("data: {crop: 192}", r"data\.crop: a crop of 192 px is larger than the smallest photo of its set \(page, 191 px "
     r"on its short side\) \(expected crop <= 191\)"),
    ("data: {test_crop: 176}", r"data\.test_crop: a crop of 176 px .*\(text, 172 px .*\(expected crop <= 172\)"),
    ("data: {crop: 50}", r"data\.crop: 50 px is not a multiple of 4"),
    ("data: {test_photos: [camera, brick]}", r"data\.test_photos: \['brick'\] are training photos too"),
    ("losses: {p: 1.5}", r"losses\.p: 1\.5 is out of range \(expected a value <= 1(\.0)?\)"),
    ("losses: {p: 0.0}", r"losses\.p: 0(\.0)? is out of range \(expected a value > 0(\.0)?\)"),
    ("losses: {low_value: -0.1}", r"losses\.low_value: -0\.1 is out of range \(expected a value >= 0(\.0)?\)"),
    ("losses: {auxiliary: -1.0}", r"losses\.auxiliary: -1(\.0)? is out of range \(expected a value >= 0(\.0)?\)"),
    ("rain: {layers: [{depth: 1.0, density: 1.5, brightness: 1.0}]}",
     r"rain\.layers\.0\.density: 1\.5 is out of range \(expected a value <= 1(\.0)?\)"),
    ("rain: {layers: [{depth: 1.0, density: -0.1, brightness: 1.0}]}",
     r"rain\.layers\.0\.density: -0\.1 is out of range \(expected a value >= 0(\.0)?\)"),
    ("rain: {diameter: [0.1, 2.0]}", r"rain\.diameter: .*\(expected 0\.2 <= min <= max <= 6 mm\)"),
    ("network: {groups: 3}", r"network\.groups: 3 groups do not divide network\.width = 16"),
    ("cost: {groups: [1, 5]}", r"cost\.groups: 5 groups do not divide network\.width = 16"),
    ("baselines: {median_length: 8}", r"baselines\.median_length: 8 px has no centre pixel"),
    ("evaluation: {figure_crop: 200}", r"evaluation\.figure_crop: 200 px is larger than the held-out crops"),
])
def test_bad_input_is_a_spec_error_naming_the_field_and_the_bound(rejects, extra, pattern):
    rejects("kind: deraining\nname: d\n" + extra + "\n", pattern)


def test_each_arm_switches_on_exactly_its_priors():
    def weights(arm):
        return resolve_text(f"kind: deraining\nlosses: {{arm: {arm}}}\n").spec.losses.weights()

    assert weights("l1") == {"similarity": 1.0, "low_value": 0.0, "quasi_sparsity": 0.0, "auxiliary": 0.0}
    assert weights("quasi_sparsity") == {"similarity": 1.0, "low_value": 0.0, "quasi_sparsity": 0.02,
                                         "auxiliary": 0.0}
    assert weights("all") == {"similarity": 1.0, "low_value": 0.05, "quasi_sparsity": 0.02, "auxiliary": 0.5}


# ---------------------------------------------------------------------------
# classical baselines: known answers
# ---------------------------------------------------------------------------


def test_median_across_a_thin_streak_gives_the_background_and_keeps_what_is_constant_along_it():
    background = np.tile(np.linspace(0.2, 0.6, 40)[:, None], (1, 40))  # varies along y only
    streaked = background.copy()
    streaked[:, 17] += 0.3  # a vertical streak one pixel wide
    across = baselines.directional_median(streaked, math.pi / 2, 3)  # angle pi/2: along +x, across the streak
    np.testing.assert_array_equal(across, background)
    along = baselines.directional_median(streaked, 0.0, 9)  # along the streak: linear in y, the median keeps it
    np.testing.assert_array_equal(along[4:-4], streaked[4:-4])
    # a diagonal one-pixel line on a constant image, the median across it (angle -pi/4)
    line = np.full((30, 30), 0.4) + 0.5 * np.eye(30)
    np.testing.assert_array_equal(baselines.directional_median(line, -math.pi / 4, 5), np.full((30, 30), 0.4))


@pytest.mark.parametrize("wind", [-3.0, 0.0, 2.5])
def test_streak_angle_of_rendered_rain_is_the_set_fall_angle(wind):
    config = rain.RainConfig(layers=(rain.RainLayer(2.0, 0.003, 1.0),), wind=(wind, wind), gust=0.0,
                             diameter=(2.0, 2.0), clip=False)
    field = 0.3 + rain.render_rain((128, 128), config, wind, np.random.default_rng(0))
    expected = math.atan2(wind, rain.terminal_speed(2.0))
    assert abs(baselines.streak_angle(field) - expected) < math.radians(1.0)


def test_l0_smoothing_keeps_piecewise_constant_images_and_the_mean_and_flattens_small_texture():
    blocks = np.zeros((32, 48))
    blocks[8:20, 10:30] = 1.0
    blocks[20:, 30:] = -0.8  # jumps of 1, 0.8 and 1.8: above 1/sqrt(2) at the first iteration
    np.testing.assert_allclose(baselines.l0_smooth(blocks, 0.02), blocks, rtol=0, atol=1e-12)
    texture = 0.5 + 0.01 * np.random.default_rng(0).standard_normal((32, 48))
    smooth = baselines.l0_smooth(texture, 0.02)
    assert smooth.mean() == pytest.approx(texture.mean(), abs=1e-12)
    assert np.abs(smooth - texture.mean()).max() < 1e-3 < np.abs(texture - texture.mean()).max()


def test_both_baselines_only_remove_light():
    sample = rain.rainy_sample(rain.load_photo("camera")[:64, :64], rain.RainConfig(), np.random.default_rng(0))
    for estimate in (baselines.median_derain(sample.rainy, 9), baselines.l0_derain(sample.rainy, 0.02)):
        assert np.all(estimate <= sample.rainy)
        assert derain_net.psnr(estimate, sample.background) > derain_net.psnr(sample.rainy, sample.background) + 1


@pytest.mark.parametrize("call, name", [
    (lambda: baselines.directional_median(np.zeros((4, 4)), 0.0, 4), "directional_median.length"),
    (lambda: baselines.l0_smooth(np.zeros((4, 4)), 0.0), "l0_smooth.lam"),
    (lambda: baselines.l0_smooth(np.zeros((4, 4)), 0.1, kappa=1.0), "l0_smooth.kappa"),
])
def test_baselines_name_a_bad_argument(call, name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        call()


# ---------------------------------------------------------------------------
# a reduced run
# ---------------------------------------------------------------------------

REDUCED = ("kind: deraining\nname: reduced\ndata: {train_count: 64, crop: 32, test_count: 3, test_crop: 48}\n"
           "network: {width: 8, groups: 4}\ntraining: {steps: 300, batch: 8, lr: 0.004, record_every: 60}\n"
           "evaluation: {figure_crop: 24}\nlosses: {arm: all}\n")


@pytest.fixture(scope="module")
def reduced():
    """(spec, dataset) of the reduced run, by the kind's run function."""
    from learners.training import torch_threads

    point = resolve_text(REDUCED, "<test>").points[0]
    with torch_threads(1):
        return point.spec, get_kind("deraining").run(point.spec, RunContext(seed=0, run_id=point.run_id))


def test_reduced_run_scores_the_input_and_the_baselines_as_computed_independently(reduced):
    spec, ds = reduced
    test = rain.make_dataset(rain.TEST_PHOTOS, 3, 48, rain.RainConfig(), seed=spec.data.test_seed)
    rainy = [derain_net.psnr(o, b) for o, b in zip(test.rainy, test.background)]
    assert ds["image_psnr"].sel({"method": "rainy_input"}).values == pytest.approx(rainy, rel=1e-12)
    median = [derain_net.psnr(baselines.median_derain(o, 9), b) for o, b in zip(test.rainy, test.background)]
    assert ds["image_psnr"].sel({"method": "directional_median"}).values == pytest.approx(median, rel=1e-12)
    l0 = [derain_net.ssim(baselines.l0_derain(o, 0.02), b) for o, b in zip(test.rainy, test.background)]
    assert ds["image_ssim"].sel({"method": "l0_separation"}).values == pytest.approx(l0, rel=1e-12)
    assert float(ds["psnr"].sel({"method": "rainy_input"})) == pytest.approx(np.mean(rainy), rel=1e-12)
    crop = ds["crop"]
    np.testing.assert_array_equal(crop.sel(panel="truth"), test.background[0, :24, :24])
    np.testing.assert_array_equal(crop.sel(panel="true_rain"), test.rainy[0, :24, :24] - test.background[0, :24, :24])
    np.testing.assert_allclose(crop.sel(panel="predicted_rain") + crop.sel(panel="derained"), crop.sel(panel="rainy"),
                               rtol=0, atol=1e-12)


def test_reduced_run_starts_at_the_identity_and_learns_to_derain(reduced):
    spec, ds = reduced
    test = rain.make_dataset(rain.TEST_PHOTOS, 3, 48, rain.RainConfig(), seed=spec.data.test_seed)
    error = ds["held_out_error"].values
    assert error[0] == pytest.approx(np.mean(np.abs(test.rainy - test.background)), rel=1e-5)  # zero rain head
    assert np.isnan(ds["train_loss"].values[0]) and np.all(np.isfinite(ds["train_loss"].values[1:]))
    # 300 steps of a width-8 network (+3.4 dB here; the claims' sizes: specs/deraining/ablation.yaml)
    assert error[-1] < 0.85 * error[0]
    psnr = ds["psnr"]
    assert float(psnr.sel({"method": "learned"})) > float(psnr.sel({"method": "rainy_input"})) + 2.0


def test_cost_table_counts_the_bodies_exactly(reduced):
    """Body multiply-adds per pixel: 5 bodies, each block two 3x3 convolutions of c x c / g, at widths w (2
    bodies, all pixels), 2w (2 bodies, 1/4 of them), 4w (1 body, 1/16): 2 x 9 w^2 / g (2 + 2 + 1) = 90 w^2 / g."""
    spec, ds = reduced
    w = spec.network.width
    macs, params, body = ds["multiply_adds"], ds["parameters"], ds["body_parameters"]
    plain, grouped = macs.sel(cost_groups=1), macs.sel(cost_groups=4)
    np.testing.assert_allclose(plain - grouped, 90 * w**2 * (1 - 1 / 4) * 1e6, rtol=1e-12)
    np.testing.assert_array_equal(body.sel(cost_groups=1), 4 * body.sel(cost_groups=4))
    np.testing.assert_array_equal(params.sel(feature_sharing=0), params.sel(feature_sharing=1))  # sharing is free
    # two bias-free 3x3 convolutions of c x c per block, c = w, 2w, 4w, 2w, w in the five bodies
    assert float(body.sel(cost_groups=1, feature_sharing=0)) == 2 * 9 * w**2 * (1 + 4 + 16 + 4 + 1)


# ---------------------------------------------------------------------------
# the report's claims
# ---------------------------------------------------------------------------


def _ablation_result(learned: dict[str, list[float]]) -> xr.Dataset:
    """A result over (losses.arm, seed, method) whose learned PSNR per arm and seed is ``learned``; the rainy
    input at 24 dB, the baselines at 28 and 29 dB; SSIM 0.9 everywhere."""
    arms = list(learned)
    psnr = np.empty((len(arms), 3, 4))
    psnr[..., 0], psnr[..., 2], psnr[..., 3] = 24.0, 28.0, 29.0
    psnr[..., 1] = np.array([learned[a] for a in arms])
    return xr.Dataset({"psnr": (("losses.arm", "seed", "method"), psnr),
                       "ssim": (("losses.arm", "seed", "method"), np.full(psnr.shape, 0.9))},
                      coords={"losses.arm": arms, "seed": [0, 1, 2],
                              "method": ["rainy_input", "learned", "directional_median", "l0_separation"],
                              "image": [0, 1]})


def test_report_calls_a_gain_only_beyond_the_seed_spread_and_states_the_8_db_claim():
    text = "\n".join(claims(_ablation_result({"l1": [33.0, 33.5, 34.0], "low_value": [33.6, 34.1, 34.6],
                                              "quasi_sparsity": [33.2, 33.4, 34.3], "all": [31.0, 31.6, 32.0]})))
    assert "low_value: 0.60 ± 0.00 dB, a gain" in text
    assert "quasi_sparsity: 0.13 ± 0.21 dB, within the seed spread: not a gain" in text
    assert "all: -1.97 ± 0.06 dB, a loss" in text
    assert "learned arm=l1: PSNR 33.50 ± 0.50, SSIM 0.900 ± 0.000; +9.50 dB over the rainy input (claim >= 8: " \
        "met), +4.50 dB over the best baseline (met)" in text
    assert "learned arm=all: PSNR 31.53 ± 0.50, SSIM 0.900 ± 0.000; +7.53 dB over the rainy input (claim >= 8: NOT " \
        "met)" in text
