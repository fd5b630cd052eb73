"""Tracking sequences simulated from the photos that ship with scikit-image, with exact boxes per frame.

A sequence is ``frames`` grayscale images of ``size x size`` pixels (float64, photo intensity in [0, 1]
before gain and noise). The background is a crop of one photo; the target is a square patch cut from
another photo and pasted, on top, at a position that follows a damped random walk

    v_{t+1} = clip(damping v_t + speed_noise e_t, |v| <= max_speed),   c_{t+1} = c_t + v_{t+1}   [px, px/frame]

with ``e_t`` standard normal, reflected (position and velocity) at the frame's edges so that the box stays
inside the frame. Optional effects (knobs of :class:`Knobs`): a same-source distractor (another crop of the
target's photo, moving by its own walk, drawn under the target), a global illumination gain
``1 + gain sin(2 pi t / frames + phase)``, Gaussian sensor noise, a scale change ``s_t = 1 + scale sin(...)``
(the box side is ``round(target s_t)``), an in-plane rotation of the target's texture inside its box at a
constant rate, motion blur of the target along its velocity, a partial occlusion of a fraction of the box
for a run of frames, and a run of out-of-view frames in which the target is not drawn (``visible`` False;
its box keeps following the walk).

Coordinates are continuous pixel coordinates: pixel ``(i, j)`` (row, column) covers
``[j, j + 1) x [i, i + 1)``, its centre is ``(j + 0.5, i + 0.5)``. A box is ``(x, y, w, h)``: left, top,
width, height in px; its centre is ``(x + w/2, y + h/2)``. Pasting is at integer box corners, so with no
rotation, blur, occlusion, gain or noise the frame inside the box is the target patch exactly.

Train and test sequences draw their photos from the disjoint tuples :data:`TRAIN_PHOTOS` and
:data:`TEST_PHOTOS`; background and target of one sequence are two different photos of one tuple.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

__all__ = ["TRAIN_PHOTOS", "TEST_PHOTOS", "Knobs", "Sequence", "photo", "crop_window", "box_centres",
           "make_sequence", "make_sequences", "window_pairs"]

#: photos (``skimage.data`` function names) of training sequences
TRAIN_PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "immunohistochemistry", "coins",
                "hubble_deep_field")
#: photos of test sequences (disjoint from :data:`TRAIN_PHOTOS`)
TEST_PHOTOS = ("brick", "grass", "gravel", "moon", "clock", "cell", "retina", "text")


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """The ``skimage.data`` photo ``name`` as a read-only grayscale float64 array (rows, columns) in [0, 1]."""
    import skimage.data
    from skimage.color import rgb2gray, rgba2rgb

    image = getattr(skimage.data, name)()
    if image.ndim == 3 and image.shape[2] == 4:
        image = rgba2rgb(image)
    if image.ndim == 3:
        image = rgb2gray(image)
    image = np.asarray(image, dtype=np.float64)
    if image.max() > 1.0:
        image = image / 255.0
    image.setflags(write=False)
    return image


@dataclass(frozen=True)
class Knobs:
    """Parameters of one simulated sequence (lengths in px, speeds in px/frame, angles in rad)."""

    frames: int = 60
    size: int = 96                  #: frame side [px]
    target: int = 16                #: target side at scale 1 [px]
    max_speed: float = 3.0          #: bound on |v| [px/frame]
    damping: float = 0.9            #: velocity memory per frame, in [0, 1]
    speed_noise: float = 1.0        #: std of the velocity kick per frame [px/frame]
    distractor: bool = True         #: a same-source patch moving by its own walk
    gain: float = 0.3               #: amplitude of the illumination gain (relative)
    noise: float = 0.02             #: std of the sensor noise [intensity]
    scale: float = 0.0              #: amplitude of the relative scale change (side = target (1 + scale sin))
    rotation: float = 0.0           #: in-plane rotation rate of the target's texture [rad/frame]
    blur: float = 0.0               #: motion-blur length per unit speed [frames]: length = blur |v| px
    occlusion: float = 0.0          #: fraction of the box's width covered during the occluded run
    occlusion_frames: int = 0       #: length of the occluded run [frames]
    out_of_view: int = 0            #: length of the run in which the target is not drawn [frames]

    def __post_init__(self):
        side = int(np.ceil(self.target * (1.0 + self.scale)))
        checks = [
            (self.frames >= 2, "frames", "at least 2", self.frames),
            (self.target >= 4, "target", "at least 4 px", self.target),
            (side < self.size, "target", f"a side (scale included, {side} px) below the frame's size "
                                         f"{self.size} px", self.target),
            (0.0 <= self.scale < 1.0, "scale", "in [0, 1)", self.scale),
            (0.0 <= self.damping <= 1.0, "damping", "in [0, 1]", self.damping),
            (self.max_speed >= 0.0, "max_speed", ">= 0", self.max_speed),
            (self.speed_noise >= 0.0, "speed_noise", ">= 0", self.speed_noise),
            (0.0 <= self.gain < 1.0, "gain", "in [0, 1)", self.gain),
            (self.noise >= 0.0, "noise", ">= 0", self.noise),
            (self.blur >= 0.0, "blur", ">= 0", self.blur),
            (0.0 <= self.occlusion <= 1.0, "occlusion", "in [0, 1]", self.occlusion),
            (0 <= self.occlusion_frames < self.frames, "occlusion_frames", f"in [0, frames={self.frames})",
             self.occlusion_frames),
            (0 <= self.out_of_view < self.frames, "out_of_view", f"in [0, frames={self.frames})",
             self.out_of_view),
        ]
        for ok, name, bound, value in checks:
            if not ok:
                raise ValueError(f"tracking sequence: {name} = {value!r} must be {bound}")


@dataclass(frozen=True)
class Sequence:
    """One simulated sequence: ``frames`` (T, size, size) float64; ``boxes`` (T, 4) float64 (x, y, w, h)
    [px], exact; ``visible`` (T,) bool (False in out-of-view frames); ``occluded`` (T,) float64, the
    fraction of the box covered; ``patch`` the target at scale 1, rotation 0 (target, target) float64;
    ``photos`` (background, target) names."""

    frames: np.ndarray
    boxes: np.ndarray
    visible: np.ndarray
    occluded: np.ndarray
    patch: np.ndarray
    photos: tuple[str, str]


def box_centres(boxes: np.ndarray) -> np.ndarray:
    """Centres (..., 2) as (x, y) [px] of boxes (..., 4) given as (x, y, w, h)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return boxes[..., :2] + boxes[..., 2:] / 2.0


