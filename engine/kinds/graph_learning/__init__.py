"""Kind ``graph_learning``: message passing on graphs (the DGL paper's models, arXiv:1909.01315, on PyTorch
Geometric). The ``task`` section selects one of three tasks.

Task ``node_classification``: a graph (Zachary's karate club with its real split, or a two-block stochastic
block model) generated from the run's seed, a few labelled nodes per block, and every node's block predicted by
the learned models (GCN, GAT, SGC, APPNP: PyG layers) and by three baselines computed in the same run: spectral
bisection with the Fiedler vector, label propagation, and the Bethe-Hessian spectral method. Variables, over
``method`` (the models, then ``fiedler``, ``label_propagation``, ``bethe_hessian``):

- ``accuracy`` [1]: fraction of the unlabelled nodes whose predicted block is the true one (the two blocks of
  an unsupervised method are named by the labelled nodes);
- ``overlap`` [1]: the same maximized over the permutations of the predicted blocks (0.5 = chance);
- ``train_loss`` [1] over (``model``, ``epoch``): cross-entropy of the labelled nodes during training;
- scalars ``n_nodes``, ``n_edges``, ``mean_degree`` (measured), ``c_difference`` (c_in - c_out) and
  ``ks_threshold`` = 2 sqrt(c) (the Kesten-Stigum detectability threshold of c_in - c_out).

Whole-sweep figure (:mod:`.analysis`): overlap vs c_in - c_out, one curve per method, threshold marked.

Task ``batched_regression`` (section ``regression``): random G(n, p) and geometric graphs in one block-diagonal PyG
batch, an exact graph-level target (triangle count, algebraic connectivity, Ising ground energy by brute force),
a GIN readout trained full-batch. Variables (all pure numbers, units "1", like the targets):

- ``r_squared``, ``mse``: R^2 and mean squared error of the readout on the held-out graphs;
- ``baseline_r_squared``, ``baseline_mse``: the same for the mean predictor (the training targets' mean);
- ``train_loss`` (training MSE over the target variance; NaN at step 0) and ``held_out_loss`` (1 - R^2 on the
  held-out graphs) over ``step``;
- ``predicted``, ``target`` over ``graph``: the held-out graphs' predicted and exact targets.

Task ``learned_springs`` (section ``springs``): a 2-D spring-mass network (radius or braced lattice graph)
integrated by numba velocity Verlet; an interaction network learns the accelerations from the states of random
training trajectories and is rolled out from a held-out initial state. Lengths in units of the mean node spacing
(radius graph) or of the lattice spacing, times in the unit of k and m (units "1" in the file). Variables:

- ``one_step_error``: |a_pred - a| / |a| over the held-out true trajectory;
- ``position_error``, ``baseline_error`` over ``rollout_time`` (0 .. horizon dt): rms position error of the learned
  rollout and of the constant-velocity baseline x0 + v0 t against the truth;
- ``energy_drift``, ``truth_energy_drift`` over ``rollout_time``: (E(t) - E(0)) / E(0) of the learned rollout and of the
  truth;
- ``train_loss``, ``held_out_loss`` over ``step`` (held out: relative acceleration error), ``n_nodes``,
  ``n_edges`` (springs).

Figures (:mod:`.task_analysis`): ``regression.png`` (R^2 bars against the mean, predicted vs exact scatter) and
``rollout_error.png`` (position error vs time, log y, learned vs constant velocity; energy drift).

Modules: :mod:`.spec` (the spec), :mod:`.run` (one run, dispatched by task), :mod:`.regression_task`,
:mod:`.springs_task`, :mod:`.spring_graph` (the other tasks' runs), :mod:`.analysis` and :mod:`.task_analysis`
(report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class GraphLearning(Kind):
    """Node classification by graph neural networks (PyG) against spectral and propagation baselines; graph-level
    regression on batched small graphs; a learned spring-mass simulator."""

    kind = "graph_learning"
    version = "1"
    summary = "message passing on graphs: GCN, GAT, SGC, APPNP (PyG) vs spectral baselines (arXiv:1909.01315)"
    spec_class = ".spec:GraphLearningSpec"
    run_function = ".run:run"
    analysis_class = ".analysis:GraphLearningAnalysis"
    template_sweep = ("seed", [0, 1, 2])
    allow_nonfinite = frozenset({"train_loss", "c_difference", "ks_threshold"})
    smoke_overrides = ("training.epochs=20", "graph.n=400")
    smoke_variants = {
        "batched_regression": ("task.kind=batched_regression", "regression.count=48", "regression.held_out=32",
                               "regression.hidden=8", "regression.steps=30", "regression.record_every=10"),
        "learned_springs": ("task.kind=learned_springs", "springs.n=16", "springs.states=4", "springs.steps=40",
                            "springs.record_every=20", "springs.horizon=20"),
    }
