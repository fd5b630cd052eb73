"""Peak memory of a ``bgk_closure`` run, from its spec (see :mod:`engine.spec.memory`).

With ``F = n_x n_v`` float64 values of one kinetic distribution and ``n_t`` saved times of the data runs:

- the initial data of the training runs, drawn and kept: ``2 n_initial F``;
- a batch of 16 kinetic runs solved with their distributions saved (plus the solver's ``f`` and stage
  buffer): ``16 (n_t + 2) F``;
- the training samples ``f(v)`` (points of every run, their augmented copies, the concatenations and
  the tensors built from them): ``SAMPLE_COPIES x 2 S n_v``, ``S`` = runs x samples per run (at most
  ``n_t n_x``), runs = n_initial + rounds x (max_new or candidates);
- the active-learning candidates: ``candidates F``;
- the evaluation of one family: the runs at every Knudsen number on the grid ``refine`` times finer (the
  drawn data, their repetition per Kn and the solver's copy): ``3 n_kn n_eval refine F``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.kinds.bgk.memory import phase_field
from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate, saved_count

if TYPE_CHECKING:  # pragma: no cover
    from .spec import BGKClosureSpec

F64 = 8
BATCH = 16            # kinetic runs solved at once (run.data.kinetic_samples)
SAMPLE_COPIES = 4     # samples, augmented copies, their concatenation, the training tensors


def peak_memory(spec: "BGKClosureSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    n_x, n_v = spec.kinetic.grid.n_x, spec.kinetic.velocity.n_v
    F = n_x * n_v * F64
    d, al, ev = spec.data, spec.active_learning, spec.evaluation
    n_t = saved_count(d.t_final, d.save_every, 10)
    runs = d.n_initial + al.rounds * (al.max_new or al.candidates)
    samples = runs * min(d.samples_per_run, n_t * n_x)
    batch = min(BATCH, d.n_initial)
    grid = phase_field(n_x, n_v, "kinetic.grid", "kinetic.velocity")
    eval_field = "evaluation.refine" if ev.refine > 1 else "evaluation.n_initial"
    return estimate(
        ArrayBytes("data.n_initial", f"initial data of {d.n_initial} runs (n_x={n_x}, n_v={n_v}) x 2",
                   2.0 * d.n_initial * F),
        ArrayBytes(grid, f"{batch} kinetic runs x {n_t + 2} distributions (n_x={n_x}, n_v={n_v})",
                   batch * (n_t + 2.0) * F),
        ArrayBytes("data.samples_per_run", f"{2 * samples} samples f(v) (n_v={n_v}) x {SAMPLE_COPIES}",
                   SAMPLE_COPIES * 2.0 * samples * n_v * F64),
        ArrayBytes("active_learning.candidates", f"{al.candidates} candidates (n_x={n_x}, n_v={n_v})",
                   al.candidates * F if al.rounds else 0.0),
        ArrayBytes(eval_field, f"evaluation: {len(ev.kn)} Kn x {ev.n_initial} runs x refine {ev.refine} x 3",
                   3.0 * len(ev.kn) * ev.n_initial * ev.refine * F),
    )
