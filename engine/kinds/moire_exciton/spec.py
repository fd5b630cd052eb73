"""Spec of kind ``moire_exciton``: sections, defaults (brief §5.3, room temperature) and the checks
that need more than one field (grid resolution, time-step bounds, exclusion capacity).

Light: the checks use :mod:`.parameters`; only a time step fixed by the user needs the solver system
(numba) for its stability bound, imported then."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from engine.spec.base import FloatOrInfinity, ProblemSpec, SavedTimes, Section, quantity
from engine.spec.errors import FieldError
from solvers.moire import geometry

from .memory import peak_memory
from .parameters import Parameters, parameters

METHODS = ("resolved", "cell", "continuum", "kmc")
MIN_POINTS_PER_PERIOD = 8


class Lattice(Section):
    """Lattice constants of the two layers (WSe₂ on top, WS₂ at the bottom by default)."""

    a_top_nm: float = quantity(0.3282, units="nm", description="Lattice constant of the top layer (WSe2).", gt=0)
    a_bottom_nm: float = quantity(0.3153, units="nm", description="Lattice constant of the bottom layer (WS2).",
                                  gt=0)


class Potential(Section):
    """Three-cosine moiré potential U = 2V Σ cos(G_j·r + ψ), V < 0, of the K–K (or only) species."""

    depth_meV: float = quantity(30.0, units="meV", description="Peak-to-peak depth Δ = max U − min U.", ge=0)
    phase_deg: float = quantity(0.0, units="degree", description="Phase ψ (0: one deep site per cell; 30: "
                                "Keller–Dykhne symmetric; 60: honeycomb).")
    quantum_smoothing: Literal["none", "feynman_hibbs"] = Field(
        "none", description="none, or feynman_hibbs: every Fourier component (and the trap binding energy) times "
        "exp(−G²λ²/2) exp(−(G a_B)²/8), λ² = ħ²/(12 M k_BT).")
    bohr_radius_nm: float = quantity(0.0, units="nm", description="Exciton radius a_B of the form factor "
                                     "(0: Feynman–Hibbs only).", ge=0)


class TrapFilling(Section):
    """Langmuir trap filling (brief §3.3b): one trap per moiré cell, binding E_b below the free band."""

    enabled: bool = Field(False, description="Density-dependent trapping (continuum: D(n); kmc: trap sites).")
    binding_meV: float = quantity(120.0, units="meV", description="Binding energy E_b of a trap.", ge=0)
    degeneracy: float = quantity(1.0, units="1", description="Degeneracy g of the free-gas density of states "
                                 "N_c = g M k_BT/(2πħ²).", gt=0)
    site_density_cm2: float | None = quantity(None, units="cm^-2", description="Trap density; default: the moiré "
                                              "site density n_M(θ).", gt=0)
    capture_per_ps: float = quantity(1.0, units="ps^-1", description="Capture rate of a free exciton into an "
                                     "empty trap (kmc; the release rate follows from detailed balance).", gt=0)


class Transport(Section):
    """Transport of the K–K (or only) species and the interactions."""

    diffusion_cm2_s: float = quantity(0.5, units="cm^2/s", description="Free diffusivity D.", gt=0)
    temperature_K: float = quantity(295.0, units="K", description="Temperature T.", gt=0)
    lifetime_ns: FloatOrInfinity = quantity(0.5, units="ns", description="Lifetime τ (.inf: no decay).", gt=0)
    mass_m0: float = quantity(0.6, units="m0", description="Exciton mass M (smoothing, N_c, detailed balance).",
                              gt=0)
    annihilation_cm2_s: float = quantity(0.0, units="cm^2/s", description="Annihilation γ in dn/dt = −γ n² "
                                         "(continuum, resolved).", ge=0)
    repulsion_eV_cm2: float = quantity(0.0, units="eV cm^2", description="Mean-field dipolar repulsion u₀ "
                                       "(blue shift u₀ n).", ge=0)
    trap_filling: TrapFilling = Field(default_factory=TrapFilling, description="Langmuir trap filling.")


class KQSpecies(Section):
    """The K–Q species (momentum-indirect, lower in energy by the gap)."""

    diffusion_cm2_s: float = quantity(0.33, units="cm^2/s", description="Free diffusivity D_KQ.", gt=0)
    lifetime_ns: FloatOrInfinity = quantity(3.0, units="ns", description="Lifetime τ_KQ (.inf: no decay).", gt=0)
    mass_m0: float = quantity(0.9, units="m0", description="Mass M_KQ.", gt=0)
    depth_meV: float = quantity(100.0, units="meV", description="Moiré depth Δ_KQ (same phase as K–K).", ge=0)


class Populations(Section):
    """Two populations K–K and K–Q in detailed balance: k_QK/k_KQ = (g_K M_K)/(g_Q M_Q) e^{−ΔE/k_BT}."""

    enabled: bool = Field(False, description="Track K–K and K–Q; off: one species 'IX' with transport.*.")
    gap_meV: float = quantity(50.0, units="meV", description="ΔE = E_KK − E_KQ (used without gap_vs_twist).")
    gap_vs_twist: list[list[float]] = Field(
        [], description="Table of (twist_deg, gap_meV) pairs, interpolated linearly at twist_deg.")
    degeneracy_ratio: float = quantity(3.0, units="1", description="g_Q/g_K.", gt=0)
    kq_rate_per_ps: float = quantity(1.0, units="ps^-1", description="Relaxation rate k_KQ (K–K → K–Q).", ge=0)
    initial_kk_fraction: float = quantity(1.0, units="1", description="K–K fraction of the pumped excitons.",
                                          ge=0, le=1)
    kq: KQSpecies = Field(default_factory=KQSpecies, description="The K–Q species.")


class Initial(Section):
    """The pumped excitons."""

    profile: Literal["gaussian", "stripe", "uniform", "boltzmann"] = Field(
        "gaussian", description="gaussian spot; stripe: Gaussian in x, uniform in y (resolved); uniform; "
        "boltzmann: n ∝ e^{−U/k_BT} (resolved, periodic).")
    sigma_um: float = quantity(0.2, units="um", description="Spot width σ₀ (per direction).", gt=0)
    peak_density_cm2: float = quantity(1e12, units="cm^-2", description="Peak (or mean, for uniform/boltzmann) "
                                       "density n₀.", gt=0)


class ResolvedGrid(Section):
    """Grid of method resolved: periodic supercells [a_M × √3 a_M]."""

    points_per_period: int = quantity(12, units="1", description="Grid points per a_M (at least 8).", ge=1)
    cells_x: int = quantity(24, units="1", description="Supercells along x.", ge=1)
    cells_y: int = quantity(14, units="1", description="Supercells along y.", ge=1)
    dt_ps: float | None = quantity(None, units="ps", description="Fixed time step (default: 0.9 × the explicit "
                                   "stability bound).", gt=0)
    time_stepping: Literal["explicit", "implicit", "auto"] = Field(
        "auto", description="explicit: forward Euler; implicit: sparse-LU TR-BDF2 after an explicit start over "
        "a_M²/(4 D); auto: the cheaper of the two by the cost model (docs/kinds/moire.md).")
    implicit_dt_ps: float | None = quantity(None, units="ps", description="Step of the implicit path (default: "
                                            "a_M²/(2 D_max), at most 0.2 / the fastest decay or exchange rate and "
                                            "5e-4/(γ n_max)).", gt=0)


class CellGrid(Section):
    """Grid of method cell (one supercell)."""

    points_per_period: int = quantity(48, units="1", description="Grid points per a_M.", ge=4)
    richardson: bool = Field(True, description="Extrapolate from this grid and the half grid (second order).")


class ContinuumGrid(Section):
    """Grid of method continuum."""

    geometry: Literal["radial", "2d"] = Field("radial", description="radial (r) or 2d (x, y square, no flux).")
    cells: int = quantity(300, units="1", description="Cells in r (radial) or along each side (2d).", ge=8)
    extent_um: float = quantity(3.0, units="um", description="r_max (radial) or half-width (2d).", gt=0)
    homogenize: bool = Field(True, description="D of each species times D_eff/D of its moiré cell problem.")
    dt_ns: float | None = quantity(None, units="ns", description="Fixed time step (default: 0.9 × the explicit "
                                   "stability bound).", gt=0)


class KmcGrid(Section):
    """Lattice and rates of method kmc."""

    lattice_sites: int = quantity(512, units="1", description="Sites L along each side of the periodic "
                                  "L × L rhombus.", ge=4)
    rates: Literal["barrier", "homogenized", "free"] = Field(
        "barrier", description="barrier: k = ν₀ e^{−E_b/k_BT}; homogenized: k = D_eff/(1.5 a_M²) (cell); "
        "free: k = D/(1.5 a_M²).")
    attempt_per_ps: float = quantity(1.0, units="ps^-1", description="Attempt frequency ν₀ (rates: barrier).",
                                     gt=0)
    exclusion: bool = Field(False, description="At most one exciton per site.")
    onsite_repulsion_meV: float = quantity(0.0, units="meV", description="On-site repulsion U_on (Metropolis).",
                                           ge=0)
    encounter_annihilation: float = quantity(0.0, units="1", description="Probability that an exciton hopping "
                                             "onto an occupied site annihilates.", ge=0, le=1)
    bins: int = quantity(81, units="1", description="Histogram bins of the line cut (odd: one centred on 0).",
                         ge=5)


class Grid(Section):
    """Numerical grids, one section per method (only the chosen method's is used)."""

    resolved: ResolvedGrid = Field(default_factory=ResolvedGrid, description="method resolved.")
    cell: CellGrid = Field(default_factory=CellGrid, description="method cell.")
    continuum: ContinuumGrid = Field(default_factory=ContinuumGrid, description="method continuum.")
    kmc: KmcGrid = Field(default_factory=KmcGrid, description="method kmc.")


class Time(SavedTimes):
    """Time window (the pump at t = 0)."""

    FINAL: ClassVar[str] = "t_final_ns"
    EVERY: ClassVar[str] = "save_every_ns"

    t_final_ns: float = quantity(5.0, units="ns", description="End of the window.", gt=0)
    save_every_ns: float | None = quantity(None, units="ns", description="Interval between saved times; "
                                           "default: t_final/20. The final time is always saved.", gt=0)


class MoireExcitonSpec(ProblemSpec):
    """Spec of kind moire_exciton."""

    kind: Literal["moire_exciton"] = Field("moire_exciton", description="Problem kind.")
    method: Literal["resolved", "cell", "continuum", "kmc"] = Field(
        "continuum", description="resolved: moiré-resolved drift–diffusion (nm, ps); cell: homogenized D_eff; "
        "continuum: µm-scale spot with D(n); kmc: Monte Carlo on moiré sites.")
    twist_deg: float = quantity(0.0, units="degree", description="Twist angle θ (near 60°: H stacking, "
                                "period of 60° − θ).", ge=0, le=60)
    lattice: Lattice = Field(default_factory=Lattice, description="Lattice constants.")
    potential: Potential = Field(default_factory=Potential, description="Moiré potential.")
    transport: Transport = Field(default_factory=Transport, description="Transport and interactions.")
    populations: Populations = Field(default_factory=Populations, description="K–K and K–Q populations.")
    initial: Initial = Field(default_factory=Initial, description="Initial density.")
    grid: Grid = Field(default_factory=Grid, description="Grids per method.")
    time: Time = Field(default_factory=Time, description="Time window.")

    @model_validator(mode="after")
    def _consistent(self) -> "MoireExcitonSpec":
        if self.lattice.a_top_nm == self.lattice.a_bottom_nm and self.twist_deg % 60.0 == 0.0:
            raise FieldError("twist_deg", "identical lattices at 0° or 60° have no moiré pattern",
                             "a twist or a lattice mismatch")
        for pair in self.populations.gap_vs_twist:
            if len(pair) != 2:
                raise FieldError("populations.gap_vs_twist", f"an entry is (twist_deg, gap_meV), got {pair!r}",
                                 "2 numbers per entry")
        par = parameters(self)
        if self.method == "resolved":
            _check_resolved(self, par)
        elif self.method == "continuum":
            _check_continuum(self, par)
        elif self.method == "kmc":
            _check_kmc(self, par)
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self, parameters(self))


