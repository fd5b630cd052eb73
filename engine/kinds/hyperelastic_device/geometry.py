"""Kind ``hyperelastic_device``: from a spec to the device, grids, source and receivers, with the spec checks.

Everything here is geometry (metres) and host properties. :func:`check` is called by the spec's model
validator and raises ``FieldError`` for the problems it finds; :func:`build` (the run) does the same checks
and also builds the homogeneous run's grid. Validation stays cheap whatever the grid spacing: it never
builds a grid, and its material probes are bounded in number (:data:`PROBE` x :data:`PROBE` points in the
box, at most :data:`SOURCE_PROBES` along the source); :func:`node_counts` gives the grids' sizes for the
memory estimate by the same bounded probes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from engine.kinds.hyperelastic_interface.spec import deformation_gradient
from engine.spec.errors import FieldError
from solvers.hyperelastic import devices, sources
from solvers.hyperelastic.deformation_fields import Field, PiecewiseAffine, Piece, Unidirectional, Uniform
from solvers.hyperelastic.grid import Grid
from solvers.hyperelastic.material import push_forward

MIN_POINTS_PER_WAVELENGTH = 10.0
TAU_CYCLES = 1.5          # default wavelet envelope tau = 1.5 / f0
SPONGE_WAVELENGTHS = 3.0  # default absorber width
SIGMA_PER_F0 = 10.0       # default sigma_max = 10 f0
PROBE = 200               # material probe points per side (resolution and absorber checks)
SOURCE_PROBES = 100_000   # most material probe points along a line source (the source check)
UNDEFORMED = 1e-6         # |F - I| below which material counts as undeformed (e.g. the tails of a gaussian phi)


@dataclass(frozen=True)
class Setup:
    """A resolved run: the device, the device grid and the homogeneous run's grid (m), the source (type,
    the line's two ends or the point), the wavelet (f0 [Hz], tau [s], t0 [s]), the absorber (width [m],
    sigma_max [1/s]), the reflection receiver line and the host wavelength lambda0 [m]."""

    device: devices.Device
    grid: Grid
    ref_grid: Grid
    source_kind: str
    source_points: tuple
    wavelet: tuple[float, float, float]
    absorber: tuple[float, float]
    receiver_line: tuple[np.ndarray, np.ndarray]
    wavelength: float
    c_min: float


def host_speed(spec) -> float:
    """Shear-wave speed sqrt(mu/rho0) of the undeformed host [m/s]."""
    return math.sqrt(spec.material.mu / spec.material.rho)


def _host_field() -> PiecewiseAffine:
    return PiecewiseAffine((), (), "host")


def _custom(spec, grid_bounds) -> devices.Device:
    d = spec.device
    if d.field == "uniform":
        F = deformation_gradient(_as_interface(spec))[0]
        region = None if d.region is None else np.array(d.region, float)
        if region is not None and (region.ndim != 2 or region.shape[1] != 2 or len(region) < 3):
            raise FieldError("device.region", "a polygon is a list of at least 3 points [x, y]", "[[x, y], ...]")
        field = Uniform(F, region)
        outline = () if region is None else (region,)
        bounds = grid_bounds if region is None else (tuple(region.min(0)), tuple(region.max(0)))
        host = _host_field()
        return devices.Device(field, host, host, outline, (), bounds)
    if d.field == "piecewise_affine":
        pieces = []
        for k, tri in enumerate(d.triangles):
            ref, cur = np.array(tri.ref, float), np.array(tri.cur, float)
            if ref.shape != (3, 2) or cur.shape != (3, 2):
                raise FieldError(f"device.triangles.{k}", "a triangle has 3 reference and 3 current vertices [x, y]",
                                 "ref: [[x, y] x 3], cur: [[x, y] x 3]")
            pieces.append(Piece(ref, cur))
        holes = tuple(np.array(h, float) for h in d.holes)
        for k, hole in enumerate(holes):
            if hole.ndim != 2 or hole.shape[1] != 2 or len(hole) < 3:
                raise FieldError(f"device.holes.{k}", "a hole is a polygon of at least 3 points [x, y]",
                                 "[[x, y], ...]")
        field = PiecewiseAffine(tuple(pieces), holes, d.exterior)
        try:
            field.check()
        except ValueError as exc:
            raise FieldError("device.triangles", str(exc), "non-overlapping, non-inverted triangles (J > 0)") from None
        polys = [p.cur for p in pieces] + list(holes)
        bounds = (tuple(np.min([p.min(0) for p in polys], 0)), tuple(np.max([p.max(0) for p in polys], 0))) \
            if polys else grid_bounds
        compare = (-1,) if d.exterior == "host" else ()
        return devices.Device(field, field.undeformed(), field.virtual(), tuple(polys), compare, bounds)
    field = Unidirectional(d.profile, tuple(d.direction), d.stretch, d.entry, d.thickness, d.amplitude,
                           tuple(d.center), d.radius)
    if not np.linalg.norm(d.direction) > 0:
        raise FieldError("device.direction", "the direction e of the displacement is the zero vector", "|e| > 0")
    if not field.min_jacobian() > 0:
        blame = "device.stretch" if d.profile == "slab" else "device.amplitude"
        raise FieldError(blame, f"the unidirectional field inverts the material: min J = 1 + e.grad phi = "
                         f"{field.min_jacobian():.4g} <= 0", "J > 0 (gaussian: |amplitude| < radius e^(1/2))")
    host = _host_field()
    return devices.Device(field, host, host, (), (), grid_bounds)


def _as_interface(spec) -> SimpleNamespace:
    """The two sections :func:`deformation_gradient` of hyperelastic_interface reads."""
    return SimpleNamespace(deformation=spec.device.gradient, material=spec.material)


def build_device(spec, grid_bounds, y_start: float, arm: float) -> devices.Device:
    """The spec's device; ``y_start`` (m): where strips begin, ``arm`` (m): output arm length."""
    d = spec.device
    if d.type == "bend" and not 0 < abs(d.angle_deg) < 90:
        raise FieldError("device.angle_deg", f"a bend unit turns by {d.angle_deg!r}°", "0 < |angle_deg| < 90")
    strip = d.type == "bend" or (d.type == "lens" and d.design == "stretched_slab")
    if strip and not grid_bounds[0][1] < d.entry < grid_bounds[1][1]:
        raise FieldError("device.entry", f"the strip's entry face y = {d.entry!r} lies outside the grid's y range",
                         f"{grid_bounds[0][1]!r} < entry < {grid_bounds[1][1]!r}")
    if d.type == "cloak" and not d.opening < d.half_height:
        raise FieldError("device.opening", f"the hole's half-opening b = {d.opening!r} reaches the rhombus "
                         f"half-height H = {d.half_height!r}", f"opening < {d.half_height!r}")
    try:
        if d.type == "cloak":
            return devices.cloak(d.half_width, d.opening, d.half_height, tuple(d.center))
        if d.type == "bend":
            return devices.bend(d.width, d.angle_deg, d.units, d.unit_length, d.gap, d.left, d.entry, y_start, arm)
        if d.type == "lens" and d.design == "stretched_slab":
            return devices.stretched_slab(d.width, d.stretch, d.thickness, d.left, d.entry, y_start, arm)
        if d.type == "lens":
            return devices.refractive_lens(d.aperture, d.stretch, d.thickness_center, d.thickness_edge, d.entry,
                                           d.center[0])
    except ValueError as exc:
        raise FieldError("device", str(exc), "valid device parameters") from None
    if d.type == "custom":
        return _custom(spec, grid_bounds)
    host = _host_field()
    return devices.Device(host, host, host, (), (), grid_bounds)


