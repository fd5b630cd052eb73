"""Video object segmentation foundations: the re-appearing-object video simulation (exact masks), the
co-attention block and its variants against dense numpy formulas, the controls, inference averaging,
and DAVIS's J and F measures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from learners import coattention as ca
from learners.segmentation_metrics import (boundary_f, boundary_pixels, region_similarity, threshold_masks,
                                          video_scores)
from learners.training import torch_threads
from solvers import video_objects as vo


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny frames: intra-op threads only wait on each other (and on a shared machine, for long)."""
    with torch_threads(1):
        yield


# ---------------------------------------------------------------------------
# the video simulation
# ---------------------------------------------------------------------------

BUSY = vo.VideoConfig(size=40, frames=6, distractors=2, persistence=2, occlusion=0.5, speed=2.0)


@pytest.mark.parametrize("index", range(4))
def test_the_primary_object_shows_its_texture_exactly_where_its_mask_says(index):
    video = vo.generate_video(BUSY, seed=7, index=index)
    for t in range(BUSY.frames):
        inside = vo.shape_mask(video.shape, video.centre[t], BUSY.size)
        np.testing.assert_array_equal(video.mask[t], inside & ~video.occluder_mask[t])
        colours = vo.texture_colours(video.texture, video.shape, video.centre[t], BUSY.size)
        np.testing.assert_array_equal(video.frames[t][video.mask[t]],
                                      colours[video.mask[t]].astype(np.float32))
        assert video.mask[t].any()  # present, and never wholly occluded
        assert not (video.mask[t] & video.distractor_mask[t]).any()


def test_persistent_distractors_are_in_every_frame_and_never_overlap_the_primary_object():
    videos = vo.generate_videos(vo.VideoConfig(size=48, distractors=2, persistence=5), 20, seed=3)
    assert videos.distractor_mask.any(axis=(2, 3)).all()
    assert not (videos.mask & videos.distractor_mask).any()


@pytest.mark.parametrize("persistence", [1, 2, 3, 5])
def test_a_distractor_lives_exactly_persistence_frames_except_at_the_ends(persistence):
    config = vo.VideoConfig(frames=6, distractors=1, persistence=persistence, speed=0.0, pan_speed=0.0)
    for index in range(5):
        mask = vo.generate_video(config, seed=1, index=index).distractor_mask
        changes = [t for t in range(1, 6) if not np.array_equal(mask[t], mask[t - 1])]
        runs = np.diff([0] + changes + [6])
        assert np.all(runs <= persistence) and np.all(runs[1:-1] == persistence)


def test_the_primary_object_moves_at_the_set_speed_and_bounces_inside_the_frame():
    config = vo.VideoConfig(size=32, frames=40, distractors=0, speed=2.5)
    for index in range(5):
        video = vo.generate_video(config, seed=2, index=index)
        step = np.linalg.norm(np.diff(video.centre, axis=0), axis=1)
        reach = max(video.shape.a, video.shape.b)
        assert np.all(step <= 2.5 + 1e-9) and np.median(step) == pytest.approx(2.5, abs=1e-9)
        assert np.all((video.centre >= reach - 1e-9) & (video.centre <= 32 - reach + 1e-9))


def test_full_texture_similarity_gives_distractors_the_primary_colours():
    config = vo.VideoConfig(distractors=2, texture_similarity=1.0)
    video = vo.generate_video(config, seed=4)
    c1, c2 = video.texture.c1, video.texture.c2
    pixels = video.frames[video.distractor_mask].astype(np.float64)
    weight = (pixels - c1) @ (c2 - c1) / np.dot(c2 - c1, c2 - c1)
    assert video.distractor_mask.any()
    np.testing.assert_allclose(pixels, c1 + weight[:, None] * (c2 - c1), atol=1e-6)
    assert weight.min() >= -1e-6 and weight.max() <= 1 + 1e-6


