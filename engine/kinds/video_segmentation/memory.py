"""Peak memory of a ``video_segmentation`` run, from its spec (see :mod:`engine.spec.memory`).

With V training and V' held-out videos of T frames of n x n pixels, C channels, a batch of B frame pairs
and 4-byte floats:

- the videos: the generated frames (float32, 3 channels) are held three times (the per-video list, the
  stacked array, the torch tensor), the three bool masks once and the float32 mask tensor once:
  ``(V + V') T n^2 (3 x 12 + 3 + 4)``;
- a training step's activations, kept for autograd (x 3: convolution, batch norm and ReLU outputs): the
  encoder's four layers hold ``n^2 C / 2 + n^2 C / 4 + n^2 C / 4 + n^2 C / 16``, below ``2.25 n^2 C``
  floats per frame, the heads ``3 L C`` and the affinity with its two softmaxes ``3 L^2``, L = (n / 4)^2
  positions; for 2 B frames ``2 B x 4 x 3 (2.25 n^2 C + 3 L C + 3 L^2)`` bytes, doubled for the gradients;
- the parameters with gradients and Adam's moments: ``4 x 4 x 72 C^2`` (at most four 3x3 C-to-C
  convolutions and two 3x3 2C-to-C heads: 4 x 9 + 2 x 18 = 72 C^2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import VideoSegmentationSpec

FLOAT = 4
STRIDE = 4
ACTIVATION_COPIES = 3  # convolution, batch-norm and ReLU outputs kept for autograd
PARAMETER_COPIES = 4  # values, gradients, Adam's two moments


def peak_memory(spec: "VideoSegmentationSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    v, d, m, t = spec.video, spec.data, spec.model, spec.training
    pixels = v.frames * v.size**2
    positions = (-(-v.size // STRIDE)) ** 2
    per_frame = 2.25 * v.size**2 * m.channels + 3 * positions * m.channels + 3 * positions**2
    return estimate(
        ArrayBytes("data.train_videos", f"{d.train_videos} training videos ({v.frames}, {v.size}, {v.size}, 3) "
                   "float32 x 3, masks", d.train_videos * pixels * (3 * 12 + 3 + 4)),
        ArrayBytes("data.test_videos", f"{d.test_videos} held-out videos and their predictions",
                   d.test_videos * pixels * (3 * 12 + 3 + 4 + 8 * len(t.models))),
        ArrayBytes("training.batch", f"activations of {2 * t.batch} frames (C={m.channels}, L={positions}) x "
                   f"{ACTIVATION_COPIES} x 2", 2 * t.batch * FLOAT * ACTIVATION_COPIES * 2 * per_frame),
        ArrayBytes("model.channels", f"parameters (C={m.channels}) with gradients and Adam",
                   PARAMETER_COPIES * FLOAT * 72 * m.channels**2))
