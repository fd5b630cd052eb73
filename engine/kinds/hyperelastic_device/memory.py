"""Peak memory of a ``hyperelastic_device`` run, from its spec (see :mod:`engine.spec.memory`).

The grids' sizes come from :func:`.geometry.node_counts` (arithmetic on the box and h; h from
``points_per_wavelength`` takes a bounded material probe, as validation does): ``N`` nodes of the device
grid, ``N_ref`` of the homogeneous run's grid. Each simulation (the device run and each comparison run, on
``N`` nodes, the homogeneous one on ``N_ref``) is kept until the end and holds:

- the medium per cell and the leapfrog solver's arrays (coefficients, mass, damping, two time levels,
  energy work arrays): about ``NODE_ARRAYS = 20`` float64 per node;
- its snapshots, ``n_t`` float32 fields, and as much again when they are stacked for a checkpoint or the
  dataset.

Setting up a medium averages ``subsample^2`` material samples per cell, 64 cell rows at a time: about
``64 subsample^2 ny x SAMPLE_BYTES`` bytes at once.
"""

from __future__ import annotations

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate, saved_count

from .geometry import node_counts

NODE_ARRAYS = 20      # float64 arrays per node of one simulation
SNAPSHOT_COPIES = 2   # the snapshot list and its stacked copy
SAMPLE_BYTES = 160    # per material sample of the medium set-up (coordinates, tables, temporaries)
MEDIUM_ROWS = 64      # cell rows per batch of the medium set-up


def peak_memory(spec) -> MemoryEstimate:
    """The estimate of the module docstring."""
    (nx, ny), (rx, ry) = node_counts(spec)
    nodes = nx * ny * (1 + ("bare" in spec.compare)) + rx * ry * ("homogeneous" in spec.compare)
    n_t = saved_count(spec.time.t_final, spec.time.save_every, 10)
    blame = "grid.h" if spec.grid.h is not None else "grid.points_per_wavelength"
    runs = 1 + len(spec.compare)
    sub = spec.grid.subsample
    return estimate(
        ArrayBytes(blame, f"{runs} simulation(s) on {nx} x {ny} nodes (device grid), {NODE_ARRAYS} float64 arrays "
                   "each", NODE_ARRAYS * 8.0 * nodes),
        ArrayBytes(blame, f"snapshots ({n_t} times) of {runs} simulation(s), float32 x {SNAPSHOT_COPIES}",
                   SNAPSHOT_COPIES * 4.0 * n_t * nodes),
        ArrayBytes("grid.subsample", f"medium set-up: {MEDIUM_ROWS} x {sub}^2 x {ny} material samples",
                   SAMPLE_BYTES * MEDIUM_ROWS * sub * sub * max(ny, ry)),
    )
