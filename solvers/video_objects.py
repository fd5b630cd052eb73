"""Synthetic videos for unsupervised video object segmentation: the primary object is the one that
re-appears in every frame (after Lu et al., COSNet, arXiv:2001.06810), with exact masks.

Each video has ``frames`` RGB frames of ``size`` x ``size`` pixels (values in [0, 1]) showing

* a **background**: a smooth random-colour field (a sum of low-frequency cosines per channel)
  seen through a camera that pans at ``pan_speed`` pixels/frame in a random direction;
* the **primary object**: a textured superellipse present in every frame, moving at ``speed``
  pixels/frame and bouncing off the frame's edges, with its texture fixed in its own frame;
* ``distractors`` **distractor slots**: each slot holds, at every frame, one object drawn from the
  same distribution of shapes, textures and motions as the primary object, that lives
  ``persistence`` frames (1 ... frames - 1) and is then replaced by a fresh one; the life that covers
  frame 0 starts at a random offset, so a slot's first object may be shorter-lived. Distractors
  never overlap the primary object or each other (rejection sampling over their whole life), so the
  depth order tells nothing about which object is the primary one;
* an optional **occluder**: in each frame, with probability ``occlusion``, a bar textured by another
  part of the background crosses the primary object and hides part of it (never all of it).

The true mask of a frame is the set of pixels whose centre lies inside the primary object and not
under the occluder (the visible object, as DAVIS annotates it). Pixels are not anti-aliased: a pixel
shows the object's texture exactly when the mask says so, and the masks are exact.

Shapes. An object of semi-axes ``(a, b)`` (pixels), exponent ``p`` and orientation ``theta`` centred
at ``c`` covers the pixel centre ``x`` when ``|u / a|^p + |v / b|^p <= 1`` with
``(u, v) = R(-theta) (x - c)``; ``p`` is drawn from {1 (diamond), 2 (ellipse), 4 (rounded square)},
``max(a, b)`` from ``radius`` (a fraction of ``size``) and ``min(a, b) / max(a, b)`` from [0.6, 1].

Textures. A sinusoidal grating mixing two colours,
``colour(u, v) = c1 + (c2 - c1) (1 + sin(2 pi f (u cos phi + v sin phi) + psi)) / 2``
in the object's own coordinates (``f`` in cycles/pixel), so an object looks the same wherever it
moves. ``texture_similarity`` s in [0, 1] draws every distractor's texture parameters (c1, c2, f,
phi, psi) as ``(1 - s) fresh + s primary``: s = 0 is the same distribution as the primary object,
s = 1 copies the primary object's texture onto every distractor (only shape and motion differ).

Noise. Gaussian pixel noise of standard deviation ``noise`` is added and the frame clipped to [0, 1].

Every video is generated from ``numpy.random.default_rng([seed, index])``, so a video does not
depend on how many others are generated with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["VideoConfig", "Video", "VideoSet", "Texture", "Shape", "texture_colours", "shape_mask",
           "generate_video", "generate_videos"]

_EXPONENTS = (1.0, 2.0, 4.0)
_BACKGROUND_WAVES = 4
_PLACEMENT_TRIES = 500


@dataclass(frozen=True)
class VideoConfig:
    """The knobs of the video simulation (lengths in pixels, times in frames).

    ``size``: frame height = width (>= 16). ``frames``: frames per video T (>= 2). ``distractors``:
    distractor slots (>= 0). ``persistence``: frames a distractor lives, 1 ... T - 1.
    ``texture_similarity``: in [0, 1], see the module. ``occlusion``: probability in [0, 1] that a
    frame's primary object is partly occluded. ``speed``: object speed (pixels/frame, >= 0).
    ``pan_speed``: camera pan of the background (pixels/frame, >= 0). ``noise``: pixel noise standard
    deviation (>= 0). ``radius``: (low, high) of an object's larger semi-axis as fractions of ``size``,
    0 < low <= high <= 0.25. ``margin``: smallest gap between two objects' bounding circles (pixels).
    """

    size: int = 48
    frames: int = 6
    distractors: int = 1
    persistence: int = 1
    texture_similarity: float = 0.0
    occlusion: float = 0.0
    speed: float = 1.5
    pan_speed: float = 0.5
    noise: float = 0.0
    radius: tuple[float, float] = (0.11, 0.17)
    margin: float = 1.0

    def __post_init__(self):
        _check(self.size >= 16, "size", self.size, ">= 16")
        _check(self.frames >= 2, "frames", self.frames, ">= 2")
        _check(self.distractors >= 0, "distractors", self.distractors, ">= 0")
        _check(1 <= self.persistence <= self.frames - 1, "persistence", self.persistence,
               f"in 1 ... frames - 1 = {self.frames - 1}")
        _check(0.0 <= self.texture_similarity <= 1.0, "texture_similarity", self.texture_similarity,
               "in [0, 1]")
        _check(0.0 <= self.occlusion <= 1.0, "occlusion", self.occlusion, "in [0, 1]")
        _check(self.speed >= 0.0, "speed", self.speed, ">= 0")
        _check(self.pan_speed >= 0.0, "pan_speed", self.pan_speed, ">= 0")
        _check(self.noise >= 0.0, "noise", self.noise, ">= 0")
        low, high = self.radius
        _check(0.0 < low <= high <= 0.25, "radius", self.radius, "0 < low <= high <= 0.25")
        _check(self.margin >= 0.0, "margin", self.margin, ">= 0")


def _check(ok: bool, field: str, value, bound: str) -> None:
    if not ok:
        raise ValueError(f"video simulation: {field} = {value!r} must be {bound}")


class Texture(NamedTuple):
    """A two-colour grating: colours ``c1``, ``c2`` (3,) in [0, 1], frequency ``f`` (cycles/pixel),
    direction ``phi`` and phase ``psi`` (radians)."""

    c1: np.ndarray
    c2: np.ndarray
    f: float
    phi: float
    psi: float


class Shape(NamedTuple):
    """A superellipse: semi-axes ``a``, ``b`` (pixels), exponent ``p``, orientation ``theta`` (radians)."""

    a: float
    b: float
    p: float
    theta: float


class Video(NamedTuple):
    """One video: ``frames`` (T, size, size, 3) float32 in [0, 1]; ``mask`` (T, size, size) bool, the
    visible primary object; ``distractor_mask`` (T, size, size) bool, the visible distractors;
    ``occluder_mask`` (T, size, size) bool; ``centre`` (T, 2) float64, the primary object's centre
    (row, column) in pixels; ``shape`` and ``texture`` of the primary object."""

    frames: np.ndarray
    mask: np.ndarray
    distractor_mask: np.ndarray
    occluder_mask: np.ndarray
    centre: np.ndarray
    shape: Shape
    texture: Texture


class VideoSet(NamedTuple):
    """Videos stacked: ``frames`` (V, T, size, size, 3) float32, ``mask``, ``distractor_mask`` and
    ``occluder_mask`` (V, T, size, size) bool."""

    frames: np.ndarray
    mask: np.ndarray
    distractor_mask: np.ndarray
    occluder_mask: np.ndarray


def _object_coordinates(rows: np.ndarray, cols: np.ndarray, centre: np.ndarray, theta: float):
    """Pixel centres (rows, cols) in an object's own frame (u, v), rotated by ``-theta`` about ``centre``."""
    dy, dx = rows - centre[0], cols - centre[1]
    cos, sin = np.cos(theta), np.sin(theta)
    return cos * dx + sin * dy, -sin * dx + cos * dy


