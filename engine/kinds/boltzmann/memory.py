"""Peak memory of a ``boltzmann`` run, from its spec (arithmetic only; see :mod:`engine.spec.memory`).

With ``F = n_x N³`` float64 values of the distribution, a run holds about ``WORK_COPIES F`` x 8 bytes: f, the
transport stage, the collision step's f, gain, loss and Q, the Fourier transforms of all cells (complex,
``n_x N² (N/2 + 1)``: about one F) and the two inverse transforms of a quadrature term; plus the reduced
distributions ``g, b`` ``(n_t, n_x, N)`` when ``output.distribution`` is set, and the moments and references over
(t, x). The reduced BGK reference holds ``(2, n_x, N)``: negligible. Measured: a run with n_x = 256, N = 24 peaked
357 MiB above a run with n_x = 8 (the interpreter and libraries), 13.2 copies of f; the estimate is 378 MiB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate, saved_count

if TYPE_CHECKING:  # pragma: no cover
    from .spec import BoltzmannSpec

F64 = 8
WORK_COPIES = 14
SAVED_COPIES = 3         # the saved g, b over t, their copy in the dataset, the buffers of the netCDF write
MOMENT_ROWS = 30         # moments, references and their work arrays over (t, x)


def peak_memory(spec: "BoltzmannSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    n_x, n = spec.grid.n_x, spec.velocity.n
    n_t = saved_count(spec.time.t_final, spec.time.save_every, 10)
    field = "grid.n_x" if n_x / 64 >= (n / 16) ** 3 else "velocity.n"
    return estimate(
        ArrayBytes(field, f"f (n_x={n_x}, {n}, {n}, {n}) float64 x {WORK_COPIES} copies",
                   WORK_COPIES * n_x * n ** 3 * F64),
        ArrayBytes("output.distribution", f"saved g, b (t={n_t}, x={n_x}, v={n}) float64 x {SAVED_COPIES}",
                   SAVED_COPIES * 2 * n_t * n_x * n * F64 if spec.output.distribution else 0.0),
        ArrayBytes("grid.n_x", f"moments (t={n_t}, x={n_x}) float64 x {MOMENT_ROWS}", MOMENT_ROWS * n_t * n_x * F64),
    )