def _grid(x0, x1, y0, y1, h) -> Grid:
    return Grid(int(math.ceil((x1 - x0) / h - 1e-9)) + 1, int(math.ceil((y1 - y0) / h - 1e-9)) + 1, h, x0, y0)


def _probe_points(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """PROBE x PROBE points (n, 2) spanning the grid's box [lo, hi] (m)."""
    axes = [np.linspace(lo[k], hi[k], PROBE) for k in range(2)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)


def _slowest_speed(field: Field, pts: np.ndarray, mu: float, rho0: float) -> float:
    """Slowest SH speed (m/s) of the field's solid material at the points ``pts`` (n, 2)."""
    index, table, solid = field.tabulated(pts)
    used = np.unique(index[solid])
    if used.size == 0:
        raise FieldError("device", "the device leaves no solid material in the grid", "solid material")
    C, rho = push_forward(table[used], mu, rho0)
    return float(np.sqrt(np.linalg.eigvalsh(C)[:, 0] / rho).min())


def _clip_segment(p0, p1, lo, hi):
    """The part of segment p0 -> p1 inside the box [lo, hi] (Liang-Barsky); None if outside."""
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for k in range(2):
        for p, q in ((-d[k], p0[k] - lo[k]), (d[k], hi[k] - p0[k])):
            if p == 0:
                if q < 0:
                    return None
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
    return None if t0 >= t1 else (p0 + t0 * d, p0 + t1 * d)


def _spacing(spec, device, lo, hi) -> tuple[float, float]:
    """Grid spacing h (m) and the slowest speed c_min (m/s); FieldError below 10 points per wavelength."""
    g, f0 = spec.grid, spec.source.frequency
    c_min = _slowest_speed(device.field, _probe_points(lo, hi), spec.material.mu, spec.material.rho)
    lam_min = c_min / f0
    h = lam_min / g.points_per_wavelength if g.h is None else g.h
    if lam_min / h < MIN_POINTS_PER_WAVELENGTH:
        blame = "grid.points_per_wavelength" if g.h is None else "grid.h"
        expected = (f"points_per_wavelength >= {MIN_POINTS_PER_WAVELENGTH:g}" if g.h is None
                    else f"h <= {lam_min / MIN_POINTS_PER_WAVELENGTH:.4g}")
        raise FieldError(blame, f"the grid resolves the shortest wavelength {lam_min:.4g} m (slowest speed "
                         f"{c_min:.4g} m/s at f0 = {f0:g} Hz) with {lam_min / h:.3g} points", expected)
    return h, c_min


def _check_absorber(spec, device, lo, hi, width) -> None:
    """The pre-deformed region must stay out of the absorbing layers: the bounds of the deformed pieces, or
    for a unidirectional field (which has no bounds) |F - I| at probe points in the layers."""
    if spec.device.type == "none":
        return
    if isinstance(device.field, Unidirectional):
        probe = _probe_points(lo, hi)
        layer = probe[np.any((probe < lo + width) | (probe > hi - width), axis=1)]
        moved = np.abs(device.field.gradient(layer)[0] - np.eye(3)).max(axis=(1, 2))
        if layer.size and moved.max() > UNDEFORMED:
            x, y = layer[int(np.argmax(moved))]
            raise FieldError("absorber.width", f"the unidirectional field deforms the absorbing layers of width "
                             f"{width:.4g} m (|F - I| = {moved.max():.2g} at ({x:.4g}, {y:.4g}); they must lie in "
                             "the undeformed host)", "a smaller absorber width, a larger grid or a more local profile")
        return
    (bx0, by0), (bx1, by1) = device.deformed_bounds
    inner_lo, inner_hi = lo + width, hi - width
    if bx0 < inner_lo[0] or by0 < inner_lo[1] or bx1 > inner_hi[0] or by1 > inner_hi[1]:
        raise FieldError("absorber.width", f"the pre-deformed region [{bx0:.4g}, {bx1:.4g}] x [{by0:.4g}, "
                         f"{by1:.4g}] reaches into the absorbing layers of width {width:.4g} m (they must lie "
                         "in the undeformed host)", "a smaller absorber width or a larger grid")


def _source_geometry(spec, lo, hi, width, lam0) -> tuple[tuple, np.ndarray, np.ndarray]:
    """(points: the line's two ends or the point, position, propagation direction e) of the source."""
    src, d = spec.source, spec.device
    direction_deg = src.direction_deg if src.direction_deg is not None else (0.0 if d.type == "cloak" else 90.0)
    e = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    strip = d.type == "bend" or (d.type == "lens" and d.design == "stretched_slab")
    if src.position is not None:
        pos = np.array(src.position, float)
    else:                                     # upstream edge + absorber + one wavelength, on the centre line
        center = np.array([d.left + 0.5 * d.width, 0.0]) if strip else np.array(d.center)
        corners = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]])
        back = (corners @ e).min() + width + lam0
        pos = center + (back - center @ e) * e
    if src.type == "point":
        return (pos,), pos, e
    normal = np.array([-e[1], e[0]])
    half = 0.5 * (src.length if src.length is not None else (d.width if strip else 2.0 * float(np.hypot(*(hi - lo)))))
    seg = _clip_segment(pos - half * normal, pos + half * normal, lo, hi)
    if seg is None:
        raise FieldError("source.position", f"the source line through {pos.tolist()} misses the grid",
                         "a position inside the grid")
    return seg, pos, e


