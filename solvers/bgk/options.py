"""The options of the kinetic scheme by name, their integer codes and the CFL bound of each transport.

Plain Python (no numba): spec validation reads :func:`cfl_limit` and the option names without
compiling anything; the kernels in :mod:`.transport` and :mod:`.solver` use the integer codes.

Transport codes: ``UPWIND`` (0), ``MUSCL_MINMOD`` (1), ``MUSCL_VAN_LEER`` (2). Boundary codes:
``PERIODIC`` (0, wrapped indices), ``OUTFLOW`` (1, zero-gradient ghost cells). The time integration
is SSP-RK2, a convex combination of forward-Euler steps, so the CFL bounds of forward Euler hold:
``max|v| dt/dx <= 1`` (upwind) and ``<= 1/2`` (MUSCL). Nondimensional (units "1").
"""

__all__ = ["TRANSPORTS", "LIMITERS", "BOUNDARIES", "scheme_code", "boundary_code", "cfl_limit"]

UPWIND, MUSCL_MINMOD, MUSCL_VAN_LEER = 0, 1, 2
PERIODIC, OUTFLOW = 0, 1

TRANSPORTS = ("upwind", "muscl")
LIMITERS = ("minmod", "van_leer")
BOUNDARIES = ("periodic", "outflow")


def scheme_code(transport, limiter="minmod"):
    """Integer code of a transport scheme: ``upwind`` -> 0, ``muscl`` + ``minmod`` -> 1, + ``van_leer`` -> 2."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    if limiter not in LIMITERS:
        raise ValueError(f"limiter must be one of {LIMITERS}, got {limiter!r}")
    if transport == "upwind":
        return UPWIND
    return MUSCL_MINMOD if limiter == "minmod" else MUSCL_VAN_LEER


def boundary_code(boundary):
    """Integer code of a boundary: ``periodic`` -> 0, ``outflow`` (zero-gradient ghost cells) -> 1."""
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    return PERIODIC if boundary == "periodic" else OUTFLOW


def cfl_limit(transport):
    """Largest stable CFL number ``max|v| dt / dx``: 1 for upwind, 1/2 for MUSCL (TVD bound)."""
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    return 1.0 if transport == "upwind" else 0.5
