"""Per-frame cost of the DCF itself (:mod:`solvers.dcf`) against a plain numpy version, and the whole
tracker's frames per second on one thread with every feature of the ``cf_tracking`` kind.

One frame of the DCF, given the features of the search windows at ``len(SCALES)`` scales and of the
training window (C, h, w) each: their spectra, the responses at every scale, the best peak refined to a
sub-cell displacement, and the running-average update of numerator and denominator. The project:
``numpy.fft.rfft2`` half spectra of all channels in one call, channel sums by ``einsum`` (``filter_terms``,
``response``, ``subcell_peak`` of :mod:`solvers.dcf`). The plain numpy version: full complex ``fft2`` and
``ifft2`` per channel in a Python loop, the same formulas. Feature sizes: raw pixels (1 x 48 x 48), HOG
(9 x 12 x 12, cell 4 px), the student's (32 x 12 x 12) and the teacher's (128 x 12 x 12) last layer of
:mod:`learners.tracking_nets`. Both give the same displacement (checked in the run). Time: the shortest of
``repeat`` rounds of ``FRAMES`` frames, the two implementations taking turns. The whole tracker
(:func:`solvers.dcf.track`, window crop and features included, ``torch.set_num_threads(1)``) on one simulated
test sequence of 60 frames, 96 x 96 px, with raw pixels, HOG, the teacher and a student of
:mod:`learners.tracking_nets` (default widths; the speed does not depend on the weights, so the networks are
untrained) at the kind's default feature cell (4 px) and at distill.yaml's (2 px), each with the plain and the
background-aware update (four more windows per frame); the best of ``repeat`` rounds.

Run: ``python -m benchmarks.bench_cf_tracking``.
"""

from __future__ import annotations

import os
import time

import numpy as np

import torch

from learners.tracking_nets import (STRIDES, STUDENT_WIDTHS, TEACHER_WIDTHS, FeatureNet, feature_extractor,
                                    multiply_adds)
from learners.training import torch_threads
from solvers import dcf
from solvers import tracking_sequences as ts

SCALES = 3
FRAMES = 50
SHAPES = {"pixels": (1, 48, 48), "HOG": (9, 12, 12), "student": (32, 12, 12), "teacher": (128, 12, 12)}
LAM, ETA = 1e-2, 0.02
CONTEXT = 0.5  # weight of the background windows of the background-aware update (the kind's default)
#: Suffix of the networks' names -> their strides: the kind's default (cell 4 px) and distill.yaml's (cell 2 px).
NETWORK_STRIDES = {"": STRIDES, "/2": (2, 1, 1)}


def project_frame(model: tuple[np.ndarray, np.ndarray], yf: np.ndarray, searches: np.ndarray,
                  training: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[float, float, int]]:
    """One frame with :mod:`solvers.dcf`: (updated (numerator, denominator), (dy, dx, best scale index)) from
    the model, the label spectrum, search features (S, C, h, w) and training features (C, h, w)."""
    shape = searches.shape[-2:]
    responses = dcf.response(*model, np.fft.rfft2(searches), LAM, shape)
    peaks = [dcf.subcell_peak(r) for r in responses]
    best = int(np.argmax([p[2] for p in peaks]))
    numerator, denominator = dcf.filter_terms(np.fft.rfft2(training), yf)
    model = (ETA * numerator + (1 - ETA) * model[0], ETA * denominator + (1 - ETA) * model[1])
    return model, (peaks[best][0], peaks[best][1], best)


def numpy_frame(model: tuple[np.ndarray, np.ndarray], yf: np.ndarray, searches: np.ndarray,
                training: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[float, float, int]]:
    """The same frame in plain numpy: full spectra (``yf`` and the model full (h, w) too), loops over scales
    and channels."""
    best = (-np.inf, 0.0, 0.0, 0)
    numerator, denominator = model
    for s, search in enumerate(searches):
        spectrum = np.zeros(yf.shape, dtype=complex)
        for c in range(search.shape[0]):
            spectrum += np.conj(numerator[c]) * np.fft.fft2(search[c])
        r = np.fft.ifft2(spectrum / (denominator + LAM)).real
        dy, dx, value = dcf.subcell_peak(r)
        if value > best[0]:
            best = (value, dy, dx, s)
    new_numerator = np.empty_like(numerator)
    new_denominator = np.zeros(yf.shape)
    for c in range(training.shape[0]):
        xf = np.fft.fft2(training[c])
        new_numerator[c] = np.conj(yf) * xf
        new_denominator += (xf * np.conj(xf)).real
    model = (ETA * new_numerator + (1 - ETA) * numerator, ETA * new_denominator + (1 - ETA) * denominator)
    return model, best[1:]