def _receiver_line(device, points, pos, e, lam0) -> tuple[np.ndarray, np.ndarray]:
    """The source line (or a segment 2 lambda0 long through a point source) moved halfway toward the device."""
    (bx0, by0), (bx1, by1) = device.deformed_bounds
    gap = float((np.array([[bx0, by0], [bx1, by0], [bx0, by1], [bx1, by1]]) @ e).min() - pos @ e)
    shift = 0.5 * gap * e if gap > 0 else np.zeros(2)
    if len(points) == 2:
        return points[0] + shift, points[1] + shift
    normal = np.array([-e[1], e[0]])
    return pos + shift - lam0 * normal, pos + shift + lam0 * normal


@dataclass(frozen=True)
class _Checked:
    """What :func:`check` finds on the way: the device, the device grid, the source (points, position
    [m], unit direction), the host wavelength lambda0 [m], absorber width [m] and sigma_max [1/s], c_min [m/s]."""

    device: devices.Device
    grid: Grid
    points: tuple
    position: np.ndarray
    direction: np.ndarray
    wavelength: float
    absorber: tuple[float, float]
    c_min: float


def _checked(spec) -> _Checked:
    """Resolve and check the spec's device, grid spacing, absorber and source (FieldError for impossible
    setups), at a cost that does not grow with the number of grid nodes."""
    src = spec.source
    lam0 = host_speed(spec) / src.frequency
    width = SPONGE_WAVELENGTHS * lam0 if spec.absorber.width is None else spec.absorber.width
    sigma = SIGMA_PER_F0 * src.frequency if spec.absorber.sigma_max is None else spec.absorber.sigma_max
    (x0, x1), (y0, y1) = spec.grid.x, spec.grid.y
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    diag = float(np.hypot(x1 - x0, y1 - y0))
    device = build_device(spec, ((x0, y0), (x1, y1)), y0 - diag, 2.0 * diag)
    h, c_min = _spacing(spec, device, lo, hi)
    _check_absorber(spec, device, lo, hi, width)
    grid = _grid(x0, x1, y0, y1, h)
    points, pos, e = _source_geometry(spec, lo, hi, width, lam0)
    _check_source(device, points, grid)
    return _Checked(device, grid, points, pos, e, lam0, (width, sigma), c_min)


