"""Reflection coefficients of the undeformed / pre-deformed interface measured by simulation (brief §2.5).

Setup (current configuration, interface ``y = 0``): undeformed (mu, rho0) host below, the same
material pre-deformed by ``F`` above (``C = mu B/J``, ``rho = rho0/J``).  The grid is periodic in
x over one period ``L = lambda0 / sin(theta)`` of a line source ``cos(k1 x) g(t)`` below the
interface, so that at the analysis frequency ``f = c0 / lambda0`` the wave leaves the source at
``theta`` (``k1 = k0 sin(theta)``); sponge layers close the domain at both ends in y.  Two runs,
with and without the pre-deformed half-space ("device" and "homogeneous"); at a receiver row between
source and interface, the x-Fourier component ``e^{i k1 x}`` of (device - homogeneous) is the
reflected wave and that of the homogeneous run the incident one, so

    |r(theta)| = |FT_t[device - homogeneous](f)| / |FT_t[homogeneous](f)|.

Lengths are in units of ``lambda0`` (= 1 m), times in units of ``lambda0 / c0``; |r| does not
depend on the scale.  The wavelet is centred on f; its spectrum must vanish at the cut-off
``f sin(theta)`` of the source's k1 (near-grazing waves ring for a long time), so its envelope is
``tau = max(1.5, 3 / (pi (1 - sin theta))) / f`` and the record at least ``8 tau + 12`` long: the
cost grows toward grazing incidence.
"""

from __future__ import annotations

import math

import numpy as np

from . import sources
from .fem import Grid, Medium, SHSolver, cfl_dt, sponge
from .material import as_3d, push_forward

__all__ = ["reflection_by_simulation", "interface_medium"]

SPONGE = 3.0        # sponge width (longest wavelength at the analysis frequency)
SIGMA = 10.0        # sponge damping at its outer edge (analysis frequency)
SOURCE_DEPTH = 2.0  # source below the interface (lambda0)
RECEIVER_DEPTH = 1.0
ABOVE = 3.0         # pre-deformed layer thickness before its sponge (lambda0)
TAU = 1.5           # wavelet envelope (lambda0 / c0)


def interface_medium(grid: Grid, F, mu: float, rho0: float) -> Medium:
    """Per-cell medium: host (mu, rho0) in cells below y = 0, push-forward of F (3x3) above (exactly on cells)."""
    C, rho = push_forward(as_3d(F), mu, rho0)
    _, cy = grid.cell_origin
    above = (cy + 0.5 * grid.h > 0)[None, :]
    parts = ((C[0, 0], mu), (C[0, 1], 0.0), (C[1, 1], mu), (rho, rho0))
    return Medium(*(np.broadcast_to(np.where(above, dev, host), grid.cells).copy() for dev, host in parts))


def _single_frequency(signal: np.ndarray, dt: float, f: float) -> complex:
    """∫ s(t) e^{-2 pi i f t} dt of a record sampled every dt (rectangle rule), along axis 0."""
    t = dt * np.arange(1, signal.shape[0] + 1)
    return np.tensordot(np.exp(-2j * math.pi * f * t), signal, axes=(0, 0)) * dt


def _reflection_at(mu, rho0, F, theta, ppw, cfl, record) -> float:
    c0 = math.sqrt(mu / rho0)
    f = c0                                            # lambda0 = 1
    C, rho = push_forward(as_3d(F), mu, rho0)
    speeds = np.sqrt(np.linalg.eigvalsh(C) / rho)
    c_slow, c_fast = min(c0, speeds[0]), max(c0, speeds[1])
    width = SPONGE * c_fast / (f * math.cos(theta))  # 3 wavelengths along y
    h0 = c_slow / f / ppw
    if theta > 0:
        period = 1.0 / math.sin(theta)
        nx = max(4, round(period / h0))
    else:
        period, nx = 4 * h0, 4
    h = period / nx
    bottom = -(SOURCE_DEPTH + 1.0 + width)
    ny = int(math.ceil((ABOVE + width - bottom) / h)) + 1
    grid = Grid(nx, ny, h, 0.0, bottom, periodic_x=True)
    k1 = 2 * math.pi / period if theta > 0 else 0.0
    loads, _ = sources.line(grid, (0.0, -SOURCE_DEPTH), (period, -SOURCE_DEPTH), profile="cosine", k1=k1)
    j_rec = int(round((-RECEIVER_DEPTH - bottom) / h))
    rec = (np.arange(nx), np.full(nx, j_rec))
    phase = np.exp(-1j * k1 * grid.x)
    sigma = sponge(grid, width, SIGMA * f)
    # keep the wavelet's spectrum (exp(-(pi tau (f' - f))^2)) below e^-9 at the cut-off f sin(theta)
    tau = max(TAU, 3.0 / (math.pi * (1.0 - math.sin(theta)))) / f
    record = max(record, 8.0 * tau * f + 12.0)
    params = (f, tau, 3.0 * tau)
    media = (Medium.uniform(grid, mu, 0.0, mu, rho0), interface_medium(grid, F, mu, rho0))
    dt = min(cfl_dt(grid, m, cfl) for m in media)     # one clock for both runs
    n_steps = int(math.ceil(record / c0 / dt))
    inc, dev = (SHSolver(grid, m, dt, sigma).advance(n_steps, loads, params, rec) @ phase for m in media)
    refl = _single_frequency(dev - inc, dt, f)
    return float(abs(refl) / abs(_single_frequency(inc, dt, f)))


def reflection_by_simulation(mu: float, rho0: float, F, angles_deg, points_per_wavelength: float = 24.0,
                             cfl: float = 0.9, record: float = 30.0) -> np.ndarray:
    """|r| at each incidence angle (degrees, in [0, 90)) measured with the Q1 solver, shape (n_angle,).

    ``mu`` (Pa), ``rho0`` (kg/m^3): the host; ``F`` (3x3 or 2x2): deformation gradient of the upper
    half-space (plane: F13 = F23 = F31 = F32 = 0); ``points_per_wavelength``: grid points per shortest
    wavelength at the analysis frequency (slowest speed of both half-spaces); ``cfl``: fraction of the
    stability bound; ``record``: minimum record length in units of lambda0 / c0.
    """
    angles = np.atleast_1d(np.asarray(angles_deg, float))
    if np.any((angles < 0) | (angles >= 90)):
        raise ValueError(f"angles must lie in [0, 90) degrees, got {angles.tolist()}")
    return np.array([_reflection_at(mu, rho0, F, math.radians(a), points_per_wavelength, cfl, record)
                     for a in angles])
