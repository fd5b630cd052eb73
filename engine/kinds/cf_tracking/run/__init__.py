"""One run of ``cf_tracking``: simulate the training and test sequences (disjoint photos), train the teacher
and distil the students (:mod:`.training`), run every tracker on the test sequences and score it
(:mod:`.evaluation`), and keep a strip of frames of the first test sequence with every tracker's boxes.

Random streams of the run's seed: ``sequences:train``, ``sequences:test`` (the simulations), and those of
:mod:`.training`. Timings go to the run's log, never into the result (the frames per second are measured by
``benchmarks/bench_cf_tracking.py``).
"""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import tracking_metrics as tm
from learners.training import NoDevice, device, torch_threads
from solvers import tracking_sequences as ts

from ..spec import CFTrackingSpec
from .evaluation import Scores, evaluate, feature_cost
from .training import train_networks

__all__ = ["run"]

BOX_EDGES = ["x", "y", "width", "height"]
PIXELS = "1"  # lengths in pixels: UDUNITS (CF) has no pixel unit, so they are counts, said in each long_name


def knobs(spec: CFTrackingSpec) -> ts.Knobs:
    s = spec.sequences
    return ts.Knobs(frames=s.frames, size=s.size, target=s.target, max_speed=s.max_speed, damping=s.damping,
                    speed_noise=s.speed_noise, distractor=s.distractor, gain=s.gain, noise=s.noise, scale=s.scale,
                    rotation=s.rotation, blur=s.blur, occlusion=s.occlusion, occlusion_frames=s.occlusion_frames,
                    out_of_view=s.out_of_view)


def _sequences(spec: CFTrackingSpec, ctx: RunContext) -> tuple[list[ts.Sequence], list[ts.Sequence]]:
    made = []
    for part, count, photos in (("train", spec.sequences.train, ts.TRAIN_PHOTOS),
                                ("test", spec.sequences.test, ts.TEST_PHOTOS)):
        seed = int(ctx.rng(f"sequences:{part}").integers(2**31))
        made.append(ts.make_sequences(seed, count, photos, knobs(spec)))
    return made[0], made[1]


