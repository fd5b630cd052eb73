"""The differentiable DCF layer (torch.fft) and the tracking loss through it.

The closed form of :mod:`solvers.dcf` on batches, differentiable in the features: for template features
``x`` (B, C, h, w), search features ``z`` (B, C, h, w) and a label ``y`` (h, w) (hats: ``torch.fft.rfft2``
over the cells, * complex conjugate, sums over channels)

    r = F^-1( y^ sum_l x^_l^* z^_l / (sum_k |x^_k|^2 + lam) )        (B, h, w),

the response of the filter trained on ``x`` with label ``y`` applied to ``z`` (equal to
``solvers.dcf.response(*solvers.dcf.filter_terms(x^, y^), z^, lam, (h, w))``).

Tracking loss (the paper's L_trk, [reconstructed] from its abstract): with the label ``y`` peaked at zero
displacement and the search window displaced by the true shift ``s`` of the target (in cells), the response
should be the label moved to ``s``:

    L_trk = mean_b sum_cells (r_b - y(s_b))^2        (the squared norm of the paper, averaged over the batch).
"""

from __future__ import annotations

import numpy as np
import torch

from solvers.dcf import gaussian_label, hann_window

__all__ = ["dcf_response", "shifted_labels", "tracking_loss"]


def dcf_response(template: torch.Tensor, search: torch.Tensor, label: torch.Tensor, lam: float) -> torch.Tensor:
    """Response (B, h, w) of the DCF trained on ``template`` (B, C, h, w) with ``label`` (h, w) and applied to
    ``search`` (B, C, h, w); ``lam`` > 0 the regulariser (units of the features' energy per cell)."""
    shape = template.shape[-2:]
    xf, zf = torch.fft.rfft2(template), torch.fft.rfft2(search)
    energy = (xf.real ** 2 + xf.imag ** 2).sum(dim=1)
    cross = (torch.conj(xf) * zf).sum(dim=1)
    return torch.fft.irfft2(torch.fft.rfft2(label) * cross / (energy + lam), s=shape)


def shifted_labels(shifts: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian labels (B, h, w) float64 of width ``sigma`` [cells] peaked at ``shifts`` (B, 2) = (dy, dx)
    [cells] (:func:`solvers.dcf.gaussian_label`)."""
    return np.stack([gaussian_label(*shape, sigma, (float(dy), float(dx))) for dy, dx in shifts])


def tracking_loss(template: torch.Tensor, search: torch.Tensor, shifts: np.ndarray, sigma: float,
                  lam: float) -> torch.Tensor:
    """L_trk of the module for features (B, C, h, w) of template and search windows whose targets are
    ``shifts`` (B, 2) = (dy, dx) [cells] apart; both are multiplied by the Hann window first, as in the
    tracker. ``sigma`` is the label's width [cells]."""
    shape = tuple(template.shape[-2:])
    options = {"dtype": template.dtype, "device": template.device}
    hann = torch.as_tensor(hann_window(*shape), **options)
    label = torch.as_tensor(gaussian_label(*shape, sigma), **options)
    wanted = torch.as_tensor(shifted_labels(shifts, shape, sigma), **options)
    r = dcf_response(template * hann, search * hann, label, lam)
    return ((r - wanted) ** 2).sum(dim=(-2, -1)).mean()
