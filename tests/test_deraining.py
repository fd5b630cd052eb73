"""Deraining foundations: the rain renderer (exact layers, streak geometry from the physics), the
losses against hand-computed values, the network's grouping and scales, and the image metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage
from skimage.filters import scharr_h, scharr_v

from learners import derain_losses as losses
from learners import derain_net
from learners.training import torch_threads
from solvers import rain


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny images: intra-op threads only wait on each other (and on a shared machine, for long)."""
    with torch_threads(1):
        yield


# ---------------------------------------------------------------------------
# renderer
# ---------------------------------------------------------------------------


def _single_size_rain(depth: float, wind: float, density: float = 0.003, brightness: float = 1.0,
                      diameter: float = 2.0) -> rain.RainConfig:
    """One layer of equal drops in a steady wind, unclipped: every streak has the same geometry."""
    return rain.RainConfig(layers=(rain.RainLayer(depth, density, brightness),), wind=(wind, wind), gust=0.0,
                           diameter=(diameter, diameter), clip=False)


def _set_streak(config: rain.RainConfig, diameter: float = 2.0) -> tuple[float, float, float]:
    """(angle from +y towards +x (rad), length (px), sigma (px)) of the module's formulas, by hand."""
    layer, wind = config.layers[0], config.wind[0]
    speed = 9.65 - 10.3 * math.exp(-0.6 * diameter)
    length = config.focal * config.exposure * math.hypot(wind, speed) / layer.depth
    sigma = max(config.focal * diameter * 1e-3 / layer.depth / 2.3548200450309493, config.min_sigma)
    return math.atan2(wind, speed), length, sigma


def test_zero_drops_give_the_background_exactly_with_and_without_haze():
    background = rain.load_photo("camera")[100:164, 200:264]
    dry = (rain.RainLayer(1.0, 0.0, 5.0), rain.RainLayer(4.0, 0.0, 5.0))
    clear = rain.rainy_sample(background, rain.RainConfig(layers=dry), np.random.default_rng(0))
    assert not clear.rain.any()
    assert np.array_equal(clear.rainy, background)
    haze = rain.Haze(beta=0.1, depth_top=12.0, depth_bottom=2.0, airlight=0.9)
    hazy = rain.rainy_sample(background, rain.RainConfig(layers=dry, haze=haze), np.random.default_rng(0))
    t = np.exp(-0.1 * np.linspace(12.0, 2.0, 64))[:, None]
    np.testing.assert_allclose(hazy.rainy, t * background + (1 - t) * 0.9, rtol=0, atol=1e-15)


@pytest.mark.parametrize("clip", [False, True])
def test_rainy_image_is_background_plus_rain_exactly(clip):
    config = rain.RainConfig(clip=clip)
    sample = rain.rainy_sample(rain.load_photo("coins")[:96, :96], config, np.random.default_rng(3))
    assert np.array_equal(sample.rainy, sample.background + sample.rain)
    assert sample.rain.max() > 0.2  # streaks are there
    if clip:
        assert sample.rainy.min() >= 0.0 and sample.rainy.max() <= 1.0
    else:
        assert sample.rain.min() >= 0.0


def test_haze_form_holds_exactly_with_the_set_transmission():
    haze = rain.Haze(beta=0.08, depth_top=15.0, depth_bottom=3.0, airlight=0.7)
    sample = rain.rainy_sample(rain.load_photo("coffee")[:80, :120], rain.RainConfig(haze=haze),
                               np.random.default_rng(1))
    t, b, r = sample.transmission, sample.background, sample.rain
    assert np.array_equal(sample.rainy, t * (b + r) + (1 - t) * 0.7)
    np.testing.assert_allclose(t[:, 0], np.exp(-0.08 * np.linspace(15.0, 3.0, 80)), rtol=1e-14)
    assert sample.airlight == 0.7


@pytest.mark.parametrize("length, sigma, angle", [(12.0, 0.5, 0.43), (20.0, 1.0, -0.7), (5.0, 0.7, 1.2),
                                                  (0.0, 1.0, 0.0)])
