"""``engine show``: what a result file holds, read from its header with netCDF4 alone (no data loaded,
no xarray), so that the command answers at once even for large files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import netCDF4


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


def read_header(path: str | Path) -> Header:
    """The :class:`Header` of the netCDF file at ``path``."""
    with netCDF4.Dataset(path) as nc:
        variables = {name: Variable(tuple(v.dimensions), {k: v.getncattr(k) for k in v.ncattrs()})
                     for name, v in nc.variables.items()}
        named = {c for v in variables.values() for c in str(v.attrs.get("coordinates", "")).split()}
        is_coord = {name: name in nc.dimensions or name in named for name in variables}
        return Header(sizes={name: len(d) for name, d in nc.dimensions.items()},
                      coords={k: v for k, v in variables.items() if is_coord[k]},
                      data_vars={k: v for k, v in variables.items() if not is_coord[k]},
                      attrs={k: nc.getncattr(k) for k in nc.ncattrs()})


def describe_variables(header: Header) -> list[str]:
    """One line per coordinate and variable: name, dims, units, long name."""
    lines = ["dimensions: " + (", ".join(f"{d} ({n})" for d, n in header.sizes.items()) or "none (a single run)")]
    for title, group in (("coordinates", header.coords), ("variables", header.data_vars)):
        lines.append(f"{title}:")
        for name, var in group.items():
            dims = f"({', '.join(var.dims)})"
            lines.append(f"  {name:<22} {dims:<34} [{var.attrs.get('units', '?')}]  {var.attrs.get('long_name', '')}")
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


def show(path: str | Path) -> str:
    """The full text of ``engine show``: provenance, runs, dimensions, variables with units, failures."""
    header = read_header(path)
    a = header.attrs
    lines = [str(path)] + provenance_lines(a)
    if "engine_n_runs" in a:
        lines.append(f"runs: {a['engine_n_runs']}, failed: {a.get('engine_n_failed', 0)}")
    lines += describe_variables(header)
    fails = json.loads(a.get("engine_failures", "{}"))
    lines.append("failures: " + ("none" if not fails else str(len(fails))))
    lines += [f"  {rid}: {why}" for rid, why in fails.items()]
    uncombined = json.loads(a.get("engine_uncombined", "[]"))
    if uncombined:
        lines.append("kept only in the per-run files (grids differ between runs): " + ", ".join(uncombined))
    return "\n".join(lines)
