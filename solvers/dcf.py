"""Multi-channel discriminative correlation filter (DCF) tracker in closed form in the Fourier domain.

Features of a training window ``x`` (C, h, w) (cells), a desired response ``y`` (h, w) (a Gaussian with
its peak at zero displacement, index (0, 0), wrapped circularly) and a search window ``z`` (C, h, w) give
(hats: 2-D DFT over the cells; * complex conjugate; sums over channels l)

    w^_l = y^* x^_l / (sum_k x^_k x^_k^* + lam),        r = F^-1( sum_l w^_l^* z^_l ),

so trained and applied on one window the response is ``y`` filtered by k^/(k^ + lam), k^ = sum_k |x^_k|^2,
and a circular shift of ``z`` shifts ``r`` by that shift. Online, the numerator A = y^* x^ and the
denominator B = sum_k |x^_k|^2 are running averages, A_t = eta A(x_t) + (1 - eta) A_{t-1} (and B alike);
``eta = 1`` keeps the last frame only. With ``context > 0`` the denominator also holds the energy of
four windows displaced by half a window side (up, down, left, right),
B += context sum_j sum_k |x^_{j,k}|^2 (the context-aware filter of Mueller et al., 2017: the filter is
asked to answer zero on the background; this is this module's reading of the paper's "background-aware
online update", not its code).

The tracker (:class:`DCFTracker`) crops a square window of ``padding`` times the target's side (the
geometric mean of w and h) around the last centre, resamples it to ``window`` px, computes features (any
callable (window, window) -> (C, h, w); the cell is ``window / h`` px; a callable whose attribute ``batched``
is True takes a stack (B, window, window) -> (B, C, h, w) instead, and then gets all the windows of a frame's
search, and all those of its update, in one call each), multiplies them by a Hann window,
and, for each factor in ``scales``, takes the response's maximum (factors other than 1 times
``scale_penalty``). The best peak is refined to a sub-cell displacement by a parabola through it and its
two neighbours along each axis. Features: :func:`pixel_features`, :func:`hog_features`, or a network
(``learners.tracking_nets.feature_extractor``).

Arrays: spectra are ``numpy.fft.rfft2`` half spectra (..., h, w//2 + 1) complex128; boxes are (x, y, w, h)
in frame px (continuous coordinates, see :mod:`solvers.tracking_sequences`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from solvers.tracking_sequences import box_centres, crop_window

__all__ = ["hann_window", "gaussian_label", "filter_terms", "response", "subcell_peak", "pixel_features",
           "hog_features", "DCFConfig", "DCFTracker", "track"]

Features = Callable[[np.ndarray], np.ndarray]


def hann_window(h: int, w: int) -> np.ndarray:
    """Outer product of two Hann windows (h, w) float64, positive inside (their zero ends dropped)."""
    return np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])


def gaussian_label(h: int, w: int, sigma: float, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Circular Gaussian (h, w) float64 of width ``sigma`` [cells], peak 1 at the displacement
    ``shift`` = (dy, dx) [cells] from index (0, 0) (wrapped: index i stands for displacement i or i - h)."""
    def axis(n: int, s: float) -> np.ndarray:
        d = (np.arange(n) - s + n / 2.0) % n - n / 2.0
        return np.exp(-0.5 * (d / sigma) ** 2)
    return np.outer(axis(h, shift[0]), axis(w, shift[1]))