def test_streak_kernel_integrates_to_its_intensity_with_segment_moments(length, sigma, angle):
    """A segment of length l blurred by a Gaussian: variance l^2/12 + sigma^2 along it, sigma^2 across."""
    kernel = rain.streak_kernel(length, sigma, angle, 2.5)
    assert kernel.sum() == pytest.approx(2.5, rel=1e-13)
    r = kernel.shape[0] // 2
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    ux, uy = math.sin(angle), math.cos(angle)
    along, across = x * ux + y * uy, -x * uy + y * ux
    assert np.sum(kernel * x) == pytest.approx(0.0, abs=1e-12)
    assert np.sum(kernel * along ** 2) / 2.5 == pytest.approx(length ** 2 / 12 + sigma ** 2, rel=3e-3)
    assert np.sum(kernel * across ** 2) / 2.5 == pytest.approx(sigma ** 2, rel=3e-3)
    # no tilt: the along/across correlation is below 1 % (sampling a sigma = 0.5 px blur on pixels)
    assert abs(np.sum(kernel * along * across)) / 2.5 < 1e-2 * math.sqrt(length ** 2 / 12 + sigma ** 2) * sigma


def test_a_drop_inside_the_image_deposits_brightness_times_its_image_area():
    """Garg & Nayar: the streak's integral is brightness * pi w^2 / 4 with w = f D / z, whatever its speed."""
    config = rain.RainConfig(layers=(rain.RainLayer(2.0, 1e-3, 3.0),), wind=(1.0, 1.0), gust=0.0,
                             diameter=(2.0, 2.0), clip=False)
    width = config.focal * 2e-3 / 2.0
    canvas = rain.render_rain((400, 400), config, 1.0, np.random.default_rng(5))
    labels, count = ndimage.label(canvas > 0)
    sizes = ndimage.sum(canvas, labels, range(1, count + 1))
    boxes = ndimage.find_objects(labels)
    inside = [s for s, (rows, cols) in zip(sizes, boxes)
              if rows.start > 0 and cols.start > 0 and rows.stop < 400 and cols.stop < 400]
    isolated = np.array(inside)[np.isclose(inside, 3.0 * np.pi * width ** 2 / 4, rtol=1e-9)]
    assert len(isolated) >= 20  # most single streaks; overlapping ones sum to multiples


def _streak_angle(field: np.ndarray) -> float:
    """Angle (rad in [0, pi), from +y towards +x) of the least-variation direction of the structure tensor
    of ``field`` built on Scharr derivatives (nearly rotation invariant)."""
    gx, gy = scharr_v(field), scharr_h(field)
    tensor = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
    x, y = np.linalg.eigh(tensor)[1][:, 0]
    return math.atan2(x, y) % math.pi


def _half_correlation_lag(field: np.ndarray, angle: float) -> float:
    """Lag (px) along ``angle`` at which the normalised autocorrelation of ``field`` first drops to 1/2."""
    a = field - field.mean()
    n0, n1 = a.shape
    power = np.abs(np.fft.rfft2(a, s=(2 * n0, 2 * n1))) ** 2
    correlation = np.fft.fftshift(np.fft.irfft2(power, s=(2 * n0, 2 * n1)))
    correlation /= correlation[n0, n1]
    lags = np.arange(0.0, 60.0, 0.05)
    profile = ndimage.map_coordinates(correlation, [n0 + lags * math.cos(angle), n1 + lags * math.sin(angle)],
                                      order=1)
    return float(lags[np.argmax(profile < 0.5)])


@pytest.mark.parametrize("wind, depth", [(0.0, 2.0), (3.0, 2.0), (-3.0, 2.0), (6.0, 1.5), (3.0, 1.0)])
def test_rendered_streaks_follow_the_wind_angle_and_the_speed_length(wind, depth):
    config = _single_size_rain(depth, wind)
    angle, length, sigma = _set_streak(config)
    field = rain.render_rain((192, 192), config, wind, np.random.default_rng(0))
    measured = _streak_angle(field)
    assert abs((measured - angle + math.pi / 2) % math.pi - math.pi / 2) < math.radians(1.5)
    # the field's correlation length along the streaks is that of one streak of the set length
    padded = np.pad(rain.streak_kernel(length, sigma, angle, 1.0), 1)
    assert _half_correlation_lag(field, angle) == pytest.approx(_half_correlation_lag(padded, angle), rel=0.1)


def test_nearer_and_windier_streaks_are_longer_as_set():
    far, near = _single_size_rain(2.0, 0.0), _single_size_rain(1.0, 0.0)
    lag = {}
    for name, config in (("far", far), ("near", near)):
        lag[name] = _half_correlation_lag(rain.render_rain((192, 192), config, 0.0, np.random.default_rng(1)), 0.0)
    assert lag["near"] / lag["far"] == pytest.approx(_set_streak(near)[1] / _set_streak(far)[1], rel=0.1)


