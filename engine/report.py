"""Text views of a result file: ``engine show`` and the summary printed after a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr


def _units(var: xr.DataArray) -> str:
    return var.attrs.get("units", "?")


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{value:.4g}"
    return str(value)


def describe_variables(ds: xr.Dataset) -> list[str]:
    """One line per coordinate and variable: name, dims, units, long name."""
    lines = ["dimensions: " + (", ".join(f"{d} ({n})" for d, n in ds.sizes.items()) or "none (a single run)")]
    for title, names in (("coordinates", list(ds.coords)), ("variables", list(ds.data_vars))):
        lines.append(f"{title}:")
        for name in names:
            var = ds[name]
            dims = f"({', '.join(map(str, var.dims))})" if var.dims else "()"
            lines.append(f"  {name:<22} {dims:<34} [{_units(var)}]  {var.attrs.get('long_name', '')}")
    return lines


def failures(ds: xr.Dataset) -> dict[str, str]:
    """Failed runs recorded in a result file: run id -> 'sweep point: reason'."""
    return json.loads(ds.attrs.get("engine_failures", "{}"))


def provenance_lines(ds: xr.Dataset) -> list[str]:
    """Kind, versions, time, commit, host and command that produced ``ds``."""
    a = ds.attrs
    packages = json.loads(a.get("engine_packages", "{}"))
    return [
        f"kind: {a.get('engine_kind', '?')} (version {a.get('engine_kind_version', '?')}), "
        f"status {a.get('engine_status', '?')}",
        f"created: {a.get('engine_created', '?')} by specengine {a.get('engine_version', '?')}, "
        f"git {a.get('engine_git_commit', '?')}",
        f"host: {a.get('engine_host', '?')}; command: {a.get('engine_command', '?')}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
    ]


def show(ds: xr.Dataset, path: str | Path) -> str:
    """The full text of ``engine show``."""
    lines = [str(path)] + provenance_lines(ds)
    if "engine_n_runs" in ds.attrs:
        lines.append(f"runs: {ds.attrs['engine_n_runs']}, failed: {ds.attrs.get('engine_n_failed', 0)}")
    lines += describe_variables(ds)
    fails = failures(ds)
    lines.append("failures: " + ("none" if not fails else str(len(fails))))
    lines += [f"  {rid}: {why}" for rid, why in fails.items()]
    uncombined = json.loads(ds.attrs.get("engine_uncombined", "[]"))
    if uncombined:
        lines.append("kept only in the per-run files (grids differ between runs): " + ", ".join(uncombined))
    return "\n".join(lines)


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
