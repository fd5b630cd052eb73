"""Deraining losses as named, weighted terms, after Wang, Ma & Zeng (arXiv:1911.10810).

The paper's full text was not available here: its abstract names the terms (an L1 similarity loss, a
low-value prior on the rain layer, a quasi-sparsity prior on gradients of both layers "in different
gradient domains", multi-scale auxiliary losses) but not their formulas, so every form below is
**reconstructed** and each is a separate option. Images are tensors (N, C, H, W); every term is a mean
over entries (so it does not grow with the image), in image-intensity units to the power shown.

    similarity     L_sim = mean |B^ - B|                                   (reconstructed: plain L1)
    low value      L_lv  = mean |R^|                                       (reconstructed: L1 of R^)
    quasi-sparsity L_qs  = sum_{X in (B^, R^)} sum_{k} mean( (d_k X^2 + eps^2)^(p/2) - eps^p )
                     k over first-order differences (x, y) and, optionally, second-order (xx, yy, xy);
                     the quasi-norm |g|^p (p < 1) is smoothed by eps so that its gradient is finite at
                     g = 0 and the term is zero for a constant image (reconstructed: the paper's
                     "quasi-sparsity" surrogate is unknown; this is the smoothed Lp of the sparse-
                     gradient layer-separation priors it cites)
    auxiliary      L_aux = sum_{s in (2, 4)} mean |(down_s O - R^_s) - down_s B|
                     down_s: s x s average pooling (reconstructed: the paper's auxiliary targets and
                     weights are unknown)
    warm-up        L_l2  = mean (B^ - B)^2 alone during the first ``warmup_l2_fraction`` of the steps, the
                     same for every arm: pure L1 from a zero rain head stalls at the identity (the rain
                     residual is sparse, so the L1 sign gradient pulls R^ to zero)

Here ``B^ = O - R^`` with ``R^`` the network's rain layer, ``B`` the true background.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["LossWeights", "similarity_l1", "similarity_l2", "low_value", "image_gradients",
           "quasi_sparsity", "auxiliary_l1", "loss_terms", "objective"]


@dataclass(frozen=True)
class LossWeights:
    """The weight of each term (>= 0; 0 leaves it out) and the terms' options: ``p`` in (0, 1] and
    ``epsilon`` > 0 (intensity units) of the quasi-sparsity prior, ``second_order`` to add the second
    differences, ``warmup_l2_fraction`` in [0, 1) of the steps trained on L_l2 alone."""

    similarity: float = 1.0
    low_value: float = 0.0
    quasi_sparsity: float = 0.0
    auxiliary: float = 0.0
    p: float = 0.8
    epsilon: float = 1e-2
    second_order: bool = False
    warmup_l2_fraction: float = 0.3

    def __post_init__(self):
        for name in ("similarity", "low_value", "quasi_sparsity", "auxiliary"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"LossWeights.{name} = {getattr(self, name)!r} is outside [0, inf): a loss "
                                 f"weight must not be negative")
        if not 0 < self.p <= 1:
            raise ValueError(f"LossWeights.p = {self.p!r} is outside (0, 1]")
        if not self.epsilon > 0:
            raise ValueError(f"LossWeights.epsilon = {self.epsilon!r} is outside (0, inf)")
        if not 0 <= self.warmup_l2_fraction < 1:
            raise ValueError(f"LossWeights.warmup_l2_fraction = {self.warmup_l2_fraction!r} is outside [0, 1)")


def similarity_l1(background_hat: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """L_sim = mean |B^ - B| (after the paper's L1 similarity loss)."""
    return torch.mean(torch.abs(background_hat - background))


def similarity_l2(background_hat: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """L_l2 = mean (B^ - B)^2, the warm-up objective (ours, not the paper's)."""
    return torch.mean((background_hat - background) ** 2)


def low_value(rain_hat: torch.Tensor) -> torch.Tensor:
    """L_lv = mean |R^| (after the paper's low-value prior: most of a rain layer is near zero)."""
    return torch.mean(torch.abs(rain_hat))


def image_gradients(x: torch.Tensor, second_order: bool = False) -> list[torch.Tensor]:
    """Forward differences of ``x`` (N, C, H, W): d_x (N, C, H, W-1), d_y (N, C, H-1, W) and, with
    ``second_order``, d_xx (.., W-2), d_yy (.., H-2, ..), d_xy (.., H-1, W-1)."""
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    if not second_order:
        return [dx, dy]
    return [dx, dy, dx[..., :, 1:] - dx[..., :, :-1], dy[..., 1:, :] - dy[..., :-1, :],
            dx[..., 1:, :] - dx[..., :-1, :]]


def quasi_sparsity(background_hat: torch.Tensor, rain_hat: torch.Tensor, p: float, epsilon: float,
                   second_order: bool = False) -> torch.Tensor:
    """L_qs = sum over B^ and R^ and over their differences g of mean((g^2 + eps^2)^(p/2) - eps^p), after
    the paper's quasi-sparsity prior on gradients (the smoothed form is reconstructed; see the module).
    Zero for constant images; its gradient is p g (g^2 + eps^2)^(p/2 - 1), finite at g = 0."""
    total = background_hat.new_zeros(())
    for layer in (background_hat, rain_hat):
        for g in image_gradients(layer, second_order):
            total = total + torch.mean((g * g + epsilon ** 2) ** (p / 2) - epsilon ** p)
    return total


def auxiliary_l1(aux_rain: dict[int, torch.Tensor], rainy: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """L_aux = sum_s mean |(down_s O - R^_s) - down_s B| over the auxiliary rain layers ``aux_rain``
    {s: (N, C, H/s, W/s)}, down_s the s x s average pool (after the paper's multi-scale auxiliary loss)."""
    total = rainy.new_zeros(())
    for scale, rain_s in aux_rain.items():
        total = total + similarity_l1(F.avg_pool2d(rainy, scale) - rain_s, F.avg_pool2d(background, scale))
    return total


def loss_terms(rain_hat: torch.Tensor, aux_rain: dict[int, torch.Tensor], rainy: torch.Tensor,
               background: torch.Tensor, weights: LossWeights) -> dict[str, torch.Tensor]:
    """The unweighted terms whose weight is not zero, by name (``similarity``, ``low_value``,
    ``quasi_sparsity``, ``auxiliary``), for the rain layer ``rain_hat`` predicted from ``rainy``."""
    background_hat = rainy - rain_hat
    terms: dict[str, torch.Tensor] = {}
    if weights.similarity:
        terms["similarity"] = similarity_l1(background_hat, background)
    if weights.low_value:
        terms["low_value"] = low_value(rain_hat)
    if weights.quasi_sparsity:
        terms["quasi_sparsity"] = quasi_sparsity(background_hat, rain_hat, weights.p, weights.epsilon,
                                                 weights.second_order)
    if weights.auxiliary:
        terms["auxiliary"] = auxiliary_l1(aux_rain, rainy, background)
    return terms


def objective(rain_hat: torch.Tensor, aux_rain: dict[int, torch.Tensor], rainy: torch.Tensor,
              background: torch.Tensor, weights: LossWeights, warm_up: bool) -> torch.Tensor:
    """The training objective: L_l2 alone when ``warm_up``, else sum_name weight_name * term_name."""
    if warm_up:
        return similarity_l2(rainy - rain_hat, background)
    terms = loss_terms(rain_hat, aux_rain, rainy, background, weights)
    return sum((getattr(weights, name) * value for name, value in terms.items()), rainy.new_zeros(()))
