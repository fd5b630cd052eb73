"""Kind ``hyperelastic_device``: the device metrics, measured on the finished simulations (dict ``runs`` of
:class:`.simulate.Simulation` by name) against the homogeneous run mapped by chi^-1."""

from __future__ import annotations

import numpy as np

from engine.kind import variable
from solvers.hyperelastic import devices
from solvers.hyperelastic.deformation_fields import PiecewiseAffine, Unidirectional
from solvers.hyperelastic.grid import Grid

from ..geometry import Setup


def sample(grid: Grid, w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of nodal w (nx, ny) at points X (n, 2); NaN outside the grid or at NaN X."""
    fx, fy = (X[:, 0] - grid.x0) / grid.h, (X[:, 1] - grid.y0) / grid.h
    ok = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fy >= 0) & (fx <= grid.nx - 1) & (fy <= grid.ny - 1)
    i = np.clip(np.floor(np.where(ok, fx, 0)).astype(np.int64), 0, grid.nx - 2)
    j = np.clip(np.floor(np.where(ok, fy, 0)).astype(np.int64), 0, grid.ny - 2)
    a, b = np.where(ok, fx, 0) - i, np.where(ok, fy, 0) - j
    val = ((1 - a) * (1 - b) * w[i, j] + a * (1 - b) * w[i + 1, j] + (1 - a) * b * w[i, j + 1]
           + a * b * w[i + 1, j + 1])
    return np.where(ok, val, np.nan)


def _compare_mask(device: devices.Device, pts: np.ndarray) -> np.ndarray:
    """Points of the comparison region: the device's compare pieces (or all points of a unidirectional field)."""
    if isinstance(device.field, Unidirectional):
        return np.ones(len(pts), bool)
    if isinstance(device.field, PiecewiseAffine) and device.compare_pieces:
        return np.isin(device.field.label(pts), device.compare_pieces)
    return np.zeros(len(pts), bool)


def _compared(runs: dict) -> list:
    """``(name, variable suffix, run)`` of the runs compared with the homogeneous one: device "", bare "_bare"."""
    return [(name, "" if name == "device" else f"_{name}", run) for name, run in runs.items() if name != "homogeneous"]


def scattered(setup: Setup, runs: dict) -> dict:
    """||w - w_ref(chi^-1 x)|| at t_final over the comparison region (device, bare) and relative errors."""
    g, dev, hom = setup.grid, runs["device"], runs["homogeneous"]
    X, Y = np.meshgrid(g.x, g.y, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel()])
    mask = _compare_mask(setup.device, pts) & (dev.sigma.ravel() == 0) & (dev.solver.mass.ravel() > 0)
    if not mask.any():
        return {}
    ref_pts = setup.device.field.inverse(pts[mask])
    ref = sample(hom.grid, hom.snapshots[-1].astype(float), ref_pts)
    ref_sigma = sample(hom.grid, hom.sigma, ref_pts)
    ok = np.isfinite(ref) & (ref_sigma == 0)
    if not ok.any():
        return {}
    ref, norm_ref = ref[ok], np.sqrt(np.sum(ref[ok] ** 2)) * g.h
    if norm_ref == 0:                                   # the wave has not reached the comparison region
        return {}
    out = {}
    for name, sfx, run in _compared(runs):
        w = run.snapshots[-1].astype(float).ravel()[mask][ok]
        norm = float(np.sqrt(np.sum((w - ref) ** 2)) * g.h)
        out[f"scattered_norm{sfx}"] = variable(norm, f"{name} run: L2 norm of w - w_ref(chi^-1 x) over the "
                                               "comparison region at t_final", (), "m^2")
        out[f"output_error{sfx}"] = variable(norm / norm_ref, f"{name} run: relative L2 error against the "
                                             "mapped reference field at t_final")
    if "scattered_norm_bare" in out and out["scattered_norm_bare"][1] > 0:
        out["scattered_norm_ratio"] = variable(out["scattered_norm"][1] / out["scattered_norm_bare"][1],
                                               "scattered-field norm, device / bare")
    return out


def reflection(runs: dict) -> dict:
    """Peak and energy of (w - w_ref) on the reflection receiver line, relative to the incident w_ref."""
    hom = runs["homogeneous"].record("reflection")
    if not np.abs(hom).max(initial=0.0) > 0:            # the incident wave has not reached the receivers
        return {}
    out = {}
    for name, sfx, run in _compared(runs):
        diff = run.record("reflection") - hom
        out[f"reflection_peak{sfx}"] = variable(float(np.abs(diff).max() / np.abs(hom).max()),
                                                f"{name} run: peak reflected / peak incident displacement on the "
                                                "receiver line")
        out[f"reflected_energy{sfx}"] = variable(float(np.sum(diff ** 2) / np.sum(hom ** 2)),
                                                 f"{name} run: sum over time of (w - w_ref)^2 / of w_ref^2 on the "
                                                 "receiver line")
    return out


def virtual_source_shift(setup: Setup, spec, runs: dict) -> dict:
    """Stretched slab: the shift s minimising ||w(x, y) - w_ref(x, y - s)|| along the axis of the output arm."""
    d, g, dev, hom = spec.device, setup.grid, runs["device"], runs["homogeneous"]
    predicted = (d.stretch - 1.0) * d.thickness
    xc = d.left + 0.5 * d.width
    y = g.y[(g.y > d.entry + d.stretch * d.thickness) & (dev.sigma[int(round((xc - g.x0) / g.h))] == 0)]
    if y.size < 4:
        return {}
    axis = np.column_stack([np.full_like(y, xc), y])
    w = sample(g, dev.snapshots[-1].astype(float), axis)
    if not np.nanmax(np.abs(w)) > 0:                   # nothing has reached the output arm yet
        return {}
    trial = np.linspace(-0.5 * abs(predicted), 2.5 * abs(predicted) + g.h, 400)
    cost = [np.nansum((w - sample(hom.grid, hom.snapshots[-1].astype(float), axis - [0.0, s])) ** 2) for s in trial]
    return {"virtual_source_shift": variable(float(trial[int(np.argmin(cost))]), "measured shift of the apparent "
                                             "source toward the slab", (), "m"),
            "virtual_source_shift_predicted": variable(predicted, "predicted shift (stretch - 1) thickness", (), "m")}


def focal_distance(setup: Setup, spec, runs: dict, dt: float) -> dict:
    """Refractive lens: distance from the exit (on the axis) to the maximum of the time-integrated w^2."""
    d, run = spec.device, runs["device"]
    i, j = run.receivers["axis"]
    if j.size < 3:
        return {}
    intensity = np.sum(run.record("axis") ** 2, axis=0) * dt
    if not intensity.max() > 0:                         # nothing has reached the axis beyond the lens yet
        return {}
    y = run.grid.y0 + run.grid.h * j
    exit_y = d.entry + d.thickness_center
    thin = devices.thin_lens_focal_distance(d.aperture, d.stretch, d.thickness_center, d.thickness_edge)
    return {"focal_distance": variable(float(y[int(np.argmax(intensity))] - exit_y), "distance from the lens exit "
                                       "to the maximum of the time-integrated w^2 on the axis", (), "m"),
            "focal_distance_thin_lens": variable(thin, "thin-lens focal distance A^2/(2 (1 - 1/a)(t_e - t_c))", (),
                                                 "m")}
