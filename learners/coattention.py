"""Co-attention Siamese segmentation (after Lu et al., COSNet, arXiv:2001.06810, and its released code),
small enough to train on CPU, with the controls that isolate its idea.

A shared encoder maps frames a and b (3, H, W) to features V_a, V_b in R^{C x L} (L = H' W', output
stride ``stride``). The co-attention block computes

    S   = V_b^T W V_a                       (L_b x L_a affinity, W in R^{C x C})
    S^c = softmax(S)    over its rows  (for every position of a, a distribution over positions of b)
    S^r = softmax(S^T)  over its rows  (for every position of b, a distribution over positions of a)
    Z_a = V_b S^c,   Z_b = V_a S^r          (each position summarised by the other frame's features)
    Z  <- Z * sigmoid(w_g^T Z)              (a 1x1 gate C -> 1, no bias, shared by both branches)
    X_a = [Z_a, V_a]                        (2C channels)
    logits_a = up(conv1x1(relu(bn(conv3x3(X_a)))))   (bilinear upsampling to H x W; own head per branch)

and the same for b with its own head. Three forms of W:

* ``vanilla``: W free (C^2 parameters; the released code's ``linear_e``);
* ``symmetric``: W = P^T diag(D) P with P orthogonal through ``torch.nn.utils.parametrizations.orthogonal``
  (C^2 + C parameters), so W = W^T: both frames projected into one orthogonal space;
* ``channel``: W = diag(d) (C parameters), a per-channel weighting before the dot product.

Initialisation (``init``): ``identity`` starts every variant at W = I / sqrt(C) (a scaled dot product;
P a random orthogonal matrix, D = d = 1/sqrt(C)); ``uniform`` draws the free entries (W, or D, or d)
uniformly in +-1/sqrt(C), as the released code's bias-free ``nn.Linear`` does for W. The paper gives
no initialisation for the symmetric and channel-wise forms.

Arms (same module, same weights, same parameter count; they differ only in what the block sees):

* ``coattention``: the reference is another frame of the same video;
* ``self_reference``: the reference is the query frame itself (``model(x, x)``, as COSNet feeds static
  images): a within-frame non-local block, no cross-frame information;
* ``single_frame``: Z_a = Z_b = 0, each frame segmented from its own features only.

Training (:func:`train`): pairs of random distinct frames of one video (the same frame twice for
``self_reference``), both heads supervised by :func:`segmentation_loss`, Adam through
:func:`learners.training.fit_adam` on the shared loop. Inference (:func:`segment_video`):
every frame is segmented against N reference frames of its video and the N probabilities averaged.

Tensors: frames (B, 3, H, W) float, values in [0, 1]; masks (B, H, W) in {0, 1}; logits (B, H, W).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrizations

from learners.training import Curves, fit_adam

__all__ = ["VARIANTS", "ARMS", "INITS", "Encoder", "CoAttention", "CoAttentionSegmenter", "segmentation_loss",
           "pair_logits", "segment_video", "video_tensors", "train"]

VARIANTS = ("vanilla", "symmetric", "channel")
ARMS = ("coattention", "self_reference", "single_frame")
INITS = ("identity", "uniform")


def _conv_bn_relu(inputs: int, outputs: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(outputs),
            nn.ReLU()]


class Encoder(nn.Sequential):
    """Four 3x3 conv-BN-ReLU layers, ``channels`` C out, two of them with stride 2 (output stride 4):
    (B, 3, H, W) -> (B, C, ceil(H/4), ceil(W/4))."""

    stride = 4

    def __init__(self, channels: int = 48):
        super().__init__(*_conv_bn_relu(3, channels // 2, 1), *_conv_bn_relu(channels // 2, channels, 2),
                         *_conv_bn_relu(channels, channels, 1), *_conv_bn_relu(channels, channels, 2))


class CoAttention(nn.Module):
    """The affinity W of one ``variant`` (see the module), the two normalised summaries and the shared
    bias-free gate, on flattened features (B, C, L)."""

    def __init__(self, channels: int, variant: str = "vanilla", init: str = "identity"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"co-attention: variant = {variant!r} must be one of {VARIANTS}")
        if init not in INITS:
            raise ValueError(f"co-attention: init = {init!r} must be one of {INITS}")
        self.variant = variant
        scale = 1.0 / math.sqrt(channels)

        def start(*shape: int) -> nn.Parameter:
            if init == "uniform":
                return nn.Parameter(torch.empty(*shape).uniform_(-scale, scale))
            return nn.Parameter(scale * (torch.eye(channels) if len(shape) == 2 else torch.ones(channels)))

        if variant == "vanilla":
            self.matrix = start(channels, channels)
        elif variant == "symmetric":
            self.rotation = parametrizations.orthogonal(nn.Linear(channels, channels, bias=False))
            self.eigenvalues = start(channels)
        else:
            self.diagonal = start(channels)
        self.gate = nn.Conv1d(channels, 1, 1, bias=False)

    @property
    def weight(self) -> torch.Tensor:
        """W (C, C) of this variant."""
        if self.variant == "vanilla":
            return self.matrix
        if self.variant == "symmetric":
            p = self.rotation.weight
            return p.T @ (self.eigenvalues[:, None] * p)
        return torch.diag(self.diagonal)

    def affinity(self, v_a: torch.Tensor, v_b: torch.Tensor) -> torch.Tensor:
        """S = V_b^T W V_a, (B, L_b, L_a) from V_a (B, C, L_a) and V_b (B, C, L_b)."""
        return v_b.transpose(1, 2) @ (self.weight @ v_a)

    def summaries(self, v_a: torch.Tensor, v_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Ungated Z_a = V_b softmax(S) (B, C, L_a) and Z_b = V_a softmax(S^T) (B, C, L_b), each softmax
        over the rows (dim 1) of its matrix, so that every column of S^c and S^r sums to 1."""
        s = self.affinity(v_a, v_b)
        return v_b @ torch.softmax(s, dim=1), v_a @ torch.softmax(s.transpose(1, 2), dim=1)

    def gated(self, z: torch.Tensor) -> torch.Tensor:
        """Z * sigmoid(w_g^T Z), the gate (B, 1, L) broadcast over the channels of Z (B, C, L)."""
        return z * torch.sigmoid(self.gate(z))

    def forward(self, v_a: torch.Tensor, v_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_a, z_b = self.summaries(v_a, v_b)
        return self.gated(z_a), self.gated(z_b)


class _Head(nn.Sequential):
    """conv3x3 (2C -> C, no bias) - BN - ReLU - conv1x1 (C -> 1): logits at feature resolution."""

    def __init__(self, channels: int):
        super().__init__(*_conv_bn_relu(2 * channels, channels, 1), nn.Conv2d(channels, 1, 1))


class CoAttentionSegmenter(nn.Module):
    """Encoder, co-attention block of ``variant`` started by ``init`` and one head per branch (``channels``
    C features)."""

    def __init__(self, variant: str = "vanilla", channels: int = 48, init: str = "identity"):
        super().__init__()
        self.encoder = Encoder(channels)
        self.coattention = CoAttention(channels, variant, init)
        self.head_a = _Head(channels)
        self.head_b = _Head(channels)

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, attend: bool = True):
        """Logits (B, H, W) for frames a and b (B, 3, H, W); ``attend=False`` zeroes both summaries (the
        single-frame control). Raises ValueError when a frame is smaller than the encoder's stride."""
        for frame in (frame_a, frame_b):
            if min(frame.shape[-2:]) < Encoder.stride:
                raise ValueError(f"co-attention: frame size {tuple(frame.shape[-2:])} is smaller than the "
                                 f"encoder's stride {Encoder.stride}")
        v_a, v_b = self.encoder(frame_a), self.encoder(frame_b)
        flat_a, flat_b = v_a.flatten(2), v_b.flatten(2)
        if attend:
            z_a, z_b = self.coattention(flat_a, flat_b)
        else:
            z_a, z_b = torch.zeros_like(flat_a), torch.zeros_like(flat_b)
        return (self._decode(self.head_a, z_a.view_as(v_a), v_a, frame_a.shape[-2:]),
                self._decode(self.head_b, z_b.view_as(v_b), v_b, frame_b.shape[-2:]))

    @staticmethod
    def _decode(head: _Head, z: torch.Tensor, v: torch.Tensor, size) -> torch.Tensor:
        logits = head(torch.cat([z, v], dim=1))
        return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)[:, 0]


