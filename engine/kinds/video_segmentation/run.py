"""One run of ``video_segmentation``: generate the training and held-out videos (:mod:`solvers.video_objects`),
train every model of ``training.models`` (:mod:`learners.coattention`) and score it on the held-out videos
(:mod:`.evaluate`).

Random streams of the run's seed: ``videos`` (the seed of the video stream: training videos 0 ... V - 1,
held-out videos V ... V + V' - 1), ``init`` (the initial weights, the same seed for every model), ``pairs``
(the training pairs, the same draws for every model), ``references`` (the reference frames at evaluation,
the same draws for every model).
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import coattention as ca
from learners.training import NoDevice, device, torch_threads
from solvers import video_objects as vo

from .evaluate import Scores, objectness_j, score
from .spec import VARIANTS, VideoSegmentationSpec

CHANNELS = ("red", "green", "blue")


def video_config(spec: VideoSegmentationSpec) -> vo.VideoConfig:
    v = spec.video
    return vo.VideoConfig(size=v.size, frames=v.frames, distractors=v.distractors, persistence=v.persistence,
                          texture_similarity=v.texture_similarity, occlusion=v.occlusion, speed=v.speed,
                          pan_speed=v.pan_speed, noise=v.noise, radius=tuple(v.radius))


def network(spec: VideoSegmentationSpec, name: str) -> tuple[str, str]:
    """(co-attention variant, arm) of the model ``name``: a variant against another frame, or a control on
    the network of ``model.control_variant``."""
    return (name, "coattention") if name in VARIANTS else (spec.model.control_variant, name)


def draw(ctx: RunContext, stream: str) -> int:
    return int(ctx.rng(stream).integers(2**62))


def train_and_score(spec: VideoSegmentationSpec, name: str, train: tuple[torch.Tensor, torch.Tensor],
                    test: vo.VideoSet, test_frames: torch.Tensor, ctx: RunContext, where: torch.device,
                    progress) -> tuple[Scores, np.ndarray, int, float]:
    """(scores, recorded training loss, parameter count, asymmetry of the trained W) of the model ``name``."""
    variant, arm = network(spec, name)
    t, e = spec.training, spec.evaluation
    torch.manual_seed(draw(ctx, "init"))
    model = ca.CoAttentionSegmenter(variant, spec.model.channels, spec.model.init).to(where)
    try:
        curves = ca.train(model, *train, arm, steps=t.steps, batch=t.batch, lr=t.lr, seed=draw(ctx, "pairs"),
                          record_every=t.record_every, l1_weight=t.l1_weight, progress=progress)
    except FloatingPointError as exc:
        raise RunFailed(f"{name}: {exc}; try a smaller training.lr") from None
    scores = score(model, arm, test_frames, test, e.references, e.threshold, e.boundary_tolerance, e.examples,
                   draw(ctx, "references"))
    return scores, curves.train, sum(p.numel() for p in model.parameters()), asymmetry(model.coattention.weight)


def asymmetry(w: torch.Tensor) -> float:
    """max |W - W^T| / max |W| of the affinity matrix W (C, C)."""
    w = w.detach().double()
    return float((w - w.T).abs().max() / w.abs().max())


def run(spec: VideoSegmentationSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run (variables in the package docstring)."""
    try:
        where = device(spec.backend.device)
    except NoDevice:
        raise RunFailed("backend.device is cuda but torch sees no CUDA device (use device: auto or cpu)") from None
    with torch_threads(1):  # frames of tens of pixels: intra-op threads only synchronize (and spin when busy)
        return _run(spec, ctx, where)


def _run(spec: VideoSegmentationSpec, ctx: RunContext, where: torch.device) -> xr.Dataset:
    config, d = video_config(spec), spec.data
    stream = draw(ctx, "videos")
    try:
        videos = vo.generate_videos(config, d.train_videos, stream)
        test = vo.generate_videos(config, d.test_videos, stream, first_index=d.train_videos)
    except ValueError as exc:  # the distractors do not fit beside the primary object
        raise RunFailed(str(exc)) from None
    train = ca.video_tensors(videos.frames, videos.mask, where)
    del videos
    test_frames, _ = ca.video_tensors(test.frames, test.mask, where)
    models, steps = list(spec.training.models), spec.training.steps
    results = []
    for i, name in enumerate(models):
        def progress(done: int, total: int, first: int = i * steps) -> None:
            ctx.progress(first + done, len(models) * steps)

        results.append(train_and_score(spec, name, train, test, test_frames, ctx, where, progress))
    return dataset(spec, models, results, test)


def dataset(spec: VideoSegmentationSpec, models: list[str], results: list, test: vo.VideoSet) -> xr.Dataset:
    scores = [r[0] for r in results]
    e, t = spec.evaluation, spec.training
    m_r = ("model", "references")
    pixels = ("example_frame", "row", "column")
    n_steps = len(results[0][1])
    return xr.Dataset(
        {"j": variable(np.array([s.j for s in scores]), "region similarity J (mean over frames, then videos)", m_r),
         "f": variable(np.array([s.f for s in scores]), "boundary F-measure (mean over frames, then videos)", m_r),
         "distractor_rate": variable(np.array([s.distractor_rate for s in scores]),
                                     "fraction of visible distractor pixels predicted as foreground", m_r),
         "n_parameters": variable(np.array([r[2] for r in results]), "trainable parameters", ("model",)),
         "w_asymmetry": variable(np.array([r[3] for r in results]), "max |W - W^T| / max |W| of the trained "
                                 "affinity matrix", ("model",)),
         "train_loss": variable(np.array([r[1] for r in results]), "training loss (BCE / foreground + L1)",
                                ("model", "step")),
         "objectness_j": variable(objectness_j(test), "J of the mask of every object against the primary "
                                  "object's"),
         "foreground_fraction": variable(float(test.mask.mean()), "fraction of held-out pixels on the primary "
                                         "object"),
         "distractors": variable(spec.video.distractors, "distractor slots of the videos"),
         "persistence": variable(spec.video.persistence, "frames a distractor lives"),
         "occlusion": variable(spec.video.occlusion, "probability of a partly occluded primary object per frame"),
         "example_image": variable(test.frames[0, :e.examples], "first held-out video's frames (intensity)",
                                   (*pixels, "channel")),
         "example_mask": variable(test.mask[0, :e.examples].astype(np.int8), "true mask of the primary object",
                                  pixels),
         "example_probability": variable(np.array([s.example for s in scores]), "foreground probability at the "
                                         "largest N", ("model", *pixels))},
        coords={"model": ("model", models, {"units": "1", "long_name": "model"}),
                "references": ("references", np.array(e.references), {"units": "1",
                                                                       "long_name": "reference frames N"}),
                "step": ("step", np.minimum(np.arange(n_steps) * t.record_every, t.steps),
                         {"units": "1", "long_name": "training step"}),
                "example_frame": ("example_frame", np.arange(e.examples), {"units": "1", "long_name": "frame"}),
                "row": ("row", np.arange(spec.video.size), {"units": "1", "long_name": "pixel row"}),
                "column": ("column", np.arange(spec.video.size), {"units": "1", "long_name": "pixel column"}),
                "channel": ("channel", list(CHANNELS), {"units": "1", "long_name": "colour channel"})})
