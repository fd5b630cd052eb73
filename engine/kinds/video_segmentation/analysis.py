"""Report and figures of ``video_segmentation`` results (:class:`VideoSegmentationAnalysis`).

With ``seed`` swept, numbers are the mean ± standard deviation over the seeds (ddof 1) at every other sweep
point. The report states the issue's claims as measured: co-attention's J minus the self-reference control's
at the largest N (>= 0.3 with distractors, within 0.03 without) and J at the largest N minus J at N = 1 (> 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import (attrs_label, hide_unused, image_colorbar, legend, result_title, save_figure, subplots,
                            ticks_at, title)
from engine.kind import Analysis
from engine.report import point_label, sweep_points
from learners.segmentation_metrics import boundary_pixels

from .spec import VARIANTS

SEED = "seed"
PER_RUN = ("model", "references", "step", "example_frame", "row", "column", "channel")
GAP_WITH_DISTRACTORS = 0.3  # co-attention J minus self-reference J, at least (the claim)
GAP_WITHOUT_DISTRACTORS = 0.03  # |co-attention J minus self-reference J|, at most, without distractors


def _over_seeds(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """(mean, standard deviation) over the ``seed`` dim (std NaN with fewer than two finite seeds)."""
    if SEED not in da.dims:
        return da, xr.full_like(da, np.nan, dtype=float)
    return da.mean(SEED), da.std(SEED, ddof=1) if da.sizes[SEED] > 1 else xr.full_like(da.mean(SEED), np.nan)


def _seeds_text(result: xr.Dataset) -> str:
    """", mean ± std over 3 seeds" (nothing without a seed dim)."""
    if SEED not in result.dims:
        return ""
    count = result.sizes[SEED]
    return f", mean ± std over {count} seed{'s' if count > 1 else ''}"


def _pm(mean: float, std: float, signed: bool = False) -> str:
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if not np.isfinite(std) else f"{text} ± {std:.3f}"


def _points(result: xr.Dataset) -> list[tuple[dict, str]]:
    """(selection, label) of every sweep point other than the seeds."""
    return list(sweep_points(result, result["j"], exclude=(SEED, *PER_RUN), label=point_label))


def _scalar(da: xr.DataArray) -> float:
    values = np.asarray(da, dtype=float)
    return float(np.nanmax(values)) if np.isfinite(values).any() else np.nan


def claims(point: xr.Dataset) -> list[str]:
    """The claims at one sweep point (``seed`` may remain): co-attention minus self-reference J at the
    largest N, against the bound that applies with or without distractors; J at the largest N minus J at
    N = 1 of every co-attention variant."""
    models = [str(m) for m in point["model"].values]
    n = point["references"].values
    j = point["j"]
    largest = j.sel(references=n.max())
    lines = []
    with_distractors = _scalar(point["distractors"]) > 0
    if "self_reference" in models:
        for variant in (v for v in VARIANTS if v in models):
            gap = largest.sel(model=variant) - largest.sel(model="self_reference")
            mean, std = (float(x) for x in _over_seeds(gap))
            if with_distractors:
                met = "met" if mean >= GAP_WITH_DISTRACTORS else "NOT met"
                bound = f">= {GAP_WITH_DISTRACTORS}"
            else:
                met = "met" if abs(mean) <= GAP_WITHOUT_DISTRACTORS else "NOT met"
                bound = f"|gap| <= {GAP_WITHOUT_DISTRACTORS}"
            lines.append(f"{variant} - self_reference J(N={n.max()}) = {_pm(mean, std, True)}  ({bound}: {met})")
    if n.min() < n.max():
        for variant in (v for v in VARIANTS if v in models):
            gain = j.sel(model=variant, references=n.max()) - j.sel(model=variant, references=n.min())
            mean, std = (float(x) for x in _over_seeds(gain))
            met = "met" if mean > 0 else "NOT met"
            lines.append(f"{variant} J(N={n.max()}) - J(N={n.min()}) = {_pm(mean, std, True)}  (> 0: {met})")
    return lines


def report(result: xr.Dataset) -> str | None:
    """J per model and N, F and the distractor rate at the largest N, parameters, and the claims, per sweep
    point."""
    if "j" not in result or not np.isfinite(result["j"].values).any():
        return None
    n = result["references"].values
    seeds = _seeds_text(result)
    lines = [f"held-out videos: J at N = {', '.join(map(str, n))} reference frames, F and distractor rate at "
             f"N = {n.max()}{seeds}"]
    for selection, where in _points(result):
        point = result.isel(selection)
        if not np.isfinite(point["j"].values).any():
            lines.append(f"  {where}: every run failed")
            continue
        lines.append(f"  {where}:" if where != "run" else "  run:")
        j_mean, j_std = _over_seeds(point["j"])
        f_mean, f_std = _over_seeds(point["f"].sel(references=n.max()))
        r_mean, r_std = _over_seeds(point["distractor_rate"].sel(references=n.max()))
        params = point["n_parameters"]
        for k, model in enumerate(point["model"].values):
            js = "  ".join(_pm(float(j_mean[k, i]), float(j_std[k, i])) for i in range(n.size))
            lines.append(f"    {str(model):<15} J {js}   F {_pm(float(f_mean[k]), float(f_std[k]))}   distractor "
                         f"rate {_pm(float(r_mean[k]), float(r_std[k]))}   "
                         f"{_scalar(params.isel(model=k)):.0f} parameters")
        lines.append(f"    J of every object segmented: {_scalar(point['objectness_j'].mean()):.3f}")
        lines += [f"    {line}" for line in claims(point)]
    return "\n".join(lines)


class VideoSegmentationAnalysis(Analysis):
    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        if "j" not in result or not np.isfinite(result["j"].values).any():
            return []
        paths = [examples_figure(result, outdir), references_figure(result, outdir)]
        if _persistence_varies(result):
            paths.append(persistence_figure(result, outdir))
        return paths


def _first_finite_point(result: xr.Dataset) -> dict:
    """The selection of the first sweep point (seeds included) whose example is finite."""
    da = result["example_probability"]
    dims = [d for d in da.dims if d not in PER_RUN]
    for idx in np.ndindex(*(da.sizes[d] for d in dims)):
        selection = dict(zip(dims, idx))
        if np.isfinite(da.isel(selection).values).all():
            return selection
    return {d: 0 for d in dims}


def examples_figure(result: xr.Dataset, outdir: Path) -> Path:
    """The first held-out video's example frames (luminance, top row) and every model's foreground probability
    at the largest N (a row per model), the true mask's boundary drawn on each."""
    from matplotlib.colors import Normalize

    selection = _first_finite_point(result)
    point = result.isel(selection)
    image, mask = point["example_image"].values, point["example_mask"].values.astype(bool)
    models = [str(m) for m in point["model"].values]
    frames = image.shape[0]
    fig, axes = subplots(1 + len(models), frames, panel=(1.9, 1.9), sharex=True, sharey=True)
    luminance_norm, probability_norm = Normalize(0.0, 1.0), Normalize(0.0, 1.0)
    luminance = image @ np.array([0.299, 0.587, 0.114])
    for t in range(frames):
        rows, cols = np.nonzero(boundary_pixels(mask[t]))
        shown = axes[0, t].imshow(luminance[t], cmap="gray", norm=luminance_norm, origin="upper")
        axes[0, t].set_title(f"frame {t}", fontsize=9)
        for k in range(len(models)):
            probability = axes[1 + k, t].imshow(point["example_probability"].values[k, t], cmap="viridis",
                                                norm=probability_norm, origin="upper")
        for ax in axes[:, t]:
            ax.plot(cols, rows, ls="none", marker="s", ms=1.2, color="red", label="true mask boundary")
    image_colorbar(fig, shown, axes[0, :], "luminance [1]")
    image_colorbar(fig, probability, axes[1:, :], "foreground probability [1]")
    for k, name in enumerate(["frame", *models]):
        axes[k, 0].set_ylabel(f"{name}\nrow [1]", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("column [1]", fontsize=8)
    legend(axes[0, 0], loc="upper right")
    n = int(point["references"].values.max())
    where = point_label(result, selection)
    title(fig, result_title(result, f"held-out frames and predictions at N = {n}" + (f" ({where})" if where else "")))
    return save_figure(fig, outdir / "examples.png")


def references_figure(result: xr.Dataset, outdir: Path) -> Path:
    """J vs the number N of reference frames, a curve per model (mean ± std over seeds), a panel per sweep
    point; the J of segmenting every object dashed."""
    points = _points(result)
    cols = min(3, len(points))
    rows = -(-len(points) // cols)
    fig, axes = subplots(rows, cols, sharey=True)
    n = result["references"].values
    for ax, (selection, where) in zip(axes.flat, points):
        point = result.isel(selection)
        mean, std = _over_seeds(point["j"])
        for k, model in enumerate(point["model"].values):
            ax.errorbar(n, mean.values[k], yerr=np.nan_to_num(std.values[k]), marker="o", ms=3, capsize=2,
                        label=str(model))
        everything = _scalar(point["objectness_j"].mean())
        if np.isfinite(everything):
            ax.axhline(everything, color="0.5", ls="--", lw=1, label="every object segmented")
        ax.set_xlabel(attrs_label(result["references"], "reference frames N"))
        ticks_at(ax.xaxis, n)
        ax.set_title(where if len(points) > 1 else "", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(attrs_label(result["j"], "J"))
    hide_unused(axes.flat, len(points))
    legend(axes.flat[0], loc="best")
    seeds = _seeds_text(result)
    title(fig, result_title(result, f"region similarity J vs reference frames{seeds}"))
    return save_figure(fig, outdir / "j_vs_references.png")


def _flat(result: xr.Dataset) -> xr.Dataset:
    """The result with every sweep dim (seeds included) stacked into one ``point`` dim."""
    sweep = [d for d in result["j"].dims if d not in PER_RUN]
    keep = ["j", "distractors", "persistence", "occlusion"]
    ds = result[keep]
    return ds.stack(point=sweep) if sweep else ds.expand_dims("point")


def _persistence_varies(result: xr.Dataset) -> bool:
    if not {"persistence", "distractors", "occlusion"} <= set(result.data_vars):
        return False
    flat = _flat(result)
    plain = (flat["distractors"] > 0) & (flat["occlusion"] == 0) & flat["j"].notnull().any(PER_RUN[:2])
    return np.unique(flat["persistence"].values[plain.values]).size > 1


def persistence_figure(result: xr.Dataset, outdir: Path) -> Path:
    """J vs distractor persistence (videos without occlusion), at the largest N (solid) and N = 1 (dashed)
    for the co-attention variants, at the largest N for the controls; mean ± std over the runs at each
    persistence; the runs without distractors as dotted horizontal lines."""
    flat = _flat(result)
    n = result["references"].values
    plain = ((flat["distractors"] > 0) & (flat["occlusion"] == 0)).values
    alone = ((flat["distractors"] == 0) & (flat["occlusion"] == 0)).values
    persistence = flat["persistence"].values
    values = np.unique(persistence[plain])
    fig, axes = subplots()
    ax = axes[0, 0]
    for k, model in enumerate(flat["model"].values):
        colour = f"C{k}"
        for references, style in ((n.max(), "-"), (n.min(), "--")):
            if references == n.min() and (str(model) not in VARIANTS or n.min() == n.max()):
                continue
            j = flat["j"].isel(model=k).sel(references=references).values
            mean = [np.nanmean(j[plain & (persistence == p)]) for p in values]
            std = [np.nanstd(j[plain & (persistence == p)], ddof=1) if np.sum(plain & (persistence == p)) > 1
                   else 0.0 for p in values]
            ax.errorbar(values, mean, yerr=np.nan_to_num(std), color=colour, ls=style, marker="o", ms=3, capsize=2,
                        label=f"{model}, N = {references}")
        if alone.any():
            ax.axhline(np.nanmean(flat["j"].isel(model=k).sel(references=n.max()).values[alone]), color=colour,
                       ls=":", lw=1, label=f"{model}, no distractor")
    ax.set_xlabel(attrs_label(result["persistence"], "distractor persistence"))
    ticks_at(ax.xaxis, values)
    ax.set_ylabel(attrs_label(result["j"], "J"))
    legend(ax, loc="best")
    title(fig, result_title(result, "region similarity J vs distractor persistence"))
    return save_figure(fig, outdir / "j_vs_persistence.png")
