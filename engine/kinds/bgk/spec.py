"""The spec of kind ``bgk``: grid in x, velocity grid, collision operator, initial data, scheme, time span.

Validation checks what the sections cannot on their own: x_max > x_min, the CFL bound of the transport,
the references, and that the initial data are positive and fit the velocity grid. The last check puts
the initial profiles of :mod:`solvers.bgk.initial` on the grid (for the random kinds: drawn from the
run's ``initial`` stream, as the run draws them) and maps the solver's typed errors
(:mod:`solvers.bgk.errors`) to the fields that chose the numbers. Light: numpy and the numpy-only
modules of :mod:`solvers.bgk`, no numba.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from engine.kind import RunContext
from engine.spec.base import FloatOrInfinity, ProblemSpec, SavedTimes, Section, quantity
from engine.spec.errors import FieldError
from solvers.bgk import PhaseGrid, cfl_limit, initial
from solvers.bgk.errors import TOO_NARROW, NonPositiveState, VelocityGridError

from .memory import peak_memory

RIEMANN_KINDS = ("sod", "riemann")
RANDOM_KINDS = ("random_wave", "random_mix")
_NAMES = {"rho": "density", "T": "temperature"}


class Grid(Section):
    """Uniform finite-volume grid in x."""

    x_min: float = quantity(0.0, units="1", description="Left end of the domain.")
    x_max: float = quantity(1.0, units="1", description="Right end of the domain (> x_min).")
    n_x: int = quantity(200, units="1", description="Number of cells.", ge=2, le=10**6)
    boundary: Literal["periodic", "outflow"] = Field(
        "outflow", description="periodic, or outflow (zero-gradient ghost cells).")


class Velocity(Section):
    """Discrete velocity grid on [-v_max, v_max]."""

    dim: Literal[1, 3] = quantity(1, units="1", description="Velocity dimension: 1 (gamma = 3) or 3 "
                                  "(reduced distributions h, b; gamma = 5/3).")
    v_max: float = quantity(8.0, units="1", description="Velocity cut-off.", gt=0)
    n_v: int = quantity(64, units="1", description="Number of velocity cells.", ge=2, le=10**5)


class Collision(Section):
    """The BGK collision operator."""

    kn: FloatOrInfinity = quantity(1e-2, units="1", description="Knudsen number (relaxation time scale; 0: Euler "
                                   "limit, .inf: free streaming).", ge=0)
    frequency: Literal["constant", "rho", "vhs"] = Field(
        "constant", description="tau = kn (constant), kn/rho (rho), kn/(rho T^(1-omega)) (vhs).")
    omega: float = quantity(0.81, units="1", description="Viscosity exponent of the vhs frequency.", ge=0, le=1)


class Initial(Section):
    """Initial distribution; only the parameters of the chosen kind are used."""

    kind: Literal["sod", "riemann", "wave", "free_stream_sine", "two_maxwellian", "random_wave",
                  "random_mix"] = Field(
        "sod", description="sod: Sod's shock tube; riemann: Maxwellians of left/right (rho, u, p) states; wave: "
        "Maxwellian of Fourier profiles; free_stream_sine: (1 + A sin(2 pi s)) M[1, 0, T0]; two_maxwellian: the "
        "wave profiles split into a bi-Maxwellian (theta, r); random_wave / random_mix: random families from the "
        "run's seed.")
    x0: float | None = quantity(None, units="1", description="Position of the jump (sod, riemann); default: middle.")
    left: list[float] = Field([1.0, 0.0, 1.0], description="Left state (rho, u, p) of riemann data.")
    right: list[float] = Field([0.125, 0.0, 0.1], description="Right state (rho, u, p) of riemann data.")
    rho0: float = quantity(1.0, units="1", description="Mean density (wave, two_maxwellian).")
    u0: float = quantity(0.0, units="1", description="Mean velocity (wave, two_maxwellian).")
    T0: float = quantity(1.0, units="1", description="Mean temperature (wave, two_maxwellian, free_stream_sine).")
    rho: list[list[float]] = Field([], description="Density modes (k, amplitude, phase): "
                                   "q(x) = q0 + sum a sin(2 pi k s + phase), s = (x - x_min)/L.")
    u: list[list[float]] = Field([], description="Velocity modes (k, amplitude, phase).")
    T: list[list[float]] = Field([], description="Temperature modes (k, amplitude, phase).")
    amplitude: float = quantity(0.2, units="1", description="Density amplitude A of free_stream_sine.", gt=-1, lt=1)
    average: bool = Field(True, description="free_stream_sine as cell averages (else point values).")
    theta: float = quantity(0.5, units="1", description="Weight of the split pair (two_maxwellian).", ge=0, le=1)
    r: float = quantity(0.5, units="1", description="Temperature ratio of the split pair (two_maxwellian).",
                        gt=0, le=1)
    n_modes: int = quantity(3, units="1", description="Number of random modes (random kinds).", ge=1, le=64)
    amp_rho: float = quantity(0.2, units="1", description="Random density amplitude.", ge=0)
    amp_u: float = quantity(0.3, units="1", description="Random velocity amplitude.", ge=0)
    amp_T: float = quantity(0.2, units="1", description="Random temperature amplitude.", ge=0)
    floor: float = quantity(0.3, units="1", description="Minimum of the random rho and T profiles.", gt=0, lt=1)


class Scheme(Section):
    """Numerical scheme."""

    transport: Literal["muscl", "upwind"] = Field("muscl", description="muscl (second order, SSP-RK2) or upwind.")
    limiter: Literal["minmod", "van_leer"] = Field("minmod", description="Slope limiter of muscl.")
    relaxation: Literal["exact", "imex"] = Field("exact", description="exact relaxation in Strang splitting, or IMEX.")
    cfl: float = quantity(0.4, units="1", description="max|v| dt/dx; at most 0.5 for muscl, 1 for upwind.", gt=0)


class Time(SavedTimes):
    """Time span and outputs."""

    t_final: float = quantity(0.1, units="1", description="Final time.", gt=0)
    save_every: float | None = quantity(None, units="1", description="Interval between saved times; "
                                        "default: t_final/10. The final time is always saved.", gt=0)


class Output(Section):
    """What is recorded besides the moments."""

    distribution: bool = Field(False, description="Save f over (t, x, v).")


class BGKSpec(ProblemSpec):
    """Spec of kind bgk."""

    kind: Literal["bgk"] = Field("bgk", description="Problem kind.")
    grid: Grid = Field(default_factory=Grid, description="Grid in x.")
    velocity: Velocity = Field(default_factory=Velocity, description="Velocity grid.")
    collision: Collision = Field(default_factory=Collision, description="Collision operator.")
    initial: Initial = Field(default_factory=Initial, description="Initial data.")
    scheme: Scheme = Field(default_factory=Scheme, description="Numerical scheme.")
    time: Time = Field(default_factory=Time, description="Time span.")
    references: list[Literal["euler", "navier_stokes"]] = Field(
        ["euler"], description="Continuum references computed on the same grid.")
    output: Output = Field(default_factory=Output, description="Extra outputs.")

    @model_validator(mode="after")
    def _consistent(self) -> "BGKSpec":
        sch = self.scheme
        check_grid_and_references(self)
        bound = cfl_limit(sch.transport)
        if sch.cfl > bound:
            raise FieldError("scheme.cfl", f"cfl = {sch.cfl!r} is above the stability bound {bound:g} of "
                             f"transport '{sch.transport}'", f"cfl <= {bound:g}")
        check_initial(self, phase_grid(self))
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def check_grid_and_references(spec) -> None:
    """Raise FieldError unless ``grid.x_max > grid.x_min``, each of ``references`` is listed once, and
    ``collision.kn`` is finite where ``navier_stokes`` is one of them."""
    g = spec.grid
    if not g.x_max > g.x_min:
        raise FieldError("grid.x_max", f"x_max = {g.x_max!r} is not above x_min = {g.x_min!r}", f"x_max > {g.x_min!r}")
    if "navier_stokes" in spec.references and not math.isfinite(spec.collision.kn):
        raise FieldError("references", "the navier_stokes reference needs a finite collision.kn",
                         "references without navier_stokes, or a finite kn")
    if len(set(spec.references)) != len(spec.references):
        raise FieldError("references", f"repeated entries in {spec.references}", "each reference once")


def phase_grid(spec: BGKSpec) -> PhaseGrid:
    """The solver's phase-space grid of ``spec``."""
    g, v = spec.grid, spec.velocity
    return PhaseGrid(g.x_min, g.x_max, g.n_x, v.v_max, v.n_v, dim=v.dim, boundary=g.boundary)