def _check_resolved(spec: MoireExcitonSpec, par: Parameters) -> None:
    g = spec.grid.resolved
    if g.points_per_period < MIN_POINTS_PER_PERIOD:
        raise FieldError("grid.resolved.points_per_period",
                         f"{g.points_per_period} points per moiré period a_M = {par.a_m:.4g} nm do not resolve it "
                         f"(h = {par.a_m / g.points_per_period:.3g} nm)", f">= {MIN_POINTS_PER_PERIOD}")
    if spec.initial.profile in ("gaussian", "stripe"):
        half = 0.5 * g.cells_x * par.a_m
        if spec.initial.profile == "gaussian":  # the spot must fit in y too
            half = min(half, 0.5 * g.cells_y * geometry.SQRT3 * par.a_m)
        sigma_nm = spec.initial.sigma_um * 1e3
        if sigma_nm > half / 3.0:
            raise FieldError("initial.sigma_um", f"the spot (σ₀ = {sigma_nm:.4g} nm) does not fit the periodic "
                             f"domain of half-width {half:.4g} nm", f"sigma_um <= {half / 3e3:.3g}")
    if g.dt_ps is not None and _small_enough_to_build(spec, par):
        from .run.model import resolved_system  # numba: imported only for a fixed time step

        _check_dt("grid.resolved.dt_ps", g.dt_ps, resolved_system(spec, par).stable_dt(par.n_peak_nm2), "ps")


