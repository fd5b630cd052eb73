"""Kernels compiled twice, threaded and serial, from one Python function.

The serial copy gets its own name so that numba's on-disk cache (keyed by the function's qualified name)
keeps the two apart; threads pay off only on large grids, and cost more than they save on small ones.
"""

from __future__ import annotations

import types

from numba import njit


def threaded_and_serial(py_func):
    """(parallel=True kernel, serial kernel) of ``py_func``, both ``cache=True, nogil=True``."""
    serial = types.FunctionType(py_func.__code__, py_func.__globals__, py_func.__name__ + "_serial",
                                py_func.__defaults__, py_func.__closure__)
    serial.__qualname__ = py_func.__qualname__ + "_serial"
    return njit(cache=True, parallel=True, nogil=True)(py_func), njit(cache=True, nogil=True)(serial)
