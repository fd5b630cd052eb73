"""Classical deraining baselines (numpy and scipy): a median filter across the streak direction and a
sparse-gradient layer separation by L0 gradient minimisation. Images are (H, W) float64 in [0, 1]; angles
are in radians from the downward vertical (+y, along rows) towards +x (along columns), as in
:mod:`solvers.rain`.

Both use what the layer model O = B + R says about rain: it only adds light (R >= 0), so an estimate S of
the background that is brighter than the rainy image somewhere is cut back there: B^ = min(O, S), i.e.
R^ = max(O - S, 0).

Streak direction. :func:`streak_angle` estimates it from the rainy image alone, as the least-variation
direction of the structure tensor J = sum over pixels of (g_x, g_y)^T (g_x, g_y) (Scharr derivatives) of the
image's fine detail
(the image minus its Gaussian blur of ``detail_sigma`` px), where rain streaks dominate.

Directional median. A streak is long along its direction and a few pixels wide across it, so the median
over a segment of ``length`` px *across* the streaks (perpendicular to them) replaces a streak pixel by
the background beside it when the segment is more than twice the streak's width; a median *along* the
streak would keep it. :func:`directional_median` takes the median over the pixels nearest to the
``length`` points of a segment at any angle (reflecting at the borders).

L0 gradient minimisation (Xu, Lu, Xu & Jia, "Image smoothing via L0 gradient minimization", 2011):

    S = argmin_S  sum (S - O)^2 + lambda C(S),    C(S) = #{pixels p : (d_x S_p, d_y S_p) != 0}

by half-quadratic splitting with auxiliary gradients h = (h_x, h_y) and a weight beta growing from
2 lambda by the factor ``kappa`` up to ``beta_max``: h = grad S where |grad S|^2 > lambda / beta, else 0;
then S = F^-1[(F(O) + beta (conj(F d_x) F h_x + conj(F d_y) F h_y)) / (1 + beta (|F d_x|^2 + |F d_y|^2))]
with periodic forward differences d_x, d_y (exact by FFT). An image that is piecewise constant with jumps
above sqrt(lambda / (2 lambda)) = 1/sqrt(2) comes back unchanged; the mean of S is that of O.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from skimage.filters import scharr_h, scharr_v

__all__ = ["streak_angle", "directional_median", "median_derain", "l0_smooth", "l0_derain"]


def _require(ok: bool, name: str, value, bound: str) -> None:
    """Raise ValueError naming ``name``, its value and the bound it breaks, unless ``ok``."""
    if not ok:
        raise ValueError(f"{name} = {value!r} is outside {bound}")


def streak_angle(image: np.ndarray, detail_sigma: float = 1.5) -> float:
    """Direction (rad in [-pi/2, pi/2), from +y towards +x) along which the fine detail of ``image`` (H, W)
    varies least: the streak direction of a rainy image (see the module)."""
    detail = image - ndimage.gaussian_filter(image, detail_sigma, mode="reflect")
    gx, gy = scharr_v(detail), scharr_h(detail)  # Scharr: nearly rotation invariant on thin streaks
    tensor = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
    x, y = np.linalg.eigh(tensor)[1][:, 0]  # eigenvector of the smallest eigenvalue: (x, y) components
    return (math.atan2(x, y) + math.pi / 2) % math.pi - math.pi / 2


def directional_median(image: np.ndarray, angle: float, length: int) -> np.ndarray:
    """Median of ``image`` (H, W) over ``length`` (odd, >= 1) points spaced 1 px along the direction ``angle``
    (rad from +y towards +x) centred on each pixel, each point taken at its nearest pixel, the image
    reflected at its borders; (H, W) float64."""
    _require(length >= 1 and length % 2 == 1, "directional_median.length", length, "odd integers >= 1")
    image = np.asarray(image, dtype=np.float64)
    half = length // 2
    offsets = np.arange(-half, half + 1)
    rows = np.rint(offsets * math.cos(angle)).astype(int)
    cols = np.rint(offsets * math.sin(angle)).astype(int)
    pad = max(int(np.abs(rows).max()), int(np.abs(cols).max()))
    padded = np.pad(image, pad, mode="symmetric")
    h, w = image.shape
    stack = np.stack([padded[pad + r:pad + r + h, pad + c:pad + c + w] for r, c in zip(rows, cols)])
    return np.median(stack, axis=0)


def median_derain(rainy: np.ndarray, length: int) -> np.ndarray:
    """B^ = min(O, median of O over ``length`` px across the streak direction estimated from ``rainy``)."""
    across = streak_angle(rainy) + math.pi / 2
    return np.minimum(rainy, directional_median(rainy, across, length))


def l0_smooth(image: np.ndarray, lam: float, kappa: float = 2.0, beta_max: float = 1e5) -> np.ndarray:
    """L0 gradient minimisation of ``image`` (H, W) with weight ``lam`` (> 0, intensity^2 units), the
    splitting weight growing by ``kappa`` (> 1) from 2 lam up to ``beta_max`` (see the module); (H, W)."""
    _require(lam > 0, "l0_smooth.lam", lam, "(0, inf)")
    _require(kappa > 1, "l0_smooth.kappa", kappa, "(1, inf)")
    _require(beta_max > 2 * lam, "l0_smooth.beta_max", beta_max, f"(2 lam = {2 * lam:g}, inf)")
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape
    dx_hat = np.exp(2j * np.pi * np.fft.fftfreq(w))[None, :] - 1.0  # F of S[i, j+1] - S[i, j], periodic
    dy_hat = np.exp(2j * np.pi * np.fft.fftfreq(h))[:, None] - 1.0
    image_hat = np.fft.fft2(image)
    denominator = np.abs(dx_hat) ** 2 + np.abs(dy_hat) ** 2
    smooth, beta = image.copy(), 2.0 * lam
    while beta < beta_max:
        gx = np.roll(smooth, -1, axis=1) - smooth
        gy = np.roll(smooth, -1, axis=0) - smooth
        keep = gx * gx + gy * gy > lam / beta
        hx_hat, hy_hat = np.fft.fft2(gx * keep), np.fft.fft2(gy * keep)
        numerator = image_hat + beta * (np.conj(dx_hat) * hx_hat + np.conj(dy_hat) * hy_hat)
        smooth = np.real(np.fft.ifft2(numerator / (1.0 + beta * denominator)))
        beta *= kappa
    return smooth


def l0_derain(rainy: np.ndarray, lam: float, kappa: float = 2.0, beta_max: float = 1e5) -> np.ndarray:
    """B^ = min(O, S) with S the L0 gradient minimisation of ``rainy`` (:func:`l0_smooth`)."""
    return np.minimum(rainy, l0_smooth(rainy, lam, kappa, beta_max))
