"""The spec of kind ``bgk_closure``: the kinetic solver's grids and scheme (kind bgk's sections, 1D1V and
periodic), training data, generalized moments, learner, active learning, reduced solver and evaluation.

Validation checks what the sections cannot on their own: the CFL bound of the kinetic scheme, Knudsen
numbers the kinetic grid resolves, a velocity grid that holds every family (one draw of each), and a
``learner.checkpoint`` model file that matches the moments and networks of the spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from engine.kinds.bgk.spec import Grid, Scheme, Velocity
from engine.spec.base import ProblemSpec, SavedTimes, Section, SpecPath, quantity
from engine.spec.errors import FieldError
from solvers import bgk
from solvers.bgk.errors import TOO_NARROW, VelocityGridError

from .families import FIXED_CASES, draw_initial
from .memory import peak_memory

KN_CELLS = 20.0  # the kinetic grid resolves a mean free path down to dx / KN_CELLS


class KineticGrid(Grid):
    """Kind bgk's grid in x, periodic (the random families are periodic)."""

    boundary: Literal["periodic"] = Field("periodic", description="periodic (Sod is evaluated on the same cells "
                                          "with outflow boundaries).")


class KineticVelocity(Velocity):
    """Kind bgk's velocity grid in 1D1V, wide enough for the default random families."""

    dim: Literal[1] = quantity(1, units="1", description="Velocity dimension: 1 (gamma = 3).")
    v_max: float = quantity(12.0, units="1", description="Velocity cut-off.", gt=0)
    n_v: int = quantity(100, units="1", description="Number of velocity cells.", ge=2, le=10**5)


class Kinetic(Section):
    """The kinetic solver's grids and scheme (sections of kind bgk); 1D1V, periodic."""

    grid: KineticGrid = Field(default_factory=KineticGrid, description="Grid in x.")
    velocity: KineticVelocity = Field(default_factory=KineticVelocity, description="Velocity grid.")
    scheme: Scheme = Field(default_factory=Scheme, description="Kinetic scheme.")


class Data(SavedTimes):
    """Training data from kinetic runs."""

    n_initial: int = quantity(100, units="1", description="Number of random initial data (kinetic runs).", ge=2)
    families: list[Literal["wave", "wave_1mode", "mix"]] = Field(
        ["wave", "mix"], description="Initial-data families, cycled (wave: three Fourier modes per field; "
        "wave_1mode: one).")
    kn: list[float] = Field([1e-3, 10.0], description="Knudsen range (low, high), sampled log-uniformly [1].")
    t_final: float = quantity(0.1, units="1", description="End of each kinetic run.", gt=0)
    save_every: float = quantity(0.005, units="1", description="Interval between snapshots.", gt=0)
    samples_per_run: int = quantity(1000, units="1", description="Points (t, x) sampled per run.", ge=1)
    max_shift: float = quantity(1.0, units="1", description="Largest Galilean shift of the augmentation.", ge=0)
    reflect: bool = Field(True, description="Augment with reflections v -> -v.")


class Moments(Section):
    """Generalized moments."""

    n_extra: int = quantity(4, units="1", description="Number M of learned moments besides rho, m, E.", ge=1, le=32)
    consistency: float = quantity(1.0, units="1", description="Weight of the moment-consistency loss.", ge=0)
    v_scale: float = quantity(1.0, units="1", description="Velocity unit of the weight functions' input v/v_scale "
                              "(about the thermal speed, so that w varies on the scale of f).", gt=0)


class Learner(Section):
    """Networks and training (torch)."""

    widths: list[int] = Field([32, 32], description="Hidden layer widths of every network.")
    activation: Literal["tanh", "softplus", "silu"] = Field("tanh", description="Hidden activation.")
    lr: float = quantity(3e-3, units="1", description="Initial Adam learning rate.", gt=0)
    lr_final: float = quantity(3e-5, units="1", description="Final learning rate (exponential decay).", gt=0)
    batch_size: int = quantity(512, units="1", description="Minibatch size.", ge=1)
    steps: int = quantity(4000, units="1", description="Training steps of each closure network.", ge=1)
    ae_steps: int | None = quantity(None, units="1", description="Autoencoder steps; default: steps.", ge=1)
    ensemble: int = quantity(2, units="1", description="Closure networks in the ensemble.", ge=1, le=16)
    validation_fraction: float = quantity(0.1, units="1", description="Share of runs held out for validation.",
                                          ge=0, lt=1)
    record_every: int = quantity(100, units="1", description="Steps between recorded losses.", ge=1)
    dtype: Literal["float32", "float64"] = Field("float32", description="Training precision.")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Torch device; auto = cuda when available.")
    checkpoint: SpecPath | None = Field(None, description="Model file (runs/<id>.model.pt) to use instead of training; "
                                   "a relative path is read from the spec file's folder.")