#: Validation builds the solver system to check a fixed time step against its stability bound only for a run
#: whose memory estimate is under this [bytes]; a larger run checks it when it starts (validation never builds
#: a large grid: the memory check may refuse the run first).
VALIDATION_BUILD_BYTES = 256 * 2**20


def _small_enough_to_build(spec: MoireExcitonSpec, par: Parameters) -> bool:
    return peak_memory(spec, par).nbytes <= VALIDATION_BUILD_BYTES


def stability_problem(field: str, dt: float, bound: float, unit: str) -> tuple[str, str] | None:
    """(problem, expected) when a time step fixed by the user exceeds the explicit scheme's stability bound."""
    if dt <= bound:
        return None
    name = field.rsplit(".", 1)[-1]
    return f"{name} = {dt:g} is above the explicit stability bound {bound:.4g} {unit}", f"{name} <= {bound:.4g}"


def _check_dt(field: str, dt: float, bound: float, unit: str) -> None:
    """A time step fixed by the user must not exceed the explicit scheme's stability bound."""
    problem = stability_problem(field, dt, bound, unit)
    if problem is not None:
        raise FieldError(field, *problem)


def _check_continuum(spec: MoireExcitonSpec, par: Parameters) -> None:
    g = spec.grid.continuum
    if spec.initial.profile != "gaussian":
        raise FieldError("initial.profile", f"method continuum starts from a gaussian spot, not "
                         f"'{spec.initial.profile}'", "gaussian")
    if g.extent_um < 4.0 * spec.initial.sigma_um:
        raise FieldError("grid.continuum.extent_um", f"extent_um = {g.extent_um:g} holds less than 4 σ₀ of the "
                         f"spot (σ₀ = {spec.initial.sigma_um:g} µm)", f"extent_um >= {4 * spec.initial.sigma_um:g}")
    if g.dt_ns is not None and _small_enough_to_build(spec, par):
        from .run.model import continuum_system  # numba: imported only for a fixed time step

        _check_dt("grid.continuum.dt_ns", g.dt_ns, continuum_system(spec, par).stable_dt(par.n_peak_um2), "ns")


