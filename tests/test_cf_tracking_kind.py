"""The cf_tracking kind: spec checks that name the field and the bound, a reduced run through the engine whose
metrics agree with each other and with the foundations, and the report's check of the paper's claim."""

import numpy as np
import pytest
import xarray as xr

from engine.kinds.cf_tracking import analysis
from learners.tracking_nets import FeatureNet, multiply_adds

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HEAD = "kind: cf_tracking\nname: t\n"


@pytest.mark.parametrize("extra, pattern", [
    ("sequences: {size: 32, target: 30, scale: 0.1}",
     r"sequences\.target: a target of 30 px \(up to 33 px with scale 0\.1\) does not fit in a frame of 32 px "
     r"\(expected target \(1 \+ scale\) < size = 32\)"),
    ("tracker: {padding: 0.8}", r"tracker\.padding: 0\.8 is out of range \(expected a value >= 1\.0\)"),
    ("tracker: {padding: 1.0, scales: [0.9, 1.0]}",
     r"tracker\.padding: a search window of 1 x 0\.9 target sides .* is smaller than the target \(expected "
     r"padding x min\(scales\) >= 1\)"),
    ("tracker: {lam: 0.0}", r"tracker\.lam: 0\.0 is out of range \(expected a value > 0\.0\)"),
    ("tracker: {lam: -1.0}", r"tracker\.lam: -1\.0 is out of range \(expected a value > 0\.0\)"),
    ("tracker: {eta: 0.0}", r"tracker\.eta: 0\.0 is out of range \(expected a value > 0\.0\)"),
    ("tracker: {eta: 1.5}", r"tracker\.eta: 1\.5 is out of range \(expected a value <= 1\.0\)"),
    ("tracker: {window: 50}", r"tracker\.window: 50 px is not a multiple of the HOG cell 4 px and of the "
     r"networks' cell 4 px \(expected a multiple of 4\)"),
    ("tracker: {window: 44}\nteacher: {strides: [2, 2, 2]}\nstudents: {strides: [2, 2, 2]}",
     r"tracker\.window: 44 px is not a multiple of .* networks' cell 8 px \(expected a multiple of 8\)"),
    ("teacher: {strides: [2, 1, 1]}", r"students\.strides: strides \[2, 2, 1\] differ from the teacher's \[2, 1, 1\]"),
    ("students: {strides: [3, 1, 1]}", r"students\.strides: strides \[3, 1, 1\] \(expected each stride 1 or 2\)"),
    ("tracker: {scales: [0.0, 1.0]}", r"tracker\.scales: scale factors \[0\.0, 1\.0\] \(expected positive"),
    ("pairs: {max_shift: 30}", r"pairs\.max_shift: 30 px moves the target out of a training window of 48 px"),
    ("evaluation: {features: [pixels, student_both]}",
     r"evaluation\.features: a student distilled with the fidelity loss needs the teacher"),
    ("evaluation: {updates: [plain, plain]}", r"evaluation\.updates: an entry is listed twice"),
    ("sequences: {frames: 10, out_of_view: 10}", r"sequences\.out_of_view: 10 frames of a 10-frame sequence"),
])
def test_impossible_values_are_rejected_with_the_field_and_bound_named(rejects, extra, pattern):
    rejects(HEAD + extra + "\n", pattern)


REDUCED = HEAD + """sequences: {train: 3, test: 2, frames: 12}
teacher: {steps: 20, widths: [8, 12, 16], record_every: 10}
students: {steps: 10, widths: [4, 4, 4], record_every: 5}
pairs: {batch: 4}
evaluation: {strip_frames: 4}
"""


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    """result.nc of the reduced spec run through the engine (one run)."""
    from engine.cli import main
    from engine.store import open_result

    folder = tmp_path_factory.mktemp("cf")
    spec = folder / "t.yaml"
    spec.write_text(REDUCED)
    assert main(["run", str(spec), "--executor", "serial", "--quiet", "--outputs", str(folder)]) == 0
    return open_result(folder / "t" / "result.nc")


