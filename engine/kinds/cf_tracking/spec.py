"""Spec of kind ``cf_tracking``: the simulated sequences, the DCF tracker, the teacher and the students and their
training pairs, which trackers are evaluated, and the torch backend; the checks that tie them together name the
field to change.

Light: imports pydantic and :mod:`engine.spec` only (no torch, numpy, scikit-image)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, TorchBackend, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

HOG_CELL = 4  # px of the window per HOG cell
FEATURES = ("pixels", "hog", "teacher", "student_fidelity", "student_tracking", "student_both")
UPDATES = ("plain", "background")


class Sequences(Section):
    """Simulated sequences (solvers.tracking_sequences): a target patch of one scikit-image photo moving over
    another photo by a damped, bounced random walk; training and test sequences use disjoint photos."""

    train: int = quantity(24, units="1", description="Training sequences (photos astronaut ... hubble).", ge=1,
                          le=10_000)
    test: int = quantity(12, units="1", description="Held-out test sequences (photos brick ... text).", ge=1,
                         le=10_000)
    frames: int = quantity(60, units="1", description="Frames per sequence.", ge=2, le=100_000)
    size: int = quantity(96, units="px", description="Side of a (square) frame.", ge=8, le=4096)
    target: int = quantity(16, units="px", description="Side of the (square) target at scale 1.", ge=4)
    max_speed: float = quantity(3.0, units="px/frame", description="Bound on the target's speed.", ge=0)
    damping: float = quantity(0.9, units="1", description="Velocity memory per frame of the walk.", ge=0, le=1)
    speed_noise: float = quantity(1.0, units="px/frame", description="Standard deviation of the velocity kick "
                                  "per frame.", ge=0)
    distractor: bool = Field(True, description="A second patch of the target's photo moving by its own walk.")
    gain: float = quantity(0.3, units="1", description="Amplitude of the illumination gain 1 + gain sin(...).",
                           ge=0, lt=1)
    noise: float = quantity(0.02, units="1", description="Standard deviation of the sensor noise (intensity in "
                            "[0, 1]).", ge=0)
    scale: float = quantity(0.2, units="1", description="Amplitude of the relative scale change of the target's "
                            "side, target (1 + scale sin(...)).", ge=0, lt=1)
    rotation: float = quantity(0.02, units="rad/frame", description="In-plane rotation rate of the target's "
                               "texture.", ge=0)
    blur: float = quantity(0.5, units="frame", description="Motion-blur length per unit speed (length = blur "
                           "|v| px).", ge=0)
    occlusion: float = quantity(0.0, units="1", description="Fraction of the box's width covered during the "
                                "occluded run.", ge=0, le=1)
    occlusion_frames: int = quantity(0, units="1", description="Length of the occluded run [frames].", ge=0)
    out_of_view: int = quantity(0, units="1", description="Length of the run in which the target is not drawn "
                                "[frames] (left out of the metrics).", ge=0)


class Tracker(Section):
    """The multi-channel DCF tracker (solvers.dcf): closed-form filter, running averages, Hann window, sub-cell
    peak, scale search."""

    lam: float = quantity(1e-2, units="1", description="Regulariser lambda of the filter (features' energy per "
                          "cell).", gt=0)
    eta: float = quantity(0.02, units="1", description="Learning rate of the running averages of numerator and "
                          "denominator, in (0, 1].", gt=0, le=1)
    padding: float = quantity(3.0, units="1", description="Search window side / target side (>= 1: a window "
                              "smaller than the target cannot hold it).", ge=1)
    window: int = quantity(48, units="px", description="Side the search window is resampled to (multiple of "
                           f"the HOG cell {HOG_CELL} px and of the networks' cell).", ge=8, le=1024)
    sigma: float = quantity(0.1, units="1", description="Width of the Gaussian label / target side.", gt=0)
    scales: list[float] = Field([0.97, 1.0, 1.03], min_length=1, description="Scale factors searched per frame "
                                "(positive) [1].")
    scale_penalty: float = quantity(0.99, units="1", description="Factor on the peak of every scale other than 1.",
                                    gt=0, le=1)
    context: float = quantity(0.5, units="1", description="Weight of the four background windows in the "
                              "denominator of the background-aware online update.", gt=0)


class Evaluation(Section):
    """Which trackers run on the test sequences: every listed feature with every listed online update."""

    features: list[Literal[FEATURES]] = Field(
        list(FEATURES), min_length=1, description="pixels: raw pixels (cell 1 px); hog: scikit-image HOG (cell 4 "
        "px, 9 orientations); teacher: the wide network; student_fidelity, student_tracking, student_both: the thin "
        "network distilled with the fidelity loss only, the DCF tracking loss only, and both.")
    updates: list[Literal[UPDATES]] = Field(
        list(UPDATES), min_length=1, description="plain: running averages of the target window's filter terms; "
        "background: the background-aware update, four windows displaced by half a side add their energy to the "
        "denominator (weight tracker.context).")
    strip_frames: int = quantity(5, units="1", description="Frames of the first test sequence kept in the result, "
                                 "evenly spaced, with every tracker's boxes (the strip figure).", ge=1, le=64)


class Pairs(Section):
    """Training pairs (frame t, frame t + gap) of the training sequences, cropped like the tracker's window."""

    batch: int = quantity(16, units="1", description="Pairs per training step.", ge=1, le=4096)
    max_gap: int = quantity(3, units="1", description="The gap is drawn uniformly in 1 .. max_gap [frames].", ge=1)
    max_shift: float = quantity(8.0, units="px", description="Pairs with a larger displacement along an axis are "
                                "redrawn.", gt=0)


