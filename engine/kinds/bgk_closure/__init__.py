"""Kind ``bgk_closure``: machine-learned hydrodynamics of the 1D1V BGK equation (arXiv:1907.03937).

One run (nondimensional, units "1"):

1. data: kinetic BGK runs (:mod:`solvers.bgk`, batched) from random ``wave`` / ``mix`` initial data,
   Kn log-uniform in ``data.kn``, snapshots every ``data.save_every`` to ``data.t_final``; pointwise
   samples of f, augmented by Galilean shifts and reflections;
2. generalized moments ``W_k = ∫ w_k(v) f dv`` with learned weight functions (autoencoder);
3. closure networks for the heat flux q and the fluxes ``G = ∫ v w f dv``, equilibrium consistent
   by construction (exactly Euler at ``W = W_M(U)``), an ensemble of ``learner.ensemble``;
4. active learning: candidates where the ensemble disagrees get kinetic runs and retraining;
5. the reduced moment system in numba (:mod:`solvers.bgk_moments`);
6. evaluation on held-out data (wave, mix; the fixed cases Sod and sine) at each ``evaluation.kn``
   against the kinetic solution (on an ``evaluation.refine`` times finer grid, averaged back), side by
   side with Euler and Navier-Stokes.

Variables (dims ``kn``, ``family``, ``draw`` (the held-out draws of a family), ``model`` = learned/euler/navier_stokes, ``quantity`` =
rho/m/T, ``x``, ``v``, ``moment``, ``member``, ``round``, ``step``):

- ``rel_error(kn, family, draw, model, quantity)``: ||q - q_kinetic||_2/||q_kinetic||_2 at t_final
  (NaN for a failed reduced solve or a missing draw), ``mean_rel_error(kn, family, model, quantity)``,
  ``kinetic_grid_error(kn, family, draw, quantity)`` (the kinetic solution on the models' grid against the truth);
- ``reduced_status(kn, family, draw)`` (0 ok; see ``reduced_status`` attrs for the reasons);
- ``char_speed(kn, family, draw)``, ``nonhyperbolic_fraction(kn, family, draw)``: the learned system's largest
  characteristic speed over sqrt(T) and its share of cells with complex eigenvalues at t_final;
- ``profile_kinetic(kn, family, quantity, x)``, ``profile(kn, family, model, quantity, x)`` of draw 0;
- ``weight_function(moment, v)``: the learned w_k(v);
- ``ae_train_loss, ae_val_loss(ae_step)``, ``train_loss, val_loss(round, member, step)``;
- ``n_flagged(round)``, ``n_training_runs``. No timings: each stage's wall time is a line of engine.log,
  and the speed of the reduced solve against the kinetic one is measured in benchmarks/bench_bgk_closure.py.

The trained networks go beside the run file (``runs/<run_id>.model.pt``); ``learner.checkpoint``
points a spec at such a file to skip data generation, training and active learning.

Modules: :mod:`.spec` (the spec), :mod:`.families` (initial-data families), :mod:`.criteria` (the acceptance
criteria), :mod:`.run` (one run: data, training, active learning, evaluation, the dataset), :mod:`.analysis`
(report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class BGKClosure(Kind):
    """Learned moment closure of the BGK equation, uniformly accurate in Kn, against Euler and NS."""

    kind = "bgk_closure"
    version = "3"  # 2: no timings in the results; 3: the held-out draws' dimension is `draw` (was `case`, the engine's)
    summary = "ML hydrodynamics for BGK: learned moments, closure, active learning, reduced solver vs Euler/NS"
    spec_class = ".spec:BGKClosureSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:BGKClosureAnalysis"
    template_sweep = ("moments.n_extra", [2, 4, 6])
    # the defaults are the paper's sizes (minutes to hours); the template runs in 12-20 s on 2 cores
    template_values = {"kinetic.grid.n_x": 64, "kinetic.velocity.n_v": 80, "data.n_initial": 12,
                       "data.samples_per_run": 400, "learner.steps": 500, "active_learning.candidates": 4,
                       "evaluation.n_initial": 1}
    resumable = True
    smoke_overrides = ("kinetic.grid.n_x=32", "data.n_initial=4", "data.samples_per_run=200", "learner.steps=30",
                       "learner.ae_steps=30", "learner.ensemble=2", "active_learning.rounds=1",
                       "active_learning.candidates=2", "evaluation.n_initial=1", "evaluation.kn=[1.0]",
                       "evaluation.families=[wave]",
                       "data.kn=[0.01, 10.0]", "learner.record_every=10")
    allow_nonfinite = frozenset({"rel_error", "mean_rel_error", "kinetic_grid_error", "profile", "train_loss",
                                 "val_loss", "char_speed", "nonhyperbolic_fraction"})
