"""Peak memory of a ``bgk`` run, from its spec (arithmetic only; see :mod:`engine.spec.memory`).

With ``F = n_comp n_x n_v`` float64 values of the distribution (``n_comp`` = 1 for ``velocity.dim: 1``, 2 for
the reduced distributions of ``dim: 3``) and ``n_t`` saved times, a run holds:

- the distribution ``f``, the solver's stage buffer and the initial ``f0``: ``3 F`` x 8 bytes;
- with ``output.distribution``, ``f`` at every saved time, ``n_t F`` x 8 bytes, and twice as much again while
  the dataset is built and written (measured: 1.0 GiB for n_x = n_v = 2000 and 11 saved times, 1.15 GiB
  estimated);
- the moments and references over (t, x): ``~20 n_t n_x`` x 8 bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate, saved_count

if TYPE_CHECKING:  # pragma: no cover
    from .spec import BGKSpec

F64 = 8
WORK_COPIES = 3          # f, the stage buffer g, the initial f0
SAVED_COPIES = 3         # the saved f over t, its copy in the dataset, the buffers of the netCDF write
MOMENT_ROWS = 20         # moments, references and their work arrays over (t, x)
DEFAULT_N_X, DEFAULT_N_V = 200, 64


def phase_field(n_x: int, n_v: int, grid: str = "grid", velocity: str = "velocity") -> str:
    """The field to blame for an array over (x, v): ``<grid>.n_x`` or ``<velocity>.n_v``, whichever is
    further above its default."""
    return f"{grid}.n_x" if n_x / DEFAULT_N_X >= n_v / DEFAULT_N_V else f"{velocity}.n_v"


def peak_memory(spec: "BGKSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    g, v = spec.grid, spec.velocity
    values = (1 if v.dim == 1 else 2) * g.n_x * v.n_v
    n_t = saved_count(spec.time.t_final, spec.time.save_every, 10)
    shape = f"({1 if v.dim == 1 else 2}, n_x={g.n_x}, n_v={v.n_v}) float64"
    return estimate(
        ArrayBytes(phase_field(g.n_x, v.n_v), f"f {shape} x {WORK_COPIES} copies", WORK_COPIES * values * F64),
        ArrayBytes("output.distribution", f"saved f {shape} x {n_t} times x {SAVED_COPIES}",
                   SAVED_COPIES * n_t * values * F64 if spec.output.distribution else 0.0),
        ArrayBytes("grid.n_x", f"moments (t={n_t}, x={g.n_x}) float64 x {MOMENT_ROWS}",
                   MOMENT_ROWS * n_t * g.n_x * F64),
    )