def run(spec: CFTrackingSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run (variables in the package docstring)."""
    try:
        where = device(spec.backend.device)
    except NoDevice:
        raise RunFailed("backend.device is cuda but torch sees no CUDA device (use device: auto or cpu)") from None
    start = time.perf_counter()
    train, test = _sequences(spec, ctx)
    networks = [f for f in spec.evaluation.features if f not in ("pixels", "hog")]
    trained = train_networks(spec, train, networks, ctx, where, lambda k, n: ctx.progress(k, 2 * n))
    ctx.log.info("sequences and training: %.1f s", time.perf_counter() - start)
    nets = {name: item.net for name, item in trained.items()}
    start = time.perf_counter()
    with torch_threads(1):  # the tracker runs on one thread (the paper's single-core setting)
        scores = evaluate(spec, test, nets, lambda k, n: ctx.progress(n + k, 2 * n))
    ctx.log.info("tracking: %.1f s", time.perf_counter() - start)
    return dataset(spec, test, scores, trained, *feature_cost(spec, nets))


def _curves(trained: dict, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(steps (k,), losses (len(names), k)) of networks trained for the same steps (empty for no name)."""
    if not names:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    return trained[names[0]].curves.step, np.stack([trained[n].curves.train for n in names])


def dataset(spec: CFTrackingSpec, test: list[ts.Sequence], scores: dict[str, Scores], trained: dict,
            macs: list[int], params: list[int]) -> xr.Dataset:
    """The run's dataset from the trackers' scores, the trained networks' curves and the feature costs."""
    names = list(scores)
    stacked = {field: np.stack([getattr(scores[n], field) for n in names])
               for field in ("auc", "precision_20", "precision_scaled", "centre_error", "success_curve",
                             "precision_curve")}
    strip = np.unique(np.rint(np.linspace(0, spec.sequences.frames - 1, spec.evaluation.strip_frames)).astype(int))
    first = test[0]
    students = [n for n in trained if n != "teacher"]
    teacher_steps, teacher_loss = _curves(trained, ["teacher"] if "teacher" in trained else [])
    student_steps, student_loss = _curves(trained, students)
    tracker = ("tracker",)
    sequence = ("tracker", "sequence")
    return xr.Dataset(
        {"success_auc": variable(stacked["auc"].mean(axis=1), "success AUC (mean IoU) over the test sequences",
                                 tracker),
         "precision_20px": variable(stacked["precision_20"].mean(axis=1),
                                    "fraction of frames with centre error <= 20 px", tracker),
         "precision_scaled": variable(stacked["precision_scaled"].mean(axis=1), "fraction of frames with centre "
                                      "error <= the scaled threshold", tracker),
         "centre_error": variable(stacked["centre_error"].mean(axis=1), "mean centre error in pixels", tracker, PIXELS),
         "sequence_auc": variable(stacked["auc"], "success AUC of each test sequence", sequence),
         "sequence_centre_error": variable(stacked["centre_error"], "mean centre error of each test sequence in "
                                           "pixels", sequence, PIXELS),
         "success_curve": variable(stacked["success_curve"], "fraction of frames with overlap above the threshold",
                                   ("tracker", "overlap_threshold")),
         "precision_curve": variable(stacked["precision_curve"], "fraction of frames with centre error within "
                                     "the threshold", ("tracker", "error_threshold")),
         "multiply_adds": variable(np.array(macs, dtype=np.int64), "multiply-adds of the feature network per "
                                   "tracked frame (0: no network)", tracker),
         "parameters": variable(np.array(params, dtype=np.int64), "parameters of the feature network", tracker),
         "scaled_threshold": variable(tm.scaled_threshold(spec.sequences.size), "OTB's 20 px scaled to the frame "
                                      "size, in pixels", (), PIXELS),
         "teacher_loss": variable(teacher_loss, "teacher's DCF tracking loss (mean since the previous record)",
                                  ("teacher", "teacher_step")),
         "student_loss": variable(student_loss, "student's training loss (mean since the previous record)",
                                  ("student", "student_step")),
         "strip_image": variable(first.frames[strip].astype(np.float32), "frames of the first test sequence "
                                 "(intensity)", ("strip_frame", "row", "column")),
         "strip_truth": variable(first.boxes[strip], "true box (x, y, width, height) in pixels",
                                 ("strip_frame", "box_edge"), PIXELS),
         "strip_boxes": variable(np.stack([scores[n].boxes[0, strip] for n in names]), "tracker's box (x, y, "
                                 "width, height) in pixels", ("tracker", "strip_frame", "box_edge"), PIXELS)},
        coords={"tracker": ("tracker", names, {"units": "1", "long_name": "tracker (features+online update)"}),
                "sequence": ("sequence", np.arange(len(test)), {"units": "1", "long_name": "test sequence"}),
                "overlap_threshold": ("overlap_threshold", tm.SUCCESS_THRESHOLDS,
                                      {"units": "1", "long_name": "overlap (IoU) threshold"}),
                "error_threshold": ("error_threshold", tm.PRECISION_THRESHOLDS,
                                    {"units": PIXELS, "long_name": "centre error threshold in pixels"}),
                "teacher": ("teacher", ["teacher"] if teacher_loss.size else [],
                            {"units": "1", "long_name": "teacher network"}),
                "teacher_step": ("teacher_step", teacher_steps, {"units": "1", "long_name": "teacher training step"}),
                "student": ("student", students, {"units": "1", "long_name": "student network"}),
                "student_step": ("student_step", student_steps, {"units": "1", "long_name": "student training step"}),
                "strip_frame": ("strip_frame", strip, {"units": "1", "long_name": "frame index"}),
                "row": ("row", np.arange(spec.sequences.size) + 0.5,
                        {"units": PIXELS, "long_name": "pixel centre y in pixels"}),
                "column": ("column", np.arange(spec.sequences.size) + 0.5,
                           {"units": PIXELS, "long_name": "pixel centre x in pixels"}),
                "box_edge": ("box_edge", BOX_EDGES, {"units": "1", "long_name": "box component"})})
