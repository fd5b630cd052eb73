"""Peak memory of a ``deraining`` run, from its spec (see :mod:`engine.spec.memory`).

With n training patches of side c, m held-out crops of side t, base width w, b residual blocks per body and
a minibatch of k patches:

- the rendered sets, float64 background, rain, transmission and rainy image, and their float32 torch
  copies (rainy, background): ``(8 x 4 + 4 x 2) (n c^2 + m t^2)``;
- the training activations: the feature maps of the encoder-decoder carry w, 2w, 4w channels at 1, 1/4,
  1/16 of the pixels, 1.75 w per input pixel per stored map, about 10 b + 5 maps kept for the backward pass
  (two convolutions and their activations per block, the head, the downsamplings and the upsamplings), and
  as many gradients: ``2 x 4 x 1.75 w (10 b + 5) k c^2``;
- the evaluation in batches of 8 held-out crops without gradients (the maps of one body alive at a time,
  counted as the whole stack): ``4 x 1.75 w (10 b + 5) 8 t^2``;
- the L0 baseline's complex FFT arrays of one held-out crop: ``16 x 10 t^2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.memory import ArrayBytes, MemoryEstimate, estimate

if TYPE_CHECKING:  # pragma: no cover
    from .spec import DerainingSpec

FLOAT32, FLOAT64, COMPLEX128 = 4, 8, 16
CHANNELS_PER_PIXEL = 1.75  # w (1 + 2/4 + 4/16): channels x pixel fraction of the three scales, per w
EVAL_BATCH = 8  # learners.derain_net.derain's default batch
L0_ARRAYS = 10


def peak_memory(spec: "DerainingSpec") -> MemoryEstimate:
    """The estimate of the module docstring."""
    d, net = spec.data, spec.network
    pixels = d.train_count * d.crop**2 + d.test_count * d.test_crop**2
    maps = CHANNELS_PER_PIXEL * net.width * (10 * net.blocks + 5)
    return estimate(
        ArrayBytes("data.train_count", f"rendered sets ({d.train_count} x {d.crop}^2 + {d.test_count} x "
                   f"{d.test_crop}^2 px) float64 x 4 and float32 x 2", (4 * FLOAT64 + 2 * FLOAT32) * pixels),
        ArrayBytes("training.batch", f"activations and gradients ({spec.training.batch} x {d.crop}^2 px, "
                   f"{maps:.0f} channels per px) float32 x 2", 2 * FLOAT32 * maps * spec.training.batch * d.crop**2),
        ArrayBytes("data.test_crop", f"evaluation activations ({EVAL_BATCH} x {d.test_crop}^2 px) float32",
                   FLOAT32 * maps * EVAL_BATCH * d.test_crop**2),
        ArrayBytes("data.test_crop", f"L0 baseline FFT arrays ({d.test_crop}^2) complex128 x {L0_ARRAYS}",
                   COMPLEX128 * L0_ARRAYS * d.test_crop**2))