def _linear_taps(coords: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, weight of the upper) of linear interpolation at ``coords`` (pixel-index
    coordinates) on an axis of ``n`` samples, coordinates outside [0, n - 1] clamped to the edge."""
    clamped = np.clip(coords, 0.0, n - 1.0)
    lower = np.floor(clamped).astype(np.int64)
    return lower, np.minimum(lower + 1, n - 1), clamped - lower


def crop_window(frame: np.ndarray, centre: np.ndarray, side: float, out: int) -> np.ndarray:
    """The square window of ``side`` px centred at ``centre`` = (x, y) [px] of ``frame`` (rows, columns),
    resampled bilinearly to (out, out) (pixels outside the frame repeat its edge: ``scipy.ndimage.
    map_coordinates`` with order 1 and mode ``nearest``, separably along rows and columns). With
    ``side == out`` and a centre on the pixel grid's corners (``centre - out/2`` integer) it is an exact crop."""
    offsets = (np.arange(out) + 0.5) * (side / out) - side / 2.0
    r0, r1, wr = _linear_taps(centre[1] + offsets - 0.5, frame.shape[0])
    c0, c1, wc = _linear_taps(centre[0] + offsets - 0.5, frame.shape[1])
    rows = frame[r0] * (1.0 - wr)[:, None] + frame[r1] * wr[:, None]
    return rows[:, c0] * (1.0 - wc) + rows[:, c1] * wc