def test_seeds_reproduce_and_a_video_does_not_depend_on_its_batch():
    first = vo.generate_videos(BUSY, 3, seed=5)
    again = vo.generate_videos(BUSY, 3, seed=5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.frames[2], vo.generate_video(BUSY, seed=5, index=2).frames)
    assert not np.array_equal(first.frames, vo.generate_videos(BUSY, 3, seed=6).frames)


@pytest.mark.parametrize("field, value", [("persistence", 6), ("persistence", 0), ("texture_similarity", 1.5),
                                          ("occlusion", -0.1), ("size", 8), ("noise", -1.0)])
def test_out_of_range_knobs_are_errors_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        vo.VideoConfig(frames=6, **{field: value})


# ---------------------------------------------------------------------------
# the co-attention block, against the formulas in numpy (float64)
# ---------------------------------------------------------------------------


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _features(seed: int, channels: int = 6, positions: tuple[int, int] = (10, 7)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, channels, positions[0])), rng.standard_normal((2, channels, positions[1]))


def test_with_w_identity_the_summary_is_v_b_softmax_of_v_b_transpose_v_a():
    v_a, v_b = _features(0)
    block = ca.CoAttention(6, "vanilla").double()
    with torch.no_grad():
        block.matrix.copy_(torch.eye(6))
    with torch.no_grad():
        z_a, z_b = block.summaries(torch.from_numpy(v_a), torch.from_numpy(v_b))
    for i in range(2):
        s = v_b[i].T @ v_a[i]
        np.testing.assert_allclose(z_a[i].numpy(), v_b[i] @ _softmax(s, axis=0), atol=1e-6, rtol=0)
        np.testing.assert_allclose(z_b[i].numpy(), v_a[i] @ _softmax(s.T, axis=0), atol=1e-6, rtol=0)


class _OpenGate(torch.nn.Module):
    """A gate forced open: sigmoid(+inf) = 1 at every position of Z (B, C, L)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full_like(z[:, :1], math.inf)


def test_with_w_identity_and_the_gate_open_the_block_outputs_the_explicit_formula():
    v_a, v_b = _features(9)
    block = ca.CoAttention(6, "vanilla").double()
    block.gate = _OpenGate()
    with torch.no_grad():
        block.matrix.copy_(torch.eye(6))
        z_a, z_b = block(torch.from_numpy(v_a), torch.from_numpy(v_b))
    for i in range(2):
        s = v_b[i].T @ v_a[i]
        np.testing.assert_allclose(z_a[i].numpy(), v_b[i] @ _softmax(s, axis=0), atol=1e-6, rtol=0)
        np.testing.assert_allclose(z_b[i].numpy(), v_a[i] @ _softmax(s.T, axis=0), atol=1e-6, rtol=0)


@pytest.mark.parametrize("variant", ["symmetric", "channel"])
def test_swapping_the_frames_swaps_the_gated_outputs_of_a_symmetric_w(variant):
    v_a, v_b = (torch.from_numpy(v) for v in _features(10))
    block = ca.CoAttention(6, variant, init="uniform").double()
    with torch.no_grad():
        z_a, z_b = block(v_a, v_b)
        swapped_b, swapped_a = block(v_b, v_a)
    torch.testing.assert_close(swapped_a, z_a, atol=1e-12, rtol=0)
    torch.testing.assert_close(swapped_b, z_b, atol=1e-12, rtol=0)


def test_each_position_attends_by_a_distribution_over_the_other_frame():
    """With one-hot features for frame b (V_b = the first L_b rows of I), Z_a is S^c itself."""
    rng = np.random.default_rng(1)
    v_a = torch.from_numpy(rng.standard_normal((1, 8, 5)))
    v_b = torch.eye(8, 6, dtype=torch.float64)[None]
    block = ca.CoAttention(8, "vanilla").double()
    z_a, _ = block.summaries(v_a, v_b)
    s = (v_b[0].T @ block.weight @ v_a[0]).detach().numpy()
    columns = z_a[0, :6].detach().numpy()
    np.testing.assert_allclose(columns.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(columns, _softmax(s, axis=0), atol=1e-12)


@pytest.mark.parametrize("variant", ca.VARIANTS)
def test_swapping_the_frames_swaps_the_summaries_exactly_when_w_is_symmetric(variant):
    v_a, v_b = (torch.from_numpy(v) for v in _features(2))
    block = ca.CoAttention(6, variant, init="uniform").double()
    z_a, z_b = block.summaries(v_a, v_b)
    swapped_b, swapped_a = block.summaries(v_b, v_a)
    if variant == "vanilla":  # a free W: swapping is the same as using W^T
        assert not torch.allclose(swapped_a, z_a)
        with torch.no_grad():
            block.matrix.copy_(block.matrix.T.clone())
        swapped_b, swapped_a = block.summaries(v_b, v_a)
    torch.testing.assert_close(swapped_a, z_a, atol=1e-12, rtol=0)
    torch.testing.assert_close(swapped_b, z_b, atol=1e-12, rtol=0)


def _bilinear_numpy(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (h, w) to (size, size), half-pixel centres (align_corners=False)."""
    def weights(n_in):
        source = np.maximum((np.arange(size) + 0.5) * n_in / size - 0.5, 0.0)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        m = np.zeros((size, n_in))
        np.add.at(m, (np.arange(size), low), 1 - (source - low))
        np.add.at(m, (np.arange(size), high), source - low)
        return m
    return weights(x.shape[0]) @ x @ weights(x.shape[1]).T


