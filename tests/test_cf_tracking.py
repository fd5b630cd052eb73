"""Correlation-filter tracking foundations: the sequence simulation (exact boxes), the closed-form DCF and
its tracker, the differentiable DCF layer, the feature networks and the OTB-style metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learners import tracking_metrics as tm
from learners.dcf_layer import dcf_response, tracking_loss
from learners.tracking_nets import (STUDENT_WIDTHS, TEACHER_WIDTHS, Adapters, FeatureNet, feature_extractor,
                                    fidelity_loss, multiply_adds, normalise, train_features)
from learners.training import torch_threads
from solvers import dcf
from solvers import tracking_sequences as ts


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: intra-op threads only wait on each other."""
    with torch_threads(1):
        yield


def _features(rng, channels=3, shape=(12, 10)):
    return rng.normal(size=(channels, *shape))


# ---------------------------------------------------------------------------
# closed-form DCF
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lam, visible", [(1e-3, 1e-7), (0.5, 1e-3)])
def test_response_on_its_training_window_is_the_label_filtered_by_k_over_k_plus_lambda(lam, visible):
    rng = np.random.default_rng(0)
    x = _features(rng)
    y = dcf.gaussian_label(12, 10, 1.5)
    xf, yf = np.fft.rfft2(x), np.fft.rfft2(y)
    r = dcf.response(*dcf.filter_terms(xf, yf), xf, lam, y.shape)
    k = np.sum(np.abs(np.fft.fft2(x)) ** 2, axis=0)
    expected = np.fft.ifft2(np.fft.fft2(y) * k / (k + lam)).real
    assert np.abs(r - expected).max() <= 1e-10
    assert np.abs(r - y).max() > visible  # the filtering is visible: not the label itself


def test_circular_shift_of_the_search_window_shifts_the_peak_by_exactly_that_shift():
    rng = np.random.default_rng(1)
    x = _features(rng, 4, (16, 16))
    xf, yf = np.fft.rfft2(x), np.fft.rfft2(dcf.gaussian_label(16, 16, 1.0))
    terms = dcf.filter_terms(xf, yf)
    base = dcf.response(*terms, xf, 1e-2, (16, 16))
    for shift in [(3, -5), (-7, 2), (6, 7)]:
        moved = np.roll(x, shift, axis=(1, 2))
        r = dcf.response(*terms, np.fft.rfft2(moved), 1e-2, (16, 16))
        assert np.abs(r - np.roll(base, shift, axis=(0, 1))).max() <= 1e-10
        dy, dx, _ = dcf.subcell_peak(r)
        expected = [(s + 8) % 16 - 8 for s in shift]
        assert abs(dy - expected[0]) <= 1e-9 and abs(dx - expected[1]) <= 1e-9


def test_subcell_peak_recovers_the_vertex_of_a_sampled_parabola():
    dy, dx = 0.3, -0.2
    i = (np.arange(9) + 4) % 9 - 4
    r = -((i[:, None] - dy) ** 2) - 2.0 * (i[None, :] - dx) ** 2
    got = dcf.subcell_peak(r)
    assert abs(got[0] - dy) <= 1e-12 and abs(got[1] - dx) <= 1e-12


@pytest.mark.parametrize("features, context", [(dcf.pixel_features, 0.0), (dcf.hog_features(4), 0.0),
                                               (dcf.pixel_features, 0.5)], ids=["pixels", "hog", "background-aware"])
def test_a_static_sequence_is_tracked_with_zero_centre_error(features, context):
    knobs = ts.Knobs(frames=6, max_speed=0.0, speed_noise=0.0, gain=0.0, noise=0.0)
    seq = ts.make_sequence(np.random.default_rng(2), ts.TRAIN_PHOTOS, knobs)
    assert np.all(seq.boxes == seq.boxes[0])
    boxes = dcf.track(features, seq.frames, seq.boxes[0], dcf.DCFConfig(eta=0.5, context=context))
    assert tm.centre_errors(boxes, seq.boxes).max() <= 1e-9
    assert np.abs(boxes[:, 2:] - seq.boxes[:, 2:]).max() <= 1e-12


