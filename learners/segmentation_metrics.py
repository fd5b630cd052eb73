"""DAVIS's measures of a video object segmentation (Perazzi et al., CVPR 2016), in numpy.

* Region similarity J = |P & G| / |P | G| (intersection over union of the predicted and true masks);
  1 when both masks are empty.
* Boundary F = 2 p r / (p + r): the boundary pixels of each mask (a pixel of the mask's indicator
  whose right, lower or lower-right neighbour differs; on the last row/column only the neighbour
  inside the frame counts), p the fraction of predicted boundary pixels within ``tolerance`` of a
  true one (a disk of radius ceil(tolerance * image diagonal) pixels), r the converse; F = 1 when
  neither mask has a boundary, 0 when exactly one has none or when p + r = 0. DAVIS's tolerance is
  0.008 of the diagonal.
* Predicted masks are the probabilities above a threshold in (0, 1) (:func:`threshold_masks`).
* A video's score is the mean over its frames; a set's is the mean over its videos.

Masks are bool arrays (H, W), or (T, H, W) per video.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import binary_dilation
from skimage.morphology import disk

__all__ = ["DAVIS_TOLERANCE", "threshold_masks", "region_similarity", "boundary_pixels", "boundary_f",
           "video_scores"]

DAVIS_TOLERANCE = 0.008


def threshold_masks(probabilities: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Bool masks ``probabilities > threshold`` (any shape); raises ValueError unless 0 < threshold < 1."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"segmentation: threshold = {threshold} must be in (0, 1)")
    return np.asarray(probabilities) > threshold


def region_similarity(predicted: np.ndarray, true: np.ndarray) -> float:
    """J of two bool masks (H, W): intersection over union, 1 when both are empty."""
    union = np.logical_or(predicted, true).sum()
    return 1.0 if union == 0 else float(np.logical_and(predicted, true).sum() / union)


def boundary_pixels(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of ``mask`` (H, W) whose right, lower or lower-right neighbour differs."""
    m = np.asarray(mask, bool)
    right, below, diagonal = m.copy(), m.copy(), m.copy()
    right[:, :-1] = m[:, 1:]
    below[:-1, :] = m[1:, :]
    diagonal[:-1, :-1] = m[1:, 1:]
    return (m != right) | (m != below) | (m != diagonal)


def boundary_f(predicted: np.ndarray, true: np.ndarray, tolerance: float = DAVIS_TOLERANCE) -> float:
    """Boundary F-measure of two bool masks (H, W), boundary pixels matched within ``tolerance`` times
    the image diagonal (see the module)."""
    if not tolerance > 0:
        raise ValueError(f"boundary F: tolerance = {tolerance} must be > 0")
    predicted_edge, true_edge = boundary_pixels(predicted), boundary_pixels(true)
    n_predicted, n_true = predicted_edge.sum(), true_edge.sum()
    if n_predicted == 0 or n_true == 0:
        return float(n_predicted == n_true)
    radius = math.ceil(tolerance * math.hypot(*np.shape(predicted)))
    reach = disk(radius).astype(bool)
    precision = (predicted_edge & binary_dilation(true_edge, reach)).sum() / n_predicted
    recall = (true_edge & binary_dilation(predicted_edge, reach)).sum() / n_true
    return 0.0 if precision + recall == 0 else float(2 * precision * recall / (precision + recall))


def video_scores(predicted: np.ndarray, true: np.ndarray,
                 tolerance: float = DAVIS_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """Per-video J and F (V,), each the mean over the frames of bool masks (V, T, H, W)."""
    if np.shape(predicted) != np.shape(true):
        raise ValueError(f"video scores: predicted shape {np.shape(predicted)} differs from true "
                         f"{np.shape(true)}")
    j = np.array([[region_similarity(p, g) for p, g in zip(pv, gv)] for pv, gv in zip(predicted, true)])
    f = np.array([[boundary_f(p, g, tolerance) for p, g in zip(pv, gv)] for pv, gv in zip(predicted, true)])
    return j.mean(axis=1), f.mean(axis=1)
