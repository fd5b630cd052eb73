"""One ``boltzmann_closure`` run: the learned-closure pipeline of kind ``bgk_closure``
(:func:`engine.kinds.bgk_closure.run.run_closure`) on the 1D3V kinetic equation of :mod:`.source`."""

from __future__ import annotations

import xarray as xr

from engine.kind import RunContext
from solvers import bgk_moments

from ..bgk_closure.run import run_closure
from ..boltzmann.run import warmup as kinetic_warmup
from .source import BoltzmannSource
from .spec import BoltzmannClosureSpec, model_meta


def warmup() -> None:
    """Compile (or load from numba's cache) the kinetic and the reduced solver's kernels."""
    kinetic_warmup()
    bgk_moments.warmup()


def run(spec: BoltzmannClosureSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run (variables in the kind's docstring); the trained networks go to
    ``runs/<run_id>.model.pt`` beside the run file."""
    return run_closure(spec, ctx, BoltzmannSource(spec, ctx.log.info), model_meta(spec))
