"""Combining a sweep: the coordinates of its sweep keys, and the run files stacked into result.nc.

Run files are read one at a time, twice: a survey of every field's dimensions and coordinates from
the files' headers (netCDF4), then the data (decoded as xarray would), so that memory holds only the
combined arrays and one run. A point without a run file (failed or not run) is a missing value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import netCDF4
import numpy as np
import xarray as xr
from xarray.backends import NetCDF4DataStore
from xarray.conventions import decode_cf_variables

from engine.show import header_of


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


@dataclass
class _Axis:
    """One dimension of a field over the run files surveyed so far: the longest coordinate (raw values
    as stored) and the first run that has it, whether every other one is a prefix of it, whether every
    run has a coordinate, and the lengths seen."""

    longest: np.ndarray | None = None
    source: tuple[int, ...] = ()
    prefixes: bool = True
    every_run_has_coord: bool = True
    sizes: set[int] = field(default_factory=set)

    def add(self, index: tuple[int, ...], size: int, coord: np.ndarray | None) -> None:
        """Take the length ``size`` and coordinate (None: the run has none) of the run at sweep ``index``."""
        self.sizes.add(size)
        if coord is None:
            self.every_run_has_coord = False
            return
        if self.longest is None or len(coord) > len(self.longest):
            self.prefixes &= self.longest is None or np.array_equal(self.longest, coord[: len(self.longest)])
            self.longest, self.source = coord, index
        else:
            self.prefixes &= np.array_equal(coord, self.longest[: len(coord)])

    def union(self) -> tuple[int, tuple[int, ...] | None] | None:
        """(length, run holding the coordinate or None where there is none) of the combined dimension;
        None if the runs disagree."""
        if self.every_run_has_coord:
            return (len(self.longest), self.source) if self.prefixes else None
        return (next(iter(self.sizes)), None) if len(self.sizes) == 1 else None


@dataclass
class _Field:
    """A data variable over the run files surveyed so far: its dimensions, one :class:`_Axis` per
    dimension, its shape at each sweep index, and whether every run gives it the same dimensions."""

    dims: tuple[str, ...]
    axes: dict[str, _Axis]
    shapes: dict[tuple[int, ...], tuple[int, ...]] = field(default_factory=dict)
    same_dims: bool = True

    def grid(self) -> dict[str, tuple[int, tuple[int, ...] | None]] | None:
        """Per dimension, :meth:`_Axis.union`; None if the runs' grids disagree."""
        grid = {d: axis.union() for d, axis in self.axes.items()}
        return grid if self.same_dims and None not in grid.values() else None


def _survey(files: dict[tuple[int, ...], Path]) -> dict[str, _Field]:
    """The data variables of the run files (in order of first appearance), read from their headers
    and dimension coordinates only, one file at a time."""
    fields: dict[str, _Field] = {}
    for index, path in files.items():
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_maskandscale(False)
            header = header_of(nc)
            coords = {d: nc.variables[d][:] for d in header.sizes if d in header.coords}
            for name, var in header.data_vars.items():
                entry = fields.setdefault(name, _Field(var.dims, {d: _Axis() for d in var.dims}))
                entry.same_dims &= var.dims == entry.dims
                if not entry.same_dims:
                    continue
                entry.shapes[index] = tuple(header.sizes[d] for d in var.dims)
                for d in var.dims:
                    entry.axes[d].add(index, header.sizes[d], coords.get(d))
    return fields


def integer_fill(dtype: np.dtype) -> tuple[np.dtype, int]:
    """The stored dtype and CF ``_FillValue`` of an integer or boolean variable that has missing
    points: the dtype's minimum (signed), its maximum (unsigned); booleans as int8 with -128."""
    stored = np.dtype(np.int8) if dtype.kind == "b" else np.dtype(dtype)
    info = np.iinfo(stored)
    return stored, info.max if stored.kind == "u" else info.min


