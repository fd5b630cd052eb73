"""Kind ``boltzmann_closure``: machine-learned hydrodynamics of the Boltzmann equation for Maxwell molecules in
1D3V (issue 26 item 4; the method of arXiv:1907.03937, kind ``bgk_closure``, where the kinetic solve is
expensive).

One run (nondimensional, units "1"), the pipeline of kind ``bgk_closure`` on a different kinetic equation:

1. data: kinetic runs of kind ``boltzmann``'s solver (:mod:`solvers.boltzmann_kinetic`, one run at a time)
   from local Maxwellians of random waves (``wave``, ``wave_1mode``), Kn log-uniform in ``data.kn``; pointwise
   samples of Chu's pair ``(g, b)`` on the v_x grid and of the collision production ``C(f)/Kn``, augmented by
   reflections ``v -> -v``;
2. generalized moments ``W_k = ∫ (w_k g + w̃_k b) dv_x`` with learned weight functions (autoencoder);
3. closure networks for the normal stress, the heat flux and the fluxes G, equilibrium consistent by
   construction (exactly Euler, γ = 5/3, at ``W = W_M(U)``), and the collision source of W,
   ``-(rho/Kn) P z`` with P symmetric positive definite (learned from the production: the Maxwell operator has
   no closed form in W); an ensemble of ``learner.ensemble``;
4. active learning: candidates where the ensemble disagrees get kinetic runs and retraining;
5. the reduced moment system in numba (:mod:`solvers.bgk_moments`, dim 3);
6. evaluation on held-out draws at each ``evaluation.kn`` against the kinetic solution, side by side with Euler
   and Navier-Stokes with the operator's viscosity and Prandtl number (2/3 for Maxwell molecules).

Variables: those of kind ``bgk_closure`` (``rel_error``, ``mean_rel_error``, ``kinetic_grid_error`` (0: the truth
is solved on the models' grid), ``reduced_status``, ``profile_kinetic``, ``profile``, the loss curves,
``n_flagged``, ``n_training_runs``, ``n_training_samples``), with ``weight_function(moment, v)`` the weights of g
and ``weight_function_b(moment, v)`` those of b; no characteristic speeds (the eigenvalue analysis is 1D1V). No
timings: each stage's wall time and each kinetic run are lines of engine.log, and the reduced solve's speed
against the kinetic one is measured in benchmarks/bench_boltzmann_closure.py.

Modules: :mod:`.spec`, :mod:`.families`, :mod:`.memory`, :mod:`.source` (the kinetic equation), :mod:`.run`,
:mod:`.criteria`, :mod:`.analysis`.
"""

from __future__ import annotations

from engine.kind import Kind


class BoltzmannClosure(Kind):
    """Learned moment closure of the Boltzmann equation (Maxwell molecules, 1D3V) against Euler and NS."""

    kind = "boltzmann_closure"
    version = "1"
    summary = "ML hydrodynamics for the Boltzmann equation (Maxwell molecules, 1D3V): learned moments and source"
    spec_class = ".spec:BoltzmannClosureSpec"
    run_function = ".run:run"
    warmup_function = ".run:warmup"
    analysis_class = ".analysis:BoltzmannClosureAnalysis"
    template_sweep = ("moments.n_extra", [2, 4])
    template_values = {"kinetic.grid.n_x": 16, "kinetic.velocity.n": 16, "kinetic.velocity.L": 7.4,
                       "kinetic.velocity.degree": 3, "kinetic.velocity.rank": 2, "data.n_initial": 4,
                       "data.families": ["wave_1mode"], "data.amplitude": 0.5, "data.t_final": 0.05,
                       "data.kn": [0.01, 10.0], "learner.steps": 300,
                       "active_learning.rounds": 0, "evaluation.n_initial": 1,
                       "evaluation.families": ["wave_1mode"], "evaluation.kn": [0.01, 1.0]}
    resumable = True
    smoke_overrides = ("kinetic.grid.n_x=8", "kinetic.velocity.n=16", "kinetic.velocity.L=7.4",
                       "kinetic.velocity.degree=3", "kinetic.velocity.rank=1", "data.n_initial=2",
                       "data.families=[wave_1mode]", "data.amplitude=0.5", "data.t_final=0.02",
                       "data.save_every=0.01", "data.kn=[0.01, 10.0]", "data.samples_per_run=50",
                       "learner.steps=20", "learner.ae_steps=20", "learner.record_every=10",
                       "active_learning.rounds=1", "active_learning.candidates=1", "evaluation.n_initial=1",
                       "evaluation.kn=[1.0]", "evaluation.families=[wave_1mode]")
    allow_nonfinite = frozenset({"rel_error", "mean_rel_error", "kinetic_grid_error", "profile", "train_loss",
                                 "val_loss"})
