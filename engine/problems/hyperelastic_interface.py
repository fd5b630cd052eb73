"""Kind ``hyperelastic_interface``: shear waves crossing the interface between undeformed and
pre-deformed compressible neo-Hookean material (arXiv:1909.00684).

    W = mu/2 (I1 - 3) - mu ln J + lambda/2 (ln J)^2;   SH: (rho0/J) w_tt = div((mu/J) B grad w)

The half-space ``x2 < 0`` is undeformed, ``x2 > 0`` is pre-deformed by F (a loading mode with its
orientation relative to the interface normal e2, or an explicit F). A plane wave comes from below at
angle θ from the normal. ``wave: sh`` uses the closed form of :mod:`solvers.hyperelastic.sh_interface`;
``wave: p_sv`` the 6×6 Stroh solver of :mod:`solvers.hyperelastic.psv_interface` with an incident P or SV
wave. Optionally |r| is measured by time-domain simulation at a few angles.

Variables of a run (dimension ``angle`` in degrees):

- ``r_abs``, ``r_phase`` [rad]: reflected / incident displacement amplitude of the incident wave type;
  ``t_abs``: transmitted displacement at the interface / incident; ``R``, ``T``: reflected and transmitted
  energy flux / incident flux (R + T = 1); ``n_transmitted``: number of propagating transmitted waves
  (0: total reflection, the transmitted field is evanescent);
- SH only: ``transmitted_ray_angle`` [degree] (direction of the transmitted energy flux from the normal,
  NaN where evanescent) and the scalar ``critical_angle`` [degree] (NaN: none);
- P-SV only: ``R_converted``: energy reflected into the other in-plane wave type;
- scalars ``J`` (det F), ``lateral_stretch`` (stretch of the unloaded directions; NaN for custom F) and
  ``F`` over (``row``, ``col``);
- with ``simulation.enabled``: ``r_abs_simulated`` over ``angle_simulated`` [degree], the analytic
  ``r_abs_analytic`` at the same angles and the largest difference ``r_abs_simulation_error``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import Field, model_validator

from engine.problem import RunContext, RunFailed, variable
from engine.problems.hyperelastic_common import HyperelasticProblem
from engine.spec import FieldError, ProblemSpec, Section, quantity
from solvers.hyperelastic import modes, psv_interface, sh_interface
from solvers.hyperelastic.material import as_3d, is_plane

class Material(Section):
    """Compressible neo-Hookean material (undeformed host and deformed half-space)."""

    mu: float = quantity(1.0, units="Pa", description="Shear modulus mu.", gt=0)
    rho: float = quantity(1.0, units="kg/m^3", description="Reference (undeformed) density rho0.", gt=0)
    lame_lambda: float = quantity(2.0, units="Pa", description="Lamé lambda of the bulk term lambda/2 (ln J)^2 "
                                  "(.inf: incompressible limit of the lateral stretch; SH only).", ge=0)


class Deformation(Section):
    """Homogeneous pre-deformation of the half-space x2 > 0 (interface normal e2)."""

    mode: Literal["constrained_uniaxial", "ordinary_uniaxial", "simple_shear", "hydrostatic", "custom"] = Field(
        "constrained_uniaxial", description="constrained_uniaxial: stretch a, lateral directions held; "
        "ordinary_uniaxial: stretch a, traction-free sides; simple_shear: amount gamma; hydrostatic: scale s; "
        "custom: the deformation gradient F.")
    stretch: float = quantity(1.5, units="1", description="Stretch a of uniaxial tension.", gt=0)
    shear: float = quantity(0.5, units="1", description="Amount of shear gamma of simple shear.")
    scale: float = quantity(0.8, units="1", description="Stretch s of hydrostatic compression (s < 1: compression).",
                            gt=0)
    orientation: Literal["normal", "tangent"] = Field(
        "normal", description="normal: stretch along the interface normal (simple shear: shear planes parallel "
        "to the interface, F = I + gamma e1⊗e2); tangent: along the interface (simple shear: F = I + gamma e2⊗e1).")
    plane_strain: bool = Field(False, description="Plane variants (F33 = 1) of ordinary uniaxial tension and "
                               "hydrostatic compression.")
    F: list[list[float]] | None = quantity(None, units="1", description="Deformation gradient of mode custom, "
                                           "2×2 (F33 = 1) or 3×3, rows first; det F > 0.")

    @model_validator(mode="after")
    def _custom(self) -> "Deformation":
        if self.mode != "custom":
            if self.F is not None:
                raise FieldError("F", f"F is only used by mode custom, not by {self.mode}", "mode: custom, or no F")
            return self
        if self.F is None:
            raise FieldError("F", "mode custom needs the deformation gradient F", "a 2×2 or 3×3 matrix")
        shape = (len(self.F), *{len(row) for row in self.F})
        if shape not in ((2, 2), (3, 3)):
            raise FieldError("F", f"F must be a square 2×2 or 3×3 matrix, got rows of lengths "
                             f"{[len(row) for row in self.F]}", "a 2×2 or 3×3 matrix")
        F = np.array(self.F, dtype=float)
        if not np.all(np.isfinite(F)):
            raise FieldError("F", "F has non-finite entries", "finite numbers")
        J = float(np.linalg.det(F))
        if not J > 0:
            raise FieldError("F", f"J = det F = {J:.6g} is not positive (the deformation inverts the material)",
                             "det F > 0")
        return self


class AngleRange(Section):
    """Evenly spaced incidence angles from start to stop (both included)."""

    start: float = quantity(0.0, units="degree", description="First angle.")
    stop: float = quantity(89.0, units="degree", description="Last angle.")
    num: int = quantity(90, units="1", description="Number of angles.", ge=1, le=100_000)


class Simulation(Section):
    """Verification of |r| by the time-domain SH solver (periodic cos(k1 x1) line source, spectral ratio of
    (deformed - homogeneous) runs)."""

    enabled: bool = Field(False, description="Run the simulations.")
    angles_deg: list[float] = quantity([20.0, 30.0, 45.0], units="degree",
                                       description="Incidence angles of the simulations.", min_length=1)
    points_per_wavelength: float = quantity(24.0, units="1", description="Grid points per shortest wavelength.",
                                            ge=10)


def _check_angles(field: str, angles) -> None:
    bad = [a for a in angles if not 0.0 <= a < 90.0]
    if bad:
        raise FieldError(field, f"incidence angle {bad[0]!r}° is outside [0°, 90°)", "0 <= angle < 90")


class HyperelasticInterfaceSpec(ProblemSpec):
    """Spec of kind hyperelastic_interface."""

    kind: Literal["hyperelastic_interface"] = Field("hyperelastic_interface", description="Problem kind.")
    material: Material = Field(default_factory=Material, description="Neo-Hookean material.")
    deformation: Deformation = Field(default_factory=Deformation, description="Pre-deformation of x2 > 0.")
    wave: Literal["sh", "p_sv"] = Field("sh", description="sh: antiplane shear (closed form); p_sv: in-plane waves "
                                        "(6×6 Stroh solver).")
    incident: Literal["sv", "p"] = Field("sv", description="Incident in-plane wave type of wave p_sv.")
    angles_deg: list[float] | AngleRange = Field(default_factory=AngleRange,
                                                 description="Incidence angles from the normal: a list, or "
                                                 "{start, stop, num}. [degree]")
    simulation: Simulation = Field(default_factory=Simulation, description="Verification by simulation (SH).")

    @model_validator(mode="after")
    def _consistent(self) -> "HyperelasticInterfaceSpec":
        if isinstance(self.angles_deg, AngleRange):
            rng = self.angles_deg
            for name in ("start", "stop"):
                _check_angles(f"angles_deg.{name}", [getattr(rng, name)])
            if rng.stop < rng.start:
                raise FieldError("angles_deg.stop", f"stop = {rng.stop!r} is below start = {rng.start!r}",
                                 f"stop >= {rng.start!r}")
        else:
            if not self.angles_deg:
                raise FieldError("angles_deg", "no incidence angle given", "at least one angle")
            _check_angles("angles_deg", self.angles_deg)
        _check_angles("simulation.angles_deg", self.simulation.angles_deg)
        F = deformation_gradient(self)[0]
        if self.wave == "sh" or self.simulation.enabled:
            if not is_plane(F):
                raise FieldError("deformation.F", "SH waves decouple only for a plane deformation "
                                 "(F13 = F23 = F31 = F32 = 0)", "a plane F, or wave: p_sv")
        if self.wave == "p_sv":
            if math.isinf(self.material.lame_lambda):
                raise FieldError("material.lame_lambda", "in-plane waves need a finite lambda",
                                 "a finite lame_lambda with wave: p_sv")
            if self.simulation.enabled:
                raise FieldError("simulation.enabled", "the time-domain verification simulates SH waves only",
                                 "wave: sh with simulation")
        return self


def deformation_gradient(spec: HyperelasticInterfaceSpec) -> tuple[np.ndarray, float]:
    """``(F (3, 3), lateral stretch)`` of the spec's deformation (lateral: NaN for custom F)."""
    d, m = spec.deformation, spec.material
    if d.mode == "custom":
        return as_3d(np.array(d.F, dtype=float)), float("nan")
    return modes.deformation_gradient(d.mode, stretch=d.stretch, shear=d.shear, scale=d.scale,
                                      orientation=d.orientation, plane_strain=d.plane_strain,
                                      mu=m.mu, lam=m.lame_lambda)