def test_pixel_tracker_follows_a_moving_target_within_a_few_pixels():
    knobs = ts.Knobs(frames=30, distractor=False, gain=0.1, noise=0.01)
    seqs = ts.make_sequences(3, 3, ts.TEST_PHOTOS, knobs)
    errors = [np.median(tm.centre_errors(dcf.track(dcf.pixel_features, s.frames, s.boxes[0]), s.boxes))
              for s in seqs]
    # a 16 px target moving up to 3 px/frame: a tracker that stays put drifts tens of px
    still = [np.median(tm.centre_errors(np.repeat(s.boxes[:1], len(s.boxes), 0), s.boxes)) for s in seqs]
    assert np.median(errors) < 3.0 < np.median(still)


def test_scale_search_follows_a_scale_change():
    knobs = ts.Knobs(frames=40, scale=0.3, distractor=False, gain=0.1)
    seqs = ts.make_sequences(21, 3, ts.TEST_PHOTOS, knobs)
    fixed, searched = dcf.DCFConfig(scales=(1.0,), eta=0.05), dcf.DCFConfig(eta=0.05)
    auc = {cfg: [] for cfg in (fixed, searched)}
    for s in seqs:
        for cfg in auc:
            boxes = dcf.track(dcf.pixel_features, s.frames, s.boxes[0], cfg)
            auc[cfg].append(tm.success_auc(boxes, s.boxes))
        assert np.corrcoef(boxes[:, 2], s.boxes[:, 2])[0, 1] > 0.6  # the searched side follows the true side
    assert np.mean(auc[searched]) > np.mean(auc[fixed]) + 0.05


@pytest.mark.parametrize("field, value", [("lam", 0.0), ("lam", -1.0), ("eta", 0.0), ("eta", 1.5),
                                          ("padding", 0.9)])
def test_bad_tracker_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        dcf.DCFConfig(**{field: value})


def test_a_target_larger_than_the_frame_is_an_error():
    tracker = dcf.DCFTracker(dcf.pixel_features)
    with pytest.raises(ValueError, match="larger than the frame"):
        tracker.start(np.zeros((32, 32)), np.array([0.0, 0.0, 40.0, 10.0]))
    with pytest.raises(ValueError, match="target"):
        ts.Knobs(size=32, target=40)


# ---------------------------------------------------------------------------
# differentiable DCF layer
# ---------------------------------------------------------------------------


def test_torch_layer_equals_the_numpy_dcf_in_float64():
    rng = np.random.default_rng(4)
    x, z = rng.normal(size=(2, 3, 5, 12, 10))
    y = dcf.gaussian_label(12, 10, 1.2)
    r = dcf_response(*(torch.as_tensor(a) for a in (x, z, y)), 1e-2).numpy()
    for b in range(3):
        expected = dcf.response(*dcf.filter_terms(np.fft.rfft2(x[b]), np.fft.rfft2(y)), np.fft.rfft2(z[b]),
                                1e-2, (12, 10))
        assert np.abs(r[b] - expected).max() <= 1e-6 * np.abs(expected).max()
        assert np.abs(r[b] - expected).max() <= 1e-12