def _in_strip(device) -> bool:
    """Whether the homogeneous run is a strip of its own (the virtual body of a bend or slab), on a grid
    that covers chi^-1 of the device grid."""
    virtual = device.reference
    return isinstance(virtual, PiecewiseAffine) and virtual.exterior == "void"


def build(spec) -> Setup:
    """Resolve the spec for a run (raises FieldError for impossible setups)."""
    c = _checked(spec)
    src = spec.source
    ref_grid = _reference_grid(c.device, c.grid, c.points) if _in_strip(c.device) else c.grid
    tau = TAU_CYCLES / src.frequency if src.tau is None else src.tau
    t0 = 3.0 * tau if src.delay is None else src.delay
    return Setup(c.device, c.grid, ref_grid, src.type, c.points, (src.frequency, tau, t0), c.absorber,
                 _receiver_line(c.device, c.points, c.position, c.direction, c.wavelength), c.wavelength, c.c_min)


def node_counts(spec) -> tuple[tuple[int, int], tuple[int, int]]:
    """Nodes (nx, ny) of the device grid and of the homogeneous run's grid, without building either: for a
    strip, the box of chi^-1 of :data:`PROBE` x :data:`PROBE` points of the device grid's box (the run
    maps every node; the two boxes differ by about one probe spacing)."""
    c = _checked(spec)
    g = c.grid
    if not _in_strip(c.device):
        return (g.nx, g.ny), (g.nx, g.ny)
    lo, hi = np.array([g.x0, g.y0]), np.array([g.x0, g.y0]) + g.h * (np.array([g.nx, g.ny]) - 1)
    ref = c.device.field.inverse(_probe_points(lo, hi))
    ref = np.concatenate([ref[np.isfinite(ref[:, 0])], np.array(c.points)])
    span = ref.max(axis=0) - ref.min(axis=0) + 4 * g.h
    return (g.nx, g.ny), tuple(int(math.ceil(s / g.h)) + 2 for s in span)


