"""netCDF files: atomic writes, attribute hygiene, combining a sweep, reading back.

Every file is written with the ``netcdf4`` engine to a temporary name in its
own folder and renamed when complete, so a file that exists is complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import xarray as xr

from engine.atomic import TMP_MARK, tmp_path

NETCDF_ENGINE = "netcdf4"


def sanitize_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes netCDF can store: bool -> 0/1, None dropped, mappings and mixed lists -> JSON."""
    out = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, dict) or (
            isinstance(value, (list, tuple)) and not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value)
        ):
            value = json.dumps(value, sort_keys=True, default=str)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value):
            value = json.dumps(list(value))
        out[key] = value
    return out


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    enc = {}
    for name, var in ds.variables.items():
        if var.ndim >= 1 and var.dtype.kind in "fiu" and var.size > 16:
            enc[name] = {"zlib": True, "complevel": 4, "shuffle": True}
    return enc


def _clean(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds.attrs = sanitize_attrs(ds.attrs)
    for var in ds.variables.values():
        var.attrs = sanitize_attrs(var.attrs)
    return ds


def write_atomic(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` through a temporary file and ``os.replace``; never leaves a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        _clean(ds).to_netcdf(tmp, engine=NETCDF_ENGINE, format="NETCDF4", encoding=_encoding(ds))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write a text file atomically (same pattern as :func:`write_atomic`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_stale_tmp(folder: Path) -> list[Path]:
    """Delete temporary files left in ``folder`` by processes that no longer exist."""
    removed = []
    for tmp in folder.glob(f".*{TMP_MARK}*"):
        pid = tmp.name.split(TMP_MARK)[-1].split("-")[0]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_result(path: str | Path) -> xr.Dataset:
    """Load a file written by the engine into memory and close it (safe to overwrite afterwards)."""
    with xr.open_dataset(path, engine=NETCDF_ENGINE, decode_timedelta=False) as ds:
        return ds.load()


def _coord_values(values: Iterable[Any]) -> np.ndarray:
    """Values of a sweep coordinate: numbers, strings or booleans as they are; anything else
    (lists, mappings, null, a mix) as JSON text."""
    values = list(values)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numbers or all(isinstance(v, str) for v in values) or all(isinstance(v, bool) for v in values):
        return np.asarray(values)
    return np.asarray([json.dumps(v, sort_keys=True) for v in values])


def sweep_coords(axes, points) -> dict[str, tuple[str, np.ndarray]]:
    """Coordinates of result.nc: one per sweep key along its axis, plus ``case`` for cases.

    Values are taken from the resolved specs (defaults filled, types validated).
    """
    coords: dict[str, tuple[str, np.ndarray]] = {}
    for a, axis in enumerate(axes):
        first_at = {}
        for p in points:
            first_at.setdefault(p.index[a], p)
        if axis.dim == "case":
            coords["case"] = ("case", np.arange(len(axis)))
        for key in axis.keys:
            values = [_lookup(first_at[i].spec.model_dump(mode="json"), key) for i in range(len(axis))]
            coords[key] = (axis.dim, _coord_values(values))
    return coords


def _lookup(tree: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree[part] if isinstance(tree, dict) else None
    return tree


def _prefix_union(coords: list[np.ndarray]) -> np.ndarray | None:
    """The longest coordinate if every other one is a prefix of it, else None."""
    longest = max(coords, key=len)
    return longest if all(np.array_equal(c, longest[: len(c)]) for c in coords) else None


def _field_grid(present: list[tuple[xr.Dataset, xr.Variable]]) -> dict[str, np.ndarray | int] | None:
    """Per dimension of a field, the union coordinate (or the common length when it has none);
    None if the runs' grids disagree. ``present`` pairs each run's dataset with its variable."""
    dims = present[0][1].dims
    if any(v.dims != dims for _, v in present):
        return None
    grid: dict[str, np.ndarray | int] = {}
    for d in dims:
        if all(d in ds.coords for ds, _ in present):
            union = _prefix_union([ds.variables[d].values for ds, _ in present])
        else:
            sizes = {v.sizes[d] for _, v in present}
            union = sizes.pop() if len(sizes) == 1 else None
        if union is None:
            return None
        grid[d] = union
    return grid


def _stack(present: dict[tuple[int, ...], xr.Variable], n_runs: int, grid: dict,
           shape: tuple[int, ...]) -> np.ndarray:
    """Array of sweep shape + field shape from the variables of the runs that have it (by sweep
    index); the other points of the ``n_runs`` (failed runs) are NaN/empty."""
    first = next(iter(present.values()))
    field_shape = tuple(g if isinstance(g, int) else len(g) for g in grid.values())
    kind = first.dtype.kind
    padded = len(present) < n_runs or any(v.shape != field_shape for v in present.values())
    if kind in "OSU":
        data = np.full(shape + field_shape, "", dtype=object)
    elif kind in "iub" and padded:
        data = np.full(shape + field_shape, np.nan)
    else:
        data = np.full(shape + field_shape, np.nan if kind in "fc" else 0, dtype=first.dtype)
    for index, var in present.items():
        data[index + tuple(slice(0, n) for n in var.shape)] = var.values
    return data


def combine(runs: dict[tuple[int, ...], xr.Dataset], shape: tuple[int, ...], dims: list[str]) -> tuple[xr.Dataset, list[str]]:
    """Stack per-run datasets on the sweep grid.

    ``runs`` maps a point's index to its dataset (missing points are failures
    and become NaN).  A field is combined when, for each of its dimensions,
    every run's coordinate is a prefix of the longest one (e.g. a loss history
    that stopped early is padded with NaN); otherwise it stays in the per-run
    files and its name is returned in the second element. Works on the runs'
    ``xr.Variable`` objects (no DataArray is built per run and field).
    """
    names = list(dict.fromkeys(n for ds in runs.values() for n in ds.data_vars))
    variables, coords, skipped = {}, {}, []
    for name in names:
        present = {index: (ds, ds.variables[name]) for index, ds in runs.items() if name in ds.data_vars}
        pairs = list(present.values())
        grid = _field_grid(pairs)
        if grid is None:
            skipped.append(name)
            continue
        first = pairs[0][1]
        data = _stack({index: var for index, (_, var) in present.items()}, len(runs), grid, shape)
        variables[name] = xr.Variable(tuple(dims) + first.dims, data, first.attrs)
        for d, values in grid.items():
            if not isinstance(values, int) and d not in coords:
                source = next(ds.variables[d] for ds, _ in pairs if ds.sizes[d] == len(values))
                coords[d] = xr.Variable((d,), values, source.attrs)
    return xr.Dataset(variables, coords=coords), skipped
