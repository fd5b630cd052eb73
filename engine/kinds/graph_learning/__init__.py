"""Kind ``graph_learning``: message passing on graphs (the DGL paper's models, arXiv:1909.01315, on PyTorch
Geometric).

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

Modules: :mod:`.spec` (the spec), :mod:`.run` (one run), :mod:`.analysis` (report, figures).
"""

from __future__ import annotations

from engine.kind import Kind


class GraphLearning(Kind):
    """Node classification by graph neural networks (PyG) against spectral and propagation baselines."""

    kind = "graph_learning"
    version = "1"
    summary = "message passing on graphs: GCN, GAT, SGC, APPNP (PyG) vs spectral baselines (arXiv:1909.01315)"
    spec_class = ".spec:GraphLearningSpec"
    run_function = ".run:run"
    analysis_class = ".analysis:GraphLearningAnalysis"
    template_sweep = ("seed", [0, 1, 2])
    allow_nonfinite = frozenset({"train_loss", "c_difference", "ks_threshold"})
    smoke_overrides = ("training.epochs=20", "graph.n=400")
