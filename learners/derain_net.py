"""A small deraining encoder--decoder that predicts the rain layer, after Wang, Ma & Zeng (arXiv:1911.10810).

The network maps a rainy image O (N, C, H, W), H and W multiples of 4, to a rain layer R^ of the same
shape; the derained image is B^ = O - R^. Widths w, 2w, 4w at scales 1, 1/2, 1/4:

    head   conv3x3 C -> w
    enc1   body (w)                    at 1        --- skip ---+
    down   conv3x3 stride 2 w -> 2w                            |
    enc2   body (2w)                   at 1/2      - skip -+   |
    down   conv3x3 stride 2 2w -> 4w                       |   |
    mid    body (4w)                   at 1/4  -> aux head: R^_4 (N, C, H/4, W/4)
    up     convT 2x2 stride 2 4w -> 2w, + enc2
    dec2   body (2w)                   at 1/2  -> aux head: R^_2 (N, C, H/2, W/2)
    up     convT 2x2 stride 2 2w -> w,  + enc1
    dec1   body (w)                    at 1    -> tail conv3x3 w -> C: R^ (zero-initialised: R^ = 0 at start)

A body is ``blocks`` residual blocks x -> relu(x + conv(shuffle(relu(conv(x))))) whose two 3x3 convolutions
are grouped (``groups``) and bias-free, so the body has exactly 1/groups of the parameters and
multiply-adds of the plain one. ``share_features`` inserts a channel shuffle between the two grouped
convolutions, so each group's second convolution sees features of every group: our reading of the
paper's "feature sharing" (reconstructed; it costs no parameters). The auxiliary heads (conv3x3, zero
initialised) give the rain layer at 1/4 and 1/2 scale for the multi-scale auxiliary loss.

:func:`train` fits the network to rainy/background pairs with Adam in the shared training loop
(:func:`learners.training.fit_adam`) on the objective of :mod:`learners.derain_losses`;
:func:`derain` applies it to numpy images; :func:`psnr` and :func:`ssim` score a derained image against
the true background (scikit-image, data range 1).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import skimage.metrics
import torch
from torch import nn

from learners.derain_losses import LossWeights, objective
from learners.training import Curves, fit_adam

__all__ = ["DerainOutput", "DerainNet", "multiply_adds", "train", "derain", "psnr", "ssim"]


class DerainOutput(NamedTuple):
    """``rain`` R^ (N, C, H, W) and ``aux_rain`` {2: (N, C, H/2, W/2), 4: (N, C, H/4, W/4)}."""

    rain: torch.Tensor
    aux_rain: dict[int, torch.Tensor]


def _channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups (N, g*k, H, W) -> channel order (k, g)."""
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class _ResidualBlock(nn.Module):
    """x -> relu(x + conv(shuffle(relu(conv(x))))) with grouped, bias-free 3x3 convolutions."""

    def __init__(self, channels: int, groups: int, share_features: bool):
        super().__init__()
        self.groups, self.share_features = groups, share_features
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv1(x))
        if self.share_features and self.groups > 1:
            y = _channel_shuffle(y, self.groups)
        return torch.relu(x + self.conv2(y))


def _body(channels: int, blocks: int, groups: int, share_features: bool) -> nn.Sequential:
    return nn.Sequential(*[_ResidualBlock(channels, groups, share_features) for _ in range(blocks)])


def _zero_conv(inputs: int, outputs: int) -> nn.Conv2d:
    """A 3x3 convolution with zero weights and bias (its output starts at 0)."""
    conv = nn.Conv2d(inputs, outputs, 3, padding=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class DerainNet(nn.Module):
    """The encoder--decoder of the module: ``channels`` image channels, base ``width`` (a multiple of
    ``groups``), ``blocks`` residual blocks per body, ``groups`` and ``share_features`` of the bodies."""

    def __init__(self, channels: int = 1, width: int = 16, blocks: int = 1, groups: int = 1,
                 share_features: bool = False):
        super().__init__()
        if groups < 1 or width % groups:
            raise ValueError(f"DerainNet.groups = {groups!r} must be >= 1 and divide width = {width}")
        if blocks < 1:
            raise ValueError(f"DerainNet.blocks = {blocks!r} is outside [1, inf)")
        w = width
        self.head = nn.Conv2d(channels, w, 3, padding=1)
        self.enc1 = _body(w, blocks, groups, share_features)
        self.down1 = nn.Conv2d(w, 2 * w, 3, stride=2, padding=1)
        self.enc2 = _body(2 * w, blocks, groups, share_features)
        self.down2 = nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1)
        self.mid = _body(4 * w, blocks, groups, share_features)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = _body(2 * w, blocks, groups, share_features)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = _body(w, blocks, groups, share_features)
        self.tail = _zero_conv(w, channels)
        self.aux4 = _zero_conv(4 * w, channels)
        self.aux2 = _zero_conv(2 * w, channels)

    def bodies(self) -> list[nn.Module]:
        """The five bodies (the grouped part of the network)."""
        return [self.enc1, self.enc2, self.mid, self.dec2, self.dec1]

    def body_parameter_count(self) -> int:
        """Parameters in the bodies: exactly 1/groups of those of the same network with groups = 1."""
        return sum(p.numel() for body in self.bodies() for p in body.parameters())

    def forward(self, rainy: torch.Tensor) -> DerainOutput:
        """R^ and the auxiliary rain layers for ``rainy`` (N, C, H, W), H and W multiples of 4."""
        if rainy.shape[-1] % 4 or rainy.shape[-2] % 4:
            raise ValueError(f"DerainNet input height and width {tuple(rainy.shape[-2:])} must be multiples of 4")
        e1 = self.enc1(torch.relu(self.head(rainy)))
        e2 = self.enc2(torch.relu(self.down1(e1)))
        m = self.mid(torch.relu(self.down2(e2)))
        d2 = self.dec2(torch.relu(self.up2(m)) + e2)
        d1 = self.dec1(torch.relu(self.up1(d2)) + e1)
        return DerainOutput(self.tail(d1), {2: self.aux2(d2), 4: self.aux4(m)})


