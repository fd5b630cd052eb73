"""The kinds' figures share these: labels from CF attributes, a log axis where data span decades, a
colorbar for a sequential encoding (time, a sweep value), titles, and one way to lay out, save and close
a figure.

Every standard figure follows one rule set (checked by tests/test_figures.py): each axis that shows data
has a label with its unit in brackets (``[1]`` for a nondimensional quantity), every colour encoding has a
legend or a colorbar with a label, the figure has a title that says what and when, and an axis whose
positive data span more than :data:`LOG_DECADES` decades is logarithmic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

#: Positive data spanning more than this many decades go on a logarithmic axis.
LOG_DECADES = 2.0
#: Smallest font size of any text in a standard figure [pt].
MIN_FONT = 7
#: Resolution of the standard figures [dots per inch].
DPI = 110


def label(name: str, units: str | None) -> str:
    """An axis label ``"name [units]"`` (``units`` None: the name alone, for a categorical axis)."""
    return name if units is None else f"{name} [{units or '1'}]"


def attrs_label(da, name: str | None = None) -> str:
    """``"long_name [units]"`` of an ``xarray.DataArray`` from its CF attributes; ``name`` replaces a long
    (sentence-length) long_name."""
    long_name = name or da.attrs.get("long_name") or da.name or ""
    return label(str(long_name), str(da.attrs.get("units", "1")))


def sweep_key_label(key: str, units: str | None = None) -> str:
    """A short label of a sweep key (its last dotted part) with its unit: ``"depth [1]"`` for ``model.depth``."""
    return label(key.rpartition(".")[2], units if units is not None else "1")


def span_decades(values) -> float:
    """How many decades the positive finite ``values`` span (0 with fewer than two)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.log10(v.max() / v.min())) if v.size >= 2 else 0.0


def log_if_wide(ax, values, axis: str = "y") -> bool:
    """Put ``axis`` ("x" or "y") of ``ax`` on a log scale when the positive ``values`` span more than
    :data:`LOG_DECADES` decades and none is negative; returns whether it did."""
    v = np.asarray(values, dtype=float)
    wide = span_decades(v) > LOG_DECADES and not np.any(v[np.isfinite(v)] < 0)
    if wide:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    return wide


def subplots(nrows: int = 1, ncols: int = 1, panel: tuple[float, float] = (4.2, 3.4), **kwargs):
    """``(fig, axes)`` with a grid of ``nrows`` x ``ncols`` panels of ``panel`` inches (width, height) each,
    laid out by matplotlib's constrained layout (room for titles, colorbars, legends); ``axes`` is 2-D."""
    import matplotlib.pyplot as plt

    kwargs.setdefault("figsize", (panel[0] * ncols + 0.8, panel[1] * nrows + 0.6))
    return plt.subplots(nrows, ncols, squeeze=False, layout="constrained", **kwargs)


def ticks_at(axis, values) -> None:
    """Major ticks of a (log) ``axis`` (``ax.xaxis``/``ax.yaxis``) at the swept ``values``, written plainly
    ("4", not "4x10^0"), and no minor tick labels, so that they never crowd."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    v = np.unique(np.asarray(values, dtype=float))
    axis.set_major_locator(FixedLocator(v[np.isfinite(v)]))
    formatter = ScalarFormatter()
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)
    axis.set_minor_formatter(NullFormatter())


def sequential_colors(fig, axes, values: Sequence[float], name: str, cmap: str = "viridis") -> list:
    """Colours for a sequence of curves encoded by ``values`` (time, a swept number) and a colorbar labelled
    ``name`` (with its unit) beside ``axes`` (one Axes or several); a logarithmic colour scale when the
    values are positive and span more than :data:`LOG_DECADES` decades. Returns one RGBA colour per value."""
    import matplotlib as mpl

    v = np.asarray(values, dtype=float)
    lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if v.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    norm = (mpl.colors.LogNorm(lo, hi) if lo > 0 and span_decades(v) > LOG_DECADES
            else mpl.colors.Normalize(lo, hi))
    mapper = mpl.cm.ScalarMappable(norm=norm, cmap=mpl.colormaps[cmap])
    fig.colorbar(mapper, ax=axes, label=name)
    return [mapper.to_rgba(x) for x in v]


def image_colorbar(fig, mappable, ax, name: str):
    """A colorbar labelled ``name`` (``"field [unit]"``) for an image or mesh ``mappable`` drawn on ``ax``."""
    return fig.colorbar(mappable, ax=ax, label=name, shrink=0.9)


def value_text(value: float, units: str = "1") -> str:
    """``"0.02"`` or ``"0.02 s"``: a number with its unit (none shown for a nondimensional one)."""
    return f"{value:.3g}" + ("" if units in ("", "1") else f" {units}")


def has_data(da) -> bool:
    """Whether an ``xarray.DataArray`` (or array) holds any finite value (a failed point holds none)."""
    return bool(np.isfinite(np.asarray(da, dtype=float)).any())


def title(fig, text: str, fontsize: float = 11) -> None:
    """The figure's overall title (what is shown and when), wrapped to the figure's width."""
    import textwrap

    width = max(20, int(fig.get_figwidth() * 72 / (0.55 * fontsize)))
    fig.suptitle("\n".join(textwrap.wrap(text, width)), fontsize=fontsize)


def result_title(result, what: str) -> str:
    """``"<spec name>: <what>"``, the spec's name taken from the result's ``engine_spec`` attribute."""
    import yaml

    spec = yaml.safe_load(result.attrs.get("engine_spec", "") or "") or {}
    name = spec.get("name") or result.attrs.get("engine_kind", "")
    return f"{name}: {what}" if name else what


def legend(ax, title: str | None = None, **kwargs):
    """A legend of readable size on ``ax`` (only when something is labelled); returns it or None."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(fontsize=MIN_FONT + 1, title=title, title_fontsize=MIN_FONT + 1, **kwargs)


def hide_unused(axes: Iterable, used: int) -> None:
    """Hide the axes of a grid past the first ``used`` ones."""
    for ax in list(axes)[used:]:
        ax.set_visible(False)


def no_data_note(ax, text: str = "no successful run") -> None:
    """Write ``text`` in the middle of an Axes that has nothing to draw (every point failed)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def save_figure(fig, path: Path, dpi: int = DPI, rect: tuple = (0, 0, 1, 1)) -> Path:
    """Lay out ``fig`` (a matplotlib figure) within ``rect`` (figure fractions left, bottom, right, top),
    write it to ``path`` at ``dpi`` (through a temporary file, renamed when complete) and close it; returns
    ``path``. A figure with colorbars is laid out by
    matplotlib's constrained layout instead (``rect`` is then ignored)."""
    import matplotlib.pyplot as plt

    from engine.atomic import discard_tmp, tmp_path, writing

    if fig.get_layout_engine() is None:
        fig.tight_layout(rect=rect)
    path = Path(path)
    tmp = tmp_path(path)
    try:
        with writing(path):  # a full disk or a read-only folder: OutputError, and no partial PNG
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
            os.replace(tmp, path)
    finally:
        discard_tmp(tmp)
        plt.close(fig)
    return path