def _head_numpy(head, x: np.ndarray) -> np.ndarray:
    """conv3x3 (padding 1) - BN (running statistics) - ReLU - conv1x1 + bias, on x (C_in, h, w)."""
    conv, bn, _, out = head
    k = conv.weight.detach().numpy()
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    h, w = x.shape[1:]
    y = sum(np.einsum("oc,chw->ohw", k[:, :, i, j], padded[:, i:i + h, j:j + w])
            for i in range(3) for j in range(3))
    scale = bn.weight.detach().numpy() / np.sqrt(bn.running_var.numpy() + bn.eps)
    shift = bn.bias.detach().numpy() - bn.running_mean.numpy() * scale
    y = np.maximum(y * scale[:, None, None] + shift[:, None, None], 0.0)
    projection = out.weight.detach().numpy()[:, :, 0, 0]
    return np.einsum("oc,chw->ohw", projection, y) + out.bias.detach().numpy()[:, None, None]


@pytest.mark.parametrize("variant", ca.VARIANTS)
def test_the_model_equals_a_dense_numpy_evaluation_of_the_formulas(variant):
    torch.manual_seed(3)
    model = ca.CoAttentionSegmenter(variant, channels=8).double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    frames = torch.rand(2, 2, 3, 14, 14, dtype=torch.float64)
    with torch.no_grad():
        logits_a, logits_b = model(frames[0], frames[1])
        v_a, v_b = model.encoder(frames[0]).numpy(), model.encoder(frames[1]).numpy()
    w = model.coattention.weight.detach().numpy()
    gate = model.coattention.gate.weight.detach().numpy()[0, :, 0]
    for i in range(2):
        a, b = v_a[i].reshape(8, -1), v_b[i].reshape(8, -1)
        s = b.T @ w @ a
        z_a, z_b = b @ _softmax(s, axis=0), a @ _softmax(s.T, axis=0)
        branches = ((z_a, v_a[i], model.head_a, logits_a), (z_b, v_b[i], model.head_b, logits_b))
        for z, v, head, logits in branches:
            z = z / (1 + np.exp(-(gate @ z)))
            x = np.concatenate([z.reshape(v.shape), v])
            expected = _bilinear_numpy(_head_numpy(head, x)[0], 14)
            np.testing.assert_allclose(logits[i].numpy(), expected, atol=1e-6, rtol=0)