def test_every_feature_runs_with_both_updates_and_the_metrics_agree(reduced):
    names = [f + u for f in ("pixels", "hog", "teacher", "student_fidelity", "student_tracking", "student_both")
             for u in ("", "+background")]
    assert list(reduced["tracker"].values) == names
    auc = reduced["success_auc"].values
    assert np.all((auc > 0) & (auc <= 1))
    np.testing.assert_allclose(auc, reduced["sequence_auc"].mean("sequence").values, rtol=0, atol=1e-12)
    # the success AUC is the exact integral of the success plot: the 21-point trapezoid is within 1/20 of it
    curve = reduced["success_curve"]
    assert np.all(curve.diff("overlap_threshold") <= 0)
    assert np.all(reduced["precision_curve"].diff("error_threshold") >= 0)
    np.testing.assert_allclose(curve.integrate("overlap_threshold").values, auc, atol=0.05)
    # precision at 20 px and at the scaled threshold (96 px frames: 4 px) are points of the precision plot
    np.testing.assert_array_equal(reduced["precision_20px"], reduced["precision_curve"].sel(error_threshold=20.0))
    assert float(reduced["scaled_threshold"]) == 4.0
    np.testing.assert_array_equal(reduced["precision_scaled"], reduced["precision_curve"].sel(error_threshold=4.0))


def test_cost_is_the_networks_multiply_adds_times_the_windows_per_frame(reduced):
    macs = reduced["multiply_adds"]
    teacher, student = multiply_adds(FeatureNet((8, 12, 16)), 48), multiply_adds(FeatureNet((4, 4, 4)), 48)
    assert int(macs.sel(tracker="teacher")) == 4 * teacher             # 3 scales + the update's window
    assert int(macs.sel(tracker="teacher+background")) == 8 * teacher  # + 4 background windows
    assert int(macs.sel(tracker="student_both")) == 4 * student
    assert int(macs.sel(tracker="pixels")) == 0 and int(macs.sel(tracker="hog+background")) == 0
    assert int(reduced["parameters"].sel(tracker="teacher")) == 9 * (8 + 8 * 12 + 12 * 16) + 8 + 12 + 16


def test_strip_starts_on_the_true_box_and_training_curves_are_recorded(reduced):
    truth, boxes = reduced["strip_truth"], reduced["strip_boxes"]
    assert list(reduced["strip_frame"].values) == [0, 4, 7, 11]
    np.testing.assert_array_equal(boxes.isel(strip_frame=0).values, np.tile(truth.isel(strip_frame=0).values, (12, 1)))
    image = reduced["strip_image"].isel(strip_frame=0).values
    x, y, w, h = truth.isel(strip_frame=0).values.astype(int)
    assert image.shape == (96, 96) and np.ptp(image[y:y + h, x:x + w]) > 0
    assert list(reduced["student"].values) == ["student_fidelity", "student_tracking", "student_both"]
    assert list(reduced["student_step"].values) == [0, 5, 10] and list(reduced["teacher_step"].values) == [0, 10, 20]
    assert np.isnan(reduced["teacher_loss"].values[0, 0]) and np.all(np.isfinite(reduced["student_loss"][:, 1:]))


def test_the_run_is_reproducible_from_its_seed(reduced, tmp_path):
    from engine.kind import RunContext
    from engine.plan import resolve_text
    from engine.registry import get_kind

    overrides = ["evaluation.features=[pixels,teacher]", "evaluation.updates=[plain]"]
    point = resolve_text(REDUCED, "<t>", overrides).points[0]
    again = get_kind("cf_tracking").run(point.spec, RunContext(seed=0))
    for name in ("pixels", "teacher"):
        assert float(again["success_auc"].sel(tracker=name)) == float(reduced["success_auc"].sel(tracker=name))


