"""Spec of kind ``graph_learning``: the task, the graph, the labelled nodes, the input features, the models and
their training, the label-propagation baseline and the torch backend; the checks that tie them together name
the field to change.

Light: imports pydantic and :mod:`engine.spec` only (no torch, networkx)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

KARATE_NODES, KARATE_BLOCK = 34, 17  # Zachary's club: 34 members, 17 on each side of the split
MAX_IDENTITY_NODES = 20_000  # identity features are an (n, n) dense matrix


class Task(Section):
    """What is learned."""

    kind: Literal["node_classification"] = Field(
        "node_classification", description="node_classification: the block of every unlabelled node from a few "
        "labelled ones, by every model and by the spectral and label-propagation baselines.")


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

    per_block: int = quantity(1, units="1", description="Labelled nodes in each block.", ge=1)
    choice: Literal["random", "hubs"] = Field(
        "random", description="random: drawn uniformly from the run's seed; hubs: the highest-degree nodes of "
        "each block (karate: the instructor, node 0, and the administrator, node 33).")


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


class Backend(Section):
    """Torch device."""

    device: Literal["cpu", "cuda", "auto"] = Field("auto", description="Torch device; auto = cuda when available.")


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
    backend: Backend = Field(default_factory=Backend, description="Torch device.")

    @model_validator(mode="after")
    def _consistent(self) -> "GraphLearningSpec":
        if self.graph.kind == "sbm":
            _check_sbm(self.graph)
        block = KARATE_BLOCK if self.graph.kind == "karate" else self.graph.n // 2
        if self.labels.per_block >= block:
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
