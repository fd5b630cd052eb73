"""OTB-style tracking metrics (numpy): overlap, success plot and its AUC, centre error, precision plot.

Boxes are (..., 4) arrays (x, y, w, h) in px (continuous coordinates: a box covers [x, x + w) x [y, y + h)).
For a sequence of predicted and true boxes (T, 4):

- overlap (IoU) per frame, in [0, 1];
- success S(t) = fraction of frames with IoU > t, for thresholds t in [0, 1] (the success plot);
- success AUC = integral_0^1 S(t) dt, computed exactly: it equals the mean IoU (each frame contributes
  the length of [0, IoU) of thresholds below its overlap), so a tracker that outputs the truth has AUC 1
  and one whose boxes never overlap the truth has AUC 0. The 21-point sum of the OTB toolkit approximates it;
- centre error per frame [px] = the distance between the box centres;
- precision P(d) = fraction of frames with centre error <= d [px] (the precision plot), OTB's score at
  d = 20 px; for frames much smaller than OTB's, :func:`scaled_threshold` scales 20 px by the frame size.

``valid`` (T,) bool, where given, keeps the frames in which the target is in view (OTB leaves out frames
without a true box).
"""

from __future__ import annotations

import numpy as np

__all__ = ["iou", "centre_errors", "success_curve", "success_auc", "precision_curve", "precision_at",
           "scaled_threshold", "SUCCESS_THRESHOLDS", "PRECISION_THRESHOLDS"]

#: IoU thresholds of the success plot (OTB: 0, 0.05, ..., 1)
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: centre-error thresholds of the precision plot [px] (OTB: 0, 1, ..., 50)
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)


def _kept(values: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    return values if valid is None else values[np.asarray(valid, dtype=bool)]


def iou(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Intersection over union (...,) of boxes (..., 4), 0 for disjoint boxes."""
    a, b = np.asarray(predicted, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    width = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.clip(width, 0.0, None) * np.clip(height, 0.0, None)
    return inter / (a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter)


def centre_errors(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance (...,) [px] between the centres of boxes (..., 4)."""
    a, b = np.asarray(predicted, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return np.hypot(*np.moveaxis((a[..., :2] + a[..., 2:] / 2.0) - (b[..., :2] + b[..., 2:] / 2.0), -1, 0))


def success_curve(predicted: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None,
                  thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """S(t) (len(thresholds),): fraction of the (valid) frames with IoU > t; non-increasing in t."""
    overlap = _kept(iou(predicted, truth), valid)
    return (overlap[None, :] > np.asarray(thresholds)[:, None]).mean(axis=1)


def success_auc(predicted: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Area under the success plot over [0, 1], exactly: the mean IoU of the (valid) frames."""
    return float(_kept(iou(predicted, truth), valid).mean())


def precision_curve(predicted: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None,
                    thresholds: np.ndarray = PRECISION_THRESHOLDS) -> np.ndarray:
    """P(d) (len(thresholds),): fraction of the (valid) frames with centre error <= d [px]; non-decreasing
    in d."""
    errors = _kept(centre_errors(predicted, truth), valid)
    return (errors[None, :] <= np.asarray(thresholds)[:, None]).mean(axis=1)


def precision_at(predicted: np.ndarray, truth: np.ndarray, threshold: float = 20.0,
                 valid: np.ndarray | None = None) -> float:
    """Fraction of the (valid) frames with centre error <= ``threshold`` [px] (OTB: 20 px)."""
    return float(precision_curve(predicted, truth, valid, np.array([threshold]))[0])


def scaled_threshold(frame_side: float, reference_side: float = 480.0, reference_threshold: float = 20.0) -> float:
    """OTB's 20 px scaled to a frame of ``frame_side`` px from a typical OTB frame of ``reference_side`` px
    (a 96 px frame gets 4 px)."""
    return reference_threshold * frame_side / reference_side
