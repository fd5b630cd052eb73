"""The video_segmentation kind: spec errors that name the field and the bound (issue 24's bad input), a reduced
sweep through the engine whose outputs obey exact relations (parameter counts, symmetric W, controls blind to
the references, the held-out videos those of the run's stream), the claims as the report states them, and the
figures."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from engine.kind import RunContext
from engine.names import spec_view
from engine.plan import resolve_text
from engine.registry import get_kind
from engine.kinds.video_segmentation.analysis import claims
from engine.kinds.video_segmentation.run import draw, video_config
from engine.kinds.video_segmentation.spec import ENCODER_STRIDE
from learners import coattention as ca
from solvers import video_objects as vo

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KIND = "kind: video_segmentation\nname: v\n"
TINY = (KIND + "video: {size: 16, frames: 4}\ndata: {train_videos: 6, test_videos: 2}\nmodel: {channels: 4}\n"
        "training: {steps: 3, batch: 2, record_every: 1}\nevaluation: {references: [1, 3], examples: 2}\n")


@pytest.mark.parametrize("extra, pattern", [
    ("evaluation: {references: [1, 6]}", r"spec\.yaml:\d+:\d+: evaluation\.references: N = 6 reference frames: a "
     r"frame has only 5 other frames in a video of 6 \(expected 1 <= N <= 5\)"),
    ("video: {frames: 4, persistence: 1}\nevaluation: {references: [1, 3, 5]}",
     r"evaluation\.references: N = 5 .* \(expected 1 <= N <= 3\)"),
    ("evaluation: {threshold: 1.0}", r"evaluation\.threshold: 1\.0 is out of range \(expected a value < 1\.0\)"),
    ("evaluation: {threshold: 0}", r"evaluation\.threshold: 0 is out of range \(expected a value > 0"),
    ("evaluation: {threshold: -0.5}", r"evaluation\.threshold: -0\.5 is out of range"),
    ("video: {size: 3}", r"video\.size: frames of 3 x 3 pixels are smaller than the encoder's stride 4 "
     r"\(expected size >= 4\)"),
    ("video: {size: 12}", r"video\.size: frames of 12 x 12 pixels leave no room .* \(expected size >= 16\)"),
    ("video: {persistence: 6}", r"video\.persistence: a distractor living 6 frames of a video of 6 .* "
     r"\(expected persistence <= frames - 1 = 5\)"),
    ("video: {radius: [0.2, 0.1]}", r"video\.radius: \(0\.2, 0\.1\) is not an ordered"),
    ("training: {models: []}", r"training\.models: no model to train"),
    ("training: {models: [vanilla, vanilla]}", r"training\.models: a value is listed twice"),
    ("training: {models: [cosnet]}", r"training\.models\.0: .*cosnet"),
    ("evaluation: {references: [3, 3]}", r"evaluation\.references: a value is listed twice"),
    ("evaluation: {examples: 7}", r"evaluation\.examples: 7 example frames of a video of 6 \(expected examples <= 6\)"),
])
def test_impossible_values_are_rejected_with_the_field_named(rejects, extra, pattern):
    rejects(KIND + extra + "\n", pattern)


def test_the_specs_stride_is_the_encoders():
    assert ENCODER_STRIDE == ca.Encoder.stride


def test_the_held_out_videos_follow_the_training_videos_in_the_runs_stream():
    point = resolve_text(TINY, "<test>", ["training.models=[single_frame]", "training.steps=1"]).points[0]
    ctx = RunContext(seed=3, run_id=point.run_id)
    ds = get_kind("video_segmentation").run(point.spec, ctx)
    video = vo.generate_video(video_config(point.spec), draw(ctx, "videos"), index=6)
    np.testing.assert_array_equal(ds["example_image"].values, video.frames[:2])
    np.testing.assert_array_equal(ds["example_mask"].values, video.mask[:2])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A reduced sweep through the engine: every model, 2 seeds, no distractor and distractors living 1 and 3
    frames; the result as the engine hands it to the analysis."""
    from engine.cli import main
    from engine.store import open_result

    folder = tmp_path_factory.mktemp("video_segmentation")
    spec = folder / "v.yaml"
    spec.write_text(TINY + "sweep:\n  grid:\n    seed: [0, 1]\n  cases:\n    - {video.distractors: 0}\n"
                    "    - {video.persistence: 1}\n    - {video.persistence: 3}\n")
    assert main(["run", str(spec), "--outputs", str(folder), "--executor", "serial", "--quiet"]) == 0
    return spec_view(open_result(folder / "v" / "result.nc")), folder


