"""Rain over photos: a physically motivated streak renderer with exact background and rain layers (numba).

Layer model. A rainy image ``O`` is a background ``B`` plus a rain layer ``R``, optionally seen through
haze of transmission ``T`` and veiling (air) light ``A``:

    O = B + R                         (no haze)
    O = T (B + R) + (1 - T) A         (haze; T = exp(-beta d(y)), d the scene depth of row y)

Every sample keeps ``B``, ``R``, ``T``, ``A`` and ``O`` as rendered, so these identities hold to rounding;
``O - B`` (the residual a deraining network predicts) is the rain layer when there is no haze.

Rain. Each layer ``l`` sits at depth ``z_l`` (m) in front of a camera of focal length ``f`` (pixels) and
exposure ``t`` (s). Its drops form an impulse field: the number of drops on the (padded) canvas is
Binomial(pixels, density) and their streak centres are uniform on it. A drop of diameter ``D`` (mm) --
drawn from the Marshall--Palmer exponential distribution of mean ``diameter_scale`` truncated to
``diameter`` -- falls at its terminal speed (Atlas, Srivastava & Sekhon 1973)

    v(D) = 9.65 - 10.3 exp(-0.6 D)   (m/s, D in mm; used for 0.2 <= D <= 6 mm, where it is positive)

and is carried sideways by the wind ``u`` (m/s, one value per image drawn uniformly from ``wind``) plus
a gust ``g ~ N(0, gust)`` of its own (clipped at 4 gust). During the exposure it draws, in pixels, a
streak of

    angle   phi = atan2(u + g, v)                    (from the downward vertical towards +x; rad)
    length  l   = f t sqrt(v^2 + (u + g)^2) / z      (px)
    width   w   = f D / z                            (px, the drop's image; D in metres here)

Near drops are bigger, longer and, falling through more pixels per exposure, fainter per pixel. The
streak kernel is a segment of length ``l`` along ``phi`` blurred by a Gaussian of standard deviation
``sigma = max(w / 2.3548, min_sigma)`` (full width at half maximum ``w``; ``min_sigma`` stands in for the
optics and the pixel), sampled at pixel centres and normalised so that it integrates *exactly* to the
drop's time-integrated deposit ``brightness * pi w^2 / 4`` (Garg & Nayar 2004: a drop adds its radiance
over its image area wherever it is during the exposure, so the total does not depend on its speed).
``brightness`` is the drop's radiance contrast times a gain (image intensity units); streaks as bright as
those of the synthetic benchmarks need values of a few. Drops centred up to a streak's reach outside the
image are rendered too, so streaks enter from the borders.

Photos: the scikit-image data photos, converted to grey (ITU-R 601 luma, float64 in [0, 1]); the default
train and test sets are disjoint photos. Arrays are float64, images (H, W), sample stacks (n, H, W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import skimage.color
import skimage.data
from numba import njit

__all__ = ["TRAIN_PHOTOS", "TEST_PHOTOS", "RainLayer", "Haze", "RainConfig", "RainSample", "RainSet",
           "load_photo", "smallest_photo_side", "terminal_speed", "streak_kernel", "render_rain",
           "rainy_sample", "make_dataset"]

TRAIN_PHOTOS = ("astronaut", "brick", "cell", "chelsea", "clock", "grass", "hubble_deep_field",
                "immunohistochemistry", "moon", "page", "retina", "stereo_motorcycle")
TEST_PHOTOS = ("camera", "coffee", "coins", "gravel", "rocket", "text")

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))  # 2.3548
GUST_CLIP = 4.0  # gusts are clipped at this many standard deviations
REACH_SIGMAS = 4.0  # a kernel is evaluated out to this many sigma beyond its segment


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


def _require(ok: bool, owner: str, name: str, value, bound: str) -> None:
    """Raise ValueError naming ``owner.name``, its value and the bound it breaks, unless ``ok``."""
    if not ok:
        raise ValueError(f"{owner}.{name} = {value!r} is outside {bound}")


@dataclass(frozen=True)
class RainLayer:
    """One layer of drops: ``depth`` (m, > 0), ``density`` (drops per pixel, in [0, 1]) and ``brightness``
    (radiance contrast times gain, image intensity units, >= 0; see the module)."""

    depth: float = 2.0
    density: float = 0.01
    brightness: float = 4.0

    def __post_init__(self):
        _require(self.depth > 0, "RainLayer", "depth", self.depth, "(0, inf) m")
        _require(0.0 <= self.density <= 1.0, "RainLayer", "density", self.density, "[0, 1]")
        _require(self.brightness >= 0, "RainLayer", "brightness", self.brightness, "[0, inf)")


@dataclass(frozen=True)
class Haze:
    """Haze ``T = exp(-beta d)`` with scene depth ``d`` linear from ``depth_top`` (first row) to
    ``depth_bottom`` (last row), both in m; ``beta`` in 1/m (>= 0); veiling light ``airlight`` in [0, 1]."""

    beta: float = 0.05
    depth_top: float = 20.0
    depth_bottom: float = 5.0
    airlight: float = 0.8

    def __post_init__(self):
        _require(self.beta >= 0, "Haze", "beta", self.beta, "[0, inf) 1/m")
        _require(self.depth_top >= 0, "Haze", "depth_top", self.depth_top, "[0, inf) m")
        _require(self.depth_bottom >= 0, "Haze", "depth_bottom", self.depth_bottom, "[0, inf) m")
        _require(0.0 <= self.airlight <= 1.0, "Haze", "airlight", self.airlight, "[0, 1]")

    def transmission(self, height: int) -> np.ndarray:
        """T per row, (height, 1)."""
        depth = np.linspace(self.depth_top, self.depth_bottom, height)
        return np.exp(-self.beta * depth)[:, None]


@dataclass(frozen=True)
class RainConfig:
    """The renderer's parameters (see the module for the physics):

    ``layers``: the drop layers; ``wind``: (min, max) wind speed along +x, m/s, one draw per image;
    ``gust``: per-drop wind standard deviation, m/s; ``diameter``: (min, max) drop diameter, mm, within
    [0.2, 6] (where the speed law holds and is positive); ``diameter_scale``: Marshall--Palmer mean
    diameter, mm; ``focal``: focal length, px; ``exposure``: s; ``min_sigma``: smallest streak blur, px; ``haze``: None or a :class:`Haze`;
    ``clip``: clip ``B + R`` to [0, 1] by reducing ``R`` (so ``O = B + R`` still holds exactly)."""

    layers: tuple[RainLayer, ...] = (RainLayer(1.5, 0.004, 6.0), RainLayer(3.0, 0.008, 6.0),
                                     RainLayer(6.0, 0.015, 6.0))
    wind: tuple[float, float] = (-2.0, 2.0)
    gust: float = 0.3
    diameter: tuple[float, float] = (0.5, 4.0)
    diameter_scale: float = 1.0
    focal: float = 800.0
    exposure: float = 0.004
    min_sigma: float = 0.5
    haze: Haze | None = None
    clip: bool = True

    def __post_init__(self):
        low, high = self.diameter
        _require(0.2 <= low <= high <= 6.0, "RainConfig", "diameter", self.diameter, "0.2 <= min <= max <= 6 mm")
        _require(self.wind[0] <= self.wind[1], "RainConfig", "wind", self.wind, "min <= max")
        _require(self.gust >= 0, "RainConfig", "gust", self.gust, "[0, inf) m/s")
        _require(self.diameter_scale > 0, "RainConfig", "diameter_scale", self.diameter_scale, "(0, inf) mm")
        _require(self.focal > 0, "RainConfig", "focal", self.focal, "(0, inf) px")
        _require(self.exposure > 0, "RainConfig", "exposure", self.exposure, "(0, inf) s")
        _require(self.min_sigma > 0, "RainConfig", "min_sigma", self.min_sigma, "(0, inf) px")


# ---------------------------------------------------------------------------
# photos
# ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """The scikit-image photo ``name`` in grey, (H, W) float64 in [0, 1], read-only (cached)."""
    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo pairs: the left view
        image = image[0]
    image = skimage.color.rgb2gray(image[..., :3]) if image.ndim == 3 else image / 255.0
    image = np.ascontiguousarray(image, dtype=np.float64)
    image.setflags(write=False)
    return image


def smallest_photo_side(photos: tuple[str, ...]) -> int:
    """The smallest height or width (px) among ``photos``: the largest square crop they all allow."""
    return min(min(load_photo(name).shape) for name in photos)


# ---------------------------------------------------------------------------
# streaks
# ---------------------------------------------------------------------------


def terminal_speed(diameter: np.ndarray | float) -> np.ndarray | float:
    """Terminal fall speed (m/s) of a raindrop of ``diameter`` (mm), Atlas et al. (1973)."""
    return 9.65 - 10.3 * np.exp(-0.6 * np.asarray(diameter, dtype=np.float64))


@njit(cache=True, nogil=True)
def _splat(canvas, cx, cy, angle, length, sigma, integral):
    """Add to ``canvas`` (H, W) one streak per drop: centre (cx, cy) (px; x along columns, y along rows),
    ``angle`` from +y towards +x (rad), ``length`` and ``sigma`` (px); each streak's samples inside its
    reach are normalised to sum to ``integral`` (the part falling outside the canvas is dropped)."""
    height, width = canvas.shape
    root2 = math.sqrt(2.0)
    for d in range(cx.shape[0]):
        ux, uy = math.sin(angle[d]), math.cos(angle[d])
        half, sig = 0.5 * length[d], sigma[d]
        reach_x = abs(ux) * half + REACH_SIGMAS * sig
        reach_y = abs(uy) * half + REACH_SIGMAS * sig
        x0, x1 = int(math.floor(cx[d] - reach_x)), int(math.ceil(cx[d] + reach_x))
        y0, y1 = int(math.floor(cy[d] - reach_y)), int(math.ceil(cy[d] + reach_y))
        values = np.empty((y1 - y0 + 1, x1 - x0 + 1))
        total = 0.0
        for i in range(y0, y1 + 1):
            for j in range(x0, x1 + 1):
                rx, ry = j - cx[d], i - cy[d]
                along = rx * ux + ry * uy
                across = -rx * uy + ry * ux
                if half > 1e-6 * sig:  # segment blurred by the Gaussian
                    profile = 0.5 * (math.erf((half - along) / (root2 * sig))
                                     - math.erf((-half - along) / (root2 * sig)))
                else:  # a point: its limit, up to a constant the normalisation removes
                    profile = math.exp(-0.5 * (along / sig) ** 2)
                v = math.exp(-0.5 * (across / sig) ** 2) * profile
                values[i - y0, j - x0] = v
                total += v
        scale = integral[d] / total
        for i in range(max(y0, 0), min(y1, height - 1) + 1):
            for j in range(max(x0, 0), min(x1, width - 1) + 1):
                canvas[i, j] += scale * values[i - y0, j - x0]


def _reach(length: float, sigma: float) -> int:
    """Pixels from a streak's centre to the end of its kernel, rounded up."""
    return int(math.ceil(0.5 * length + REACH_SIGMAS * sigma)) + 1


