"""The spec of kind ``hyperelastic_interface``: material, pre-deformation, incidence angles, the optional
verification by simulation, and the deformation gradient F the spec describes."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from engine.spec.base import FloatOrInfinity, ProblemSpec, Section, quantity
from engine.spec.errors import FieldError
from solvers.hyperelastic import modes
from solvers.hyperelastic.material import as_3d, is_plane

from .memory import peak_memory


class Material(Section):
    """Compressible neo-Hookean material (undeformed host and deformed half-space)."""

    mu: float = quantity(1.0, units="Pa", description="Shear modulus mu.", gt=0)
    rho: float = quantity(1.0, units="kg/m^3", description="Reference (undeformed) density rho0.", gt=0)
    lame_lambda: FloatOrInfinity = quantity(2.0, units="Pa", description="Lamé lambda of the bulk term lambda/2 "
                                            "(ln J)^2 (.inf: incompressible limit of the lateral stretch; SH only).",
                                            ge=0)


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

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self, deformation_gradient(self)[0])


def deformation_gradient(spec: HyperelasticInterfaceSpec) -> tuple[np.ndarray, float]:
    """``(F (3, 3), lateral stretch)`` of the spec's deformation (lateral: NaN for custom F)."""
    d, m = spec.deformation, spec.material
    if d.mode == "custom":
        return as_3d(np.array(d.F, dtype=float)), float("nan")
    return modes.deformation_gradient(d.mode, stretch=d.stretch, shear=d.shear, scale=d.scale,
                                      orientation=d.orientation, plane_strain=d.plane_strain,
                                      mu=m.mu, lam=m.lame_lambda)
