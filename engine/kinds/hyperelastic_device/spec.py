"""The spec of kind ``hyperelastic_device``: host material, grid, device, source, absorber, time span and
comparison runs; the validator checks the run's geometry (:mod:`.geometry`, without building a grid) to
reject impossible setups, and :mod:`.memory` estimates a run's peak memory."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.kinds.hyperelastic_interface.spec import Deformation, Material
from engine.spec.base import ProblemSpec, SavedTimes, Section, quantity
from engine.spec.errors import FieldError

from .geometry import check
from .memory import peak_memory


class Grid(Section):
    """Cartesian grid of the current (deformed) configuration."""

    x: list[float] = quantity([-8.0, 8.0], units="m", description="x range [x_min, x_max].", min_length=2,
                              max_length=2)
    y: list[float] = quantity([-6.0, 6.0], units="m", description="y range [y_min, y_max].", min_length=2,
                              max_length=2)
    h: float | None = quantity(None, units="m", description="Grid spacing; default: from points_per_wavelength.",
                               gt=0)
    points_per_wavelength: float = quantity(24.0, units="1", description="Grid points per shortest wavelength "
                                            "(slowest speed of the device / source frequency) when h is not given.",
                                            gt=0)
    subsample: int = quantity(4, units="1", description="Material samples per cell side (cell averages).", ge=1,
                              le=16)


class Triangle(Section):
    """A triangle of a piecewise-affine map: reference and current vertices."""

    ref: list[list[float]] = quantity(..., units="m", description="Reference vertices [[x, y] x 3].")
    cur: list[list[float]] = quantity(..., units="m", description="Current vertices [[x, y] x 3].")


class Device(Section):
    """The device; only the parameters of the chosen type are used."""

    type: Literal["cloak", "bend", "lens", "custom", "none"] = Field(
        "cloak", description="cloak: unidirectional cloak (design direction x); bend: splicable beam bend in a "
        "free-edged strip along +y; lens: stretched_slab or refractive design; custom: a pre-deformation "
        "field; none: the host alone.")
    center: list[float] = quantity([0.0, 0.0], units="m", description="Centre of the cloak / x of the lens axis.",
                                   min_length=2, max_length=2)
    half_width: float = quantity(2.0, units="m", description="Cloak: half-length a of the slit (x).", gt=0)
    half_height: float = quantity(2.0, units="m", description="Cloak: half-height H of the fixed rhombus (y).", gt=0)
    opening: float = quantity(0.6, units="m", description="Cloak: half-opening b of the diamond hole (< H).", gt=0)
    width: float = quantity(2.0, units="m", description="Bend, stretched slab: strip width w.", gt=0)
    left: float = quantity(0.0, units="m", description="Bend, stretched slab: x of the strip's left edge.")
    entry: float = quantity(0.0, units="m", description="Bend, lens: y of the first entry face.")
    angle_deg: float = quantity(30.0, units="degree", description="Bend: turn per unit (counter-clockwise > 0).")
    units: int = quantity(1, units="1", description="Bend: number of units in series.", ge=1, le=12)
    unit_length: float | None = quantity(None, units="m", description="Bend: unit length h along the strip "
                                         "(default: the width).", gt=0)
    gap: float | None = quantity(None, units="m", description="Bend: straight strip between units (default w/2).",
                                 gt=0)
    design: Literal["stretched_slab", "refractive"] = Field(
        "refractive", description="Lens: stretched_slab (exact virtual-source lens in a strip) or refractive "
        "(lens-shaped region of constrained tension along y in the open host).")
    stretch: float = quantity(1.5, units="1", description="Lens: constrained stretch a along the axis.", gt=0)
    thickness: float = quantity(1.0, units="m", description="Stretched slab: reference thickness t.", gt=0)
    aperture: float = quantity(3.0, units="m", description="Refractive lens: half-aperture A.", gt=0)
    thickness_center: float = quantity(0.3, units="m", description="Refractive lens: thickness on the axis.", gt=0)
    thickness_edge: float = quantity(1.5, units="m", description="Refractive lens: thickness at |x| = A.", gt=0)
    field: Literal["uniform", "piecewise_affine", "unidirectional"] = Field(
        "uniform", description="Custom: uniform (gradient in region), piecewise_affine (triangles, holes, "
        "exterior), unidirectional (x = X + phi(X) e).")
    gradient: Deformation = Field(default_factory=Deformation, description="Custom uniform: the deformation "
                                  "gradient as in hyperelastic_interface (mode and parameters, or custom F).")
    region: list[list[float]] | None = quantity(None, units="m", description="Custom uniform: polygon [[x, y], ...] "
                                                "where the gradient applies (default: everywhere).")
    triangles: list[Triangle] = Field([], description="Custom piecewise_affine: triangles (reference and current).")
    holes: list[list[list[float]]] = quantity([], units="m", description="Custom piecewise_affine: holes, "
                                              "current polygons.")
    exterior: Literal["host", "void"] = Field("host", description="Custom piecewise_affine: outside the triangles.")
    profile: Literal["gaussian", "slab"] = Field("gaussian", description="Custom unidirectional: phi = amplitude "
                                                 "exp(-|X-center|^2/(2 radius^2)) or (stretch-1) clip(X.e - entry, 0, "
                                                 "thickness).")
    direction: list[float] = quantity([0.0, 1.0], units="1", description="Custom unidirectional: e.", min_length=2,
                                      max_length=2)
    amplitude: float = quantity(0.5, units="m", description="Custom unidirectional gaussian: amplitude.")
    radius: float = quantity(1.0, units="m", description="Custom unidirectional gaussian: radius.", gt=0)


class Source(Section):
    """Source: a line (plane wave or Gaussian beam) or a point, with a Gaussian-modulated sine wavelet."""

    type: Literal["plane", "point", "gaussian_beam"] = Field("plane", description="plane: line source across "
                                                             "the domain; point; gaussian_beam: line source with "
                                                             "a Gaussian profile.")
    position: list[float] | None = quantity(None, units="m", description="Centre of the line / the point; "
                                            "default: one absorber width plus a wavelength from the upstream "
                                            "edge, on the device's centre line.", min_length=2, max_length=2)
    direction_deg: float | None = quantity(None, units="degree", description="Propagation direction from +x; "
                                           "default: 0 for the cloak (+x), 90 otherwise (+y).")
    length: float | None = quantity(None, units="m", description="Line length; default: across the domain "
                                    "(bend and slab: the strip width).", gt=0)
    waist: float = quantity(1.0, units="m", description="Gaussian beam: waist (1/e amplitude half-width).", gt=0)
    frequency: float = quantity(1.0, units="Hz", description="Centre frequency f0 of the wavelet.", gt=0)
    tau: float | None = quantity(None, units="s", description="Gaussian envelope of the wavelet; default 1.5/f0.",
                                 gt=0)
    delay: float | None = quantity(None, units="s", description="Centre time t0 of the wavelet; default 3 tau.",
                                   ge=0)


class Absorber(Section):
    """Sponge layers (damping rate rising quadratically to sigma_max) along the grid edges, in the host."""

    type: Literal["sponge"] = Field("sponge", description="sponge: rho (w_tt + sigma w_t) = ...")
    width: float | None = quantity(None, units="m", description="Layer width; default 3 host wavelengths at f0.",
                                   ge=0)
    sigma_max: float | None = quantity(None, units="1/s", description="Damping rate at the edge; default 10 f0.",
                                       ge=0)


class Time(SavedTimes):
    """Time span, step and snapshots."""

    t_final: float = quantity(15.0, units="s", description="Final time.", gt=0)
    cfl: float = quantity(0.9, units="1", description="dt = cfl h / c_max; stable for cfl <= 1.", gt=0, le=1)
    save_every: float | None = quantity(None, units="s", description="Interval between snapshots, rounded to "
                                        "t_final / (a whole number); default t_final/10. The final time is always "
                                        "saved.", gt=0)


class HyperelasticDeviceSpec(ProblemSpec):
    """Spec of kind hyperelastic_device."""

    kind: Literal["hyperelastic_device"] = Field("hyperelastic_device", description="Problem kind.")
    material: Material = Field(default_factory=Material, description="Neo-Hookean host material.")
    grid: Grid = Field(default_factory=Grid, description="Grid.")
    device: Device = Field(default_factory=Device, description="The device.")
    source: Source = Field(default_factory=Source, description="Source.")
    absorber: Absorber = Field(default_factory=Absorber, description="Absorbing layers.")
    time: Time = Field(default_factory=Time, description="Time span.")
    compare: list[Literal["homogeneous", "bare"]] = Field(["homogeneous", "bare"],
                                                          description="Comparison runs.")

    @model_validator(mode="after")
    def _consistent(self) -> "HyperelasticDeviceSpec":
        for name in ("x", "y"):
            lo, hi = getattr(self.grid, name)
            if not hi > lo:
                raise FieldError(f"grid.{name}", f"{name}_max = {hi!r} is not above {name}_min = {lo!r}",
                                 f"{name}[1] > {name}[0]")
        if len(set(self.compare)) != len(self.compare):
            raise FieldError("compare", f"repeated entries in {self.compare}", "each comparison once")
        if "bare" in self.compare and "homogeneous" not in self.compare:
            raise FieldError("compare", "the bare run's metrics are measured against the homogeneous run",
                             "compare: [homogeneous, bare]")
        check(self)
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)