def streak_kernel(length: float, sigma: float, angle: float, integral: float) -> np.ndarray:
    """One streak centred on the middle pixel of a (2r+1, 2r+1) array (r its reach): a segment of
    ``length`` (px) along ``angle`` (rad from +y towards +x) blurred by a Gaussian of ``sigma`` (px),
    summing to ``integral``. The renderer splats exactly these kernels."""
    r = _reach(length, sigma)
    kernel = np.zeros((2 * r + 1, 2 * r + 1))
    one = np.ones(1)
    _splat(kernel, one * r, one * r, one * angle, one * length, one * sigma, one * integral)
    return kernel


class _Drops(NamedTuple):
    """Per-drop streak parameters of one layer, each (n,): diameter (mm), angle (rad), length (px),
    sigma (px), integral (intensity px^2)."""

    diameter: np.ndarray
    angle: np.ndarray
    length: np.ndarray
    sigma: np.ndarray
    integral: np.ndarray


def _drop_streaks(diameter: np.ndarray, wind: np.ndarray, layer: RainLayer, config: RainConfig) -> _Drops:
    """Streak geometry of drops of ``diameter`` (mm) in ``wind`` (m/s, per drop) at ``layer``'s depth."""
    speed = terminal_speed(diameter)
    width = config.focal * diameter * 1e-3 / layer.depth
    length = config.focal * config.exposure * np.hypot(speed, wind) / layer.depth
    sigma = np.maximum(width / FWHM_PER_SIGMA, config.min_sigma)
    return _Drops(diameter, np.arctan2(wind, speed), length, sigma, layer.brightness * np.pi * width ** 2 / 4)