def case(shape: tuple[int, int, int], seed: int = 0):
    """(project model, numpy model, project label spectrum, numpy label spectrum, frames): a model trained
    on random features of ``shape`` and ``FRAMES`` frames of (searches (S, C, h, w), training (C, h, w))."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    y = dcf.gaussian_label(h, w, 1.0)
    x = rng.normal(size=shape)
    half = dcf.filter_terms(np.fft.rfft2(x), np.fft.rfft2(y))
    xf = np.fft.fft2(x)
    full = (np.conj(np.fft.fft2(y)) * xf, np.sum((xf * np.conj(xf)).real, axis=0))
    frames = [(np.roll(x, (k % 3, -(k % 2)), axis=(1, 2))[None] + 0.1 * rng.normal(size=(SCALES, *shape)),
               rng.normal(size=shape)) for k in range(FRAMES)]
    return half, full, np.fft.rfft2(y), np.fft.fft2(y), frames


def _run(frame_fn, model, yf, frames):
    out = []
    for searches, training in frames:
        model, peak = frame_fn(model, yf, searches, training)
        out.append(peak)
    return out


def measure(repeat: int = 5) -> dict:
    """{"dcf": {features: {"project_ms", "numpy_ms", "same_peaks"}}, "tracker_fps": {features: fps},
    "load": (before, after)}; per-frame times in ms."""
    load_before = os.getloadavg()[0]
    results = {}
    for name, shape in SHAPES.items():
        half, full, yf_half, yf_full, frames = case(shape)
        best = {"project": np.inf, "numpy": np.inf}
        for _ in range(repeat):
            tic = time.perf_counter()
            project = _run(project_frame, half, yf_half, frames)
            best["project"] = min(best["project"], time.perf_counter() - tic)
            tic = time.perf_counter()
            plain = _run(numpy_frame, full, yf_full, frames)
            best["numpy"] = min(best["numpy"], time.perf_counter() - tic)
        same = bool(np.allclose(np.array(project), np.array(plain), rtol=0.0, atol=1e-9))
        results[name] = {"shape": shape, "project_ms": best["project"] / FRAMES * 1e3,
                         "numpy_ms": best["numpy"] / FRAMES * 1e3, "same_peaks": same}
    return {"dcf": results, "tracker_fps": tracker_fps(repeat), "load": (load_before, os.getloadavg()[0])}


def tracker_fps(repeat: int = 3) -> dict:
    """{tracker: {"fps", "multiply_adds"}}: frames per second of the whole tracker on one thread (best of
    ``repeat`` runs over one 60-frame sequence) and the network's multiply-adds per frame, for raw pixels, HOG,
    the teacher and a student with each feature cell of ``NETWORK_STRIDES`` (``teacher``, ``student``: the
    kind's default strides, cell 4 px; ``teacher/2``, ``student/2``: cell 2 px, distill.yaml's), each with the
    plain and the background-aware (``+background``) update."""
    seq = ts.make_sequences(0, 1, ts.TEST_PHOTOS, ts.Knobs(frames=60))[0]
    torch.manual_seed(0)
    nets = {f"{name}{suffix}": FeatureNet(widths, strides)
            for suffix, strides in NETWORK_STRIDES.items()
            for name, widths in (("teacher", TEACHER_WIDTHS), ("student", STUDENT_WIDTHS))}
    features = {"pixels": dcf.pixel_features, "HOG": dcf.hog_features(4),
                **{name: feature_extractor(net) for name, net in nets.items()}}
    out = {}
    with torch_threads(1):
        for name, extract in features.items():
            for context in (0.0, CONTEXT):
                config = dcf.DCFConfig(context=context)
                best = np.inf
                for _ in range(repeat):
                    tic = time.perf_counter()
                    dcf.track(extract, seq.frames, seq.boxes[0], config)
                    best = min(best, time.perf_counter() - tic)
                windows = len(config.scales) + 1 + (4 if context else 0)
                macs = multiply_adds(nets[name], config.window) * windows if name in nets else 0
                out[name + ("+background" if context else "")] = {"fps": (len(seq.frames) - 1) / best,
                                                                   "multiply_adds": macs}
    return out


def _teacher_of(tracker: str) -> str:
    """The teacher a tracker's speed is compared with: same update, and for a network the same cell
    (``student/2+background`` -> ``teacher/2+background``; pixels and HOG -> the default cell's)."""
    base, plus, update = tracker.partition("+")
    suffix = next((s for s in NETWORK_STRIDES if s and base.endswith(s)), "")
    return "teacher" + suffix + plus + update


def section(measured: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    rows = [f"| {name} | {' x '.join(map(str, r['shape']))} | {r['project_ms']:.3f} | {r['numpy_ms']:.3f} | "
            f"{r['numpy_ms'] / r['project_ms']:.2f}x | {'yes' if r['same_peaks'] else 'NO'} |"
            for name, r in measured["dcf"].items()]
    fps = measured["tracker_fps"]
    fps_rows = [f"| {name} | {r['multiply_adds']:.3g} | {r['fps']:.0f} | {r['fps'] / fps[_teacher_of(name)]['fps']:.2f}x |"
                for name, r in fps.items()]
    return [
        "## cf_tracking: the DCF per frame against plain numpy",
        "",
        f"One frame of the multi-channel DCF ({SCALES} scales searched, one update; features given): the "
        "project's batched half-spectrum version (`solvers.dcf`) against full complex FFTs per channel in a "
        f"Python loop. Best of the rounds of {FRAMES} frames, the two taking turns; one thread; load average "
        f"{measured['load'][0]:.1f} before and {measured['load'][1]:.1f} after (1 minute, {os.cpu_count()} cores).",
        "",
        "| features | C x h x w | project (ms/frame) | plain numpy (ms/frame) | speed-up | same peaks |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Whole tracker (crop, features, DCF; 96 x 96 px frames, 16 px target, 48 px window, 3 scales), one "
        "thread; the teacher (widths 64/96/128) and a student (16/24/32) of `learners.tracking_nets` with strides "
        "2, 2, 1 (cell 4 px, the kind's default) and, marked `/2`, 2, 1, 1 (cell 2 px, `distill.yaml`'s); "
        "`+background`: the background-aware update (4 more windows per frame); each network's speed is compared "
        "with the teacher's of the same cell and update:",
        "",
        "| tracker | network multiply-adds per frame | frames/s | FPS / teacher's (same update) |",
        "|---|---|---|---|",
        *fps_rows,
        "",
    ]


if __name__ == "__main__":
    print("\n".join(section(measure())))