class Network(Section):
    """A feature network (3x3 convolutions, strides 2, 2, 1) and its Adam training (cosine decay to lr/100)."""

    widths: list[int] = Field([64, 96, 128], min_length=3, max_length=3, description="Channels of the three "
                              "layers [1].")
    strides: list[int] = Field([2, 2, 1], min_length=3, max_length=3, description="Strides of the three layers "
                               "(each 1 or 2); their product is the features' cell [px of the window]. Teacher and "
                               "students share them (the fidelity adapters are 1x1) [1].")
    steps: int = quantity(1200, units="1", description="Adam steps.", ge=1, le=10**6)
    lr: float = quantity(2e-3, units="1", description="Adam's initial step size.", gt=0)
    record_every: int = quantity(100, units="1", description="Record the training loss every this many steps.",
                                 ge=1)


class Students(Network):
    """The thin students, distilled by L = w_fid L_fid + w_trk L_trk (fidelity only: w_trk = 0; tracking only:
    w_fid = 0)."""

    widths: list[int] = Field([16, 24, 32], min_length=3, max_length=3, description="Channels of the three "
                              "layers [1].")
    lr: float = quantity(3e-3, units="1", description="Adam's initial step size.", gt=0)
    fidelity_weight: float = quantity(1.0, units="1", description="w_fid: weight of the fidelity loss (mean "
                                      "squared difference of adapted student and teacher features).", gt=0)
    tracking_weight: float = quantity(1.0, units="1", description="w_trk: weight of the DCF tracking loss.", gt=0)


class Backend(TorchBackend):
    """Torch device of the training (the trackers run on the CPU, one thread)."""

    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Training device; auto = cuda when "
                                                   "available.")


class CFTrackingSpec(ProblemSpec):
    """Spec of kind cf_tracking."""

    kind: Literal["cf_tracking"] = Field("cf_tracking", description="Problem kind.")
    sequences: Sequences = Field(default_factory=Sequences, description="Simulated sequences.")
    tracker: Tracker = Field(default_factory=Tracker, description="The DCF tracker.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Trackers evaluated.")
    pairs: Pairs = Field(default_factory=Pairs, description="Training pairs.")
    teacher: Network = Field(default_factory=Network, description="The wide teacher, trained on the DCF "
                             "tracking loss.")
    students: Students = Field(default_factory=Students, description="The thin students.")
    backend: Backend = Field(default_factory=Backend, description="Torch device.")

    @model_validator(mode="after")
    def _consistent(self) -> "CFTrackingSpec":
        s, t = self.sequences, self.tracker
        largest = math.ceil(s.target * (1.0 + s.scale))
        if largest >= s.size:
            raise FieldError("sequences.target", f"a target of {s.target} px (up to {largest} px with scale "
                             f"{s.scale:g}) does not fit in a frame of {s.size} px",
                             f"target (1 + scale) < size = {s.size}")
        for name in ("occlusion_frames", "out_of_view"):
            if getattr(s, name) >= s.frames:
                raise FieldError(f"sequences.{name}", f"{getattr(s, name)} frames of a {s.frames}-frame sequence",
                                 f"< frames = {s.frames}")
        for field, strides in (("teacher.strides", self.teacher.strides), ("students.strides", self.students.strides)):
            if not set(strides) <= {1, 2}:
                raise FieldError(field, f"strides {strides}", "each stride 1 or 2")
        if self.students.strides != self.teacher.strides:
            raise FieldError("students.strides", f"strides {self.students.strides} differ from the teacher's "
                             f"{self.teacher.strides}: the fidelity loss compares their layers cell by cell",
                             "the teacher's strides")
        step = math.lcm(HOG_CELL, self.cell)
        if t.window % step:
            raise FieldError("tracker.window", f"{t.window} px is not a multiple of the HOG cell {HOG_CELL} px "
                             f"and of the networks' cell {self.cell} px", f"a multiple of {step}")
        if min(t.scales) <= 0:
            raise FieldError("tracker.scales", f"scale factors {t.scales}", "positive factors")
        if t.padding * min(t.scales) < 1.0:
            raise FieldError("tracker.padding", f"a search window of {t.padding:g} x {min(t.scales):g} target sides "
                             "(the smallest scale) is smaller than the target", "padding x min(scales) >= 1")
        if self.pairs.max_shift >= t.padding * s.target / 2:
            raise FieldError("pairs.max_shift", f"{self.pairs.max_shift:g} px moves the target out of a training "
                             f"window of {t.padding * s.target:g} px", f"< padding x target / 2 = "
                             f"{t.padding * s.target / 2:g} px")
        if self.pairs.max_gap >= s.frames:
            raise FieldError("pairs.max_gap", f"a gap of {self.pairs.max_gap} frames in {s.frames}-frame sequences",
                             f"< frames = {s.frames}")
        for field, values in (("evaluation.features", self.evaluation.features),
                              ("evaluation.updates", self.evaluation.updates)):
            if len(set(values)) != len(values):
                raise FieldError(field, f"an entry is listed twice: {values}", "each entry once")
        if min(self.teacher.widths + self.students.widths) < 1:
            field = "teacher.widths" if min(self.teacher.widths) < 1 else "students.widths"
            raise FieldError(field, "a layer without channels", "widths >= 1")
        if "student_fidelity" in self.evaluation.features or "student_both" in self.evaluation.features:
            if "teacher" not in self.evaluation.features:
                raise FieldError("evaluation.features", "a student distilled with the fidelity loss needs the "
                                 "teacher, which is not evaluated", "teacher listed with student_fidelity or "
                                 "student_both")
        return self

    @property
    def cell(self) -> int:
        """The networks' feature cell [px of the window]: the product of their strides."""
        return math.prod(self.teacher.strides)

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)
