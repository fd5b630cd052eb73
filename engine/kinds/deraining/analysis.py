"""Report and figures of ``deraining`` results (:class:`DerainingAnalysis`).

With ``seed`` swept, every number is the mean and the standard deviation (ddof 1) over seeds; the other
sweep keys (``losses.arm`` above all) are the compared points. The report states the claims of
docs/kinds/deraining.md as met or not: every learned point >= 8 dB above the rainy input and above both
baselines, and each arm's effect against the ``l1`` arm: the mean over seeds of the per-seed PSNR
difference (same seed: same training patches), called a gain (or a loss) only where it exceeds that
difference's standard deviation over seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import (attrs_label, has_data, image_colorbar, legend, log_if_wide, no_data_note,
                            result_title, save_figure, subplots, title)
from engine.kind import Analysis
from engine.report import point_label, sweep_points

SEED, ARM = "seed", "losses.arm"
BASELINES = ("directional_median", "l0_separation")
CLAIM_DB = 8.0  # every learned arm at least this far above the rainy input [dB]
IMAGE_PANELS = ("rainy", "derained", "directional_median", "l0_separation", "truth")
RAIN_PANELS = ("predicted_rain", "true_rain")


def _method(da: xr.DataArray, name: str) -> xr.DataArray:
    """``da`` of the method ``name`` (``DataArray.sel`` reads a ``method`` keyword as its own)."""
    return da.sel({"method": name})


def _over_seeds(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """(mean, standard deviation) over the ``seed`` dim (std NaN without one or with one seed)."""
    if SEED not in da.dims:
        return da, xr.full_like(da, np.nan)
    return da.mean(SEED), da.std(SEED, ddof=1) if da.sizes[SEED] > 1 else xr.full_like(da.mean(SEED), np.nan)


def _text(mean: float, std: float, digits: int) -> str:
    """``mean ± std`` (``mean`` alone when std is NaN)."""
    return f"{mean:.{digits}f}" if np.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _learned_points(result: xr.Dataset) -> list[tuple[dict, str]]:
    """(selection, label) of every compared point: the sweep points other than seeds."""
    mean, _ = _over_seeds(_method(result["psnr"], "learned"))
    return list(sweep_points(result, mean, label=lambda ds, sel: point_label(ds, sel, short=True)))


def claims(result: xr.Dataset) -> list[str]:
    """Lines stating each claim of the module docstring, met or not, with its numbers."""
    psnr, ssim = result["psnr"], result["ssim"]
    seeds = result.sizes.get(SEED, 1)
    lines = [f"PSNR [dB] and SSIM on {result.sizes['image']} held-out crops (mean ± std over {seeds} seed(s)):"]
    input_psnr = float(_method(psnr, "rainy_input").mean())
    best_baseline = max(float(_method(psnr, m).mean()) for m in BASELINES)
    for method in ("rainy_input", *BASELINES):
        lines.append(f"  {method}: PSNR {float(_method(psnr, method).mean()):.2f}, "
                     f"SSIM {float(_method(ssim, method).mean()):.3f}")
    learned_mean, learned_std = _over_seeds(_method(psnr, "learned"))
    ssim_mean, ssim_std = _over_seeds(_method(ssim, "learned"))
    for selection, where in _learned_points(result):
        m, s = float(learned_mean.isel(selection)), float(learned_std.isel(selection))
        if np.isnan(m):
            lines.append(f"  learned {where}: no successful run")
            continue
        above = m - input_psnr
        lines.append(f"  learned {where}: PSNR {_text(m, s, 2)}, SSIM "
                     f"{_text(float(ssim_mean.isel(selection)), float(ssim_std.isel(selection)), 3)}; "
                     f"{above:+.2f} dB over the rainy input (claim >= {CLAIM_DB:g}: "
                     f"{'met' if above >= CLAIM_DB else 'NOT met'}), {m - best_baseline:+.2f} dB over the best "
                     f"baseline ({'met' if m > best_baseline else 'NOT met'})")
    lines += prior_effects(result)
    return lines


def prior_effects(result: xr.Dataset) -> list[str]:
    """Each arm's PSNR effect against ``l1``: mean ± std over seeds of the per-seed difference, and the verdict."""
    if ARM not in result.dims or "l1" not in result[ARM].values:
        return []
    learned = _method(result["psnr"], "learned")
    difference = learned - learned.sel({ARM: "l1"})
    mean, std = _over_seeds(difference)
    lines = ["effect of each arm against l1 (per-seed PSNR difference, mean ± std over seeds):"]
    for arm in result[ARM].values:
        if arm == "l1":
            continue
        point = {ARM: arm}
        rest = {d: 0 for d in mean.dims if d != ARM}  # the other sweep keys: the first value
        m, s = float(mean.sel(point).isel(rest)), float(std.sel(point).isel(rest))
        if np.isnan(s):
            verdict = "no spread (fewer than 2 seeds): not called"
        elif abs(m) > s:
            verdict = "a gain (exceeds the seed spread)" if m > 0 else "a loss (exceeds the seed spread)"
        else:
            verdict = "within the seed spread: not a gain"
        lines.append(f"  {arm}: {_text(m, s, 2)} dB, {verdict}")
    return lines


