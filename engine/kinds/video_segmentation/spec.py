"""Spec of kind ``video_segmentation``: the generated videos, the training and held-out sets, the network,
the models trained and their training, the evaluation (reference frames N, mask threshold, boundary
tolerance) and the torch device; the checks that tie them together name the field to change.

Light: imports pydantic and :mod:`engine.spec` only (no torch, numpy)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.spec.base import ProblemSpec, Section, TorchBackend, quantity
from engine.spec.errors import FieldError

from .memory import peak_memory

#: Output stride of the encoder (learners.coattention.Encoder.stride; a test keeps them equal).
ENCODER_STRIDE = 4
#: Smallest frame the video simulation places its objects in (solvers.video_objects.VideoConfig).
SIMULATION_MIN_SIZE = 16
#: The co-attention variants, then the two controls (both on the network of ``model.control_variant``).
VARIANTS = ("vanilla", "symmetric", "channel")
CONTROLS = ("self_reference", "single_frame")
ModelName = Literal["vanilla", "symmetric", "channel", "self_reference", "single_frame"]


class Video(Section):
    """The video simulation (solvers.video_objects): a textured primary object in every frame, distractors of
    the same distribution that live ``persistence`` frames, a panning camera, optional occlusion."""

    size: int = quantity(32, units="pixel", description="Frame height = width.", ge=1, le=1024)
    frames: int = quantity(6, units="1", description="Frames per video T.", ge=2, le=1000)
    distractors: int = quantity(1, units="1", description="Distractor slots (objects of the primary object's "
                                "distribution that live a few frames); 0: the primary object alone.", ge=0, le=32)
    persistence: int = quantity(1, units="frame", description="Frames a distractor lives, 1 ... frames - 1.", ge=1)
    texture_similarity: float = quantity(0.0, units="1", description="0: distractor textures drawn like the "
                                         "primary object's; 1: the primary object's texture copied onto them.",
                                         ge=0, le=1)
    occlusion: float = quantity(0.0, units="1", description="Probability that a frame's primary object is partly "
                                "hidden by an occluding bar.", ge=0, le=1)
    speed: float = quantity(1.5, units="pixel/frame", description="Speed of every object (bouncing off the "
                            "edges).", ge=0)
    pan_speed: float = quantity(0.5, units="pixel/frame", description="Camera pan of the background.", ge=0)
    noise: float = quantity(0.0, units="1", description="Standard deviation of Gaussian pixel noise (intensities "
                            "in [0, 1]).", ge=0, le=1)
    radius: list[float] = Field([0.11, 0.17], min_length=2, max_length=2,
                                description="(low, high) of an object's larger semi-axis, fractions of size "
                                "[1]: 0 < low <= high <= 0.25.")


class Data(Section):
    """How many videos are generated (training and held-out videos are disjoint streams of the run's seed)."""

    train_videos: int = quantity(1000, units="1", description="Training videos (random frame pairs of one video "
                                 "per sample).", ge=1, le=10**5)
    test_videos: int = quantity(100, units="1", description="Held-out videos scored by J and F.", ge=1, le=10**4)


class Model(Section):
    """The Siamese network: encoder (4 conv-BN-ReLU, output stride 4), co-attention block, two heads."""

    channels: int = quantity(32, units="1", description="Feature channels C of the encoder and the block.",
                             ge=2, le=1024)
    init: Literal["identity", "uniform"] = Field(
        "identity", description="Start of W: identity (W = I / sqrt(C), a scaled dot product, every variant); "
        "uniform (free entries uniform in +-1/sqrt(C), like the released code's nn.Linear).")
    control_variant: Literal["vanilla", "symmetric", "channel"] = Field(
        "vanilla", description="Network of the two controls (same weights and parameter count as that variant).")


class Training(Section):
    """The models trained and their training (COSNet's loss, Adam with cosine decay)."""

    models: list[ModelName] = Field(
        ["vanilla", "symmetric", "channel", "self_reference", "single_frame"],
        description="vanilla (W free), symmetric (W = P^T D P, P orthogonal), channel (W diagonal): co-attention "
        "against another frame of the video; self_reference: the query frame is its own reference (no cross-frame "
        "information); single_frame: the summaries zeroed (each frame alone). Each is trained from the same "
        "initial weights stream.")
    steps: int = quantity(1500, units="1", description="Adam steps.", ge=1, le=10**6)
    batch: int = quantity(12, units="1", description="Frame pairs per step (one video each).", ge=1, le=4096)
    lr: float = quantity(3e-3, units="1", description="Adam's initial step size (cosine decay to lr/100).", gt=0)
    l1_weight: float = quantity(0.8, units="1", description="Weight of the L1 term beside the foreground-balanced "
                                "BCE.", ge=0)
    record_every: int = quantity(100, units="1", description="Record the training loss every this many steps.",
                                 ge=1)


class Evaluation(Section):
    """DAVIS's measures on the held-out videos."""

    references: list[int] = Field([1, 3, 5], min_length=1, description="Numbers N of reference frames "
                                  "(other frames of the video) whose predictions are averaged, each in "
                                  "1 ... frames - 1.")
    threshold: float = quantity(0.5, units="1", description="Mask threshold on the averaged foreground "
                                "probability.", gt=0, lt=1)
    boundary_tolerance: float = quantity(0.008, units="1", description="Boundary F's matching distance, a "
                                         "fraction of the image diagonal (DAVIS: 0.008).", gt=0, le=1)
    examples: int = quantity(4, units="1", description="Frames of the first held-out video kept with their "
                             "predictions (figures).", ge=1)


class VideoSegmentationSpec(ProblemSpec):
    """Spec of kind video_segmentation."""

    kind: Literal["video_segmentation"] = Field("video_segmentation", description="Problem kind.")
    video: Video = Field(default_factory=Video, description="The video simulation.")
    data: Data = Field(default_factory=Data, description="Training and held-out videos.")
    model: Model = Field(default_factory=Model, description="The Siamese network.")
    training: Training = Field(default_factory=Training, description="Models and their training.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="J and F on held-out videos.")
    backend: TorchBackend = Field(default_factory=TorchBackend, description="Torch device.")

    @model_validator(mode="after")
    def _consistent(self) -> "VideoSegmentationSpec":
        _check_video(self.video)
        frames = self.video.frames
        for n in self.evaluation.references:
            if not 1 <= n <= frames - 1:
                raise FieldError("evaluation.references", f"N = {n} reference frames: a frame has only "
                                 f"{frames - 1} other frames in a video of {frames}", f"1 <= N <= {frames - 1}")
        _unique("evaluation.references", self.evaluation.references)
        if not self.training.models:
            raise FieldError("training.models", "no model to train", f"one or more of {VARIANTS + CONTROLS}")
        _unique("training.models", self.training.models)
        if self.evaluation.examples > frames:
            raise FieldError("evaluation.examples", f"{self.evaluation.examples} example frames of a video of "
                             f"{frames}", f"examples <= {frames}")
        return self

    def memory_estimate(self):
        """See :mod:`.memory`."""
        return peak_memory(self)


def _unique(field: str, values: list) -> None:
    if len(set(values)) != len(values):
        raise FieldError(field, f"a value is listed twice: {values}", "each value once")


def _check_video(video: Video) -> None:
    """Frames at least the encoder's stride (and the simulation's minimum), persistence within the video,
    an ordered radius range."""
    if video.size < ENCODER_STRIDE:
        raise FieldError("video.size", f"frames of {video.size} x {video.size} pixels are smaller than the "
                         f"encoder's stride {ENCODER_STRIDE}", f"size >= {ENCODER_STRIDE}")
    if video.size < SIMULATION_MIN_SIZE:
        raise FieldError("video.size", f"frames of {video.size} x {video.size} pixels leave no room for the "
                         "simulation's objects", f"size >= {SIMULATION_MIN_SIZE}")
    if video.persistence > video.frames - 1:
        raise FieldError("video.persistence", f"a distractor living {video.persistence} frames of a video of "
                         f"{video.frames} would be in every frame, like the primary object",
                         f"persistence <= frames - 1 = {video.frames - 1}")
    low, high = video.radius
    if not 0 < low <= high <= 0.25:
        raise FieldError("video.radius", f"({low:g}, {high:g}) is not an ordered (low, high) pair in (0, 0.25]",
                         "0 < low <= high <= 0.25")
