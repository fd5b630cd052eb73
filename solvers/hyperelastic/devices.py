"""Shear-wave devices made of pre-deformed neo-Hookean material (brief §3; reconstructed designs).

Each builder returns a :class:`Device`: the pre-deformed body (``field``), the same current geometry
without pre-deformation (``bare``: holes and edges kept, F = I), the virtual body the device is
a transformation of (``reference``: reference configuration, no holes), the current outline to
draw, and the pieces where the device field is compared with the reference field mapped through
``X = chi^-1(x)`` (``compare_pieces``; -1 is the exterior).  Lengths in metres.

- :func:`cloak`: a traction-free slit from (-a, 0) to (a, 0) opened into the diamond hole
  (±a, 0), (0, ±b) inside the fixed rhombus (±a, 0), (0, ±H); four triangles with
  ``F = [[1, 0], [-sx sy b/a, 1 - b/H]]``; invisible to SH waves travelling along x only.
- :func:`bend`: ``units`` splicable units in a free-edged strip of width w along +y; a unit maps
  the triangle O = (0, 0), P = (w, 0), Q = (w, h) to O, P, R(alpha) Q
  (``F = [[1, gamma], [0, a]]``, ``a = cos alpha + (w/h) sin alpha``,
  ``gamma = (w cos alpha - h sin alpha - w)/h``) and rotates everything beyond by alpha about O.
- :func:`stretched_slab`: constrained tension ``stretch`` along the axis of a strip, the material
  beyond translated by ``(stretch - 1) thickness``: the field downstream is that of a source
  moved that much toward the slab (exact, reflectionless diverging "virtual-source" lens).
- :func:`refractive_lens`: a lens-shaped region of constrained tension along y (flat matched entry,
  curved exit ``t(x) = t_c + (t_e - t_c)(x/A)^2``) in the open host; thin-lens focal distance
  ``A^2 / (2 (1 - 1/stretch)(t_e - t_c))`` beyond the exit (converging for t_e > t_c, stretch > 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .deformation_fields import Field, PiecewiseAffine, Piece, Uniform

__all__ = ["Device", "cloak", "bend", "stretched_slab", "refractive_lens", "thin_lens_focal_distance"]


@dataclass(frozen=True)
class Device:
    """A device: pre-deformed ``field``, ``bare`` geometry, virtual ``reference``, drawing ``outline``
    (list of current polygons (k, 2)), ``compare_pieces`` (labels of ``field`` where the mapped
    comparison is made), ``deformed_bounds`` ((xmin, ymin), (xmax, ymax)) of the pre-deformed region."""

    field: Field
    bare: Field
    reference: Field
    outline: tuple[np.ndarray, ...]
    compare_pieces: tuple[int, ...]
    deformed_bounds: tuple[tuple[float, float], tuple[float, float]]


def _bounds(polys) -> tuple[tuple[float, float], tuple[float, float]]:
    pts = np.concatenate([np.asarray(p, float) for p in polys])
    return tuple(pts.min(axis=0).tolist()), tuple(pts.max(axis=0).tolist())


def cloak(a: float, b: float, H: float, center=(0.0, 0.0)) -> Device:
    """Unidirectional cloak (design direction x) of half-length a, opening b < H, rhombus half-height H."""
    if not (a > 0 and H > 0 and 0 < b < H):
        raise ValueError(f"the cloak needs a > 0 and 0 < b < H, got a = {a}, b = {b}, H = {H}")
    c = np.asarray(center, float)
    pieces = []
    for sx in (1.0, -1.0):
        for sy in (1.0, -1.0):
            ref = np.array([[sx * a, 0.0], [0.0, sy * H], [0.0, 0.0]]) + c
            cur = np.array([[sx * a, 0.0], [0.0, sy * H], [0.0, sy * b]]) + c
            pieces.append(Piece(ref, cur))
    hole = np.array([[a, 0.0], [0.0, b], [-a, 0.0], [0.0, -b]]) + c
    rhombus = np.array([[a, 0.0], [0.0, H], [-a, 0.0], [0.0, -H]]) + c
    field = PiecewiseAffine(tuple(pieces), (hole,), "host")
    return Device(field, field.undeformed(), field.virtual(), (rhombus, hole), (-1,), _bounds([rhombus]))


def _rotation(alpha: float) -> np.ndarray:
    return np.array([[math.cos(alpha), -math.sin(alpha)], [math.sin(alpha), math.cos(alpha)]])


def _band(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """The rectangle [x0, x1] x [y0, y1] as a counter-clockwise polygon (4, 2)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _strip_device(pieces: list[Piece], compare: tuple[int, ...], deformed: list[np.ndarray]) -> Device:
    field = PiecewiseAffine(tuple(pieces), (), "void")
    outline = tuple(np.asarray(p.cur, float) for p in pieces)
    return Device(field, field.undeformed(), field.virtual(), outline, compare, _bounds(deformed))