class ActiveLearning(Section):
    """Ensemble-disagreement sampling."""

    rounds: int = quantity(1, units="1", description="Rounds (0: none); stops early when nothing is flagged.", ge=0)
    candidates: int = quantity(20, units="1", description="Random initial data tried per round.", ge=1)
    threshold: float = quantity(0.02, units="1", description="Flag when the ensemble's relative spread of rho, u, "
                                "T at t_final exceeds this.", gt=0)
    max_new: int | None = quantity(None, units="1", description="Most flagged runs added per round (largest "
                                   "spread first); default: all.", ge=1)
    steps: int | None = quantity(None, units="1", description="Retraining steps per round; default: learner.steps.",
                                 ge=1)


class Reduced(Section):
    """The reduced moment solver."""

    c_max: float = quantity(3.5, units="1", description="Wave speed bound a = |u| + c_max sqrt(T).", gt=0)
    cfl: float = quantity(0.4, units="1", description="a dt / dx (<= 0.5).", gt=0, le=0.5)


class Evaluation(Section):
    """Held-out comparison against the kinetic solution."""

    n_initial: int = quantity(5, units="1", description="Random initial data per family (sod, sine: one case).",
                              ge=1)
    families: list[Literal["wave", "wave_1mode", "mix", "sod", "sine"]] = Field(
        ["wave", "mix", "sod"], description="Families: random wave (three Fourier modes per field), wave_1mode "
        "(one) and mix, Sod's tube, the single equilibrium sine wave of research/bgk.md §5.")
    kn: list[float] = Field([1e-3, 1e-2, 1e-1, 1.0, 10.0], description="Knudsen numbers [1].")
    refine: int = quantity(1, units="1", description="The kinetic truth is solved on refine x n_x cells and averaged "
                           "to the models' cells (the models start from the cell averages of the fine initial data); "
                           "1: the same grid as the models.", ge=1, le=16)


class BGKClosureSpec(ProblemSpec):
    """Spec of kind bgk_closure."""

    kind: Literal["bgk_closure"] = Field("bgk_closure", description="Problem kind.")
    kinetic: Kinetic = Field(default_factory=Kinetic, description="Kinetic solver (data and reference).")
    data: Data = Field(default_factory=Data, description="Training data.")
    moments: Moments = Field(default_factory=Moments, description="Generalized moments.")
    learner: Learner = Field(default_factory=Learner, description="Networks and training.")
    active_learning: ActiveLearning = Field(default_factory=ActiveLearning, description="Active learning.")
    reduced: Reduced = Field(default_factory=Reduced, description="Reduced solver.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Evaluation.")

    @model_validator(mode="after")
    def _consistent(self) -> "BGKClosureSpec":
        kin = self.kinetic
        bound = bgk.cfl_limit(kin.scheme.transport)
        if kin.scheme.cfl > bound:
            raise FieldError("kinetic.scheme.cfl", f"cfl = {kin.scheme.cfl!r} is above the stability bound {bound:g}",
                             f"cfl <= {bound:g}")
        check_pipeline(self, _check_grid_holds_families, model_meta)
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def check_pipeline(spec, check_families, meta) -> None:
    """The checks of a learned-closure spec beyond its kinetic scheme: an ordered x interval, the lists, the Knudsen
    numbers, the learning-rate decay, the families (``check_families(spec)``) and the model file (``meta(spec)``)."""
    g = spec.kinetic.grid
    if not g.x_max > g.x_min:
        raise FieldError("kinetic.grid.x_max", "x_max is not above x_min", f"x_max > {g.x_min!r}")
    check_lists(spec)
    check_kn(spec)
    if spec.learner.lr_final > spec.learner.lr:
        raise FieldError("learner.lr_final", "the learning rate decays: lr_final above lr", f"<= {spec.learner.lr}")
    check_families(spec)
    if spec.learner.checkpoint is not None:
        check_model_file(spec, meta(spec))


def check_lists(spec) -> None:
    """Raise FieldError for an empty or repeated family or Kn list, or a hidden layer narrower than 1."""
    for path, values in (("data.families", spec.data.families), ("evaluation.families", spec.evaluation.families),
                         ("evaluation.kn", spec.evaluation.kn), ("learner.widths", spec.learner.widths)):
        if not values:
            raise FieldError(path, "the list is empty", "at least one entry")
        if path != "learner.widths" and len(set(values)) != len(values):
            raise FieldError(path, f"repeated entries in {values}", "each entry once")
    if any(w < 1 for w in spec.learner.widths):
        raise FieldError("learner.widths", f"widths {spec.learner.widths} have a layer below 1", "widths >= 1")


