"""Kind ``bgk``: the kinetic BGK equation in 1-D, from the Euler limit to free molecular flow.

    ∂_t f + v ∂_x f = (M[f] - f) / tau,   tau = Kn (frequency constant; also rho, vhs),

solved by :mod:`solvers.bgk` (discrete velocities on [-v_max, v_max], finite volumes in x,
MUSCL or upwind transport, exact or IMEX relaxation). Everything is nondimensional (units "1").

Variables of a run (dims ``t``, ``x``; ``v`` for the saved distribution):

- ``rho, u, T, p, m, E, q`` (heat flux) over (t, x); ``mass, momentum, energy, H`` over t;
- references on the same grid, one per entry of ``references``: ``rho_euler, u_euler, T_euler``
  and ``rho_ns, u_ns, T_ns`` (exact Riemann solution for Riemann data on an outflow grid,
  finite-volume Euler / Navier-Stokes otherwise);
- at the final time, ``l2_<q>_<ref>`` = ||q - q_ref||_2 / ||q_ref||_2 for q in rho, m, T
  (and ``l1_<q>_<ref>`` for Riemann data);
- ``f`` (and ``f_b``, the second reduced distribution for ``velocity.dim: 3``) over (t, x, v)
  when ``output.distribution`` is true.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import Field, model_validator

from engine.problem import Problem, RunContext, RunFailed, variable
from engine.report import sweep_points
from engine.spec import FieldError, ProblemSpec, Section, quantity
from solvers import bgk

TAILS = 7.0  # the velocity grid must reach |u| + TAILS sqrt(T)
RIEMANN_KINDS = ("sod", "riemann")
RANDOM_KINDS = ("random_wave", "random_mix")
SOD_LEFT, SOD_RIGHT = (1.0, 0.0, 1.0), (0.125, 0.0, 0.1)
REF_SUFFIX = {"euler": "euler", "navier_stokes": "ns"}


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

    kn: float = quantity(1e-2, units="1", description="Knudsen number (relaxation time scale; 0: Euler limit, "
                         ".inf: free streaming).", ge=0)
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


class Time(Section):
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
        g, vel, sch = self.grid, self.velocity, self.scheme
        if not g.x_max > g.x_min:
            raise FieldError("grid.x_max", f"x_max = {g.x_max!r} is not above x_min = {g.x_min!r}",
                             f"x_max > {g.x_min!r}")
        bound = bgk.cfl_limit(sch.transport)
        if sch.cfl > bound:
            raise FieldError("scheme.cfl", f"cfl = {sch.cfl!r} is above the stability bound {bound:g} of "
                             f"transport '{sch.transport}'", f"cfl <= {bound:g}")
        if "navier_stokes" in self.references and not math.isfinite(self.collision.kn):
            raise FieldError("references", "the navier_stokes reference needs a finite collision.kn",
                             "references: [euler], or a finite kn")
        if len(set(self.references)) != len(self.references):
            raise FieldError("references", f"repeated entries in {self.references}", "each reference once")
        _check_initial(self)
        return self


# ---------------------------------------------------------------------------
# initial data
# ---------------------------------------------------------------------------


def phase_grid(spec: BGKSpec) -> bgk.PhaseGrid:
    g, v = spec.grid, spec.velocity
    return bgk.PhaseGrid(g.x_min, g.x_max, g.n_x, v.v_max, v.n_v, dim=v.dim, boundary=g.boundary)


def _cell_centers(spec: BGKSpec) -> np.ndarray:
    g = spec.grid
    return g.x_min + (g.x_max - g.x_min) / g.n_x * (np.arange(g.n_x) + 0.5)


def _fourier(s: np.ndarray, modes: list[list[float]], base: float) -> np.ndarray:
    q = np.full_like(s, base)
    for k, a, phase in modes:
        q = q + a * np.sin(2.0 * math.pi * k * s + phase)
    return q


def _riemann_states(spec: BGKSpec):
    ini = spec.initial
    return (SOD_LEFT, SOD_RIGHT) if ini.kind == "sod" else (tuple(ini.left), tuple(ini.right))


def _jump(spec: BGKSpec) -> float:
    g = spec.grid
    return 0.5 * (g.x_min + g.x_max) if spec.initial.x0 is None else spec.initial.x0


def _profiles(spec: BGKSpec):
    """Primitive profiles ``(rho, u, T)`` of the deterministic kinds, with the field blamed for rho and T,
    and a list of extra ``(u, T)`` states the grid must hold (two_maxwellian); None for random kinds."""
    ini, x = spec.initial, _cell_centers(spec)
    if ini.kind in RIEMANN_KINDS:
        left, right = _riemann_states(spec)
        is_left = x < _jump(spec)
        rho, u, p = (np.where(is_left, a, b) for a, b in zip(left, right))
        blame = np.where(is_left, "initial.left", "initial.right")
        return rho, u, p / rho, (blame, blame), []
    if ini.kind == "free_stream_sine":
        s = (x - spec.grid.x_min) / (spec.grid.x_max - spec.grid.x_min)
        rho = 1.0 + ini.amplitude * np.sin(2.0 * math.pi * s)
        n = x.size
        return rho, np.zeros(n), np.full(n, ini.T0), (["initial.amplitude"] * n, ["initial.T0"] * n), []
    if ini.kind in ("wave", "two_maxwellian"):
        s = (x - spec.grid.x_min) / (spec.grid.x_max - spec.grid.x_min)
        rho, u, T = _fourier(s, ini.rho, ini.rho0), _fourier(s, ini.u, ini.u0), _fourier(s, ini.T, ini.T0)
        n = x.size
        blame = (["initial.rho" if ini.rho else "initial.rho0"] * n, ["initial.T" if ini.T else "initial.T0"] * n)
        extra = []
        if ini.kind == "two_maxwellian":
            delta = np.sqrt(spec.velocity.dim * np.maximum(T, 0.0) * (1.0 - ini.r))
            extra = [(u - delta, ini.r * T), (u + delta, ini.r * T)]
        return rho, u, T, blame, extra
    return None


def _check_initial(spec: BGKSpec) -> None:
    """Raise FieldError for initial data that is not positive or that the velocity grid cannot hold."""
    ini, vel, x = spec.initial, spec.velocity, _cell_centers(spec)
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
            if not (state[0] > 0 and state[2] > 0):
                raise FieldError(f"initial.{side}", f"non-positive density or pressure in the {side} state "
                                 f"(rho, u, p) = {tuple(state)}", "rho > 0 and p > 0")
    prof = _profiles(spec)
    if prof is None:
        _check_random(spec)
        return
    rho, u, T, (blame_rho, blame_T), extra = prof
    for name, a, blame in (("density", rho, blame_rho), ("temperature", T, blame_T)):
        bad = np.flatnonzero(~(a > 0))
        if bad.size:
            i = bad[0]
            raise FieldError(str(blame[i]), f"non-positive initial {name} {a[i]:.6g} in cell {i} (x = {x[i]:.6g})",
                             f"{name} > 0 in every cell")
    states = [(u, T)] + extra
    reach = np.max([np.abs(uu) + TAILS * np.sqrt(TT) for uu, TT in states], axis=0)
    bad = np.flatnonzero(reach > vel.v_max)
    if bad.size:
        i = bad[0]
        raise FieldError("velocity.v_max", f"the velocity grid cannot hold the initial state: in cell {i} "
                         f"(x = {x[i]:.6g}) |u| + {TAILS:g} sqrt(T) = {reach[i]:.6g} > v_max = {vel.v_max:.6g}",
                         f"v_max >= {reach.max():.4g}")
    t_min = np.min([TT for _, TT in states], axis=0)
    dv = 2.0 * vel.v_max / vel.n_v
    bad = np.flatnonzero(dv > np.sqrt(t_min))
    if bad.size:
        i = bad[0]
        need = math.ceil(2.0 * vel.v_max / math.sqrt(t_min.min()))
        raise FieldError("velocity.n_v", f"the velocity grid is too coarse for the initial state: in cell {i} "
                         f"(x = {x[i]:.6g}) dv = {dv:.6g} > sqrt(T_min) = {math.sqrt(t_min[i]):.6g}",
                         f"n_v >= {need}")


def _check_random(spec: BGKSpec) -> None:
    """The random kinds: draw the run's initial data and translate the solver's check into a FieldError."""
    try:
        initial_distribution(spec, RunContext(seed=spec.seed).rng("initial"))
    except ValueError as exc:
        msg = str(exc)
        if "v_max" in msg:
            raise FieldError("velocity.v_max", f"the velocity grid cannot hold the initial state: {msg}",
                             "a larger v_max") from None
        if "dv" in msg:
            raise FieldError("velocity.n_v", f"the velocity grid is too coarse for the initial state: {msg}",
                             "a larger n_v") from None
        raise FieldError("initial.kind", msg, "positive density and temperature") from None


def initial_distribution(spec: BGKSpec, rng: np.random.Generator) -> np.ndarray:
    """f0, shape (n_comp, n_x, n_v)."""
    ini, grid = spec.initial, phase_grid(spec)
    init = bgk.initial
    if ini.kind == "sod":
        return init.sod(grid, ini.x0)
    if ini.kind == "riemann":
        return init.riemann(grid, tuple(ini.left), tuple(ini.right), ini.x0)
    if ini.kind == "wave":
        return init.wave(grid, ini.rho, ini.u, ini.T, ini.rho0, ini.u0, ini.T0)
    if ini.kind == "free_stream_sine":
        return init.free_stream_sine(grid, ini.amplitude, ini.T0, ini.average)
    if ini.kind == "two_maxwellian":
        rho, u, T, _, _ = _profiles(spec)
        return init.two_maxwellian(grid, rho, u, T, ini.theta, ini.r)
    kw = dict(n_modes=ini.n_modes, amp_rho=ini.amp_rho, amp_u=ini.amp_u, amp_T=ini.amp_T, floor=ini.floor)
    if ini.kind == "random_wave":
        return init.random_wave(rng, grid, **kw)
    return init.random_mix(rng, grid, **kw)


def save_times(spec: BGKSpec) -> np.ndarray:
    t_final = spec.time.t_final
    every = spec.time.save_every or t_final / 10.0
    n = int(math.floor(t_final / every * (1.0 + 1e-12)))
    t = every * np.arange(n + 1)
    t = t[t < t_final * (1.0 - 1e-12)]
    return np.append(t, t_final)


# ---------------------------------------------------------------------------
# references and errors
# ---------------------------------------------------------------------------


def _reference(spec: BGKSpec, name: str, rho0, m0, E0, t: np.ndarray, dx: float):
    """rho, u, T of a reference over (t, x)."""
    dim, g, col = spec.velocity.dim, spec.grid, spec.collision
    if name == "euler" and spec.initial.kind in RIEMANN_KINDS and g.boundary == "outflow":
        left, right = _riemann_states(spec)
        x, x0 = _cell_centers(spec), _jump(spec)
        gam = bgk.maxwellian.gamma(dim)
        rho, u, T = (np.empty((t.size, x.size)) for _ in range(3))
        for k, tk in enumerate(t):
            if tk > 0:
                r, uu, p = bgk.riemann.sample(left, right, gam, (x - x0) / tk)
            else:
                r, uu, p = (np.where(x < x0, a, b) for a, b in zip(left, right))
            rho[k], u[k], T[k] = r, uu, p / r
        return rho, u, T
    kn = col.kn if name == "navier_stokes" else 0.0
    rho, m, E = bgk.continuum.solve_continuum(rho0, m0, E0, dx, t, dim=dim, kn=kn, model=name,
                                              boundary=g.boundary, frequency=col.frequency, omega=col.omega)
    u, T, _ = bgk.maxwellian.primitives(rho, m, E, dim)
    return rho, u, T


def _rel(a: np.ndarray, b: np.ndarray, order: int) -> float:
    """||a - b|| / ||b||, or ||a - b|| when the reference vanishes (e.g. m of a gas at rest)."""
    den = np.linalg.norm(b.ravel(), order)
    diff = np.linalg.norm((a - b).ravel(), order)
    scale = np.linalg.norm(np.ones(b.size), order)
    return float(diff / den) if den > 1e-10 * scale else float(diff)


def _march(spec: BGKSpec, grid: bgk.PhaseGrid, f0: np.ndarray, t: np.ndarray, ctx: RunContext) -> bgk.Solution:
    """Advance ``f0`` (``(n_comp, n_x, n_v)``) through the save times ``t``, one output interval per solver call.

    Each interval reports progress and offers a checkpoint (``f`` and the outputs so far; the step
    count is the number of kinetic time steps taken), and a restarted run resumes at the interval
    after its checkpoint. The intervals take the same steps as one call over all of ``t``, so the
    result does not depend on where a run was interrupted. Raises RunFailed at the first interval
    whose moments are non-finite or non-positive.
    """
    sch, col = spec.scheme, spec.collision
    nt, nx = t.size, grid.n_x
    gaps = np.diff(np.concatenate([[0.0], t]))
    state = ctx.restore()
    if state is None:
        state = {"f": np.array(f0[None], dtype=np.float64, order="C"), "done": 0, "steps": 0,
                 **{k: np.full((nt, nx), np.nan) for k in ("rho", "m", "E", "q")}, "H": np.full(nt, np.nan),
                 "dt": np.zeros(nt), "f_saved": np.zeros((nt if spec.output.distribution else 0,) + grid.shape)}
    f = state["f"]
    for k in range(int(state["done"]), nt):
        sol = bgk.solve(f, grid, col.kn, [gaps[k]], transport=sch.transport, limiter=sch.limiter,
                        relaxation=sch.relaxation, cfl=sch.cfl, frequency=col.frequency, omega=col.omega,
                        overwrite=True)
        for name in ("rho", "m", "E", "q"):
            state[name][k] = getattr(sol, name)[0, 0]
        state["H"][k], state["dt"][k] = sol.H[0, 0], sol.dt[0]
        _check_finite(state, k, t, grid)
        if spec.output.distribution:
            state["f_saved"][k] = f[0]
        state["done"], state["steps"] = k + 1, int(state["steps"]) + sol.n_steps
        ctx.progress(k + 1, nt)
        ctx.checkpoint(state, int(state["steps"]))
    return bgk.Solution(grid=grid, t=t, rho=state["rho"][None], m=state["m"][None], E=state["E"][None],
                        q=state["q"][None], H=state["H"][None], dt=state["dt"], n_steps=int(state["steps"]),
                        f=state["f_saved"][None] if spec.output.distribution else None)


def _check_finite(state: dict, k: int, t: np.ndarray, grid: bgk.PhaseGrid) -> None:
    rho, m, E = state["rho"][k], state["m"][k], state["E"][k]
    ok = np.isfinite(rho) & np.isfinite(m) & np.isfinite(E) & np.isfinite(state["H"][k]) & (rho > 0)
    ok[ok] &= bgk.maxwellian.primitives(rho[ok], m[ok], E[ok], grid.dim)[1] > 0
    if not ok.all():
        i = int(np.argmin(ok))
        raise RunFailed(f"blow-up: non-finite or non-positive rho/T at t = {t[k]:.4g}, cell {i} "
                        f"(x = {grid.x[i]:.4g}); lower scheme.cfl or refine the velocity grid")


class BGK(Problem):
    """The kinetic BGK equation, with Euler and Navier-Stokes references on the same grid."""

    kind = "bgk"
    version = "1"
    summary = "kinetic BGK flow in 1-D (1D1V / reduced 1D3V), Euler to free molecular, with continuum references"
    Spec = BGKSpec
    template_sweep = ("collision.kn", [0.001, 0.1, 10.0])
    smoke_overrides = ("grid.n_x=40", "time.t_final=0.02")

    def warmup(self) -> None:
        bgk.warmup()

    def run(self, spec: BGKSpec, ctx: RunContext) -> xr.Dataset:
        grid = phase_grid(spec)
        try:
            f0 = initial_distribution(spec, ctx.rng("initial"))
        except ValueError as exc:
            raise RunFailed(f"initial data: {exc}") from None
        t = save_times(spec)
        sol = _march(spec, grid, f0, t, ctx)
        rho, m, E, q = sol.rho[0], sol.m[0], sol.E[0], sol.q[0]
        u, T, p = sol.u[0], sol.T[0], sol.p[0]
        tx = ("t", "x")
        data = {
            "rho": variable(rho, "density", tx), "u": variable(u, "bulk velocity", tx), "T": variable(T, "temperature", tx),
            "p": variable(p, "pressure rho T", tx), "m": variable(m, "momentum density rho u", tx),
            "E": variable(E, "total energy density", tx), "q": variable(q, "heat flux 1/2 int (v-u)^3 f", tx),
            "mass": variable(sol.mass[0], "total mass", ("t",)),
            "momentum": variable(sol.momentum[0], "total momentum", ("t",)),
            "energy": variable(sol.energy[0], "total energy", ("t",)),
            "H": variable(sol.H[0], "entropy int int f ln f", ("t",)),
        }
        riemann = spec.initial.kind in RIEMANN_KINDS
        for name in spec.references:
            sfx, label = REF_SUFFIX[name], name.replace("_", "-").title()
            try:
                r_rho, r_u, r_T = _reference(spec, name, rho[0], m[0], E[0], t, grid.dx)
            except ValueError as exc:
                raise RunFailed(f"{name} reference: {exc}") from None
            data[f"rho_{sfx}"] = variable(r_rho, f"density, {label} reference", tx)
            data[f"u_{sfx}"] = variable(r_u, f"velocity, {label} reference", tx)
            data[f"T_{sfx}"] = variable(r_T, f"temperature, {label} reference", tx)
            ref = {"rho": r_rho[-1], "m": r_rho[-1] * r_u[-1], "T": r_T[-1]}
            kin = {"rho": rho[-1], "m": m[-1], "T": T[-1]}
            for qn in ("rho", "m", "T"):
                data[f"l2_{qn}_{sfx}"] = variable(_rel(kin[qn], ref[qn], 2),
                                              f"relative L2 difference of {qn} vs {label} at t_final")
                if riemann:
                    data[f"l1_{qn}_{sfx}"] = variable(_rel(kin[qn], ref[qn], 1),
                                                  f"relative L1 difference of {qn} vs {label} at t_final")
        coords = {"t": ("t", t, {"units": "1", "long_name": "time"}),
                  "x": ("x", grid.x, {"units": "1", "long_name": "cell center"})}
        if spec.output.distribution:
            coords["v"] = ("v", grid.v, {"units": "1", "long_name": "velocity (x component)"})
            f = sol.f[0]
            names = ("f",) if grid.dim == 1 else ("f", "f_b")
            longs = ("distribution f", "reduced distribution h") if grid.dim == 1 else \
                ("reduced distribution h", "reduced distribution b")
            for c, nm in enumerate(names):
                data[nm] = variable(f[:, c], longs[0] if grid.dim == 1 else longs[c], ("t", "x", "v"))
        return xr.Dataset(data, coords=coords)

    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return plot(result, outdir)


# ---------------------------------------------------------------------------
# report and figures
# ---------------------------------------------------------------------------

KN = "collision.kn"


def report(result: xr.Dataset) -> str:
    """Final-time relative differences to each reference, one line per sweep point."""
    names = sorted(n for n in result.data_vars if n.startswith(("l2_", "l1_")))
    if not names:
        return "no references computed"
    lines = ["relative differences at t_final (kinetic vs reference):", "  point: " + ", ".join(names)]
    for sel, label in sweep_points(result, result[names[0]], set()):
        vals = ", ".join(f"{float(result[n].isel(sel)):.3g}" for n in names)
        lines.append(f"  {label}: {vals}")
    if "mass" in result:
        mass = result["mass"]
        drift = float(np.nanmax(np.abs(mass - mass.isel(t=0)) / np.abs(mass.isel(t=0))))
        lines.append(f"largest relative mass drift: {drift:.2g}")
    return "\n".join(lines)


def plot(result: xr.Dataset, outdir: Path) -> list[Path]:
    """profiles.png: rho, u, T at the final time vs the references, one row per collision.kn."""
    import matplotlib.pyplot as plt

    kns = list(result[KN].values) if KN in result.dims else [None]
    fig, axes = plt.subplots(len(kns), 3, figsize=(12, 2.8 * len(kns)), squeeze=False, sharex=True)
    refs = [s for s in ("euler", "ns") if f"rho_{s}" in result]
    styles = {"euler": ("k--", "Euler"), "ns": ("r:", "Navier-Stokes")}
    for row, kn in zip(axes, kns):
        sub = result if kn is None else result.sel({KN: kn})
        sub = sub.isel(t=-1)
        for ax, qn, lab in zip(row, ("rho", "u", "T"), ("density", "velocity", "temperature")):
            for sel, label in sweep_points(result, sub[qn], {"x"}):
                ax.plot(sub["x"], sub[qn].isel(sel), "-", lw=1.2, label=f"kinetic {label}")
                for s in refs:
                    style, name = styles[s]
                    ax.plot(sub["x"], sub[f"{qn}_{s}"].isel(sel), style, lw=1, label=name)
            ax.set_ylabel(lab)
            ax.set_title(f"{lab}" + (f", Kn = {kn:g}" if kn is not None else ""), fontsize=9)
            ax.grid(True, alpha=0.3)
        row[0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    t_end = float(result["t"].values[-1])
    fig.suptitle(f"{result.attrs.get('title', 'bgk')}: profiles at t = {t_end:g}")
    fig.tight_layout()
    path = outdir / "profiles.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