def _blank(dtype: np.dtype, shape: tuple[int, ...], padded: bool) -> tuple[np.ndarray, dict]:
    """(array, encoding) of ``shape`` for a variable of ``dtype`` whose points not written stay missing:
    NaN for floats, "" for strings; integers and booleans with missing points (``padded``) are NaN in
    memory and stored as the integer type with a ``_FillValue`` (:func:`integer_fill`)."""
    if dtype.kind in "OSU":
        return np.full(shape, "", dtype=object), {}
    if dtype.kind in "iub" and padded:
        stored, fill = integer_fill(dtype)
        return np.full(shape, np.nan), {"dtype": stored, "_FillValue": fill}
    return np.full(shape, np.nan if dtype.kind in "fc" else 0, dtype=dtype), {}


def _coord_sources(grids: dict[str, dict]) -> dict[str, tuple[int, ...]]:
    """Per combined dimension with a coordinate, the run whose coordinate it takes (the first field's)."""
    sources: dict[str, tuple[int, ...]] = {}
    for grid in grids.values():
        for d, (_, source) in grid.items():
            if source is not None:
                sources.setdefault(d, source)
    return sources


def _decoded(nc: netCDF4.Dataset) -> dict[str, xr.Variable]:
    """The variables of an open netCDF file, decoded as ``xr.open_dataset`` decodes them (CF masking,
    booleans, strings; timedeltas left as numbers) but not loaded and without building indexes."""
    variables, attrs = NetCDF4DataStore(nc).load()
    return decode_cf_variables(variables, attrs, decode_timedelta=False)[0]


def _stack(fields: dict[str, _Field], files: dict[tuple[int, ...], Path], shape: tuple[int, ...],
           dims: list[str]) -> tuple[dict[str, xr.Variable], dict[str, xr.Variable]]:
    """Data variables (sweep shape + field shape) and their coordinates, filled from the run files
    read one at a time; ``fields`` are those whose grids agree."""
    n_points = int(np.prod(shape))
    grids = {name: f.grid() for name, f in fields.items()}
    sources = _coord_sources(grids)
    variables: dict[str, xr.Variable] = {}
    coords: dict[str, xr.Variable] = {}
    for index, path in files.items():
        with netCDF4.Dataset(path) as nc:
            run = _decoded(nc)
            for name, grid in grids.items():
                if index not in fields[name].shapes:
                    continue
                var = run[name]
                if name not in variables:
                    field_shape = tuple(n for n, _ in grid.values())
                    padded = len(fields[name].shapes) < n_points or any(
                        s != field_shape for s in fields[name].shapes.values())
                    data, encoding = _blank(var.dtype, shape + field_shape, padded)
                    variables[name] = xr.Variable(tuple(dims) + var.dims, data, var.attrs, encoding)
                variables[name].data[index + tuple(slice(0, n) for n in var.shape) + (...,)] = var.values
            for d in [d for d, source in sources.items() if source == index and d not in coords]:
                coords[d] = xr.Variable((d,), run[d].values, run[d].attrs)
    return variables, coords


def combine(files: dict[tuple[int, ...], Path], shape: tuple[int, ...], dims: list[str]) -> tuple[xr.Dataset, list[str]]:
    """Stack the run files on the sweep grid, reading them one at a time (twice: headers, then data),
    so that memory holds the combined arrays and one run, however many runs there are.

    ``files`` maps a point's sweep index to its run file; points without one (failed or not run)
    are missing values (see :func:`_blank`).  A field is combined when, for each of its dimensions,
    every run's coordinate is a prefix of the longest one (e.g. a loss history that stopped early
    is padded with NaN); otherwise it stays in the per-run files and its name is returned in the
    second element.
    """
    fields = _survey(files)
    skipped = [name for name, f in fields.items() if f.grid() is None]
    variables, coords = _stack({n: f for n, f in fields.items() if n not in skipped}, files, shape, dims)
    ordered = {name: variables[name] for name in fields if name in variables}
    coords = {d: coords[d] for name in ordered for d in fields[name].dims if d in coords}
    return xr.Dataset(ordered, coords=coords), skipped