def _check_source(device, points, grid) -> None:
    """The source must lie in solid, undeformed material."""
    if len(points) == 2:
        length = float(np.linalg.norm(np.subtract(points[1], points[0])))
        pts, _, _ = sources.line_points(points[0], points[1], max(grid.h, 4.0 * length / SOURCE_PROBES))
    else:
        pts = np.array(points)
    index, table, solid = device.field.tabulated(pts)
    if not solid.all():
        k = int(np.flatnonzero(~solid)[0])
        raise FieldError("source.position", f"a hole or void cuts the source at ({pts[k, 0]:.4g}, {pts[k, 1]:.4g})",
                         "a source entirely inside solid material")
    moved = np.abs(table[index] - np.eye(3)).max(axis=(1, 2)) > UNDEFORMED
    if moved.any():
        k = int(np.flatnonzero(moved)[0])
        raise FieldError("source.position", f"the source lies in pre-deformed material at ({pts[k, 0]:.4g}, "
                         f"{pts[k, 1]:.4g})", "a source in the undeformed host")


def _reference_grid(device, grid: Grid, points) -> Grid:
    """Grid of the virtual body: covers chi^-1 of the device grid's solid nodes, same spacing."""
    X, Y = np.meshgrid(grid.x, grid.y, indexing="ij")
    ref = device.field.inverse(np.column_stack([X.ravel(), Y.ravel()]))
    ref = np.concatenate([ref[np.isfinite(ref[:, 0])], np.array(points)])
    origin = np.array([grid.x0, grid.y0])
    lo = origin + grid.h * np.floor((ref.min(axis=0) - origin) / grid.h - 2)   # nodes on the device lattice
    hi = ref.max(axis=0) + 2 * grid.h
    return _grid(lo[0], hi[0], lo[1], hi[1], grid.h)


def check(spec) -> None:
    """Raise FieldError for a spec that cannot run (the checks of :func:`build`, without its grids)."""
    _checked(spec)
