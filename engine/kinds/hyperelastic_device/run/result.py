"""Kind ``hyperelastic_device``: a spec's device run and comparison runs, simulated one after the other by
:func:`engine.loop.simulate`, and their dataset with the device metrics."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from engine.kind import RunContext, variable
from engine.loop import save_times, simulate
from solvers.hyperelastic import devices, fem
from solvers.hyperelastic.deformation_fields import cell_medium

from ..geometry import Setup, build
from . import metrics
from .simulate import SequentialRuns, Simulation

TXY = ("t", "x", "y")
TXY_REF = ("t", "x_ref", "y_ref")


def _line(a, b, h: float) -> np.ndarray:
    """Points (n, 2) [m] from ``a`` to ``b`` at most ``h`` [m] apart (at least the two ends)."""
    n = max(2, int(math.ceil(np.linalg.norm(np.asarray(b) - np.asarray(a)) / h)) + 1)
    u = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - u) * np.asarray(a)[None, :] + u * np.asarray(b)[None, :]


def _receivers(setup: Setup, spec) -> dict[str, np.ndarray]:
    """Receiver points (n, 2) [m] by name: the reflection line and, for a refractive lens, its axis beyond
    the lens."""
    rec = {"reflection": _line(*setup.receiver_line, setup.grid.h)}
    d = spec.device
    if d.type == "lens" and d.design == "refractive":
        width = setup.absorber[0]
        top = spec.grid.y[1] - width
        rec["axis"] = _line((d.center[0], d.entry + d.thickness_center), (d.center[0], top), setup.grid.h)
    return rec


def _outline(device: devices.Device) -> tuple[np.ndarray, np.ndarray]:
    """x, y (vertex,) [m] of the device outline, closed polygons separated by NaN."""
    parts = []
    for poly in device.outline:
        p = np.asarray(poly, float)
        parts += [p, p[:1], np.full((1, 2), np.nan)]
    xy = np.concatenate(parts) if parts else np.full((1, 2), np.nan)
    return xy[:, 0], xy[:, 1]


def _snapshot_intervals(time, h: float, c_max: float) -> tuple[int, int, float]:
    """``(n_save, steps per interval, dt [s])``: ``time.save_every`` rounded to t_final / (a whole number),
    so that the last snapshot is at t_final, and the time step at most ``cfl h / c_max``."""
    n_save = max(1, int(round(time.t_final / (time.save_every or time.t_final / 10.0))))
    save_every = time.t_final / n_save
    steps = int(math.ceil(save_every / (time.cfl * h / c_max)))
    return n_save, steps, save_every / steps


def run(spec, ctx: RunContext) -> xr.Dataset:
    """The device run and the comparison runs of ``spec``, their snapshots, energies and the device metrics
    (see the docstring of :mod:`engine.kinds.hyperelastic_device` for the variables)."""
    setup = build(spec)
    mat, g = spec.material, setup.grid
    fields = {"device": (setup.device.field, g)}
    if "bare" in spec.compare:
        fields["bare"] = (setup.device.bare, g)
    if "homogeneous" in spec.compare:
        fields["homogeneous"] = (setup.device.reference, setup.ref_grid)
    media = {k: cell_medium(gr, f, mat.mu, mat.rho, spec.grid.subsample) for k, (f, gr) in fields.items()}
    c_max = max(fem.max_speed(m) for m in media.values())
    n_save, steps, dt = _snapshot_intervals(spec.time, g.h, c_max)
    receivers = _receivers(setup, spec)
    # the virtual straight strip of a bend or slab has its own grid: absorbers at its ends only
    axes = {k: "y" if fields[k][1] is not g else "xy" for k in fields}
    runs = {k: Simulation(k, fields[k][1], media[k], setup, spec.source.waist, dt, receivers, axes[k])
            for k in fields}
    simulate(SequentialRuns(list(runs.values()), n_save, steps), ctx)
    data = {
        "w": variable(np.stack(runs["device"].snapshots), "antiplane displacement, device run", TXY, "m"),
        "E": variable(np.array(runs["device"].energy), "discrete energy E^(n-1/2), device run", ("t",), "J/m"),
        "rho_cell": variable(media["device"].rho, "density per cell of the device run (0: void)",
                             ("x_cell", "y_cell"), "kg/m^3"),
        "dt": variable(dt, "time step", (), "s"),
        "h": variable(g.h, "grid spacing", (), "m"),
        "c_max": variable(c_max, "largest wave speed of the runs", (), "m/s"),
        "points_per_wavelength": variable(setup.c_min / spec.source.frequency / g.h,
                                          "grid points per shortest wavelength at f0"),
    }
    ox, oy = _outline(setup.device)
    data["outline_x"] = variable(ox, "device outline x (polygons separated by NaN)", ("vertex",), "m")
    data["outline_y"] = variable(oy, "device outline y (polygons separated by NaN)", ("vertex",), "m")
    times = save_times(spec.time.t_final, spec.time.t_final / n_save)       # (n_save + 1,) [s]
    coords = {"t": ("t", times, {"units": "s", "long_name": "time"}),
              "x": ("x", g.x, {"units": "m", "long_name": "x (current configuration)"}),
              "y": ("y", g.y, {"units": "m", "long_name": "y (current configuration)"}),
              "x_cell": ("x_cell", g.cell_origin[0] + 0.5 * g.h, {"units": "m", "long_name": "cell centre x"}),
              "y_cell": ("y_cell", g.cell_origin[1] + 0.5 * g.h, {"units": "m", "long_name": "cell centre y"})}
    if "bare" in runs:
        data["w_bare"] = variable(np.stack(runs["bare"].snapshots), "antiplane displacement, bare run", TXY, "m")
        data["E_bare"] = variable(np.array(runs["bare"].energy), "discrete energy, bare run", ("t",), "J/m")
    if "homogeneous" in runs:
        hom = runs["homogeneous"]
        data["w_homogeneous"] = variable(np.stack(hom.snapshots), "antiplane displacement, homogeneous (virtual "
                                         "body) run", TXY_REF, "m")
        data["E_homogeneous"] = variable(np.array(hom.energy), "discrete energy, homogeneous run", ("t",), "J/m")
        coords["x_ref"] = ("x_ref", hom.grid.x, {"units": "m", "long_name": "x of the homogeneous run"})
        coords["y_ref"] = ("y_ref", hom.grid.y, {"units": "m", "long_name": "y of the homogeneous run"})
        data.update(metrics.reflection(runs))
        data.update(metrics.scattered(setup, runs))
        d = spec.device
        if d.type == "lens" and d.design == "stretched_slab":
            data.update(metrics.virtual_source_shift(setup, spec, runs))
    if spec.device.type == "lens" and spec.device.design == "refractive":
        data.update(metrics.focal_distance(setup, spec, runs, dt))
    return xr.Dataset(data, coords=coords)
