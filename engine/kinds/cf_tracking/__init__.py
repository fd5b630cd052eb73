"""Kind ``cf_tracking``: correlation-filter tracking with distilled features (Wang, Zhou, Song, Ma, Li,
"Real-Time Correlation Tracking via Joint Model Compression and Transfer", arXiv:1907.09831).

One run is one seed: training and held-out test sequences simulated from disjoint scikit-image photos
(:mod:`solvers.tracking_sequences`), a wide CNN teacher trained in the run on the DCF tracking loss (no ImageNet
teacher here), three thin students distilled from it (fidelity loss only, DCF tracking loss only, both), and the
multi-channel DCF tracker (:mod:`solvers.dcf`) run on the test sequences with raw pixels, HOG, the teacher and
each student as features, each with the plain and the background-aware online update. Variables, over
``tracker`` (``<features>`` or ``<features>+background``):

- ``success_auc`` [1]: area under the success plot (= mean IoU over the frames in view), mean over the test
  sequences; ``sequence_auc`` [1] over (``tracker``, ``sequence``) per test sequence;
- ``precision_20px`` [1], ``precision_scaled`` [1]: fraction of frames with centre error <= 20 px and <= the
  scaled threshold ``scaled_threshold`` [px] (OTB's 20 px x frame size / 480 px);
- ``centre_error`` [px]: mean centre error; ``sequence_centre_error`` [px] per (``tracker``, ``sequence``);
- ``success_curve`` [1] over (``tracker``, ``overlap_threshold``), ``precision_curve`` [1] over (``tracker``,
  ``error_threshold`` [px]): the OTB plots, averaged over the sequences;
- ``multiply_adds`` [1]: multiply-adds of the feature network per tracked frame (one window per searched scale,
  one for the update, four more for the background-aware update; 0 for pixels and HOG), ``parameters`` [1];
- ``teacher_loss`` [1] over (``teacher``, ``teacher_step``) and ``student_loss`` [1] over (``student``,
  ``student_step``): training losses (NaN at step 0);
- ``strip_image`` [1] over (``strip_frame``, ``row``, ``column``), ``strip_truth`` [px] over (``strip_frame``,
  ``box_edge``) and ``strip_boxes`` [px] over (``tracker``, ``strip_frame``, ``box_edge``): a few frames of the
  first test sequence with the true and the tracked boxes (x, y, width, height).

The trackers' frames per second (one thread) are not in the result: ``benchmarks/bench_cf_tracking.py`` measures
them. Figures (:mod:`.analysis`): success and precision plots (mean over seeds with their spread), the strip of
frames with the boxes of the truth, raw pixels and the best student.

Modules: :mod:`.spec`, :mod:`.memory`, :mod:`.run` (:mod:`.run.training`, :mod:`.run.evaluation`),
:mod:`.analysis`.
"""

from __future__ import annotations

from engine.kind import Kind


class CFTracking(Kind):
    """DCF tracking with pixel, HOG, teacher and distilled-student features."""

    kind = "cf_tracking"
    version = "1"
    summary = ("correlation-filter tracking with features distilled from a wide CNN teacher (arXiv:1907.09831)")
    spec_class = ".spec:CFTrackingSpec"
    run_function = ".run:run"
    analysis_class = ".analysis:CFTrackingAnalysis"
    template_sweep = ("seed", [0, 1, 2])
    allow_nonfinite = frozenset({"teacher_loss", "student_loss"})
    smoke_overrides = ("sequences.train=2", "sequences.test=2", "sequences.frames=6", "teacher.steps=3",
                       "students.steps=2", "pairs.batch=2", "teacher.widths=[8,8,8]", "students.widths=[4,4,4]",
                       "evaluation.strip_frames=3")
    template_values = {"sequences.train": 8, "sequences.test": 4, "sequences.frames": 30, "teacher.steps": 150,
                       "students.steps": 150}
