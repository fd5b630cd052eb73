"""What a time-domain method of ``moire_exciton`` hands over (:class:`Trace`), and the experiment's analysis
of its line cuts: Gaussian fits, msd, apparent diffusivity, anomalous exponent, diffusion lengths."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.kind import variable
from solvers.moire import observables


@dataclass
class Trace:
    """Times t (n_t,) [ns], positions x (n_x,) in ``unit`` (nm or um), linecut (n_t, n_x) with its units and
    long name, sigma2_raw (n_t,) [unit²], population (n_t, n_s), and the method's extra variables."""

    t: np.ndarray
    x: np.ndarray
    unit: str
    linecut: np.ndarray
    sigma2_raw: np.ndarray
    population: np.ndarray
    linecut_units: str
    linecut_name: str
    extra: dict = field(default_factory=dict)


def trace_variables(tr: Trace) -> dict:
    """The variables of the line-cut analysis (dims ``t``, ``x``, ``species``)."""
    u, t = tr.unit, tr.t
    s2 = observables.fit_widths(tr.x, tr.linecut)
    msd, msd_raw = s2 - s2[0], tr.sigma2_raw - tr.sigma2_raw[0]
    total = tr.population.sum(axis=1)
    to_cm2 = {"nm": 1e-14, "um": 1e-8}[u]
    d_app = observables.apparent_diffusivity(t * 1e-9, s2 * to_cm2)
    l_msd, l_dtau = observables.diffusion_lengths(t, msd, total)
    tt = ("t",)
    return {
        "linecut": variable(tr.linecut, tr.linecut_name, ("t", "x"), tr.linecut_units),
        "population": variable(tr.population, "number of excitons", ("t", "species")),
        "population_total": variable(total, "total number of excitons", tt),
        "sigma2_fit": variable(s2, "sigma^2 of the Gaussian fit A exp(-x^2/2 sigma^2) + c", tt, f"{u}^2"),
        "sigma2_raw": variable(tr.sigma2_raw, "raw second moment <x^2> of the density", tt, f"{u}^2"),
        "msd": variable(msd, "mean squared displacement sigma^2(t) - sigma^2(0) (Gaussian fit)", tt, f"{u}^2"),
        "msd_raw": variable(msd_raw, "raw second moment minus its initial value", tt, f"{u}^2"),
        "D_app": variable(d_app, "apparent diffusivity 1/2 d sigma^2/dt", tt, "cm^2/s"),
        "alpha": variable(observables.anomalous_exponent(t, msd), "anomalous exponent of msd ~ t^alpha"),
        "L_msd": variable(l_msd, "diffusion length sqrt(msd(t_end))", units=u),
        "L_Dtau": variable(l_dtau, "diffusion length sqrt(D_bar tau_bar)", units=u),
    }
