"""Kind ``video_segmentation``: unsupervised video object segmentation by co-attention Siamese networks
(COSNet, Lu et al., arXiv:2001.06810) on generated videos in which the primary object is the only object
that re-appears in every frame, so that reasoning across frames is the only cue to it.

A run generates training and held-out videos from its seed (:mod:`solvers.video_objects`), trains every
model of ``training.models`` on random frame pairs of the training videos (:mod:`learners.coattention`:
the co-attention variants ``vanilla``, ``symmetric``, ``channel`` and the controls ``self_reference`` and
``single_frame`` on the same network) and segments every held-out frame against N reference frames of its
video, averaging the N predictions. Variables (all pure numbers, units "1"):

- ``j``, ``f`` over (``model``, ``references``): DAVIS's region similarity J (IoU) and boundary F-measure of
  the thresholded mean prediction, mean over the frames of a video, then over the held-out videos;
- ``distractor_rate`` over (``model``, ``references``): the fraction of the visible distractor pixels that the
  model calls foreground (NaN without distractors);
- ``n_parameters`` over ``model``: trainable parameters (the controls have those of ``model.control_variant``);
- ``w_asymmetry`` over ``model``: max |W - W^T| / max |W| of the trained affinity matrix W (0 to rounding for
  the symmetric and channel-wise variants; single_frame's W gets no gradient and keeps its start);
- ``train_loss`` over (``model``, ``step``): the training loss (foreground-balanced BCE plus the weighted L1
  term, both heads), mean of the steps since the previous record (NaN at step 0);
- scalars ``objectness_j`` (J of the mask of every object against the primary object's: what a model that
  segments every object scores), ``foreground_fraction`` (primary-object pixels over all held-out pixels),
  ``distractors``, ``persistence`` [frames], ``occlusion`` (the video knobs of the run);
- ``example_image`` over (``example_frame``, ``row``, ``column``, ``channel``), ``example_mask`` and
  ``example_probability`` (``model``, ``example_frame``, ``row``, ``column``): the first held-out video's first
  frames, its true masks and every model's foreground probability at the largest N (the figures).

Whole-sweep report and figures (:mod:`.analysis`): J and F per model and N (mean ± std over seeds), the
claims (co-attention minus self-reference, J at the largest N minus J at N = 1); ``examples.png``,
``j_vs_references.png`` and, with the persistence swept, ``j_vs_persistence.png``.

Modules: :mod:`.spec` (the spec), :mod:`.run` (one run), :mod:`.evaluate` (J, F on held-out videos),
:mod:`.memory` (peak memory), :mod:`.analysis` (report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class VideoSegmentation(Kind):
    """Co-attention Siamese segmentation of the re-appearing object of generated videos, against the
    self-reference and single-frame controls."""

    kind = "video_segmentation"
    version = "1"
    summary = ("co-attention Siamese video object segmentation (COSNet, arXiv:2001.06810): variants and controls "
               "on generated videos, DAVIS J and F")
    spec_class = ".spec:VideoSegmentationSpec"
    run_function = ".run:run"
    analysis_class = ".analysis:VideoSegmentationAnalysis"
    template_sweep = ("seed", [0, 1, 2])
    allow_nonfinite = frozenset({"train_loss", "distractor_rate"})
    smoke_overrides = ("data.train_videos=8", "data.test_videos=2", "training.steps=4", "training.batch=2",
                       "model.channels=8", "video.size=16", "training.record_every=2",
                       "training.models=[vanilla, self_reference]")
    template_values = {"training.steps": 300, "data.train_videos": 300, "data.test_videos": 30}
