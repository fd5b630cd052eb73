"""The trackers of a ``cf_tracking`` run on the held-out sequences, scored as OTB does.

A tracker is a feature (pixels, HOG, the teacher, a student) with an online update (plain, or background-aware:
``solvers.dcf.DCFConfig.context`` > 0); its name is the feature's, with ``+background`` for the background-aware
update. Every tracker runs on every test sequence from the first true box on one torch thread; the frames in
which the target is out of view are left out of the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from learners import tracking_metrics as tm
from learners.tracking_nets import FeatureNet, feature_extractor, multiply_adds
from solvers import dcf
from solvers import tracking_sequences as ts

from ..spec import HOG_CELL, CFTrackingSpec

BACKGROUND_WINDOWS = 4  # windows displaced by half a side that the background-aware update adds


def tracker_name(feature: str, update: str) -> str:
    return feature if update == "plain" else f"{feature}+{update}"


def tracker_config(spec: CFTrackingSpec, update: str) -> dcf.DCFConfig:
    """The DCF settings of the spec with the online ``update`` (plain or background)."""
    t = spec.tracker
    return dcf.DCFConfig(lam=t.lam, eta=t.eta, padding=t.padding, window=t.window, sigma=t.sigma,
                         scales=tuple(t.scales), scale_penalty=t.scale_penalty,
                         context=t.context if update == "background" else 0.0)


def windows_per_frame(spec: CFTrackingSpec, update: str) -> int:
    """Feature evaluations per tracked frame: one search window per scale, then the update's windows."""
    return len(spec.tracker.scales) + 1 + (BACKGROUND_WINDOWS if update == "background" else 0)


def features_of(feature: str, nets: dict[str, FeatureNet]) -> Callable[[np.ndarray], np.ndarray]:
    if feature == "pixels":
        return dcf.pixel_features
    if feature == "hog":
        return dcf.hog_features(HOG_CELL)
    return feature_extractor(nets[feature])


@dataclass
class Scores:
    """Scores of one tracker: per sequence (n,) AUC, precision at 20 px and at the scaled threshold, mean
    centre error [px]; the success (len(SUCCESS_THRESHOLDS),) and precision (len(PRECISION_THRESHOLDS),) curves
    averaged over the sequences; the boxes (n, T, 4) [px]."""

    auc: np.ndarray
    precision_20: np.ndarray
    precision_scaled: np.ndarray
    centre_error: np.ndarray
    success_curve: np.ndarray
    precision_curve: np.ndarray
    boxes: np.ndarray


def score(boxes: np.ndarray, sequences: list[ts.Sequence], threshold: float) -> Scores:
    """The :class:`Scores` of ``boxes`` (n, T, 4) on the ``sequences``, precision also at ``threshold`` px."""
    per = [(b, s.boxes, s.visible) for b, s in zip(boxes, sequences)]
    return Scores(
        auc=np.array([tm.success_auc(*a) for a in per]),
        precision_20=np.array([tm.precision_at(b, t, 20.0, v) for b, t, v in per]),
        precision_scaled=np.array([tm.precision_at(b, t, threshold, v) for b, t, v in per]),
        centre_error=np.array([tm.centre_errors(b, t)[v].mean() for b, t, v in per]),
        success_curve=np.mean([tm.success_curve(*a) for a in per], axis=0),
        precision_curve=np.mean([tm.precision_curve(*a) for a in per], axis=0),
        boxes=boxes)


def evaluate(spec: CFTrackingSpec, sequences: list[ts.Sequence], nets: dict[str, FeatureNet],
             progress: Callable[[int, int], None]) -> dict[str, Scores]:
    """Scores of every tracker of ``evaluation`` (features x updates, in that order) on the ``sequences``."""
    threshold = tm.scaled_threshold(spec.sequences.size)
    trackers = [(f, u) for f in spec.evaluation.features for u in spec.evaluation.updates]
    scores = {}
    for k, (feature, update) in enumerate(trackers):
        features, config = features_of(feature, nets), tracker_config(spec, update)
        boxes = np.stack([dcf.track(features, s.frames, s.boxes[0], config) for s in sequences])
        scores[tracker_name(feature, update)] = score(boxes, sequences, threshold)
        progress(k + 1, len(trackers))
    return scores


def feature_cost(spec: CFTrackingSpec, nets: dict[str, FeatureNet]) -> tuple[list[int], list[int]]:
    """(multiply-adds of the feature network per tracked frame, its parameters) per tracker, in the order of
    :func:`evaluate`; 0 for pixels and HOG (no network)."""
    macs, params = [], []
    for feature in spec.evaluation.features:
        net = nets.get(feature)
        for update in spec.evaluation.updates:
            per_window = multiply_adds(net, spec.tracker.window) if net is not None else 0
            macs.append(per_window * windows_per_frame(spec, update))
            params.append(sum(p.numel() for p in net.parameters()) if net is not None else 0)
    return macs, params
