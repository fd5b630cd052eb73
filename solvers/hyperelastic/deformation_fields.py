"""Pre-deformation fields ``x = chi(X)`` and the SH medium they make (brief §1.3, §3.1).

A field is evaluated at *current* points ``x`` (the grid lives in the deformed body): it returns
the deformation gradient ``F = grad chi`` at ``X = chi^-1(x)`` and whether ``x`` is solid.  The
material there is the push-forward of the homogeneous (mu, rho0) body, ``C = mu F F^T / J``,
``rho = rho0 / J`` (:func:`solvers.hyperelastic.material.push_forward`), averaged over
``sub x sub`` samples per cell by :func:`cell_medium`.

Fields (lengths in metres, F dimensionless):

- :class:`Uniform`: one F inside a polygon (or everywhere), undeformed host outside;
- :class:`PiecewiseAffine`: convex pieces given by reference and current vertices (triangles,
  or polygons mapped by one affine map, e.g. rigidly moved parts), holes (current polygons),
  and an exterior that is undeformed host or void;
- :class:`Unidirectional`: ``x = X + phi(X) e`` with ``phi`` from a built-in family, so that
  ``F = I + e ⊗ grad phi`` (constrained tension along e plus simple shear, compatible everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import Grid, Medium
from .material import as_3d, push_forward

__all__ = ["Uniform", "PiecewiseAffine", "Piece", "Unidirectional", "cell_medium", "inside_convex",
           "inside_polygon", "PROFILES"]

EPS = 1e-12


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _area(poly: np.ndarray) -> float:
    """Signed area of a polygon (k, 2), positive when counter-clockwise."""
    return 0.5 * float(np.sum(_cross(poly, np.roll(poly, -1, axis=0))))


def inside_convex(x: np.ndarray, poly: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Points x (n, 2) inside or on the convex polygon ``poly`` (k, 2, either orientation)."""
    poly = poly if _area(poly) > 0 else poly[::-1]
    ok = np.ones(len(x), dtype=bool)
    for k in range(len(poly)):
        a, b = poly[k], poly[(k + 1) % len(poly)]
        ok &= _cross(b - a, x - a) >= -tol * max(1.0, float(np.abs(b - a).max()))
    return ok