def test_the_models_share_one_network_and_the_variants_differ_only_in_w(sweep):
    ds, _ = sweep
    count = ds["n_parameters"].isel(seed=0, case=0).to_series()
    c = 4
    assert count["self_reference"] == count["single_frame"] == count["vanilla"]
    assert count["symmetric"] - count["vanilla"] == c and count["vanilla"] - count["channel"] == c * c - c
    asymmetry = ds["w_asymmetry"]
    assert float(asymmetry.sel(model="symmetric").max()) < 1e-6
    assert float(asymmetry.sel(model="channel").max()) == 0.0
    assert float(asymmetry.sel(model="vanilla").min()) > 1e-4  # Adam moved the free W off its symmetric start


def test_the_controls_ignore_the_references_and_the_scores_are_fractions(sweep):
    ds, _ = sweep
    for name in ("j", "f", "distractor_rate"):
        controls = ds[name].sel(model=["self_reference", "single_frame"])
        xr.testing.assert_equal(controls.isel(references=0, drop=True), controls.isel(references=1, drop=True))
    for name in ("j", "f", "objectness_j", "foreground_fraction"):
        values = ds[name].values
        assert np.all((values >= 0) & (values <= 1)), name


def test_without_distractors_every_object_is_the_primary_one(sweep):
    ds, _ = sweep
    alone = ds.isel(case=0)
    assert (alone["distractors"] == 0).all()
    assert np.isnan(alone["distractor_rate"].values).all()
    np.testing.assert_array_equal(alone["objectness_j"].values, 1.0)
    busy = ds.isel(case=[1, 2])
    assert np.isfinite(busy["distractor_rate"].values).all() and (busy["objectness_j"] < 1).all()


def test_the_report_and_the_figures_of_a_persistence_sweep(sweep, tmp_path):
    ds, _ = sweep
    analysis = get_kind("video_segmentation").analysis
    report = analysis.report(ds)
    assert report.startswith("held-out videos: J at N = 1, 3 reference frames, F and distractor rate at N = 3, "
                             "mean ± std over 2 seeds")
    assert report.count("vanilla - self_reference J(N=3)") == 3 and "(|gap| <= 0.03:" in report
    assert "symmetric J(N=3) - J(N=1)" in report
    paths = analysis.plot(ds, tmp_path)
    assert [p.name for p in paths] == ["examples.png", "j_vs_references.png", "j_vs_persistence.png"]


def _point(gap: float, gain: float, distractors: int) -> xr.Dataset:
    """Three seeds of vanilla and self_reference J at N = 1, 5: vanilla - self_reference = ``gap`` at N = 5 and
    vanilla's J(5) - J(1) = ``gain``, each +-0.01 over the seeds."""
    spread = np.array([-0.01, 0.0, 0.01])
    j = np.empty((3, 2, 2))
    j[:, 1, :] = 0.3
    j[:, 0, 1] = 0.3 + gap + spread
    j[:, 0, 0] = j[:, 0, 1] - gain
    return xr.Dataset({"j": (("seed", "model", "references"), j), "distractors": ((), distractors)},
                      coords={"seed": [0, 1, 2], "model": ["vanilla", "self_reference"], "references": [1, 5]})


@pytest.mark.parametrize("gap, gain, distractors, expected", [
    (0.35, 0.02, 1, ["+0.350 ± 0.010  (>= 0.3: met)", "+0.020 ± 0.000  (> 0: met)"]),
    (0.25, -0.01, 1, ["+0.250 ± 0.010  (>= 0.3: NOT met)", "-0.010 ± 0.000  (> 0: NOT met)"]),
    (0.02, 0.0, 0, ["+0.020 ± 0.010  (|gap| <= 0.03: met)", "+0.000 ± 0.000  (> 0: NOT met)"]),
    (-0.05, 0.01, 0, ["-0.050 ± 0.010  (|gap| <= 0.03: NOT met)", "+0.010 ± 0.000  (> 0: met)"]),
])
def test_the_claims_are_stated_met_or_not_against_the_issues_bounds(gap, gain, distractors, expected):
    lines = claims(_point(gap, gain, distractors))
    assert [line.split(" = ")[1] for line in lines] == expected