def _walk(rng: np.random.Generator, knobs: Knobs, sides: np.ndarray) -> np.ndarray:
    """Top-left corners (T, 2) as (x, y) integers [px] of a damped, bounced random walk of boxes of
    ``sides`` (T,) [px] that stay inside the frame."""
    room = knobs.size - sides.max()
    pos = rng.uniform(0.0, room, size=2)
    vel = rng.normal(0.0, knobs.speed_noise, size=2)
    corners = np.empty((knobs.frames, 2), dtype=np.int64)
    for t in range(knobs.frames):
        if t:
            vel = knobs.damping * vel + rng.normal(0.0, knobs.speed_noise, size=2)
            speed = np.hypot(*vel)
            if speed > knobs.max_speed:
                vel *= knobs.max_speed / speed
            pos = pos + vel
            for a in range(2):
                if pos[a] < 0.0:
                    pos[a], vel[a] = -pos[a], -vel[a]
                elif pos[a] > room:
                    pos[a], vel[a] = 2.0 * room - pos[a], -vel[a]
        corners[t] = np.clip(np.rint(pos), 0, room)
    return corners


def _appearance(source: np.ndarray, side: int, scale: float, angle: float) -> np.ndarray:
    """(side, side) texture sampled bilinearly from ``source`` (square, the scale-1 patch at its centre with
    an even margin) about its centre: output pixel offsets p [px] map to source offsets R(angle) p / scale.
    At scale 1 and angle 0 it is the exact central crop."""
    centre = source.shape[0] / 2.0
    offsets = np.arange(side) + 0.5 - side / 2.0
    oy, ox = np.meshgrid(offsets, offsets, indexing="ij")
    c, s = np.cos(angle), np.sin(angle)
    sy = (c * oy - s * ox) / scale + centre - 0.5
    sx = (s * oy + c * ox) / scale + centre - 0.5
    return ndimage.map_coordinates(source, [sy, sx], order=1, mode="nearest")


def _motion_kernel(velocity: np.ndarray, length: float) -> np.ndarray:
    """Normalised line kernel of ``length`` px along ``velocity`` (x, y); (1, 1) of ones if length < 1."""
    if length < 1.0:
        return np.ones((1, 1))
    half = int(np.ceil(length / 2.0))
    kernel = np.zeros((2 * half + 1, 2 * half + 1))
    direction = velocity / np.hypot(*velocity)
    for u in np.linspace(-length / 2.0, length / 2.0, 4 * half + 1):
        kernel[int(np.rint(half + u * direction[1])), int(np.rint(half + u * direction[0]))] += 1.0
    return kernel / kernel.sum()


def _random_crop(rng: np.random.Generator, image: np.ndarray, side: int) -> np.ndarray:
    r = rng.integers(0, image.shape[0] - side + 1)
    c = rng.integers(0, image.shape[1] - side + 1)
    return image[r:r + side, c:c + side]


def _run(rng: np.random.Generator, frames: int, length: int) -> np.ndarray:
    """Boolean (frames,) True on one run of ``length`` frames starting after frame 0 (none if length 0)."""
    mask = np.zeros(frames, dtype=bool)
    if length:
        start = rng.integers(1, frames - length + 1)
        mask[start:start + length] = True
    return mask


