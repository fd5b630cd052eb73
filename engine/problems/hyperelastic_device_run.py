"""Kind ``hyperelastic_device``: the runs (device, bare, homogeneous) and the device metrics."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from engine.problem import RunContext, RunFailed, variable
from engine.problems.hyperelastic_device_setup import Setup, build
from solvers.hyperelastic import devices, fem, sources
from solvers.hyperelastic.deformation_fields import PiecewiseAffine, Unidirectional, cell_medium

TXY = ("t", "x", "y")
TXY_REF = ("t", "x_ref", "y_ref")


def _loads(setup: Setup, grid: fem.Grid, spec) -> fem.PointLoads:
    src = spec.source
    if setup.source_kind == "point":
        return sources.point(grid, setup.source_points[0])[0]
    profile = "gaussian" if setup.source_kind == "gaussian_beam" else "uniform"
    return sources.line(grid, *setup.source_points, profile=profile, waist=src.waist)[0]


def _nodes_on(grid: fem.Grid, pts: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest nodes (unique, with mass) to the points (n, 2)."""
    i = np.clip(np.rint((pts[:, 0] - grid.x0) / grid.h).astype(np.int64), 0, grid.nx - 1)
    j = np.clip(np.rint((pts[:, 1] - grid.y0) / grid.h).astype(np.int64), 0, grid.ny - 1)
    ij = np.unique(np.column_stack([i, j]), axis=0)
    ij = ij[mass[ij[:, 0], ij[:, 1]] > 0]
    return ij[:, 0], ij[:, 1]


def _line(a, b, h) -> np.ndarray:
    n = max(2, int(math.ceil(np.linalg.norm(np.asarray(b) - np.asarray(a)) / h)) + 1)
    u = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - u) * np.asarray(a)[None, :] + u * np.asarray(b)[None, :]