def segmentation_loss(logits: torch.Tensor, mask: torch.Tensor, l1_weight: float = 0.8) -> torch.Tensor:
    """COSNet's loss on a batch: binary cross-entropy scaled by 1/rho, rho the batch's foreground fraction
    (at least one pixel), plus ``l1_weight`` times the mean |sigmoid(logits) - mask|. logits and mask
    (B, H, W)."""
    mask = mask.to(logits.dtype)
    foreground = torch.clamp(mask.mean(), min=1.0 / mask.numel())
    bce = F.binary_cross_entropy_with_logits(logits, mask)
    return bce / foreground + l1_weight * torch.mean(torch.abs(torch.sigmoid(logits) - mask))


def pair_logits(model: CoAttentionSegmenter, query: torch.Tensor, reference: torch.Tensor, arm: str):
    """Logits (B, H, W) of the query branch for ``arm``: the query against ``reference`` (coattention),
    against itself (self_reference; ``reference`` unused) or alone (single_frame; ``reference`` unused)."""
    if arm == "coattention":
        return model(query, reference)[0]
    if arm == "self_reference":
        return model(query, query)[0]
    if arm == "single_frame":
        return model(query, query, attend=False)[0]
    raise ValueError(f"co-attention: arm = {arm!r} must be one of {ARMS}")


