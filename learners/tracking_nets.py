"""Feature networks for the DCF tracker: a wide CNN teacher, thin students, 1x1 adapters, and their training
by L = w_fid L_fid + w_trk L_trk (the paper's L = L_fid + lambda L_trk, [reconstructed] from its abstract).

A :class:`FeatureNet` is a stack of 3x3 convolutions (padding 1) with ReLU between them, strides
(2, 2, 1): a window (B, 1, n, n) gives per-layer features (B, c_i, n/2, ...) and, from its last layer,
DCF features (B, c_last, n/4, n/4) (cell 4 px). Windows are normalised per window (zero mean, unit standard
deviation) by :func:`normalise`. The teacher has widths (64, 96, 128), a student (16, 24, 32) by default.

- fidelity L_fid = mean over layers l of mean (A_l(phi_l^S) - phi_l^T)^2, ``A_l`` a 1x1 convolution from
  the student's to the teacher's width (:class:`Adapters`), the teacher frozen;
- tracking L_trk = :func:`learners.dcf_layer.tracking_loss` on the last layer's features of (frame t,
  frame t + gap) window pairs (:func:`solvers.tracking_sequences.window_pairs`).

:func:`train_features` minimises the weighted sum with Adam in the shared training loop
(:func:`learners.training.fit_adam`); :func:`feature_extractor` turns a network into the
numpy callable :class:`solvers.dcf.DCFTracker` takes; :func:`multiply_adds` counts its multiply-adds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from learners.dcf_layer import tracking_loss
from learners.training import Curves, fit_adam

__all__ = ["TEACHER_WIDTHS", "STUDENT_WIDTHS", "STRIDES", "FeatureNet", "Adapters", "normalise",
           "fidelity_loss", "multiply_adds", "feature_extractor", "train_features"]

TEACHER_WIDTHS = (64, 96, 128)
STUDENT_WIDTHS = (16, 24, 32)
STRIDES = (2, 2, 1)


class FeatureNet(nn.Module):
    """3x3 convolutions of ``widths`` output channels and ``strides``, ReLU between layers (not after the
    last); :meth:`forward` returns every layer's output, :meth:`features` the last one."""

    def __init__(self, widths: tuple[int, ...], strides: tuple[int, ...] = STRIDES):
        super().__init__()
        if len(widths) != len(strides):
            raise ValueError(f"FeatureNet: {len(widths)} widths for {len(strides)} strides")
        ins = (1,) + tuple(widths[:-1])
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3, stride=s, padding=1) for i, o, s in zip(ins, widths, strides))
        self.widths, self.strides = tuple(widths), tuple(strides)

    def forward(self, windows: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer features of ``windows`` (B, 1, n, n) (already normalised)."""
        out, h = [], windows
        for k, conv in enumerate(self.convs):
            h = conv(h)
            out.append(h)
            if k < len(self.convs) - 1:
                h = torch.relu(h)
        return out

    def features(self, windows: torch.Tensor) -> torch.Tensor:
        """Last layer's features (B, c_last, n / prod(strides), ...)."""
        return self.forward(windows)[-1]

    @property
    def cell(self) -> int:
        """Stride of the last layer's features [px of the window]."""
        return int(np.prod(self.strides))


class Adapters(nn.ModuleList):
    """One 1x1 convolution per layer, from a student's width to the teacher's."""

    def __init__(self, student: FeatureNet, teacher: FeatureNet):
        if student.strides != teacher.strides:
            raise ValueError(f"Adapters: strides {student.strides} and {teacher.strides} differ")
        super().__init__(nn.Conv2d(s, t, 1) for s, t in zip(student.widths, teacher.widths))


def normalise(windows: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Windows (B, n, n) as a tensor (B, 1, n, n) with zero mean and unit standard deviation per window."""
    w = torch.as_tensor(windows, dtype=dtype)
    w = w - w.mean(dim=(-2, -1), keepdim=True)
    return (w / (w.std(dim=(-2, -1), keepdim=True) + 1e-6))[:, None]


def fidelity_loss(student_layers: list[torch.Tensor], teacher_layers: list[torch.Tensor],
                  adapters: Adapters) -> torch.Tensor:
    """L_fid = mean over layers of the mean squared difference of the adapted student's and the teacher's
    features (lists of (B, c, h, w) with equal h, w per layer)."""
    terms = [((a(s) - t) ** 2).mean() for a, s, t in zip(adapters, student_layers, teacher_layers)]
    return torch.stack(terms).mean()


def multiply_adds(net: FeatureNet, side: int) -> int:
    """Multiply-adds of the convolutions of ``net`` on one (side, side) window."""
    total, n, c_in = 0, side, 1
    for width, stride in zip(net.widths, net.strides):
        n = (n - 1) // stride + 1
        total += n * n * width * c_in * 9
        c_in = width
    return total


def feature_extractor(net: FeatureNet) -> Callable[[np.ndarray], np.ndarray]:
    """The numpy features of a stack of windows (B, n, n) -> (B, c_last, n / cell, n / cell) float64 of ``net``
    (evaluated without gradients in its parameters' dtype, one forward pass for the stack), marked ``batched``
    for :class:`solvers.dcf.DCFTracker`."""
    dtype = next(net.parameters()).dtype

    def features(windows: np.ndarray) -> np.ndarray:
        centred = windows - windows.mean(axis=(-2, -1), keepdims=True)
        scaled = centred / (centred.std(axis=(-2, -1), ddof=1, keepdims=True) + 1e-6)  # as normalise, in numpy
        with torch.inference_mode():
            return net.features(torch.from_numpy(scaled[:, None]).to(dtype)).numpy().astype(np.float64)
    features.batched = True
    return features


def train_features(student: FeatureNet, pairs: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]],
                   steps: int, lr: float = 2e-3, record_every: int = 50, tracking_weight: float = 1.0,
                   fidelity_weight: float = 0.0, teacher: FeatureNet | None = None, adapters: Adapters | None = None,
                   sigma: float = 0.5, lam: float = 1e-2,
                   progress: Callable[[int, int], None] | None = None) -> Curves:
    """Train ``student`` (and ``adapters``) by Adam on w_trk L_trk + w_fid L_fid.

    ``pairs(step)`` returns (templates, searches, shifts): windows (B, n, n) and the targets' shifts (B, 2)
    = (dx, dy) [px of the window] (:func:`solvers.tracking_sequences.window_pairs`); ``sigma`` is the label's
    width and ``lam`` the DCF's regulariser [cells, feature energy per cell]. The fidelity term needs a
    ``teacher`` (frozen here, on the student's device) and ``adapters``; it is taken on both windows of a pair.
    The windows go to the device of the student's parameters. ``progress(done, steps)`` follows every record.
    Returns the recorded curves."""
    if fidelity_weight and (teacher is None or adapters is None):
        raise ValueError("train_features: fidelity_weight > 0 needs a teacher and adapters")
    if teacher is not None:
        teacher.requires_grad_(False)
    cell = student.cell
    where = next(student.parameters()).device

    def objective(s: int) -> torch.Tensor:
        templates, searches, shifts = pairs(s)
        windows = normalise(np.concatenate([templates, searches])).to(where)
        layers = student(windows)
        loss = torch.zeros((), device=where)
        if tracking_weight:
            feats = layers[-1]
            half = len(templates)
            loss = loss + tracking_weight * tracking_loss(feats[:half], feats[half:], shifts[:, ::-1] / cell,
                                                          sigma, lam)
        if fidelity_weight:
            with torch.no_grad():
                wanted = teacher(windows)
            loss = loss + fidelity_weight * fidelity_loss(layers, wanted, adapters)
        return loss

    parameters = list(student.parameters()) + (list(adapters.parameters()) if adapters is not None else [])
    return fit_adam(objective, parameters, steps, lr, record_every, progress=progress)
