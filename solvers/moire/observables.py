"""The experiment's analysis of a spreading spot (brief §5.1).

Line cuts ``profile`` have shape (n_t, n_x) on positions x (n_x,); times t (n_t,) with t[0] the pump.

- Gaussian fit ``A exp(−x²/2σ²) + c`` at each time → σ²(t); msd(t) = σ²(t) − σ²(0) (the 1-D projection
  convention: msd = 2Dt for normal diffusion);
- D_app(t) = ½ dσ²/dt; anomalous exponent α of msd ∝ t^α (log–log least squares);
- diffusion lengths L = sqrt(msd(t_end)) and L_D = sqrt(D̄ τ̄), D̄ = msd(t_end)/(2 t_end), τ̄ = ∫N dt / N(0).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


def _gauss(x, a, s2, c):
    return a * np.exp(-x * x / (2.0 * s2)) + c


def second_moment(x: np.ndarray, weights: np.ndarray) -> float:
    """Σ w x² / Σ w (the raw second moment about 0); NaN without weight."""
    tot = weights.sum()
    return float((weights * x * x).sum() / tot) if tot > 0 else float("nan")


def gaussian_fit(x: np.ndarray, profile: np.ndarray) -> tuple[float, float, float]:
    """(A, σ², c) of the least-squares fit of A exp(−x²/2σ²) + c; NaNs if the profile is empty or the fit fails."""
    if not np.any(profile > 0):
        return (np.nan,) * 3
    guess_s2 = max(second_moment(x, np.clip(profile, 0, None)), (x[1] - x[0]) ** 2)
    try:
        with warnings.catch_warnings():  # flat profiles (uniform density) have no covariance: not an error
            warnings.simplefilter("ignore", OptimizeWarning)
            p, _ = curve_fit(_gauss, x, profile, p0=(profile.max(), guess_s2, 0.0), maxfev=4000)
    except (RuntimeError, ValueError):
        return (np.nan,) * 3
    return float(p[0]), float(abs(p[1])), float(p[2])


def fit_widths(x: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """σ²(t) of the Gaussian fit of each line cut, shape (n_t,)."""
    return np.array([gaussian_fit(x, p)[1] for p in profiles])


def apparent_diffusivity(t: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """D_app = ½ dσ²/dt (second-order finite differences; NaN for fewer than 2 times)."""
    if t.size < 2:
        return np.full(t.size, np.nan)
    return 0.5 * np.gradient(sigma2, t)


def anomalous_exponent(t: np.ndarray, msd: np.ndarray) -> float:
    """α of msd ∝ t^α, least squares of log msd on log t over t > 0 and msd > 0; NaN with < 2 points."""
    ok = (t > 0) & (msd > 0) & np.isfinite(msd)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(t[ok]), np.log(msd[ok]), 1)[0])


def diffusion_lengths(t: np.ndarray, msd: np.ndarray, population: np.ndarray) -> tuple[float, float]:
    """(sqrt(msd(t_end)), sqrt(D̄ τ̄)) with D̄ = msd(t_end)/(2 t_end) and τ̄ = ∫N dt / N(0) over the window."""
    m = float(msd[-1])
    if not (t[-1] > 0 and np.isfinite(m)):
        return float("nan"), float("nan")
    d_bar = m / (2.0 * t[-1])
    tau_bar = float(np.trapezoid(population, t) / population[0]) if population[0] > 0 else float("nan")
    return float(np.sqrt(max(m, 0.0))), float(np.sqrt(max(d_bar * tau_bar, 0.0)))