def initial_profiles(spec: BGKSpec, grid: PhaseGrid, rng: np.random.Generator) -> initial.Profiles:
    """The primitive initial profiles of ``spec`` on ``grid`` (``rng`` draws the random kinds), unchecked."""
    ini = spec.initial
    if ini.kind == "sod":
        return initial.sod_profiles(grid, ini.x0)
    if ini.kind == "riemann":
        return initial.riemann_profiles(grid, tuple(ini.left), tuple(ini.right), ini.x0)
    if ini.kind == "free_stream_sine":
        return initial.free_stream_sine_profiles(grid, ini.amplitude, ini.T0, ini.average)
    if ini.kind in ("wave", "two_maxwellian"):
        wave = initial.wave_profiles(grid, ini.rho, ini.u, ini.T, ini.rho0, ini.u0, ini.T0)
        if ini.kind == "wave":
            return wave
        return initial.two_maxwellian_profiles(grid, wave.rho, wave.u, wave.T, ini.theta, ini.r)
    draw = initial.random_wave_profiles if ini.kind == "random_wave" else initial.random_mix_profiles
    return draw(rng, grid, n_modes=ini.n_modes, amp_rho=ini.amp_rho, amp_u=ini.amp_u, amp_T=ini.amp_T,
                floor=ini.floor)


