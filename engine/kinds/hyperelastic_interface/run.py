"""Kind ``hyperelastic_interface``: the reflection and transmission coefficients over the incidence angles
(closed form for SH, the Stroh solver for P-SV) and, optionally, |r| measured by simulation."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from solvers.hyperelastic import psv_interface, sh_interface

from .spec import AngleRange, HyperelasticInterfaceSpec, deformation_gradient

ANGLE = ("angle",)  # the dimension of the coefficients over the incidence angles


def incidence_angles(spec: HyperelasticInterfaceSpec) -> np.ndarray:
    """The incidence angles [degree], shape ``(n,)``."""
    a = spec.angles_deg
    if isinstance(a, AngleRange):
        return np.linspace(a.start, a.stop, a.num)
    return np.array(a, dtype=float)


def _sh_variables(F: np.ndarray, theta_deg: np.ndarray) -> dict:
    """The SH closed form at the angles ``theta_deg`` (n,): r (complex), |t|, R, T, propagating transmitted
    waves, and the transmitted ray and critical angles [degree]."""
    c = sh_interface.coefficients(F, np.radians(theta_deg))
    crit = sh_interface.critical_angle(F)
    return {
        "r": c.r, "t_abs": np.abs(c.t), "R": c.R, "T": c.T,
        "n_transmitted": (~c.evanescent).astype(np.int64),
        "transmitted_ray_angle": variable(np.degrees(c.ray_angle), "direction of the transmitted energy flux "
                                          "from the interface normal (NaN: evanescent)", ANGLE, "degree"),
        "critical_angle": variable(math.degrees(crit), "incidence angle above which the transmitted SH wave is "
                                   "evanescent (NaN: none)", (), "degree"),
    }


def _psv_variables(spec: HyperelasticInterfaceSpec, F: np.ndarray, theta_deg: np.ndarray) -> dict:
    """The Stroh solver at the angles ``theta_deg`` (n,): r (complex) of the incident type, |t|, R, T,
    propagating transmitted waves, and the energy converted into the other in-plane type."""
    m = spec.material
    try:
        sols = psv_interface.sweep(F, m.mu, m.lame_lambda, m.rho, np.radians(theta_deg), spec.incident)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise RunFailed(f"P-SV interface solver: {exc}") from None
    other = "p" if spec.incident == "sv" else "sv"
    return {
        "r": np.array([s.reflected[spec.incident] for s in sols]),
        "t_abs": np.array([s.t_abs for s in sols]),
        "R": np.array([s.R for s in sols]), "T": np.array([s.T for s in sols]),
        "n_transmitted": np.array([s.n_propagating for s in sols], dtype=np.int64),
        "R_converted": variable(np.array([s.R_by_type[other] for s in sols]),
                                f"energy reflected into {other.upper()} waves / incident flux", ANGLE),
    }


def _simulation_variables(spec: HyperelasticInterfaceSpec, F: np.ndarray) -> dict:
    """|r| by time-domain simulation (solvers.hyperelastic.simulate), next to the closed form."""
    sim = spec.simulation
    try:
        from solvers.hyperelastic.simulate import reflection_by_simulation
    except ImportError as exc:
        raise RunFailed(f"simulation.enabled: the time-domain solver is not available ({exc})") from None
    angles = np.array(sim.angles_deg, dtype=float)
    m = spec.material
    try:
        r_sim = np.asarray(reflection_by_simulation(m.mu, m.rho, F, angles, sim.points_per_wavelength), dtype=float)
    except ValueError as exc:
        raise RunFailed(f"simulation: {exc}") from None
    r_ref = np.abs(sh_interface.coefficients(F, np.radians(angles)).r)
    dims = ("angle_simulated",)
    return {
        "r_abs_simulated": variable(r_sim, "|r| measured by time-domain simulation", dims),
        "r_abs_analytic": variable(r_ref, "closed-form |r| at the simulated angles", dims),
        "r_abs_simulation_error": variable(float(np.max(np.abs(r_sim - r_ref))),
                                           "largest |r_simulated - r_analytic|"),
    }


def run(spec: HyperelasticInterfaceSpec, ctx: RunContext) -> xr.Dataset:
    """The coefficients over the incidence angles (dimension ``angle`` [degree]) and, with
    ``simulation.enabled``, |r| measured by simulation (dimension ``angle_simulated``); see the module
    docstring for the variables."""
    F, lateral = deformation_gradient(spec)
    theta = incidence_angles(spec)
    ctx.progress(0, 1)
    got = _sh_variables(F, theta) if spec.wave == "sh" else _psv_variables(spec, F, theta)
    r = got.pop("r")
    kind = spec.wave.upper() if spec.wave == "sh" else spec.incident.upper()
    data = {
        "r_abs": variable(np.abs(r), f"|reflected {kind} / incident {kind} displacement amplitude|", ANGLE),
        "r_phase": variable(np.angle(r), f"phase of the reflected {kind} amplitude ratio", ANGLE, "rad"),
        "t_abs": variable(got.pop("t_abs"), "|transmitted displacement at the interface| / incident amplitude",
                          ANGLE),
        "R": variable(got.pop("R"), "reflected energy flux / incident energy flux", ANGLE),
        "T": variable(got.pop("T"), "transmitted energy flux / incident energy flux", ANGLE),
        "n_transmitted": variable(got.pop("n_transmitted"), "number of propagating transmitted waves", ANGLE),
        **got,
        "J": variable(float(np.linalg.det(F)), "volume ratio J = det F of the deformed half-space"),
        "lateral_stretch": variable(lateral, "stretch of the unloaded directions (NaN: custom F)"),
        "F": variable(F, "deformation gradient of the half-space x2 > 0", ("row", "col")),
    }
    coords = {"angle": ("angle", theta, {"units": "degree", "long_name": "incidence angle from the normal"})}
    if spec.simulation.enabled:
        data.update(_simulation_variables(spec, F))
        coords["angle_simulated"] = ("angle_simulated", np.array(spec.simulation.angles_deg, dtype=float),
                                     {"units": "degree", "long_name": "incidence angle of the simulations"})
    ctx.progress(1, 1)
    return xr.Dataset(data, coords=coords)