def _take_adam_steps(model: ca.CoAttentionSegmenter, steps: int = 5) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    frames = torch.rand(2, 2, 3, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    masks = (frames[:, :, 0] > 0.5).double()
    for _ in range(steps):
        logits_a, logits_b = model(frames[0], frames[1])
        loss = ca.segmentation_loss(logits_a, masks[0]) + ca.segmentation_loss(logits_b, masks[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_the_symmetric_variant_stays_symmetric_with_p_orthogonal_after_training():
    torch.manual_seed(4)
    model = ca.CoAttentionSegmenter("symmetric", channels=8).double()
    before = model.coattention.weight.detach().clone()
    _take_adam_steps(model)
    w = model.coattention.weight.detach()
    p = model.coattention.rotation.weight.detach()
    assert (w - before).abs().max() > 1e-3
    torch.testing.assert_close(w, w.T, atol=1e-6, rtol=0)
    torch.testing.assert_close(p.T @ p, torch.eye(8, dtype=torch.float64), atol=1e-6, rtol=0)


def test_the_channel_wise_variant_stays_diagonal_after_training():
    torch.manual_seed(5)
    model = ca.CoAttentionSegmenter("channel", channels=8).double()
    before = model.coattention.weight.detach().clone()
    _take_adam_steps(model)
    w = model.coattention.weight.detach()
    assert (w - before).abs().max() > 1e-3
    assert torch.count_nonzero(w - torch.diag(torch.diagonal(w))) == 0


@pytest.mark.parametrize("variant", ca.VARIANTS)
def test_the_identity_start_is_a_scaled_dot_product_and_the_uniform_start_is_bounded(variant):
    torch.manual_seed(8)
    identity = ca.CoAttention(16, variant).double().weight.detach()
    torch.testing.assert_close(identity, torch.eye(16, dtype=torch.float64) / 4, atol=1e-6, rtol=0)
    uniform = ca.CoAttention(16, variant, init="uniform").double().weight.detach()
    assert not torch.allclose(uniform, identity)
    if variant != "symmetric":  # the free entries lie in +-1/sqrt(C)
        assert uniform.abs().max() <= 0.25


def test_variants_differ_only_in_the_parameters_of_w():
    channels = 8
    count = {v: sum(p.numel() for p in ca.CoAttentionSegmenter(v, channels).parameters()) for v in ca.VARIANTS}
    assert count["vanilla"] - count["channel"] == channels ** 2 - channels
    assert count["symmetric"] - count["vanilla"] == channels


# ---------------------------------------------------------------------------
# controls and inference
# ---------------------------------------------------------------------------


def test_the_controls_are_the_same_network_fed_differently():
    torch.manual_seed(6)
    model = ca.CoAttentionSegmenter("vanilla", channels=8).eval()
    query, reference, other = torch.rand(3, 2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        self_reference = ca.pair_logits(model, query, reference, "self_reference")
        torch.testing.assert_close(self_reference, model(query, query)[0], atol=0, rtol=0)
        single = ca.pair_logits(model, query, reference, "single_frame")
        torch.testing.assert_close(single, model(query, other, attend=False)[0], atol=0, rtol=0)
        assert not torch.allclose(ca.pair_logits(model, query, reference, "coattention"),
                                  ca.pair_logits(model, query, other, "coattention"))


def test_inference_averages_the_predictions_against_every_other_frame():
    torch.manual_seed(7)
    model = ca.CoAttentionSegmenter("vanilla", channels=8).eval()
    frames = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    averaged = ca.segment_video(model, frames, 3, "coattention", torch.Generator().manual_seed(0))
    with torch.no_grad():
        for t in range(4):
            others = [s for s in range(4) if s != t]
            expected = torch.sigmoid(model(frames[[t] * 3], frames[others])[0]).mean(dim=0)
            torch.testing.assert_close(averaged[t], expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("n_references", [0, 4])
def test_more_references_than_other_frames_is_an_error_naming_the_field(n_references):
    model = ca.CoAttentionSegmenter("vanilla", channels=8)
    with pytest.raises(ValueError, match="n_references"):
        ca.segment_video(model, torch.rand(4, 3, 16, 16), n_references, "coattention", torch.Generator())


def test_frames_smaller_than_the_encoder_stride_are_an_error():
    model = ca.CoAttentionSegmenter("vanilla", channels=8)
    with pytest.raises(ValueError, match="stride"):
        model(torch.rand(1, 3, 3, 16), torch.rand(1, 3, 3, 16))


def test_the_loss_is_bce_over_the_foreground_fraction_plus_weighted_l1():
    logits = torch.tensor([[[0.0, math.log(3.0)], [-math.log(3.0), 2.0]]])
    mask = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    p = np.array([0.5, 0.75, 0.25, 1 / (1 + math.exp(-2.0))])
    y = np.array([1.0, 0.0, 0.0, 0.0])
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    expected = bce / 0.25 + 0.8 * np.mean(np.abs(p - y))
    assert ca.segmentation_loss(logits, mask).item() == pytest.approx(expected, rel=1e-6)


def test_training_is_reproducible_from_its_seed_and_lowers_the_loss():
    videos = vo.generate_videos(vo.VideoConfig(size=16, frames=3, distractors=0, radius=(0.2, 0.25)), 4, seed=0)
    frames, masks = ca.video_tensors(videos.frames, videos.mask)
    weights, curves = [], []
    for _ in range(2):
        torch.manual_seed(0)
        model = ca.CoAttentionSegmenter("vanilla", channels=8)
        curves.append(ca.train(model, frames, masks, "coattention", steps=30, batch=2, lr=1e-2, seed=1,
                               record_every=10).train)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], atol=0, rtol=0)
    np.testing.assert_array_equal(curves[0], curves[1])
    assert curves[0][-1] < curves[0][1]


# ---------------------------------------------------------------------------
# DAVIS measures
# ---------------------------------------------------------------------------


def _disk_mask(size: int, centre: tuple[float, float], radius: float) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size] + 0.5
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius ** 2


def test_j_and_f_of_the_true_mask_are_one_and_of_an_empty_prediction_zero():
    true = _disk_mask(40, (20, 18), 8)
    empty = np.zeros_like(true)
    assert region_similarity(true, true) == 1.0 and boundary_f(true, true) == 1.0
    assert region_similarity(empty, true) == 0.0 and boundary_f(empty, true) == 0.0
    assert region_similarity(empty, empty) == 1.0 and boundary_f(empty, empty) == 1.0


def test_j_of_two_overlapping_rectangles_is_their_iou():
    a = np.zeros((20, 20), bool)
    b = np.zeros((20, 20), bool)
    a[2:12, 2:12] = True  # 100 pixels
    b[7:17, 4:14] = True  # 100 pixels, overlap 5 x 8 = 40
    assert region_similarity(a, b) == pytest.approx(40 / 160)


def test_f_matches_boundaries_within_the_tolerance_and_not_beyond():
    true = _disk_mask(100, (50, 50), 20)
    shifted = np.roll(true, 1, axis=1)  # one pixel: within ceil(0.008 * 141.4) = 2 px
    far = np.roll(true, 6, axis=1)
    assert boundary_f(shifted, true) == 1.0
    edge_pred, edge_true = boundary_pixels(far), boundary_pixels(true)
    assert 0.0 < boundary_f(far, true) < 1.0
    assert boundary_f(far, true, tolerance=0.05) == 1.0  # 8 px reach
    assert edge_pred.sum() == edge_true.sum()


def test_video_scores_average_over_frames_then_per_video():
    true = np.zeros((2, 2, 10, 10), bool)
    true[:, :, 2:6, 2:6] = True
    predicted = true.copy()
    predicted[0, 1] = False  # one empty frame in video 0
    j, f = video_scores(predicted, true)
    np.testing.assert_allclose(j, [0.5, 1.0])
    np.testing.assert_allclose(f, [0.5, 1.0])


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.2, 1.5])
def test_a_mask_threshold_outside_zero_one_is_an_error_naming_it(threshold):
    with pytest.raises(ValueError, match="threshold"):
        threshold_masks(np.full((2, 4, 4), 0.5), threshold)


def test_thresholding_keeps_the_pixels_strictly_above_it():
    probabilities = np.array([[0.2, 0.5], [0.51, 0.9]])
    np.testing.assert_array_equal(threshold_masks(probabilities, 0.5), [[False, False], [True, True]])
