"""Spec of kind ``deraining``: the photos and crops, the rain renderer, the network, the loss arm and its
weights, the training, the classical baselines, the cost table and the torch device; the checks that tie
them together name the field to change.

Light: imports pydantic, :mod:`engine.spec` and the photo catalogue (:mod:`.photos`) only (no torch,
numba, scikit-image)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, TorchBackend, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory
from .photos import TEST_PHOTOS, TRAIN_PHOTOS, Photo, smallest_side

#: The loss arms of the ablation: L1 alone, L1 with one prior, L1 with all three.
ARMS = ("l1", "low_value", "quasi_sparsity", "auxiliary", "all")
NETWORK_SCALE = 4  # the network halves the image twice: training crops are multiples of 4


class Data(Section):
    """Photos and crops: training patches from the training photos, held-out crops from the test photos."""

    train_photos: list[Photo] = Field(list(TRAIN_PHOTOS), min_length=1,
                                      description="scikit-image photos the training patches are cut from.")
    test_photos: list[Photo] = Field(list(TEST_PHOTOS), min_length=1,
                                     description="scikit-image photos the held-out crops are cut from (none of "
                                     "them a training photo).")
    crop: int = quantity(48, units="1", description="Side of a square training patch, pixels (a multiple of 4).", ge=4)
    train_count: int = quantity(2048, units="1", description="Training patches (each with fresh rain), drawn "
                                "from the run's seed.", ge=1, le=10**6)
    test_crop: int = quantity(128, units="1", description="Side of a square held-out crop, pixels.", ge=8)
    test_count: int = quantity(12, units="1", description="Held-out crops scored by PSNR and SSIM.", ge=1,
                               le=10**5)
    test_seed: int = quantity(1, units="1", description="Seed of the held-out crops and their rain: the same "
                              "for every seed and loss arm, so all are scored on the same images.", ge=0)


class RainLayer(Section):
    """One layer of drops (solvers.rain.RainLayer)."""

    depth: float = quantity(2.0, units="m", description="Distance of the layer from the camera.", gt=0)
    density: float = quantity(0.01, units="1", description="Drops per pixel of the canvas.", ge=0, le=1)
    brightness: float = quantity(6.0, units="1", description="Radiance contrast of a drop times a gain "
                                 "(image intensity).", ge=0)


class Haze(Section):
    """Haze T = exp(-beta d), d linear in the row from depth_top to depth_bottom; O = T (B + R) + (1 - T) A."""

    beta: float = quantity(0.05, units="1/m", description="Extinction coefficient.", ge=0)
    depth_top: float = quantity(20.0, units="m", description="Scene depth of the first row.", ge=0)
    depth_bottom: float = quantity(5.0, units="m", description="Scene depth of the last row.", ge=0)
    airlight: float = quantity(0.8, units="1", description="Veiling light A (image intensity).", ge=0, le=1)


class Rain(Section):
    """The streak renderer (solvers.rain): layers of drops, wind, drop sizes, camera, optional haze."""

    layers: list[RainLayer] = Field(
        [{"depth": 1.5, "density": 0.004, "brightness": 6.0}, {"depth": 3.0, "density": 0.008, "brightness": 6.0},
         {"depth": 6.0, "density": 0.015, "brightness": 6.0}], description="Layers of drops, nearest first.")
    wind: list[float] = Field([-2.0, 2.0], min_length=2, max_length=2,
                              description="(min, max) wind speed along +x [m/s], one draw per image.")
    gust: float = quantity(0.3, units="m/s", description="Standard deviation of each drop's own wind.", ge=0)
    diameter: list[float] = Field([0.5, 4.0], min_length=2, max_length=2,
                                  description="(min, max) drop diameter [mm], within [0.2, 6].")
    diameter_scale: float = quantity(1.0, units="mm", description="Mean of the Marshall-Palmer diameter "
                                     "distribution.", gt=0)
    focal: float = quantity(800.0, units="1", description="Focal length, pixels.", gt=0)
    exposure: float = quantity(0.004, units="s", description="Exposure time.", gt=0)
    min_sigma: float = quantity(0.5, units="1", description="Smallest streak blur, pixels (optics, pixel).", gt=0)
    haze: Haze | None = Field(None, description="Haze and veiling light (null: none).")
    clip: bool = Field(True, description="Clip B + R to [0, 1] by reducing R (O = B + R still holds).")


class Network(Section):
    """The encoder-decoder predicting the rain layer (learners.derain_net.DerainNet)."""

    width: int = quantity(16, units="1", description="Channels at full scale (2x and 4x at 1/2 and 1/4).", ge=1)
    blocks: int = quantity(1, units="1", description="Residual blocks per body.", ge=1, le=64)
    groups: int = quantity(4, units="1", description="Groups of the body convolutions (divides width).", ge=1)
    share_features: bool = Field(True, description="Channel shuffle between the grouped convolutions of a "
                                 "block (feature sharing across groups; no parameters).")


class Losses(Section):
    """The loss arm and the weights of its named terms (learners.derain_losses)."""

    arm: Literal["l1", "low_value", "quasi_sparsity", "auxiliary", "all"] = Field(
        "all", description="l1: the L1 similarity alone; low_value, quasi_sparsity, auxiliary: L1 plus that "
        "prior at its weight; all: L1 plus the three priors.")
    similarity: float = quantity(1.0, units="1", description="Weight of the L1 similarity mean |B^ - B|.", ge=0)
    low_value: float = quantity(0.05, units="1", description="Weight of the low-value prior mean |R^| (when "
                                "the arm has it).", ge=0)
    quasi_sparsity: float = quantity(0.02, units="1", description="Weight of the quasi-sparsity prior on the "
                                     "gradients of B^ and R^ (when the arm has it).", ge=0)
    auxiliary: float = quantity(0.5, units="1", description="Weight of the multi-scale auxiliary L1 at 1/2 "
                                "and 1/4 (when the arm has it).", ge=0)
    p: float = quantity(0.8, units="1", description="Exponent of the quasi-sparsity prior.", gt=0, le=1)
    epsilon: float = quantity(0.01, units="1", description="Smoothing of |g|^p at g = 0 (image intensity).",
                              gt=0)
    second_order: bool = Field(False, description="Add the second differences (xx, yy, xy) to the "
                               "quasi-sparsity prior.")
    warmup_l2_fraction: float = quantity(0.3, units="1", description="Fraction of the steps trained on "
                                         "mean (B^ - B)^2 alone, the same for every arm.", ge=0, lt=1)

    def weights(self) -> dict[str, float]:
        """Weight of each term in this arm: the similarity, and each prior's weight where the arm has it."""
        priors = ("low_value", "quasi_sparsity", "auxiliary")
        on = priors if self.arm == "all" else (self.arm,) if self.arm in priors else ()
        return {"similarity": self.similarity, **{p: getattr(self, p) if p in on else 0.0 for p in priors}}