def shape_mask(shape: Shape, centre: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: the pixels whose centre (row + 0.5, column + 0.5) lies inside ``shape`` at
    ``centre`` (row, column; pixels)."""
    rows, cols = _pixel_centres(size)
    u, v = _object_coordinates(rows, cols, centre, shape.theta)
    return np.abs(u / shape.a) ** shape.p + np.abs(v / shape.b) ** shape.p <= 1.0


def texture_colours(texture: Texture, shape: Shape, centre: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 3) float64: the colour of the object's texture at every pixel centre, in the object's
    own coordinates (defined everywhere; the object shows it where :func:`shape_mask` is true)."""
    rows, cols = _pixel_centres(size)
    u, v = _object_coordinates(rows, cols, centre, shape.theta)
    weight = 0.5 * (1.0 + np.sin(2 * np.pi * texture.f * (u * np.cos(texture.phi) + v * np.sin(texture.phi))
                                 + texture.psi))
    return texture.c1 + (texture.c2 - texture.c1) * weight[..., None]


def _pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    centres = np.arange(size) + 0.5
    return centres[:, None], centres[None, :]


def _draw_shape(config: VideoConfig, rng: np.random.Generator) -> Shape:
    major = rng.uniform(*config.radius) * config.size
    minor = major * rng.uniform(0.6, 1.0)
    a, b = (major, minor) if rng.random() < 0.5 else (minor, major)
    return Shape(a, b, float(rng.choice(_EXPONENTS)), rng.uniform(0.0, np.pi))


def _draw_texture(rng: np.random.Generator) -> Texture:
    return Texture(rng.uniform(0.0, 1.0, 3), rng.uniform(0.0, 1.0, 3), rng.uniform(0.08, 0.25),
                   rng.uniform(0.0, np.pi), rng.uniform(0.0, 2 * np.pi))


def _blend_texture(fresh: Texture, primary: Texture, similarity: float) -> Texture:
    return Texture(*[(1.0 - similarity) * np.asarray(f) + similarity * np.asarray(p)
                     for f, p in zip(fresh, primary)])


def _trajectory(shape: Shape, frames: int, config: VideoConfig, rng: np.random.Generator) -> np.ndarray:
    """(frames, 2) centres (row, column) moving at ``config.speed`` in a random direction, reflected at
    the frame's edges so that the object's bounding circle stays inside the frame."""
    reach = max(shape.a, shape.b)
    low, high = reach, config.size - reach
    start = rng.uniform(low, high, 2)
    angle = rng.uniform(0.0, 2 * np.pi)
    free = start + np.arange(frames)[:, None] * config.speed * np.array([np.sin(angle), np.cos(angle)])
    span = high - low
    folded = np.mod(free - low, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


def _background(config: VideoConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random low-frequency cosines: wave vectors (channels, waves, 2) in radians/pixel, phases and
    amplitudes (channels, waves)."""
    k = rng.uniform(-1.0, 1.0, (3, _BACKGROUND_WAVES, 2)) * (2 * np.pi / config.size)
    phase = rng.uniform(0.0, 2 * np.pi, (3, _BACKGROUND_WAVES))
    amplitude = rng.uniform(0.05, 0.15, (3, _BACKGROUND_WAVES))
    return k, phase, amplitude


def _field(waves, mean: np.ndarray, offset: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 3): the background field seen with the camera at ``offset`` (row, column; pixels)."""
    k, phase, amplitude = waves
    rows, cols = _pixel_centres(size)
    y, x = rows + offset[0], cols + offset[1]
    arg = k[..., 0, None, None] * y + k[..., 1, None, None] * x + phase[..., None, None]
    field = mean[:, None, None] + np.sum(amplitude[..., None, None] * np.cos(arg), axis=1)
    return np.clip(field, 0.0, 1.0).transpose(1, 2, 0)


def _distractor_lives(config: VideoConfig, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(first frame, frames) of the successive objects of one slot, covering frames 0 ... T - 1."""
    start = -int(rng.integers(0, config.persistence))
    lives = []
    while start < config.frames:
        first = max(start, 0)
        lives.append((first, min(start + config.persistence, config.frames) - first))
        start += config.persistence
    return lives


def _clear_of(centres: np.ndarray, reach: float, others: list[tuple[int, np.ndarray, float]], first: int,
              margin: float) -> bool:
    """Whether an object at ``centres`` (frames from ``first``) keeps its bounding circle ``margin``
    pixels away from every (first, centres, reach) of ``others`` in the frames they share."""
    for other_first, other_centres, other_reach in others:
        lo = max(first, other_first)
        hi = min(first + len(centres), other_first + len(other_centres))
        if lo >= hi:
            continue
        gap = np.linalg.norm(centres[lo - first:hi - first] - other_centres[lo - other_first:hi - other_first],
                             axis=1)
        if np.any(gap < reach + other_reach + margin):
            return False
    return True


def _place_distractor(config: VideoConfig, first: int, frames: int, placed: list, rng: np.random.Generator):
    for _ in range(_PLACEMENT_TRIES):
        shape = _draw_shape(config, rng)
        centres = _trajectory(shape, frames, config, rng)
        reach = max(shape.a, shape.b)
        if _clear_of(centres, reach, placed, first, config.margin):
            return shape, centres
    raise ValueError(f"video simulation: distractors = {config.distractors} do not fit in frames of "
                     f"size = {config.size} beside the primary object ({_PLACEMENT_TRIES} placements "
                     f"tried); use fewer distractors, a larger size or a smaller radius")


def _occluder(shape: Shape, centre: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size) bool: a bar through the object, at a random angle, half-width 0.3 of the object's
    smaller semi-axis and its axis within 0.4 of it from the centre, so it never hides the whole object."""
    minor = min(shape.a, shape.b)
    angle = rng.uniform(0.0, np.pi)
    offset = rng.uniform(-0.4, 0.4) * minor
    rows, cols = _pixel_centres(size)
    distance = (cols - centre[1]) * np.cos(angle) + (rows - centre[0]) * np.sin(angle) - offset
    return np.abs(distance) <= 0.3 * minor


def generate_video(config: VideoConfig, seed: int, index: int = 0) -> Video:
    """Video ``index`` of the stream seeded by ``seed`` (see the module for what it shows)."""
    rng = np.random.default_rng([seed, index])
    T, n = config.frames, config.size
    waves = _background(config, rng)
    mean = rng.uniform(0.25, 0.75, 3)
    pan_angle = rng.uniform(0.0, 2 * np.pi)
    pan = config.pan_speed * np.array([np.sin(pan_angle), np.cos(pan_angle)])
    occluder_offset = rng.uniform(n, 4 * n, 2)

    shape, texture = _draw_shape(config, rng), _draw_texture(rng)
    centre = _trajectory(shape, T, config, rng)
    placed = [(0, centre, max(shape.a, shape.b))]
    distractors = []
    for _ in range(config.distractors):
        for first, frames in _distractor_lives(config, rng):
            d_shape, d_centres = _place_distractor(config, first, frames, placed, rng)
            d_texture = _blend_texture(_draw_texture(rng), texture, config.texture_similarity)
            placed.append((first, d_centres, max(d_shape.a, d_shape.b)))
            distractors.append((first, d_shape, d_texture, d_centres))

    frames = np.empty((T, n, n, 3))
    mask = np.zeros((T, n, n), bool)
    distractor_mask = np.zeros((T, n, n), bool)
    occluder_mask = np.zeros((T, n, n), bool)
    for t in range(T):
        image = _field(waves, mean, t * pan, n)
        for first, d_shape, d_texture, d_centres in distractors:
            if first <= t < first + len(d_centres):
                inside = shape_mask(d_shape, d_centres[t - first], n)
                image[inside] = texture_colours(d_texture, d_shape, d_centres[t - first], n)[inside]
                distractor_mask[t] |= inside
        inside = shape_mask(shape, centre[t], n)
        image[inside] = texture_colours(texture, shape, centre[t], n)[inside]
        if rng.random() < config.occlusion:
            occluder_mask[t] = _occluder(shape, centre[t], n, rng)
            image[occluder_mask[t]] = _field(waves, mean[::-1], occluder_offset + t * pan, n)[occluder_mask[t]]
        mask[t] = inside & ~occluder_mask[t]
        distractor_mask[t] &= ~occluder_mask[t]
        frames[t] = image
    if config.noise > 0:
        frames = np.clip(frames + config.noise * rng.standard_normal(frames.shape), 0.0, 1.0)
    return Video(frames.astype(np.float32), mask, distractor_mask, occluder_mask, centre, shape, texture)


def generate_videos(config: VideoConfig, count: int, seed: int, first_index: int = 0) -> VideoSet:
    """Videos ``first_index ... first_index + count - 1`` of the stream seeded by ``seed``, stacked
    (use disjoint index ranges, or different seeds, for training and held-out videos)."""
    _check(count >= 1, "count", count, ">= 1")
    videos = [generate_video(config, seed, first_index + i) for i in range(count)]
    return VideoSet(*(np.stack([getattr(v, name) for v in videos])
                      for name in ("frames", "mask", "distractor_mask", "occluder_mask")))