def _check_kmc(spec: MoireExcitonSpec, par: Parameters) -> None:
    g = spec.grid.kmc
    if spec.initial.profile not in ("gaussian", "uniform"):
        raise FieldError("initial.profile", f"method kmc starts from a gaussian spot or a uniform density, not "
                         f"'{spec.initial.profile}'", "gaussian or uniform")
    n_m_cm2 = par.n_m_nm2 * 1e14
    if g.exclusion and spec.initial.peak_density_cm2 > n_m_cm2:
        raise FieldError("initial.peak_density_cm2", f"peak_density_cm2 = {spec.initial.peak_density_cm2:.4g} is "
                         f"above one exciton per moiré site (n_M = {n_m_cm2:.4g} cm^-2) with exclusion on",
                         f"peak_density_cm2 <= {n_m_cm2:.4g}")
    side_um = g.lattice_sites * par.a_m * 1e-3
    if spec.initial.profile == "gaussian" and 8.0 * spec.initial.sigma_um > side_um:
        raise FieldError("grid.kmc.lattice_sites", f"the lattice ({side_um:.3g} µm wide) does not hold the spot "
                         f"(8 σ₀ = {8 * spec.initial.sigma_um:.3g} µm)",
                         f"lattice_sites >= {math.ceil(8e3 * spec.initial.sigma_um / par.a_m)}")
    count = spec.initial.peak_density_cm2 * 1e-14 * (2 * math.pi * (spec.initial.sigma_um * 1e3) ** 2
                                                     if spec.initial.profile == "gaussian" else
                                                     geometry.SQRT3 / 2 * (g.lattice_sites * par.a_m) ** 2)
    if count > 2e6:
        raise FieldError("initial.peak_density_cm2", f"the spot holds {count:.3g} excitons, too many for kmc",
                         "at most 2e6 excitons (lower the density or the spot)")
