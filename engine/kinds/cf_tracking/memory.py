"""Peak memory of a ``cf_tracking`` run, from its spec (see :mod:`engine.spec.memory`).

With S = train + test sequences of T frames of n x n px (float64), a training step of B pairs (2 B windows of
w x w px), a network of widths (c1, c2, c3) and strides (s1, s2, s3) (feature maps (w/s1)^2 c1,
(w/(s1 s2))^2 c2, (w/(s1 s2 s3))^2 c3 per window: F floats, float32):

- the sequences: ``8 S T n^2`` (frames) plus the cropped pairs ``2 x 8 B w^2``;
- the training activations of the widest network (the teacher; a student's fidelity step adds the teacher's
  forward pass, smaller): ``COPIES x 4 x 2 B F`` with COPIES = 3 (forward values, saved for autograd,
  gradients), and the DCF layer's spectra of the last layer (complex64, x COPIES);
- parameters with gradients and Adam's two moments: ``4 x 4 x 9 (c1 + c1 c2 + c2 c3)`` per network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import CFTrackingSpec

FLOAT = 4
COPIES = 3


def _activations(widths: list[int], strides: list[int], window: int) -> float:
    """Floats of one window's feature maps through a network of ``widths`` and ``strides``."""
    total, side = 0.0, float(window)
    for width, stride in zip(widths, strides):
        side /= stride
        total += side * side * width
    return total


def _parameters(widths: list[int]) -> float:
    return 9.0 * (widths[0] + widths[0] * widths[1] + widths[1] * widths[2])


def peak_memory(spec: "CFTrackingSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    s, w, b = spec.sequences, spec.tracker.window, spec.pairs.batch
    count = s.train + s.test
    strides = spec.teacher.strides
    widest = max(spec.teacher.widths, spec.students.widths, key=lambda widths: _activations(widths, strides, w))
    spectra = 2 * b * (w / spec.cell) ** 2 * max(widest) * 8  # complex64 of the last layer's spectra
    return estimate(
        ArrayBytes("sequences.frames", f"{count} sequences ({s.frames}, {s.size}, {s.size}) float64",
                   8.0 * count * s.frames * s.size * s.size),
        ArrayBytes("pairs.batch", f"activations of {2 * b} windows ({w} px) x {COPIES}",
                   COPIES * FLOAT * 2 * b * _activations(widest, strides, w) + COPIES * spectra + 16.0 * b * w * w),
        ArrayBytes("teacher.widths", "parameters with gradients and Adam x 4",
                   4.0 * FLOAT * (_parameters(spec.teacher.widths) + _parameters(spec.students.widths))))
