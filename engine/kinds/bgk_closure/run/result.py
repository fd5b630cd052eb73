"""The dataset of one learned-closure run (``bgk_closure``, ``boltzmann_closure``): the evaluation plus what
training learned and recorded."""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.kind import variable
from solvers import bgk_moments



def assemble(ds: xr.Dataset, spec, closure: bgk_moments.Closure, record: dict, model_file: str,
             source) -> xr.Dataset:
    """The evaluation dataset ``ds`` with the learned weight functions, the loss curves, the active-learning
    counts and the stage wall times of ``record`` (see :func:`.pipeline.train_everything`), and the name of
    the model file in the attribute ``model_file``."""
    m = spec.moments.n_extra
    of = "" if closure.dim == 1 else " of g"
    ds["weight_function"] = variable(closure.wtab, f"learned weight function w_k(v){of} of the generalized moments",
                                     ("moment", "v"))
    if closure.dim == 3:
        ds["weight_function_b"] = variable(closure.wbtab, "learned weight function of b of the generalized moments",
                                           ("moment", "v"))
    ds = ds.assign_coords(v=("v", source.v, {"units": "1", "long_name": "velocity (x component)"}),
                          moment=("moment", np.arange(1, m + 1), {"units": "1", "long_name": "generalized moment k"}))
    every = spec.learner.record_every
    if record["ae"] is not None:
        tr, va = record["ae"]
        ds["ae_train_loss"] = variable(tr, "autoencoder training loss (reconstruction + consistency)", ("ae_step",))
        ds["ae_val_loss"] = variable(va, "autoencoder validation loss", ("ae_step",))
        ae_steps = spec.learner.ae_steps or spec.learner.steps
        ds = ds.assign_coords(ae_step=("ae_step", np.minimum(np.arange(tr.size) * every, ae_steps),
                                       {"units": "1", "long_name": "autoencoder training step"}))
    if record["closure"]:
        n = max(c[0].shape[1] for c in record["closure"])
        pad = lambda a: np.pad(a, ((0, 0), (0, n - a.shape[1])), constant_values=np.nan)  # noqa: E731
        tr = np.stack([pad(c[0]) for c in record["closure"]])
        va = np.stack([pad(c[1]) for c in record["closure"]])
        dims = ("round", "member", "step")
        longest = max(spec.learner.steps, spec.active_learning.steps or spec.learner.steps)
        ds["train_loss"] = variable(tr, "closure training loss (relative squared error)", dims)
        ds["val_loss"] = variable(va, "closure validation loss (relative squared error)", dims)
        ds = ds.assign_coords(step=("step", np.minimum(np.arange(n) * every, longest),
                                    {"units": "1", "long_name": "training step (of the round)"}),
                              round=("round", np.arange(tr.shape[0]), {"units": "1", "long_name": "active "
                                                                       "learning round (0: initial training)"}))
    flagged = np.array(record["flagged"], dtype=np.int64)
    ds["n_flagged"] = variable(flagged, "candidates flagged by the ensemble spread", ("al_round",))
    ds = ds.assign_coords(al_round=("al_round", np.arange(1, flagged.size + 1),
                                    {"units": "1", "long_name": "active learning round"}))
    ds["n_training_runs"] = variable(np.int64(record["n_runs"]), "kinetic runs in the training data")
    ds["n_training_samples"] = variable(np.int64(record["n_samples"]), "pointwise samples (with augmentation)")
    ds.attrs["model_file"] = model_file
    return ds
