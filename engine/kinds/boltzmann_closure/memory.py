"""Peak memory of a ``boltzmann_closure`` run, from its spec (arithmetic only; see :mod:`engine.spec.memory`).

One kinetic run at a time holds about ``WORK_COPIES F`` x 8 bytes, ``F = n_x N³`` (kind ``boltzmann``'s measured
count, :mod:`engine.kinds.boltzmann.memory`), plus its saved pairs and productions ``4 n_t n_x N``; the training
samples (stacked pairs and productions, their augmented copies, the concatenations and the tensors built from
them) take ``SAMPLE_COPIES x 2 x 2 S 2N`` values, ``S`` = runs x samples per run (at most ``n_t n_x``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate, saved_count

from ..boltzmann.memory import WORK_COPIES

if TYPE_CHECKING:  # pragma: no cover
    from .spec import BoltzmannClosureSpec

F64 = 8
SAMPLE_COPIES = 4     # samples, augmented copies, their concatenation, the training tensors


def peak_memory(spec: "BoltzmannClosureSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    n_x, n = spec.kinetic.grid.n_x, spec.kinetic.velocity.n
    d, al = spec.data, spec.active_learning
    n_t = saved_count(d.t_final, d.save_every, 10)
    runs = d.n_initial + al.rounds * (al.max_new or al.candidates)
    samples = runs * min(d.samples_per_run, n_t * n_x)
    field = "kinetic.grid.n_x" if n_x / 64 >= (n / 16) ** 3 else "kinetic.velocity.n"
    return estimate(
        ArrayBytes(field, f"f (n_x={n_x}, {n}, {n}, {n}) float64 x {WORK_COPIES} copies",
                   WORK_COPIES * n_x * n ** 3 * F64),
        ArrayBytes("data.save_every", f"saved pairs and productions (t={n_t}, x={n_x}, v={n}) x 4",
                   4.0 * n_t * n_x * n * F64),
        ArrayBytes("data.samples_per_run", f"{2 * samples} samples (pair and production, 2 x {2 * n}) x "
                   f"{SAMPLE_COPIES}", SAMPLE_COPIES * 2 * 2 * samples * 2 * n * F64),
    )
