"""``engine show``: what a result file holds, read from its header with netCDF4 alone (no data loaded,
no xarray), so that the command answers at once even for large files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np

from engine.names import SPEC_PATH_ATTR


@dataclass(frozen=True)
class Variable:
    """One variable of a file: its dimensions and attributes."""

    dims: tuple[str, ...]
    attrs: dict


@dataclass(frozen=True)
class Header:
    """Dimensions (name -> size, in file order), coordinates and data variables (name -> Variable), and the
    global attributes of a netCDF file; coordinates as xarray reads them (dimension variables and the
    names in ``coordinates`` attributes)."""

    sizes: dict[str, int]
    coords: dict[str, Variable]
    data_vars: dict[str, Variable]
    attrs: dict


def header_of(nc: netCDF4.Dataset) -> Header:
    """The :class:`Header` of an open netCDF file (reads no data)."""
    variables = {name: Variable(tuple(v.dimensions), {k: v.getncattr(k) for k in v.ncattrs()})
                 for name, v in nc.variables.items()}
    attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
    named = {c for a in [attrs, *(v.attrs for v in variables.values())] for c in str(a.get("coordinates", "")).split()}
    is_coord = {name: name in nc.dimensions or name in named for name in variables}
    return Header(sizes={name: len(d) for name, d in nc.dimensions.items()},
                  coords={k: v for k, v in variables.items() if is_coord[k]},
                  data_vars={k: v for k, v in variables.items() if not is_coord[k]},
                  attrs=attrs)


def describe_variables(header: Header) -> list[str]:
    """One line per coordinate and variable: name, dims, units, long name; a sweep coordinate also its
    spec path (the dotted key ``--set`` takes), where it differs from the name."""
    lines = ["dimensions: " + (", ".join(f"{d} ({n})" for d, n in header.sizes.items()) or "none (a single run)")]
    for title, group in (("coordinates", header.coords), ("variables", header.data_vars)):
        lines.append(f"{title}:")
        for name, var in group.items():
            dims = f"({', '.join(var.dims)})"
            path = _spec_path(header, name)
            spec_path = f"  (spec path {path})" if path != name else ""
            lines.append(f"  {name:<22} {dims:<34} [{var.attrs.get('units', '?')}]  {var.attrs.get('long_name', '')}"
                         + spec_path)
    return lines


def provenance_lines(attrs: dict) -> list[str]:
    """Kind, versions, time, commit, host and command that produced a file with global attributes ``attrs``."""
    packages = json.loads(attrs.get("engine_packages", "{}"))
    return [
        f"kind: {attrs.get('engine_kind', '?')} (version {attrs.get('engine_kind_version', '?')}), "
        f"status {attrs.get('engine_status', '?')}",
        f"created: {attrs.get('engine_created', '?')} by specengine {attrs.get('engine_version', '?')}, "
        f"git {attrs.get('engine_git_commit', '?')}",
        f"host: {attrs.get('engine_host', '?')}; command: {attrs.get('engine_command', '?')}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
    ]


def _spec_path(header: Header, name: str) -> str:
    """The spec path of the coordinate ``name`` (its :data:`~engine.names.SPEC_PATH_ATTR`), else ``name``."""
    var = header.coords.get(name)
    return var.attrs.get(SPEC_PATH_ATTR, name) if var is not None else name


def _point_label(nc: netCDF4.Dataset, header: Header, position: dict[str, int]) -> str:
    """``key=value, ...`` of one sweep point: every coordinate along each sweep dimension (the ``case``
    index only where the case sets no other key), named by its spec path (as ``--set`` takes it); "run"
    for a result without sweep dimensions."""
    parts = []
    for dim, i in position.items():
        names = [c for c, v in header.coords.items() if v.dims == (dim,) and c != "case"] or [dim]
        parts += [f"{_spec_path(header, name)}={nc.variables[name][i]}" for name in names]
    return ", ".join(parts) or "run"


def failed_points(nc: netCDF4.Dataset, header: Header) -> list[str]:
    """One line per sweep point whose run failed or did not run: its sweep coordinates, status, the
    reason (from ``engine_failures``) and run id; read from ``run_status`` and ``run_id``."""
    if "run_status" not in nc.variables:
        return []
    reasons = json.loads(header.attrs.get("engine_failures", "{}"))
    dims = header.data_vars["run_status"].dims
    states, ids = np.asarray(nc.variables["run_status"][...]), np.asarray(nc.variables["run_id"][...])
    lines = []
    for index in np.ndindex(states.shape):
        state, rid = str(states[index]), str(ids[index])
        if state != "ok":
            lines.append(f"  {_point_label(nc, header, dict(zip(dims, index)))}: {reasons.get(rid, state)} (run {rid})")
    return lines


def show(path: str | Path) -> str:
    """The full text of ``engine show``: provenance, runs, dimensions, variables with units, the sweep
    points that failed or did not run."""
    with netCDF4.Dataset(path) as nc:
        header = header_of(nc)
        missing = failed_points(nc, header)
    a = header.attrs
    lines = [str(path)] + provenance_lines(a)
    if "engine_n_runs" in a:
        lines.append(f"runs: {a['engine_n_runs']}, failed: {a.get('engine_n_failed', 0)}")
    lines += describe_variables(header)
    lines.append(f"failed or not run: {len(missing)} point(s), missing values in the variables (NaN; integers: "
                 "their _FillValue)" if missing else "failed or not run: none")
    lines += missing
    uncombined = json.loads(a.get("engine_uncombined", "[]"))
    if uncombined:
        lines.append("kept only in the per-run files (grids differ between runs): " + ", ".join(uncombined))
    return "\n".join(lines)
