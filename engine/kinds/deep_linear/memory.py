"""Peak memory of a ``deep_linear`` run, from its spec (see :mod:`engine.spec.memory`).

With depth ``L``, width ``d``, output dimension ``d_y``, ``n`` samples and ``R = max_steps // every + 1``
records, in float64 (float32 with the torch backend: half):

- the weights and what gradient descent keeps beside them (prefix and suffix products, gradients, the
  initial weights, autograd's copies with torch): ``WEIGHT_COPIES L d max(d, d_y)`` numbers;
- the generated data ``x`` (d, n), ``y`` (d_y, n) and their products: ``3 (d + d_y) n``;
- the records of the excess loss and sigma_min, and their copies in the dataset: ``4 R``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import DeepLinearSpec

WEIGHT_COPIES = 6
DEFAULT_DIM, DEFAULT_DEPTH = 5, 8


def peak_memory(spec: "DeepLinearSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    b = 4 if spec.backend == "torch" and spec.dtype == "float32" else 8
    L, d = spec.model.depth, spec.model.dim
    dy = spec.model.out_dim or d
    records = spec.optimizer.max_steps // spec.output.every + 1
    shape_field = "model.depth" if L / DEFAULT_DEPTH >= d / DEFAULT_DIM else "model.dim"
    n = spec.data.n_samples if spec.data is not None else 0
    return estimate(
        ArrayBytes(shape_field, f"weights (L={L}, d={d}, {max(d, dy)}) x {WEIGHT_COPIES}",
                   WEIGHT_COPIES * L * d * max(d, dy) * b),
        ArrayBytes("data.n_samples", f"data (d + d_y = {d + dy}, n={n}) x 3", 3.0 * (d + dy) * n * b),
        ArrayBytes("optimizer.max_steps", f"{records} records of 2 curves x 2", 4.0 * records * 8),
    )