def test_torch_layer_passes_gradcheck():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 2, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    z = torch.randn(2, 2, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.as_tensor(dcf.gaussian_label(6, 5, 1.0))
    assert torch.autograd.gradcheck(lambda a, b: dcf_response(a, b, y, 0.1), (x, z))
    shifts = np.array([[1.0, -0.5], [0.0, 2.0]])
    assert torch.autograd.gradcheck(lambda a, b: tracking_loss(a, b, shifts, 1.0, 0.1), (x, z))


def test_tracking_loss_is_lowest_at_the_true_shift():
    rng = np.random.default_rng(5)
    x = torch.as_tensor(rng.normal(size=(1, 4, 16, 16)))
    z = torch.roll(x, (2, -3), dims=(2, 3))
    losses = {s: tracking_loss(x, z, np.array([s], dtype=float), 1.0, 1e-3).item()
              for s in [(2, -3), (0, 0), (-3, 2), (2, 3)]}
    assert min(losses, key=losses.get) == (2, -3)


# ---------------------------------------------------------------------------
# feature networks
# ---------------------------------------------------------------------------


def test_student_is_over_ten_times_cheaper_and_gives_cell_4_features():
    teacher, student = FeatureNet(TEACHER_WIDTHS), FeatureNet(STUDENT_WIDTHS)
    assert multiply_adds(teacher, 48) >= 10 * multiply_adds(student, 48)
    # count by hand for the student: 24^2*16*9 + 12^2*24*16*9 + 12^2*32*24*9
    assert multiply_adds(student, 48) == 24 * 24 * 16 * 9 + 144 * 24 * 16 * 9 + 144 * 32 * 24 * 9
    windows = np.random.default_rng(0).normal(size=(3, 48, 48))
    feats = feature_extractor(student)(windows)
    assert feats.shape == (3, 32, 12, 12) and student.cell == 4
    # one forward pass for the stack gives each window's features alone
    assert np.abs(feats[1] - feature_extractor(student)(windows[1:2])[0]).max() <= 1e-5 * np.abs(feats).max()


def test_fidelity_loss_is_zero_for_identity_adapters_on_the_teacher_itself():
    torch.manual_seed(0)
    teacher = FeatureNet((4, 6, 8))
    adapters = Adapters(teacher, teacher)
    for conv in adapters:
        torch.nn.init.zeros_(conv.bias)
        with torch.no_grad():
            conv.weight.copy_(torch.eye(conv.weight.shape[0])[:, :, None, None])
    windows = normalise(np.random.default_rng(0).normal(size=(2, 16, 16)))
    layers = teacher(windows)
    assert fidelity_loss(layers, layers, adapters).item() == 0.0
    assert fidelity_loss([2.0 * t for t in layers], layers, adapters).item() > 0.0


def test_tracking_loss_training_lowers_the_loss_on_tiny_pairs():
    sequences = ts.make_sequences(6, 4, ts.TRAIN_PHOTOS, ts.Knobs(frames=12, size=48, target=8))
    rng = np.random.default_rng(7)

    def pairs(_):
        return ts.window_pairs(rng, sequences, 8, 24, 2, 4.0)

    torch.manual_seed(0)
    student = FeatureNet((4, 6, 8))
    curves = train_features(student, pairs, steps=40, lr=3e-3, record_every=20, sigma=0.5)
    assert curves.train[-1] < 0.8 * curves.train[1]


# ---------------------------------------------------------------------------
# sequence simulation
# ---------------------------------------------------------------------------


def test_boxes_are_exact_the_patch_pasted_at_the_box_is_found_there():
    knobs = ts.Knobs(frames=20, distractor=True, gain=0.0, noise=0.0)
    seq = ts.make_sequence(np.random.default_rng(8), ts.TEST_PHOTOS, knobs)
    for frame, (x, y, w, h) in zip(seq.frames, seq.boxes.astype(int)):
        np.testing.assert_array_equal(frame[y:y + h, x:x + w], seq.patch)
    assert np.ptp(seq.boxes[:, :2], axis=0).max() > 5  # it moved


def test_gain_scales_the_frame_and_out_of_view_frames_hide_the_target():
    knobs = ts.Knobs(frames=20, distractor=False, gain=0.3, noise=0.0, out_of_view=4)
    seq = ts.make_sequence(np.random.default_rng(9), ts.TEST_PHOTOS, knobs)
    assert seq.visible.sum() == 16
    for t in np.flatnonzero(seq.visible):
        x, y, w, h = seq.boxes[t].astype(int)
        ratio = seq.frames[t][y:y + h, x:x + w] / seq.patch
        assert np.ptp(ratio[np.isfinite(ratio)]) <= 1e-12 and abs(ratio.flat[0] - 1.0) <= 0.3 + 1e-12


def test_scale_knob_changes_the_box_side_and_keeps_it_in_the_frame():
    knobs = ts.Knobs(frames=40, scale=0.25, rotation=0.05, blur=1.0, occlusion=0.5, occlusion_frames=5)
    seq = ts.make_sequence(np.random.default_rng(10), ts.TRAIN_PHOTOS, knobs)
    sides = seq.boxes[:, 2]
    assert sides.min() <= 13 and sides.max() >= 19 and np.all(seq.boxes[:, 2] == seq.boxes[:, 3])
    assert seq.boxes[:, :2].min() >= 0 and (seq.boxes[:, :2] + seq.boxes[:, 2:]).max() <= knobs.size
    assert np.count_nonzero(seq.occluded) == 5


def test_train_and_test_photos_are_disjoint_and_seeds_reproduce():
    assert not set(ts.TRAIN_PHOTOS) & set(ts.TEST_PHOTOS)
    knobs = ts.Knobs(frames=5, scale=0.2, rotation=0.1, blur=0.5)
    a, b = (ts.make_sequences(11, 2, ts.TEST_PHOTOS, knobs) for _ in range(2))
    c = ts.make_sequences(12, 2, ts.TEST_PHOTOS, knobs)
    for s, t in zip(a, b):
        np.testing.assert_array_equal(s.frames, t.frames)
        np.testing.assert_array_equal(s.boxes, t.boxes)
    assert not np.array_equal(a[0].frames, c[0].frames)
    assert all(set(s.photos) <= set(ts.TEST_PHOTOS) and s.photos[0] != s.photos[1] for s in a)


def test_window_pairs_shift_is_the_displacement_of_the_pasted_patch():
    knobs = ts.Knobs(frames=15, distractor=False, gain=0.0, noise=0.0)
    seqs = ts.make_sequences(13, 2, ts.TRAIN_PHOTOS, knobs)
    templates, searches, shifts = ts.window_pairs(np.random.default_rng(0), seqs, 6, 32, 2, 6.0)
    for template, search, (dx, dy) in zip(templates, searches, shifts):
        assert float(dx).is_integer() and float(dy).is_integer()
        # the target (16 px, centred in the template) sits at the window's centre moved by the shift
        found = search[8 + int(dy):24 + int(dy), 8 + int(dx):24 + int(dx)]
        np.testing.assert_array_equal(found, template[8:24, 8:24])


def test_crop_window_is_scipys_bilinear_map_coordinates_with_edge_repeat():
    from scipy import ndimage

    rng = np.random.default_rng(18)
    frame = rng.normal(size=(40, 50))
    for _ in range(20):
        centre, side = rng.uniform(-15, 65, size=2), rng.uniform(5, 90)
        offsets = (np.arange(24) + 0.5) * side / 24 - side / 2
        grid = np.meshgrid(centre[1] + offsets - 0.5, centre[0] + offsets - 0.5, indexing="ij")
        expected = ndimage.map_coordinates(frame, grid, order=1, mode="nearest")
        assert np.abs(ts.crop_window(frame, centre, side, 24) - expected).max() <= 1e-12


def test_window_pairs_resampled_from_a_larger_side_scale_the_shift_to_window_pixels():
    knobs = ts.Knobs(frames=15, distractor=False, gain=0.0, noise=0.0)
    seqs = ts.make_sequences(13, 2, ts.TRAIN_PHOTOS, knobs)
    same = ts.window_pairs(np.random.default_rng(0), seqs, 6, 32, 2, 6.0)
    half = ts.window_pairs(np.random.default_rng(0), seqs, 6, 16, 2, 6.0, side=32)
    np.testing.assert_array_equal(half[2], same[2] / 2)  # same pairs drawn, shifts in px of the 16 px window
    # resampling 32 px to 16 px averages 2 x 2 blocks (bilinear at the blocks' centres)
    blocks = same[0].reshape(6, 16, 2, 16, 2).mean(axis=(2, 4))
    assert np.abs(half[0] - blocks).max() <= 1e-12


def test_a_batched_feature_network_tracks_as_its_window_by_window_calls():
    torch.manual_seed(0)
    batched = feature_extractor(FeatureNet((4, 6, 8)))

    def one_by_one(window):
        return batched(window[None])[0]

    seq = ts.make_sequences(17, 1, ts.TEST_PHOTOS, ts.Knobs(frames=8))[0]
    config = dcf.DCFConfig(context=0.5)
    a = dcf.track(batched, seq.frames, seq.boxes[0], config)
    b = dcf.track(one_by_one, seq.frames, seq.boxes[0], config)
    assert np.abs(a - b).max() <= 1e-4  # px: float32 rounding of a batched convolution, amplified by tracking


def test_bad_sequence_knobs_name_the_field():
    for field, value in [("scale", 1.2), ("occlusion", 1.5), ("gain", -0.1), ("out_of_view", 100)]:
        with pytest.raises(ValueError, match=field):
            ts.Knobs(**{field: value})


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def _walk_boxes(n=40, seed=14):
    rng = np.random.default_rng(seed)
    xy = 30 + np.cumsum(rng.normal(size=(n, 2)), axis=0)
    return np.hstack([xy, np.full((n, 2), 16.0)])


def test_success_auc_is_one_for_the_truth_and_zero_for_a_far_box():
    truth = _walk_boxes()
    far = np.tile([500.0, 500.0, 16.0, 16.0], (len(truth), 1))
    assert tm.success_auc(truth, truth) == 1.0
    assert tm.success_auc(far, truth) == 0.0
    assert np.all(tm.success_curve(truth, truth)[:-1] == 1.0) and np.all(tm.success_curve(far, truth) == 0.0)


def test_success_auc_is_the_integral_of_the_success_curve():
    truth = _walk_boxes()
    predicted = truth + np.random.default_rng(15).normal(0, 3, size=truth.shape) * [1, 1, 0, 0]
    t = np.linspace(0.0, 1.0, 100_001)
    integral = np.trapezoid(tm.success_curve(predicted, truth, thresholds=t), t)
    assert abs(integral - tm.success_auc(predicted, truth)) <= 1e-4


def test_iou_and_centre_error_of_a_shifted_box():
    a = np.array([0.0, 0.0, 10.0, 10.0])
    b = np.array([5.0, 0.0, 10.0, 10.0])
    assert tm.iou(a, b) == pytest.approx(50.0 / 150.0, abs=1e-15)
    assert tm.centre_errors(a, b) == pytest.approx(5.0, abs=1e-15)


def test_precision_and_success_curves_are_monotone_and_reach_their_limits():
    truth = _walk_boxes()
    predicted = truth + np.random.default_rng(16).normal(0, 8, size=truth.shape) * [1, 1, 0, 0]
    precision = tm.precision_curve(predicted, truth)
    success = tm.success_curve(predicted, truth)
    assert np.all(np.diff(precision) >= 0) and np.all(np.diff(success) <= 0)
    assert precision[0] == 0.0 and 0.0 < tm.precision_at(predicted, truth, 4.0) < 1.0
    errors = tm.centre_errors(predicted, truth)
    assert tm.precision_at(predicted, truth, errors.max()) == 1.0
    assert tm.scaled_threshold(96) == 4.0


def test_valid_mask_leaves_out_frames():
    truth = _walk_boxes(10)
    predicted = truth.copy()
    predicted[:5, 0] += 1000.0
    valid = np.arange(10) >= 5
    assert tm.success_auc(predicted, truth, valid) == pytest.approx(1.0, abs=1e-12)
    assert tm.success_auc(predicted, truth) == pytest.approx(0.5, abs=1e-12)


# ---------------------------------------------------------------------------
# the benchmark's plain numpy peer
# ---------------------------------------------------------------------------


def test_the_benchmarks_plain_numpy_dcf_gives_the_projects_peaks_and_model():
    from benchmarks import bench_cf_tracking as bench

    half, full, yf_half, yf_full, frames = bench.case((3, 12, 10))
    for searches, training in frames[:5]:
        half, peak = bench.project_frame(half, yf_half, searches, training)
        full, plain = bench.numpy_frame(full, yf_full, searches, training)
        assert peak[2] == plain[2] and abs(peak[0] - plain[0]) <= 1e-9 and abs(peak[1] - plain[1]) <= 1e-9
        # the half spectrum is the first w // 2 + 1 columns of the full one
        assert np.abs(full[1][:, :6] - half[1]).max() <= 1e-12 * np.abs(half[1]).max()
        assert np.abs(full[0][..., :6] - half[0]).max() <= 1e-12 * np.abs(half[0]).max()