def sample(grid: fem.Grid, w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of nodal w (nx, ny) at points X (n, 2); NaN outside the grid or at NaN X."""
    fx, fy = (X[:, 0] - grid.x0) / grid.h, (X[:, 1] - grid.y0) / grid.h
    ok = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fy >= 0) & (fx <= grid.nx - 1) & (fy <= grid.ny - 1)
    i = np.clip(np.floor(np.where(ok, fx, 0)).astype(np.int64), 0, grid.nx - 2)
    j = np.clip(np.floor(np.where(ok, fy, 0)).astype(np.int64), 0, grid.ny - 2)
    a, b = np.where(ok, fx, 0) - i, np.where(ok, fy, 0) - j
    val = ((1 - a) * (1 - b) * w[i, j] + a * (1 - b) * w[i + 1, j] + (1 - a) * b * w[i, j + 1]
           + a * b * w[i + 1, j + 1])
    return np.where(ok, val, np.nan)


class Run:
    """One simulation: snapshots (n_t, nx, ny) float32, energies (n_t,), receiver records (n_steps, n_rec)."""

    def __init__(self, name, grid, medium, setup, spec, dt, receivers, axes="xy"):
        self.name, self.grid, self.medium = name, grid, medium
        self.sigma = fem.sponge(grid, *setup.absorber, axes)
        self.solver = fem.SHSolver(grid, medium, dt, self.sigma)
        self.loads = _loads(setup, grid, spec)
        self.wavelet = setup.wavelet
        self.receivers = {k: _nodes_on(grid, pts, self.solver.mass) for k, pts in receivers.items()}
        self.snapshots, self.energy, self.records = [], [], {k: [] for k in receivers}

    def save(self):
        """Append the current field (float32 snapshot) and its energy [J/m] (0 before the first step)."""
        self.snapshots.append(self.solver.w.astype(np.float32))
        self.energy.append(self.solver.energy() if self.solver.step else 0.0)

    def advance(self, n_steps):
        """Take ``n_steps`` time steps, recording w at the receivers; RunFailed when the field blows up."""
        keys = list(self.receivers)
        ri = np.concatenate([self.receivers[k][0] for k in keys]) if keys else None
        rj = np.concatenate([self.receivers[k][1] for k in keys]) if keys else None
        rec = self.solver.advance(n_steps, self.loads, self.wavelet, None if ri is None else (ri, rj))
        start = 0
        for k in keys:
            n = len(self.receivers[k][0])
            self.records[k].append(rec[:, start:start + n])
            start += n
        if not np.all(np.isfinite(self.solver.w)):
            raise RunFailed(f"{self.name} run: non-finite field at t = {self.solver.t:.4g} s (unstable; lower "
                            "time.cfl)")

    def record(self, key) -> np.ndarray:
        """w [m] at the receivers ``key`` after each step so far, shape (n_steps, n_receivers)."""
        return np.concatenate(self.records[key]) if self.records[key] else np.zeros((0, 0))

    def state(self) -> dict:
        """Arrays to resume this run from (checkpoint), keys prefixed with the run's name."""
        out = {"snapshots": np.stack(self.snapshots), "energy": np.array(self.energy), "w": self.solver.w,
               "w_prev": self.solver.w_prev, "step": self.solver.step}
        out.update({f"record.{k}": self.record(k) for k in self.records})
        return {f"{self.name}.{k}": v for k, v in out.items()}

    def load(self, state: dict) -> bool:
        """Resume from :meth:`state`'s arrays; False when the checkpoint holds nothing of this run."""
        prefix = f"{self.name}."
        mine = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not mine:
            return False
        self.snapshots, self.energy = list(mine["snapshots"]), list(mine["energy"])
        self.records = {k: [mine[f"record.{k}"]] for k in self.records}
        self.solver.set_state(mine["w"], mine["w_prev"], int(mine["step"]))
        return True


def _receivers(setup: Setup, spec) -> dict:
    rec = {"reflection": _line(*setup.receiver_line, setup.grid.h)}
    d = spec.device
    if d.type == "lens" and d.design == "refractive":
        width = setup.absorber[0]
        top = spec.grid.y[1] - width
        rec["axis"] = _line((d.center[0], d.entry + d.thickness_center), (d.center[0], top), setup.grid.h)
    return rec


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


def _scattered(setup: Setup, runs: dict) -> dict:
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


def _reflection(runs: dict) -> dict:
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


def _virtual_source_shift(setup: Setup, spec, runs: dict) -> dict:
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


def _focal_distance(setup: Setup, spec, runs: dict, dt: float) -> dict:
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


def _outline(device: devices.Device) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for poly in device.outline:
        p = np.asarray(poly, float)
        parts += [p, p[:1], np.full((1, 2), np.nan)]
    xy = np.concatenate(parts) if parts else np.full((1, 2), np.nan)
    return xy[:, 0], xy[:, 1]


def _simulate(runs: list, n_save: int, per: int, ctx: RunContext) -> None:
    """The runs one after the other, ``n_save`` intervals of ``per`` steps each; progress and a checkpoint
    offer after every interval (the state of the runs done so far); resumes from a checkpoint."""
    state = ctx.restore() or {}
    total, done = n_save * len(runs), int(state.get("done", 0))
    for r, run_ in enumerate(runs):
        if not run_.load(state):
            run_.save()
        for k in range(len(run_.snapshots) - 1, n_save):
            run_.advance(per)
            run_.save()
            done = r * n_save + k + 1
            ctx.progress(done, total)
            if ctx.checkpointer.due(done):
                ctx.checkpoint({"done": done, **{key: v for ran in runs[:r + 1] for key, v in ran.state().items()}},
                               done)


def run(spec, ctx: RunContext) -> xr.Dataset:
    """The device run and the comparison runs of ``spec``, their snapshots, energies and the device metrics
    (see the docstring of :mod:`engine.problems.hyperelastic_device` for the variables)."""
    setup = build(spec)
    mat, g = spec.material, setup.grid
    fields = {"device": (setup.device.field, g)}
    if "bare" in spec.compare:
        fields["bare"] = (setup.device.bare, g)
    if "homogeneous" in spec.compare:
        fields["homogeneous"] = (setup.device.reference, setup.ref_grid)
    media = {k: cell_medium(gr, f, mat.mu, mat.rho, spec.grid.subsample) for k, (f, gr) in fields.items()}
    c_max = max(fem.max_speed(m) for m in media.values())
    save_every = spec.time.save_every or spec.time.t_final / 10.0
    n_save = max(1, int(round(spec.time.t_final / save_every)))
    save_every = spec.time.t_final / n_save            # whole intervals: the last snapshot is at t_final
    per = int(math.ceil(save_every / (spec.time.cfl * g.h / c_max)))
    dt = save_every / per
    receivers = _receivers(setup, spec)
    # the virtual straight strip of a bend or slab has its own grid: absorbers at its ends only
    axes = {k: "y" if fields[k][1] is not g else "xy" for k in fields}
    runs = {k: Run(k, fields[k][1], media[k], setup, spec, dt, receivers, axes[k]) for k in fields}
    _simulate(list(runs.values()), n_save, per, ctx)
    times = save_every * np.arange(n_save + 1)
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
        data.update(_reflection(runs))
        data.update(_scattered(setup, runs))
        d = spec.device
        if d.type == "lens" and d.design == "stretched_slab":
            data.update(_virtual_source_shift(setup, spec, runs))
    if spec.device.type == "lens" and spec.device.design == "refractive":
        data.update(_focal_distance(setup, spec, runs, dt))
    return xr.Dataset(data, coords=coords)