def _marshall_palmer(count: int, config: RainConfig, rng: np.random.Generator) -> np.ndarray:
    """``count`` diameters (mm) from exp(-D / diameter_scale) truncated to ``config.diameter``."""
    low, high = config.diameter
    mass = 1.0 - np.exp(-(high - low) / config.diameter_scale)
    return low - config.diameter_scale * np.log1p(-rng.random(count) * mass)


def _layer_reach(layer: RainLayer, config: RainConfig) -> int:
    """An upper bound (px) on the reach of any streak of ``layer``: drops farther outside cannot touch
    the image."""
    wind = max(abs(config.wind[0]), abs(config.wind[1])) + GUST_CLIP * config.gust
    high = np.array([config.diameter[1]])
    bound = _drop_streaks(high, np.array([wind]), layer, config)
    return _reach(float(bound.length[0]), float(bound.sigma[0]))


def render_rain(shape: tuple[int, int], config: RainConfig, wind: float, rng: np.random.Generator) -> np.ndarray:
    """The rain layer R (H, W) float64 >= 0 for one image of ``shape`` under mean ``wind`` (m/s), the sum
    of ``config.layers`` (nearest first), drawn from ``rng``."""
    height, width = shape
    rain = np.zeros(shape)
    for layer in config.layers:
        pad = _layer_reach(layer, config)
        canvas_h, canvas_w = height + 2 * pad, width + 2 * pad
        count = rng.binomial(canvas_h * canvas_w, layer.density)
        cx = rng.uniform(-pad - 0.5, width + pad - 0.5, count)
        cy = rng.uniform(-pad - 0.5, height + pad - 0.5, count)
        gusts = np.clip(rng.normal(0.0, 1.0, count), -GUST_CLIP, GUST_CLIP) * config.gust
        drops = _drop_streaks(_marshall_palmer(count, config, rng), wind + gusts, layer, config)
        _splat(rain, cx, cy, drops.angle, drops.length, drops.sigma, drops.integral)
    return rain


