"""The acceptance criterion of kind ``boltzmann_closure`` (issue 26's goal; docs/kinds/boltzmann_closure.md gives
it with the measured values), checked on a result's ``mean_rel_error`` for each wave family it holds (``wave``,
three Fourier modes per field, and ``wave_1mode``, one, the family of kind boltzmann's wave problem): the learned
model's error of each quantity (rho, m, T) lies below both Euler's and Navier-Stokes' at every Kn >= 1e-2 (the
largest ratio learned / min(Euler, NS) is below 1). A missing (NaN) error fails it."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..bgk_closure.criteria import Verdict, ratio

LOW_KN = 1e-2


def verdicts(mre: xr.DataArray) -> list[Verdict]:
    """The verdicts of the criterion for each wave family and quantity, at the Kn >= 1e-2 that ``mre`` holds."""
    kn = mre["kn"].values
    if not np.any(kn >= LOW_KN):
        return []
    found = []
    for family in (f for f in ("wave", "wave_1mode") if f in mre["family"].values):
        for q in mre["quantity"].values:
            euler, ns = (mre.sel(family=family, model=m, quantity=q).values for m in ("euler", "navier_stokes"))
            verdict = ratio(family, mre, str(q), kn >= LOW_KN, np.minimum(euler, ns), 1.0,
                            "min(Euler, NS) at Kn >= 1e-2")
            found.append(Verdict(family, verdict.criterion.replace("<= 1 x", "<"), verdict.measured,
                                 verdict.measured < 1.0))
    return found