def filter_terms(xf: np.ndarray, yf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerator A = y^* x^ (..., C, h, w') and denominator B = sum_k |x^_k|^2 (..., h, w') of the filter
    trained on the feature spectra ``xf`` (..., C, h, w') with the label spectrum ``yf`` (h, w')."""
    return np.conj(yf) * xf, np.einsum("...khw,...khw->...hw", xf, np.conj(xf)).real


def response(numerator: np.ndarray, denominator: np.ndarray, zf: np.ndarray, lam: float,
             shape: tuple[int, int]) -> np.ndarray:
    """Response (..., h, w) float64 = F^-1(sum_l A_l^* z^_l / (B + lam)) of the filter (A, B) on the search
    spectra ``zf`` (..., C, h, w'); ``shape`` = (h, w) of the cells."""
    spectrum = np.einsum("khw,...khw->...hw", np.conj(numerator), zf) / (denominator + lam)
    return np.fft.irfft2(spectrum, s=shape)


def subcell_peak(r: np.ndarray) -> tuple[float, float, float]:
    """(dy, dx, value): the displacement [cells] of the maximum of the response ``r`` (h, w), signed
    (index i > h/2 is i - h), refined by a parabola through the maximum and its circular neighbours
    along each axis; ``value`` is the maximum sample."""
    h, w = r.shape
    i, j = np.unravel_index(int(np.argmax(r)), r.shape)
    centre = r[i, j]

    def offset(left: float, right: float) -> float:
        curvature = left - 2.0 * centre + right
        return 0.5 * (left - right) / curvature if curvature < 0.0 else 0.0

    dy = i + offset(r[(i - 1) % h, j], r[(i + 1) % h, j])
    dx = j + offset(r[i, (j - 1) % w], r[i, (j + 1) % w])
    dy = dy - h if dy > h / 2.0 else dy
    dx = dx - w if dx > w / 2.0 else dx
    return float(dy), float(dx), float(centre)


def pixel_features(window: np.ndarray) -> np.ndarray:
    """Raw pixels as one channel (1, n, n), mean removed, cell 1 px."""
    return (window - window.mean())[None]


def hog_features(cell: int = 4, orientations: int = 9) -> Features:
    """HOG of scikit-image (``skimage.feature.hog``, one cell per block, L2-Hys): a callable
    (n, n) -> (orientations, n // cell, n // cell), cell ``cell`` px."""
    from skimage.feature import hog

    def features(window: np.ndarray) -> np.ndarray:
        h = hog(window, orientations=orientations, pixels_per_cell=(cell, cell), cells_per_block=(1, 1),
                feature_vector=False)
        return np.moveaxis(h[:, :, 0, 0, :], -1, 0).astype(np.float64)
    return features


@dataclass(frozen=True)
class DCFConfig:
    """Tracker settings; lengths in px of the frame unless said otherwise."""

    lam: float = 1e-2               #: regulariser lambda (> 0), in units of the features' energy per cell
    eta: float = 0.02               #: learning rate of the running averages, in (0, 1]
    padding: float = 3.0            #: window side / target side (>= 1)
    window: int = 48                #: side of the resampled window [px of the window image]
    sigma: float = 0.1              #: label width / target side (the label's sigma in cells follows)
    scales: tuple[float, ...] = (0.97, 1.0, 1.03)  #: scale factors searched per frame
    scale_penalty: float = 0.99     #: factor on the peak of every scale other than 1
    context: float = 0.0            #: weight of the background windows in the denominator (>= 0)

    def __post_init__(self):
        checks = [
            (self.lam > 0.0, "lam", "> 0"),
            (0.0 < self.eta <= 1.0, "eta", "in (0, 1]"),
            (self.padding >= 1.0, "padding", ">= 1 (a search window smaller than the target)"),
            (self.window >= 4, "window", ">= 4 px"),
            (self.sigma > 0.0, "sigma", "> 0"),
            (len(self.scales) >= 1 and min(self.scales) > 0.0, "scales", "positive factors, at least one"),
            (0.0 < self.scale_penalty <= 1.0, "scale_penalty", "in (0, 1]"),
            (self.context >= 0.0, "context", ">= 0"),
        ]
        for ok, name, bound in checks:
            if not ok:
                raise ValueError(f"DCF tracker: {name} = {getattr(self, name)!r} must be {bound}")


class DCFTracker:
    """The multi-channel DCF tracker of the module: :meth:`start` on the first frame and box, then
    :meth:`step` per frame returns the box (x, y, w, h) [px]."""

    def __init__(self, features: Features, config: DCFConfig = DCFConfig()):
        self.features, self.config = features, config

    def _spectra(self, frame: np.ndarray, centres: list[np.ndarray], sides: list[float]) -> np.ndarray:
        """Feature spectra (B, C, h, w') of the windows of ``sides`` [px] at ``centres`` (x, y) [px]."""
        windows = np.stack([crop_window(frame, c, s, self.config.window) for c, s in zip(centres, sides)])
        if getattr(self.features, "batched", False):
            x = self.features(windows)
        else:
            x = np.stack([self.features(w) for w in windows])
        return np.fft.rfft2(x * self._hann)

    def start(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Train the filter on ``frame`` (H, W) around ``box`` (x, y, w, h) [px]."""
        box = np.asarray(box, dtype=np.float64)
        if box[2] > frame.shape[1] or box[3] > frame.shape[0]:
            raise ValueError(f"DCF tracker: target {box[2]:g} x {box[3]:g} px is larger than the frame "
                             f"{frame.shape[1]} x {frame.shape[0]} px")
        self.centre, self.size = box_centres(box), box[2:].copy()
        blank = np.zeros((1, self.config.window, self.config.window))
        cells = (self.features(blank)[0] if getattr(self.features, "batched", False) else self.features(blank[0])).shape
        self.shape, self.cell = cells[1:], self.config.window / cells[1]
        self._hann = hann_window(*self.shape)
        sigma = self.config.sigma * self.config.window / (self.config.padding * self.cell)
        self._yf = np.fft.rfft2(gaussian_label(*self.shape, sigma))
        self.numerator, self.denominator = self._terms(frame)

    def _side(self) -> float:
        return self.config.padding * float(np.sqrt(self.size[0] * self.size[1]))

    def _terms(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        side = self._side()
        centres = [self.centre]
        if self.config.context:
            centres += [self.centre + np.asarray(d) * side / 2.0 for d in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        xf = self._spectra(frame, centres, [side] * len(centres))
        numerator, denominator = filter_terms(xf[0], self._yf)
        for background in xf[1:]:
            denominator = denominator + self.config.context * filter_terms(background, self._yf)[1]
        return numerator, denominator

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Locate the target in ``frame``, update the filter there, return its box (4,) [px]."""
        cfg, side = self.config, self._side()
        best = None
        zf = self._spectra(frame, [self.centre] * len(cfg.scales), [side * factor for factor in cfg.scales])
        responses = response(self.numerator, self.denominator, zf, cfg.lam, self.shape)
        for factor, r in zip(cfg.scales, responses):
            dy, dx, peak = subcell_peak(r)
            peak *= 1.0 if factor == 1.0 else cfg.scale_penalty
            if best is None or peak > best[0]:
                best = (peak, factor, dy, dx)
        _, factor, dy, dx = best
        px = self.cell * side * factor / cfg.window
        self.centre = self.centre + px * np.array([dx, dy])
        self.size = self.size * factor
        numerator, denominator = self._terms(frame)
        self.numerator = cfg.eta * numerator + (1.0 - cfg.eta) * self.numerator
        self.denominator = cfg.eta * denominator + (1.0 - cfg.eta) * self.denominator
        return np.concatenate([self.centre - self.size / 2.0, self.size])


def track(features: Features, frames: np.ndarray, first_box: np.ndarray,
          config: DCFConfig = DCFConfig()) -> np.ndarray:
    """Boxes (T, 4) [px] of a :class:`DCFTracker` on ``frames`` (T, H, W) started on ``first_box``; the
    first row is ``first_box``."""
    tracker = DCFTracker(features, config)
    tracker.start(frames[0], first_box)
    boxes = [np.asarray(first_box, dtype=np.float64)]
    boxes += [tracker.step(frame) for frame in frames[1:]]
    return np.stack(boxes)