def bend(width: float, angle_deg: float, units: int = 1, unit_length: float | None = None,
         gap: float | None = None, left: float = 0.0, entry: float = 0.0, start: float = -10.0,
         arm: float = 20.0) -> Device:
    """Strip x in [left, left + width] along +y from y = ``start``; ``units`` units of ``angle_deg`` each,
    the first entry face at y = ``entry``, unit length h (default width), ``gap`` of straight strip
    between units (default width/2), output arm of length ``arm`` after the last unit."""
    h = width if unit_length is None else unit_length
    gap = 0.5 * width if gap is None else gap
    alpha = math.radians(angle_deg)
    if not (width > 0 and h > 0 and gap > 0 and units >= 1 and entry > start and arm > 0):
        raise ValueError("the bend needs width, unit_length, gap, arm > 0, units >= 1 and entry > start")
    if not 0 < abs(angle_deg) < 90:
        raise ValueError(f"the bend angle per unit must lie in (0, 90) degrees in magnitude, got {angle_deg}")
    x0, x1 = left, left + width
    inlet = _band(x0, x1, start, entry)
    pieces = [Piece(inlet, inlet)]
    R, t = np.eye(2), np.zeros(2)                     # rigid motion x = R X + t of the current stretch
    turn = _rotation(alpha)
    deformed = []
    for k in range(units):
        s = entry + k * (h + gap)
        O, P, Q = np.array([x0, s]), np.array([x1, s]), np.array([x1, s + h])
        tri = Piece(np.array([O, P, Q]), np.array([O, P, O + turn @ (Q - O)]) @ R.T + t)
        pieces.append(tri)
        deformed.append(tri.cur)
        R, t = R @ turn, R @ (O - turn @ O) + t       # then rotate about O
        end = s + h + (gap if k < units - 1 else arm)
        ref = np.array([O, Q, [x1, end], [x0, end]])
        pieces.append(Piece(ref, ref @ R.T + t))
    return _strip_device(pieces, (len(pieces) - 1,), deformed)


def stretched_slab(width: float, stretch: float, thickness: float, left: float = 0.0, entry: float = 0.0,
                   start: float = -10.0, arm: float = 20.0) -> Device:
    """Strip x in [left, left + width] from y = ``start``; slab [entry, entry + thickness] stretched by
    ``stretch`` along y, output arm of length ``arm`` translated by (stretch - 1) thickness."""
    if not (width > 0 and stretch > 0 and thickness > 0 and entry > start and arm > 0):
        raise ValueError("the stretched slab needs width, stretch, thickness, arm > 0 and entry > start")
    x0, x1 = left, left + width
    top = entry + thickness
    shift = (stretch - 1.0) * thickness
    inlet, outlet = _band(x0, x1, start, entry), _band(x0, x1, top, top + arm)
    slab = Piece(_band(x0, x1, entry, top), _band(x0, x1, entry, entry + stretch * thickness))
    pieces = [Piece(inlet, inlet), slab, Piece(outlet, outlet + [0.0, shift])]
    return _strip_device(pieces, (2,), [slab.cur])


def lens_profile(aperture: float, entry: float, thickness_center: float, thickness_edge: float,
                 n: int = 64) -> np.ndarray:
    """Polygon (2n + 2, 2) of the refractive lens: flat entry y = entry for |x| <= A, exit entry + t(x)."""
    x = np.linspace(-aperture, aperture, n + 1)
    t = thickness_center + (thickness_edge - thickness_center) * (x / aperture) ** 2
    return np.concatenate([np.column_stack([x, np.full_like(x, entry)]),
                           np.column_stack([x[::-1], entry + t[::-1]])])


def thin_lens_focal_distance(aperture: float, stretch: float, thickness_center: float,
                             thickness_edge: float) -> float:
    """Thin-lens focal distance beyond the exit (m) from the phase advance k0 t(x) (1 - 1/stretch)
    (positive: converging); infinite for a flat lens."""
    power = 2.0 * (1.0 - 1.0 / stretch) * (thickness_edge - thickness_center) / aperture ** 2
    return math.inf if power == 0 else 1.0 / power


def refractive_lens(aperture: float, stretch: float, thickness_center: float, thickness_edge: float,
                    entry: float = 0.0, center_x: float = 0.0) -> Device:
    """Lens of half-aperture A centred on x = center_x: F = diag(1, stretch, 1) inside (host outside)."""
    if not (aperture > 0 and stretch > 0 and thickness_center > 0 and thickness_edge > 0):
        raise ValueError("the refractive lens needs aperture, stretch and both thicknesses > 0")
    poly = lens_profile(aperture, entry, thickness_center, thickness_edge) + np.array([center_x, 0.0])
    field = Uniform(np.diag([1.0, stretch, 1.0]), poly)
    host = PiecewiseAffine((), (), "host")
    return Device(field, host, host, (poly,), (), _bounds([poly]))
