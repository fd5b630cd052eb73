"""specengine: YAML spec -> numba solvers and torch learners -> netCDF results.

``engine.open_result(path)`` opens a run or sweep file written by the engine.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("specengine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def open_result(path):
    """Load a result file fully into memory (closes the file); see :func:`engine.store.open_result`."""
    from engine.store import open_result as _open

    return _open(path)


__all__ = ["__version__", "open_result"]
