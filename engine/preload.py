"""Imported once by the process that local workers fork from (``multiprocessing``'s forkserver, see
:mod:`engine.forkserver`): what every worker would otherwise repeat before its first run.

That is the engine with numpy, pydantic and xarray; netCDF4; numba with its compiler set up; and the
dask modules that xarray imports on first use where dask is installed (it checks each new variable
against dask's array type, and asks dask for its scheduler before it writes a netCDF file). This is
paid once per client process instead of once per worker and sweep (docs/performance.md measures it).
Nothing here starts a thread, so that forking from this process is safe. On Linux the server first
asks to end with the client that started it (:func:`engine.forkserver.exit_with_parent`).
"""

import importlib

from engine.forkserver import exit_with_parent

exit_with_parent()  # before the imports below, which take seconds

import netCDF4  # noqa: E402, F401

from engine.runtime import start_numba  # noqa: E402  the engine's run machinery: numpy, yaml, pydantic, xarray

start_numba()
for _name in ("dask.array", "distributed"):
    try:
        importlib.import_module(_name)
    except ImportError:  # dask is optional
        pass
