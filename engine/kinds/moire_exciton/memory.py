"""Peak memory of a ``moire_exciton`` run, from its spec (see :mod:`engine.spec.memory`).

``n_s`` species (2 with populations, else 1); by method:

- resolved: ``N = cells_x p x cells_y round(sqrt(3) p)`` grid points (``p`` points per period), about
  ``FIELD_ARRAYS = 16`` float64 arrays of ``n_s N`` (potential, densities, Scharfetter-Gummel edge
  coefficients and fluxes, stages);
- continuum: ``N = cells`` (radial) or ``(cells | 1)^2`` (2d), the same ``FIELD_ARRAYS`` per species;
- kmc: ``L^2`` sites of occupation (int32) and trap state (int8), and, for a uniform density with exclusion,
  the draw of distinct sites (``L^2`` int64); per exciton about ``EXCITON_BYTES``;
- the moiré cell problem (method cell, continuum with ``homogenize``, kmc with ``rates: homogenized``):
  a sparse direct solve on ``M = p round(sqrt(3) p)`` unknowns (``p = grid.cell.points_per_period``), whose
  factor grows like ``M log2 M``: about ``CELL_BYTES M log2 M`` bytes (measured: 0.9 GB at p = 400).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

from .parameters import Parameters

if TYPE_CHECKING:  # pragma: no cover
    from .spec import MoireExcitonSpec

FIELD_ARRAYS = 16
EXCITON_BYTES = 64
CELL_BYTES = 200
SITE_BYTES = 5       # occupation int32 + trap state int8
#: Nonzeros per unknown of the sparse LU factors of the implicit resolved step (fill-in included).
LU_NONZEROS = 100
DEFAULTS = {"points_per_period": 12, "cells_x": 24, "cells_y": 14}


def _cell_problem(spec: "MoireExcitonSpec") -> ArrayBytes:
    """The sparse direct solve of the moiré cell problem, where the method uses it."""
    g = spec.grid
    used = (spec.method == "cell" or (spec.method == "continuum" and g.continuum.homogenize)
            or (spec.method == "kmc" and g.kmc.rates == "homogenized"))
    p = g.cell.points_per_period
    unknowns = p * round(math.sqrt(3.0) * p)
    return ArrayBytes("grid.cell.points_per_period", f"cell problem, sparse LU on {unknowns} unknowns",
                      CELL_BYTES * unknowns * math.log2(max(unknowns, 2)) if used else 0.0)


def _resolved(spec: "MoireExcitonSpec", n_s: int) -> tuple[ArrayBytes, ...]:
    """The fields, and where the implicit path may be taken (``time_stepping`` implicit or auto), the sparse
    LU factors of its (n_s n)-square operator: about :data:`LU_NONZEROS` nonzeros per unknown (measured by
    the moiré helper at 512^2: 35-100), each a float64 value and an int32 index."""
    g = spec.grid.resolved
    n = g.cells_x * g.points_per_period * g.cells_y * round(math.sqrt(3.0) * g.points_per_period)
    name = max(DEFAULTS, key=lambda k: getattr(g, k) / DEFAULTS[k])
    fields = ArrayBytes(f"grid.resolved.{name}", f"{FIELD_ARRAYS} fields of {n_s} x {n} grid points, float64",
                        FIELD_ARRAYS * 8.0 * n_s * n)
    factors = ArrayBytes(f"grid.resolved.{name}", f"sparse LU factors of the implicit step, {n_s} x {n} unknowns "
                         f"x {LU_NONZEROS} nonzeros", 0.0 if g.time_stepping == "explicit" else LU_NONZEROS * 12.0 * n_s * n)
    return fields, factors


def _continuum(spec: "MoireExcitonSpec", n_s: int) -> ArrayBytes:
    g = spec.grid.continuum
    n = g.cells if g.geometry == "radial" else (g.cells | 1) ** 2
    return ArrayBytes("grid.continuum.cells", f"{FIELD_ARRAYS} fields of {n_s} x {n} cells, float64",
                      FIELD_ARRAYS * 8.0 * n_s * n)


def _kmc(spec: "MoireExcitonSpec", par: Parameters) -> tuple[ArrayBytes, ...]:
    g, ini = spec.grid.kmc, spec.initial
    sites = float(g.lattice_sites) ** 2
    if ini.profile == "gaussian":
        count = par.n_peak_nm2 * 2 * math.pi * (ini.sigma_um * 1e3) ** 2
    else:
        count = par.n_peak_nm2 / par.n_m_nm2 * sites
    draw = 8.0 * sites if ini.profile == "uniform" and g.exclusion else 0.0
    return (ArrayBytes("grid.kmc.lattice_sites", f"{g.lattice_sites}^2 lattice sites, {SITE_BYTES} bytes each",
                       SITE_BYTES * sites),
            ArrayBytes("grid.kmc.lattice_sites", f"distinct-site draw over {g.lattice_sites}^2 sites, int64", draw),
            ArrayBytes("initial.peak_density_cm2", f"{count:.3g} excitons", EXCITON_BYTES * count))


def peak_memory(spec: "MoireExcitonSpec", par: Parameters) -> MemoryEstimate:
    """The estimate of the module docstring; ``par``: the spec's derived parameters."""
    n_s = len(par.species)
    parts = [_cell_problem(spec)]
    if spec.method == "resolved":
        parts.extend(_resolved(spec, n_s))
    elif spec.method == "continuum":
        parts.append(_continuum(spec, n_s))
    elif spec.method == "kmc":
        parts.extend(_kmc(spec, par))
    return estimate(*parts)
