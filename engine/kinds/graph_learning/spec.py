"""Spec of kind ``graph_learning``: the task, the graph, the labelled nodes, the input features, the models and
their training, the label-propagation baseline and the torch backend; the checks that tie them together name
the field to change.

Light: imports pydantic and :mod:`engine.spec` only (no torch, networkx)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, TorchBackend, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

KARATE_NODES, KARATE_BLOCK = 34, 17  # Zachary's club: 34 members, 17 on each side of the split
#: the members of Zachary's club who followed the instructor ("Mr. Hi"; the others: "Officer"), as in networkx
KARATE_MR_HI = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21})
MAX_IDENTITY_NODES = 20_000  # identity features are an (n, n) dense matrix
ISING_MAX_NODES = 14  # brute-force ground state (solvers.graph_targets.ISING_MAX_NODES)


class Task(Section):
    """What is learned."""

    kind: Literal["node_classification", "batched_regression", "learned_springs"] = Field(
        "node_classification", description="node_classification: the block of every unlabelled node from a few "
        "labelled ones, by every model and by the spectral and label-propagation baselines (sections graph, "
        "labels, features, training, label_propagation); batched_regression: a graph-level target of many small "
        "random graphs by a GIN readout trained on one block-diagonal batch (section regression); "
        "learned_springs: an interaction network learns a spring-mass network's accelerations from the numba "
        "truth and rolls out (section springs).")


class Graph(Section):
    """The graph, generated from the run's seed. The SBM is given by (c_in, c_out) or by (mean_degree,
    c_difference), c_in = mean_degree + c_difference / 2, c_out = mean_degree - c_difference / 2."""

    kind: Literal["karate", "sbm"] = Field(
        "karate", description="karate: Zachary's karate club (34 nodes, the real `club` split); sbm: two equal "
        "blocks, edge probability c_in / n inside a block and c_out / n across.")
    n: int = quantity(2000, units="1", description="Number of nodes of the sbm (karate: 34).", ge=4)
    mean_degree: float | None = quantity(None, units="1", description="Mean degree c = (c_in + c_out) / 2 of the "
                                         "sbm (with c_difference).", gt=0)
    c_difference: float | None = quantity(None, units="1", description="c_in - c_out of the sbm (with "
                                          "mean_degree); the Kesten-Stigum threshold is 2 sqrt(c).")
    c_in: float | None = quantity(None, units="1", description="n times the edge probability inside a block "
                                  "(with c_out).")
    c_out: float | None = quantity(None, units="1", description="n times the edge probability across blocks "
                                   "(with c_in).")

    @property
    def affinities(self) -> tuple[float, float]:
        """(c_in, c_out) of the sbm."""
        if self.c_in is not None:
            return self.c_in, self.c_out
        return self.mean_degree + self.c_difference / 2, self.mean_degree - self.c_difference / 2

    @property
    def nodes(self) -> int:
        return KARATE_NODES if self.kind == "karate" else self.n


class Labels(Section):
    """The labelled nodes (their block is given to the learners and to label propagation)."""

    per_block: int = quantity(1, units="1", description="Labelled nodes in each block (choice random or hubs).",
                              ge=1)
    choice: Literal["random", "hubs", "nodes"] = Field(
        "random", description="random: drawn uniformly from the run's seed; hubs: the highest-degree nodes of "
        "each block (karate: the instructor, node 0, and the administrator, node 33); nodes: the list `nodes`.")
    nodes: list[int] | None = Field(
        None, description="With choice nodes: the labelled nodes (0 .. n-1), at least one in each block and not "
        "all of a block (karate's blocks: the `club` of networkx; the sbm's: nodes below n/2, the rest).")

    def block_of(self, node: int, graph: "Graph") -> str:
        """The block of ``node`` in ``graph``, by name (karate: its club)."""
        if graph.kind == "karate":
            return "Mr. Hi" if node in KARATE_MR_HI else "Officer"
        return "0" if node < graph.n // 2 else "1"


class Features(Section):
    """Input features of the nodes."""

    kind: Literal["identity", "degree", "random", "spectral"] = Field(
        "identity", description="identity: one-hot node index (n features); degree: one-hot degree; random: "
        "standard normal; spectral: the `dimension` lowest eigenvectors of the Bethe-Hessian.")
    dimension: int = quantity(16, units="1", description="Number of random or spectral features.", ge=1)


class Training(Section):
    """The learned models and their full-batch training (Adam on the labelled nodes' cross-entropy)."""

    models: list[Literal["gcn", "gat", "sgc", "appnp"]] = Field(
        ["gcn", "gat", "sgc", "appnp"], description="gcn: 2 GCNConv layers; gat: GATConv (heads) + GATConv; sgc: "
        "SGConv S^K X W; appnp: 2-layer perceptron then APPNP's K personalized-PageRank steps.")
    hidden: int = quantity(16, units="1", description="Hidden width (per head for gat).", ge=1)
    k: int = quantity(10, units="1", description="Propagation steps K of sgc and appnp.", ge=1)
    alpha: float = quantity(0.1, units="1", description="Teleport probability of appnp.", gt=0, le=1)
    heads: int = quantity(4, units="1", description="Attention heads of gat's first layer.", ge=1)
    dropout: float = quantity(0.5, units="1", description="Dropout probability of the hidden layer.", ge=0, lt=1)
    epochs: int = quantity(200, units="1", description="Full-batch training steps.", ge=1, le=10**6)
    lr: float = quantity(0.01, units="1", description="Adam's step size.", gt=0)
    weight_decay: float = quantity(5e-4, units="1", description="Adam's weight decay (L2 penalty).", ge=0)
    record_every: int = quantity(20, units="1", description="Record the training loss every this many epochs.",
                                 ge=1)


class LabelPropagation(Section):
    """The label-spreading baseline F <- alpha S F + (1 - alpha) Y."""

    alpha: float = quantity(0.9, units="1", description="Weight alpha of propagation against the seeds.", gt=0,
                            lt=1)
    iterations: int = quantity(50, units="1", description="Propagation steps.", ge=1, le=10**5)


class Regression(Section):
    """Task batched_regression: random graphs, their exact target, the GIN readout and its full-batch training."""

    graph_kinds: list[Literal["gnp", "geometric"]] = Field(
        ["gnp", "geometric"], description="Kinds drawn uniformly per graph: gnp (G(n, p)), geometric (points in "
        "the unit square joined closer than the radius).")
    nodes: list[int] = Field([6, 14], min_length=2, max_length=2,
                             description="(min, max) number of nodes of a graph, inclusive.")
    p: list[float] = Field([0.1, 0.6], min_length=2, max_length=2,
                           description="(min, max) edge probability of gnp graphs, in [0, 1].")
    radius: list[float] = Field([0.2, 0.6], min_length=2, max_length=2,
                                description="(min, max) radius of geometric graphs (unit square), > 0.")
    count: int = quantity(256, units="1", description="Training graphs (one batch).", ge=2, le=10**6)
    held_out: int = quantity(200, units="1", description="Held-out graphs scored by R^2 and MSE.", ge=2,
                             le=10**6)
    target: Literal["triangles", "algebraic_connectivity", "ising_ground_energy"] = Field(
        "triangles", description="Exact per-graph target: number of triangles; second-smallest Laplacian "
        "eigenvalue; ground-state energy of the unit antiferromagnetic Ising model (brute force, n <= 14).")
    pool: Literal["add", "mean"] = Field("add", description="Readout over a graph's nodes.")
    hidden: int = quantity(32, units="1", description="Width of the GIN layers and the head.", ge=1)
    layers: int = quantity(3, units="1", description="GIN layers.", ge=1, le=64)
    steps: int = quantity(200, units="1", description="Full-batch Adam steps.", ge=1, le=10**6)
    lr: float = quantity(3e-3, units="1", description="Adam's initial step size (cosine decay to lr/100).", gt=0)
    record_every: int = quantity(20, units="1", description="Record the losses every this many steps.", ge=1)


class Springs(Section):
    """Task learned_springs: a 2-D spring-mass network (numba Verlet truth), training states, the interaction
    network and its rollout. Lengths in units of the mean node spacing (radius) or of the lattice spacing."""

    graph: Literal["radius", "lattice"] = Field(
        "radius", description="radius: n nodes uniform in a square of side sqrt(n) joined closer than `radius`; "
        "lattice: a braced square lattice of `lattice` = (nx, ny) nodes.")
    n: int = quantity(64, units="1", description="Nodes of the radius graph.", ge=2, le=100_000)
    radius: float = quantity(1.5, units="1", description="Spring range of the radius graph (mean spacing 1).",
                             gt=0)
    lattice: list[int] = Field([8, 8], min_length=2, max_length=2,
                               description="(nx, ny) nodes of the lattice, each >= 2.")
    k: float = quantity(1.0, units="1", description="Spring constant of every spring (force/length).", gt=0)
    m: float = quantity(1.0, units="1", description="Mass of every node.", gt=0)
    dt: float = quantity(0.02, units="1", description="Verlet time step (time unit of k and m).", gt=0)
    displacement: float = quantity(0.05, units="1", description="Standard deviation of the initial "
                                   "displacement from rest, per coordinate (length).", gt=0)
    speed: float = quantity(0.05, units="1", description="Standard deviation of the initial velocity per "
                            "coordinate (length/time).", ge=0)
    states: int = quantity(16, units="1", description="Training trajectories (random initial states).", ge=1,
                           le=10**5)
    trajectory_steps: int = quantity(200, units="1", description="Verlet steps of every training trajectory.",
                                     ge=1)
    save_every: int = quantity(20, units="1", description="A training state every this many steps.", ge=1)
    hidden: int = quantity(32, units="1", description="Hidden units of the edge and node models.", ge=1)
    message: int = quantity(8, units="1", description="Message channels.", ge=1)
    steps: int = quantity(600, units="1", description="Adam steps on minibatches of states.", ge=1, le=10**6)
    lr: float = quantity(1e-2, units="1", description="Adam's initial step size (cosine decay to lr/100).", gt=0)
    batch: int = quantity(8, units="1", description="States per minibatch.", ge=1)
    record_every: int = quantity(100, units="1", description="Record the losses every this many steps.", ge=1)
    horizon: int = quantity(100, units="1", description="Rollout steps from a held-out initial state.", ge=1,
                            le=10**6)


class GraphLearningSpec(ProblemSpec):
    """Spec of kind graph_learning."""

    kind: Literal["graph_learning"] = Field("graph_learning", description="Problem kind.")
    task: Task = Field(default_factory=Task, description="What is learned.")
    graph: Graph = Field(default_factory=Graph, description="The graph.")
    labels: Labels = Field(default_factory=Labels, description="Labelled nodes.")
    features: Features = Field(default_factory=Features, description="Input features.")
    training: Training = Field(default_factory=Training, description="Learned models and their training.")
    label_propagation: LabelPropagation = Field(default_factory=LabelPropagation,
                                                description="Label-propagation baseline.")
    regression: Regression = Field(default_factory=Regression, description="Task batched_regression.")
    springs: Springs = Field(default_factory=Springs, description="Task learned_springs.")
    backend: TorchBackend = Field(default_factory=TorchBackend, description="Torch device.")

    @model_validator(mode="after")
    def _consistent(self) -> "GraphLearningSpec":
        if self.task.kind == "batched_regression":
            _check_regression(self.regression)
        if self.task.kind == "learned_springs":
            _check_springs(self.springs, self.seed)
        if self.graph.kind == "sbm":
            _check_sbm(self.graph)
        block = KARATE_BLOCK if self.graph.kind == "karate" else self.graph.n // 2
        if self.labels.choice == "nodes" or self.labels.nodes is not None:
            _check_labelled_nodes(self.labels, self.graph, block)
        elif self.labels.per_block >= block:
            raise FieldError("labels.per_block", f"{self.labels.per_block} labelled nodes per block leave no "
                             f"unlabelled node in a block of {block}", f"per_block < {block}")
        if self.features.kind == "identity" and self.graph.nodes > MAX_IDENTITY_NODES:
            raise FieldError("features.kind", f"identity features of {self.graph.nodes} nodes are a dense "
                             f"{self.graph.nodes} x {self.graph.nodes} matrix",
                             f"random, degree or spectral features, or n <= {MAX_IDENTITY_NODES}")
        if self.features.kind == "spectral" and self.features.dimension >= self.graph.nodes:
            raise FieldError("features.dimension", f"{self.features.dimension} eigenvectors of a graph of "
                             f"{self.graph.nodes} nodes", f"dimension < {self.graph.nodes}")
        if not self.training.models:
            raise FieldError("training.models", "no model to train", "one or more of gcn, gat, sgc, appnp")
        if len(set(self.training.models)) != len(self.training.models):
            raise FieldError("training.models", f"a model is listed twice: {self.training.models}",
                             "each model once")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def _check_labelled_nodes(labels: Labels, graph: Graph, block: int) -> None:
    """The list ``labels.nodes``: given with choice nodes only, nodes of the graph, each once, and a split of the
    graph's blocks that labels each block (a block without a label is cut off from the labels: no learner or
    propagation can name it) and leaves each an unlabelled node."""
    if labels.choice != "nodes" or labels.nodes is None:
        raise FieldError("labels.nodes" if labels.nodes is not None else "labels.choice",
                         f"choice {labels.choice} with nodes {labels.nodes}",
                         "choice: nodes together with a list nodes, or neither")
    n = graph.nodes
    outside = [v for v in labels.nodes if not 0 <= v < n]
    if outside:
        raise FieldError("labels.nodes", f"{outside} are not nodes of a graph of {n}", f"0 <= node <= {n - 1}")
    if len(set(labels.nodes)) != len(labels.nodes):
        raise FieldError("labels.nodes", f"a node is listed twice: {labels.nodes}", "each node once")
    counts = {name: 0 for name in (("Mr. Hi", "Officer") if graph.kind == "karate" else ("0", "1"))}
    for v in labels.nodes:
        counts[labels.block_of(v, graph)] += 1
    for name, count in counts.items():
        if count == 0:
            raise FieldError("labels.nodes", f"{labels.nodes} label no node of block '{name}': a split that leaves a "
                             "block disconnected from every label", f"at least one node of each block ({graph.kind})")
        if count >= block:
            raise FieldError("labels.nodes", f"{count} labelled nodes of block '{name}' leave no unlabelled node in "
                             f"a block of {block}", f"fewer than {block} per block")


def _check_sbm(graph: Graph) -> None:
    """Exactly one parametrization is given, and both probabilities c / n lie in [0, 1]."""
    pair = {"c_in": graph.c_in, "c_out": graph.c_out}
    degree = {"mean_degree": graph.mean_degree, "c_difference": graph.c_difference}
    by_pair = any(v is not None for v in pair.values())
    if by_pair and any(v is not None for v in degree.values()):
        raise FieldError("graph.c_in", "the sbm is given twice, by (c_in, c_out) and by (mean_degree, "
                         "c_difference)", "one of the two pairs")
    for name, value in (pair if by_pair else degree).items():
        if value is None:
            raise FieldError(f"graph.{name}", "the sbm needs (c_in, c_out) or (mean_degree, c_difference)",
                             f"a value for {name}")
    c_in, c_out = graph.affinities
    for name, c in (("c_in", c_in), ("c_out", c_out)):
        field = f"graph.{name}" if by_pair else "graph.c_difference"
        if c < 0:
            raise FieldError(field, f"{name} = {c:g} makes the edge probability {name} / n negative",
                             "c_in >= 0 and c_out >= 0" if by_pair else "|c_difference| <= 2 mean_degree")
        if c > graph.n:
            raise FieldError(field, f"{name} = {c:g} makes the edge probability {name} / n = {c / graph.n:g} > 1",
                             f"{name} <= n = {graph.n}")


def _check_range(field: str, pair: list[float], low: float, high: float, bound: str) -> None:
    """``pair`` = (min, max) with low <= min <= max <= high, else a FieldError naming ``field``."""
    if not low <= pair[0] <= pair[1] <= high:
        raise FieldError(field, f"({pair[0]:g}, {pair[1]:g}) is not an ordered (min, max) pair with each value {bound}",
                         f"min <= max, each {bound}")


def _check_regression(regression: Regression) -> None:
    """Node, probability and radius ranges in bounds; the Ising target's brute force limited to n <= 14."""
    _check_range("regression.nodes", regression.nodes, 2, 10**4, "in [2, 10000]")
    _check_range("regression.p", regression.p, 0.0, 1.0, "in [0, 1]")
    _check_range("regression.radius", regression.radius, 1e-12, float("inf"), "> 0")
    if not regression.graph_kinds:
        raise FieldError("regression.graph_kinds", "no graph kind to draw from", "one or more of gnp, geometric")
    if regression.target == "ising_ground_energy" and regression.nodes[1] > ISING_MAX_NODES:
        raise FieldError("regression.nodes", f"the Ising ground energy is found by enumerating 2^(n-1) states; "
                         f"graphs of up to {regression.nodes[1]} nodes", f"max nodes <= {ISING_MAX_NODES}")


def _check_springs(springs: Springs, seed: int) -> None:
    """A lattice of at least 2 x 2 nodes; a radius graph (the run's, built from ``seed``) with edges."""
    if springs.graph == "lattice":
        if min(springs.lattice) < 2:
            raise FieldError("springs.lattice", f"a lattice of {springs.lattice[0]} x {springs.lattice[1]} nodes",
                             "nx >= 2 and ny >= 2")
        return
    from .spring_graph import spring_network  # builds only the (small) graph: numpy, scipy, numba

    try:
        spring_network(springs, graph_stream(seed))
    except ValueError:
        raise FieldError("springs.radius", f"radius {springs.radius:g} gives no edges among the {springs.n} "
                         "nodes of the run's graph (mean spacing 1)", "a radius of order 1 or more") from None


def graph_stream(seed: int):
    """The run's ``graph`` random stream (:meth:`engine.kind.RunContext.rng`) of ``seed``."""
    from engine.kind import RunContext

    return RunContext(seed=seed, run_id="spec-check").rng("graph")
