"""Report and figures of ``cf_tracking`` results (:class:`CFTrackingAnalysis`).

Every dimension of a result other than the tracker's and the curves' ones (the seeds, other sweep keys) counts
as a repetition: the report and the figures show the mean over the successful runs and their standard deviation.
The claim of the paper is checked in the report: the best student at <= 1/10 of the teacher's multiply-adds
reaches the teacher's AUC - 0.02 and beats raw pixels (its frames per second: the benchmark).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from engine.figures import image_colorbar, legend, no_data_note, result_title, save_figure, subplots, title
from engine.kind import Analysis

OWN_DIMS = {"tracker", "sequence", "overlap_threshold", "error_threshold", "teacher", "teacher_step", "student",
            "student_step", "strip_frame", "row", "column", "box_edge"}
CLAIM_MARGIN = 0.02  # the student may lose this much AUC to the teacher
MAX_COST = 0.1  # the student's multiply-adds at most this fraction of the teacher's
STUDENT = "student_"


def repetitions(da: xr.DataArray) -> list[str]:
    """The dims of ``da`` that repeat a run (seeds, sweep keys)."""
    return [d for d in da.dims if d not in OWN_DIMS]


def mean_std(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, int]:
    """(mean, population standard deviation, count of runs) over the repetition dims, NaN runs left out."""
    dims = repetitions(da)
    if not dims:
        return da, xr.zeros_like(da), 1
    stacked = da.stack(run=dims)
    count = int(np.isfinite(stacked).any([d for d in stacked.dims if d != "run"]).sum()) if stacked.ndim > 1 \
        else int(np.isfinite(stacked).sum())
    return stacked.mean("run", skipna=True), stacked.std("run", skipna=True), count


def best_student(result: xr.Dataset) -> str | None:
    """The student tracker with the highest mean AUC among those at <= MAX_COST of the teacher's multiply-adds
    with the same online update; None without a teacher or a finite student."""
    auc, _, _ = mean_std(result["success_auc"])
    macs = result["multiply_adds"]
    macs = macs.max(repetitions(macs)) if repetitions(macs) else macs
    best, best_auc = None, -np.inf
    for name in [str(t) for t in result["tracker"].values if str(t).startswith(STUDENT)]:
        teacher = teacher_of(name)
        if teacher not in result["tracker"].values:
            continue
        cheap = float(macs.sel(tracker=name)) <= MAX_COST * float(macs.sel(tracker=teacher))
        value = float(auc.sel(tracker=name))
        if cheap and np.isfinite(value) and value > best_auc:
            best, best_auc = name, value
    return best


def teacher_of(tracker: str) -> str:
    """The teacher tracker with the same online update as ``tracker``."""
    update = tracker.partition("+")[2]
    return "teacher" + (f"+{update}" if update else "")


def pixels_of(tracker: str) -> str:
    update = tracker.partition("+")[2]
    return "pixels" + (f"+{update}" if update else "")


def claim_lines(result: xr.Dataset) -> list[str]:
    """The paper's claim, checked on the result: met or not, with the numbers."""
    student = best_student(result)
    if student is None:
        return ["claim: not checked (no teacher and student of <= 1/10 of its multiply-adds with a finite AUC)"]
    mean, std, count = mean_std(result["success_auc"])
    teacher, pixels = teacher_of(student), pixels_of(student)

    def auc(name: str) -> str:
        return f"{float(mean.sel(tracker=name)):.3f} +- {float(std.sel(tracker=name)):.3f}"

    macs = result["multiply_adds"]
    macs = macs.max(repetitions(macs)) if repetitions(macs) else macs
    ratio = float(macs.sel(tracker=teacher)) / max(float(macs.sel(tracker=student)), 1.0)
    s, t = float(mean.sel(tracker=student)), float(mean.sel(tracker=teacher))
    lines = [f"claim ({count} run(s), mean +- std): best student {student} at 1/{ratio:.1f} of the teacher's "
             f"multiply-adds: AUC {auc(student)} vs teacher {auc(teacher)}: "
             f"{'met' if s >= t - CLAIM_MARGIN else 'NOT met'} (needs >= teacher - {CLAIM_MARGIN})"]
    if pixels in result["tracker"].values:
        p = float(mean.sel(tracker=pixels))
        spread = float(std.sel(tracker=student)) + float(std.sel(tracker=pixels))
        verdict = "beats it beyond the spread" if s - p > spread else ("above, within the spread" if s > p
                                                                      else "does NOT beat it")
        lines.append(f"  vs raw pixels {auc(pixels)}: {verdict}; frames per second: "
                     "benchmarks/bench_cf_tracking.py")
    return lines


def report(result: xr.Dataset) -> str | None:
    if "success_auc" not in result or "tracker" not in result.dims:
        return None
    auc, auc_std, count = mean_std(result["success_auc"])
    columns = {name: mean_std(result[name])[0] for name in ("precision_20px", "precision_scaled", "centre_error")}
    macs = result["multiply_adds"]
    macs = macs.max(repetitions(macs)) if repetitions(macs) else macs
    threshold = float(np.nanmean(result["scaled_threshold"].values))
    lines = [f"held-out tracking, mean over {count} run(s) (+- std):",
             f"  {'tracker':28s} {'AUC':>15s} {'P@20px':>7s} {f'P@{threshold:g}px':>7s} {'CE px':>7s} "
             f"{'MACs/frame':>11s}"]
    for name in result["tracker"].values:
        row = {k: float(v.sel(tracker=name)) for k, v in columns.items()}
        lines.append(f"  {str(name):28s} {float(auc.sel(tracker=name)):7.3f} +- {float(auc_std.sel(tracker=name)):.3f}"
                     f" {row['precision_20px']:7.3f} {row['precision_scaled']:7.3f} {row['centre_error']:7.2f} "
                     f"{float(macs.sel(tracker=name)):11.3g}")
    return "\n".join(lines + claim_lines(result))


