"""The spec of kind ``boltzmann``: grid in x, the 3-D velocity grid and the spectral operator's quadratures, the
collision operator and Knudsen number, initial data, time span, references.

The grid in x, the initial data and the time span are the sections of kind ``bgk`` (the same profiles, put on
the 3-D grid as local Maxwellians with the bulk velocity along x); only the kinds whose state is a local
Maxwellian are offered. Validation maps the initial data's checks onto ``velocity.L`` and ``velocity.n``. Light:
numpy and the numpy-only modules of :mod:`solvers.bgk`, no numba, no FFT.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import FloatOrInfinity, ProblemSpec, Section, quantity
from engine.spec.errors import FieldError
from solvers.bgk import PhaseGrid

from ..bgk import spec as bgk_spec
from ..bgk.spec import Initial, Time, check_grid_and_references, check_initial
from .memory import peak_memory

#: Initial kinds of ``bgk`` whose state is a local Maxwellian (``two_maxwellian``, ``random_mix`` are not).
MAXWELLIAN_KINDS = ("sod", "riemann", "wave", "free_stream_sine", "random_wave")
#: Degrees of the Lebedev rules (scipy) the operator's direction quadrature may use.
LEBEDEV_DEGREES = (3, 5, 7, 9, 11, 13, 15, 17, 19, 21)
#: The largest CFL number of MUSCL with SSP-RK2.
CFL_LIMIT = 0.5


class Grid(bgk_spec.Grid):
    """Uniform finite-volume grid in x (kind bgk's, with fewer cells by default: a cell costs N³ log N)."""

    n_x: int = quantity(64, units="1", description="Number of cells.", ge=2, le=10**6)


class Velocity(Section):
    """The N³ velocity grid on [-L, L]³ and the quadratures of the fast spectral collision operator."""

    n: int = quantity(16, units="1", description="N, velocity cells per axis (even); cost grows as N³ log N.",
                      ge=8, le=64)
    L: float = quantity(7.0, units="1", description="Half-width of the velocity box [-L, L]³ (in units of the "
                        "reference thermal speed).", gt=0)
    degree: int = quantity(5, units="1", description="Degree of the Lebedev rule over the half sphere of "
                           "collision directions (one of " + ", ".join(map(str, LEBEDEV_DEGREES)) + ").")
    rank: int = quantity(4, units="1", description="Terms of the separable approximation of the Maxwell-molecule "
                         "kernel; 2 x rank x directions FFTs per cell and evaluation.", ge=1, le=24)


class Collision(Section):
    """The collision operator: Q(f, f) / kn."""

    operator: Literal["maxwell", "bgk"] = Field(
        "maxwell", description="maxwell: Boltzmann operator of (pseudo-)Maxwell molecules, Pr = 2/3; bgk: "
        "rho (M[f] - f) on the same 3-D grid, Pr = 1.")
    kn: FloatOrInfinity = quantity(1e-2, units="1", description="Knudsen number: the operator is divided by kn "
                                   "(0: the Euler limit, f set to its local Maxwellian after every transport step; "
                                   ".inf: free streaming).", ge=0)


class Scheme(Section):
    """Transport in x: MUSCL (minmod) with SSP-RK2, collisions by splitting."""

    cfl: float = quantity(0.4, units="1", description=f"max|v_x| dt/dx; at most {CFL_LIMIT} (MUSCL).", gt=0)


class Output(Section):
    """What is recorded besides the moments."""

    distribution: bool = Field(False, description="Save the reduced distributions g, b over (t, x, v).")


class BoltzmannSpec(ProblemSpec):
    """Spec of kind boltzmann."""

    kind: Literal["boltzmann"] = Field("boltzmann", description="Problem kind.")
    grid: Grid = Field(default_factory=Grid, description="Grid in x.")
    velocity: Velocity = Field(default_factory=Velocity, description="Velocity grid and collision quadratures.")
    collision: Collision = Field(default_factory=Collision, description="Collision operator.")
    initial: Initial = Field(default_factory=Initial, description=f"Initial data (kinds {', '.join(MAXWELLIAN_KINDS)}).")
    scheme: Scheme = Field(default_factory=Scheme, description="Numerical scheme.")
    time: Time = Field(default_factory=Time, description="Time span.")
    references: list[Literal["euler", "navier_stokes", "bgk"]] = Field(
        ["euler", "navier_stokes", "bgk"], description="References on the same grid in x: euler (gamma 5/3), "
        "navier_stokes (the operator's viscosity and Prandtl number), bgk (the reduced 1D3V BGK solver of kind "
        "bgk with the same viscosity, Pr = 1).")
    output: Output = Field(default_factory=Output, description="Extra outputs.")

    @model_validator(mode="after")
    def _consistent(self) -> "BoltzmannSpec":
        check_grid_and_references(self)
        check_velocity_and_scheme(self.velocity, self.scheme, "")
        if self.initial.kind not in MAXWELLIAN_KINDS:
            raise FieldError("initial.kind", f"'{self.initial.kind}' is not a local Maxwellian",
                             f"one of {', '.join(MAXWELLIAN_KINDS)}")
        check_initial(self, reduced_grid(self), "velocity.L", "velocity.n")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def check_velocity_and_scheme(velocity: Velocity, scheme: Scheme, prefix: str) -> None:
    """Raise FieldError (fields under ``prefix``) for an odd N, a degree without a Lebedev rule, or a CFL number
    above the bound of MUSCL."""
    if velocity.n % 2:
        raise FieldError(f"{prefix}velocity.n", f"n = {velocity.n} is odd", "an even n")
    if velocity.degree not in LEBEDEV_DEGREES:
        raise FieldError(f"{prefix}velocity.degree", f"degree = {velocity.degree} has no Lebedev rule here",
                         f"one of {LEBEDEV_DEGREES}")
    if scheme.cfl > CFL_LIMIT:
        raise FieldError(f"{prefix}scheme.cfl", f"cfl = {scheme.cfl!r} is above the stability bound {CFL_LIMIT} "
                         "of MUSCL", f"cfl <= {CFL_LIMIT}")


def reduced_grid(spec: BoltzmannSpec) -> PhaseGrid:
    """The reduced 1D3V phase grid of kind ``bgk`` with the same cells in x and the v_x nodes of the 3-D grid."""
    g, v = spec.grid, spec.velocity
    return PhaseGrid(g.x_min, g.x_max, g.n_x, v.L, v.n, dim=3, boundary=g.boundary)
