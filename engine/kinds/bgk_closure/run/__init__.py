"""One ``bgk_closure`` run: train the networks (or load them from ``learner.checkpoint``), keep them beside
the run file, evaluate the exported closure against the kinetic solution, Euler and Navier-Stokes.

Modules: :mod:`.source` (the kinetic equation: data, truth, continuum references), :mod:`.data` (samples and
their augmentation), :mod:`.train` (the resumable training jobs),
:mod:`.pipeline` (data, training and active learning), :mod:`.evaluate` (held-out comparison),
:mod:`.result` (the dataset).
"""

from __future__ import annotations

import time

import xarray as xr

from engine.kind import RunContext
from learners import bgk_closure as lc
from solvers import bgk, bgk_moments

from ..spec import BGKClosureSpec, model_meta
from .evaluate import evaluate
from .pipeline import export_closure, train_everything
from .result import assemble
from .source import BGKSource
from .train import device_and_dtype

__all__ = ["run", "run_closure", "warmup"]


def warmup() -> None:
    """Compile (or load from numba's cache) the kinetic and the reduced solver's kernels."""
    bgk.warmup()
    bgk_moments.warmup()


def run(spec: BGKClosureSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run (variables in the kind's docstring); the trained networks go to
    ``runs/<run_id>.model.pt`` beside the run file."""
    return run_closure(spec, ctx, BGKSource(spec), model_meta(spec))


def run_closure(spec, ctx: RunContext, source, meta: dict) -> xr.Dataset:
    """Train the networks on the kinetic equation of ``source`` (:mod:`.source`), or load them from
    ``learner.checkpoint``; keep them beside the run file with ``meta`` (:func:`learners.bgk_closure.save_model`);
    evaluate the exported closure; the dataset."""
    device, dtype = device_and_dtype(spec)
    if spec.learner.checkpoint is not None:
        weights, nets, _ = lc.load_model(spec.learner.checkpoint, dtype)
        record = {"ae": None, "closure": [], "flagged": [], "n_runs": 0, "n_samples": 0}
        model_file = spec.learner.checkpoint
    else:
        weights, nets, record = train_everything(spec, ctx, device, dtype, source)
        path = ctx.beside_run(".model.pt")
        model_file = ""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lc.save_model(path, weights, nets, meta)
            model_file = path.name
    closure = export_closure(weights, nets, spec, source)
    clock = time.perf_counter()
    ds = evaluate(spec, closure, (weights, nets), ctx, source)
    ctx.log.info("evaluation: %.1f s", time.perf_counter() - clock)
    return assemble(ds, spec, closure, record, model_file, source)