def _style(tracker: str, index: int) -> dict:
    return {"color": f"C{index % 10}", "ls": "--" if "+" in tracker else "-", "lw": 1.3}


def plots_figure(result: xr.Dataset, outdir: Path) -> Path:
    """Success plot and precision plot: a curve per tracker, the mean over runs and a band of +- one std."""
    fig, axes = subplots(1, 2, panel=(4.6, 3.8))
    features = list(dict.fromkeys(str(t).partition("+")[0] for t in result["tracker"].values))
    panels = (("success_curve", "overlap_threshold", "overlap threshold [1]", "success rate [1]"),
              ("precision_curve", "error_threshold", "centre error threshold [px]", "precision [1]"))
    auc, _, count = mean_std(result["success_auc"])
    for ax, (name, x, xlabel, ylabel) in zip(axes[0], panels):
        mean, std, _ = mean_std(result[name])
        for tracker in result["tracker"].values:
            m, s = mean.sel(tracker=tracker).values, std.sel(tracker=tracker).values
            style = _style(str(tracker), features.index(str(tracker).partition("+")[0]))
            label = f"{tracker} ({float(auc.sel(tracker=tracker)):.3f})" if name == "success_curve" else None
            ax.plot(result[x].values, m, label=label, **style)
            if count > 1:
                ax.fill_between(result[x].values, m - s, m + s, color=style["color"], alpha=0.12, lw=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
    axes[0, 1].set_xlim(0, 25)
    threshold = float(np.nanmean(result["scaled_threshold"].values))
    axes[0, 1].axvline(threshold, color="0.4", ls=":", lw=1, label=f"scaled threshold {threshold:g} px")
    axes[0, 1].axvline(20.0, color="0.7", ls=":", lw=1, label="OTB's 20 px")
    legend(axes[0, 0], title="tracker (AUC); dashed: background-aware", loc="lower left")
    legend(axes[0, 1], loc="lower right")
    spread = f", mean and std of {count} runs" if count > 1 else ""
    title(fig, result_title(result, f"success and precision plots on held-out sequences{spread}"))
    return save_figure(fig, outdir / "success_precision.png")


def _first_run(result: xr.Dataset) -> xr.Dataset | None:
    """The strip variables of the first run with finite boxes (None if none)."""
    strip = result[["strip_image", "strip_truth", "strip_boxes"]]
    dims = repetitions(result["strip_image"])
    for idx in np.ndindex(*(strip.sizes[d] for d in dims)):
        one = strip.isel(dict(zip(dims, idx)))
        if np.isfinite(one["strip_boxes"].values).any():
            return one
    return None


def strip_figure(result: xr.Dataset, outdir: Path) -> Path:
    """Frames of the first test sequence of the first run with the true box and those of raw pixels and of the
    best student (or the first two trackers)."""
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    one = _first_run(result)
    frames = result.sizes["strip_frame"]
    fig, axes = subplots(1, frames, panel=(2.3, 2.4), sharex=True, sharey=True)
    if one is None:
        no_data_note(axes[0, 0])
        axes[0, 0].set_title("no successful run")
        title(fig, result_title(result, "tracked frames"))
        return save_figure(fig, outdir / "strip.png")
    trackers = [str(t) for t in result["tracker"].values]
    chosen = [t for t in ("pixels", best_student(result)) if t in trackers] or trackers[:2]
    chosen = list(dict.fromkeys(chosen + trackers))[:2]
    image = one["strip_image"].values
    norm = mpl.colors.Normalize(float(np.nanmin(image)), float(np.nanmax(image)))
    side = result.sizes["column"]
    shown = None
    for ax, k in zip(axes[0], range(frames)):
        shown = ax.imshow(image[k], cmap="gray", norm=norm, extent=(0, side, side, 0))
        boxes = [("truth", one["strip_truth"].values[k], "lime")]
        boxes += [(t, one["strip_boxes"].sel(tracker=t).values[k], c) for t, c in zip(chosen, ("red", "deepskyblue"))]
        for label, (x, y, w, h), color in boxes:
            ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=color, lw=1.4, label=label if k == 0 else None))
        ax.set_title(f"frame {int(one['strip_frame'].values[k])}", fontsize=9)
        ax.set_xlabel("x [px]")
    axes[0, 0].set_ylabel("y [px]")
    image_colorbar(fig, shown, list(axes[0]), "intensity [1]")
    legend(axes[0, 0], loc="upper left")
    title(fig, result_title(result, "first test sequence: true box and two trackers"))
    return save_figure(fig, outdir / "strip.png")


class CFTrackingAnalysis(Analysis):
    def report(self, result: xr.Dataset) -> str | None:
        return report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        if "success_curve" not in result or "tracker" not in result.dims:
            return []
        return [plots_figure(result, outdir), strip_figure(result, outdir)]
