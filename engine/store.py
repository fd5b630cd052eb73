"""netCDF files: atomic writes, attribute hygiene, run-file checks (checksum, stale temporaries), reading back.

Combining a sweep's run files into result.nc is :mod:`engine.combine`.

Every file is written with the ``netcdf4`` engine to a temporary name in its
own folder and renamed when complete, so a file that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from engine.atomic import discard_tmp, tmp_owner, tmp_path, writing

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


#: The type an int64 variable is stored as when its values fit it (CF 1.8 has no 64-bit integers).
NARROW_INTEGER = np.dtype(np.int32)


def _fits(values: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every finite value of ``values`` (integers, or floats with NaN for missing points) is in the
    range of the integer ``dtype``."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    info = np.iinfo(dtype)
    return finite.size == 0 or (info.min < finite.min() and finite.max() <= info.max)


def _integer_encoding(var: xr.Variable) -> dict:
    """The stored integer type (and ``_FillValue``) of an integer variable: int64 becomes
    :data:`NARROW_INTEGER` when its values fit (its minimum stays free for the fill value), else stays
    int64. A variable held as floats with NaN for its missing points (set by :func:`combine`, or read back
    from such a file) keeps its stored integer type and ``_FillValue`` (narrowed likewise); a
    variable that is not an integer gets nothing."""
    masked = "_FillValue" in var.encoding and np.dtype(var.encoding.get("dtype", var.dtype)).kind in "iu"
    stored = np.dtype(var.encoding["dtype"] if masked else var.dtype)
    if stored.kind not in "iu":
        return {}
    narrow = stored == np.dtype(np.int64) and _fits(np.asarray(var.values), NARROW_INTEGER)
    if not masked:
        return {"dtype": NARROW_INTEGER} if narrow else {}
    if narrow:
        return {"dtype": NARROW_INTEGER, "_FillValue": np.iinfo(NARROW_INTEGER).min}
    return {"dtype": stored, "_FillValue": var.encoding["_FillValue"]}


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    """The netCDF encoding of every variable of ``ds``: :func:`_integer_encoding`, compression of
    numeric arrays of more than 16 values, and no ``_FillValue`` on coordinates (CF forbids one on a
    coordinate variable; xarray adds one to floats unless told)."""
    enc = {}
    for name, var in ds.variables.items():
        enc[name] = _integer_encoding(var)
        if name in ds.coords and "_FillValue" not in enc[name]:
            enc[name]["_FillValue"] = None
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
    Raises :class:`~engine.atomic.OutputError` if it cannot be written (full disk, read-only folder).

    With ``checksum``, the file gets the global attribute :data:`CHECKSUM_ATTR` (see :func:`data_checksum`).
    """
    path = Path(path)
    tmp = tmp_path(path)
    try:
        with writing(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            _clean(ds).to_netcdf(tmp, engine=NETCDF_ENGINE, format="NETCDF4", encoding=_encoding(ds))
            if checksum:
                _stamp_checksum(tmp)
            os.replace(tmp, path)
    finally:
        discard_tmp(tmp)
    return path


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write a text file atomically (same pattern as :func:`write_atomic`)."""
    path = Path(path)
    tmp = tmp_path(path)
    try:
        with writing(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    finally:
        discard_tmp(tmp)
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