def inside_polygon(x: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points x (n, 2) strictly inside the simple polygon ``poly`` (k, 2) (even-odd rule)."""
    inside = np.zeros(len(x), dtype=bool)
    px, py = x[:, 0], x[:, 1]
    for k in range(len(poly)):
        (x1, y1), (x2, y2) = poly[k], poly[(k + 1) % len(poly)]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < xc)
    return inside


class Field:
    """Base class: ``gradient(x) -> (F (n, 3, 3), solid (n,))`` at current points x (n, 2)."""

    def gradient(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deformation gradient F (n, 3, 3) at the current points x (n, 2) [m], and solid (n,) (False: void)."""
        index, table, solid = self.tabulated(x)
        return table[index], solid

    def tabulated(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(index (n,), F_table (m, 3, 3), solid (n,))`` with F(x_k) = F_table[index[k]]: fields made of
        a few homogeneous parts push forward each part once."""
        F, solid = self.gradient(x)
        return np.arange(len(x)), F, solid

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Reference points X = chi^-1(x), (n, 2); NaN where x is void. Fields given only by F (no map of
        positions, e.g. :class:`Uniform`) have none."""
        raise TypeError(f"a {type(self).__name__} deformation field gives F only, not the map of positions that "
                        "a comparison with the homogeneous (virtual-body) run needs")


@dataclass(frozen=True)
class Uniform(Field):
    """Deformation gradient ``F`` (3x3) inside the polygon ``region`` (k, 2) (everywhere if None)."""

    F: np.ndarray
    region: np.ndarray | None = None

    def tabulated(self, x):
        inside = np.ones(len(x), bool) if self.region is None else inside_polygon(x, np.asarray(self.region, float))
        return inside.astype(np.int64), np.stack([np.eye(3), np.asarray(self.F, float)]), np.ones(len(x), bool)


@dataclass(frozen=True)
class Piece:
    """A convex polygon mapped affinely: ``x = A X + b``; ``ref`` and ``cur`` are (k, 2) vertex arrays."""

    ref: np.ndarray
    cur: np.ndarray

    @property
    def A(self) -> np.ndarray:
        """The piece's deformation gradient (2, 2), from its first three vertices."""
        r, c = np.asarray(self.ref, float), np.asarray(self.cur, float)
        R = np.column_stack([r[1] - r[0], r[2] - r[0]])
        C = np.column_stack([c[1] - c[0], c[2] - c[0]])
        return C @ np.linalg.inv(R)

    @property
    def b(self) -> np.ndarray:
        """The translation (2,) [m] of the affine map x = A X + b."""
        return np.asarray(self.cur[0], float) - self.A @ np.asarray(self.ref[0], float)


def _separated(p: np.ndarray, q: np.ndarray, tol: float) -> bool:
    """True when convex polygons p and q do not overlap with positive area (separating axis)."""
    for poly in (p, q):
        for k in range(len(poly)):
            edge = poly[(k + 1) % len(poly)] - poly[k]
            n = np.array([-edge[1], edge[0]]) / max(np.hypot(*edge), EPS)
            a, b = p @ n, q @ n
            if a.max() <= b.min() + tol or b.max() <= a.min() + tol:
                return True
    return False


@dataclass(frozen=True)
class PiecewiseAffine(Field):
    """Convex pieces mapped affinely (plane strain, F33 = 1), holes (current polygons), exterior ``host``
    (F = I) or ``void``."""

    pieces: tuple[Piece, ...]
    holes: tuple[np.ndarray, ...] = ()
    exterior: str = "host"

    def check(self) -> None:
        """ValueError naming the piece for a degenerate, inverted, inconsistent or overlapping piece."""
        if self.exterior not in ("host", "void"):
            raise ValueError(f"exterior must be 'host' or 'void', got {self.exterior!r}")
        scale = max(1.0, max(float(np.abs(np.asarray(p.cur)).max()) for p in self.pieces)) if self.pieces else 1.0
        for k, p in enumerate(self.pieces):
            ref, cur = np.asarray(p.ref, float), np.asarray(p.cur, float)
            if ref.ndim != 2 or ref.shape[1] != 2 or ref.shape[0] < 3 or ref.shape != cur.shape:
                raise ValueError(f"piece {k}: reference and current vertices must both be (k >= 3, 2) arrays")
            a_ref, a_cur = _area(ref), _area(cur)
            if abs(a_ref) <= EPS * scale ** 2:
                raise ValueError(f"piece {k}: the reference polygon has zero area")
            J = a_cur / a_ref
            if not J > EPS:
                raise ValueError(f"piece {k} is inverted: J = area(current)/area(reference) = {J:.6g} <= 0")
            mapped = ref @ p.A.T + p.b
            if np.abs(mapped - cur).max() > 1e-9 * scale:
                raise ValueError(f"piece {k}: its vertices are not related by one affine map")
        for name, verts in (("current", "cur"), ("reference", "ref")):
            polys = [np.asarray(getattr(p, verts), float) for p in self.pieces]
            for i in range(len(polys)):
                for j in range(i + 1, len(polys)):
                    if not _separated(polys[i], polys[j], 1e-9 * scale):
                        raise ValueError(f"pieces {i} and {j} overlap in the {name} configuration")

    def label(self, x: np.ndarray) -> np.ndarray:
        """Piece index per point; -1 exterior, -2 hole."""
        lab = np.full(len(x), -1, dtype=np.int64)
        for k, p in enumerate(self.pieces):
            free = lab == -1
            hit = inside_convex(x[free], np.asarray(p.cur, float))
            lab[np.flatnonzero(free)[hit]] = k
        for hole in self.holes:
            lab[inside_polygon(x, np.asarray(hole, float))] = -2
        return lab

    def tabulated(self, x):
        lab = self.label(x)
        table = np.stack([as_3d(p.A) for p in self.pieces] + [np.eye(3)])
        solid = (lab >= 0) | ((lab == -1) & (self.exterior == "host"))
        return np.where(lab >= 0, lab, len(self.pieces)), table, solid

    def inverse(self, x):
        lab = self.label(x)
        X = np.array(x, dtype=float)
        for k, p in enumerate(self.pieces):
            sel = lab == k
            X[sel] = np.linalg.solve(p.A, (x[sel] - p.b).T).T
        X[(lab == -2) | ((lab == -1) & (self.exterior == "void"))] = np.nan
        return X

    def undeformed(self) -> "PiecewiseAffine":
        """The same current geometry (pieces, holes, exterior) without pre-deformation (F = I)."""
        return PiecewiseAffine(tuple(Piece(p.cur, p.cur) for p in self.pieces), self.holes, self.exterior)

    def virtual(self) -> "PiecewiseAffine":
        """The reference (virtual) body: the reference pieces, undeformed, no holes, same exterior."""
        return PiecewiseAffine(tuple(Piece(p.ref, p.ref) for p in self.pieces), (), self.exterior)


PROFILES = ("slab", "gaussian")


@dataclass(frozen=True)
class Unidirectional(Field):
    """``x = X + phi(X) e`` (e a unit 2-vector); ``F = I + e ⊗ grad phi``, ``J = 1 + e . grad phi``.

    Profiles (lengths in metres): ``slab``: ``phi = (stretch - 1) clip(X.e - start, 0, thickness)``
    (constrained tension ``stretch`` along e in a slab, rigid translation beyond);
    ``gaussian``: ``phi = amplitude exp(-|X - center|^2 / (2 width^2))``.
    """

    profile: str
    direction: tuple[float, float] = (0.0, 1.0)
    stretch: float = 1.0
    start: float = 0.0
    thickness: float = 1.0
    amplitude: float = 0.0
    center: tuple[float, float] = (0.0, 0.0)
    width: float = 1.0

    @property
    def e(self) -> np.ndarray:
        """The unit displacement direction (2,)."""
        e = np.asarray(self.direction, float)
        return e / np.linalg.norm(e)

    def phi_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """phi (n,) and grad phi (n, 2) at reference points X (n, 2)."""
        if self.profile == "slab":
            s = X @ self.e - self.start
            inside = (s > 0) & (s < self.thickness)
            phi = (self.stretch - 1.0) * np.clip(s, 0.0, self.thickness)
            return phi, np.where(inside[:, None], (self.stretch - 1.0) * self.e, 0.0)
        if self.profile == "gaussian":
            d = X - np.asarray(self.center, float)
            phi = self.amplitude * np.exp(-np.sum(d * d, axis=1) / (2.0 * self.width ** 2))
            return phi, -phi[:, None] * d / self.width ** 2
        raise ValueError(f"profile must be one of {PROFILES}, got {self.profile!r}")

    def min_jacobian(self) -> float:
        """min of J = 1 + e . grad phi over the profile (analytic)."""
        if self.profile == "slab":
            return min(1.0, self.stretch)
        # e.grad phi = -A (d.e) exp(-|d|^2/2w^2)/w^2 is extreme at d = ±w e: |A| e^{-1/2} / w
        return 1.0 - abs(self.amplitude) * np.exp(-0.5) / self.width

    def inverse(self, x, iterations: int = 60):
        e, s = self.e, np.zeros(len(x))
        for _ in range(iterations):            # Newton on g(s) = s - phi(x - s e), g' = J > 0
            X = x - s[:, None] * e
            phi, grad = self.phi_grad(X)
            step = (s - phi) / (1.0 + grad @ e)
            s -= step
            if np.abs(step).max(initial=0.0) <= 1e-15 * max(1.0, np.abs(s).max(initial=0.0)):
                break
        return x - s[:, None] * e

    def gradient(self, x):
        _, grad = self.phi_grad(self.inverse(x))
        F = np.broadcast_to(np.eye(3), (len(x), 3, 3)).copy()
        F[:, :2, :2] += self.e[None, :, None] * grad[:, None, :]
        return F, np.ones(len(x), bool)


def cell_medium(grid: Grid, fld: Field, mu: float, rho0: float, sub: int = 4, rows: int = 64) -> Medium:
    """Per-cell SH medium of ``fld`` on ``grid``: C = mu F F^T/J (Pa) and rho0/J (kg/m^3), void = 0,
    averaged over ``sub x sub`` points per cell (midpoints of a sub-grid); ``rows`` cell rows per batch."""
    ncx, ncy = grid.cells
    cx, cy = grid.cell_origin
    off = (np.arange(sub) + 0.5) / sub * grid.h
    ys = (cy[:, None] + off[None, :]).ravel()
    out = [np.zeros((ncx, ncy)) for _ in range(4)]
    for start in range(0, ncx, rows):
        stop = min(ncx, start + rows)
        xs = (cx[start:stop, None] + off[None, :]).ravel()
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        index, table, solid = fld.tabulated(np.column_stack([X.ravel(), Y.ravel()]))
        C, rho = push_forward(table, mu, rho0)
        vals = (C[index, 0, 0], C[index, 0, 1], C[index, 1, 1], rho[index])
        for dst, v in zip(out, vals):
            v = np.where(solid, v, 0.0).reshape(stop - start, sub, ncy, sub)
            dst[start:stop] = v.mean(axis=(1, 3))
    return Medium(*out)
