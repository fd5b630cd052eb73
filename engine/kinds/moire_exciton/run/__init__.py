"""One ``moire_exciton`` run: the geometry variables of the spec's parameters, then the chosen method
(:mod:`.methods`; systems in :mod:`.model`, time stepping in :mod:`.march`, line-cut analysis in
:mod:`.trace`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from engine.kind import RunContext, variable
from solvers import moire
from solvers.moire import geometry

from ..parameters import CM2_TO_NM2, Parameters, parameters
from . import methods
from .trace import trace_variables

if TYPE_CHECKING:  # pragma: no cover - the spec imports run.model for a fixed time step's bound
    from ..spec import MoireExcitonSpec

__all__ = ["run", "warmup"]

TIME_DOMAIN = {"resolved": methods.run_resolved, "continuum": methods.run_continuum, "kmc": methods.run_kmc}


def warmup() -> None:
    """Compile the numba kernels of the resolved, continuum and kmc solvers (or load them from the cache)."""
    moire.warmup()


def _geometry_variables(spec: MoireExcitonSpec, par: Parameters) -> dict:
    """Moiré geometry, effective depths and barriers, and the population equilibrium."""
    phase, sp = spec.potential.phase_deg, ("species",)
    return {
        "moire_period": variable(par.a_m, "moire period a_M", units="nm"),
        "site_density": variable(par.n_m_nm2 / CM2_TO_NM2, "moire site density n_M", units="cm^-2"),
        "smoothing": variable(np.array(par.smoothing), "quantum smoothing factor of the potential", sp),
        "depth_effective": variable(np.array(par.depth), "effective peak-to-peak moire depth", sp, "meV"),
        "barrier": variable(np.array([geometry.barrier(d, phase) for d in par.depth]),
                            "activation barrier of the moire potential", sp, "meV"),
        "gap": variable(par.gap, "energy gap E_KK - E_KQ", units="meV"),
        "kk_fraction_eq": variable(par.kk_fraction(), "equilibrium K-K fraction"),
    }


def run(spec: MoireExcitonSpec, ctx: RunContext) -> xr.Dataset:
    """The spec's method; resumable for the time-domain methods."""
    par = parameters(spec)
    data = _geometry_variables(spec, par)
    coords = {"species": ("species", list(par.species), {"long_name": "exciton species", "units": "1"})}
    if spec.method == "cell":
        data.update(methods.cell_variables(spec, par))
        return xr.Dataset(data, coords=coords)
    trace = TIME_DOMAIN[spec.method](spec, par, ctx)
    data.update(trace_variables(trace))
    data.update(trace.extra)
    coords["t"] = ("t", trace.t, {"units": "ns", "long_name": "time after the pump"})
    coords["x"] = ("x", trace.x, {"units": trace.unit, "long_name": "position along the line cut"})
    return xr.Dataset(data, coords=coords)
