"""One run of ``deraining``: render the training patches and the held-out crops (:mod:`solvers.rain`),
train the network on the run's loss arm (:mod:`learners.derain_net`, :mod:`learners.derain_losses`),
derain the held-out crops with it and with the classical baselines (:mod:`solvers.derain_baselines`), score
every method by PSNR and SSIM, and count the network's cost over groups x feature sharing; :func:`warmup`
compiles the renderer's kernel.

Random streams of the run's seed: ``train_data`` (the training photos, crops and rain), ``init`` (the
network's initial weights), ``batches`` (the minibatch draws). The held-out crops and their rain come from
``data.test_seed``: the same for every seed and arm.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from engine.kind import RunContext, RunFailed, variable
from learners import derain_net
from learners.derain_losses import LossWeights
from learners.training import NoDevice, device
from solvers import derain_baselines, rain

from .spec import DerainingSpec

METHODS = ("rainy_input", "learned", "directional_median", "l0_separation")
PANELS = ("rainy", "derained", "directional_median", "l0_separation", "truth", "predicted_rain", "true_rain")
COST_SIDE = 256  # multiply-adds are counted on a COST_SIDE^2 image and scaled to 10^6 pixels (exact: convolutions)
MEGAPIXEL = 1e6


def warmup() -> None:
    """Compile the streak renderer's numba kernel (or load it from numba's cache) before runs fan out."""
    rain.streak_kernel(2.0, 0.5, 0.0, 1.0)


def rain_config(spec: DerainingSpec) -> rain.RainConfig:
    """The renderer's configuration of the spec's ``rain`` section."""
    r = spec.rain
    haze = None if r.haze is None else rain.Haze(r.haze.beta, r.haze.depth_top, r.haze.depth_bottom, r.haze.airlight)
    layers = tuple(rain.RainLayer(layer.depth, layer.density, layer.brightness) for layer in r.layers)
    return rain.RainConfig(layers=layers, wind=tuple(r.wind), gust=r.gust, diameter=tuple(r.diameter),
                           diameter_scale=r.diameter_scale, focal=r.focal, exposure=r.exposure,
                           min_sigma=r.min_sigma, haze=haze, clip=r.clip)


def loss_weights(spec: DerainingSpec) -> LossWeights:
    """The weights of the run's arm and the terms' options."""
    lo = spec.losses
    return LossWeights(**lo.weights(), p=lo.p, epsilon=lo.epsilon, second_order=lo.second_order,
                       warmup_l2_fraction=lo.warmup_l2_fraction)


def baseline_estimates(spec: DerainingSpec, rainy: np.ndarray) -> dict[str, np.ndarray]:
    """B^ (n, H, W) of each classical baseline on the ``rainy`` crops (n, H, W)."""
    b = spec.baselines
    return {"directional_median": np.stack([derain_baselines.median_derain(o, b.median_length) for o in rainy]),
            "l0_separation": np.stack([derain_baselines.l0_derain(o, b.l0_lambda, b.l0_kappa, b.l0_beta_max)
                                       for o in rainy])}


def cost_table(spec: DerainingSpec) -> dict[str, np.ndarray]:
    """``parameters``, ``body_parameters`` and ``multiply_adds`` (per megapixel) of the spec's network for each
    of ``cost.groups`` (rows) without and with feature sharing (columns)."""
    net = spec.network
    table = {name: np.zeros((len(spec.cost.groups), 2)) for name in ("parameters", "body_parameters", "multiply_adds")}
    for i, groups in enumerate(spec.cost.groups):
        for j, share in enumerate((False, True)):
            model = derain_net.DerainNet(1, net.width, net.blocks, groups, share)
            table["parameters"][i, j] = sum(p.numel() for p in model.parameters())
            table["body_parameters"][i, j] = model.body_parameter_count()
            macs = derain_net.multiply_adds(model, (1, 1, COST_SIDE, COST_SIDE))
            table["multiply_adds"][i, j] = macs * MEGAPIXEL / COST_SIDE**2
    return table


def run(spec: DerainingSpec, ctx: RunContext) -> xr.Dataset:
    """The dataset of one run (variables in the package docstring)."""
    try:
        where = device(spec.backend.device)
    except NoDevice:
        raise RunFailed("backend.device is cuda but torch sees no CUDA device (use device: auto or cpu)") from None
    d, config = spec.data, rain_config(spec)
    train_set = rain.make_dataset(tuple(d.train_photos), d.train_count, d.crop, config,
                                  int(ctx.rng("train_data").integers(2**31)))
    test_set = rain.make_dataset(tuple(d.test_photos), d.test_count, d.test_crop, config, d.test_seed)
    torch.manual_seed(int(ctx.rng("init").integers(2**63)))
    n = spec.network
    model = derain_net.DerainNet(1, n.width, n.blocks, n.groups, n.share_features).to(where)
    t = spec.training
    try:
        curves = derain_net.train(model, train_set.rainy, train_set.background, loss_weights(spec), steps=t.steps,
                                  batch=t.batch, lr=t.lr, record_every=t.record_every,
                                  seed=int(ctx.rng("batches").integers(2**63)),
                                  held_out=(test_set.rainy, test_set.background), progress=ctx.progress)
    except FloatingPointError as exc:
        raise RunFailed(f"{exc}; try a smaller training.lr") from None
    model.eval()
    estimates = {"rainy_input": test_set.rainy, "learned": derain_net.derain(model, test_set.rainy),
                 **baseline_estimates(spec, test_set.rainy)}
    truth = test_set.background
    image_psnr = np.array([[derain_net.psnr(e, b) for e, b in zip(estimates[m], truth)] for m in METHODS])
    image_ssim = np.array([[derain_net.ssim(e, b) for e, b in zip(estimates[m], truth)] for m in METHODS])
    return _dataset(spec, curves, image_psnr, image_ssim, _crops(spec, test_set, estimates), cost_table(spec))


def _crops(spec: DerainingSpec, test_set: rain.RainSet, estimates: dict[str, np.ndarray]) -> np.ndarray:
    """The top-left ``figure_crop`` square of the first held-out image in every panel of :data:`PANELS`."""
    side = spec.evaluation.figure_crop
    o, b = test_set.rainy[0], test_set.background[0]
    learned = estimates["learned"][0]
    panels = {"rainy": o, "derained": learned, "directional_median": estimates["directional_median"][0],
              "l0_separation": estimates["l0_separation"][0], "truth": b, "predicted_rain": o - learned,
              "true_rain": o - b}
    return np.stack([panels[name][:side, :side] for name in PANELS])


def _dataset(spec: DerainingSpec, curves, image_psnr: np.ndarray, image_ssim: np.ndarray, crops: np.ndarray,
             cost: dict[str, np.ndarray]) -> xr.Dataset:
    side = crops.shape[-1]
    per = "per megapixel (10^6 pixels) of input"
    return xr.Dataset(
        {"psnr": variable(image_psnr.mean(axis=1), "peak signal-to-noise ratio (dB) of the held-out crops, mean "
                          "over crops", ("method",)),
         "ssim": variable(image_ssim.mean(axis=1), "structural similarity of the held-out crops, mean over crops",
                          ("method",)),
         "image_psnr": variable(image_psnr, "peak signal-to-noise ratio (dB) of each held-out crop",
                                ("method", "image")),
         "image_ssim": variable(image_ssim, "structural similarity of each held-out crop", ("method", "image")),
         "train_loss": variable(curves.train, "training objective, mean since the previous record", ("step",)),
         "held_out_error": variable(curves.held_out, "mean absolute error of the derained held-out crops",
                                    ("step",)),
         "parameters": variable(cost["parameters"], "parameters of the network", ("cost_groups", "feature_sharing")),
         "body_parameters": variable(cost["body_parameters"], "parameters of the grouped bodies of the network",
                                     ("cost_groups", "feature_sharing")),
         "multiply_adds": variable(cost["multiply_adds"], f"multiply-adds of one forward pass {per}",
                                   ("cost_groups", "feature_sharing")),
         "crop": variable(crops, "crop of the first held-out image (intensity)", ("panel", "row", "col"))},
        coords={"method": ("method", list(METHODS), {"units": "1", "long_name": "deraining method"}),
                "image": ("image", np.arange(image_psnr.shape[1]), {"units": "1", "long_name": "held-out crop"}),
                "step": ("step", curves.step, {"units": "1", "long_name": "training step"}),
                "cost_groups": ("cost_groups", np.array(spec.cost.groups),
                                {"units": "1", "long_name": "groups of the body convolutions"}),
                "feature_sharing": ("feature_sharing", np.array([0, 1]),
                                    {"units": "1", "long_name": "channel shuffle between grouped convolutions"}),
                "panel": ("panel", list(PANELS), {"units": "1", "long_name": "crop panel"}),
                "row": ("row", np.arange(side), {"units": "1", "long_name": "pixel row of the crop"}),
                "col": ("col", np.arange(side), {"units": "1", "long_name": "pixel column of the crop"})})
