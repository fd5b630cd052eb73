"""Text views of results for the summary printed after a run and for the kinds' reports (tables, sweep
points); ``engine show`` is :mod:`engine.show`."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{value:.4g}"
    return str(value)


def scalar_table(ds: xr.Dataset, max_rows: int = 40) -> str:
    """A table of the scalar diagnostics (variables with only sweep dimensions), one row per run."""
    sweep_dims = json.loads(ds.attrs.get("engine_sweep_dims", "[]"))
    names = [n for n, v in ds.data_vars.items() if set(v.dims) <= set(sweep_dims) and n not in ("run_id",)]
    if not names:
        return ""
    flat = ds[names].to_dataframe().reset_index() if sweep_dims else None
    header = sweep_dims + names
    rows = [[_fmt(ds[n].values[()]) for n in names]] if flat is None else [
        [_fmt(v) for v in row] for row in flat[header].itertuples(index=False)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows[:max_rows]]
    if len(rows) > max_rows:
        out.append(f"... {len(rows) - max_rows} more rows (engine show, or open the file with xarray)")
    return "\n".join(out)


def pivot_table(values: xr.DataArray, extra: xr.DataArray, row_dim: str, col_dim: str, cell) -> str:
    """A text table of a 2-D sweep: rows ``row_dim``, columns ``col_dim``, ``cell(value, extra)`` text."""
    rows = [str(v) for v in values[row_dim].values]
    cols = [str(v) for v in values[col_dim].values]
    v = values.transpose(row_dim, col_dim).values
    e = extra.transpose(row_dim, col_dim).values
    cells = [[cell(v[i, j], e[i, j]) for j in range(len(cols))] for i in range(len(rows))]
    width0 = max(len(row_dim), *map(len, rows))
    widths = [max(len(c), *(len(cells[i][j]) for i in range(len(rows)))) for j, c in enumerate(cols)]
    out = [f"{row_dim:>{width0}}  " + "  ".join(c.rjust(w) for c, w in zip(cols, widths)) + f"   ({col_dim})"]
    out += [f"{r:>{width0}}  " + "  ".join(c.rjust(w) for c, w in zip(cells[i], widths)) for i, r in enumerate(rows)]
    return "\n".join(out)


def point_label(ds: xr.Dataset, position: dict[str, int], short: bool = False) -> str:
    """``key=value, ...`` naming one sweep point from every coordinate along the given dims.

    ``position`` maps sweep dimensions to indices; a ``case`` index is shown only
    when the case sets nothing else. ``short`` keeps the last part of dotted keys.
    """
    parts = []
    for dim, i in position.items():
        names = [c for c in ds.coords if ds[c].dims == (dim,) and c != "case"] or [dim]
        for name in names:
            key = name.split(".")[-1] if short else name
            parts.append(f"{key}={ds[name].values[i]}")
    return ", ".join(parts)


def sweep_points(ds: xr.Dataset, da: xr.DataArray, exclude=(), label=None):
    """``(selection, label)`` for every sweep point of ``da``: each combination of its dims not in ``exclude``.

    ``selection`` maps those dims to indices (for ``isel``); ``label`` names the point
    (``label(ds, selection)``, by default :func:`point_label` with short keys), or "run"
    when the result has a single point.
    """
    name = label or (lambda d, sel: point_label(d, sel, short=True))
    dims = [d for d in da.dims if d not in exclude]
    for idx in np.ndindex(*(da.sizes[d] for d in dims)):
        sel = dict(zip(dims, idx))
        yield sel, name(ds, sel) or "run"
