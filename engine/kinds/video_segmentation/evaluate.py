"""Scoring a trained model on the held-out videos as DAVIS does: every frame segmented against N reference
frames of its video (the N probabilities averaged, :func:`learners.coattention.segment_video`), thresholded,
and J and F taken per frame, averaged over frames then videos; plus the share of the distractors' pixels
the model calls foreground."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from learners import coattention as ca
from learners.segmentation_metrics import threshold_masks, video_scores
from solvers.video_objects import VideoSet


class Scores(NamedTuple):
    """Per N (len(references),): ``j`` and ``f`` (mean over frames then videos), ``distractor_rate`` (visible
    distractor pixels predicted foreground over all visible distractor pixels; NaN without distractors);
    ``example`` (examples, H, W): the foreground probability of the first held-out video's first frames at
    the largest N."""

    j: np.ndarray
    f: np.ndarray
    distractor_rate: np.ndarray
    example: np.ndarray


def probabilities(model: ca.CoAttentionSegmenter, frames: torch.Tensor, n_references: int, arm: str,
                  generator: torch.Generator) -> np.ndarray:
    """Averaged foreground probabilities (V, T, H, W) of the held-out videos ``frames`` (V, T, 3, H, W)."""
    return np.stack([ca.segment_video(model, video, n_references, arm, generator).cpu().numpy()
                     for video in frames])


def score(model: ca.CoAttentionSegmenter, arm: str, frames: torch.Tensor, videos: VideoSet, references: list[int],
          threshold: float, tolerance: float, examples: int, seed: int) -> Scores:
    """The :class:`Scores` of ``model`` used as ``arm`` on the held-out ``videos`` (``frames`` their tensor),
    the reference frames drawn from ``seed`` (the same draws for every model)."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    j, f, rate = [], [], []
    distractor_pixels = videos.distractor_mask.sum()
    for n in references:
        p = probabilities(model, frames, n, arm, generator)
        predicted = threshold_masks(p, threshold)
        j_video, f_video = video_scores(predicted, videos.mask, tolerance)
        j.append(j_video.mean())
        f.append(f_video.mean())
        rate.append((predicted & videos.distractor_mask).sum() / distractor_pixels if distractor_pixels else np.nan)
        if n == max(references):
            example = p[0, :examples]
    return Scores(np.array(j), np.array(f), np.array(rate, dtype=float), example)


def objectness_j(videos: VideoSet) -> float:
    """J of the mask of every object (primary and distractors) against the primary object's: what segmenting
    every object, as a network that cannot tell them apart would, scores."""
    return float(video_scores(videos.mask | videos.distractor_mask, videos.mask)[0].mean())