def check_initial(spec, grid: PhaseGrid, v_max_field: str = "velocity.v_max", n_v_field: str = "velocity.n_v") -> None:
    """Raise FieldError for initial data of ``spec`` (its ``initial`` section) of the wrong shape, not positive,
    or that the velocity grid of ``grid`` cannot hold (blaming ``v_max_field`` or ``n_v_field``)."""
    ini = spec.initial
    for field in ("rho", "u", "T"):
        for mode in getattr(ini, field):
            if len(mode) != 3:
                raise FieldError(f"initial.{field}", f"a mode is (k, amplitude, phase), got {mode!r}",
                                 "3 numbers per mode")
    if ini.kind == "riemann":
        for side in ("left", "right"):
            state = getattr(ini, side)
            if len(state) != 3:
                raise FieldError(f"initial.{side}", f"a state is (rho, u, p), got {state!r}", "3 numbers")
    try:
        initial.check_state(initial_profiles(spec, grid, RunContext(seed=spec.seed).rng("initial")), grid)
    except NonPositiveState as exc:
        raise _non_positive(spec, exc) from None
    except VelocityGridError as exc:
        raise _velocity_grid(spec, grid, exc, v_max_field, n_v_field) from None


def _blamed(spec, quantity_name: str) -> str:
    """The field that set a density (``"rho"``) or temperature (``"T"``) profile of ``spec``."""
    ini = spec.initial
    if ini.kind == "free_stream_sine":
        return "initial.amplitude" if quantity_name == "rho" else "initial.T0"
    if ini.kind in ("wave", "two_maxwellian"):
        return f"initial.{quantity_name}" if getattr(ini, quantity_name) else f"initial.{quantity_name}0"
    return "initial.kind"


def _non_positive(spec, exc: NonPositiveState) -> FieldError:
    """A Riemann state (``exc.side``) blames that state; a cell blames the field of its profile."""
    if exc.side is not None:
        state = tuple(getattr(spec.initial, exc.side))
        return FieldError(f"initial.{exc.side}", f"non-positive density or pressure in the {exc.side} state "
                          f"(rho, u, p) = {state}", "rho > 0 and p > 0")
    name = _NAMES[exc.quantity]
    return FieldError(_blamed(spec, exc.quantity), f"non-positive initial {name} {exc.value:.6g} in cell "
                      f"{exc.cell} (x = {exc.x:.6g})", f"{name} > 0 in every cell")


def _velocity_grid(spec, grid: PhaseGrid, exc: VelocityGridError, v_max_field: str, n_v_field: str) -> FieldError:
    """Too narrow blames ``v_max_field``, too coarse ``n_v_field``; the expected bound holds every cell. A random
    kind quotes the solver's message, with the seed its profiles were drawn from."""
    where = f"in cell {exc.cell} (x = {exc.x:.6g})"
    v_max, n_v = v_max_field.rsplit(".", 1)[-1], n_v_field.rsplit(".", 1)[-1]
    if exc.problem == TOO_NARROW:
        field, what = v_max_field, "the velocity grid cannot hold the initial state"
        detail = f"{where} {exc.quantity} = {exc.value:.6g} > {v_max} = {exc.bound:.6g}"
        expected = f"{v_max} >= {exc.needed:.4g}"
    else:
        field, what = n_v_field, "the velocity grid is too coarse for the initial state"
        detail = f"{where} dv = {exc.value:.6g} > sqrt(T_min) = {exc.bound:.6g}"
        expected = f"{n_v} >= {math.ceil(2.0 * grid.v_max / exc.needed)}"
    if spec.initial.kind in RANDOM_KINDS:
        detail = f"{exc} (initial data drawn from seed {spec.seed})"
    return FieldError(field, f"{what}: {detail}", expected)