def _kn_floor(spec) -> float:
    g = spec.kinetic.grid
    return (g.x_max - g.x_min) / g.n_x / KN_CELLS


def check_kn(spec) -> None:
    """Raise FieldError for a data Kn range that is not (low, high) or a Kn the kinetic grid does not resolve."""
    lo_ok = _kn_floor(spec)
    expect = f"{lo_ok:.3g} <= Kn < inf (the kinetic grid resolves mean free paths down to dx/{KN_CELLS:g})"
    kn = spec.data.kn
    if len(kn) != 2:
        raise FieldError("data.kn", f"a range is (low, high), got {kn!r}", "2 numbers")
    if not kn[0] <= kn[1]:
        raise FieldError("data.kn", f"the range {kn!r} is not an ordered finite range", "low <= high < inf")
    for path, values in (("data.kn", kn), ("evaluation.kn", spec.evaluation.kn)):
        for value in values:
            if not value >= lo_ok:
                raise FieldError(path, f"Kn = {value!r} is outside the kinetic grid's validity", expect)


#: Most values n_x n_v of the distributions the family check draws: validation stays small whatever the grid.
CHECK_VALUES = 2 ** 22


def _check_grid_holds_families(spec: BGKClosureSpec) -> None:
    """Draw each family on the velocity grid (on at most :data:`CHECK_VALUES` // n_v cells in x, at least 16:
    the velocity grid must hold the family's profiles, whose extremes a coarser x grid samples closely)."""
    g, v = spec.kinetic.grid, spec.kinetic.velocity
    cells = min(g.n_x, max(16, CHECK_VALUES // v.n_v))
    grid = bgk.PhaseGrid(g.x_min, g.x_max, cells, v.v_max, v.n_v, dim=1, boundary="periodic")
    rng = np.random.default_rng(spec.seed)
    for fam in sorted(set(spec.data.families) | set(spec.evaluation.families)):
        try:
            FIXED_CASES[fam][1](grid) if fam in FIXED_CASES else draw_initial(rng, grid, fam)
        except ValueError as exc:
            why = exc.__cause__ or exc  # a random family's last failed draw
            narrow = isinstance(why, VelocityGridError) and why.problem == TOO_NARROW
            field = "kinetic.velocity.v_max" if narrow else "kinetic.velocity.n_v"
            raise FieldError(field, f"the velocity grid cannot hold family '{fam}': {exc}",
                             "v_max >= 12 and n_v >= 2 v_max / 0.3 for the default families") from None


def learner_meta(spec) -> dict:
    """The networks' part of a model file's meta (moments and learner sections; kinds with these sections)."""
    lr = spec.learner
    return {"n_extra": spec.moments.n_extra, "widths": list(lr.widths), "activation": lr.activation,
            "ensemble": lr.ensemble, "v_scale": spec.moments.v_scale}


def model_meta(spec: BGKClosureSpec) -> dict:
    """What a model file must hold for this spec (see :func:`learners.bgk_closure.model_mismatch`)."""
    return {**learner_meta(spec), "n_v": spec.kinetic.velocity.n_v}


def check_model_file(spec, meta: dict) -> None:
    """Raise FieldError unless ``learner.checkpoint`` is a model file with the networks that ``meta`` describes."""
    path = Path(spec.learner.checkpoint)
    if not path.is_file():
        raise FieldError("learner.checkpoint", f"the model file {str(path)!r} does not exist",
                         f"a model file written by a {spec.kind} run (runs/<run_id>.model.pt)")
    from learners.bgk_closure import model_mismatch

    why = model_mismatch(path, meta)
    if why is not None:
        raise FieldError("learner.checkpoint", f"the model file {str(path)!r} does not match the spec: {why}",
                         "a model trained with the same moments and learner networks")


def phase_grid(spec: BGKClosureSpec, boundary: str = "periodic", refine: int = 1) -> bgk.PhaseGrid:
    """The kinetic phase grid of the spec, with ``refine`` times as many x cells."""
    g, v = spec.kinetic.grid, spec.kinetic.velocity
    return bgk.PhaseGrid(g.x_min, g.x_max, g.n_x * refine, v.v_max, v.n_v, dim=1, boundary=boundary)