def _claim_result(student: float, teacher: float, pixels: float, spread: float) -> xr.Dataset:
    """A result of 3 seeds with the given mean AUCs (+- spread) for pixels, teacher and one student."""
    names = ["pixels", "teacher", "student_both"]
    mean = np.array([pixels, teacher, student])[:, None]
    auc = mean + spread * np.array([-1.0, 0.0, 1.0])[None, :]
    return xr.Dataset({"success_auc": (("tracker", "seed"), auc),
                       "multiply_adds": (("tracker", "seed"), np.array([[0] * 3, [1000] * 3, [90] * 3]))},
                      coords={"tracker": names, "seed": [0, 1, 2]})


@pytest.mark.parametrize("student, teacher, pixels, spread, verdicts", [
    (0.60, 0.61, 0.50, 0.01, ("met", "beats it beyond the spread")),
    (0.58, 0.61, 0.50, 0.01, ("NOT met", "beats it beyond the spread")),
    (0.60, 0.60, 0.59, 0.01, ("met", "above, within the spread")),
    (0.55, 0.60, 0.59, 0.01, ("NOT met", "does NOT beat it")),
])
def test_the_claim_is_reported_met_or_not_with_its_numbers(student, teacher, pixels, spread, verdicts):
    lines = analysis.claim_lines(_claim_result(student, teacher, pixels, spread))
    std = f"{spread * np.sqrt(2 / 3):.3f}"  # population std of (-s, 0, s)
    assert f"student_both at 1/11.1 of the teacher's multiply-adds: AUC {student:.3f} +- {std}" in lines[0]
    assert lines[0].split(": ")[-2].endswith(verdicts[0]) or f"{verdicts[0]} (needs" in lines[0]
    assert f"vs raw pixels {pixels:.3f} +- {std}: {verdicts[1]};" in lines[1]


def test_a_student_above_a_tenth_of_the_teachers_cost_is_not_the_claims_student():
    result = _claim_result(0.6, 0.6, 0.5, 0.01)
    result["multiply_adds"][2] = 101
    assert analysis.best_student(result) is None
    assert "not checked" in analysis.claim_lines(result)[0]


def _small_point(*overrides: str):
    from engine.plan import resolve_text

    extra = ["evaluation.features=[pixels,teacher,student_tracking]", "evaluation.updates=[plain]"]
    return resolve_text(REDUCED, "<t>", [*extra, *overrides]).points[0]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a CUDA device")
def test_training_on_cuda_without_a_device_fails_the_run_with_the_field_named():
    from engine.kind import RunContext, RunFailed
    from engine.registry import get_kind

    with pytest.raises(RunFailed, match="backend.device is cuda"):
        get_kind("cf_tracking").run(_small_point("backend.device=cuda").spec, RunContext(seed=0))


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_networks_trained_on_cuda_track_on_the_cpu():
    from engine.kind import RunContext
    from engine.registry import get_kind

    result = get_kind("cf_tracking").run(_small_point("backend.device=cuda").spec, RunContext(seed=0))
    assert np.all(np.isfinite(result["success_auc"].values)) and np.all(result["success_auc"].values > 0)
    assert np.all(np.isfinite(result["student_loss"].values[:, 1:]))


def test_strides_2_1_1_give_networks_of_cell_2_and_their_cost():
    from engine.kind import RunContext
    from engine.registry import get_kind

    point = _small_point("teacher.strides=[2,1,1]", "students.strides=[2,1,1]", "sequences.test=1")
    result = get_kind("cf_tracking").run(point.spec, RunContext(seed=0))
    assert point.spec.cell == 2
    teacher = multiply_adds(FeatureNet((8, 12, 16), (2, 1, 1)), 48)
    assert teacher == 24 * 24 * 9 * (8 + 8 * 12 + 12 * 16)
    assert int(result["multiply_adds"].sel(tracker="teacher")) == 4 * teacher
    assert np.all(result["success_auc"].values > 0)
