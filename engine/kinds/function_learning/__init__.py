"""Kind ``function_learning``: random features, kernels, two-layer networks and ResNets as
discretizations of continuous models (arXiv:1912.12777), and the Monte Carlo rate of their
minimum-norm interpolants (arXiv:1912.06987).

A run draws n training and n_test test points (sphere, Gaussian or cube), labels them with a
target f*, fits one model (random_features, kernel, two_layer, resnet, flow_random_features)
with one estimator (min_norm, ridge, gd, adam, particle with smoothing, spectral) in torch
(cpu/cuda, float32/float64) and records:

- ``test_mse`` = mean over the test set of (f - f*)^2, ``test_rel_mse`` = test_mse / Var f*,
  ``train_mse`` = mean over the training set of (f - y)^2;
- the model's norm: ``rkhs_norm`` (random_features, kernel), ``path_norm`` and
  ``path_norm_l2`` (two_layer), ``weighted_path_norm`` (resnet, flow_random_features);
  ``target_barron_norm`` / ``target_rkhs_norm`` where the target's norm is known;
- ``discretization_error`` (random_features and spectral with target feature_integral): the
  RMS error of (1/m) sum_j a(w_j) sigma(w_j.x) at the target's own coefficient function;
- ``n_params``, ``lam`` (the regularization used), ``lr`` (iterative methods);
- ``train_loss(step)``, ``test_loss(step)`` (R = half mean squared error) for gd/adam/particle
  and the penalized networks.

Whole-sweep summary (:mod:`.analysis`): log-log slopes of test_mse vs data.n and vs
model.width, with standard errors over seeds.

Modules: :mod:`.spec` (the spec), :mod:`.run` (one run: data, fit, dataset), :mod:`.analysis`
(rates, report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class FunctionLearning(Kind):
    """Random features, kernels, two-layer networks, ResNets and flow-based random features."""

    kind = "function_learning"
    version = "2"  # 2: no wall_time in the results
    summary = ("min-norm interpolants and continuous-viewpoint models: random features, kernel, two-layer, ResNet, "
               "flow random features (arXiv:1912.06987, 1912.12777)")
    spec_class = ".spec:FunctionLearningSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:FunctionLearningAnalysis"
    template_sweep = ("data.n", [50, 100, 200, 400, 800])
    smoke_overrides = ("data.n_test=100", "model.width=40", "fit.steps=20")