class Training(Section):
    """Adam on minibatches of training patches, the step size decaying as a cosine to lr/100."""

    steps: int = quantity(750, units="1", description="Adam steps.", ge=1, le=10**7)
    batch: int = quantity(16, units="1", description="Patches per minibatch.", ge=1)
    lr: float = quantity(2e-3, units="1", description="Adam's initial step size.", gt=0)
    record_every: int = quantity(125, units="1", description="Record the losses every this many steps.", ge=1)


class Baselines(Section):
    """The classical baselines computed in the same run (solvers.derain_baselines)."""

    median_length: int = quantity(9, units="1", description="Length of the median segment across the "
                                  "streak direction, pixels (odd).", ge=1)
    l0_lambda: float = quantity(0.02, units="1", description="Weight lambda of the L0 gradient count "
                                "(intensity^2).", gt=0)
    l0_kappa: float = quantity(2.0, units="1", description="Growth factor of the splitting weight beta.", gt=1)
    l0_beta_max: float = quantity(1e5, units="1", description="Largest splitting weight beta.", gt=0)


class Cost(Section):
    """The network's deterministic cost table (parameters, multiply-adds per megapixel) over groups x
    feature sharing; the measured CPU time is in benchmarks/bench_deraining.py."""

    groups: list[int] = Field([1, 4], min_length=1, description="Group counts of the table (each divides "
                              "network.width).")