def video_tensors(frames: np.ndarray, masks: np.ndarray, device: torch.device | str = "cpu"):
    """Frames (..., T, H, W, 3) and masks (..., T, H, W) from :mod:`solvers.video_objects` as float32
    tensors (..., T, 3, H, W) and (..., T, H, W)."""
    x = torch.as_tensor(np.moveaxis(frames, -1, -3), dtype=torch.float32, device=device)
    return x, torch.as_tensor(masks, dtype=torch.float32, device=device)


@torch.no_grad()
def segment_video(model: CoAttentionSegmenter, frames: torch.Tensor, n_references: int, arm: str,
                  generator: torch.Generator) -> torch.Tensor:
    """Foreground probabilities (T, H, W) of one video's frames (T, 3, H, W): each frame segmented against
    ``n_references`` distinct other frames of the video drawn with ``generator`` (coattention), and the N
    probabilities averaged. The controls ignore the references (their N predictions are identical).
    Raises ValueError when ``n_references`` is not in 1 ... T - 1."""
    count = frames.shape[0]
    if not 1 <= n_references <= count - 1:
        raise ValueError(f"co-attention: n_references = {n_references} must be in 1 ... frames - 1 = "
                         f"{count - 1}")
    was_training = model.training
    model.eval()
    if arm != "coattention":
        n_references = 1
    query, reference = [], []
    for t in range(count):
        others = torch.tensor([s for s in range(count) if s != t])
        picks = others[torch.randperm(count - 1, generator=generator)[:n_references]]
        query += [t] * n_references
        reference += picks.tolist()
    logits = pair_logits(model, frames[query], frames[reference], arm)
    model.train(was_training)
    return torch.sigmoid(logits).view(count, n_references, *logits.shape[-2:]).mean(dim=1)


def train(model: CoAttentionSegmenter, frames: torch.Tensor, masks: torch.Tensor, arm: str, *, steps: int,
          batch: int, lr: float, seed: int, record_every: int, l1_weight: float = 0.8,
          progress: Callable[[int, int], None] | None = None) -> Curves:
    """Fit ``model`` for ``arm`` on videos ``frames`` (V, T, 3, H, W) and ``masks`` (V, T, H, W): every step
    takes ``batch`` videos and two distinct random frames of each (the same frame twice for
    self_reference), supervising both heads by :func:`segmentation_loss` (L1 term weighted ``l1_weight``); Adam
    with cosine decay (:func:`fit_adam`). Pairs are drawn with ``seed``. Returns the loss curve.

    Give it many videos (of order 1000 at 48 x 48, T = 6): on 300, a network can memorise the primary
    objects' textures of the training set, and both arms then fit it without generalising."""
    if arm not in ARMS:
        raise ValueError(f"co-attention: arm = {arm!r} must be one of {ARMS}")
    videos, count = frames.shape[:2]
    generator = torch.Generator(device="cpu").manual_seed(seed)
    model.train()

    def objective(_: int) -> torch.Tensor:
        v = torch.randint(videos, (batch,), generator=generator)
        a = torch.randint(count, (batch,), generator=generator)
        b = (a + torch.randint(1, count, (batch,), generator=generator)) % count
        if arm == "self_reference":
            b = a
        logits_a, logits_b = model(frames[v, a], frames[v, b], attend=arm != "single_frame")
        return (segmentation_loss(logits_a, masks[v, a], l1_weight)
                + segmentation_loss(logits_b, masks[v, b], l1_weight))

    return fit_adam(objective, list(model.parameters()), steps, lr, record_every, progress=progress)