def multiply_adds(model: nn.Module, shape: tuple[int, int, int, int], modules: list[nn.Module] | None = None) -> int:
    """Multiply-adds of the convolutions of ``model`` (of those inside ``modules``, if given) in one
    forward pass on an input of ``shape`` (N, C, H, W): a convolution costs (output elements) x
    (input channels / groups) x kernel area, a transposed one (input elements) x (output channels /
    groups) x kernel area."""
    inside = None if modules is None else {id(m) for parent in modules for m in parent.modules()}
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        kernel = math.prod(layer.kernel_size)
        if isinstance(layer, nn.ConvTranspose2d):
            total += inputs[0].numel() * layer.out_channels // layer.groups * kernel
        else:
            total += output.numel() * layer.in_channels // layer.groups * kernel

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and (inside is None or id(m) in inside)]
    p = next(model.parameters())
    try:
        with torch.no_grad():
            model(torch.zeros(shape, dtype=p.dtype, device=p.device))
    finally:
        for hook in hooks:
            hook.remove()
    return total


def _as_batch(images: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """(n, H, W) grey or (n, C, H, W) numpy images as an (n, C, H, W) tensor of ``like``'s dtype/device."""
    x = torch.as_tensor(np.asarray(images), dtype=like.dtype, device=like.device)
    return x[:, None] if x.ndim == 3 else x


def train(model: DerainNet, rainy: np.ndarray, background: np.ndarray, weights: LossWeights, *, steps: int,
          batch: int, lr: float, record_every: int, seed: int,
          held_out: tuple[np.ndarray, np.ndarray] | None = None,
          progress: Callable[[int, int], None] | None = None) -> Curves:
    """Fit ``model`` to ``rainy`` and ``background`` images (n, H, W) or (n, C, H, W) in [0, 1] by Adam
    (cosine-decayed ``lr``) on minibatches of ``batch`` images drawn with ``seed``; the first
    ``weights.warmup_l2_fraction`` of the steps minimise L_l2, the rest the weighted terms. The curves
    hold the objective and, with ``held_out`` = (rainy, background), the held-out mean |B^ - B|."""
    p = next(model.parameters())
    o, b = _as_batch(rainy, p), _as_batch(background, p)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    warm_steps = round(weights.warmup_l2_fraction * steps)

    def step_objective(s: int) -> torch.Tensor:
        pick = torch.randint(len(o), (min(batch, len(o)),), generator=generator).to(p.device)
        out = model(o[pick])
        return objective(out.rain, out.aux_rain, o[pick], b[pick], weights, warm_up=s < warm_steps)

    held_error = None if held_out is None else _held_out_error(model, *held_out)
    return fit_adam(step_objective, list(model.parameters()), steps, lr, record_every, held_error, progress)


def _held_out_error(model: DerainNet, rainy: np.ndarray, background: np.ndarray) -> Callable[[], torch.Tensor]:
    """A function giving the mean |B^ - B| of ``model`` on the ``rainy`` / ``background`` images."""
    p = next(model.parameters())
    o, b = _as_batch(rainy, p), _as_batch(background, p)
    return lambda: torch.mean(torch.abs(o - model(o).rain - b))


@torch.no_grad()
def derain(model: DerainNet, rainy: np.ndarray, batch: int = 8) -> np.ndarray:
    """B^ = O - R^ for ``rainy`` images (n, H, W) or (n, C, H, W), float64 of the same shape; images whose
    sides are not multiples of 4 are reflect-padded for the network and cropped back."""
    p = next(model.parameters())
    o = _as_batch(rainy, p)
    h, w = o.shape[-2:]
    padded = torch.nn.functional.pad(o, (0, -w % 4, 0, -h % 4), mode="reflect")
    rain = torch.cat([model(padded[i:i + batch]).rain for i in range(0, len(o), batch)])
    out = (o - rain[..., :h, :w]).double().cpu().numpy()
    return out.reshape(np.shape(rainy))


def psnr(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of ``estimate`` against ``truth`` (same shape, data range 1):
    10 log10(1 / mean((estimate - truth)^2)), +inf when they are identical."""
    if np.array_equal(estimate, truth):
        return math.inf
    return float(skimage.metrics.peak_signal_noise_ratio(truth, estimate, data_range=1.0))


def ssim(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity of grey images (H, W) (scikit-image defaults: 7x7 window, data range 1);
    1 for identical images."""
    return float(skimage.metrics.structural_similarity(truth, estimate, data_range=1.0))
