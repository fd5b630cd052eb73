"""Names of sweep dimensions: dotted spec paths inside the engine, CF names in the files.

A sweep key is a dotted spec path (``init.scheme``); the kinds' analyses index results by it. CF names
allow only letters, digits and underscores, so ``result.nc`` names each sweep coordinate
:func:`cf_name` of its key and keeps the key in the coordinate's attribute :data:`SPEC_PATH_ATTR`
(``ds.sel(init_scheme="zas")`` for an xarray user). :func:`to_file_names` goes from the engine's view to
the file's, :func:`spec_view` back; a file written before the rename (dotted names) passes
:func:`spec_view` unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.spec.sweep import cf_name  # the spec refuses sweep keys with one CF name

if TYPE_CHECKING:  # engine show reads headers without importing xarray
    import xarray as xr

#: Attribute of a sweep coordinate in a file: its dotted spec path (what ``--set`` takes).
SPEC_PATH_ATTR = "spec_path"




def to_file_names(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every dotted dimension and coordinate renamed to its :func:`cf_name`, each renamed
    coordinate carrying its dotted name in :data:`SPEC_PATH_ATTR`."""
    dotted = [name for name in {*ds.dims, *ds.coords} if "." in str(name)]
    if not dotted:
        return ds
    ds = ds.rename({name: cf_name(name) for name in dotted})
    for name in dotted:
        if cf_name(name) in ds.variables:
            ds[cf_name(name)].attrs[SPEC_PATH_ATTR] = name
    return ds


def spec_view(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (as read from a file) with every coordinate that has :data:`SPEC_PATH_ATTR` renamed back to
    that dotted spec path, its dimension too: the names the kinds' analyses use. Inverse of
    :func:`to_file_names`; a dataset without such attributes is returned unchanged."""
    renames = {name: var.attrs[SPEC_PATH_ATTR] for name, var in ds.variables.items()
               if SPEC_PATH_ATTR in var.attrs and var.attrs[SPEC_PATH_ATTR] != name}
    if not renames:
        return ds
    ds = ds.rename(renames)
    for name in renames.values():
        ds[name].attrs = {k: v for k, v in ds[name].attrs.items() if k != SPEC_PATH_ATTR}
    return ds