def incidence_angles(spec: HyperelasticInterfaceSpec) -> np.ndarray:
    """The incidence angles [degree], shape ``(n,)``."""
    a = spec.angles_deg
    if isinstance(a, AngleRange):
        return np.linspace(a.start, a.stop, a.num)
    return np.array(a, dtype=float)


# ---------------------------------------------------------------------------
# the coefficients
# ---------------------------------------------------------------------------

ANGLE = ("angle",)


def _sh_variables(F: np.ndarray, theta_deg: np.ndarray) -> dict:
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


class HyperelasticInterface(HyperelasticProblem):
    """Reflection and transmission of shear waves at undeformed / pre-deformed neo-Hookean interfaces."""

    kind = "hyperelastic_interface"
    version = "1"
    summary = ("shear-wave reflection/transmission at an undeformed / pre-deformed neo-Hookean interface "
               "(SH closed form, P-SV Stroh solver, optional simulation)")
    Spec = HyperelasticInterfaceSpec
    analysis = "engine.problems.hyperelastic_interface_analysis"
    template_sweep = ("deformation.mode", ["constrained_uniaxial", "ordinary_uniaxial", "hydrostatic"])
    smoke_overrides = ("simulation.points_per_wavelength=12", "simulation.angles_deg=[30.0]")
    allow_nonfinite = frozenset({"lateral_stretch", "critical_angle", "transmitted_ray_angle"})

    def run(self, spec: HyperelasticInterfaceSpec, ctx: RunContext) -> xr.Dataset:
        return run(spec, ctx)