class Evaluation(Section):
    """What of the held-out images the result keeps for figures."""

    figure_crop: int = quantity(64, units="1", description="Side (pixels) of the crop of the first held-out image "
                                "kept in the result (rainy, derained, truth, rain layers).", ge=4)


class Backend(TorchBackend):
    """Torch device (default: the CPU)."""

    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Torch device; auto = cuda when "
                                                   "available.")


class DerainingSpec(ProblemSpec):
    """Spec of kind deraining."""

    kind: Literal["deraining"] = Field("deraining", description="Problem kind.")
    data: Data = Field(default_factory=Data, description="Photos and crops.")
    rain: Rain = Field(default_factory=Rain, description="The rain renderer.")
    network: Network = Field(default_factory=Network, description="The deraining network.")
    losses: Losses = Field(default_factory=Losses, description="Loss arm and weights.")
    training: Training = Field(default_factory=Training, description="Training.")
    baselines: Baselines = Field(default_factory=Baselines, description="Classical baselines.")
    cost: Cost = Field(default_factory=Cost, description="Cost table.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Kept crop.")
    backend: Backend = Field(default_factory=Backend, description="Torch device.")

    @model_validator(mode="after")
    def _consistent(self) -> "DerainingSpec":
        _check_data(self.data)
        _check_rain(self.rain)
        width = self.network.width
        if width % self.network.groups:
            raise FieldError("network.groups", f"{self.network.groups} groups do not divide network.width = "
                             f"{width}", f"a divisor of {width}")
        for g in self.cost.groups:
            if g < 1 or width % g:
                raise FieldError("cost.groups", f"{g} groups do not divide network.width = {width}",
                                 f"divisors of {width}")
        if self.baselines.median_length % 2 == 0:
            raise FieldError("baselines.median_length", f"{self.baselines.median_length} px has no centre pixel",
                             "an odd length")
        if self.baselines.l0_beta_max <= 2 * self.baselines.l0_lambda:
            raise FieldError("baselines.l0_beta_max", f"{self.baselines.l0_beta_max:g} leaves no iteration (beta "
                             f"starts at 2 l0_lambda = {2 * self.baselines.l0_lambda:g})",
                             f"l0_beta_max > {2 * self.baselines.l0_lambda:g}")
        if self.evaluation.figure_crop > self.data.test_crop:
            raise FieldError("evaluation.figure_crop", f"{self.evaluation.figure_crop} px is larger than the "
                             f"held-out crops ({self.data.test_crop} px)", f"figure_crop <= {self.data.test_crop}")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def _check_data(data: Data) -> None:
    """Crops within the smallest photo of their set, training crops a multiple of 4, disjoint photo sets."""
    for field, crop, photos in (("data.crop", data.crop, data.train_photos),
                                ("data.test_crop", data.test_crop, data.test_photos)):
        side = smallest_side(photos)
        if crop > side:
            small = min(photos, key=lambda name: smallest_side([name]))
            raise FieldError(field, f"a crop of {crop} px is larger than the smallest photo of its set "
                             f"({small}, {side} px on its short side)", f"crop <= {side}")
    if data.crop % NETWORK_SCALE:
        raise FieldError("data.crop", f"{data.crop} px is not a multiple of {NETWORK_SCALE} (the network halves "
                         "the image twice)", f"a multiple of {NETWORK_SCALE}")
    shared = sorted(set(data.train_photos) & set(data.test_photos))
    if shared:
        raise FieldError("data.test_photos", f"{shared} are training photos too: the held-out scenes must be "
                         "unseen", "test photos disjoint from data.train_photos")


def _check_rain(rain: Rain) -> None:
    """Ordered (min, max) pairs: wind, and diameters within [0.2, 6] mm (where the speed law holds)."""
    if rain.wind[0] > rain.wind[1]:
        raise FieldError("rain.wind", f"({rain.wind[0]:g}, {rain.wind[1]:g}) is not an ordered (min, max) pair",
                         "min <= max")
    low, high = rain.diameter
    if not 0.2 <= low <= high <= 6.0:
        raise FieldError("rain.diameter", f"({low:g}, {high:g}) mm is not an ordered (min, max) pair within the "
                         "range of the terminal-speed law", "0.2 <= min <= max <= 6 mm")