class DerainingAnalysis(Analysis):
    def report(self, result: xr.Dataset) -> str | None:
        if "psnr" not in result or "method" not in result.dims or not has_data(_method(result["psnr"], "learned")):
            return None
        return "\n".join(claims(result))

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        if "psnr" not in result or "method" not in result.dims:
            return []
        return [self._ablation(result, outdir), self._crops(result, outdir), self._curves(result, outdir)]

    def _ablation(self, result: xr.Dataset, outdir: Path) -> Path:
        """PSNR and SSIM of the learned model per compared point (bars, error bars: std over seeds), the rainy
        input, the baselines and the claim's line (rainy input + 8 dB) beside them."""
        fig, axes = subplots(1, 2)
        points = _learned_points(result)
        rows = np.arange(len(points))
        for ax, name, unit in ((axes[0, 0], "psnr", "dB"), (axes[0, 1], "ssim", "1")):
            da = result[name]
            mean, std = _over_seeds(_method(da, "learned"))
            heights = [float(mean.isel(s)) for s, _ in points]
            errors = np.nan_to_num([float(std.isel(s)) for s, _ in points])
            ax.bar(rows, heights, yerr=errors, capsize=4, color="C0", label="learned (std over seeds)")
            for color, method in enumerate(("rainy_input", *BASELINES), start=1):
                ax.axhline(float(_method(da, method).mean()), color=f"C{color}", ls="--", lw=1.2, label=method)
            if name == "psnr":
                claim = float(_method(da, "rainy_input").mean()) + CLAIM_DB
                ax.axhline(claim, color="k", ls=":", lw=1, label=f"rainy input + {CLAIM_DB:g} dB")
            ax.set_xticks(rows, [where for _, where in points], rotation=20 if len(points) > 3 else 0)
            ax.set_xlabel("compared point")
            ax.set_ylabel(f"{name.upper()} [{unit}]")
            finite = [v for v in heights + [float(da.min())] if np.isfinite(v)]
            if finite:
                ax.set_ylim(bottom=0.9 * min(finite))
            legend(ax, loc="lower right")
        seeds = f", mean ± std over {result.sizes[SEED]} seeds" if SEED in result.dims else ""
        title(fig, result_title(result, f"deraining ablation on held-out photos{seeds}"))
        return save_figure(fig, outdir / "deraining_ablation.png")

    def _crops(self, result: xr.Dataset, outdir: Path) -> Path:
        """The kept crop of one run (arm ``all`` and the first seed where present): the images on one grey scale,
        the rain layers on another."""
        import matplotlib as mpl

        crop, where = _shown_crop(result)
        fig, axes = subplots(2, 4, panel=(2.6, 2.4), sharex=True, sharey=True)
        flat = axes.ravel()
        if crop is None:
            no_data_note(flat[0])
            flat[0].set_xlabel("column [px]")
            flat[0].set_ylabel("row [px]")
            for ax in flat[1:]:
                ax.set_visible(False)
            title(fig, result_title(result, "held-out crop: no successful run"))
            return save_figure(fig, outdir / "deraining_crops.png")
        grey = mpl.colors.Normalize(0.0, 1.0)
        rain_high = float(np.nanmax(crop.sel(panel=list(RAIN_PANELS)).values))
        rainy = mpl.colors.Normalize(0.0, rain_high if rain_high > 0 else 1.0)
        for ax, panel in zip(flat, IMAGE_PANELS + RAIN_PANELS):
            norm, cmap = (grey, "gray") if panel in IMAGE_PANELS else (rainy, "magma")
            image = ax.imshow(crop.sel(panel=panel).values, cmap=cmap, norm=norm, interpolation="nearest")
            ax.set_title(panel.replace("_", " "), fontsize=9)
            if panel == IMAGE_PANELS[0]:
                image_colorbar(fig, image, list(flat[:4]), "intensity [1]")
            if panel == RAIN_PANELS[0]:
                image_colorbar(fig, image, list(flat[4:]), "rain layer O - B [1]")
        flat[-1].set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("column [px]")
        for ax in axes[:, 0]:
            ax.set_ylabel("row [px]")
        title(fig, result_title(result, f"held-out crop: input, derained, baselines, truth, rain ({where})"))
        return save_figure(fig, outdir / "deraining_crops.png")

    def _curves(self, result: xr.Dataset, outdir: Path) -> Path:
        """Held-out mean |B^ - B| over training steps, a curve per compared point (mean over seeds)."""
        fig, axes = subplots()
        ax = axes[0, 0]
        mean, _ = _over_seeds(result["held_out_error"])
        step = result["step"].values
        for color, (selection, where) in enumerate(sweep_points(result, mean, exclude=("step",),
                                                                label=lambda ds, s: point_label(ds, s, short=True))):
            ax.plot(step, mean.isel(selection).values, color=f"C{color % 10}", marker="o", ms=3, label=where)
        log_if_wide(ax, mean.values)
        ax.set_xlabel(attrs_label(result["step"], "training step"))
        ax.set_ylabel(attrs_label(result["held_out_error"], "held-out mean |B^ - B|"))
        legend(ax, loc="upper right")
        seeds = f", mean over {result.sizes[SEED]} seeds" if SEED in result.dims else ""
        title(fig, result_title(result, f"held-out error during training{seeds}"))
        return save_figure(fig, outdir / "deraining_training.png")


def _shown_crop(result: xr.Dataset) -> tuple[xr.DataArray | None, str]:
    """The crop of the first run with data, preferring arm ``all``; and its sweep point's label."""
    crop = result["crop"]
    others = [d for d in crop.dims if d not in ("panel", "row", "col")]
    candidates = list(np.ndindex(*(crop.sizes[d] for d in others)))
    if ARM in others:
        arms = list(result[ARM].values)
        candidates.sort(key=lambda idx: arms[idx[others.index(ARM)]] != "all")
    for idx in candidates:
        selection = dict(zip(others, idx))
        point = crop.isel(selection)
        if has_data(point):
            return point, point_label(result, selection, short=True) or "run"
    return None, ""
