"""The acceptance criteria of kind ``bgk_closure`` (settled in issue 26; docs/kinds/bgk_closure.md gives them with
the measured values), checked on a result's ``mean_rel_error`` (dims ``kn``, ``family``, ``model``,
``quantity``) for the families it holds:

- ``sine``: the learned model's m and T at most 1e-2 and rho at most 1e-3 at every Kn;
- ``wave_1mode``: m at most 1.5e-2 and T at most 5e-3 at every Kn, each varying by less than 10x across Kn;
- ``wave`` (three modes): m and T at most 0.2 x min(Euler, Navier-Stokes) at every Kn >= 1e-2 and at most
  1.5 x Navier-Stokes at Kn = 1e-3, each varying by less than 10x across Kn, and m <= 1e-1, T <= 3e-2 at every Kn;
- ``mix`` and ``sod``: reported, no criterion.

A missing (NaN) error fails its criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

LOW_KN = 1e-3
VARIATION = 10.0


@dataclass(frozen=True)
class Verdict:
    """One criterion of one family: what it asks, the measured value it is judged on, and whether it is met."""

    family: str
    criterion: str
    measured: float
    met: bool

    def line(self) -> str:
        return f"{self.family}: {self.criterion}: {self.measured:.3g} -> {'met' if self.met else 'NOT met'}"


def _learned(mre: xr.DataArray, family: str, quantity: str) -> np.ndarray:
    return mre.sel(family=family, model="learned", quantity=quantity).values


def _at_most(family: str, mre: xr.DataArray, quantity: str, bound: float) -> Verdict:
    worst = float(np.max(_learned(mre, family, quantity)))
    return Verdict(family, f"{quantity} <= {bound:g} at every Kn (largest)", worst, worst <= bound)


def _variation(family: str, mre: xr.DataArray, quantity: str) -> Verdict:
    errors = _learned(mre, family, quantity)
    spread = float(np.max(errors) / np.min(errors))
    return Verdict(family, f"{quantity} varies < {VARIATION:g}x across Kn (max / min)", spread, spread < VARIATION)


def ratio(family: str, mre: xr.DataArray, quantity: str, kn_mask: np.ndarray, reference: np.ndarray,
          bound: float, what: str) -> Verdict:
    """The learned model's largest ratio to ``reference`` (over the Kn of ``kn_mask``) at most ``bound``."""
    ratio = float(np.max(_learned(mre, family, quantity)[kn_mask] / reference[kn_mask]))
    return Verdict(family, f"{quantity} <= {bound:g} x {what} (largest ratio)", ratio, ratio <= bound)


def _wave(mre: xr.DataArray) -> list[Verdict]:
    kn = mre["kn"].values
    verdicts = []
    for q in ("m", "T"):
        euler, ns = (mre.sel(family="wave", model=m, quantity=q).values for m in ("euler", "navier_stokes"))
        if np.any(kn >= 1e-2):
            verdicts.append(ratio("wave", mre, q, kn >= 1e-2, np.minimum(euler, ns), 0.2,
                                   "min(Euler, NS) at Kn >= 1e-2"))
        if np.any(np.isclose(kn, LOW_KN)):
            verdicts.append(ratio("wave", mre, q, np.isclose(kn, LOW_KN), ns, 1.5, "NS at Kn = 1e-3"))
        verdicts.append(_variation("wave", mre, q))
    return verdicts + [_at_most("wave", mre, "m", 1e-1), _at_most("wave", mre, "T", 3e-2)]


def verdicts(mre: xr.DataArray) -> list[Verdict]:
    """The verdicts of every criterion of the families ``mre`` holds (see the module docstring)."""
    families = set(mre["family"].values.tolist())
    found = []
    if "sine" in families:
        found += [_at_most("sine", mre, "m", 1e-2), _at_most("sine", mre, "T", 1e-2), _at_most("sine", mre, "rho", 1e-3)]
    if "wave_1mode" in families:
        found += [_at_most("wave_1mode", mre, "m", 1.5e-2), _at_most("wave_1mode", mre, "T", 5e-3),
                  _variation("wave_1mode", mre, "m"), _variation("wave_1mode", mre, "T")]
    if "wave" in families:
        found += _wave(mre)
    return found