# ---------------------------------------------------------------------------
# samples
# ---------------------------------------------------------------------------


class RainSample(NamedTuple):
    """One rainy image, all (H, W) float64: ``background`` B, ``rain`` R, ``transmission`` T, ``rainy``
    O = T (B + R) + (1 - T) A; ``airlight`` A (0 without haze); ``wind`` (m/s) the image's mean wind."""

    background: np.ndarray
    rain: np.ndarray
    transmission: np.ndarray
    rainy: np.ndarray
    airlight: float
    wind: float


def rainy_sample(background: np.ndarray, config: RainConfig, rng: np.random.Generator) -> RainSample:
    """Rain (and haze, if configured) over ``background`` (H, W) in [0, 1], drawn from ``rng``."""
    background = np.asarray(background, dtype=np.float64)
    wind = float(rng.uniform(*config.wind))
    rain = render_rain(background.shape, config, wind, rng)
    if config.clip:
        rain = np.clip(background + rain, 0.0, 1.0) - background
    if config.haze is None:
        return RainSample(background, rain, np.ones_like(background), background + rain, 0.0, wind)
    transmission = np.broadcast_to(config.haze.transmission(background.shape[0]), background.shape).copy()
    airlight = config.haze.airlight
    rainy = transmission * (background + rain) + (1.0 - transmission) * airlight
    return RainSample(background, rain, transmission, rainy, airlight, wind)


@dataclass
class RainSet:
    """``n`` samples: ``background``, ``rain``, ``transmission``, ``rainy`` (n, H, W) float64;
    ``airlight`` and ``wind`` (n,); ``photo`` the source photo of each sample and ``origin`` (n, 2) the
    crop's top-left (row, column) in it."""

    background: np.ndarray
    rain: np.ndarray
    transmission: np.ndarray
    rainy: np.ndarray
    airlight: np.ndarray
    wind: np.ndarray
    photo: tuple[str, ...]
    origin: np.ndarray

    @property
    def residual(self) -> np.ndarray:
        """O - B (n, H, W): what a network predicting the rain layer is trained on."""
        return self.rainy - self.background


def make_dataset(photos: tuple[str, ...], count: int, crop: int, config: RainConfig, seed: int) -> RainSet:
    """``count`` rainy ``crop`` x ``crop`` samples: each from a photo of ``photos`` drawn uniformly, at a
    uniform crop position, with fresh rain; the same ``seed`` gives the same set.
    Raises ValueError when ``crop`` exceeds the smallest photo's side or ``photos`` is empty."""
    if not photos:
        raise ValueError("photos is empty: give at least one scikit-image photo name")
    side = smallest_photo_side(photos)
    _require(0 < crop <= side, "make_dataset", "crop", crop, f"(0, {side}] px (the smallest photo's side)")
    rng = np.random.default_rng(seed)
    samples, names, origins = [], [], []
    for _ in range(count):
        name = photos[rng.integers(len(photos))]
        image = load_photo(name)
        row = int(rng.integers(image.shape[0] - crop + 1))
        col = int(rng.integers(image.shape[1] - crop + 1))
        samples.append(rainy_sample(image[row:row + crop, col:col + crop], config, rng))
        names.append(name)
        origins.append((row, col))
    stacked = [np.stack([s[k] for s in samples]) if samples else np.zeros((0, crop, crop)) for k in range(4)]
    return RainSet(*stacked, np.array([s.airlight for s in samples]), np.array([s.wind for s in samples]),
                   tuple(names), np.array(origins, dtype=np.int64).reshape(-1, 2))
