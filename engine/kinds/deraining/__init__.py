"""Kind ``deraining``: single-image deraining with intrinsic rainy-image priors and multi-scale auxiliary
decoding, after Wang, Ma & Zeng (arXiv:1911.10810; the loss forms are reconstructed, see
docs/kinds/deraining.md).

A run renders rain over scikit-image photos (:mod:`solvers.rain`: streaks from drop physics, exact layers
O = B + R), trains an encoder-decoder that predicts the rain layer (B^ = O - R^) on one loss arm (``l1``,
``low_value``, ``quasi_sparsity``, ``auxiliary`` or ``all``: the L1 similarity alone, with one prior, or with
the three), derains held-out crops of other photos with it and with two classical baselines computed in the
same run (a median across the streak direction; L0 gradient minimisation as a sparse-gradient layer
separation, :mod:`solvers.derain_baselines`), and scores them. Variables:

- ``psnr`` [1, decibels] and ``ssim`` [1] over ``method`` (``rainy_input``, ``learned``, ``directional_median``,
  ``l0_separation``): peak signal-to-noise ratio 10 log10(1 / mean((B^ - B)^2)) and structural similarity
  (scikit-image, data range 1) against the true background, mean over the held-out crops; +inf PSNR where an
  estimate equals the truth (e.g. no rain);
- ``image_psnr``, ``image_ssim`` over (``method``, ``image``): the same per held-out crop;
- ``train_loss`` [1] over ``step``: the training objective, mean of the steps since the previous record (NaN
  at step 0); ``held_out_error`` [1] over ``step``: mean |B^ - B| of the network on the held-out crops;
- ``parameters``, ``body_parameters`` [1] and ``multiply_adds`` [1, per megapixel of input] over
  (``cost_groups``, ``feature_sharing`` 0/1): the deterministic cost of the network with the spec's width and
  blocks for each group count of ``cost.groups``, without and with feature sharing (measured CPU time:
  benchmarks/bench_deraining.py, never in results);
- ``crop`` [1, intensity] over (``panel``, ``row``, ``col``): the top-left square of the first held-out crop as
  rainy image, derained, each baseline, truth, predicted rain O - B^ and true O - B.

Whole-sweep figures and report (:mod:`.analysis`): the crops, and the ablation (PSNR and SSIM per arm, mean
and standard deviation over seeds, the rainy input and the baselines beside them); the report states each
claim (every arm >= 8 dB above the rainy input and above the baselines; each prior's effect against its
seed spread).

Modules: :mod:`.spec` (the spec), :mod:`.photos` (the photo catalogue), :mod:`.memory` (the memory estimate),
:mod:`.run` (one run), :mod:`.analysis` (report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class Deraining(Kind):
    """Deraining by an encoder-decoder trained with intrinsic rainy-image priors, against classical baselines."""

    kind = "deraining"
    version = "1"
    summary = ("single-image deraining: rain renderer, encoder-decoder with intrinsic priors and auxiliary decoders, "
               "classical baselines (after arXiv:1911.10810)")
    spec_class = ".spec:DerainingSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:DerainingAnalysis"
    template_sweep = ("losses.arm", ["l1", "low_value", "quasi_sparsity", "auxiliary", "all"])
    allow_nonfinite = frozenset({"psnr", "image_psnr", "train_loss"})
    smoke_overrides = ("training.steps=6", "training.batch=4", "training.record_every=3", "data.train_count=8",
                       "data.crop=32", "data.test_count=2", "data.test_crop=48", "evaluation.figure_crop=32")
    template_values = {"training.steps": 300, "data.train_count": 128, "data.test_count": 4}