def test_same_seed_same_rain_and_different_seed_different_rain():
    config = rain.RainConfig(haze=rain.Haze())
    a = rain.make_dataset(rain.TRAIN_PHOTOS, 3, 48, config, seed=7)
    b = rain.make_dataset(rain.TRAIN_PHOTOS, 3, 48, config, seed=7)
    c = rain.make_dataset(rain.TRAIN_PHOTOS, 3, 48, config, seed=8)
    for field in ("background", "rain", "transmission", "rainy", "wind", "origin"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert a.photo == b.photo
    assert not np.array_equal(a.rain, c.rain)


def test_train_and_test_photos_are_disjoint_distinct_images_and_samples_come_from_their_set():
    assert not set(rain.TRAIN_PHOTOS) & set(rain.TEST_PHOTOS)
    photos = [rain.load_photo(name) for name in rain.TRAIN_PHOTOS + rain.TEST_PHOTOS]
    for i, p in enumerate(photos):  # no photo is another under a second name (cat is chelsea)
        for q in photos[i + 1:]:
            assert p.shape != q.shape or not np.allclose(p, q, atol=0.02)
    test = rain.make_dataset(rain.TEST_PHOTOS, 6, 64, rain.RainConfig(), seed=0)
    assert set(test.photo) <= set(rain.TEST_PHOTOS)
    for name, (row, col), background in zip(test.photo, test.origin, test.background):
        assert np.array_equal(background, rain.load_photo(name)[row:row + 64, col:col + 64])


@pytest.mark.parametrize("make, field", [
    (lambda: rain.RainLayer(density=1.5), "RainLayer.density"),
    (lambda: rain.RainLayer(density=-0.1), "RainLayer.density"),
    (lambda: rain.RainConfig(diameter=(0.05, 2.0)), "RainConfig.diameter"),
    (lambda: rain.make_dataset(rain.TEST_PHOTOS, 1, 173, rain.RainConfig(), 0), "make_dataset.crop"),
    (lambda: losses.LossWeights(p=1.2), "LossWeights.p"),
    (lambda: losses.LossWeights(p=0.0), "LossWeights.p"),
    (lambda: losses.LossWeights(low_value=-0.1), "LossWeights.low_value"),
    (lambda: derain_net.DerainNet(width=10, groups=4), "DerainNet.groups"),
])
def test_bad_inputs_name_the_field(make, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        make()


def test_crop_of_the_smallest_photo_side_is_allowed():
    assert rain.smallest_photo_side(rain.TEST_PHOTOS) == 172  # "text" is 172 x 448
    assert rain.make_dataset(rain.TEST_PHOTOS, 1, 172, rain.RainConfig(layers=()), 0).rainy.shape == (1, 172, 172)


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------


def _image(rows) -> torch.Tensor:
    """A (1, 1, H, W) float64 tensor."""
    return torch.tensor(rows, dtype=torch.float64)[None, None]


def test_similarity_and_low_value_equal_their_formulas():
    b_hat, b = _image([[0.5, 0.2], [0.1, 0.9]]), _image([[0.4, 0.4], [0.1, 0.6]])
    assert losses.similarity_l1(b_hat, b).item() == pytest.approx((0.1 + 0.2 + 0.0 + 0.3) / 4, rel=1e-14)
    assert losses.similarity_l2(b_hat, b).item() == pytest.approx((0.01 + 0.04 + 0.0 + 0.09) / 4, rel=1e-14)
    assert losses.low_value(_image([[0.0, -0.2], [0.4, 0.0]])).item() == pytest.approx(0.6 / 4, rel=1e-14)
    assert losses.low_value(torch.zeros(2, 1, 4, 4)).item() == 0.0


def test_quasi_sparsity_equals_its_formula_and_vanishes_on_constant_images():
    p, eps = 0.5, 0.1
    ramp = _image([[0.0, 1.0], [0.0, 1.0]])  # d_x = 1 twice, d_y = 0 twice
    expected = (1.0 + eps ** 2) ** (p / 2) - eps ** p
    assert losses.quasi_sparsity(ramp, torch.zeros_like(ramp), p, eps).item() == pytest.approx(expected, rel=1e-14)
    # both layers count: the ramp as rain too doubles it
    assert losses.quasi_sparsity(ramp, ramp, p, eps).item() == pytest.approx(2 * expected, rel=1e-14)
    # second order on x^2 along a row: d_x = (1, 3), d_xx = (2), d_y = d_yy = d_xy = 0
    square = _image([[0.0, 1.0, 4.0], [0.0, 1.0, 4.0], [0.0, 1.0, 4.0]])
    term = lambda g: (g * g + eps ** 2) ** (p / 2) - eps ** p  # noqa: E731
    second = (term(1.0) + term(3.0)) / 2 + term(2.0)
    assert losses.quasi_sparsity(square, torch.zeros_like(square), p, eps, second_order=True).item() == \
        pytest.approx(second, rel=1e-14)
    constant = torch.full((2, 1, 5, 6), 0.37, dtype=torch.float64)
    assert losses.quasi_sparsity(constant, 0 * constant, p, eps, second_order=True).item() == 0.0


def test_quasi_sparsity_gradient_is_finite_at_zero_gradient_and_passes_gradcheck():
    flat = torch.full((1, 1, 4, 4), 0.5, dtype=torch.float64, requires_grad=True)
    losses.quasi_sparsity(flat, torch.zeros_like(flat), 0.5, 1e-2, second_order=True).backward()
    assert torch.all(torch.isfinite(flat.grad)) and not flat.grad.any()
    generator = torch.Generator().manual_seed(0)
    b = torch.rand(1, 1, 5, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    r = torch.rand(1, 1, 5, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: losses.quasi_sparsity(x, y, 0.8, 1e-2, True), (b, r))


def test_l1_terms_pass_gradcheck_away_from_their_kinks():
    generator = torch.Generator().manual_seed(1)
    o = torch.rand(2, 1, 8, 8, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.rand(2, 1, 8, 8, dtype=torch.float64, generator=generator)
    aux = {2: torch.rand(2, 1, 4, 4, dtype=torch.float64, generator=generator, requires_grad=True),
           4: torch.rand(2, 1, 2, 2, dtype=torch.float64, generator=generator, requires_grad=True)}
    assert torch.autograd.gradcheck(lambda x: losses.similarity_l1(x, b), (o,))
    assert torch.autograd.gradcheck(losses.low_value, (o,))
    assert torch.autograd.gradcheck(lambda r2, r4: losses.auxiliary_l1({2: r2, 4: r4}, o.detach(), b),
                                    (aux[2], aux[4]))


def test_auxiliary_loss_equals_its_formula_on_block_means():
    rng = np.random.default_rng(0)
    o, b = rng.random((4, 4)), rng.random((4, 4))
    r2, r4 = rng.random((2, 2)), rng.random((1, 1))
    half = lambda a: a.reshape(2, 2, 2, 2).mean(axis=(1, 3))  # noqa: E731
    expected = np.mean(np.abs(half(o) - r2 - half(b))) + abs(o.mean() - r4[0, 0] - b.mean())
    value = losses.auxiliary_l1({2: _image(r2), 4: _image(r4)}, _image(o), _image(b))
    assert value.item() == pytest.approx(expected, rel=1e-13)
    assert losses.auxiliary_l1({2: _image(half(o - b)), 4: _image([[(o - b).mean()]])}, _image(o),
                               _image(b)).item() == pytest.approx(0.0, abs=1e-15)


def test_objective_is_the_weighted_sum_after_warm_up_and_plain_l2_during_it():
    generator = torch.Generator().manual_seed(2)
    o, b, r = (torch.rand(1, 1, 8, 8, dtype=torch.float64, generator=generator) for _ in range(3))
    aux = {2: F.avg_pool2d(r, 2) * 0.5, 4: F.avg_pool2d(r, 4)}
    w = losses.LossWeights(similarity=1.0, low_value=0.05, quasi_sparsity=0.02, auxiliary=0.5, p=0.7,
                           second_order=True)
    terms = losses.loss_terms(r, aux, o, b, w)
    assert set(terms) == {"similarity", "low_value", "quasi_sparsity", "auxiliary"}
    expected = (losses.similarity_l1(o - r, b) + 0.05 * losses.low_value(r)
                + 0.02 * losses.quasi_sparsity(o - r, r, 0.7, w.epsilon, True)
                + 0.5 * losses.auxiliary_l1(aux, o, b))
    assert losses.objective(r, aux, o, b, w, warm_up=False).item() == pytest.approx(expected.item(), rel=1e-14)
    assert losses.objective(r, aux, o, b, w, warm_up=True).item() == \
        pytest.approx(torch.mean((o - r - b) ** 2).item(), rel=1e-14)
    assert set(losses.loss_terms(r, aux, o, b, losses.LossWeights())) == {"similarity"}


# ---------------------------------------------------------------------------
# network
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("share_features", [False, True])
def test_groups_divide_the_body_parameters_and_multiply_adds_exactly(share_features):
    plain = derain_net.DerainNet(width=16, blocks=2, groups=1)
    for groups in (2, 4, 8):
        grouped = derain_net.DerainNet(width=16, blocks=2, groups=groups, share_features=share_features)
        assert plain.body_parameter_count() == groups * grouped.body_parameter_count()
        shape = (1, 1, 32, 32)
        assert derain_net.multiply_adds(plain, shape, plain.bodies()) == \
            groups * derain_net.multiply_adds(grouped, shape, grouped.bodies())


def test_multiply_adds_of_a_convolution_by_hand():
    net = derain_net.DerainNet(width=8)
    # head conv 1 -> 8, 3x3 on 16x16: 8 * 16 * 16 outputs, each 1 * 9 multiply-adds
    assert derain_net.multiply_adds(net, (1, 1, 16, 16), [net.head]) == 8 * 16 * 16 * 9
    # up1 transposed 2x2 stride 2 from 16 to 8 channels on a 4x4 input at 1/2 of 8x8
    assert derain_net.multiply_adds(net, (1, 1, 8, 8), [net.up1]) == 16 * 4 * 4 * 8 * 4


def test_channel_shuffle_interleaves_the_groups():
    x = torch.arange(8.0).reshape(1, 8, 1, 1)
    assert derain_net._channel_shuffle(x, 4).flatten().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def test_outputs_have_full_half_and_quarter_size_and_start_at_the_identity():
    torch.manual_seed(0)
    net = derain_net.DerainNet(channels=3, width=8, groups=2, share_features=True)
    o = torch.rand(2, 3, 24, 40)
    out = net(o)
    assert out.rain.shape == (2, 3, 24, 40)
    assert out.aux_rain[2].shape == (2, 3, 12, 20) and out.aux_rain[4].shape == (2, 3, 6, 10)
    assert not out.rain.any()  # zero rain head: B^ = O before training
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 22, 40))
    rainy = np.random.default_rng(0).random((2, 10, 14))
    assert np.array_equal(derain_net.derain(derain_net.DerainNet(width=8), rainy), rainy.astype(np.float32))


def test_shared_features_change_the_computation_but_not_the_parameters():
    torch.manual_seed(1)
    plain = derain_net.DerainNet(width=8, groups=4)
    shared = derain_net.DerainNet(width=8, groups=4, share_features=True)
    shared.load_state_dict(plain.state_dict())
    x = torch.rand(1, 8, 8, 8)
    body_plain, body_shared = plain.enc1[0], shared.enc1[0]
    assert not torch.allclose(body_plain(x), body_shared(x))
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in shared.parameters())


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def test_psnr_is_infinite_and_ssim_one_for_identical_images_and_psnr_matches_its_formula():
    sample = rain.rainy_sample(rain.load_photo("gravel")[:64, :64], rain.RainConfig(), np.random.default_rng(4))
    b = sample.background
    assert derain_net.psnr(b, b) == math.inf
    assert derain_net.ssim(b, b) == 1.0
    mse = np.mean(sample.rain ** 2)
    assert derain_net.psnr(sample.rainy, b) == pytest.approx(10 * math.log10(1 / mse), rel=1e-12)
    assert derain_net.ssim(sample.rainy, b) < 0.99


def test_training_starts_at_the_identity_and_lowers_the_held_out_error():
    train_set = rain.make_dataset(rain.TRAIN_PHOTOS, 64, 32, rain.RainConfig(), seed=0)
    held = rain.make_dataset(rain.TEST_PHOTOS, 8, 32, rain.RainConfig(), seed=1)
    torch.manual_seed(0)
    net = derain_net.DerainNet(width=8)
    curves = derain_net.train(net, train_set.rainy, train_set.background, losses.LossWeights(), steps=80,
                              batch=8, lr=3e-3, record_every=20, seed=0, held_out=(held.rainy, held.background))
    assert curves.step.tolist() == [0, 20, 40, 60, 80]
    identity_error = np.mean(np.abs(held.rainy - held.background))
    assert curves.held_out[0] == pytest.approx(identity_error, rel=1e-5)  # zero rain head: B^ = O
    assert curves.held_out[-1] < 0.98 * identity_error
