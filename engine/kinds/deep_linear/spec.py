"""Spec of kind ``deep_linear``: network shape, target, data, initialization, optimizer, output and
backend, and the checks that need more than one field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

#: Target kinds that need out_dim == dim.
SQUARE_TARGETS = ("negative_identity", "orthogonal", "negative_definite", "positive_definite", "diagonal")
#: Default init.noise per scheme (0 for the others).
DEFAULT_NOISE = {"near_identity": 0.01}


class Network(Section):
    """Shape of the network."""

    dim: int = quantity(5, units="1", description="Width d of the input and of every residual block.", ge=1)
    depth: int = quantity(8, units="1", description="Number L of residual blocks.", ge=1)
    out_dim: int | None = quantity(None, units="1", description="Output dimension d_y; default: dim.", ge=1)

    @model_validator(mode="before")
    @classmethod
    def _default_out_dim(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("out_dim") is None:
            data = {**data, "out_dim": data.get("dim", cls.model_fields["dim"].default)}
        return data


class Target(Section):
    """The target matrix Phi (d_y x d)."""

    kind: Literal["gaussian", "negative_identity", "orthogonal", "negative_definite",
                  "positive_definite", "diagonal", "matrix"] = Field(
        "negative_identity",
        description="gaussian: G/sqrt(d); negative_identity: -I; orthogonal: random with det -1; "
        "negative_definite: -(I + G G^T/d)/2; positive_definite: (I + G G^T/d)/2; diagonal: diag(values); "
        "matrix: the given rows. G has iid N(0, 1) entries from the run's seed.")
    scale: float = quantity(1.0, units="1", description="Factor multiplying the target.", gt=0)
    values: list[float] | None = Field(None, description="Diagonal entries for kind 'diagonal' (d numbers).")
    matrix: list[list[float]] | None = Field(None, description="Rows of Phi for kind 'matrix' (d_y rows of d numbers).")


class Data(Section):
    """Generated training data; without this section the loss is the population one with Lambda = I."""

    n_samples: int = quantity(200, units="1", description="Number n of samples; at least model.dim.", ge=1)
    inputs: Literal["isotropic", "anisotropic"] = Field(
        "isotropic", description="isotropic: x ~ N(0, I); anisotropic: x ~ N(0, Sigma) with eigenvalues "
        "spaced geometrically from 1 to 1/condition in a random basis.")
    condition: float = quantity(5.0, units="1", description="Condition number of Sigma for anisotropic inputs.", ge=1.0)
    noise: float = quantity(0.0, units="1", description="Standard deviation of Gaussian label noise.", ge=0.0)


class Init(Section):
    """Initialization of W_1..W_L and W_{L+1}."""

    scheme: Literal["zas", "near_identity", "identity", "xavier"] = Field(
        "zas", description="zas: W_l = 0, W_{L+1} = 0; identity / near_identity: W_l = 0, W_{L+1} = I; "
        "xavier: I + W_l and W_{L+1} with N(0, 1/d) entries.")
    noise: float | None = quantity(None, units="1", ge=0.0, description="Standard deviation of iid Gaussian noise "
                                   "added to every W_l and W_{L+1}; default: 0.01 for near_identity, 0 otherwise.")

    @model_validator(mode="before")
    @classmethod
    def _default_noise(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("noise") is None:
            scheme = data.get("scheme", cls.model_fields["scheme"].default)
            data = {**data, "noise": DEFAULT_NOISE.get(scheme, 0.0)}
        return data


class Optimizer(Section):
    """Full-batch gradient descent."""

    lr: float = quantity(0.2, units="1", description="Step size (absolute), or the constant c of c/(L ||Phi||_2^2) "
                         "(scaled).", gt=0)
    lr_rule: Literal["absolute", "scaled"] = Field("scaled", description="How lr gives the step size.")
    max_steps: int = quantity(20000, units="1", description="Maximum number of GD steps.", ge=1, le=10**8)
    tol: float = quantity(1e-8, units="1", gt=0, description="Stop when the excess loss is <= tol (absolute) or "
                          "<= tol ||Phi||_F^2 (relative).")
    tol_rule: Literal["absolute", "relative"] = Field("relative", description="How tol gives the threshold.")


class Output(Section):
    """What is recorded."""

    every: int = quantity(10, units="1", description="Record loss and sigma_min(P) every `every` steps.", ge=1)


class DeepLinearSpec(ProblemSpec):
    """Spec of kind deep_linear."""

    kind: Literal["deep_linear"] = Field("deep_linear", description="Problem kind.")
    model: Network = Field(default_factory=Network, description="Network shape.")
    target: Target = Field(default_factory=Target, description="Target matrix Phi.")
    data: Data | None = Field(None, description="Generated data (optional; default: population loss, Lambda = I).")
    init: Init = Field(default_factory=Init, description="Initialization.")
    optimizer: Optimizer = Field(default_factory=Optimizer, description="Gradient descent settings.")
    output: Output = Field(default_factory=Output, description="Recording.")
    backend: Literal["numba", "torch"] = Field("numba", description="numba (float64, CPU) or torch (autograd).")
    dtype: Literal["float64", "float32"] = Field("float64", description="Floating point type (torch backend only).")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Torch device; auto = cuda when available.")

    @model_validator(mode="after")
    def _consistent(self) -> "DeepLinearSpec":
        d, dy = self.model.dim, self.model.out_dim
        if self.init.scheme in ("identity", "near_identity") and dy != d:
            raise FieldError("model.out_dim", f"init '{self.init.scheme}' needs out_dim == dim, got {dy} != {d}",
                             f"out_dim = {d}, or init.scheme zas/xavier")
        if self.target.kind in SQUARE_TARGETS and dy != d:
            raise FieldError("model.out_dim", f"target '{self.target.kind}' is square, got out_dim {dy} != dim {d}",
                             f"out_dim = {d}")
        if self.target.kind == "diagonal" and (self.target.values is None or len(self.target.values) != d):
            got = "none" if self.target.values is None else f"{len(self.target.values)} values"
            raise FieldError("target.values", f"target 'diagonal' needs model.dim values, got {got}", f"{d} numbers")
        if self.target.kind == "matrix":
            rows = self.target.matrix or []
            shape = (len(rows), *sorted({len(r) for r in rows}))
            if shape != (dy, d):
                raise FieldError("target.matrix", f"matrix has shape {shape}", f"shape (out_dim, dim) = ({dy}, {d})")
        if self.data is not None and self.data.n_samples < d:
            raise FieldError("data.n_samples", f"{self.data.n_samples} samples cannot span dimension {d}",
                             f"n_samples >= model.dim = {d}")
        if self.backend == "numba" and (self.dtype != "float64" or self.device != "cpu"):
            raise FieldError("backend", "the numba backend runs in float64 on the CPU",
                             "backend: torch for float32 or cuda")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)
