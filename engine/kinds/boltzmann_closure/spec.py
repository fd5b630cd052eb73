"""The spec of kind ``boltzmann_closure``: the 1D3V kinetic solver of kind ``boltzmann`` (its grid in x, 3-D
velocity grid and collision operator; periodic), and the sections of kind ``bgk_closure`` for the training data,
the generalized moments, the learner, active learning, the reduced solver and the evaluation, with the families
and defaults of the 3-D velocity grid.

Validation checks what the sections cannot on their own: the CFL bound of MUSCL, an even N and a Lebedev degree,
Knudsen numbers the kinetic grid resolves, a velocity box that holds every family (one draw of each, checked as
the kinetic solver checks its initial data), and a ``learner.checkpoint`` model file that matches the spec.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, quantity
from engine.spec.errors import FieldError
from solvers.bgk.errors import TOO_NARROW, VelocityGridError

from ..bgk_closure import spec as closure_spec
from ..boltzmann import spec as boltzmann_spec
from .families import draw_profiles, phase_grid
from .memory import peak_memory


class KineticGrid(boltzmann_spec.Grid):
    """Kind boltzmann's grid in x, periodic (the random families are periodic)."""

    n_x: int = quantity(32, units="1", description="Number of cells; a kinetic cell-step costs N³ log N.",
                        ge=2, le=10**6)
    boundary: Literal["periodic"] = Field("periodic", description="periodic.")


class KineticVelocity(boltzmann_spec.Velocity):
    """Kind boltzmann's velocity grid and collision quadratures, wide enough for the default families."""

    n: int = quantity(20, units="1", description="N, velocity cells per axis (even); cost grows as N³ log N.",
                      ge=8, le=64)
    L: float = quantity(8.0, units="1", description="Half-width of the velocity box [-L, L]³ (in units of the "
                        "reference thermal speed).", gt=0)


class KineticCollision(Section):
    """The collision operator of the data and the truth (the Knudsen numbers are those of data and evaluation)."""

    operator: Literal["maxwell", "bgk"] = Field(
        "maxwell", description="maxwell: Boltzmann operator of (pseudo-)Maxwell molecules, Pr = 2/3; bgk: "
        "rho (M[f] - f) on the same 3-D grid, Pr = 1.")


class Kinetic(Section):
    """The kinetic solver of kind boltzmann (1D3V), periodic."""

    grid: KineticGrid = Field(default_factory=KineticGrid, description="Grid in x.")
    velocity: KineticVelocity = Field(default_factory=KineticVelocity, description="Velocity grid and quadratures.")
    collision: KineticCollision = Field(default_factory=KineticCollision, description="Collision operator.")
    scheme: boltzmann_spec.Scheme = Field(default_factory=boltzmann_spec.Scheme, description="Numerical scheme.")


class Data(closure_spec.Data):
    """Training data from kinetic runs (local Maxwellians of random waves; no Galilean shifts: the spectral
    operator's production does not shift with the distribution on the grid)."""

    n_initial: int = quantity(16, units="1", description="Number of random initial data (kinetic runs).", ge=2)
    families: list[Literal["wave", "wave_1mode"]] = Field(
        ["wave", "wave_1mode"], description="Initial-data families, cycled: local Maxwellians of random waves "
        "with three Fourier modes per field (wave) or one (wave_1mode).")
    amplitude: float = quantity(1.0, units="1", description="Scale of the random waves' amplitudes (1: rho and T "
                                "0.2, u 0.3 per mode).", gt=0, le=2)
    kn: list[float] = Field([3e-3, 10.0], description="Knudsen range (low, high), sampled log-uniformly [1].")
    t_final: float = quantity(0.1, units="1", description="End of each kinetic run.", gt=0)
    save_every: float = quantity(0.01, units="1", description="Interval between snapshots.", gt=0)
    samples_per_run: int = quantity(400, units="1", description="Points (t, x) sampled per run.", ge=1)
    max_shift: float = quantity(0.0, units="1", description="Galilean shifts: none in 1D3V.", ge=0, le=0)


class Evaluation(closure_spec.Evaluation):
    """Held-out comparison against the kinetic solution, on the kinetic grid."""

    n_initial: int = quantity(3, units="1", description="Random initial data per family.", ge=1)
    families: list[Literal["wave", "wave_1mode"]] = Field(
        ["wave"], description="Families: random waves of three Fourier modes per field (wave) or one (wave_1mode).")
    kn: list[float] = Field([1e-2, 1e-1, 1.0, 10.0], description="Knudsen numbers [1].")
    refine: int = quantity(1, units="1", description="The truth is the kinetic solution on the models' grid.",
                           ge=1, le=1)


class BoltzmannClosureSpec(ProblemSpec):
    """Spec of kind boltzmann_closure."""

    kind: Literal["boltzmann_closure"] = Field("boltzmann_closure", description="Problem kind.")
    kinetic: Kinetic = Field(default_factory=Kinetic, description="Kinetic solver (data and reference).")
    data: Data = Field(default_factory=Data, description="Training data.")
    moments: closure_spec.Moments = Field(default_factory=closure_spec.Moments, description="Generalized moments.")
    learner: closure_spec.Learner = Field(default_factory=closure_spec.Learner, description="Networks and training.")
    active_learning: closure_spec.ActiveLearning = Field(default_factory=closure_spec.ActiveLearning,
                                                         description="Active learning.")
    reduced: closure_spec.Reduced = Field(default_factory=closure_spec.Reduced, description="Reduced solver.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Evaluation.")

    @model_validator(mode="after")
    def _consistent(self) -> "BoltzmannClosureSpec":
        boltzmann_spec.check_velocity_and_scheme(self.kinetic.velocity, self.kinetic.scheme, "kinetic.")
        closure_spec.check_pipeline(self, _check_box_holds_families, model_meta)
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def _check_box_holds_families(spec: BoltzmannClosureSpec) -> None:
    """Draw each family as the kinetic runs do (:func:`.families.draw_profiles`): the velocity box must hold it."""
    rng = np.random.default_rng(spec.seed)
    grid = phase_grid(spec)
    for fam in sorted(set(spec.data.families) | set(spec.evaluation.families)):
        try:
            draw_profiles(rng, grid, fam, spec.data.amplitude)
        except ValueError as exc:
            why = exc.__cause__ or exc
            narrow = isinstance(why, VelocityGridError) and why.problem == TOO_NARROW
            field = "kinetic.velocity.L" if narrow else "kinetic.velocity.n"
            raise FieldError(field, f"the velocity box cannot hold family '{fam}': {exc}",
                             "L >= 8 and L/n <= 0.4 for the default families (or a smaller data.amplitude)") from None


def model_meta(spec: BoltzmannClosureSpec) -> dict:
    """What a model file must hold for this spec (see :func:`learners.bgk_closure.model_mismatch`)."""
    return {**closure_spec.learner_meta(spec), "n_v": spec.kinetic.velocity.n, "dim": 3}