def make_sequence(rng: np.random.Generator, photos: tuple[str, ...], knobs: Knobs = Knobs()) -> Sequence:
    """One sequence with background and target from two different photos of ``photos`` (names in
    ``skimage.data``), drawn by ``rng``. See the module for the model."""
    if len(set(photos)) < 2:
        raise ValueError(f"tracking sequence: photos = {photos!r} must name at least two different photos")
    background_name, target_name = rng.choice(list(photos), size=2, replace=False)
    background, source = photo(str(background_name)), photo(str(target_name))
    T, n = knobs.frames, knobs.size
    times = np.arange(T)
    scales = 1.0 + knobs.scale * np.sin(2.0 * np.pi * times / T + rng.uniform(0, 2 * np.pi))
    sides = np.rint(knobs.target * scales).astype(np.int64)
    margin = int(np.ceil(sides.max() * np.sqrt(2.0))) + 4
    margin += (margin - knobs.target) % 2  # source centre on the scale-1 patch's centre
    source_crop = _random_crop(rng, source, margin)
    distractor_crop = _random_crop(rng, source, knobs.target)
    gains = 1.0 + knobs.gain * np.sin(2.0 * np.pi * times / T + rng.uniform(0, 2 * np.pi))
    angles = knobs.rotation * times
    canvas = _random_crop(rng, background, n)
    corners = _walk(rng, knobs, sides)
    distractor_corners = _walk(rng, knobs, np.full(T, knobs.target)) if knobs.distractor else None
    velocities = np.vstack([np.zeros((1, 2)), np.diff(corners, axis=0)]).astype(np.float64)
    hidden = _run(rng, T, knobs.out_of_view)
    occluded = np.where(_run(rng, T, knobs.occlusion_frames), knobs.occlusion, 0.0)
    occluder = _random_crop(rng, background, n)

    frames = np.empty((T, n, n))
    boxes = np.empty((T, 4))
    for t in range(T):
        frame = canvas.copy()
        if distractor_corners is not None:
            dx, dy = distractor_corners[t]
            frame[dy:dy + knobs.target, dx:dx + knobs.target] = distractor_crop
        x, y = corners[t]
        side = int(sides[t])
        boxes[t] = (x, y, side, side)
        if not hidden[t]:
            layer = np.zeros((n, n))
            alpha = np.zeros((n, n))
            layer[y:y + side, x:x + side] = _appearance(source_crop, side, scales[t], angles[t])
            alpha[y:y + side, x:x + side] = 1.0
            length = knobs.blur * np.hypot(*velocities[t])
            if length >= 1.0:
                kernel = _motion_kernel(velocities[t], length)
                layer = ndimage.convolve(layer, kernel, mode="constant")
                alpha = ndimage.convolve(alpha, kernel, mode="constant")
            frame = frame * (1.0 - alpha) + layer
        cover = int(np.rint(occluded[t] * side))
        if cover:
            frame[y:y + side, x:x + cover] = occluder[y:y + side, x:x + cover]
        frames[t] = frame * gains[t]
    if knobs.noise:
        frames += rng.normal(0.0, knobs.noise, size=frames.shape)
    lo = (margin - knobs.target) // 2
    patch = source_crop[lo:lo + knobs.target, lo:lo + knobs.target].copy()
    return Sequence(frames, boxes, ~hidden, occluded, patch, (str(background_name), str(target_name)))


def make_sequences(seed: int, count: int, photos: tuple[str, ...], knobs: Knobs = Knobs()) -> list[Sequence]:
    """``count`` sequences from one ``numpy.random.default_rng(seed)`` stream (same seed, same sequences)."""
    rng = np.random.default_rng(seed)
    return [make_sequence(rng, photos, knobs) for _ in range(count)]


def window_pairs(rng: np.random.Generator, sequences: list[Sequence], count: int, window: int, gap: int,
                 max_shift: float, side: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training pairs for a tracking loss: ``count`` (template, search, shift). The template is the square
    window of ``side`` frame px (default ``window``) of frame t centred on the target's centre at t, resampled
    to (window, window) (:func:`crop_window`), the search is the window of frame t + ``gap`` at the same place,
    and ``shift`` (count, 2) = (dx, dy) [px of the window] is the target's displacement c_{t+gap} - c_t times
    window / side; pairs with the target out of view in either frame or a displacement above ``max_shift``
    frame px in either axis are redrawn. Returns float64 arrays (count, window, window),
    (count, window, window), (count, 2)."""
    side = float(window) if side is None else float(side)
    templates = np.empty((count, window, window))
    searches = np.empty((count, window, window))
    shifts = np.empty((count, 2))
    k = 0
    while k < count:
        seq = sequences[rng.integers(len(sequences))]
        t = int(rng.integers(len(seq.frames) - gap))
        centres = box_centres(seq.boxes[[t, t + gap]])
        shift = centres[1] - centres[0]
        if not (seq.visible[t] and seq.visible[t + gap]) or np.abs(shift).max() > max_shift:
            continue
        templates[k] = crop_window(seq.frames[t], centres[0], side, window)
        searches[k] = crop_window(seq.frames[t + gap], centres[0], side, window)
        shifts[k] = shift * (window / side)
        k += 1
    return templates, searches, shifts
