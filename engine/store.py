"""netCDF files: atomic writes, attribute hygiene, combining a sweep, reading back.

Every file is written with the ``netcdf4`` engine to a temporary name in its
own folder and renamed when complete, so a file that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import netCDF4
import numpy as np
import xarray as xr
from xarray.backends import NetCDF4DataStore
from xarray.conventions import decode_cf_variables

from engine.atomic import tmp_owner, tmp_path
from engine.show import header_of

NETCDF_ENGINE = "netcdf4"
#: Global attribute of a run file: :func:`data_checksum` of the file as written.
CHECKSUM_ATTR = "engine_checksum"
#: Suffix added to a run file that cannot be reused (:func:`move_aside`).
BAD_SUFFIX = ".bad"


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


def _masked_integer(var: xr.Variable) -> dict:
    """The stored integer dtype and ``_FillValue`` of a variable held as floats with NaN for its missing
    points (set by :func:`combine`, or read back from such a file), else nothing."""
    stored = np.dtype(var.encoding.get("dtype", var.dtype))
    if "_FillValue" not in var.encoding or stored.kind not in "iu":
        return {}
    return {"dtype": stored, "_FillValue": var.encoding["_FillValue"]}


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    enc = {}
    for name, var in ds.variables.items():
        enc[name] = _masked_integer(var)
        if var.ndim >= 1 and var.dtype.kind in "fiu" and var.size > 16:
            enc[name].update(zlib=True, complevel=4, shuffle=True)
    return {name: e for name, e in enc.items() if e}


def _clean(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds.attrs = sanitize_attrs(ds.attrs)
    for var in ds.variables.values():
        var.attrs = sanitize_attrs(var.attrs)
    return ds


def write_atomic(ds: xr.Dataset, path: str | Path, *, checksum: bool = False) -> Path:
    """Write ``ds`` to ``path`` through a temporary file and ``os.replace``; never leaves a partial file.

    With ``checksum``, the file gets the global attribute :data:`CHECKSUM_ATTR` (see :func:`data_checksum`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        _clean(ds).to_netcdf(tmp, engine=NETCDF_ENGINE, format="NETCDF4", encoding=_encoding(ds))
        if checksum:
            _stamp_checksum(tmp)
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


def data_checksum(nc: netCDF4.Dataset) -> str:
    """SHA-256 (hex) of every variable of an open file (data variables and coordinates), by name in
    sorted order: its name, stored dtype, shape and raw stored values (no masking or scaling)."""
    digest = hashlib.sha256()
    for name in sorted(nc.variables):
        var = nc.variables[name]
        var.set_auto_maskandscale(False)
        values = np.asarray(var[...])
        digest.update(f"{name}\0{values.dtype}\0{values.shape}\0".encode())
        if values.dtype.kind == "O":  # variable-length strings
            digest.update("\0".join(map(str, values.ravel())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def _stamp_checksum(path: Path) -> None:
    """Add :data:`CHECKSUM_ATTR` to the file at ``path`` (an attribute only: the data are not rewritten)."""
    with netCDF4.Dataset(path, "a") as nc:
        nc.setncattr(CHECKSUM_ATTR, data_checksum(nc))


def run_file_problem(path: Path, run_id: str) -> str | None:
    """Why the run file at ``path`` cannot be reused as the result of run ``run_id``, or None if it can:
    it exists and opens, its ``engine_run_id`` is ``run_id`` and its :data:`CHECKSUM_ATTR` matches its data."""
    if not path.exists():
        return "it does not exist"
    try:
        with netCDF4.Dataset(path) as nc:
            attrs = nc.__dict__
            if attrs.get("engine_run_id") != run_id:
                return f"it belongs to run {attrs.get('engine_run_id', '(none)')}, not {run_id}"
            if CHECKSUM_ATTR not in attrs:
                return f"it has no {CHECKSUM_ATTR}"
            if attrs[CHECKSUM_ATTR] != data_checksum(nc):
                return "its data do not match its checksum"
    except Exception as exc:  # a damaged file fails in many ways inside netCDF/HDF5 (OSError, RuntimeError, ...)
        return f"it cannot be read ({type(exc).__name__}: {exc})"
    return None


def move_aside(path: Path) -> Path:
    """Rename a run file that cannot be reused to ``<name>.bad`` (replacing an older one); return the new path."""
    bad = path.with_name(path.name + BAD_SUFFIX)
    os.replace(path, bad)
    return bad


def remove_stale_tmp(folder: Path) -> list[Path]:
    """Delete the engine's own temporary files (exactly :data:`engine.atomic.TMP_NAME`) left in ``folder``
    by processes that no longer exist. A ``folder`` that is a symbolic link is not entered."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    removed = []
    for tmp in folder.iterdir():
        pid = tmp_owner(tmp.name)
        if pid is None or tmp.is_symlink() or not tmp.is_file() or (_alive(pid) and pid != os.getpid()):
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
